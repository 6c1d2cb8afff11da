"""Personal data use cases: a person downloads everything held about them, asks for erasure
(an admin approves or declines), and admins set how long each kind of data is kept.

Other domains plug in through ``lms.privacy.registry`` (see its docstring).
Services flush; the request commits.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time

from flask import abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import RoleGrant, User
from lms.audit import services as audit
from lms.authz.roles import Role
from lms.cohorts.policies import is_admin
from lms.cohorts.rules import Problem
from lms.database import utcnow
from lms.extensions import db
from lms.notify.services import notify
from lms.privacy import registry
from lms.privacy.models import ErasureRequest, RetentionSetting

MAX_NOTE = 2000


def require_admin(actor: User) -> None:
    if not is_admin(actor):
        abort(403)


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def export_sections(user: User) -> list[registry.ExportSection]:
    registry.load_plugins()
    sections = [section for exporter in registry.EXPORTERS for section in exporter(user)]
    return sorted(sections, key=lambda section: (section.order, section.key))


def export_zip(actor: User, user: User) -> bytes:
    """Everything held about ``user`` as a zip: ``personal-data.json`` and a readable HTML page per section.

    Only the person themself may download it.
    """
    if actor.id != user.id:
        abort(404)
    sections = export_sections(user)
    exported_at = utcnow()
    document = {
        "exported_at": exported_at.isoformat(),
        "person": {"id": user.id, "email": user.email, "name": user.display_name},
        "sections": {section.key: {"title": section.title, "description": section.description,
                                   "records": section.records} for section in sections},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("personal-data.json", json.dumps(document, default=_plain, indent=2, ensure_ascii=False))
        archive.writestr("index.html", render_template("privacy/export_index.html", sections=sections, user=user,
                                                       exported_at=exported_at))
        for section in sections:
            archive.writestr(f"{section.key}.html", render_template(
                "privacy/export_section.html", section=section, user=user, exported_at=exported_at,
                show=_show))
    audit.record(actor, "personal_data.exported", "user", user.id, subject_user_id=user.id,
                 after={"sections": [section.key for section in sections]})
    return buffer.getvalue()


def _show(value) -> str:
    """A value as readable text for the HTML pages of an export."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        from lms.site.templating import format_datetime

        return format_datetime(value)
    if isinstance(value, date):
        return f"{value:%A} {value.day} {value:%B %Y}"
    if isinstance(value, (list, tuple)):
        return "\n".join(_show(item) for item in value) or "—"
    if isinstance(value, dict):
        return "\n".join(f"{key.replace('_', ' ')}: {_show(item)}" for key, item in value.items()) or "—"
    return str(value)


# ---------------------------------------------------------------------------
# Erasure
# ---------------------------------------------------------------------------

def requests_of(user: User) -> list[ErasureRequest]:
    return list(db.session.execute(select(ErasureRequest).where(ErasureRequest.user_id == user.id)
                                   .order_by(ErasureRequest.id.desc())).scalars())


def request_erasure(actor: User, *, note: str, confirmed: bool) -> tuple[ErasureRequest | None, list[Problem]]:
    """Ask for one's own personal data to be erased; admins are told and decide."""
    problems = []
    if not confirmed:
        problems.append(Problem("confirm", "Tick the box to confirm you understand what erasure means."))
    if len(note or "") > MAX_NOTE:
        problems.append(Problem("note", f"Keep your note to {MAX_NOTE:,} characters or fewer."))
    if any(r.status == "pending" for r in requests_of(actor)):
        problems.append(Problem("confirm", "You have already asked. An admin will look at your request soon."))
    if problems:
        return None, problems
    erasure = ErasureRequest(user_id=actor.id, note=(note or "").strip() or None, status="pending")
    db.session.add(erasure)
    db.session.flush()
    audit.record(actor, "erasure.requested", "erasure_request", erasure.id, subject_user_id=actor.id)
    admins = db.session.execute(select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
        RoleGrant.role == Role.ADMIN.value, User.active.is_(True), User.id != actor.id)).scalars().unique()
    for admin in admins:
        # Says only that a request is waiting: who asked is on the page, not in the e-mail.
        notify(admin, "A request to erase personal data is waiting",
               "Someone has asked for their personal data to be erased. Please look at the request.",
               link="/admin/erasure-requests")
    return erasure, []


def erasure_requests(actor: User) -> list[ErasureRequest]:
    """Every erasure request, waiting ones first."""
    require_admin(actor)
    return list(db.session.execute(
        select(ErasureRequest).options(selectinload(ErasureRequest.user), selectinload(ErasureRequest.decided_by))
        .order_by((ErasureRequest.status != "pending"), ErasureRequest.requested_at.desc(), ErasureRequest.id.desc())
        .limit(500)).scalars())


