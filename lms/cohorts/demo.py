"""The cohorts part of the demo: Priya Shah (tutor1) leads both demo cohorts; Dan Okafor co-facilitates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from lms.accounts.models import RoleGrant, User
from lms.authz.roles import Role
from lms.cohorts.models import Cohort
from lms.extensions import db

DEMO_ORDER = 10
LEAD_TUTOR = "tutor1@example.org"
DEMO_COHORTS = ("demo-running", "demo-finished")


def seed(today: date) -> dict[str, int]:
    """Mark the lead tutor of each demo cohort (idempotent)."""
    lead_id = db.session.execute(select(User.id).where(User.email == LEAD_TUTOR)).scalar_one_or_none()
    cohort_ids = list(db.session.execute(select(Cohort.id).where(Cohort.slug.in_(DEMO_COHORTS))).scalars())
    if lead_id is None or not cohort_ids:
        return {}
    changed = db.session.execute(
        update(RoleGrant).where(RoleGrant.user_id == lead_id, RoleGrant.role == Role.TUTOR.value,
                                RoleGrant.cohort_id.in_(cohort_ids), RoleGrant.lead.is_(False))
        .values(lead=True).execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    return {"lead tutors": changed}
