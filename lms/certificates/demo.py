"""The demo's part for certificates: demo-finished ready for an admin to issue its certificates.

If the finished cohort has no exam board yet, add one, ratified six weeks
after the last course day, with a decision for every trainee: most passed the
accredited assignment (credit), one did not pass it after two attempts
(completion). The board's ratified marks are released, all but that trainee's
second attempt (held back for their academic supervisor to talk through, so
an admin can release it from the board page). Most trainees have confirmed the
name for their certificate. No certificate is issued: the admin does that in
the demo. Idempotent, and an
exam board another part of the demo made first is left as it is.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.certificates.models import CertificateName
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.extensions import db
from lms.progress.models import BoardDecision, ExamBoard

DEMO_ORDER = 80
COHORT = "demo-finished"
MEMBERS = "Helen Marsh (chair)\nPriya Shah\nExternal examiner: Dr Ruth Adeyemi"
EXAMINER = ("The marking was fair and consistent, and the feedback was kind, specific and encouraging. "
            "I am happy to confirm the outcomes.")
# (mark, flags, award) in the order of trainee13 ... trainee20.
RESULTS = [(58, "", "credit"), (64, "", "credit"), (49, "", "credit"), (71, "", "credit"),
           (34, "R", "completion"), (45, "", "credit"), (66, "", "credit"), (52, "", "credit")]
# Names trainees confirmed for their certificate (the others have not confirmed yet).
CONFIRMED_NAMES = {
    "trainee13@example.org": "Maya Patel",
    "trainee14@example.org": "Noah James Thompson",
    "trainee16@example.org": "Patrick Doyle",
    "trainee17@example.org": "Rosa Martins",
    "trainee18@example.org": "Sam Taylor",
    "trainee20@example.org": "Yasmin Begum",
}


def _outcome(mark: int, flags: str, award: str) -> str:
    credits = 20 if award == "credit" else 0
    return json.dumps({"award": award, "status": "provisional", "credits": credits, "level": 4, "framework": "FHEQ",
                       "pass_mark": 40, "assessments": {"accredited-assignment": {
                           "recorded_mark": mark, "flags": flags.split(), "passed": award == "credit"}}})


def _reason(flags: str, award: str) -> str:
    if award == "completion":
        return ("Attendance met. The accredited assignment was not passed after two attempts, so a certificate "
                "of completion is awarded.")
    return "Attendance met and the accredited assignment passed."


def seed(today: date) -> dict | None:
    """Make demo-finished ready for certificates. Returns counts of what was added."""
    added = {"exam boards": 0, "board decisions": 0, "certificate names": 0}
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == COHORT)).scalar_one_or_none()
    if cohort is None:
        return None
    for email, name in CONFIRMED_NAMES.items():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is None:
            continue
        exists = db.session.execute(select(CertificateName.id).where(CertificateName.user_id == user.id)).first()
        if exists is None:
            db.session.add(CertificateName(user_id=user.id, name=name))
            added["certificate names"] += 1

    if db.session.execute(select(ExamBoard.id).where(ExamBoard.cohort_id == cohort.id)).first() is not None:
        db.session.flush()
        return added
    last_day = db.session.execute(select(func.max(CourseDay.date)).where(CourseDay.cohort_id == cohort.id)).scalar()
    held_on = (last_day or cohort.start_date) + timedelta(weeks=6)
    admin = db.session.execute(select(User).where(User.email == "admin@example.org")).scalar_one_or_none()
    chair = db.session.execute(select(User).where(User.email == "academic1@example.org")).scalar_one_or_none()
    board = ExamBoard(
        cohort_id=cohort.id, held_on=held_on, members=MEMBERS, external_examiner_comments=EXAMINER,
        status="ratified", opened_by_id=admin.id if admin else None,
        opened_at=datetime.combine(held_on, time(10, 0), tzinfo=timezone.utc),
        ratified_at=datetime.combine(held_on, time(15, 30), tzinfo=timezone.utc),
    )
    db.session.add(board)
    db.session.flush()
    added["exam boards"] += 1
    enrolments = db.session.execute(
        select(Enrolment).join(User, Enrolment.trainee_id == User.id).where(Enrolment.cohort_id == cohort.id)
        .order_by(User.id)).scalars().all()
    for enrolment, (mark, flags, award) in zip(enrolments, RESULTS * (len(enrolments) // len(RESULTS) + 1)):
        db.session.add(BoardDecision(
            board_id=board.id, enrolment_id=enrolment.id, decision="ratify", award=award,
            credits=20 if award == "credit" else 0, recorded_mark=mark, flags=flags,
            outcome_json=_outcome(mark, flags, award), reason=_reason(flags, award),
            decided_by_id=chair.id if chair else None,
            decided_at=datetime.combine(held_on, time(11, 0), tzinfo=timezone.utc),
        ))
        added["board decisions"] += 1
    db.session.flush()
    added["marks released"] = _ratify_and_release(admin, cohort, held_on)
    return added


def _ratify_and_release(admin: User | None, cohort: Cohort, held_on: date) -> int:
    """The board ratified the agreed marks; the admin released them two days later, all but one: the mark of
    the trainee who did not pass after two attempts waits until their academic supervisor has met them."""
    try:
        from lms.coursework import marking
        from lms.coursework.models import Assignment, Submission
    except ImportError:
        return 0
    if admin is None:
        return 0
    marking.ratify_marks(admin, cohort, now=datetime.combine(held_on, time(15, 30), tzinfo=timezone.utc))
    scripts = db.session.execute(
        select(Submission).join(Assignment, Submission.assignment_id == Assignment.id)
        .where(Assignment.cohort_id == cohort.id, Submission.state == "ratified")
        .order_by(Submission.id)).scalars().all()
    held_back = max((s for s in scripts if s.attempt > 1), key=lambda s: s.id, default=None)
    released = 0
    for script in scripts:
        if script is not held_back:
            marking.release(admin, script.assignment_id, script.id,
                            now=datetime.combine(held_on + timedelta(days=2), time(9, 0), tzinfo=timezone.utc))
            released += 1
    return released
