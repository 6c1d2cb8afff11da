"""Column types and engine settings shared by every domain's models."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, PostgreSQL keeps ``timestamptz``; either way the
    application only ever sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Timestamps must be timezone-aware (UTC).")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL for concurrent readers and enforced foreign keys on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


_RAISELOAD_INSTALLED = False


def raise_on_lazy_load() -> None:
    """Make every relationship not loaded eagerly raise during a request (tests).

    Pages must load what they show in a bounded number of queries; an
    accidental lazy load in a loop is an N+1, so tests turn it into an error.
    """
    from flask import has_request_context
    from sqlalchemy.orm import Session, raiseload

    global _RAISELOAD_INSTALLED
    if _RAISELOAD_INSTALLED:
        return
    _RAISELOAD_INSTALLED = True

    @event.listens_for(Session, "do_orm_execute")
    def _add_raiseload(state):
        if has_request_context() and state.is_select and not state.is_relationship_load \
                and not state.is_column_load:
            state.statement = state.statement.options(raiseload("*"))


# Objects the app creates itself, outside SQLAlchemy's metadata (full-text search
# tables and indexes); Alembic leaves them alone.
UNMANAGED_PREFIXES = ("board_posts_fts", "ix_board_posts_body_fts")


def managed_by_alembic(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic ``include_object`` hook: skip the objects listed in UNMANAGED_PREFIXES."""
    return not (name or "").startswith(UNMANAGED_PREFIXES)
