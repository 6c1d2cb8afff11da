"""Exam boards and their decisions: what makes a provisional outcome final.

The progress domain proposes outcomes from the rules engine; an exam board
records decisions on them. Ratification locks the outcomes (a change after it
is a recorded correction: a new decision row pointing at the one it corrects)
and makes the cohort ready for certificates.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.cohorts.models import Cohort, Enrolment
from lms.database import UTCDateTime, utcnow
from lms.extensions import db


class ExamBoard(db.Model):
    __tablename__ = "exam_boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    members: Mapped[str] = mapped_column(Text, default="")          # names and roles, one per line
    external_examiner_comments: Mapped[str] = mapped_column(Text, default="")
    # open (decisions being recorded) or ratified (outcomes locked)
    status: Mapped[str] = mapped_column(String(20), default="open")
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ratified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    cohort: Mapped[Cohort] = relationship()
    decisions: Mapped[list[BoardDecision]] = relationship(back_populates="board", order_by="BoardDecision.id")

    __mapper_args__ = {"version_id_col": version}


class BoardDecision(db.Model):
    """The board's decision on one trainee's outcome."""

    __tablename__ = "board_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("exam_boards.id"), index=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    # ratify, defer, extra_attempt
    decision: Mapped[str] = mapped_column(String(20))
    # The ratified award: credit, completion or none (null unless decision is ratify).
    award: Mapped[str | None] = mapped_column(String(20))
    credits: Mapped[int] = mapped_column(default=0)
    recorded_mark: Mapped[int | None]
    flags: Mapped[str] = mapped_column(String(40), default="")     # e.g. "R L"
    outcome_json: Mapped[str] = mapped_column(Text, default="{}")  # the engine's Outcome as proposed
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A correction after ratification points at the decision it replaces.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("board_decisions.id"))
    superseded: Mapped[bool] = mapped_column(default=False)

    board: Mapped[ExamBoard] = relationship(back_populates="decisions")
    enrolment: Mapped[Enrolment] = relationship()


class SupervisionNote(db.Model):
    """A note from a supervision session, kept by staff; the trainee never sees it."""

    __tablename__ = "supervision_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    author: Mapped[User | None] = relationship()


class MarkSharingConsent(db.Model):
    """Whether a trainee lets their personal supervisor see their marks (off until they say so)."""

    __tablename__ = "mark_sharing_consents"

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), primary_key=True)
    consented: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(db.Model):
    """A bearer token for the read-only API. Only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200), default="progress:read")  # space-separated
    # The person the token acts for: it sees what they may see.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def scope_list(self) -> list[str]:
        """The token's scopes (stored space-separated, so tokens made with one scope keep working)."""
        return (self.scopes or "").split()


class AssessmentOptOut(db.Model):
    """A recorded change to whether a trainee has opted out of assessment; the latest one stands.

    Opting out leads to a certificate of completion without credits. Opting
    back in is another row, so every change is kept with who made it and why.
    """

    __tablename__ = "assessment_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    opted_out: Mapped[bool]
    effective_on: Mapped[date] = mapped_column(Date)  # the day the trainee made the choice
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User | None] = relationship()
