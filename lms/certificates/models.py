"""The certificate register, the names trainees confirm for it, and issuing batches.

A certificate row keeps everything its verification page shows (the holder's
name as printed, the award, credits, level, course, provider, dates), so a
certificate stays verifiable after the trainee's account is erased. The
history of every change is in the audit log (object type ``certificate``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.cohorts.models import Cohort, Enrolment
from lms.database import UTCDateTime, utcnow
from lms.extensions import db


class Certificate(db.Model):
    """One issued certificate: valid, revoked, or reissued (replaced by another)."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # PSW-2026-000123; set in the same transaction as the row, from its id.
    serial: Mapped[str | None] = mapped_column(String(30), unique=True)
    # Compact form (no dashes) of the verification code.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    # The Open Badges credential's id is urn:uuid:<credential_uuid>.
    credential_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    # Set to "<enrolment id>:<award>" while the certificate is valid and to NULL
    # otherwise: a unique column that NULLs do not collide in, so the database
    # itself refuses a second valid certificate for the same award, even from
    # two issuing runs at the same moment (SQLite and PostgreSQL alike).
    live_key: Mapped[str | None] = mapped_column(String(40), unique=True)

    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id", ondelete="SET NULL"), index=True)
    trainee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("board_decisions.id", ondelete="SET NULL"), index=True)

    # What the certificate says, kept as issued.
    holder_name: Mapped[str] = mapped_column(String(200))
    award: Mapped[str] = mapped_column(String(20))           # credit or completion
    title: Mapped[str] = mapped_column(String(200))          # "Certificate in Peer Support Work"
    course_slug: Mapped[str] = mapped_column(String(80))
    course_title: Mapped[str] = mapped_column(String(200))
    credits: Mapped[int] = mapped_column(default=0)
    level: Mapped[int]
    framework: Mapped[str] = mapped_column(String(40))
    notional_hours: Mapped[int] = mapped_column(default=0)
    awarding_body: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str] = mapped_column(String(200), default="")
    awarded_on: Mapped[date] = mapped_column(Date)          # the exam board's date
    # The transcript: the credit-bearing assessment with its recorded mark and flags.
    assessment_title: Mapped[str] = mapped_column(String(200), default="")
    recorded_mark: Mapped[int | None]
    flags: Mapped[str] = mapped_column(String(40), default="")

    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    # valid, revoked or reissued
    status: Mapped[str] = mapped_column(String(20), default="valid", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id", ondelete="SET NULL"))

    # The stored PDF: a random file name under LMS_UPLOAD_DIR/certificates/ and its SHA-256.
    pdf_file: Mapped[str | None] = mapped_column(String(80))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enrolment: Mapped[Enrolment | None] = relationship()
    trainee: Mapped[User | None] = relationship(foreign_keys=[trainee_id])
    cohort: Mapped[Cohort | None] = relationship()
    replaced_by: Mapped[Certificate | None] = relationship(remote_side=[id])


class CertificateName(db.Model):
    """The name a trainee has confirmed for their certificate (it may differ from their display name)."""

    __tablename__ = "certificate_names"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class CertificateBatch(db.Model):
    """One run of issuing a cohort's certificates, with its progress."""

    __tablename__ = "certificate_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # queued, running, finished or failed
    status: Mapped[str] = mapped_column(String(20), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)        # certificates issued by this run
    skipped: Mapped[int] = mapped_column(default=0)     # already issued (by another run, say)
    failed: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether trainees who had not confirmed their name were issued too (with their LMS name),
    # as the admin chose; otherwise they wait and are asked to confirm.
    include_unconfirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The enrolments the admin saw in the preview and confirmed (JSON list): the run issues for these
    # only, so nothing that became ready after the admin looked goes out unseen. Null: every one ready.
    enrolment_ids: Mapped[str | None] = mapped_column(Text)

    cohort: Mapped[Cohort] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def handled(self) -> int:
        return self.done + self.skipped + self.failed

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")
