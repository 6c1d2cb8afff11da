"""Requests to erase personal data, and how long each kind of personal data is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.database import UTCDateTime, utcnow
from lms.extensions import db


class ErasureRequest(db.Model):
    """A person's request to have their personal data erased; an admin approves or declines it."""

    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the person wrote; cleared when their data is erased.
    note: Mapped[str | None] = mapped_column(Text)
    # pending, approved (and carried out), declined
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class RetentionSetting(db.Model):
    """How many months one kind of personal data is kept (see ``lms.privacy.registry.RETENTION_RULES``)."""

    __tablename__ = "retention_settings"

    data_type: Mapped[str] = mapped_column(String(60), primary_key=True)
    # None: kept until someone asks for it to be erased.
    months: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
