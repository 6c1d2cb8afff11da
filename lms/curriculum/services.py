"""Delivering a cohort's course: what each page shows, unit progress, search.

Every function takes the acting person and checks what they may see (a
cohort they may not see answers 404). Pages read the course from the
database (``sync.active_course``), never from the files. Each page loads what
it shows in a fixed number of queries, whatever the number of trainees or units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import abort
from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.authz.access import object_or_404
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.cohorts.policies import enrolment_of, is_admin
from lms.content.model import Course, Day, Unit
from lms.curriculum import policies
from lms.curriculum.models import CourseUnit, UnitProgress
from lms.curriculum.policies import Audience
from lms.curriculum.search import SearchHit, search_course
from lms.curriculum.sync import active_course
from lms.database import utcnow
from lms.extensions import db

# Trainees who have left a cohort are not counted in its progress figures.
NOT_COUNTED = ("withdrawn", "transferred")


@dataclass
class CohortCourse:
    """A cohort's course as one person meets it."""

    cohort: Cohort
    course: Course | None
    audience: Audience
    enrolment: Enrolment | None
    today: date
    schedule: dict[int, CourseDay] = field(default_factory=dict)

    @property
    def facilitator(self) -> bool:
        """Whether this person sees facilitator notes and the cohort's figures."""
        return self.audience is Audience.TUTOR

    @property
    def is_trainee(self) -> bool:
        return self.audience is Audience.TRAINEE

    @property
    def can_mark(self) -> bool:
        """Whether this trainee's place lets them mark units done now."""
        return (self.is_trainee and self.enrolment is not None
                and self.enrolment.status in policies.MARKING_STATUSES)

    def scheduled(self, number: int) -> CourseDay | None:
        return self.schedule.get(number)

    def is_open(self, number: int) -> bool:
        """Whether this person may read day ``number`` in full."""
        return policies.can_read_day_in_full(self.audience, self.scheduled(number), self.today)

    def is_today(self, number: int) -> bool:
        scheduled = self.scheduled(number)
        return scheduled is not None and scheduled.date == self.today

    @property
    def open_days(self) -> frozenset[int]:
        if self.course is None:
            return frozenset()
        return frozenset(day.number for day in self.course.days if self.is_open(day.number))


@dataclass
class DayEntry:
    """One day on the course page."""

    day: Day
    scheduled: CourseDay | None
    is_today: bool
    is_open: bool
    held: bool
    done: int
    total: int


@dataclass
class CoursePage:
    """The course page: the days with dates and progress."""

    context: CohortCourse
    days: list[DayEntry]
    done_keys: frozenset[str]
    cohort_counts: dict[str, int]
    trainee_count: int

    @property
    def total(self) -> int:
        return sum(entry.total for entry in self.days)

    @property
    def done(self) -> int:
        return sum(entry.done for entry in self.days)


@dataclass
class DayPage:
    """A course day's page (or its outline)."""

    context: CohortCourse
    day: Day
    scheduled: CourseDay | None
    is_open: bool
    done_keys: frozenset[str]
    cohort_counts: dict[str, int]
    trainee_count: int

    @property
    def total(self) -> int:
        return len(self.day.units)

    @property
    def done(self) -> int:
        return sum(1 for unit in self.day.units if unit.id in self.done_keys)


@dataclass
class ProgressRow:
    enrolment: Enrolment
    per_day: dict[int, int]
    done_keys: frozenset[str] = frozenset()  # which units, for the unit-by-unit view

    @property
    def done(self) -> int:
        return sum(self.per_day.values())


@dataclass
class ProgressTable:
    """Trainees by days: how many units each trainee has marked done on each day."""

    context: CohortCourse
    rows: list[ProgressRow]
    units_per_day: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.units_per_day.values())


@dataclass
class TodayPage:
    """What a tutor needs to run today's course day (or the next one)."""

    context: CohortCourse
    scheduled: CourseDay | None
    day: Day | None
    is_today: bool
    cohort_counts: dict[str, int]
    trainee_count: int


# ---------------------------------------------------------------------------
# Which cohorts, and how a person sees one
# ---------------------------------------------------------------------------

def visible_cohorts(user: User) -> list[Cohort]:
    """The cohorts whose course ``user`` may open: enrolled, teaching, supervising (admins: all)."""
    query = select(Cohort).order_by(Cohort.start_date.desc(), Cohort.name)
    if not is_admin(user):
        linked = select(Enrolment.cohort_id).where(or_(
            Enrolment.trainee_id == user.id,
            Enrolment.academic_supervisor_id == user.id,
            Enrolment.personal_supervisor_id == user.id,
        ))
        query = query.where(or_(Cohort.id.in_(user.cohort_ids_for(Role.TUTOR)), Cohort.id.in_(linked)))
    return list(db.session.execute(query).scalars())


def teaching_cohorts(user: User) -> list[Cohort]:
    """The cohorts ``user`` runs days for: the ones they teach (admins: every cohort)."""
    query = select(Cohort).order_by(Cohort.start_date.desc(), Cohort.name)
    if not is_admin(user):
        query = query.where(Cohort.id.in_(user.cohort_ids_for(Role.TUTOR)))
    return list(db.session.execute(query).scalars())


