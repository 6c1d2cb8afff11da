"""The progress part of the demo: supervision notes for two trainees of demo-running.

Leaves exam boards alone: the certificates demo creates demo-finished's ratified
board. Idempotent: a trainee who already has supervision notes gets no more.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from lms.accounts.models import User
from lms.cohorts.models import Cohort, Enrolment
from lms.extensions import db
from lms.progress.models import SupervisionNote

DEMO_ORDER = 70
NOTES = {
    "trainee12@example.org": (
        "Talked about missing several course days. Agreed to look at catch-up options together with the tutor "
        "and to check in again next week.",
    ),
    "trainee9@example.org": (
        "Good conversation about the assignment plan. Thinking of writing about the value of shared experience "
        "in the first conversation with someone.",
    ),
}


def seed(today: date) -> dict | None:
    """Add the demo supervision notes, written by the trainee's academic supervisor."""
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one_or_none()
    if cohort is None:
        return None
    added = 0
    for email, texts in NOTES.items():
        enrolment = db.session.execute(
            select(Enrolment).join(User, Enrolment.trainee_id == User.id)
            .where(Enrolment.cohort_id == cohort.id, User.email == email)).scalar_one_or_none()
        if enrolment is None or db.session.execute(
                select(SupervisionNote.id).where(SupervisionNote.enrolment_id == enrolment.id)).first():
            continue
        author_id = enrolment.academic_supervisor_id or enrolment.personal_supervisor_id
        for days_ago, text in enumerate(texts, start=2):
            db.session.add(SupervisionNote(
                enrolment_id=enrolment.id, author_id=author_id, text=text,
                created_at=datetime.combine(today - timedelta(days=days_ago), time(14, 0), tzinfo=timezone.utc)))
            added += 1
    db.session.flush()
    return {"supervision notes": added}
