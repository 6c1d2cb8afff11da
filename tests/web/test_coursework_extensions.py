"""Extensions and mitigating circumstances: asked for by trainees, decided by supervisors and admins."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.coursework import marking, services
from lms.coursework.models import Extension, MitigatingClaim, Submission
from lms.extensions import db
from lms.notify.models import OutboxEmail
from tests.conftest import csrf_token
from tests.web.test_coursework_support import ESSAY, assignment, fresh, pdf_bytes, person, post, submit


def sign_out(client):
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})


def request_extension(client, assignment_id, days="5", reason="My mum is in hospital.", evidence=None):
    data = {"working_days": days, "reason": reason}
    if evidence:
        data["evidence"] = evidence
    return post(client, f"/assignment/{assignment_id}/extension", data, content_type="multipart/form-data")


def test_a_trainee_asks_and_the_academic_supervisor_approves(login_as, client):
    accredited = assignment()
    trainee = login_as("trainee")
    response = request_extension(trainee, accredited.id, evidence=(io.BytesIO(pdf_bytes()), "letter.pdf"))
    assert response.status_code == 302
    extension = db.session.execute(select(Extension)).scalar_one()
    assert extension.status == "requested" and extension.working_days == 5 and extension.evidence_file_id
    # The supervisor is told, without the reason in the e-mail.
    mail = db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == "academic1@example.org")
                              ).scalars().all()[-1]
    assert "extension" in mail.subject and "hospital" not in mail.body
    # The reason stays out of the audit log.
    assert all("hospital" not in (e.after or "") for e in db.session.execute(select(AuditEvent)).scalars())
    page = trainee.get(f"/assignment/{accredited.id}").get_data(as_text=True)
    assert "waiting for a decision" in page and "Ask for an extension</a>" not in page
    sign_out(trainee)

    supervisor = login_as("academic_supervisor")
    listing = supervisor.get("/extensions-and-circumstances").get_data(as_text=True)
    assert "Amira Hassan" in listing and "Decide" in listing
    assert "hospital" in supervisor.get(f"/extensions/{extension.id}").get_data(as_text=True)
    evidence = supervisor.get(f"/coursework/files/{extension.evidence_file_id}")
    evidence.close()
    assert evidence.status_code == 200
    response = post(supervisor, f"/extensions/{extension.id}", {"decision": "approve", "message": "Take care."})
    assert response.status_code == 302
    decided = fresh(Extension, extension.id)
    assert decided.status == "approved" and decided.granted_days == 5
    view_deadline = decided.granted_until
    assert view_deadline > accredited.due_at
    sign_out(supervisor)
    page = login_as("trainee").get(f"/assignment/{accredited.id}").get_data(as_text=True)
    assert "Your extension" in page and "Take care." in page


def test_lateness_counts_from_the_extended_date(app, demo):
    accredited = assignment()
    trainee, supervisor = person("trainee1@example.org"), person("academic1@example.org")
    extension = services.request_extension(trainee, accredited.id, working_days="5", reason="Illness")
    services.decide_extension(supervisor, extension.id, decision="approve")
    db.session.commit()
    granted = fresh(Extension, extension.id).granted_until
    on_time = submit("trainee1@example.org", accredited.id, now=granted - timedelta(hours=1))
    assert on_time.working_days_late == 0 and on_time.deadline_applied == granted


def test_an_extension_lets_a_trainee_submit_after_the_cut_off(app, demo):
    accredited = assignment()
    trainee, admin = person("trainee1@example.org"), person("admin@example.org")
    extension = services.request_extension(trainee, accredited.id, working_days="10", reason="Caring")
    services.decide_extension(admin, extension.id, decision="approve")
    db.session.commit()
    after_cut_off = accredited.cut_off_at + timedelta(days=1)
    submitted = submit("trainee1@example.org", accredited.id, now=after_cut_off)
    assert submitted.status == "submitted" and submitted.working_days_late == 0


def test_shortening_and_declining_need_a_message(login_as):
    accredited = assignment()
    extension = services.request_extension(person("trainee1@example.org"), accredited.id, working_days="8",
                                           reason="Unwell")
    db.session.commit()
    supervisor = login_as("academic_supervisor")
    response = post(supervisor, f"/extensions/{extension.id}", {"decision": "shorten", "working_days": "9"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "from 1 to 7" in page and "Write a short message" in page
    assert fresh(Extension, extension.id).status == "requested"
    response = post(supervisor, f"/extensions/{extension.id}",
                    {"decision": "shorten", "working_days": "3", "message": "Three days, then let's talk."})
    assert response.status_code == 302
    assert fresh(Extension, extension.id).granted_days == 3
    again = post(supervisor, f"/extensions/{extension.id}", {"decision": "decline", "message": "No"})
    assert again.status_code == 409 and fresh(Extension, extension.id).status == "shortened"


def test_a_bad_extension_request_is_refused_clearly(login_as):
    accredited = assignment()
    trainee = login_as("trainee")
    response = request_extension(trainee, accredited.id, days="15", reason="")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "from 1 to 10" in page and "Tell us briefly why" in page
    bad_file = request_extension(trainee, accredited.id, evidence=(io.BytesIO(b"<svg></svg>"), "note.svg"))
    assert bad_file.status_code == 400 and "web page or SVG image" in bad_file.get_data(as_text=True)
    assert db.session.execute(select(Extension)).first() is None


def test_only_the_trainees_academic_supervisor_or_an_admin_decides(login_as, client):
    accredited = assignment()
    extension = services.request_extension(person("trainee1@example.org"), accredited.id, working_days="2",
                                           reason="Unwell")
    db.session.commit()
    tutor = login_as("tutor")
    assert tutor.get(f"/extensions/{extension.id}").status_code == 403
    sign_out(tutor)
    # An academic supervisor who does not supervise this trainee sees nothing.
    other = login_as("academic_supervisor")
    enrolment = fresh(Submission, extension.submission_id).enrolment
    enrolment.academic_supervisor_id = None
    db.session.commit()
    assert other.get(f"/extensions/{extension.id}").status_code == 404
    assert post(other, f"/extensions/{extension.id}", {"decision": "approve"}).status_code == 404
    assert fresh(Extension, extension.id).status == "requested"


# --- mitigating circumstances ------------------------------------------------------------------


def report(client, assignment_id, category="illness", details="I was in hospital for a week."):
    return post(client, f"/assignment/{assignment_id}/mitigating-circumstances",
                {"category": category, "details": details}, content_type="multipart/form-data")


def test_mitigating_circumstances_are_private_to_supervisor_and_admin(login_as, client):
    accredited = assignment()
    first_marker = person("tutor1@example.org")
    trainee = login_as("trainee")
    assert report(trainee, accredited.id).status_code == 302
    claim = db.session.execute(select(MitigatingClaim)).scalar_one()
    assert not claim.after_submission
    # Not in e-mails or the audit log.
    assert all("hospital" not in m.body for m in db.session.execute(select(OutboxEmail)).scalars())
    assert all("hospital" not in (e.after or "") and "illness" not in (e.after or "")
               for e in db.session.execute(select(AuditEvent)).scalars())
    # The trainee then submits, and the script is allocated to a marker.
    services.save_work(person("trainee1@example.org"), accredited.id, text=ESSAY, declaration=True, submit=True)
    submission = db.session.execute(select(Submission)).scalar_one()
    marking.allocate(person("admin@example.org"), accredited.id, [submission.id], [first_marker.id])
    db.session.commit()
    sign_out(trainee)

    marker = login_as("tutor")
    assert marker.get(f"/mitigating-circumstances/{claim.id}").status_code == 403
    assert marker.get("/extensions-and-circumstances").status_code == 403
    script = marker.get(f"/marking/scripts/{submission.id}").get_data(as_text=True)
    queue = marker.get(f"/marking/{accredited.id}").get_data(as_text=True)
    for page in (script, queue):
        assert "hospital" not in page and "mitigating" not in page.lower()
    sign_out(marker)

    supervisor = login_as("academic_supervisor")
    page = supervisor.get(f"/mitigating-circumstances/{claim.id}").get_data(as_text=True)
    assert "hospital" in page and "An admin or the exam board decides" in page
    assert post(supervisor, f"/mitigating-circumstances/{claim.id}", {"decision": "accept"}).status_code == 403
    assert fresh(MitigatingClaim, claim.id).status == "reported"
    sign_out(supervisor)

    admin = login_as("admin")
    assert post(admin, f"/mitigating-circumstances/{claim.id}", {"decision": "accept"}).status_code == 302
    assert fresh(MitigatingClaim, claim.id).status == "accepted"


def test_a_marker_who_is_not_the_supervisor_never_sees_a_claim(app, demo):
    accredited = assignment()
    claim = services.report_mitigation(person("trainee1@example.org"), accredited.id, category="caring",
                                       details="Caring for my dad.")
    db.session.commit()
    from werkzeug.exceptions import NotFound

    for email in ("tutor1@example.org", "tutor2@example.org", "supervisor1@example.org"):
        try:
            services.claim_for(person(email), claim.id)
        except NotFound:
            continue
        raise AssertionError(f"{email} could see the claim")
    assert services.claim_for(person("academic1@example.org"), claim.id).id == claim.id


def test_a_claim_after_submitting_is_fit_to_sit_unless_accepted_exceptionally(login_as):
    accredited = assignment()
    submit("trainee1@example.org", accredited.id)
    trainee = login_as("trainee")
    page = trainee.get(f"/assignment/{accredited.id}/mitigating-circumstances").get_data(as_text=True)
    assert "fit to sit" in page
    assert report(trainee, accredited.id, "bereavement", "My grandad died.").status_code == 302
    claim = db.session.execute(select(MitigatingClaim)).scalar_one()
    assert claim.after_submission
    sign_out(trainee)
    admin = login_as("admin")
    refused = post(admin, f"/mitigating-circumstances/{claim.id}", {"decision": "accept"})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "taken as fit to sit" in text and "Record the reason" in text
    assert fresh(MitigatingClaim, claim.id).status == "reported"
    accepted = post(admin, f"/mitigating-circumstances/{claim.id}",
                    {"decision": "accept", "exceptional": "y", "reason": "Could not have been known at the time."})
    assert accepted.status_code == 302
    decided = fresh(MitigatingClaim, claim.id)
    assert decided.status == "accepted" and decided.exceptional
    assert decided.decision_reason == "Could not have been known at the time."


def test_a_rejection_needs_a_reason_and_a_bad_report_is_refused(login_as, client):
    accredited = assignment()
    trainee = login_as("trainee")
    bad = report(trainee, accredited.id, category="nonsense", details="")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Choose what best describes" in text and "Tell us briefly what happened" in text
    assert report(trainee, accredited.id).status_code == 302
    claim = db.session.execute(select(MitigatingClaim)).scalar_one()
    sign_out(trainee)
    admin = login_as("admin")
    assert post(admin, f"/mitigating-circumstances/{claim.id}", {"decision": "reject"}).status_code == 400
    assert post(admin, f"/mitigating-circumstances/{claim.id}",
                {"decision": "reject", "reason": "Please send the letter from your GP and we will look again."}
                ).status_code == 302
    assert fresh(MitigatingClaim, claim.id).status == "rejected"
