"""The marking chain: allocation, anonymous first marking, moderation, release, corrections and referral."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.audit.models import AuditEvent
from lms.authz.roles import Role
from lms.coursework import marking, services
from lms.coursework.models import Candidate, Mark, MarkCorrection, StoredFile, Submission
from lms.coursework.rules import IllegalTransition, MarkingState, rubric_mark
from lms.extensions import db
from lms.notify.models import Notification, OutboxEmail
from tests.conftest import sign_in
from tests.web.test_coursework_extensions import sign_out
from tests.web.test_coursework_support import LONDON, assignment, fresh, pdf_bytes, person, post, submit

TUTOR1, TUTOR2, ACADEMIC, ADMIN = "tutor1@example.org", "tutor2@example.org", "academic1@example.org", \
    "admin@example.org"


def submitted(count: int, slug: str = "demo-running", first: int = 1, **kwargs) -> list[int]:
    accredited = assignment(slug)
    return [submit(f"trainee{n}@example.org", accredited.id, **kwargs).id for n in range(first, first + count)]


def allocate(ids, *markers):
    accredited = fresh(Submission, ids[0]).assignment
    marking.allocate(person(ADMIN), accredited.id, ids, [person(m).id for m in markers])
    db.session.commit()


def criteria(accredited, mark: int = 60, comment: str = "Clear and accurate.") -> dict:
    entries = {}
    for criterion in accredited.rubric:
        band = next(b for b in criterion["bands"] if b["low"] <= mark <= b["high"])
        entries[criterion["id"]] = marking.CriterionEntry(f"{band['low']}-{band['high']}", str(mark), comment)
    return entries


def first_mark(submission_id: int, marker: str, mark: int = 60, complete: bool = True):
    submission = fresh(Submission, submission_id)
    marking.save_first_marking(person(marker), submission_id, version=submission.version,
                                criteria=criteria(submission.assignment, mark), overall="", override_reason="",
                                feedback_text="**Well done.** Next, add more sources.", complete=complete)
    db.session.commit()


def rubric_form(accredited, marks: dict | int, action="complete", feedback="Good work. Next: reference more.",
                submission_id=None):
    data = {"form": "first", "action": action, "feedback": feedback, "overall": "", "override_reason": ""}
    if submission_id is not None:
        data["version"] = str(fresh(Submission, submission_id).version)
    for criterion in accredited.rubric:
        mark = marks if isinstance(marks, int) else marks[criterion["id"]]
        band = next((b for b in criterion["bands"] if b["low"] <= mark <= b["high"]), criterion["bands"][-1])
        data[f"band-{criterion['id']}"] = f"{band['low']}-{band['high']}"
        data[f"mark-{criterion['id']}"] = str(mark)
        data[f"comment-{criterion['id']}"] = "Comment."
    return data


def to_agreed(ids, marks=None):
    """First mark every script (tutor1) and confirm an empty sample: all agreed."""
    allocate(ids, TUTOR1)
    for index, submission_id in enumerate(ids):
        first_mark(submission_id, TUTOR1, (marks or {}).get(index, 60))
    accredited = fresh(Submission, ids[0]).assignment
    marking.confirm_sample(person(ADMIN), accredited.id, sampled_ids=[], second_marker_ids=[])
    db.session.commit()


def release_all(ids):
    accredited = fresh(Submission, ids[0]).assignment
    marking.ratify_marks(person(ADMIN), accredited.cohort_id)
    marking.release(person(ADMIN), accredited.id)
    db.session.commit()


def audit_actions(submission_id) -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).where(
        AuditEvent.object_type == "submission", AuditEvent.object_id == str(submission_id))
        .order_by(AuditEvent.id)).scalars())


# --- allocation and who sees what -------------------------------------------------------------


def test_the_lead_tutor_allocates_scripts_evenly(login_as):
    ids = submitted(5)
    accredited = assignment()
    client = login_as("tutor")
    page = client.get(f"/marking/{accredited.id}").get_data(as_text=True)
    assert "Allocate the chosen scripts evenly" in page and "All submitted scripts (5)" in page
    response = post(client, f"/marking/{accredited.id}/allocate",
                    {"scripts": [str(i) for i in ids], "markers": [str(person(TUTOR1).id), str(person(TUTOR2).id)]})
    assert response.status_code == 302
    db.session.expire_all()
    loads = [fresh(Submission, i).first_marker_id for i in ids]
    assert sorted([loads.count(person(TUTOR1).id), loads.count(person(TUTOR2).id)]) == [2, 3]
    assert all(fresh(Submission, i).state == "submitted" for i in ids)
    assert "coursework.marker_allocated" in audit_actions(ids[0])
    assert db.session.execute(select(Notification).where(Notification.user_id == person(TUTOR2).id)).first()


def test_a_tutor_who_is_not_the_lead_cannot_allocate_or_draw_the_sample(client, demo):
    from tests.conftest import sign_in

    ids = submitted(2)
    accredited = assignment()
    assert sign_in(client, TUTOR2).status_code == 302  # a co-facilitator, not the lead tutor
    allocate_refused = post(client, f"/marking/{accredited.id}/allocate",
                            {"scripts": [str(i) for i in ids], "markers": [str(person(TUTOR2).id)]})
    assert allocate_refused.status_code in (403, 404)
    assert {fresh(Submission, i).first_marker_id for i in ids} == {None}
    sample_refused = post(client, f"/marking/{accredited.id}/moderation", {"scripts": [str(ids[0])]})
    assert sample_refused.status_code in (403, 404)
    assert not fresh(Submission, ids[0]).sampled


def test_allocating_without_choosing_is_refused(login_as):
    submitted(1)
    accredited = assignment()
    client = login_as("tutor")
    response = post(client, f"/marking/{accredited.id}/allocate", {})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Choose at least one marker" in text and "Choose at least one script" in text


def test_a_marker_sees_only_their_allocation(login_as, client):
    ids = submitted(2)
    allocate([ids[0]], TUTOR1)
    allocate([ids[1]], ACADEMIC)
    # The academic supervisor marks one script; the other is not theirs.
    marker = login_as("academic_supervisor")
    accredited = assignment()
    queue = marker.get(f"/marking/{accredited.id}").get_data(as_text=True)
    assert "Scripts allocated to you (1)" in queue
    assert fresh(Submission, ids[1]).candidate.label in queue
    assert fresh(Submission, ids[0]).candidate.label not in queue
    assert marker.get(f"/marking/scripts/{ids[1]}").status_code == 200
    assert marker.get(f"/marking/scripts/{ids[0]}").status_code == 404
    assert post(marker, f"/marking/scripts/{ids[0]}", rubric_form(accredited, 60)).status_code == 404
    file_ids = db.session.execute(select(StoredFile.id)).scalars().all()
    assert file_ids == []
    assert fresh(Submission, ids[0]).state == "submitted"


def test_a_tutor_opening_a_script_allocated_to_someone_else_gets_404(login_as):
    ids = submitted(1)
    allocate(ids, TUTOR2)
    client = login_as("tutor")
    assert client.get(f"/marking/scripts/{ids[0]}").status_code == 404


def test_markers_see_candidate_numbers_not_names_until_release(login_as, client):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    submission = fresh(Submission, ids[0])
    label = submission.candidate.label
    assert re.fullmatch(r"C-\d{4,5}", label)
    marker = login_as("tutor")
    for path in (f"/marking/{submission.assignment_id}", f"/marking/scripts/{ids[0]}"):
        page = marker.get(path).get_data(as_text=True)
        assert label in page and "Amira Hassan" not in page
    sign_out(marker)
    admin = login_as("admin")
    assert "Amira Hassan" in admin.get(f"/marking/{submission.assignment_id}").get_data(as_text=True)
    sign_out(admin)
    # After release the marker sees who it was.
    first_mark(ids[0], TUTOR1)
    marking.confirm_sample(person(ADMIN), submission.assignment_id, sampled_ids=[], second_marker_ids=[])
    db.session.commit()
    release_all(ids)
    marker = login_as("tutor")
    assert "Amira Hassan" in marker.get(f"/marking/scripts/{ids[0]}").get_data(as_text=True)


def test_the_candidate_number_is_stable_across_attempts(app, demo):
    ids = submitted(1)
    to_agreed(ids, {0: 30})
    release_all(ids)
    referral = db.session.execute(select(Submission).where(Submission.attempt == 2)).scalar_one()
    assert referral.candidate_id == fresh(Submission, ids[0]).candidate_id
    assert db.session.execute(select(Candidate)).scalars().all().__len__() == 1


# --- first marking --------------------------------------------------------------------------------


def test_a_tutor_marks_with_the_rubric_and_nothing_shows_to_the_trainee(login_as, client):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    accredited = assignment()
    marker = login_as("tutor")
    page = marker.get(f"/marking/scripts/{ids[0]}").get_data(as_text=True)
    assert "Mark with the rubric" in page and "Understanding of recovery" in page and "70–100" in page
    marks = {"understanding": 72, "application": 65, "reflection": 58, "evidence": 45, "structure": 61}
    draft = post(marker, f"/marking/scripts/{ids[0]}",
                 rubric_form(accredited, marks, action="save", submission_id=ids[0]))
    assert draft.status_code == 302 and fresh(Submission, ids[0]).state == "in_marking"
    done = post(marker, f"/marking/scripts/{ids[0]}", rubric_form(accredited, marks, submission_id=ids[0]))
    assert done.status_code == 302
    submission = fresh(Submission, ids[0])
    expected = rubric_mark(accredited.weights, marks)
    assert submission.state == "first_marked" and submission.first_mark == expected
    mark = db.session.execute(select(Mark)).scalar_one()
    assert mark.computed_mark == expected and mark.criteria["evidence"] == {"band": "40-49", "mark": 45,
                                                                          "comment": "Comment."}
    actions = audit_actions(ids[0])
    assert "coursework.state.start_marking" in actions and "coursework.first_marking_saved" in actions
    assert "coursework.state.complete_first_marking" in actions
    sign_out(marker)
    trainee = login_as("trainee")
    assert trainee.get(f"/submissions/{ids[0]}/feedback").status_code == 404
    assert str(expected) not in trainee.get("/assignment").get_data(as_text=True).replace(
        fresh(Submission, ids[0]).submitted_at.strftime("%Y"), "")


def test_an_override_needs_a_reason_and_marks_must_be_0_to_100(login_as):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    accredited = assignment()
    marker = login_as("tutor")
    form = rubric_form(accredited, 60, submission_id=ids[0])
    form["mark-understanding"] = "120"
    form["band-understanding"] = "70-100"
    response = post(marker, f"/marking/scripts/{ids[0]}", form)
    assert response.status_code == 400
    assert "120 is not a mark" in response.get_data(as_text=True)
    form = rubric_form(accredited, 60, submission_id=ids[0])
    form["band-reflection"] = "70-100"
    response = post(marker, f"/marking/scripts/{ids[0]}", form)
    assert response.status_code == 400 and "60 is not in the band 70–100" in response.get_data(as_text=True)
    form = rubric_form(accredited, 60, submission_id=ids[0])
    form["overall"] = "65"
    response = post(marker, f"/marking/scripts/{ids[0]}", form)
    assert response.status_code == 400
    assert "changed the mark from the rubric&#39;s 60 to 65" in response.get_data(as_text=True)
    form["overall"] = "-3"
    assert "-3 is not a mark" in post(marker, f"/marking/scripts/{ids[0]}", form).get_data(as_text=True)
    assert db.session.execute(select(Mark)).first() is None
    assert fresh(Submission, ids[0]).state == "submitted"
    form["overall"], form["override_reason"] = "65", "Exceptional reflection the rubric undervalues."
    assert post(marker, f"/marking/scripts/{ids[0]}", form).status_code == 302
    assert fresh(Submission, ids[0]).first_mark == 65
    assert db.session.execute(select(Mark)).scalar_one().override_reason.startswith("Exceptional")


def test_completing_needs_every_criterion_and_feedback(login_as):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    marker = login_as("tutor")
    response = post(marker, f"/marking/scripts/{ids[0]}", {"form": "first", "action": "complete", "feedback": "",
                                                           "version": fresh(Submission, ids[0]).version})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter the mark as a whole number" in text and "Write feedback for the trainee" in text


def test_two_markers_saving_the_same_script_at_once(login_as, app):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    accredited = assignment()
    first = login_as("tutor")
    second = app.test_client()
    assert sign_in(second, TUTOR1).status_code == 302
    version = fresh(Submission, ids[0]).version
    both = rubric_form(accredited, 60, action="save", submission_id=ids[0])
    both["version"] = str(version)
    assert post(first, f"/marking/scripts/{ids[0]}", {**both, "feedback": "From the first window."}).status_code == 302
    late = post(second, f"/marking/scripts/{ids[0]}", {**both, "feedback": "From the second window."})
    assert late.status_code == 409
    text = late.get_data(as_text=True)
    assert "Someone else saved changes to this script" in text and "From the second window." in text
    assert db.session.execute(select(Mark)).scalar_one().feedback == "From the first window."


def test_first_marking_can_be_reopened_before_moderation(login_as):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    first_mark(ids[0], TUTOR1)
    marker = login_as("tutor")
    response = post(marker, f"/marking/scripts/{ids[0]}/reopen", {"version": fresh(Submission, ids[0]).version})
    assert response.status_code == 302 and fresh(Submission, ids[0]).state == "in_marking"


def test_an_illegal_transition_is_refused_and_changes_nothing(login_as):
    ids = submitted(1)
    to_agreed(ids)
    release_all(ids)
    with pytest.raises(IllegalTransition):
        from lms.coursework.rules import Action, apply

        apply(MarkingState.RELEASED, Action.START_MARKING)
    admin = login_as("admin")
    version = fresh(Submission, ids[0]).version
    response = post(admin, f"/marking/scripts/{ids[0]}/reopen", {"version": version})
    assert response.status_code == 409
    assert "first marking can&#39;t be reopened" in response.get_data(as_text=True)
    response = post(admin, f"/marking/scripts/{ids[0]}/agree", {"version": version, "agreed_mark": "70",
                                                                  "rationale": "x"})
    assert response.status_code == 409
    submission = fresh(Submission, ids[0])
    assert submission.state == "released" and submission.mark == 60 and submission.version == version
    with pytest.raises(services.Refused, match="released mark can't go back"):
        services.move(person(ADMIN), submission, services.Action.START_MARKING)


# --- moderation -----------------------------------------------------------------------------------


def test_the_lead_tutor_who_saw_the_first_marks_cannot_second_mark_blind(login_as):
    ids = submitted(2)
    allocate(ids, TUTOR2)
    for submission_id in ids:
        first_mark(submission_id, TUTOR2, 58)
    accredited = assignment()
    lead = login_as("tutor")  # tutor1, the lead tutor, who sees the first marks while drawing the sample
    refused = post(lead, f"/marking/{accredited.id}/moderation",
                   {"sampled": [str(ids[0])], "second_markers": [str(person(TUTOR1).id)]})
    assert refused.status_code == 400 and "you have seen the first marks" in refused.get_data(as_text=True)
    assert {fresh(Submission, i).state for i in ids} == {"first_marked"}
    # When second markers may see the first mark, there is nothing blind to keep: allowed.
    accredited = fresh(type(accredited), accredited.id)
    accredited.second_marker_sees_first_mark = True
    db.session.commit()
    allowed = post(lead, f"/marking/{accredited.id}/moderation",
                   {"sampled": [str(ids[0])], "second_markers": [str(person(TUTOR1).id)]})
    assert allowed.status_code == 302 and fresh(Submission, ids[0]).second_marker_id == person(TUTOR1).id


def test_the_sample_goes_to_second_markers_who_are_never_the_first(login_as):
    ids = submitted(4)
    allocate(ids, TUTOR1)
    for index, submission_id in enumerate(ids):
        first_mark(submission_id, TUTOR1, [35, 55, 62, 71][index])
    accredited = assignment()
    lead = login_as("tutor")
    page = lead.get(f"/marking/{accredited.id}/moderation").get_data(as_text=True)
    proposal = marking.moderation(person(TUTOR1), accredited.id).proposed
    assert ids[0] in proposal  # every fail is in the sample
    assert page.count("Proposed</td>") == len(proposal)
    # Only the first marker chosen as second marker: refused.
    response = post(lead, f"/marking/{accredited.id}/moderation",
                    {"sampled": [str(i) for i in proposal], "second_markers": [str(person(TUTOR1).id)]})
    assert response.status_code == 400
    assert "must be someone other than the first marker" in response.get_data(as_text=True)
    assert all(fresh(Submission, i).state == "first_marked" for i in ids)
    response = post(lead, f"/marking/{accredited.id}/moderation",
                    {"sampled": [str(i) for i in proposal], "second_markers": [str(person(ACADEMIC).id)]})
    assert response.status_code == 302
    for submission_id in ids:
        submission = fresh(Submission, submission_id)
        if submission_id in proposal:
            assert submission.state == "second_marking" and submission.second_marker_id == person(ACADEMIC).id
        else:
            assert submission.state == "agreed" and submission.agreed_mark == submission.first_mark


def test_a_second_marker_equal_to_the_first_is_refused(login_as):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    first_mark(ids[0], TUTOR1)
    accredited = assignment()
    marking.confirm_sample(person(ADMIN), accredited.id, sampled_ids=ids, second_marker_ids=[person(ACADEMIC).id])
    db.session.commit()
    lead = login_as("tutor")
    response = post(lead, f"/marking/scripts/{ids[0]}/allocate",
                    {"stage": "second", "marker": str(person(TUTOR1).id), "assignment_id": str(accredited.id)})
    assert response.status_code == 400
    assert "The second marker must be someone other than the first marker" in response.get_data(as_text=True)
    assert fresh(Submission, ids[0]).second_marker_id == person(ACADEMIC).id


def sample(ids, second=ACADEMIC):
    accredited = fresh(Submission, ids[0]).assignment
    marking.confirm_sample(person(ADMIN), accredited.id, sampled_ids=ids, second_marker_ids=[person(second).id])
    db.session.commit()


def test_blind_second_marking_then_agreement(login_as):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    first_mark(ids[0], TUTOR1, 62)
    sample(ids)
    moderator = login_as("academic_supervisor")
    page = moderator.get(f"/marking/scripts/{ids[0]}").get_data(as_text=True)
    assert "Blind second marking" in page and "Well done" not in page and "Your second mark" in page
    version = fresh(Submission, ids[0]).version
    bad = post(moderator, f"/marking/scripts/{ids[0]}", {"form": "second", "version": version, "mark": "101",
                                                          "comment": ""})
    assert bad.status_code == 400 and "101 is not a mark" in bad.get_data(as_text=True)
    ok = post(moderator, f"/marking/scripts/{ids[0]}", {"form": "second", "version": version, "mark": "66",
                                                         "comment": "Slightly stronger on reflection."})
    assert ok.status_code == 302
    page = moderator.get(f"/marking/scripts/{ids[0]}").get_data(as_text=True)
    assert "Well done" in page and "Agree the mark" in page
    version = fresh(Submission, ids[0]).version
    out_of_range = post(moderator, f"/marking/scripts/{ids[0]}/agree",
                        {"version": version, "agreed_mark": "150", "rationale": "Met and agreed."})
    assert out_of_range.status_code == 400 and fresh(Submission, ids[0]).state == "second_marking"
    no_reason = post(moderator, f"/marking/scripts/{ids[0]}/agree", {"version": version, "agreed_mark": "64"})
    assert no_reason.status_code == 400 and "Record how the mark was agreed" in no_reason.get_data(as_text=True)
    agreed = post(moderator, f"/marking/scripts/{ids[0]}/agree",
                  {"version": version, "agreed_mark": "64", "rationale": "Met and agreed 64."})
    assert agreed.status_code == 302
    submission = fresh(Submission, ids[0])
    assert (submission.state, submission.agreed_mark, submission.second_mark) == ("agreed", 64, 66)
    # The first marker hears the agreed mark and how it was agreed, with the way to the script.
    told = db.session.execute(select(Notification).where(Notification.user_id == person(TUTOR1).id,
                                                         Notification.subject.like("Mark agreed:%"))).scalars().all()
    assert len(told) == 1 and "is 64" in told[0].body and "Met and agreed 64." in told[0].body
    assert told[0].link == f"/marking/scripts/{ids[0]}"
    assert not db.session.execute(select(Notification).where(Notification.user_id == person(ACADEMIC).id,
                                                             Notification.subject.like("Mark agreed:%"))).first()


def test_the_second_marker_sees_the_first_mark_when_the_cohort_chooses(login_as):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    first_mark(ids[0], TUTOR1, 62)
    accredited = assignment()
    accredited.second_marker_sees_first_mark = True
    db.session.commit()
    sample(ids)
    page = login_as("academic_supervisor").get(f"/marking/scripts/{ids[0]}").get_data(as_text=True)
    assert "Well done" in page and "Blind second marking" not in page


def test_a_disagreement_beyond_tolerance_goes_to_a_third_marker(login_as, client):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    first_mark(ids[0], TUTOR1, 50)
    sample(ids)
    marking.save_moderation_mark(person(ACADEMIC), ids[0], stage="second", version=fresh(Submission, ids[0]).version,
                                  mark="65", comment="Much stronger than that.")
    db.session.commit()
    assert fresh(Submission, ids[0]).state == "third_marking"
    with pytest.raises(services.Refused, match="third marker records the agreed mark"):
        marking.agree_mark(person(ACADEMIC), ids[0], version=fresh(Submission, ids[0]).version, mark="58",
                            rationale="Split the difference")
    db.session.rollback()
    lead = login_as("tutor")
    queue = lead.get(f"/marking/{assignment().id}").get_data(as_text=True)
    assert "With a third marker" in queue and 'form="allocate-' in queue
    refused = post(lead, f"/marking/scripts/{ids[0]}/allocate",
                   {"stage": "third", "marker": str(person(ACADEMIC).id), "assignment_id": str(assignment().id)})
    assert refused.status_code == 400
    assert post(lead, f"/marking/scripts/{ids[0]}/allocate",
                {"stage": "third", "marker": str(person(TUTOR2).id)}).status_code == 302
    sign_out(lead)
    third = login_as(TUTOR2)
    version = fresh(Submission, ids[0]).version
    assert post(third, f"/marking/scripts/{ids[0]}", {"form": "third", "version": version, "mark": "58",
                                                      "comment": "Between the two."}).status_code == 302
    assert post(third, f"/marking/scripts/{ids[0]}/agree", {"version": fresh(Submission, ids[0]).version,
                                                             "agreed_mark": "58",
                                                             "rationale": "Third marker's judgement."}
                ).status_code == 302
    submission = fresh(Submission, ids[0])
    assert (submission.state, submission.third_mark, submission.mark) == ("agreed", 58, 58)
    # After a third marker, both earlier markers hear it.
    for marker in (TUTOR1, ACADEMIC):
        assert db.session.execute(select(Notification).where(
            Notification.user_id == person(marker).id, Notification.subject.like("Mark agreed:%"))).first(), marker


# --- exam board, release, corrections, referral ------------------------------------------------------


def test_ratify_then_release_shows_mark_and_feedback_to_the_trainee(login_as):
    ids = submitted(2)
    to_agreed(ids)
    accredited = assignment()
    admin = person(ADMIN)
    with pytest.raises(services.Refused):
        marking.ratify_marks(person(TUTOR1), accredited.cohort_id)
    assert marking.ratify_marks(admin, accredited.cohort_id) == 2
    db.session.commit()
    assert all(fresh(Submission, i).state == "ratified" for i in ids)
    client = login_as("admin")
    queue = client.get(f"/marking/{accredited.id}").get_data(as_text=True)
    assert "Release all ratified marks and feedback" in queue
    assert post(client, f"/marking/{accredited.id}/release").status_code == 302
    assert all(fresh(Submission, i).state == "released" for i in ids)
    assert db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == "trainee1@example.org",
                                                        OutboxEmail.subject.like("Feedback ready%"))).first()
    sign_out(client)
    trainee = login_as("trainee")
    page = trainee.get(f"/submissions/{ids[0]}/feedback").get_data(as_text=True)
    assert "Your mark: 60" in page and "<strong>Well done.</strong>" in page and "This is a pass" in page


def test_release_one_script_at_a_time(login_as):
    ids = submitted(2)
    to_agreed(ids)
    marking.ratify_marks(person(ADMIN), assignment().cohort_id)
    db.session.commit()
    client = login_as("admin")
    assert post(client, f"/marking/scripts/{ids[0]}/release").status_code == 302
    assert [fresh(Submission, i).state for i in ids] == ["released", "ratified"]
    assert post(client, f"/marking/scripts/{ids[0]}/release").status_code == 409


def test_a_released_mark_changes_only_by_a_recorded_correction(login_as):
    ids = submitted(1)
    to_agreed(ids)
    release_all(ids)
    client = login_as("admin")
    version = fresh(Submission, ids[0]).version
    missing = post(client, f"/marking/scripts/{ids[0]}/correction", {"version": version, "new_mark": "64"})
    assert missing.status_code == 400 and "Record why" in missing.get_data(as_text=True)
    assert fresh(Submission, ids[0]).mark == 60
    done = post(client, f"/marking/scripts/{ids[0]}/correction",
                {"version": version, "new_mark": "64", "reason": "Arithmetic error in the rubric."})
    assert done.status_code == 302
    submission = fresh(Submission, ids[0])
    assert submission.mark == 64 and submission.agreed_mark == 60
    correction = db.session.execute(select(MarkCorrection)).scalar_one()
    assert (correction.old_mark, correction.new_mark) == (60, 64)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "coursework.mark_corrected")
                               ).scalar_one()
    assert event.reason == "Arithmetic error in the rubric." and '"mark": 60' in event.before
    sign_out(client)
    page = login_as("trainee").get(f"/submissions/{ids[0]}/feedback").get_data(as_text=True)
    assert "Your mark: 64" in page and "corrected from 60 to 64" in page


def test_a_failed_first_attempt_opens_a_referral(login_as):
    ids = submitted(1)
    to_agreed(ids, {0: 35})
    release_all(ids)
    referral = db.session.execute(select(Submission).where(Submission.attempt == 2)).scalar_one()
    assert referral.status == "draft" and referral.due_at > fresh(Submission, ids[0]).released_at
    assert "coursework.referral_opened" in audit_actions(ids[0])
    trainee = login_as("trainee")
    feedback = trainee.get(f"/submissions/{ids[0]}/feedback").get_data(as_text=True)
    assert "below the pass mark" in feedback and "second attempt" in feedback
    page = trainee.get(f"/assignment/{referral.assignment_id}").get_data(as_text=True)
    assert "Second attempt (resubmission)" in page and "Feedback on your first attempt" not in page
    assert "Read the feedback on your first attempt" in page and ">Submit</button>" in page


def test_a_passed_resubmission_shows_the_trainee_the_mark_the_rules_record(login_as):
    """The marker gives the second attempt 58; the course rules cap a pass at a resubmission at the pass
    mark, so the trainee reads 40 as their mark, with the marker's 58 and the reason beside it."""
    ids = submitted(1)
    to_agreed(ids, {0: 35})
    release_all(ids)
    referral = db.session.execute(select(Submission).where(Submission.attempt == 2)).scalar_one()
    submit("trainee1@example.org", referral.assignment_id)
    to_agreed([referral.id], {0: 58})
    accredited = fresh(Submission, referral.id).assignment
    marking.ratify_marks(person(ADMIN), accredited.cohort_id)
    marking.release(person(ADMIN), accredited.id, referral.id)
    db.session.commit()
    trainee = login_as("trainee")
    page = " ".join(trainee.get(f"/submissions/{referral.id}/feedback").get_data(as_text=True).split())
    assert "Second attempt" in page
    assert f"Your mark: {accredited.pass_mark}" in page and "Your mark: 58" not in page
    assert "Your marker gave this work <strong>58</strong>" in page
    assert "a pass at a resubmission is recorded at the pass mark" in page and "resubmission (R)" in page
    assert "This is a pass" in page
    # The first attempt's page shows its own mark, unchanged by any rule.
    first = " ".join(trainee.get(f"/submissions/{ids[0]}/feedback").get_data(as_text=True).split())
    assert "Your mark: 35" in first and "Your marker gave" not in first


