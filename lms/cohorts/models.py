"""Cohorts, the schedule of their course days, and who is enrolled."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.database import UTCDateTime, utcnow
from lms.extensions import db


class Cohort(db.Model):
    """One run of a course."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    course_slug: Mapped[str] = mapped_column(String(80))
    start_date: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(default=16)
    # planned, running, finished, archived
    status: Mapped[str] = mapped_column(String(20), default="planned")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic locking: a save with an older version is refused, never lost.
    version: Mapped[int] = mapped_column(default=1)

    days: Mapped[list[CourseDay]] = relationship(
        back_populates="cohort", order_by="CourseDay.number", cascade="all, delete-orphan"
    )
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="cohort")

    __mapper_args__ = {"version_id_col": version}


class CourseDay(db.Model):
    """A scheduled course day of a cohort (day 1 to 11 for the peer support course)."""

    __tablename__ = "course_days"
    __table_args__ = (UniqueConstraint("cohort_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    date: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    venue: Mapped[str] = mapped_column(Text, default="")

    cohort: Mapped[Cohort] = relationship(back_populates="days")


class Enrolment(db.Model):
    """A trainee in a cohort, with their academic and personal supervisors."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("cohort_id", "trainee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    academic_supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    personal_supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # active, deferred, withdrawn, transferred, completed
    status: Mapped[str] = mapped_column(String(20), default="active")
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Why and when the status last changed (a withdrawal's reason and date, say).
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_on: Mapped[date | None] = mapped_column(Date)
    # A transfer keeps this enrolment (and its records) and points to the new one.
    transferred_to_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"))

    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    trainee: Mapped[User] = relationship(foreign_keys=[trainee_id])
    academic_supervisor: Mapped[User | None] = relationship(foreign_keys=[academic_supervisor_id])
    personal_supervisor: Mapped[User | None] = relationship(foreign_keys=[personal_supervisor_id])
