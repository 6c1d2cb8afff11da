"""Who may see which cohort and which trainee.

These predicates are the object-level checks every domain uses: a tutor sees
the cohorts they teach, supervisors see the trainees linked to them, admins
see everything.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from lms.accounts.models import User
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, Enrolment
from lms.extensions import db

ADMINS = frozenset({Role.ADMIN})

# The cohort admin pages (lms/cohorts/views.py): admins only.
ENDPOINT_ACCESS: dict[str, object] = {
    endpoint: ADMINS for endpoint in (
        "cohorts.cohorts", "cohorts.new_cohort", "cohorts.cohort", "cohorts.edit_cohort", "cohorts.schedule",
        "cohorts.grant_role", "cohorts.revoke_role", "cohorts.make_lead", "cohorts.peer_trainer", "cohorts.enrol",
        "cohorts.enrolment", "cohorts.enrolment_status", "cohorts.import_people", "cohorts.export_people",
    )
}


def is_admin(user: User) -> bool:
    return user.has_role(Role.ADMIN)


def teaches(user: User, cohort: Cohort | int) -> bool:
    cohort_id = cohort if isinstance(cohort, int) else cohort.id
    return cohort_id in user.cohort_ids_for(Role.TUTOR)


def can_manage_cohort(user: User, cohort: Cohort | int) -> bool:
    """Tutors of the cohort and admins run a cohort's day-to-day business."""
    return is_admin(user) or teaches(user, cohort)


def supervises(user: User, enrolment: Enrolment) -> bool:
    return user.id in (enrolment.academic_supervisor_id, enrolment.personal_supervisor_id)


def can_view_trainee(user: User, enrolment: Enrolment) -> bool:
    """Staff linked to this enrolment (or admins) may follow the trainee's progress."""
    return (is_admin(user) or teaches(user, enrolment.cohort_id) or supervises(user, enrolment)
            or user.id == enrolment.trainee_id)


def visible_enrolments_query(user: User):
    """A SELECT of the enrolments ``user`` may follow, for lists and dashboards."""
    query = select(Enrolment)
    if is_admin(user):
        return query
    return query.where(or_(
        Enrolment.cohort_id.in_(user.cohort_ids_for(Role.TUTOR)),
        Enrolment.academic_supervisor_id == user.id,
        Enrolment.personal_supervisor_id == user.id,
        Enrolment.trainee_id == user.id,
    ))


def enrolment_of(trainee_id: int, cohort_id: int) -> Enrolment | None:
    return db.session.execute(
        select(Enrolment).where(Enrolment.trainee_id == trainee_id, Enrolment.cohort_id == cohort_id)
    ).scalar_one_or_none()