def test_an_admin_changes_the_dates_of_a_second_attempt(login_as):
    ids = submitted(1)
    to_agreed(ids, {0: 30})
    release_all(ids)
    referral = db.session.execute(select(Submission).where(Submission.attempt == 2)).scalar_one()
    client = login_as("admin")
    page = client.get(f"/marking/{referral.assignment_id}/settings").get_data(as_text=True)
    assert "Second attempts (resubmissions)" in page and "Amira Hassan" in page
    form = {"version": str(referral.version), "submission_id": str(referral.id),
            "assignment_id": str(referral.assignment_id), "due_date": "2031-05-02", "due_time": "17:00",
            "cut_off_date": "2031-05-01", "cut_off_time": "17:00"}
    refused = post(client, f"/marking/attempts/{referral.id}/dates", form)
    assert refused.status_code == 400
    assert "The cut-off date must be on or after the due date" in refused.get_data(as_text=True)
    assert fresh(Submission, referral.id).due_at == referral.due_at
    form["cut_off_date"] = "2031-05-09"
    assert post(client, f"/marking/attempts/{referral.id}/dates", form).status_code == 302
    changed = fresh(Submission, referral.id)
    assert changed.due_at.astimezone(LONDON).isoformat() == "2031-05-02T17:00:00+01:00"
    assert "coursework.attempt_dates_changed" in audit_actions(referral.id)


