"""Attendance's part of a person's data export and of an approved erasure.

Registered with lms.privacy.registry. The export holds the person's register
marks (day, status, minutes missed, the reason and note recorded), their
check-ins and catch-ups. An erasure keeps the marks themselves, which the
award rests on (present, absent, minutes), and removes the words: absence
reasons and notes, which may say why someone was unwell.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from lms.accounts.models import User
from lms.attendance.models import CalendarToken, CatchUp, RegisterMark
from lms.cohorts.models import Cohort, CourseDay
from lms.extensions import db
from lms.privacy.registry import ERASERS, EXPORTERS, ExportSection

ERASED = "[removed at the person's request]"


def export_attendance(user: User) -> list[ExportSection]:
    """The person's own register marks and catch-ups."""
    marks = db.session.execute(
        select(RegisterMark, CourseDay.number, CourseDay.date, Cohort.name)
        .join(CourseDay, RegisterMark.course_day_id == CourseDay.id).join(Cohort, CourseDay.cohort_id == Cohort.id)
        .where(RegisterMark.trainee_id == user.id).order_by(CourseDay.date)).all()
    catch_ups = db.session.execute(
        select(CatchUp, CourseDay.number, Cohort.name).join(CourseDay, CatchUp.course_day_id == CourseDay.id)
        .join(Cohort, CourseDay.cohort_id == Cohort.id)
        .where(CatchUp.trainee_id == user.id).order_by(CatchUp.id)).all()
    sections = [ExportSection(
        "attendance", "My attendance", [
            {"cohort": cohort, "day": number, "date": on, "status": mark.status,
             "minutes_missed": mark.minutes_missed, "absence_reason": mark.absence_reason, "note": mark.note,
             "checked_in": mark.checked_in_at, "marked": mark.marked_at}
            for mark, number, on, cohort in marks],
        "Each course day's register entry for you, with any reason or note your tutor recorded.", order=20)]
    if catch_ups:
        sections.append(ExportSection("catch_ups", "My catch-ups", [
            {"cohort": cohort, "day": number, "kind": item.kind, "on": item.on_date, "venue": item.venue,
             "note": item.note, "completed": item.completed, "confirmed": item.confirmed_at}
            for item, number, cohort in catch_ups], order=21))
    return sections


def erase_attendance(user: User) -> None:
    """Keep the marks the award rests on; remove reasons and notes (flushes, never commits)."""
    db.session.execute(update(RegisterMark).where(RegisterMark.trainee_id == user.id, RegisterMark.absence_reason != "")
                       .values(absence_reason=ERASED).execution_options(synchronize_session=False))
    db.session.execute(update(RegisterMark).where(RegisterMark.trainee_id == user.id, RegisterMark.note != "")
                       .values(note=ERASED).execution_options(synchronize_session=False))
    db.session.execute(update(CatchUp).where(CatchUp.trainee_id == user.id, CatchUp.note != "")
                       .values(note=ERASED).execution_options(synchronize_session=False))
    db.session.execute(delete(CalendarToken).where(CalendarToken.user_id == user.id)
                       .execution_options(synchronize_session=False))
    db.session.flush()


EXPORTERS.append(export_attendance)
ERASERS.append(erase_attendance)
