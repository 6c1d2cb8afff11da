"""Reflective diary entries, their shares and comments, and wellness plans.

What a trainee writes is never stored in clear: each table keeps it in a
``sealed`` column, encrypted by lms.diary.crypto and bound to its row and its
owner (``__sealed_owner__``). What stays in clear is only what the LMS needs
to find rows: who owns them, dates, the course day number, and who an entry
is shared with.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.database import UTCDateTime, utcnow
from lms.extensions import db

DRAFT = "draft"
SAVED = "saved"


class DataKeyCanary(db.Model):
    """A known value encrypted with the data key, so start-up can tell a wrong key."""

    __tablename__ = "data_key_canaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    sealed: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DiarySettings(db.Model):
    """A trainee's diary choices (one row per trainee, made when they change one)."""

    __tablename__ = "diary_settings"

    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    mood_check_in: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DiaryEntry(db.Model):
    """One reflective diary entry: a draft until the trainee first saves it.

    ``sealed`` holds the saved words (title, body, prompt, tags, wellbeing
    check-in); ``draft_sealed`` holds unsaved changes to a saved entry, kept
    by autosave until the trainee saves or discards them.
    """

    __tablename__ = "diary_entries"
    __sealed_owner__ = "trainee_id"
    # Supervisors' pages count each trainee's saved entries and find the latest: from this index alone.
    __table_args__ = (Index("ix_diary_entries_counts", "trainee_id", "status", "saved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=DRAFT)
    entry_date: Mapped[date] = mapped_column(Date)
    day_number: Mapped[int | None]
    sealed: Mapped[str] = mapped_column(Text, default="")
    draft_sealed: Mapped[str | None] = mapped_column(Text)
    draft_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    trainee: Mapped[User] = relationship()
    shares: Mapped[list[DiaryShare]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", passive_deletes=True, order_by="DiaryShare.id")
    comments: Mapped[list[DiaryComment]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", passive_deletes=True,
        order_by="DiaryComment.id")
    versions: Mapped[list[DiaryEntryVersion]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", passive_deletes=True,
        order_by="DiaryEntryVersion.id")


class DiaryEntryVersion(db.Model):
    """The words of an entry as they were at one save: the trainee's edit history."""

    __tablename__ = "diary_entry_versions"
    __sealed_owner__ = "trainee_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("diary_entries.id", ondelete="CASCADE"), index=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sealed: Mapped[str] = mapped_column(Text, default="")

    entry: Mapped[DiaryEntry] = relationship(back_populates="versions")


class DiaryShare(db.Model):
    """An entry shared with one of the trainee's supervisors, until the trainee withdraws it."""

    __tablename__ = "diary_shares"
    __table_args__ = (UniqueConstraint("entry_id", "supervisor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("diary_entries.id", ondelete="CASCADE"), index=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # academic_supervisor or personal_supervisor: how the supervisor was linked when shared
    relationship_to_trainee: Mapped[str] = mapped_column(String(30))
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entry: Mapped[DiaryEntry] = relationship(back_populates="shares")
    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id])
    trainee: Mapped[User] = relationship(foreign_keys=[trainee_id])

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class DiaryComment(db.Model):
    """A supervisor's comment on a shared entry. Seen by the trainee and its author only."""

    __tablename__ = "diary_comments"
    __sealed_owner__ = "trainee_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("diary_entries.id", ondelete="CASCADE"), index=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Kept (as "a former supervisor") when the author's own data is erased.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sealed: Mapped[str] = mapped_column(Text, default="")

    entry: Mapped[DiaryEntry] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class WellnessPlan(db.Model):
    """A trainee's wellness plan: one per trainee, its words kept in dated versions."""

    __tablename__ = "wellness_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The personal supervisor the plan is shared with, if any.
    shared_with_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    trainee: Mapped[User] = relationship(foreign_keys=[trainee_id])
    shared_with: Mapped[User | None] = relationship(foreign_keys=[shared_with_id])
    versions: Mapped[list[WellnessPlanVersion]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", passive_deletes=True,
        order_by="WellnessPlanVersion.number")


class WellnessPlanVersion(db.Model):
    """The whole plan as saved at one time; the newest is the plan in use."""

    __tablename__ = "wellness_plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)
    __sealed_owner__ = "trainee_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("wellness_plans.id", ondelete="CASCADE"), index=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sealed: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[WellnessPlan] = relationship(back_populates="versions")


# Every encrypted column, for key rotation, export and the raw-database test.
# The canary comes last so that an interrupted rotation leaves it under the old key.
SEALED_COLUMNS: list[tuple[type, str]] = [
    (DiaryEntry, "sealed"),
    (DiaryEntry, "draft_sealed"),
    (DiaryEntryVersion, "sealed"),
    (DiaryComment, "sealed"),
    (WellnessPlanVersion, "sealed"),
    (DataKeyCanary, "sealed"),
]