def decide_erasure(actor: User, request_id: int, *, decision: str, note: str) -> list[Problem]:
    """Approve (and carry out) or decline an erasure request."""
    require_admin(actor)
    erasure = db.session.execute(select(ErasureRequest).where(ErasureRequest.id == request_id)
                                 .options(selectinload(ErasureRequest.user))).scalar_one_or_none()
    if erasure is None:
        abort(404)
    if erasure.status != "pending":
        return [Problem("decision", "This request has already been decided.")]
    if erasure.user_id == actor.id:
        return [Problem("decision", "Another admin must decide on your own request.")]
    note = (note or "").strip()
    if decision not in ("approve", "decline"):
        return [Problem("decision", "Choose whether to erase the person's data or decline the request.")]
    if decision == "decline" and not note:
        return [Problem("note", "Say why the request is declined. The person will be told.")]
    if len(note) > MAX_NOTE:
        return [Problem("note", f"Keep the note to {MAX_NOTE:,} characters or fewer.")]
    erasure.decided_by_id = actor.id
    erasure.decided_at = utcnow()
    erasure.decision_note = note or None
    if decision == "decline":
        erasure.status = "declined"
        db.session.flush()
        audit.record(actor, "erasure.refused", "erasure_request", erasure.id, subject_user_id=erasure.user_id,
                     reason=note)
        notify(erasure.user, "Your request to erase your data",
               f"Your request to erase your personal data was not carried out. The reason:\n\n{note}\n\n"
               "If you have questions, contact the course admin.", link="/my-data")
        return []
    erasure.status = "approved"
    erase_person(actor, erasure.user)
    return []


def erase_person(actor: User | None, user: User) -> None:
    """Erase a person's personal data: every domain's eraser, then their account is pseudonymised.

    Marks, enrolments and the certificate register stay, under "Erased person #id".
    """
    from lms.privacy.personal_data import pseudonymise

    registry.load_plugins()
    for eraser in registry.ERASERS:
        eraser(user)
    pseudonymise(user)
    audit.record(actor, "erasure.approved", "user", user.id, subject_user_id=user.id,
                 after={"erased": True, "erasers": [eraser.__module__ for eraser in registry.ERASERS]})


# ---------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RetentionRow:
    rule: registry.RetentionRule
    months: int | None


def retention_rows() -> list[RetentionRow]:
    """Every kind of personal data with a retention rule, and the months it is kept now."""
    registry.load_plugins()
    saved = {s.data_type: s.months for s in db.session.execute(select(RetentionSetting)).scalars()}
    return [RetentionRow(rule, saved[rule.key] if rule.key in saved else rule.default_months)
            for rule in registry.RETENTION_RULES]


MAX_MONTHS = 1200


def save_retention(actor: User, values: dict[str, str]) -> list[Problem]:
    """Save the months for each kind of data in ``values`` (blank keeps it until erasure is asked for)."""
    require_admin(actor)
    rows = retention_rows()
    problems, wanted = [], {}
    for row in rows:
        if row.rule.key not in values:
            continue  # not on the form that was sent: left as it is
        text = (values.get(row.rule.key) or "").strip()
        if not text:
            wanted[row.rule.key] = None
            continue
        try:
            months = int(text)
        except ValueError:
            months = -1
        if not 1 <= months <= MAX_MONTHS:
            problems.append(Problem(f"months-{row.rule.key}", (
                f"Enter the months to keep {row.rule.label.lower()} as a whole number from 1 to {MAX_MONTHS}, "
                "or leave it empty to keep them.")))
        wanted[row.rule.key] = months
    if problems:
        return problems
    before = {row.rule.key: row.months for row in rows if row.rule.key in wanted}
    saved = {s.data_type: s for s in db.session.execute(select(RetentionSetting)).scalars()}
    for key, months in wanted.items():
        setting = saved.get(key)
        if setting is None:
            db.session.add(RetentionSetting(data_type=key, months=months, updated_by_id=actor.id))
        elif setting.months != months:
            setting.months, setting.updated_by_id = months, actor.id
    db.session.flush()
    old, new = audit.changes(before, wanted)
    if new:
        audit.record(actor, "retention.changed", "retention", "settings", before=old, after=new)
    return []


def apply_retention(today: date, *, apply: bool = True) -> list[tuple[RetentionRow, int]]:
    """Run every retention rule that has a limit; returns how many records each removed (or would)."""
    results = []
    for row in retention_rows():
        if row.months is None or row.rule.purge is None:
            continue
        results.append((row, row.rule.purge(row.months, today, apply)))
    db.session.flush()
    return results
