"""Load a course folder into the database, and read the active course back.

``sync_course`` stores a valid course as a new ``CourseVersion`` when its
content changed (an unchanged course is left alone, so syncing is
idempotent), keeps one ``CourseUnit`` row per unit id, and refuses, before
writing anything, a course that is invalid or that would drop a unit trainees
have progress on (unless asked to archive it). ``active_course`` gives pages
the course from the database, cached per process by content hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, update

from lms.content import load_course
from lms.content.model import (
    Assessment,
    Band,
    Competence,
    CoreArea,
    Course,
    Criterion,
    Day,
    LearningOutcome,
    Lexicon,
    LexiconTerm,
    Principle,
    Problem,
    Unit,
)
from lms.curriculum.models import CourseUnit, CourseVersion, UnitProgress
from lms.database import utcnow
from lms.extensions import db


@dataclass
class SyncResult:
    """What ``sync_course`` did, or why it refused.

    ``problems`` holds content problems (the course was invalid);
    ``refusals`` holds reasons the database was left unchanged although the
    course itself is valid (a unit with progress would disappear).
    """

    path: str
    course: Course | None = None
    problems: list[Problem] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    new_version: bool = False
    reactivated: bool = False
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.refusals

    @property
    def changed(self) -> bool:
        return bool(self.new_version or self.reactivated or self.added or self.updated
                    or self.removed or self.archived or self.restored)

    def summary(self) -> str:
        """One line for people running the command."""
        if self.problems:
            return (f"{self.path}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''} "
                    "found. Nothing was changed: the course already loaded keeps working.")
        if self.refusals:
            return f"{self.path}: not loaded. Nothing was changed: the course already loaded keeps working."
        course = self.course
        what = f"{course.slug} version {course.version} ({len(course.days)} days, {len(course.units)} units)"
        if not self.changed:
            return f"{what} is already up to date."
        details = [f"{len(items)} {label}" for label, items in (
            ("added", self.added), ("changed", self.updated), ("removed", self.removed),
            ("archived", self.archived), ("restored", self.restored)) if items]
        verb = "Loaded new content for" if self.new_version else "Updated"
        return f"{verb} {what}" + (f": units {', '.join(details)}." if details else ".")


# ---------------------------------------------------------------------------
# Serialising the course
# ---------------------------------------------------------------------------

def course_json(course: Course) -> str:
    """The whole course as canonical JSON (``dataclasses.asdict``, keys sorted)."""
    return json.dumps(dataclasses.asdict(course), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


def content_hash(serialised: str) -> str:
    return hashlib.sha256(serialised.encode("utf-8")).hexdigest()


def course_from_json(serialised: str) -> Course:
    """Rebuild the frozen ``Course`` from ``course_json`` output."""
    data = json.loads(serialised)
    return Course(
        slug=data["slug"], title=data["title"], version=data["version"], summary=data["summary"],
        level=data["level"], credits=data["credits"], framework=data["framework"],
        award_title=data["award_title"], notional_hours=data["notional_hours"],
        day_count=data["day_count"], awarding_body=data["awarding_body"],
        delivering_provider=data["delivering_provider"], assessments_key=data["assessments_key"],
        principles=tuple(Principle(**item) for item in data["principles"]),
        core_areas=tuple(CoreArea(**item) for item in data["core_areas"]),
        outcomes=tuple(LearningOutcome(**item) for item in data["outcomes"]),
        competences=tuple(Competence(**item) for item in data["competences"]),
        days=tuple(_day(item) for item in data["days"]),
        lexicon=Lexicon(terms=tuple(
            LexiconTerm(**{**term, "variants": tuple(term["variants"])})
            for term in data["lexicon"]["terms"])),
        assessments=tuple(_assessment(item) for item in data["assessments"]),
    )


def _day(data: dict) -> Day:
    tuples = ("core_areas", "principles", "outcomes", "competences", "content_notes", "topics")
    return Day(**{
        **data,
        **{name: tuple(data[name]) for name in tuples},
        "units": tuple(Unit(**{**unit, "prompts": tuple(unit["prompts"])}) for unit in data["units"]),
    })


def _assessment(data: dict) -> Assessment:
    return Assessment(**{
        **data,
        "submission_types": tuple(data["submission_types"]),
        "outcomes": tuple(data["outcomes"]),
        "rubric": tuple(Criterion(**{**criterion, "bands": tuple(Band(**band) for band in criterion["bands"])})
                        for criterion in data["rubric"]),
    })


# ---------------------------------------------------------------------------
# Syncing
# ---------------------------------------------------------------------------

def sync_course_folder(path: str | os.PathLike, archive: bool = False) -> SyncResult:
    """Validate the course folder at ``path`` and, when it is valid, sync it (flushes, never commits)."""
    course, problems = load_course(path)
    if course is None:
        return SyncResult(path=str(path), problems=problems)
    return sync_course(course, archive=archive, path=str(path))


def sync_course(course: Course, archive: bool = False, path: str = "") -> SyncResult:
    """Store a valid course in the database (flushes, never commits).

    A new ``CourseVersion`` is added when the content differs from every
    version stored; a stored version with the same content is made active
    again. Units are added, updated, restored or removed to match. A unit that
    trainees have progress on and that the course no longer has is refused
    unless ``archive`` is true, in which case it is archived and the progress
    kept. Nothing is written when the sync is refused.
    """
    result = SyncResult(path=path or course.slug, course=course)
    serialised = course_json(course)
    digest = content_hash(serialised)

    rows = {row.unit_key: row for row in db.session.execute(
        select(CourseUnit).where(CourseUnit.course_slug == course.slug)).scalars()}
    wanted = {unit.id: (day.number, position, unit.title)
              for day in course.days for position, unit in enumerate(day.units, start=1)}
    gone = [row for key, row in rows.items() if key not in wanted and row.archived_at is None]
    progress = _progress_counts([row.id for row in gone])
    with_progress = [row for row in gone if progress.get(row.id)]
    if with_progress and not archive:
        for row in with_progress:
            count = progress[row.id]
            result.refusals.append(
                f"The unit '{row.unit_key}' (day {row.day_number}, \"{row.title}\") is not in this version, "
                f"but {count} trainee{' has' if count == 1 else 's have'} marked it done. Put it back, or run "
                "the sync again with --archive to archive it and keep their progress.")
        return result

    now = utcnow()
    for row in gone:
        if progress.get(row.id):
            row.archived_at = now
            result.archived.append(row.unit_key)
        else:
            db.session.delete(row)
            result.removed.append(row.unit_key)
    for key, (day_number, position, title) in wanted.items():
        row = rows.get(key)
        if row is None:
            db.session.add(CourseUnit(course_slug=course.slug, unit_key=key, day_number=day_number,
                                      position=position, title=title[:300]))
            result.added.append(key)
            continue
        if row.archived_at is not None:
            row.archived_at = None
            result.restored.append(key)
        if (row.day_number, row.position, row.title) != (day_number, position, title[:300]):
            row.day_number, row.position, row.title = day_number, position, title[:300]
            result.updated.append(key)

    stored = db.session.execute(
        select(CourseVersion.id, CourseVersion.active)
        .where(CourseVersion.course_slug == course.slug, CourseVersion.content_hash == digest)
    ).one_or_none()
    if stored is None or not stored.active:
        db.session.execute(update(CourseVersion).where(CourseVersion.course_slug == course.slug)
                           .values(active=False))
    if stored is None:
        db.session.add(CourseVersion(course_slug=course.slug, version=course.version[:40],
                                     content_hash=digest, content=serialised, loaded_at=now, active=True))
        result.new_version = True
    elif not stored.active:
        db.session.execute(update(CourseVersion).where(CourseVersion.id == stored.id).values(active=True))
        result.reactivated = True
    db.session.flush()
    _remember(digest, course)
    return result


def _progress_counts(unit_ids: list[int]) -> dict[int, int]:
    if not unit_ids:
        return {}
    return dict(db.session.execute(
        select(UnitProgress.unit_id, func.count(UnitProgress.id))
        .where(UnitProgress.unit_id.in_(unit_ids)).group_by(UnitProgress.unit_id)
    ).all())


def course_folders(courses_dir: str | os.PathLike) -> list[Path]:
    """Every course folder (one holding a course.toml) directly under ``courses_dir``."""
    root = Path(courses_dir)
    if not root.is_dir():
        return []
    return sorted(folder for folder in root.iterdir() if (folder / "course.toml").is_file())


# ---------------------------------------------------------------------------
# Reading the active course
# ---------------------------------------------------------------------------

# Parsed courses by content hash. A hash names one content for ever, so an
# entry never goes stale; a new sync simply makes pages ask for another hash.
_CACHE: OrderedDict[str, Course] = OrderedDict()
_CACHE_SIZE = 8


def _remember(digest: str, course: Course) -> None:
    _CACHE[digest] = course
    _CACHE.move_to_end(digest)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def active_course(slug: str) -> Course | None:
    """The active version of a course from the database, or None when none is loaded.

    One small query for the active hash; the content is parsed only the first
    time this process sees that hash.
    """
    digest = db.session.execute(
        select(CourseVersion.content_hash)
        .where(CourseVersion.course_slug == slug, CourseVersion.active.is_(True))
        .order_by(CourseVersion.loaded_at.desc()).limit(1)
    ).scalar_one_or_none()
    if digest is None:
        return None
    course = _CACHE.get(digest)
    if course is None:
        serialised = db.session.execute(
            select(CourseVersion.content)
            .where(CourseVersion.course_slug == slug, CourseVersion.content_hash == digest)
        ).scalar_one()
        course = course_from_json(serialised)
        _remember(digest, course)
    return course


def active_version(slug: str) -> CourseVersion | None:
    """The active version row (without needing its content), or None."""
    return db.session.execute(
        select(CourseVersion).where(CourseVersion.course_slug == slug, CourseVersion.active.is_(True))
        .order_by(CourseVersion.loaded_at.desc()).limit(1)
    ).scalar_one_or_none()
