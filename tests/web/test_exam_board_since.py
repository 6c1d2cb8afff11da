"""Marks agreed after the exam board has ratified (a second attempt, most often) are not stuck: the board
ratifies them with a recorded reason, and then they can be released."""

from __future__ import annotations

from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.coursework import marking
from lms.coursework.models import Submission
from lms.database import utcnow
from lms.extensions import db
from lms.progress import exam_boards
from lms.progress.models import ExamBoard
from tests.web.test_coursework_marking import ADMIN, TUTOR1, allocate, first_mark, submitted, to_agreed
from tests.web.test_coursework_support import assignment, fresh, person, post, submit


def board_after_a_failed_first_attempt() -> tuple[ExamBoard, int]:
    """trainee1 fails the first attempt (35), the board ratifies, the mark is released: a referral opens,
    is submitted and marked 55 (agreed). Returns the board and the referral's id."""
    ids = submitted(1)
    to_agreed(ids, {0: 35})
    admin = person(ADMIN)
    accredited = assignment()
    board = exam_boards.open_board(admin, accredited.cohort_id, "2027-03-15", "Chair\nExternal examiner", "")
    db.session.commit()
    exam_boards.ratify_all(admin, board.id, board.version, utcnow())
    db.session.commit()
    assert fresh(Submission, ids[0]).state == "ratified"
    marking.release(admin, accredited.id)
    db.session.commit()
    referral = db.session.execute(select(Submission).where(Submission.attempt == 2)).scalar_one()
    submit("trainee1@example.org", accredited.id)
    allocate([referral.id], TUTOR1)
    first_mark(referral.id, TUTOR1, 55)
    marking.confirm_sample(admin, accredited.id, sampled_ids=[], second_marker_ids=[])
    db.session.commit()
    assert fresh(Submission, referral.id).state == "agreed"
    return fresh(ExamBoard, board.id), referral.id


def test_marks_agreed_after_the_board_are_ratified_with_a_reason_then_released(login_as):
    board, referral_id = board_after_a_failed_first_attempt()
    client = login_as("admin")
    page = client.get(f"/exam-boards/{board.id}").get_data(as_text=True)
    assert "Marks agreed since the board sat" in page and "1 mark has been agreed" in page
    assert "Amira Hassan: 1 mark" in page
    # Before the board acts, release has nothing to release.
    assert post(client, f"/marking/scripts/{referral_id}/release").status_code == 409

    refused = post(client, f"/exam-boards/{board.id}/ratify-since", {"version": str(board.version), "reason": ""})
    assert refused.status_code == 400 and "Give the reason" in refused.get_data(as_text=True)
    assert fresh(Submission, referral_id).state == "agreed"

    done = post(client, f"/exam-boards/{board.id}/ratify-since",
                {"version": str(fresh(ExamBoard, board.id).version),
                 "reason": "Second-attempt mark agreed after the board met; ratified by the chair."})
    assert done.status_code == 302
    assert fresh(Submission, referral_id).state == "ratified"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "exam_board.ratified_since",
                                                        AuditEvent.object_type == "exam_board")).scalar_one()
    assert "ratified by the chair" in event.reason
    assert "No marks are waiting" in client.get(f"/exam-boards/{board.id}").get_data(as_text=True)

    assert post(client, f"/marking/scripts/{referral_id}/release").status_code == 302
    assert fresh(Submission, referral_id).state == "released"
    # Nothing left: asking again is refused plainly and changes nothing.
    again = post(client, f"/exam-boards/{board.id}/ratify-since",
                 {"version": str(fresh(ExamBoard, board.id).version), "reason": "Again."})
    assert again.status_code == 409 and "nothing waiting" in again.get_data(as_text=True)


def test_a_stale_board_page_is_refused(login_as):
    board, referral_id = board_after_a_failed_first_attempt()
    client = login_as("admin")
    stale = post(client, f"/exam-boards/{board.id}/ratify-since",
                 {"version": str(board.version - 1), "reason": "Chair's action."})
    assert stale.status_code == 409
    assert fresh(Submission, referral_id).state == "agreed"


