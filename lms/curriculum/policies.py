"""Who may see a cohort's course, and how much of it.

Tutors of the cohort and admins see everything, facilitator notes included.
Trainees see the course of a cohort they are enrolled in: days reached in
full, days to come as an outline. Supervisors of someone in the cohort see
the outline and their own trainees' progress. Anyone else gets a 404.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import exists, or_, select

from lms.accounts.models import User
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.cohorts.policies import can_manage_cohort, is_admin
from lms.extensions import db

EVERY_ROLE = frozenset(Role)
STAFF_AND_SUPERVISORS = frozenset({Role.TUTOR, Role.ADMIN, Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR})
RUNS_DAYS = frozenset({Role.TUTOR, Role.ADMIN})

ENDPOINT_ACCESS = {
    "curriculum.my_course": EVERY_ROLE,
    "curriculum.course": EVERY_ROLE,
    "curriculum.day": EVERY_ROLE,
    "curriculum.handout": EVERY_ROLE,
    "curriculum.search": EVERY_ROLE,
    "curriculum.mark_unit": frozenset({Role.TRAINEE}),
    "curriculum.progress": STAFF_AND_SUPERVISORS,
    "curriculum.today_index": RUNS_DAYS,
    "curriculum.today": RUNS_DAYS,
}


class Audience(StrEnum):
    """How a person meets a cohort's course."""

    TUTOR = "tutor"            # tutors of the cohort and admins: everything, facilitator notes too
    TRAINEE = "trainee"        # enrolled in the cohort
    SUPERVISOR = "supervisor"  # supervises someone in the cohort: outline and progress


def supervises_in_cohort(user: User, cohort: Cohort) -> bool:
    """Whether ``user`` is the academic or personal supervisor of anyone in ``cohort`` (one query)."""
    return db.session.execute(select(exists().where(
        Enrolment.cohort_id == cohort.id,
        or_(Enrolment.academic_supervisor_id == user.id, Enrolment.personal_supervisor_id == user.id),
    ))).scalar_one()


def audience_for(user: User, cohort: Cohort, enrolment: Enrolment | None) -> Audience | None:
    """The way ``user`` sees ``cohort``'s course, or None when they may not see it.

    ``enrolment`` is the user's own enrolment in the cohort, if any.
    """
    if can_manage_cohort(user, cohort):
        return Audience.TUTOR
    if enrolment is not None and enrolment.trainee_id == user.id:
        return Audience.TRAINEE
    if supervises_in_cohort(user, cohort):
        return Audience.SUPERVISOR
    return None


def can_see_facilitator_notes(user: User, cohort: Cohort) -> bool:
    """Facilitator notes are for the cohort's tutors and for admins only."""
    return can_manage_cohort(user, cohort)


def can_read_day_in_full(audience: Audience, scheduled: CourseDay | None, today: date) -> bool:
    """Tutors read every day; trainees read a day once it is reached; supervisors read outlines.

    A day with no date in the schedule counts as reached, so a missing date
    never locks trainees out of their material.
    """
    if audience is Audience.TUTOR:
        return True
    if audience is Audience.TRAINEE:
        return scheduled is None or scheduled.date <= today
    return False


# A deferred, withdrawn or transferred place can still be read, but its record stays as it was.
MARKING_STATUSES = ("active", "completed")


def can_mark_units(user: User, enrolment: Enrolment | None) -> bool:
    """Only trainees mark units done, only on their own enrolment, and only while their place is active
    (or completed, to keep track when they look back)."""
    return enrolment is not None and enrolment.trainee_id == user.id and enrolment.status in MARKING_STATUSES


def sees_every_trainee(user: User, cohort: Cohort) -> bool:
    """Tutors and admins see all trainees' progress; supervisors only their own trainees."""
    return is_admin(user) or can_manage_cohort(user, cohort)