def test_every_change_of_mark_state_and_feedback_is_audited(app, demo):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    first_mark(ids[0], TUTOR1, 62)
    sample(ids)
    marking.save_moderation_mark(person(ACADEMIC), ids[0], stage="second", version=fresh(Submission, ids[0]).version,
                                  mark="60", comment="Fair.")
    marking.agree_mark(person(ACADEMIC), ids[0], version=fresh(Submission, ids[0]).version, mark="61",
                        rationale="Agreed.")
    db.session.commit()
    release_all(ids)
    actions = audit_actions(ids[0])
    for expected in ("submitted", "state.allocate", "marker_allocated", "state.start_marking", "first_marking_saved",
                     "state.complete_first_marking", "state.select_for_moderation", "second_marking_saved",
                     "state.agree", "mark_agreed", "state.ratify", "state.release"):
        assert f"coursework.{expected}" in actions, expected
    # The audit log knows who is who, even though the markers did not.
    events = db.session.execute(select(AuditEvent).where(AuditEvent.object_id == str(ids[0]))).scalars().all()
    assert {e.subject_user_id for e in events} == {person("trainee1@example.org").id}


def test_the_marks_export_is_safe_from_formula_injection(login_as):
    trainee = person("trainee1@example.org")
    trainee.display_name = "=HYPERLINK(\"http://evil.example\")"
    db.session.commit()
    ids = submitted(2)
    to_agreed(ids, {0: 35})
    release_all(ids)
    referral = db.session.execute(select(Submission).where(Submission.attempt == 2)).scalar_one()
    submit("trainee1@example.org", referral.assignment_id)
    allocate([referral.id], TUTOR2)
    first_mark(referral.id, TUTOR2, 58)
    marking.confirm_sample(person(ADMIN), referral.assignment_id, sampled_ids=[], second_marker_ids=[])
    db.session.commit()
    response = login_as("admin").get(f"/marking/{referral.assignment_id}/marks.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 3
    assert all(not row["trainee"].startswith(("=", "+", "-", "@")) for row in rows)
    assert rows[0]["trainee"].startswith("'=HYPERLINK") or rows[1]["trainee"].startswith("'=HYPERLINK")
    second = next(row for row in rows if row["attempt"] == "2")
    assert second["raw mark"] == "58" and second["recorded mark"] == "40" and "R" in second["flags"].split()
    assert second["first marker"] == "Dan Okafor"


def test_external_examiners_read_the_sample_and_comment(client, demo, app):
    from datetime import timedelta

    ids = submitted(3, "demo-finished", first=13, now=assignment("demo-finished").due_at - timedelta(days=1))
    allocate(ids, TUTOR1)
    for submission_id in ids:
        first_mark(submission_id, TUTOR1, 60)
    marking.confirm_sample(person(ADMIN), fresh(Submission, ids[0]).assignment_id, sampled_ids=[ids[0]],
                            second_marker_ids=[person(ACADEMIC).id])
    examiner = accounts.create_user("examiner@example.org", "Ruth Okonjo", "peer-support-demo")
    accounts.grant_role(examiner, Role.EXTERNAL_EXAMINER, fresh(Submission, ids[0]).assignment.cohort_id)
    db.session.commit()
    assignment_id = fresh(Submission, ids[0]).assignment_id
    assert sign_in(client, "examiner@example.org").status_code == 302
    assert "External examining" in client.get("/home").get_data(as_text=True)
    page = client.get(f"/external-examining/{assignment_id}").get_data(as_text=True)
    assert fresh(Submission, ids[0]).candidate.label in page
    assert fresh(Submission, ids[1]).candidate.label not in page
    assert "Maya Patel" not in page
    assert client.get(f"/marking/scripts/{ids[0]}").status_code == 403
    empty = post(client, f"/external-examiner/{assignment_id}", {})
    assert empty.status_code == 404
    refused = post(client, f"/external-examining/{assignment_id}", {"submission_id": str(ids[0]), "body": " "})
    assert refused.status_code == 400 and "Write your comment" in refused.get_data(as_text=True)
    assert post(client, f"/external-examining/{assignment_id}",
                {"submission_id": str(ids[0]), "body": "Marking is consistent with the descriptors."}
                ).status_code == 302
    assert "Marking is consistent" in client.get(f"/external-examining/{assignment_id}").get_data(as_text=True)
    assert post(client, f"/external-examining/{assignment_id}",
                {"submission_id": str(ids[1]), "body": "Not in the sample"}).status_code == 404


def test_a_practice_task_gets_feedback_and_no_mark(login_as, client):
    practice = assignment("demo-running", "strengths-spotting-exercise")
    submission = submit("trainee1@example.org", practice.id, text="Rosa shows courage and humour.")
    marking.allocate_script(person(ADMIN), submission.id, stage="first", marker_id=person(TUTOR1).id)
    db.session.commit()
    marker = login_as("tutor")
    page = marker.get(f"/marking/scripts/{submission.id}").get_data(as_text=True)
    assert "Amira Hassan" in page  # practice tasks are not anonymous
    assert "Mark with the rubric" not in page
    response = post(marker, f"/marking/scripts/{submission.id}",
                    {"form": "first", "action": "complete", "feedback": "Lovely strengths spotting, Amira.",
                     "version": fresh(Submission, submission.id).version})
    assert response.status_code == 302
    assert fresh(Submission, submission.id).state == "released"
    sign_out(marker)
    page = login_as("trainee").get(f"/submissions/{submission.id}/feedback").get_data(as_text=True)
    assert "Lovely strengths spotting" in page and "Your mark" not in page


def test_feedback_files_are_for_the_trainee_only_after_release(login_as, client):
    ids = submitted(1)
    allocate(ids, TUTOR1)
    accredited = assignment()
    marker = login_as("tutor")
    form = rubric_form(accredited, 60, submission_id=ids[0])
    form["feedback_file"] = (io.BytesIO(pdf_bytes()), "annotated.pdf")
    assert post(marker, f"/marking/scripts/{ids[0]}", form, content_type="multipart/form-data").status_code == 302
    feedback_file = db.session.execute(select(StoredFile).where(StoredFile.purpose == "feedback")).scalar_one()
    sign_out(marker)
    trainee = login_as("trainee")
    assert trainee.get(f"/coursework/files/{feedback_file.id}").status_code == 404
    sign_out(trainee)
    marking.confirm_sample(person(ADMIN), accredited.id, sampled_ids=[], second_marker_ids=[])
    db.session.commit()
    release_all(ids)
    trainee = login_as("trainee")
    response = trainee.get(f"/coursework/files/{feedback_file.id}")
    response.close()
    assert response.status_code == 200


# --- bounded queries --------------------------------------------------------------------------------


def make_scripts(count: int) -> int:
    """`count` submitted scripts in a cohort of their own, half allocated to tutor1; returns the assignment id."""
    from datetime import date, time, timedelta

    from lms.cohorts.models import Cohort, CourseDay, Enrolment
    from lms.coursework.models import Assignment

    start = date.today() - timedelta(weeks=20)
    cohort = Cohort(slug=f"size-{count}", name=f"Size {count}", course_slug="peer-support-l4", start_date=start)
    cohort.days = [CourseDay(number=n + 1, date=start + timedelta(weeks=n), starts_at=time(9, 30),
                             ends_at=time(16, 0)) for n in range(11)]
    db.session.add(cohort)
    db.session.flush()
    tutor = person(TUTOR1)
    accounts.grant_role(tutor, Role.TUTOR, cohort.id)
    services.ensure_assignments({cohort.id})
    accredited = db.session.execute(select(Assignment).where(Assignment.cohort_id == cohort.id,
                                                             Assignment.credit_bearing.is_(True))).scalar_one()
    from lms.accounts.models import User

    for n in range(count):
        trainee = User(email=f"size{count}-{n}@example.org", display_name=f"Trainee {n}")
        enrolment = Enrolment(cohort=cohort, trainee=trainee)
        db.session.add_all([trainee, enrolment])
        db.session.flush()
        candidate = Candidate(enrolment_id=enrolment.id, number=count * 100 + n)
        db.session.add(candidate)
        db.session.flush()
        state = ["submitted", "in_marking", "first_marked", "second_marking", "agreed"][n % 5]
        db.session.add(Submission(assignment_id=accredited.id, enrolment_id=enrolment.id, candidate_id=candidate.id,
                                  status="submitted", text="x", state=state, submitted_at=accredited.due_at,
                                  first_marker_id=tutor.id if n % 2 else None,
                                  second_marker_id=person(ACADEMIC).id if state == "second_marking" else None,
                                  first_mark=60 if state in ("first_marked", "second_marking", "agreed") else None))
    db.session.commit()
    return accredited.id


@pytest.mark.parametrize("who", ["admin", "tutor"])
def test_the_marking_queue_makes_the_same_number_of_queries_for_20_and_200_scripts(login_as, count_queries, who):
    small, large = make_scripts(20), make_scripts(200)
    client = login_as(who)
    figures = []
    for assignment_id, size in ((small, 20), (large, 200)):
        client.get(f"/marking/{assignment_id}")  # warm up (sets up nothing new, but loads the course once)
        with count_queries() as statements:
            response = client.get(f"/marking/{assignment_id}")
        assert response.status_code == 200
        shown = size if who == "admin" else size // 2  # the tutor marks half and does not lead this cohort
        assert f"({shown})" in response.get_data(as_text=True)
        figures.append(len(statements))
    assert figures[0] == figures[1], figures
    print(f"queue queries ({who}): {figures}")
    assert figures[0] <= 15, figures


def test_facts_for_the_rules_engine_and_signals_for_other_domains(app, demo):
    from lms.progress.rules import AssessmentFacts

    ids = submitted(1)
    to_agreed(ids, {0: 35})
    enrolment_id = fresh(Submission, ids[0]).enrolment_id
    hidden = services.assessment_facts([enrolment_id])[enrolment_id]["accredited-assignment"]
    assert isinstance(hidden, AssessmentFacts) and hidden.attempts[0].mark is None  # not released yet
    board = services.assessment_facts([enrolment_id], released_only=False)[enrolment_id]["accredited-assignment"]
    assert board.attempts[0].mark == 35 and board.attempts[0].submitted_at is not None
    ratified, released = [], []
    with marking.marks_ratified.connected_to(lambda sender, **kw: ratified.append(kw)), \
            marking.marks_released.connected_to(lambda sender, **kw: released.append(kw)):
        release_all(ids)
    assert ratified[0]["submission_ids"] == ids and released[0]["submission_ids"] == ids
    facts = services.assessment_facts([enrolment_id])[enrolment_id]["accredited-assignment"]
    assert [a.mark for a in facts.attempts] == [35, None]  # the referral is open, not yet submitted
    assert facts.attempts[1].due > facts.attempts[0].due


def test_releasing_a_whole_cohort_at_once(app, demo):
    ids = submitted(2)
    to_agreed(ids)
    accredited = assignment()
    services_count = marking.ratify_marks(person(ADMIN), accredited.cohort_id)
    assert services_count == 2
    with pytest.raises(services.Refused):
        marking.release_cohort(person(TUTOR1), accredited.cohort_id)
    assert marking.release_cohort(person(ADMIN), accredited.cohort_id) == 2
    db.session.commit()
    assert {fresh(Submission, i).state for i in ids} == {"released"}


def test_a_lead_tutor_who_is_the_blind_second_marker_sees_no_first_marking_anywhere(login_as):
    """The lead tutor manages the queue, but as this script's second marker sees neither the first mark
    (queue and script) nor the first marker's feedback file until recording their own mark."""
    from werkzeug.datastructures import FileStorage

    ids = submitted(1)
    allocate(ids, TUTOR2)
    accredited = assignment()
    annotated = FileStorage(io.BytesIO(pdf_bytes(b"first marker notes")), filename="annotated.pdf")
    marking.save_first_marking(person(TUTOR2), ids[0], version=fresh(Submission, ids[0]).version,
                               criteria=criteria(accredited, 47), overall="", override_reason="",
                               feedback_text="First marker's view.", feedback_file=annotated, complete=True)
    db.session.commit()
    sample(ids, second=TUTOR1)
    feedback_file = db.session.execute(select(StoredFile).where(StoredFile.purpose == "feedback")).scalar_one()
    lead = login_as("tutor")
    queue_page = lead.get(f"/marking/{accredited.id}").get_data(as_text=True)
    assert "hidden until you record your second mark" in queue_page and "47 (first)" not in queue_page
    script_page = lead.get(f"/marking/scripts/{ids[0]}").get_data(as_text=True)
    assert "Blind second marking" in script_page and "First marker" + "'s view" not in script_page
    assert lead.get(f"/coursework/files/{feedback_file.id}").status_code == 404
    # The admin and the first marker still have it.
    marking.save_moderation_mark(person(TUTOR1), ids[0], stage="second", version=fresh(Submission, ids[0]).version,
                                  mark="52", comment="A little stronger.")
    db.session.commit()
    queue_page = lead.get(f"/marking/{accredited.id}").get_data(as_text=True)
    assert "hidden until you record your second mark" not in queue_page and "47 (first)" in queue_page
    response = lead.get(f"/coursework/files/{feedback_file.id}")
    response.close()
    assert response.status_code == 200


def test_only_the_scripts_markers_and_the_team_running_it_download_its_files(client, demo):
    """tutor2 (a co-facilitator, not the lead) is not this script's marker: its file is not found for them,
    as for another trainee; its first marker (here also the lead tutor) has it."""
    import io

    from werkzeug.datastructures import FileStorage

    from lms.coursework import services as coursework
    from lms.coursework.models import StoredFile
    from tests.conftest import csrf_token, sign_in

    accredited = assignment()
    essay = FileStorage(io.BytesIO(pdf_bytes(b"my essay")), filename="essay.pdf")
    submission = coursework.save_work(person("trainee1@example.org"), accredited.id, text="Essay.", files=[essay],
                                      declaration=True, submit=True)
    db.session.commit()
    allocate([submission.id], TUTOR1)  # first marker: tutor1, the lead tutor
    stored = db.session.execute(select(StoredFile).where(StoredFile.submission_id == submission.id)).scalar_one()
    for email, allowed in ((TUTOR2, False), ("trainee2@example.org", False), (TUTOR1, True)):
        assert sign_in(client, email).status_code == 302
        response = client.get(f"/coursework/files/{stored.id}")
        assert (response.status_code == 200) == allowed, email
        if not allowed:
            assert response.status_code == 404, email
        response.close()
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})


