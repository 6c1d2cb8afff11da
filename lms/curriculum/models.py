"""The course as the database holds it: content versions, units, and trainees' progress.

Pages read the active ``CourseVersion`` (the whole course as JSON), never the
files under ``courses/``, so a broken file on disk cannot break a page. Units
are rows of their own so that progress can refer to them and outlive a
version that no longer has them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import UTCDateTime, utcnow
from lms.extensions import db


class CourseVersion(db.Model):
    """One distinct content of a course, as loaded by ``lms course sync``.

    ``content`` is the whole ``lms.content.Course`` serialised as JSON; exactly
    one version of a course is ``active`` at a time.
    """

    __tablename__ = "course_versions"
    __table_args__ = (UniqueConstraint("course_slug", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_slug: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(default=False)


class CourseUnit(db.Model):
    """A unit (session) of a course day, keyed by the id written in its heading.

    A unit the newest version no longer has is archived (``archived_at`` set)
    rather than deleted when trainees have progress on it.
    """

    __tablename__ = "course_units"
    __table_args__ = (UniqueConstraint("course_slug", "unit_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_slug: Mapped[str] = mapped_column(String(80), index=True)
    unit_key: Mapped[str] = mapped_column(String(120))
    day_number: Mapped[int]
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UnitProgress(db.Model):
    """A trainee (through their enrolment) has marked a unit as done."""

    __tablename__ = "unit_progress"
    __table_args__ = (UniqueConstraint("enrolment_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("course_units.id"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[CourseUnit] = relationship()