def cohort_course(user: User, slug: str, today: date) -> CohortCourse:
    """The cohort with this slug as ``user`` may see it, with its active course; 404 otherwise."""
    cohort = db.session.execute(
        select(Cohort).where(Cohort.slug == slug).options(selectinload(Cohort.days))
    ).scalar_one_or_none()
    object_or_404(cohort, cohort is not None)
    enrolment = None
    if not policies.can_see_facilitator_notes(user, cohort):
        enrolment = enrolment_of(user.id, cohort.id)
    audience = policies.audience_for(user, cohort, enrolment)
    object_or_404(cohort, audience is not None)
    return CohortCourse(cohort=cohort, course=active_course(cohort.course_slug), audience=audience,
                        enrolment=enrolment if audience is Audience.TRAINEE else None, today=today,
                        schedule={day.number: day for day in cohort.days})


def unit_rows(course_slug: str) -> dict[str, CourseUnit]:
    """The course's current (not archived) unit rows by unit id."""
    return {row.unit_key: row for row in db.session.execute(
        select(CourseUnit).where(CourseUnit.course_slug == course_slug, CourseUnit.archived_at.is_(None))
    ).scalars()}


# ---------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------

def units_done(enrolment_ids) -> dict[int, frozenset[str]]:
    """The unit ids each enrolment has marked done, for the progress pages.

    Takes enrolment ids; returns ``{enrolment_id: frozenset of unit ids}`` with
    an entry (possibly empty) for every id given. Units archived from the
    course are left out, though their progress is kept. One query.
    """
    ids = list(enrolment_ids)
    done: dict[int, set[str]] = {enrolment_id: set() for enrolment_id in ids}
    if ids:
        for enrolment_id, key in db.session.execute(
            select(UnitProgress.enrolment_id, CourseUnit.unit_key)
            .join(CourseUnit, CourseUnit.id == UnitProgress.unit_id)
            .where(UnitProgress.enrolment_id.in_(ids), CourseUnit.archived_at.is_(None))
        ):
            done[enrolment_id].add(key)
    return {enrolment_id: frozenset(keys) for enrolment_id, keys in done.items()}


def units_done_counts(enrolment_ids) -> dict[int, int]:
    """How many units (not archived) each enrolment has marked done: ``units_done`` counted by the
    database, for pages over hundreds of trainees. One query."""
    ids = list(enrolment_ids)
    counts = dict.fromkeys(ids, 0)
    if ids:
        counts.update(db.session.execute(
            select(UnitProgress.enrolment_id, func.count(func.distinct(CourseUnit.unit_key)))
            .join(CourseUnit, CourseUnit.id == UnitProgress.unit_id)
            .where(UnitProgress.enrolment_id.in_(ids), CourseUnit.archived_at.is_(None))
            .group_by(UnitProgress.enrolment_id)).all())
    return counts


def cohort_unit_counts(cohort: Cohort) -> tuple[dict[str, int], int]:
    """How many of the cohort's trainees marked each unit done, and how many trainees are counted (two queries)."""
    counted = (Enrolment.cohort_id == cohort.id, Enrolment.status.notin_(NOT_COUNTED))
    counts = dict(db.session.execute(
        select(CourseUnit.unit_key, func.count(UnitProgress.id))
        .join(UnitProgress, UnitProgress.unit_id == CourseUnit.id)
        .join(Enrolment, Enrolment.id == UnitProgress.enrolment_id)
        .where(*counted, CourseUnit.archived_at.is_(None))
        .group_by(CourseUnit.unit_key)
    ).all())
    trainees = db.session.execute(select(func.count(Enrolment.id)).where(*counted)).scalar_one()
    return counts, trainees


def _progress_for(context: CohortCourse) -> tuple[frozenset[str], dict[str, int], int]:
    done_keys: frozenset[str] = frozenset()
    counts: dict[str, int] = {}
    trainees = 0
    if context.is_trainee and context.enrolment is not None:
        done_keys = units_done([context.enrolment.id])[context.enrolment.id]
    if context.facilitator:
        counts, trainees = cohort_unit_counts(context.cohort)
    return done_keys, counts, trainees


def set_unit_done(user: User, slug: str, unit_id: str, done: bool, today: date) -> tuple[Day, Unit]:
    """Mark a unit done (or not done) for the acting trainee; returns its day and unit.

    Only a trainee of the cohort, on a day open to them, on a unit of the
    active course; anything else is a 404. Marking twice changes nothing.
    """
    context = cohort_course(user, slug, today)
    if context.course is None or not policies.can_mark_units(user, context.enrolment):
        abort(404)
    day = context.course.day_of_unit(unit_id)
    object_or_404(day, day is not None and context.is_open(day.number))
    row = unit_rows(context.course.slug).get(unit_id)
    object_or_404(row, row is not None)
    if done:
        # ON CONFLICT DO NOTHING: a double click or two open tabs mark the unit once, without an error.
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        db.session.execute(dialect.insert(UnitProgress)
                           .values(enrolment_id=context.enrolment.id, unit_id=row.id, completed_at=utcnow())
                           .on_conflict_do_nothing(index_elements=["enrolment_id", "unit_id"]))
    else:
        db.session.execute(delete(UnitProgress).where(UnitProgress.enrolment_id == context.enrolment.id,
                                                      UnitProgress.unit_id == row.id))
    db.session.flush()
    return day, day.unit(unit_id)


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------