def test_an_external_examiner_downloads_sampled_scripts_only(client, demo):
    import io

    from werkzeug.datastructures import FileStorage

    from lms.coursework import services as coursework
    from tests.conftest import csrf_token

    accredited = assignment()
    ids = []
    for n in (1, 2):
        essay = FileStorage(io.BytesIO(pdf_bytes(f"essay {n}".encode())), filename=f"essay-{n}.pdf")
        ids.append(coursework.save_work(person(f"trainee{n}@example.org"), accredited.id, text="Essay.",
                                        files=[essay], declaration=True, submit=True).id)
        db.session.commit()
    allocate(ids, TUTOR1)
    for submission_id in ids:
        first_mark(submission_id, TUTOR1, 60)
    marking.confirm_sample(person(ADMIN), accredited.id, sampled_ids=[ids[0]], second_marker_ids=[person(ACADEMIC).id])
    examiner = accounts.create_user("examiner@example.org", "Ruth Okonjo", "peer-support-demo")
    accounts.grant_role(examiner, Role.EXTERNAL_EXAMINER, accredited.cohort_id)
    db.session.commit()
    files = {s.submission_id: s.id for s in db.session.execute(
        select(StoredFile).where(StoredFile.submission_id.in_(ids))).scalars()}
    assert sign_in(client, "examiner@example.org").status_code == 302
    sampled = client.get(f"/coursework/files/{files[ids[0]]}")
    assert sampled.status_code == 200 and sampled.headers["Content-Disposition"].startswith("attachment")
    sampled.close()
    assert client.get(f"/coursework/files/{files[ids[1]]}").status_code == 404  # not in the sample
    assert client.get(f"/marking/scripts/{ids[1]}").status_code == 403  # never the marking pages
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
