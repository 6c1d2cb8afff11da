"""Sample URL arguments for the cohort admin pages (the demo's running cohort)."""

from sqlalchemy import select

from lms.accounts.models import RoleGrant, User
from lms.cohorts.models import Cohort, Enrolment
from lms.extensions import db


def _running() -> Cohort:
    return db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()


def _tutor_grant() -> dict:
    cohort = _running()
    grant_id = db.session.execute(select(RoleGrant.id).join(User).where(
        RoleGrant.cohort_id == cohort.id, User.email == "tutor2@example.org", RoleGrant.role == "tutor")).scalar_one()
    return {"slug": cohort.slug, "grant_id": grant_id}


def _enrolment() -> dict:
    cohort = _running()
    enrolment_id = db.session.execute(select(Enrolment.id).join(User, Enrolment.trainee_id == User.id).where(
        Enrolment.cohort_id == cohort.id, User.email == "trainee12@example.org")).scalar_one()
    return {"slug": cohort.slug, "enrolment_id": enrolment_id}


SLUG = {"slug": "demo-running"}

SAMPLE_ARGS = {
    "cohorts.cohort": SLUG,
    "cohorts.edit_cohort": SLUG,
    "cohorts.schedule": SLUG,
    "cohorts.grant_role": SLUG,
    "cohorts.revoke_role": _tutor_grant,
    "cohorts.make_lead": _tutor_grant,
    "cohorts.peer_trainer": _tutor_grant,
    "cohorts.enrol": SLUG,
    "cohorts.enrolment": _enrolment,
    "cohorts.enrolment_status": _enrolment,
    "cohorts.import_people": SLUG,
    "cohorts.export_people": SLUG,
}
