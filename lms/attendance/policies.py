"""Who may take registers, see attendance, check in and use a calendar feed."""

from __future__ import annotations

from lms.accounts.models import User
from lms.authz.access import PUBLIC, SIGNED_IN
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, Enrolment
from lms.cohorts.policies import can_manage_cohort, can_view_trainee

EVERY_ROLE = frozenset(Role)
RUNS_COHORTS = frozenset({Role.TUTOR, Role.ADMIN})
FOLLOWS_TRAINEES = frozenset({Role.TUTOR, Role.ADMIN, Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR})

ENDPOINT_ACCESS = {
    "attendance.index": EVERY_ROLE,
    "attendance.cohort_grid": RUNS_COHORTS,
    "attendance.cohort_csv": RUNS_COHORTS,
    "attendance.cohort_settings": RUNS_COHORTS,
    "attendance.register": RUNS_COHORTS,
    "attendance.check_in_code": RUNS_COHORTS,
    "attendance.new_check_in_code": RUNS_COHORTS,
    "attendance.trainee": FOLLOWS_TRAINEES,
    "attendance.catch_up": RUNS_COHORTS,
    "attendance.check_in": frozenset({Role.TRAINEE}),
    "attendance.calendar": SIGNED_IN,
    "attendance.calendar_link": SIGNED_IN,
    "attendance.calendar_revoke": SIGNED_IN,
    "attendance.calendar_feed": PUBLIC,
}

# Enrolment statuses whose trainee is on the register; the others are shown
# with their status and can't be marked.
ON_THE_REGISTER = frozenset({"active", "completed"})


def can_take_register(user: User, cohort: Cohort | int) -> bool:
    """Tutors of the cohort and admins take its registers, confirm catch-ups and see its grid."""
    return can_manage_cohort(user, cohort)


def can_view_attendance(user: User, enrolment: Enrolment) -> bool:
    """The trainee, the cohort's tutors, their supervisors and admins see a trainee's attendance."""
    return can_view_trainee(user, enrolment)


def can_check_in(user: User, enrolment: Enrolment) -> bool:
    """Only the trainee themselves, while on the register, checks in."""
    return user.id == enrolment.trainee_id and enrolment.status in ON_THE_REGISTER