def course_page(user: User, slug: str, today: date) -> CoursePage:
    """The cohort's course page: every day with its date, outline and progress."""
    context = cohort_course(user, slug, today)
    done_keys, counts, trainees = _progress_for(context)
    entries = []
    for day in context.course.days if context.course else ():
        scheduled = context.scheduled(day.number)
        entries.append(DayEntry(
            day=day, scheduled=scheduled, is_today=context.is_today(day.number),
            is_open=context.is_open(day.number),
            held=scheduled is not None and scheduled.date < today,
            done=sum(1 for unit in day.units if unit.id in done_keys), total=len(day.units)))
    return CoursePage(context=context, days=entries, done_keys=done_keys, cohort_counts=counts,
                      trainee_count=trainees)


def day_page(user: User, slug: str, number: int, today: date) -> DayPage:
    """One course day: in full when it is open to this person, otherwise its outline."""
    context = cohort_course(user, slug, today)
    day = context.course.day(number) if context.course else None
    object_or_404(day, day is not None)
    done_keys, counts, trainees = _progress_for(context)
    return DayPage(context=context, day=day, scheduled=context.scheduled(number),
                   is_open=context.is_open(number), done_keys=done_keys, cohort_counts=counts,
                   trainee_count=trainees)


def handout_day(user: User, slug: str, number: int, today: date) -> tuple[CohortCourse, Day]:
    """The day a handout is made of; only a day this person may read in full (else 404)."""
    context = cohort_course(user, slug, today)
    day = context.course.day(number) if context.course else None
    object_or_404(day, day is not None and context.is_open(number))
    return context, day


def search(user: User, slug: str, query: str, today: date) -> tuple[CohortCourse, list[SearchHit]]:
    """Search the cohort's course as far as this person may read it (facilitator notes for tutors only)."""
    context = cohort_course(user, slug, today)
    if context.course is None:
        return context, []
    return context, search_course(context.course, query, open_days=context.open_days,
                                  facilitator=context.facilitator)


def progress_table(user: User, slug: str, today: date) -> ProgressTable:
    """Trainees' unit progress by day: all trainees for tutors and admins, supervisors their own."""
    context = cohort_course(user, slug, today)
    if context.audience is Audience.TRAINEE:
        abort(404)
    query = (select(Enrolment).where(Enrolment.cohort_id == context.cohort.id)
             .options(selectinload(Enrolment.trainee)))
    if not policies.sees_every_trainee(user, context.cohort):
        query = query.where(or_(Enrolment.academic_supervisor_id == user.id,
                                Enrolment.personal_supervisor_id == user.id))
    enrolments = sorted(db.session.execute(query).scalars(),
                        key=lambda enrolment: enrolment.trainee.display_name.lower())
    per_day: dict[int, dict[int, int]] = {enrolment.id: {} for enrolment in enrolments}
    if enrolments and context.course is not None:
        for enrolment_id, day_number, count in db.session.execute(
            select(UnitProgress.enrolment_id, CourseUnit.day_number, func.count(UnitProgress.id))
            .join(CourseUnit, CourseUnit.id == UnitProgress.unit_id)
            .where(UnitProgress.enrolment_id.in_(list(per_day)), CourseUnit.archived_at.is_(None),
                   CourseUnit.course_slug == context.course.slug)
            .group_by(UnitProgress.enrolment_id, CourseUnit.day_number)
        ):
            per_day[enrolment_id][day_number] = count
    units_per_day = {day.number: len(day.units) for day in context.course.days} if context.course else {}
    done = units_done([e.id for e in enrolments]) if enrolments and context.course is not None else {}
    return ProgressTable(context=context, rows=[ProgressRow(e, per_day[e.id], done.get(e.id, frozenset()))
                                                for e in enrolments], units_per_day=units_per_day)


def today_page(user: User, slug: str, today: date) -> TodayPage:
    """Today's course day for the cohort's tutors (or the next one when there is none today)."""
    context = cohort_course(user, slug, today)
    if not context.facilitator:
        abort(404)
    scheduled = next((day for day in context.cohort.days if day.date >= today), None)
    day = context.course.day(scheduled.number) if (scheduled and context.course) else None
    counts, trainees = cohort_unit_counts(context.cohort) if day else ({}, 0)
    return TodayPage(context=context, scheduled=scheduled, day=day,
                     is_today=scheduled is not None and scheduled.date == today,
                     cohort_counts=counts, trainee_count=trainees)
