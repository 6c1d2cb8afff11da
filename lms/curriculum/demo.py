"""The course in the demo: loaded if missing, with realistic unit progress.

In ``demo-running`` most trainees have marked most units of the days already
held, and a few are catching up; in ``demo-finished`` everyone has marked
everything. Idempotent: only missing progress is added.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.cohorts.models import Cohort, Enrolment
from lms.curriculum.models import UnitProgress
from lms.curriculum.services import unit_rows
from lms.curriculum.sync import active_course, active_version, sync_course_folder
from lms.extensions import db

DEMO_ORDER = 5
COURSE_SLUG = "peer-support-l4"
# Share of the units of held days each running trainee has marked done, in
# enrolment order: most keep up, a few are catching up.
RUNNING_RATES = [100, 90, 85, 100, 60, 95, 75, 100, 40, 90, 80, 70]


def seed(today: date) -> dict[str, int]:
    """Load the course if no version is active, then add missing demo unit progress."""
    added = {"course versions": 0, "units marked done": 0}
    if active_version(COURSE_SLUG) is None:
        result = sync_course_folder(Path(current_app.config["LMS_COURSES_DIR"]) / COURSE_SLUG)
        if not result.ok:
            current_app.logger.warning("The demo course could not be loaded: %s", result.summary())
            return added
        added["course versions"] = 1
    course = active_course(COURSE_SLUG)
    units = unit_rows(COURSE_SLUG)
    zone = ZoneInfo(current_app.config["LMS_TIMEZONE"])
    cohorts = db.session.execute(
        select(Cohort).where(Cohort.slug.in_(("demo-running", "demo-finished")),
                             Cohort.course_slug == COURSE_SLUG)
        .options(selectinload(Cohort.days), selectinload(Cohort.enrolments))
    ).scalars()
    for cohort in cohorts:
        held = {day.number: day for day in cohort.days if day.date < today}
        enrolments = sorted(cohort.enrolments, key=lambda enrolment: enrolment.trainee_id)
        existing = {tuple(pair) for pair in db.session.execute(
            select(UnitProgress.enrolment_id, UnitProgress.unit_id)
            .join(Enrolment, Enrolment.id == UnitProgress.enrolment_id)
            .where(Enrolment.cohort_id == cohort.id))}
        for index, enrolment in enumerate(enrolments):
            rate = 100 if cohort.slug == "demo-finished" else RUNNING_RATES[index % len(RUNNING_RATES)]
            position = 0
            for day in course.days:
                if day.number not in held:
                    continue
                finished_at = datetime.combine(held[day.number].date, time(16, 30), tzinfo=zone)
                for unit in day.units:
                    position += 1
                    row = units.get(unit.id)
                    # A fixed scatter, so the demo looks lived-in and the same on every run.
                    if row is None or (position * 37 + index * 11) % 100 >= rate \
                            or (enrolment.id, row.id) in existing:
                        continue
                    db.session.add(UnitProgress(
                        enrolment_id=enrolment.id, unit_id=row.id,
                        completed_at=(finished_at + timedelta(minutes=position)).astimezone(timezone.utc)))
                    added["units marked done"] += 1
    db.session.flush()
    return added
