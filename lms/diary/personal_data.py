"""The diary's part of a person's data export and of an approved erasure.

Registered with lms.privacy.registry, which imports this module before an
export or an erasure. Diary entries and wellness plans are the person's own
health data: they go into their export (decrypted, for them alone) and an
approved erasure removes them.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.cohorts.models import CourseDay, Enrolment
from lms.diary.models import DiaryEntry, WellnessPlan
from lms.diary.services import erase_for, export_for
from lms.extensions import db
from lms.privacy.registry import ERASERS, EXPORTERS, RETENTION_RULES, ExportSection, RetentionRule


def export_diary(user: User) -> list[ExportSection]:
    """The person's reflective diary, wellness plan and diary comments they wrote, as export sections."""
    data = export_for(user)
    plan = data["wellness_plan"]
    check_in = "on" if data["diary_settings"]["wellbeing_check_in"] else "off"
    sections = [
        ExportSection("diary_entries", "My reflective diary", data["diary_entries"],
                      "Your diary entries, with their edit history, who you shared them with and the comments "
                      f"on them. Wellbeing check-in: {check_in}.",
                      order=40),
        ExportSection("wellness_plan", "My wellness plan", plan["versions"] if plan else [],
                      ("Every saved version of your wellness plan. "
                       + (f"Shared with {plan['shared_with']}." if plan and plan["shared_with"] else "Not shared.")),
                      order=41),
    ]
    if data["diary_comments_written"]:
        sections.append(ExportSection("diary_comments_written", "Comments I wrote on trainees’ diary entries",
                                      data["diary_comments_written"], order=42))
    return sections


def erase_diary(user: User) -> None:
    """Remove the person's diary and wellness plan (flushes, never commits)."""
    erase_for(user)


def purge_old_diaries(months: int, today: date, apply: bool) -> int:
    """Diaries and wellness plans of trainees whose every course ended more than ``months`` months ago.

    A trainee still enrolled in a cohort with days to come keeps everything,
    whatever their earlier cohorts. Returns how many trainees' diaries are past
    the limit; with ``apply`` their diary, its history and their wellness plan
    are deleted (only counts are read, never content).
    """
    cut = today - timedelta(days=months * 30)
    last_day = (select(Enrolment.trainee_id).join(CourseDay, CourseDay.cohort_id == Enrolment.cohort_id)
                .group_by(Enrolment.trainee_id).having(func.max(CourseDay.date) < cut))
    holders = select(DiaryEntry.trainee_id).union(select(WellnessPlan.trainee_id)).subquery()
    trainee_ids = list(db.session.execute(
        select(holders.c.trainee_id).where(holders.c.trainee_id.in_(last_day))).scalars())
    if apply:
        for trainee in db.session.execute(select(User).where(User.id.in_(trainee_ids))).scalars():
            erase_for(trainee)
    return len(trainee_ids)


EXPORTERS.append(export_diary)
ERASERS.append(erase_diary)
RETENTION_RULES.append(RetentionRule(
    key="diaries", label="Reflective diaries and wellness plans",
    description=("Deleted this many months after the trainee's last course day (a trainee with course days still "
                 "to come keeps theirs). Leave blank to keep them until the trainee asks for erasure."),
    default_months=None, purge=purge_old_diaries))
