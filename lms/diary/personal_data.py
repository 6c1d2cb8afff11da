"""The diary's part of a person's data export and of an approved erasure.

Registered with lms.privacy.registry, which imports this module before an
export or an erasure. Diary entries and wellness plans are the person's own
health data: they go into their export (decrypted, for them alone) and an
approved erasure removes them.
"""

from __future__ import annotations

from lms.accounts.models import User
from lms.diary.services import erase_for, export_for
from lms.privacy.registry import ERASERS, EXPORTERS, ExportSection


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


EXPORTERS.append(export_diary)
ERASERS.append(erase_diary)
