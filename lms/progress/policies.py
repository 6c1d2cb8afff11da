"""Who may see whose progress, keep supervision notes, use the API and run exam boards."""

from __future__ import annotations

from lms.accounts.models import User
from lms.authz.access import PUBLIC
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, Enrolment
from lms.cohorts.policies import is_admin, supervises, teaches

TRAINEES = frozenset({Role.TRAINEE})
STAFF = frozenset({Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR, Role.TUTOR, Role.ADMIN})
TUTORS_AND_ADMINS = frozenset({Role.TUTOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})

ENDPOINT_ACCESS = {
    "progress.mine": TRAINEES,
    "progress.consent": TRAINEES,
    "progress.overview": STAFF,
    "progress.caseload_csv": STAFF,
    "progress.trainee": STAFF,
    "progress.add_note": STAFF,
    "progress.record_opt_out": ADMINS,
    "progress.cohort": TUTORS_AND_ADMINS,
    "progress.cohort_csv": TUTORS_AND_ADMINS,
    "progress.tokens": ADMINS,
    "progress.revoke_token": ADMINS,
    # The API authenticates itself (bearer token or session) and answers 401 in JSON, never a redirect.
    "progress.api_cohort_progress": PUBLIC,
    "progress.api_cohorts": PUBLIC,
    "progress.boards": ADMINS,
    "progress.board": ADMINS,
    "progress.ratify_all": ADMINS,
    "progress.ratify_since": ADMINS,
    "progress.release_marks": ADMINS,
    "progress.decide": ADMINS,
    "progress.correct": ADMINS,
}


def can_see_cohort_progress(user: User, cohort: Cohort) -> bool:
    """Tutors of the cohort and admins see its grid and forecasts."""
    return is_admin(user) or teaches(user, cohort.id)


def is_staff_for(user: User, enrolment: Enrolment) -> bool:
    """Staff linked to the trainee (their supervisors, the cohort's tutors) and admins; never the trainee."""
    if user.id == enrolment.trainee_id:
        return False
    return is_admin(user) or teaches(user, enrolment.cohort_id) or supervises(user, enrolment)


def can_record_opt_out(user: User, enrolment: Enrolment) -> bool:
    """Admins record a trainee's choice to opt out of assessment (or back in): it changes the award."""
    return is_admin(user)


def can_run_exam_boards(user: User) -> bool:
    return is_admin(user)
