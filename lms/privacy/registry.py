"""How each domain plugs its personal data into export, erasure and retention.

A domain that keeps personal data adds to the three lists below from a module
of its own named ``lms/<domain>/personal_data.py``. Every such module is
imported (``load_plugins()``) before an export, an erasure or a retention run,
so appending at import time is all it takes::

    # lms/diary/personal_data.py
    from lms.privacy.registry import ERASERS, EXPORTERS, RETENTION_RULES, ExportSection, RetentionRule

    def export_diary(user) -> list[ExportSection]:
        entries = ...  # the person's own diary entries, decrypted
        return [ExportSection("diary", "My reflective diary", [{"written": e.created_at, "text": ...}], order=40)]

    def erase_diary(user) -> None:
        ...  # delete (or pseudonymise) the person's rows; flush, never commit

    def purge_old_entries(months: int, today: date, apply: bool) -> int:
        ...  # rows past the limit: delete them when ``apply``; return how many

    EXPORTERS.append(export_diary)
    ERASERS.append(erase_diary)
    RETENTION_RULES.append(RetentionRule(
        key="diary_entries", label="Reflective diary entries", default_months=12,
        description="Deleted this many months after the trainee's course ends.", purge=purge_old_entries))

Rules for plug-ins:

- An exporter returns the person's own data only, as JSON-able dicts (dates
  are fine). Health data (diary, wellness plan) goes in the export, since it
  is the person's own, but never in logs or e-mails.
- An eraser removes personal data but keeps what the law and accreditation
  require (marks, the certificate register), pseudonymised: the ``users`` row
  stays, renamed "Erased person #id", so foreign keys and certificate
  verification keep working. Erasers run before the person's row is
  pseudonymised, so ``user.email`` and ``user.display_name`` are still there.
- A retention rule's ``purge`` deletes what is older than the admin's setting
  (``lms retention apply`` runs every rule; a blank setting keeps data).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ExportSection:
    """One part of a person's data export: a page in the zip and a key in the JSON."""

    key: str
    title: str
    records: list[dict] = field(default_factory=list)
    description: str = ""
    order: int = 50


@dataclass(frozen=True)
class RetentionRule:
    """One kind of personal data with a configurable retention period."""

    key: str
    label: str
    description: str
    default_months: int | None
    purge: Callable[[int, date, bool], int] | None = None


EXPORTERS: list[Callable] = []
ERASERS: list[Callable] = []
RETENTION_RULES: list[RetentionRule] = []


def load_plugins() -> None:
    """Import every domain's ``personal_data.py`` so their registrations are in the lists."""
    from lms.domains import modules

    modules("personal_data")
