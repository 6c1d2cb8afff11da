"""Writing to and reading the audit log.

Never put diary or wellness-plan text in ``before``/``after``: record that an
entry changed, not what it says.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from lms.extensions import db


def _json(value) -> str | None:
    if value is None:
        return None

    def default(item):
        if isinstance(item, (datetime, date, time)):
            return item.isoformat()
        return str(item)

    return json.dumps(value, default=default, sort_keys=True, ensure_ascii=False)


def record(actor: User | None, action: str, object_type: str, object_id, *, before=None, after=None,
           cohort_id: int | None = None, subject_user_id: int | None = None, reason: str | None = None) -> AuditEvent:
    """Add an audit event; ``before`` and ``after`` are JSON-able dicts of what changed."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None, action=action, object_type=object_type,
        object_id=str(object_id), before=_json(before), after=_json(after), cohort_id=cohort_id,
        subject_user_id=subject_user_id, reason=reason,
    )
    db.session.add(event)
    db.session.flush()
    return event


def changes(old: dict, new: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [key for key in new if old.get(key) != new.get(key)]
    return {key: old.get(key) for key in keys}, {key: new.get(key) for key in keys}


def events(*, person_id: int | None = None, cohort_id: int | None = None, object_type: str | None = None,
           object_id=None, action: str | None = None, limit: int = 50, offset: int = 0) -> list[AuditEvent]:
    """Audit events, newest first, filtered by the person (actor or subject), cohort, object or action."""
    query = select(AuditEvent).options(selectinload(AuditEvent.actor), selectinload(AuditEvent.subject_user))
    if person_id is not None:
        query = query.where((AuditEvent.actor_id == person_id) | (AuditEvent.subject_user_id == person_id))
    if cohort_id is not None:
        query = query.where(AuditEvent.cohort_id == cohort_id)
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    query = query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    return list(db.session.execute(query).scalars())
