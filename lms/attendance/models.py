"""Registers, register marks, self check-in codes, catch-ups, alerts and calendar feed tokens."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.cohorts.models import CourseDay
from lms.database import UTCDateTime, utcnow
from lms.extensions import db


class AttendanceSettings(db.Model):
    """How a cohort takes attendance: whether trainees may check themselves in, and for how long."""

    __tablename__ = "attendance_settings"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True)
    self_check_in: Mapped[bool] = mapped_column(default=False)
    # The check-in code works from the start of the day for this many minutes.
    check_in_minutes: Mapped[int] = mapped_column(default=60)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Register(db.Model):
    """The register of one course day: who took it, and a version for optimistic locking.

    Its marks are `RegisterMark` rows. Every save of the register updates this
    row, so a second tutor saving an older version is refused rather than
    silently overwriting the first.
    """

    __tablename__ = "attendance_registers"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_day_id: Mapped[int] = mapped_column(ForeignKey("course_days.id", ondelete="CASCADE"), unique=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    course_day: Mapped[CourseDay] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}


class RegisterMark(db.Model):
    """One trainee's attendance on one course day."""

    __tablename__ = "attendance_marks"
    __table_args__ = (UniqueConstraint("course_day_id", "trainee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_day_id: Mapped[int] = mapped_column(ForeignKey("course_days.id", ondelete="CASCADE"), index=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # A value of lms.attendance.rules.Status.
    status: Mapped[str] = mapped_column(String(20), default="unmarked")
    minutes_missed: Mapped[int] = mapped_column(default=0)
    absence_reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # Set when the trainee checked themselves in with the day's code.
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # False while a self check-in waits for a tutor to confirm it in the register.
    confirmed: Mapped[bool] = mapped_column(default=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CheckInCode(db.Model):
    """The short code trainees enter to check themselves in on a course day."""

    __tablename__ = "attendance_check_in_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_day_id: Mapped[int] = mapped_column(ForeignKey("course_days.id", ondelete="CASCADE"), unique=True)
    code: Mapped[str] = mapped_column(String(12), index=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CatchUp(db.Model):
    """A catch-up for a course day a trainee missed: a task, or a session with a time and place.

    It counts towards attendance (within the rules' cap) once a tutor has
    confirmed it was done.
    """

    __tablename__ = "attendance_catch_ups"
    __table_args__ = (UniqueConstraint("course_day_id", "trainee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_day_id: Mapped[int] = mapped_column(ForeignKey("course_days.id", ondelete="CASCADE"), index=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "task" or "session"
    on_date: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[time | None] = mapped_column(Time)
    ends_at: Mapped[time | None] = mapped_column(Time)
    venue: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    completed: Mapped[bool] = mapped_column(default=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course_day: Mapped[CourseDay] = relationship()
    trainee: Mapped[User] = relationship(foreign_keys=[trainee_id])


class AttendanceAlert(db.Model):
    """Records that staff were told a trainee can no longer reach the threshold, so it happens once."""

    __tablename__ = "attendance_alerts"

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarToken(db.Model):
    """A person's private calendar feed. Only a SHA-256 of the token is kept."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