def test_a_ratifying_correction_also_ratifies_that_trainees_agreed_marks(app, demo):
    board, referral_id = board_after_a_failed_first_attempt()
    enrolment_id = fresh(Submission, referral_id).enrolment_id
    exam_boards.correct(person(ADMIN), board.id, enrolment_id, "ratify", "completion",
                        "Board decision by correspondence.", board.version, utcnow())
    db.session.commit()
    assert fresh(Submission, referral_id).state == "ratified"


def test_only_admins_reach_it(login_as):
    board, _ = board_after_a_failed_first_attempt()
    tutor = login_as("tutor")
    assert post(tutor, f"/exam-boards/{board.id}/ratify-since",
                {"version": str(board.version), "reason": "x"}).status_code in (403, 404)


def test_the_board_page_releases_every_ratified_mark_of_the_cohort_at_once(login_as):
    from lms.notify.models import Notification

    ids = submitted(3)
    to_agreed(ids, {0: 62, 1: 48, 2: 71})
    admin = person(ADMIN)
    accredited = assignment()
    board = exam_boards.open_board(admin, accredited.cohort_id, "2027-03-15", "Chair\nExternal examiner", "")
    db.session.commit()
    client = login_as("admin")
    # While the board is open nothing is released.
    early = post(client, f"/exam-boards/{board.id}/release", {"version": str(fresh(ExamBoard, board.id).version)})
    assert early.status_code == 400 and "still open" in early.get_data(as_text=True)
    assert {fresh(Submission, i).state for i in ids} == {"agreed"}

    exam_boards.ratify_all(admin, board.id, fresh(ExamBoard, board.id).version, utcnow())
    db.session.commit()
    page = client.get(f"/exam-boards/{board.id}").get_data(as_text=True)
    assert "3 ratified marks of this cohort have not been released yet" in page

    stale = post(client, f"/exam-boards/{board.id}/release", {"version": str(fresh(ExamBoard, board.id).version - 1)})
    assert stale.status_code == 409 and {fresh(Submission, i).state for i in ids} == {"ratified"}

    done = post(client, f"/exam-boards/{board.id}/release", {"version": str(fresh(ExamBoard, board.id).version)})
    assert done.status_code == 302
    assert {fresh(Submission, i).state for i in ids} == {"released"}
    told = db.session.execute(select(Notification).where(Notification.subject.like("Feedback ready%"))).scalars().all()
    assert len(told) == 3
    page = client.get(f"/exam-boards/{board.id}").get_data(as_text=True)
    assert "Every mark the board ratified has been released" in page

    again = post(client, f"/exam-boards/{board.id}/release", {"version": str(fresh(ExamBoard, board.id).version)})
    assert again.status_code == 409 and "no ratified marks waiting" in again.get_data(as_text=True)


def test_the_board_page_shows_the_moderation_record_examiner_and_mitigation_decisions(login_as, today):
    """With the demo's finished cohort: every marked script with its first, second and agreed marks; the
    external examiner's comments; mitigation decisions by category and outcome, never their details."""
    from lms.certificates import demo as certificates_demo
    from lms.cohorts.models import Cohort
    from lms.coursework import demo as coursework_demo

    coursework_demo.seed(today)
    certificates_demo.seed(today)
    db.session.commit()
    cohort_id = db.session.execute(select(Cohort.id).where(Cohort.slug == "demo-finished")).scalar_one()
    board = db.session.execute(select(ExamBoard).where(ExamBoard.cohort_id == cohort_id)).scalar_one()
    page = " ".join(login_as("admin").get(f"/exam-boards/{board.id}").get_data(as_text=True).split())
    record = page[page.index("Moderation record"):page.index("Mitigating circumstances</h2>")]
    assert "Marked scripts with first, second and agreed marks" in record
    from lms.coursework.models import Assignment
    sampled = db.session.execute(select(Submission).join(Assignment, Submission.assignment_id == Assignment.id)
                                 .where(Assignment.cohort_id == cohort_id, Submission.sampled.is_(True),
                                        Submission.second_mark.is_not(None))).scalars().first()
    assert f"<td>{sampled.first_mark}</td><td>{sampled.second_mark}</td><td>{sampled.agreed_mark}</td>" in record
    assert "The marking was fair and consistent" in page  # the external examiner's comments
    mitigation = page[page.index("Mitigating circumstances</h2>"):page.index("Decision record")]
    assert "caring" in mitigation and "rejected" in mitigation
    assert "up most nights" not in page  # the claim's details stay with the coursework team
