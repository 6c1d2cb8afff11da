"""Attendance use cases: registers, self check-in, catch-ups, figures, alerts, exports.

Services take the acting person, check what they may do, apply the pure rules
in `lms.attendance.rules`, and flush; the request commits once. Anything a
person may not see answers 404, exactly like something that does not exist.
"""

from __future__ import annotations

import csv
import io
import secrets
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, url_for
from limits import RateLimitItemPerMinute
from sqlalchemy import String, cast, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from lms import ratelimits
from lms.accounts.models import User
from lms.attendance.models import (
    AttendanceAlert,
    AttendanceSettings,
    CatchUp,
    CheckInCode,
    Register,
    RegisterMark,
)
from lms.attendance.policies import ON_THE_REGISTER, can_check_in, can_take_register, can_view_attendance
from lms.attendance.rules import (
    AttendanceRules,
    Figures,
    Mark,
    Outcome,
    PART_DAY_STATUSES,
    Status,
    check_minutes,
    effective,
    figures,
)
from lms.audit.services import changes, record
from lms.authz.access import object_or_404
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.cohorts.policies import is_admin
from lms.extensions import db
from lms.notify.services import notify

# A register can be taken from an hour before the day starts, never earlier.
REGISTER_OPENS_BEFORE = timedelta(hours=1)
NOTE_LIMIT = 1000
REASON_LIMIT = 500

STATUS_LABELS = {
    Status.UNMARKED: "Not marked yet",
    Status.PRESENT: "Present",
    Status.LATE: "Late",
    Status.LEFT_EARLY: "Left early",
    Status.LATE_AND_LEFT_EARLY: "Late and left early",
    Status.ABSENT: "Absent",
    Status.AUTHORISED_ABSENCE: "Authorised absence",
}
# Symbols sit beside the words, never instead of them.
STATUS_SYMBOLS = {
    Status.UNMARKED: "–",
    Status.PRESENT: "✓",
    Status.LATE: "◔",
    Status.LEFT_EARLY: "◕",
    Status.LATE_AND_LEFT_EARLY: "◑",
    Status.ABSENT: "✗",
    Status.AUTHORISED_ABSENCE: "○",
}
CAUGHT_UP_SYMBOL = "↺"
ENROLMENT_LABELS = {
    "active": "Active", "completed": "Completed", "deferred": "Deferred",
    "withdrawn": "Withdrawn", "transferred": "Transferred",
}


# --- the rules and the course ------------------------------------------------


RULES_PROBLEM = ("The course's rules file ({path}) can't be used, so these figures follow the standard "
                 "attendance rules ({required} of {planned} days, up to {catch_ups} catch-ups) and no attendance "
                 "alerts are sent. Ask an admin to fix it: `lms rules validate {path}` lists what is wrong.")
_WARNED: set[str] = set()  # rules-file problems already logged by this process


def course_rules(course_slug: str) -> tuple[AttendanceRules, str | None]:
    """The attendance rules of a course, from the rules the progress engine loaded, and any problem with them.

    The rules are ``assessments/<slug>/rules.toml`` as `lms.progress` reads and
    validates it (its top-level ``days`` and its ``[attendance]`` table), so
    the register and the certificate always agree. When that file is missing
    or invalid, the defaults stand in and the problem comes back as a plain
    message (shown on the staff pages, and logged once), never silently.
    """
    defaults = AttendanceRules()
    try:
        from lms.progress.services import RulesUnavailable
        from lms.progress.services import rules_for as progress_rules
    except ImportError:  # the progress domain is not installed: the defaults are the course's rules
        return defaults, None
    try:
        loaded = progress_rules(course_slug)
    except RulesUnavailable as problem:
        if str(problem) not in _WARNED:  # once per process for each problem, not on every page
            _WARNED.add(str(problem))
            current_app.logger.warning("Attendance rules for %s fall back to the defaults: %s", course_slug, problem)
        relative = f"assessments/{course_slug}/rules.toml"
        return defaults, RULES_PROBLEM.format(path=relative, required=defaults.required_days,
                                              planned=defaults.planned_days, catch_ups=defaults.max_catch_up_days)
    return AttendanceRules(
        planned_days=loaded.days,
        required_days=loaded.attendance.required_days,
        max_catch_up_days=loaded.attendance.max_catch_up_days,
        absent_if_minutes_missed_over=loaded.attendance.absent_if_minutes_missed_over,
    ), None


def rules_for(course_slug: str) -> AttendanceRules:
    """The attendance rules of a course (see `course_rules`; the defaults while its rules file is broken)."""
    return course_rules(course_slug)[0]


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def day_titles(course_slug: str) -> dict[int, str]:
    """Each course day's title by number, from the front matter of `courses/<slug>/days/*.md`."""
    folder = Path(current_app.config["LMS_COURSES_DIR"]) / course_slug / "days"
    try:
        files = sorted(folder.glob("*.md"))
    except OSError:
        return {}
    return _titles(tuple((str(path), _mtime(path)) for path in files))


@lru_cache(maxsize=16)
def _titles(files: tuple[tuple[str, int], ...]) -> dict[int, str]:
    titles = {}
    for path, _ in files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = text.splitlines()
        if not lines or lines[0].strip() != "+++":
            continue
        try:
            end = next(n for n in range(1, len(lines)) if lines[n].strip() == "+++")
            front = tomllib.loads("\n".join(lines[1:end]))
        except (StopIteration, tomllib.TOMLDecodeError):
            continue
        number, title = front.get("number"), front.get("title")
        if isinstance(number, int) and isinstance(title, str):
            titles[number] = title
    return titles


def day_title(titles: dict[int, str], day: CourseDay) -> str:
    """'Day 3: Strengths spotting', or 'Day 3' when the course files don't say."""
    title = titles.get(day.number)
    return f"Day {day.number}: {title}" if title else f"Day {day.number}"


def path_for(endpoint: str, **values) -> str:
    """A page's path, also outside a request (the demo and the CLI tell people about pages too)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


# --- time --------------------------------------------------------------------


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["LMS_TIMEZONE"])


def at_local(on: date, at: time) -> datetime:
    """A local date and time (Europe/London) as an aware UTC datetime."""
    return datetime.combine(on, at, tzinfo=zone()).astimezone(timezone.utc)


def day_start(day: CourseDay) -> datetime:
    return at_local(day.date, day.starts_at)


def day_end(day: CourseDay) -> datetime:
    return at_local(day.date, day.ends_at)


def register_opens_at(day: CourseDay) -> datetime:
    return day_start(day) - REGISTER_OPENS_BEFORE


def local_today(now: datetime) -> date:
    return now.astimezone(zone()).date()


def clock_time(value: datetime) -> str:
    """'9:30am' in local time."""
    local = value.astimezone(zone())
    hour = local.strftime("%I").lstrip("0")
    return f"{hour}:{local:%M}{local:%p}".replace("AM", "am").replace("PM", "pm")


def when(value: datetime) -> str:
    """'9:30am on Monday 3 March 2026' in local time."""
    local = value.astimezone(zone())
    return f"{clock_time(value)} on {local:%A} {local.day} {local:%B %Y}"


# --- finding cohorts and days ------------------------------------------------


def cohort_to_run(actor: User, slug: str) -> Cohort:
    """A cohort whose registers ``actor`` may take (tutor of it, or admin), with its days; else 404."""
    cohort = db.session.execute(
        select(Cohort).where(Cohort.slug == slug).options(selectinload(Cohort.days))
    ).scalar_one_or_none()
    return object_or_404(cohort, cohort is not None and can_take_register(actor, cohort))


class WrongCohort(Exception):
    """The course day asked for belongs to another cohort."""

    message = "That course day is not part of this cohort. Go back to the cohort and choose one of its days."


def day_of(cohort: Cohort, day_id: int) -> CourseDay:
    """One of the cohort's own days; a day of another cohort raises WrongCohort, none at all 404s."""
    for day in cohort.days:
        if day.id == day_id:
            return day
    if db.session.get(CourseDay, day_id) is not None:
        raise WrongCohort()
    return object_or_404(None, False)


def cohort_settings(cohort: Cohort) -> AttendanceSettings:
    """The cohort's attendance settings (defaults when none are saved yet; not added to the session)."""
    settings = db.session.get(AttendanceSettings, cohort.id)
    return settings if settings is not None else AttendanceSettings(cohort_id=cohort.id, self_check_in=False,
                                                                    check_in_minutes=60)


def save_settings(actor: User, cohort: Cohort, self_check_in: bool, check_in_minutes: int) -> AttendanceSettings:
    """Turn self check-in on or off and set how long the code works (15 to 240 minutes)."""
    object_or_404(cohort, can_take_register(actor, cohort))
    if not 15 <= check_in_minutes <= 240:
        raise ValueError("Enter how many minutes check-in stays open, between 15 and 240.")
    settings = db.session.get(AttendanceSettings, cohort.id)
    before = None
    if settings is None:
        settings = AttendanceSettings(cohort_id=cohort.id)
        db.session.add(settings)
    else:
        before = {"self_check_in": settings.self_check_in, "check_in_minutes": settings.check_in_minutes}
    settings.self_check_in = self_check_in
    settings.check_in_minutes = check_in_minutes
    after = {"self_check_in": self_check_in, "check_in_minutes": check_in_minutes}
    if before != after:
        record(actor, "attendance.settings_changed", "cohort", cohort.id, before=before, after=after,
               cohort_id=cohort.id)
    db.session.flush()
    return settings


# --- the register ------------------------------------------------------------


@dataclass
class RegisterRow:
    """One trainee on a day's register."""

    enrolment: Enrolment
    mark: RegisterMark | None
    catch_up: CatchUp | None = None

    @property
    def trainee(self) -> User:
        return self.enrolment.trainee

    @property
    def on_the_register(self) -> bool:
        return self.enrolment.status in ON_THE_REGISTER

    @property
    def status(self) -> Status:
        return Status(self.mark.status) if self.mark is not None else Status.UNMARKED

    @property
    def waiting_confirmation(self) -> bool:
        return self.mark is not None and not self.mark.confirmed


@dataclass
class RegisterPage:
    """Everything the register page for one course day shows."""

    cohort: Cohort
    day: CourseDay
    title: str
    register: Register | None
    rows: list[RegisterRow]
    opens_at: datetime
    is_open: bool
    settings: AttendanceSettings
    check_in: CheckInCode | None

    @property
    def version(self) -> int:
        return self.register.version if self.register is not None else 0

    @property
    def taken(self) -> bool:
        return self.register is not None


def _enrolments_of(cohort: Cohort) -> list[Enrolment]:
    enrolments = db.session.execute(
        select(Enrolment).where(Enrolment.cohort_id == cohort.id).options(selectinload(Enrolment.trainee))
    ).scalars().all()
    return sorted(enrolments, key=lambda e: (e.trainee.display_name.casefold(), e.trainee_id))


def register_page(actor: User, cohort: Cohort, day: CourseDay, now: datetime) -> RegisterPage:
    """The register of ``day``: every enrolled trainee with their mark, in a fixed number of queries."""
    object_or_404(cohort, can_take_register(actor, cohort))
    enrolments = _enrolments_of(cohort)
    marks = {mark.trainee_id: mark for mark in db.session.execute(
        select(RegisterMark).where(RegisterMark.course_day_id == day.id)).scalars()}
    register = db.session.execute(
        select(Register).where(Register.course_day_id == day.id).options(selectinload(Register.updated_by))
    ).scalar_one_or_none()
    check_in = db.session.execute(
        select(CheckInCode).where(CheckInCode.course_day_id == day.id)).scalar_one_or_none()
    opens_at = register_opens_at(day)
    return RegisterPage(
        cohort=cohort, day=day, title=day_title(day_titles(cohort.course_slug), day), register=register,
        rows=[RegisterRow(e, marks.get(e.trainee_id)) for e in enrolments], opens_at=opens_at,
        is_open=now >= opens_at, settings=cohort_settings(cohort), check_in=check_in,
    )


@dataclass(frozen=True)
class MarkValues:
    """A mark as entered: only the details its status uses are kept."""

    status: Status
    minutes_missed: int = 0
    absence_reason: str = ""
    note: str = ""

    @classmethod
    def of(cls, mark: RegisterMark | None) -> MarkValues:
        if mark is None:
            return cls(Status.UNMARKED)
        return cls(Status(mark.status), mark.minutes_missed, mark.absence_reason, mark.note)

    @property
    def outcome_key(self) -> tuple:
        """What counts for attendance (the note does not)."""
        return (self.status, self.minutes_missed, self.absence_reason)

    def as_dict(self) -> dict:
        return {"status": self.status.value, "minutes_missed": self.minutes_missed,
                "absence_reason": self.absence_reason, "note": self.note}

    def describe(self) -> str:
        """'Late (20 minutes)', 'Authorised absence: family commitment', 'Present'."""
        text = STATUS_LABELS[self.status]
        if self.status in PART_DAY_STATUSES:
            text += f" ({self.minutes_missed} minutes)"
        if self.status is Status.AUTHORISED_ABSENCE and self.absence_reason:
            text += f": {self.absence_reason}"
        return text


class RegisterRefused(Exception):
    """The register was not saved; ``errors`` lists (field id, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(message for _, message in errors))
        self.errors = errors


class RegisterConflict(Exception):
    """Someone saved the register after this form was opened; nothing was saved.

    ``differences`` lists (trainee name, what this form said, what is saved now).
    """

    def __init__(self, register: Register | None, differences: list[tuple[str, str, str]]):
        super().__init__("The register changed since the form was opened.")
        self.register = register
        self.differences = differences


@dataclass
class RegisterSaved:
    changed: int
    first_save: bool
    unreachable: list[Enrolment] = field(default_factory=list)


def _read_mark(row: RegisterRow, entered: dict[str, str], errors: list[tuple[str, str]]) -> MarkValues | None:
    """Check what was entered for one trainee; None (with errors added) when it can't be right."""
    name = row.trainee.display_name
    tid = row.trainee.id
    raw_status = (entered.get("status") or "").strip()
    try:
        status = Status(raw_status)
    except ValueError:
        errors.append((f"status-{tid}", f"Choose present, late, left early, absent or authorised absence "
                                        f"for {name}."))
        return None
    note = (entered.get("note") or "").strip()
    if len(note) > NOTE_LIMIT:
        errors.append((f"note-{tid}", f"Keep the note for {name} under {NOTE_LIMIT} characters."))
        return None
    minutes, reason = 0, ""
    if status in PART_DAY_STATUSES:
        raw_minutes = (entered.get("minutes") or "").strip()
        if not raw_minutes:
            what = {Status.LATE: "arriving late", Status.LEFT_EARLY: "leaving early"}.get(
                status, "arriving late and leaving early (both together)")
            errors.append((f"minutes-{tid}", f"Enter how many minutes {name} missed by {what}, for example 15."))
            return None
        problem = check_minutes(raw_minutes)
        if problem:
            errors.append((f"minutes-{tid}", f"{name}: {problem}"))
            return None
        minutes = int(raw_minutes)
    if status is Status.AUTHORISED_ABSENCE:
        reason = (entered.get("absence_reason") or "").strip()
        if not reason:
            errors.append((f"reason-{tid}", f"Enter the reason for {name}'s authorised absence, "
                                            "for example 'caring responsibilities'."))
            return None
        if len(reason) > REASON_LIMIT:
            errors.append((f"reason-{tid}", f"Keep the reason for {name}'s absence under {REASON_LIMIT} characters."))
            return None
    return MarkValues(status, minutes, reason, note)


def save_register(actor: User, cohort: Cohort, day: CourseDay, submitted: dict[int, dict[str, str]],
                  version: int | None, change_reason: str, now: datetime) -> RegisterSaved:
    """Save the register of ``day``.

    ``submitted`` maps trainee ids to what was entered for them (``status``,
    ``minutes``, ``absence_reason``, ``note``); trainees left out keep their
    mark. ``version`` is the register version the form was opened at. Raises
    RegisterRefused (nothing saved) for anything that can't be right, and
    RegisterConflict when another save came in between and this one would
    change something. A submission that changes nothing is a safe no-op, so
    saving twice is harmless. Changes after the first save are audited, and
    changing a mark already saved needs a reason.
    """
    page = register_page(actor, cohort, day, now)
    if not page.is_open:
        raise RegisterRefused([("register", (
            f"You can't take the register for {page.title} yet. It opens at {when(page.opens_at)}, "
            "an hour before the day starts."))])
    if version is None:
        raise RegisterRefused([("register", "This form is missing its version. Reload the page and try again.")])
    rows = {row.trainee.id: row for row in page.rows}
    errors: list[tuple[str, str]] = []
    entered: dict[int, MarkValues] = {}
    for trainee_id, values in submitted.items():
        row = rows.get(trainee_id)
        if row is None:
            errors.append(("register", "One of the people in this form is not enrolled in this cohort, so they "
                                       "can't be on its register. Reload the page and try again."))
            continue
        if not row.on_the_register:
            errors.append(("register", f"{row.trainee.display_name} is "
                                       f"{ENROLMENT_LABELS.get(row.enrolment.status, row.enrolment.status).lower()} "
                                       "in this cohort, so they can't be marked on its register."))
            continue
        mark = _read_mark(row, values, errors)
        if mark is not None:
            entered[trainee_id] = mark
    if errors:
        raise RegisterRefused(list(dict.fromkeys(errors)))  # each message once

    # What would change. Leaving someone "not marked" never clears a check-in a
    # tutor may not have seen yet.
    edits: list[tuple[RegisterRow, MarkValues, MarkValues]] = []
    confirmations: list[RegisterRow] = []
    for trainee_id, new in entered.items():
        row = rows[trainee_id]
        old = MarkValues.of(row.mark)
        if row.waiting_confirmation and new.status is Status.UNMARKED:
            continue
        if new != old:
            edits.append((row, old, new))
        elif row.waiting_confirmation:
            confirmations.append(row)

    if page.version != version and edits:
        differences = [(row.trainee.display_name, new.describe(), old.describe()) for row, old, new in edits]
        raise RegisterConflict(page.register, differences)
    if not edits and not confirmations:
        return RegisterSaved(changed=0, first_save=False)

    first_save = page.register is None
    reason = (change_reason or "").strip()
    corrections = [row for row, old, new in edits
                   if row.mark is not None and row.mark.confirmed and old.outcome_key != new.outcome_key
                   and old.status is not Status.UNMARKED]
    if corrections and not first_save and not reason:
        names = ", ".join(row.trainee.display_name for row in corrections[:3])
        more = "" if len(corrections) <= 3 else f" and {len(corrections) - 3} more"
        raise RegisterRefused([("change_reason", (
            f"Say why you are changing marks already saved (for {names}{more}), "
            "for example 'arrived late, not absent'."))])
    if len(reason) > REASON_LIMIT:
        raise RegisterRefused([("change_reason", f"Keep the reason for the change under {REASON_LIMIT} characters.")])

    register = page.register
    try:
        with db.session.begin_nested():
            if register is None:
                register = Register(course_day_id=day.id, taken_at=now, taken_by_id=actor.id,
                                    updated_at=now, updated_by_id=actor.id)
                db.session.add(register)
            else:
                register.updated_at = now
                register.updated_by_id = actor.id
                # Always write the row, so its version moves on even if nothing above changed.
                flag_modified(register, "updated_by_id")
            for row, old, new in edits:
                mark = row.mark
                if mark is None:
                    mark = RegisterMark(course_day_id=day.id, trainee_id=row.trainee.id)
                    db.session.add(mark)
                    row.mark = mark
                mark.status = new.status.value
                mark.minutes_missed = new.minutes_missed
                mark.absence_reason = new.absence_reason
                mark.note = new.note
                mark.confirmed = True
                mark.marked_at = now
                mark.marked_by_id = actor.id
            for row in confirmations:
                row.mark.confirmed = True
                row.mark.marked_by_id = actor.id
            db.session.flush()
    except (StaleDataError, IntegrityError):
        # Another save reached the database between our read and our write.
        current = db.session.execute(
            select(Register).where(Register.course_day_id == day.id)).scalar_one_or_none()
        raise RegisterConflict(current, [(row.trainee.display_name, new.describe(), "saved by someone else")
                                         for row, old, new in edits]) from None

    if first_save:
        record(actor, "attendance.register_taken", "register", register.id, after={
            "day": day.number, "marked": sum(1 for _, _, new in edits if new.status is not Status.UNMARKED)},
            cohort_id=cohort.id, reason=reason or None)
    else:
        for row, old, new in edits:
            before, after = changes(old.as_dict(), new.as_dict())
            record(actor, "attendance.mark_changed", "register_mark", row.mark.id, before=before, after=after,
                   cohort_id=cohort.id, subject_user_id=row.trainee.id, reason=reason or None)
        for row in confirmations:
            record(actor, "attendance.check_in_confirmed", "register_mark", row.mark.id,
                   before={"confirmed": False}, after={"confirmed": True}, cohort_id=cohort.id,
                   subject_user_id=row.trainee.id)
    unreachable = check_thresholds(cohort)
    return RegisterSaved(changed=len(edits) + len(confirmations), first_save=first_save, unreachable=unreachable)


# --- self check-in -----------------------------------------------------------

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: easy to read off a screen and type.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
WRONG_CODE_LIMIT = RateLimitItemPerMinute(5, 10)  # 5 wrong codes in 10 minutes per person


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


class CheckInRefused(Exception):
    """Self check-in did not happen; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400, field: str = "code"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


def open_check_in(actor: User, cohort: Cohort, day: CourseDay, now: datetime) -> CheckInCode:
    """Make (or replace) the check-in code for ``day``; it works from the day's start for the set minutes."""
    object_or_404(cohort, can_take_register(actor, cohort))
    settings = cohort_settings(cohort)
    if not settings.self_check_in:
        raise CheckInRefused("Self check-in is turned off for this cohort. Turn it on in the cohort's "
                             "attendance settings first.")
    opens_at = day_start(day)
    closes_at = opens_at + timedelta(minutes=settings.check_in_minutes)
    if now < register_opens_at(day):
        raise CheckInRefused(f"Check-in codes for day {day.number} can be made from {when(register_opens_at(day))}.")
    if now >= closes_at:
        raise CheckInRefused(f"Check-in for day {day.number} closed at {when(closes_at)}. "
                             "Mark the register instead.")
    code = db.session.execute(select(CheckInCode).where(CheckInCode.course_day_id == day.id)).scalar_one_or_none()
    if code is None:
        code = CheckInCode(course_day_id=day.id)
        db.session.add(code)
    code.code = new_code()
    code.opens_at = opens_at
    code.closes_at = closes_at
    code.created_at = now
    code.created_by_id = actor.id
    db.session.flush()
    return code


def _wrong_code_key(user: User) -> str:
    return f"attendance-check-in:{user.id}"


def _guesses_left(user: User) -> CheckInRefused | None:
    key = _wrong_code_key(user)
    if ratelimits.allowed(WRONG_CODE_LIMIT, key):
        return None
    minutes = ratelimits.minutes_until_reset(WRONG_CODE_LIMIT, key)
    unit = "minute" if minutes == 1 else "minutes"
    return CheckInRefused(
        f"That's too many codes that didn't work. Please wait {minutes} {unit} and try again, "
        "or ask your tutor to mark you on the register.", status=429)


@dataclass
class CheckedIn:
    day: CourseDay
    mark: RegisterMark
    already: bool = False


def check_in(actor: User, code_text: str, now: datetime) -> CheckedIn:
    """Mark ``actor`` present on the course day whose open code they entered.

    Wrong and expired codes count towards a limit of 5 in 10 minutes per
    person; past it, every attempt is refused with status 429 until the
    window passes. A tutor's mark is never replaced by a check-in.
    """
    limited = _guesses_left(actor)
    if limited:
        raise limited
    code_text = normalise_code(code_text)
    if not code_text:
        raise CheckInRefused("Enter the code your tutor is showing, for example KM4TQ7.")
    enrolments = {e.cohort_id: e for e in db.session.execute(
        select(Enrolment).where(Enrolment.trainee_id == actor.id)).scalars() if can_check_in(actor, e)}
    found = db.session.execute(
        select(CheckInCode, CourseDay).join(CourseDay, CourseDay.id == CheckInCode.course_day_id)
        .where(CheckInCode.code == code_text, CourseDay.cohort_id.in_(list(enrolments)))
        .order_by(CheckInCode.closes_at.desc())
    ).first()
    if found is None:
        ratelimits.hit(WRONG_CODE_LIMIT, _wrong_code_key(actor))
        raise CheckInRefused("That code isn't right. Check it with your tutor and try again.")
    code, day = found
    settings = db.session.get(AttendanceSettings, day.cohort_id)
    if now < code.opens_at:
        ratelimits.hit(WRONG_CODE_LIMIT, _wrong_code_key(actor))
        raise CheckInRefused(f"Check-in for day {day.number} opens at {when(code.opens_at)}. "
                             "Try the code again then.")
    if now >= code.closes_at or settings is None or not settings.self_check_in:
        ratelimits.hit(WRONG_CODE_LIMIT, _wrong_code_key(actor))
        raise CheckInRefused(f"That code has expired: check-in for day {day.number} closed at "
                             f"{clock_time(code.closes_at)}. Ask your tutor to mark you on the register.")
    mark = db.session.execute(select(RegisterMark).where(
        RegisterMark.course_day_id == day.id, RegisterMark.trainee_id == actor.id)).scalar_one_or_none()
    if mark is not None and (mark.status != Status.UNMARKED or not mark.confirmed):
        return CheckedIn(day, mark, already=True)
    try:
        with db.session.begin_nested():
            if mark is None:
                mark = RegisterMark(course_day_id=day.id, trainee_id=actor.id)
                db.session.add(mark)
            mark.status = Status.PRESENT.value
            mark.minutes_missed = 0
            mark.absence_reason = ""
            mark.checked_in_at = now
            mark.confirmed = False
            mark.marked_at = now
            mark.marked_by_id = actor.id
            db.session.flush()
    except IntegrityError:
        # The tutor saved the register at the same moment: theirs stands.
        mark = db.session.execute(select(RegisterMark).where(
            RegisterMark.course_day_id == day.id, RegisterMark.trainee_id == actor.id)).scalar_one()
        return CheckedIn(day, mark, already=True)
    if db.session.execute(select(Register.id).where(Register.course_day_id == day.id)).first() is not None:
        # The register was saved already: a change to it after the first save is audited, like a tutor's.
        record(actor, "attendance.mark_changed", "register_mark", mark.id, before={"status": Status.UNMARKED.value},
               after={"status": Status.PRESENT.value}, cohort_id=day.cohort_id, subject_user_id=actor.id,
               reason="Self check-in")
    return CheckedIn(day, mark)


def open_check_ins_for(actor: User, now: datetime) -> list[tuple[CourseDay, CheckInCode]]:
    """Course days where ``actor`` could check in right now."""
    rows = db.session.execute(
        select(CourseDay, CheckInCode).join(CheckInCode, CheckInCode.course_day_id == CourseDay.id)
        .join(Enrolment, Enrolment.cohort_id == CourseDay.cohort_id)
        .join(AttendanceSettings, AttendanceSettings.cohort_id == CourseDay.cohort_id)
        .where(Enrolment.trainee_id == actor.id, Enrolment.status.in_(ON_THE_REGISTER),
               AttendanceSettings.self_check_in.is_(True),
               CheckInCode.opens_at <= now, CheckInCode.closes_at > now)
    ).all()
    return [(day, code) for day, code in rows]


# --- figures -----------------------------------------------------------------


@dataclass
class TraineeAttendance:
    """A trainee's attendance in one cohort: each planned day's mark and catch-up, and the figures."""

    enrolment: Enrolment
    days: list[CourseDay]
    marks: list[RegisterMark | None]
    catch_ups: list[CatchUp | None]
    figures: Figures
    rules: AttendanceRules
    # Set when the course's rules file can't be used and the default rules stand in.
    rules_problem: str | None = None

    @property
    def trainee(self) -> User:
        return self.enrolment.trainee

    @property
    def cohort(self) -> Cohort:
        return self.enrolment.cohort

    @property
    def withdrawn(self) -> bool:
        return self.enrolment.status not in ON_THE_REGISTER

    def cells(self):
        """(day, mark, catch-up, outcome) for each scheduled day."""
        return zip(self.days, self.marks, self.catch_ups, self.figures.per_day)


class _MarkFigures(NamedTuple):
    """What the figures read of a register mark (``attendance_of(..., figures_only=True)``)."""

    status: str
    minutes_missed: int


class _CatchUpFigures(NamedTuple):
    completed: bool


def _mark_for_rules(mark: RegisterMark | None, catch_up: CatchUp | None) -> Mark | None:
    if mark is None:
        return None
    return Mark(Status(mark.status), mark.minutes_missed,
                caught_up=catch_up is not None and catch_up.completed)


def _mark_figures(day_ids: set[int], trainee_ids: set[int]) -> dict[tuple[int, int], _MarkFigures]:
    """{(day id, trainee id): status and minutes missed} of the marks, in one query.

    The database joins each trainee's marks into one string ("day:status:minutes,..."), so a caseload
    of 500 trainees comes back as 500 rows rather than 5,500 (about five times quicker to read).
    """
    each = (cast(RegisterMark.course_day_id, String) + ":" + RegisterMark.status + ":"
            + cast(RegisterMark.minutes_missed, String))
    made: dict[tuple[str, str], _MarkFigures] = {}
    marks: dict[tuple[int, int], _MarkFigures] = {}
    for trainee_id, joined in db.session.execute(
            select(RegisterMark.trainee_id, func.aggregate_strings(each, ","))
            .where(RegisterMark.course_day_id.in_(day_ids), RegisterMark.trainee_id.in_(trainee_ids))
            .group_by(RegisterMark.trainee_id)):
        for item in joined.split(","):
            day_id, status, minutes = item.split(":")
            figures = made.get((status, minutes))
            if figures is None:
                figures = made[(status, minutes)] = _MarkFigures(status, int(minutes))
            marks[(int(day_id), trainee_id)] = figures
    return marks


def attendance_of(enrolments: list[Enrolment], *, figures_only: bool = False) -> list[TraineeAttendance]:
    """Figures for each enrolment (cohort and days loaded), in three queries whatever their number.

    With ``figures_only`` the marks and catch-ups are small records of what the figures need
    (status, minutes, completed), read as plain rows: several times quicker for a caseload of
    hundreds. Pages that show reasons or notes leave it off.
    """
    if not enrolments:
        return []
    day_ids = {day.id for e in enrolments for day in e.cohort.days}
    trainee_ids = {e.trainee_id for e in enrolments}
    if figures_only:
        marks = _mark_figures(day_ids, trainee_ids)
        catch_ups = {(day_id, trainee_id): _CatchUpFigures._make(figures) for day_id, trainee_id, *figures
                     in db.session.execute(select(CatchUp.course_day_id, CatchUp.trainee_id, CatchUp.completed)
                                           .where(CatchUp.course_day_id.in_(day_ids),
                                                  CatchUp.trainee_id.in_(trainee_ids)))}
    else:
        marks = {(m.course_day_id, m.trainee_id): m for m in db.session.execute(
            select(RegisterMark).where(RegisterMark.course_day_id.in_(day_ids),
                                       RegisterMark.trainee_id.in_(trainee_ids))).scalars()}
        catch_ups = {(c.course_day_id, c.trainee_id): c for c in db.session.execute(
            select(CatchUp).where(CatchUp.course_day_id.in_(day_ids),
                                  CatchUp.trainee_id.in_(trainee_ids))).scalars()}
    rules_by_course: dict[str, tuple[AttendanceRules, str | None]] = {}
    worked_out: dict[tuple, Figures] = {}
    result = []
    # Each cohort's days and rules, worked out once for all its trainees.
    by_cohort: dict[int, tuple[list[CourseDay], list[int], AttendanceRules, str | None]] = {}
    for enrolment in enrolments:
        cohort = enrolment.cohort
        if cohort.id not in by_cohort:
            if cohort.course_slug not in rules_by_course:
                rules_by_course[cohort.course_slug] = course_rules(cohort.course_slug)
            rules, problem = rules_by_course[cohort.course_slug]
            days = list(cohort.days)
            if len(days) > rules.planned_days:
                rules = replace(rules, planned_days=len(days))
            by_cohort[cohort.id] = (days, [day.id for day in days], rules, problem)
        days, ids_of_days, rules, problem = by_cohort[cohort.id]
        trainee_id = enrolment.trainee_id
        day_marks = [marks.get((day_id, trainee_id)) for day_id in ids_of_days]
        day_catch_ups = [catch_ups.get((day_id, trainee_id)) for day_id in ids_of_days]
        withdrawn = enrolment.status not in ON_THE_REGISTER
        # Many trainees share the same pattern of marks: work each pattern's figures out once.
        # (The rules are named by course and length, not hashed: hashing them for each of 500 trainees costs more
        # than the figures do.)
        key = (tuple((m.status, m.minutes_missed, c is not None and c.completed) if m is not None else None
                     for m, c in zip(day_marks, day_catch_ups)), cohort.course_slug, rules.planned_days, withdrawn)
        found = worked_out.get(key)
        if found is None:
            found = worked_out[key] = figures([_mark_for_rules(m, c) for m, c in zip(day_marks, day_catch_ups)],
                                              rules, withdrawn=withdrawn)
        result.append(TraineeAttendance(
            enrolment=enrolment, days=list(days), marks=day_marks, catch_ups=day_catch_ups, figures=found,
            rules=rules, rules_problem=problem,
        ))
    return result


def _with_cohorts(query):
    return query.options(selectinload(Enrolment.trainee),
                         selectinload(Enrolment.cohort).selectinload(Cohort.days),
                         selectinload(Enrolment.academic_supervisor),
                         selectinload(Enrolment.personal_supervisor))


def staff_to_tell(cohort: Cohort) -> list[User]:
    """Who hears about a trainee out of reach: the cohort's lead tutor, or every tutor while no lead is set.

    Only active accounts. (The trainee's academic supervisor is told as well; see `check_thresholds`.)
    """
    from lms.cohorts.services import cohort_grants, lead_tutor

    lead = lead_tutor(cohort.id)
    if lead is not None:
        return [lead] if lead.active else []
    return [grant.user for grant in cohort_grants(cohort.id).get(Role.TUTOR.value, []) if grant.user.active]


def check_thresholds(cohort: Cohort) -> list[Enrolment]:
    """Tell staff, once, about each trainee who can no longer reach the attendance threshold.

    The trainee's academic supervisor and the cohort's lead tutor (every tutor
    of the cohort while no lead is set, so the warning never goes nowhere) get
    a notification. A trainee who can reach it again (a mark corrected, a
    catch-up confirmed, the rules changed) has their alert cleared, so a later
    drop out of reach alerts again. Nothing happens while the course's rules
    can't be read: no alert is sent or cleared on guessed rules. Runs after
    every register save and every catch-up change. Returns the enrolments
    newly found unreachable.
    """
    enrolments = list(db.session.execute(_with_cohorts(
        select(Enrolment).where(Enrolment.cohort_id == cohort.id, Enrolment.status == "active"))).scalars())
    if not enrolments:
        return []
    alerted = set(db.session.execute(select(AttendanceAlert.enrolment_id).where(
        AttendanceAlert.enrolment_id.in_([e.id for e in enrolments]))).scalars())
    everyone = attendance_of(enrolments)
    if any(a.rules_problem for a in everyone):
        return []
    back_in_reach = [a.enrolment.id for a in everyone if a.figures.reachable and a.enrolment.id in alerted]
    if back_in_reach:
        db.session.execute(delete(AttendanceAlert).where(AttendanceAlert.enrolment_id.in_(back_in_reach)))
    newly = [a for a in everyone if not a.figures.reachable and a.enrolment.id not in alerted]
    if not newly:
        db.session.flush()
        return []
    staff = staff_to_tell(cohort)
    for attendance in newly:
        db.session.add(AttendanceAlert(enrolment_id=attendance.enrolment.id))
        f = attendance.figures
        name = attendance.trainee.display_name
        subject = f"Attendance: {name} can no longer reach {f.required} days"
        body = (f"{name} ({cohort.name}) has {f.counted} of the {f.required} course days needed so far, "
                f"with {f.missed} missed and {f.remaining} still to come. Even with every catch-up that can count, "
                f"the most they can now reach is {f.best_possible}, so another catch-up won't change this. "
                "Please get in touch with them kindly about what can still help: deferring to another cohort "
                "(or transferring to one), talking it through with their academic supervisor, and, if something "
                "outside their control kept them away, mitigating circumstances for the exam board.")
        link = path_for("attendance.trainee", slug=cohort.slug, trainee_id=attendance.trainee.id)
        told = {user.id: user for user in staff}
        supervisor = attendance.enrolment.academic_supervisor
        if supervisor is not None and supervisor.active:
            told.setdefault(supervisor.id, supervisor)
        for user in told.values():
            notify(user, subject, body, link=link)
    db.session.flush()
    return [a.enrolment for a in newly]


# --- views of attendance -----------------------------------------------------

SORTS = ("name", "counted", "reachable")


@dataclass
class Grid:
    """A cohort's grid: trainees by days, with figures."""

    cohort: Cohort
    days: list[CourseDay]
    titles: dict[int, str]
    rows: list[TraineeAttendance]
    rules: AttendanceRules
    sort: str
    descending: bool
    rules_problem: str | None = None


def cohort_grid(actor: User, cohort: Cohort, sort: str = "name", descending: bool = False) -> Grid:
    """The cohort grid for tutors and admins, sorted by name, days counted or reachability."""
    object_or_404(cohort, can_take_register(actor, cohort))
    return build_grid(cohort, sort, descending)


def build_grid(cohort: Cohort, sort: str = "name", descending: bool = False) -> Grid:
    """The grid of ``cohort`` (days loaded) in a fixed number of queries; no access check (the CLI's)."""
    enrolments = list(db.session.execute(
        select(Enrolment).where(Enrolment.cohort_id == cohort.id).options(selectinload(Enrolment.trainee))
    ).scalars())
    for enrolment in enrolments:
        # The cohort is loaded already, with its days: no need to ask again.
        set_committed_value(enrolment, "cohort", cohort)
    rows = attendance_of(enrolments)
    sort = sort if sort in SORTS else "name"

    def by_name(row: TraineeAttendance):
        return (row.trainee.display_name.casefold(), row.trainee.id)

    rows.sort(key=by_name)
    if sort == "counted":
        rows.sort(key=lambda row: row.figures.counted, reverse=descending)
    elif sort == "reachable":
        # Those who can't reach the threshold first by default: they need attention.
        rows.sort(key=lambda row: (row.figures.reachable, row.figures.best_possible), reverse=descending)
    elif descending:
        rows.reverse()
    rules, problem = (rows[0].rules, rows[0].rules_problem) if rows else course_rules(cohort.course_slug)
    return Grid(cohort=cohort, days=list(cohort.days), titles=day_titles(cohort.course_slug), rows=rows,
                rules=rules, sort=sort, descending=descending, rules_problem=problem)


def cell_text(mark: RegisterMark | None, catch_up: CatchUp | None) -> str:
    """A register mark in words: 'Present', 'Late (20 minutes)', 'Absent, caught up'."""
    text = MarkValues.of(mark).describe() if mark is not None else STATUS_LABELS[Status.UNMARKED]
    if mark is not None and mark.status == Status.AUTHORISED_ABSENCE:
        text = STATUS_LABELS[Status.AUTHORISED_ABSENCE]  # reasons stay off grids and exports
    if mark is not None and not mark.confirmed:
        text += " (checked in)"
    if catch_up is not None:
        text += ", caught up" if catch_up.completed else ", catch-up arranged"
    return text


def cell_symbol(mark: RegisterMark | None, catch_up: CatchUp | None) -> str:
    if catch_up is not None and catch_up.completed:
        return CAUGHT_UP_SYMBOL
    return STATUS_SYMBOLS[Status(mark.status) if mark is not None else Status.UNMARKED]


def spreadsheet_safe(value) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r|%":
        return "'" + text
    return text


def grid_csv(grid: Grid) -> str:
    """The grid as CSV: email, name, one column per course day, then counted, missed, remaining, reachable."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["email", "name"] + [f"day {day.number} ({day.date.isoformat()})" for day in grid.days]
                    + ["counted", "missed", "remaining", "reachable"])
    for row in sorted(grid.rows, key=lambda r: (r.trainee.display_name.casefold(), r.trainee.id)):
        f = row.figures
        cells = [cell_text(mark, catch_up).lower() for _, mark, catch_up, _ in row.cells()]
        writer.writerow([spreadsheet_safe(value) for value in
                         [row.trainee.email, row.trainee.display_name, *cells,
                          f.counted, f.missed, f.remaining, "yes" if f.reachable else "no"]])
    return out.getvalue()


def cohort_by_slug(slug: str) -> Cohort | None:
    return db.session.execute(
        select(Cohort).where(Cohort.slug == slug).options(selectinload(Cohort.days))).scalar_one_or_none()


def trainee_attendance(actor: User, slug: str, trainee_id: int) -> TraineeAttendance:
    """One trainee's attendance in a cohort, for staff who may follow them; else 404."""
    enrolment = db.session.execute(_with_cohorts(
        select(Enrolment).join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Cohort.slug == slug, Enrolment.trainee_id == trainee_id))).scalar_one_or_none()
    object_or_404(enrolment, enrolment is not None and can_view_attendance(actor, enrolment))
    return attendance_of([enrolment])[0]


@dataclass
class Overview:
    """What the attendance landing page shows for each role a person holds."""

    mine: list[TraineeAttendance] = field(default_factory=list)
    check_ins: list[tuple[CourseDay, CheckInCode]] = field(default_factory=list)
    teaching: list[Cohort] = field(default_factory=list)
    supervising: list[TraineeAttendance] = field(default_factory=list)
    all_cohorts: list[Cohort] = field(default_factory=list)
    titles: dict[str, dict[int, str]] = field(default_factory=dict)
    # The lead tutor of each cohort where the trainee can no longer reach the threshold (to name them).
    lead_tutors: dict[int, User] = field(default_factory=dict)
    # The trainee's catch-ups still to do, with how far a task has got.
    catch_ups: list[CatchUpToDo] = field(default_factory=list)


def overview_for(actor: User, now: datetime) -> Overview:
    """The attendance page: own attendance, cohorts taught, supervised trainees, every cohort for admins."""
    overview = Overview()
    roles = actor.roles
    if Role.TRAINEE in roles:
        overview.mine = attendance_of(list(db.session.execute(_with_cohorts(
            select(Enrolment).where(Enrolment.trainee_id == actor.id))).scalars()))
        overview.mine.sort(key=lambda a: a.cohort.start_date, reverse=True)
        overview.check_ins = open_check_ins_for(actor, now)
        from lms.cohorts.services import lead_tutor

        for attendance in overview.mine:
            slug = attendance.cohort.course_slug
            overview.titles.setdefault(slug, day_titles(slug))
            if not attendance.withdrawn and not attendance.figures.reachable:
                lead = lead_tutor(attendance.cohort.id)
                if lead is not None and lead.active:
                    overview.lead_tutors[attendance.cohort.id] = lead
        overview.catch_ups = catch_ups_to_do(overview.mine, overview.titles)
    if Role.TUTOR in roles:
        overview.teaching = list(db.session.execute(
            select(Cohort).where(Cohort.id.in_(actor.cohort_ids_for(Role.TUTOR)))
            .order_by(Cohort.start_date.desc())).scalars())
    if roles & {Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR}:
        supervised = db.session.execute(_with_cohorts(select(Enrolment).where(
            (Enrolment.academic_supervisor_id == actor.id) | (Enrolment.personal_supervisor_id == actor.id)
        ))).scalars().all()
        overview.supervising = attendance_of(list(supervised))
        overview.supervising.sort(key=lambda a: (a.trainee.display_name.casefold(), a.trainee.id))
        overview.supervising.sort(key=lambda a: a.cohort.start_date, reverse=True)
    if is_admin(actor):
        overview.all_cohorts = list(db.session.execute(
            select(Cohort).order_by(Cohort.start_date.desc())).scalars())
    return overview


# --- catch-ups -----------------------------------------------------------------

CATCH_UP_KINDS = {"task": "Catch-up task", "session": "Catch-up session"}


@dataclass(frozen=True)
class TaskProgress:
    """How far a catch-up task has got: the day's units the trainee marked done, and their diary entries on it.

    Unit titles (course content) and a count of diary entries linked to the
    day: never anything a diary entry says.
    """

    day_number: int
    units: tuple[tuple[str, bool], ...]  # (unit title, marked done), in course order
    diary_entries: int

    @property
    def units_total(self) -> int:
        return len(self.units)

    @property
    def units_done(self) -> int:
        return sum(1 for _, done in self.units if done)

    @property
    def units_complete(self) -> bool:
        return self.units_done == self.units_total

    @property
    def units_left(self) -> list[str]:
        return [title for title, done in self.units if not done]

    @property
    def complete(self) -> bool:
        """The day's units all marked done, and at least one reflective diary entry linked to the day."""
        return self.units_complete and self.diary_entries > 0


def task_progress(enrolment: Enrolment, day: CourseDay) -> TaskProgress:
    """The day's units marked done by the trainee, and how many diary entries they linked to the day.

    Read through the curriculum and diary services (three queries); a day with
    no units in the course has nothing to mark done.
    """
    from lms.curriculum.services import unit_rows, units_done
    from lms.diary.services import entries_linked_to_day

    rows = sorted((row for row in unit_rows(enrolment.cohort.course_slug).values() if row.day_number == day.number),
                  key=lambda row: (row.position, row.unit_key))
    done = units_done([enrolment.id])[enrolment.id]
    return TaskProgress(day.number, tuple((row.title, row.unit_key in done) for row in rows),
                        entries_linked_to_day(enrolment.trainee_id, day.number))


@dataclass
class CatchUpPage:
    attendance: TraineeAttendance
    day: CourseDay
    title: str
    mark: RegisterMark | None
    catch_up: CatchUp | None
    task: TaskProgress


def catch_up_page(actor: User, cohort: Cohort, trainee_id: int, day: CourseDay) -> CatchUpPage:
    """The catch-up form for one trainee's day (tutors of the cohort and admins), with how far a task has got."""
    object_or_404(cohort, can_take_register(actor, cohort))
    attendance = trainee_attendance(actor, cohort.slug, trainee_id)
    index = next(n for n, d in enumerate(attendance.days) if d.id == day.id)
    return CatchUpPage(attendance, day, day_title(day_titles(cohort.course_slug), day),
                       attendance.marks[index], attendance.catch_ups[index], task_progress(attendance.enrolment, day))


@dataclass
class CatchUpToDo:
    """A catch-up arranged for the trainee and not confirmed yet, for their own attendance page."""

    attendance: TraineeAttendance
    day: CourseDay
    title: str
    catch_up: CatchUp
    task: TaskProgress | None  # for a catch-up task


def catch_ups_to_do(mine: list[TraineeAttendance], titles: dict[str, dict[int, str]]) -> list[CatchUpToDo]:
    """The catch-ups arranged for a trainee and not done yet, soonest first, with how far each task has got."""
    to_do = []
    for attendance in mine:
        if attendance.withdrawn:
            continue
        for day, _, catch_up, _ in attendance.cells():
            if catch_up is None or catch_up.completed:
                continue
            task = task_progress(attendance.enrolment, day) if catch_up.kind == "task" else None
            to_do.append(CatchUpToDo(attendance, day, day_title(titles.get(attendance.cohort.course_slug, {}), day),
                                     catch_up, task))
    to_do.sort(key=lambda item: (item.catch_up.on_date, item.day.number))
    return to_do


@dataclass(frozen=True)
class CatchUpValues:
    kind: str
    on_date: date | None
    starts_at: time | None = None
    ends_at: time | None = None
    venue: str = ""
    note: str = ""
    completed: bool = False


class CatchUpRefused(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(message for _, message in errors))
        self.errors = errors


def _catch_up_as_dict(catch_up: CatchUp | None) -> dict | None:
    if catch_up is None:
        return None
    return {"kind": catch_up.kind, "on_date": catch_up.on_date, "starts_at": catch_up.starts_at,
            "ends_at": catch_up.ends_at, "venue": catch_up.venue, "note": catch_up.note,
            "completed": catch_up.completed}


def save_catch_up(actor: User, cohort: Cohort, trainee_id: int, day: CourseDay, values: CatchUpValues,
                  now: datetime) -> CatchUp:
    """Arrange or confirm a catch-up for a day the trainee missed.

    Refused (nothing saved) for a day the trainee attended or that has no
    mark yet, for a trainee no longer on the register, and for details that
    can't be right (a session needs times and a place; a catch-up can only be
    confirmed as done once its date has come; a task only once the trainee
    has marked all the day's units done). The attendance threshold is checked
    again afterwards.
    """
    page = catch_up_page(actor, cohort, trainee_id, day)
    name = page.attendance.trainee.display_name
    if page.attendance.withdrawn:
        raise CatchUpRefused([("kind", f"{name} is no longer on this cohort's register, "
                                       "so a catch-up can't be arranged here.")])
    outcome = effective(_mark_for_rules(page.mark, None), page.attendance.rules)
    if outcome is Outcome.PENDING:
        raise CatchUpRefused([("kind", f"The register for day {day.number} doesn't show {name} as absent. "
                                       "Take the register first.")])
    if outcome is Outcome.COUNTED:
        raise CatchUpRefused([("kind", f"{name} attended day {day.number} (marked "
                                       f"{MarkValues.of(page.mark).describe().lower()}), so there is nothing "
                                       "to catch up.")])
    errors = []
    if values.kind not in CATCH_UP_KINDS:
        errors.append(("kind", "Choose whether the catch-up is a task or a session."))
    if values.on_date is None:
        errors.append(("on_date", "Enter the date of the catch-up, for example 14 3 2026."))
    elif values.completed and values.on_date > local_today(now):
        errors.append(("completed", "A catch-up can be confirmed as done once its date has come. "
                                    "Save it as arranged for now."))
    elif values.on_date < day.date:
        errors.append(("on_date", f"A catch-up comes after the day it makes up: day {day.number} was on "
                                  f"{day.date:%d %B %Y}."))
    if values.kind == "session":
        if values.starts_at is None or values.ends_at is None:
            errors.append(("starts_at", "Enter the start and end times of the session, for example 10:00 and 12:00."))
        elif values.ends_at <= values.starts_at:
            errors.append(("ends_at", "The session must end after it starts."))
        if not values.venue.strip():
            errors.append(("venue", "Enter where the session is, or the online link."))
    already_done_task = page.catch_up is not None and page.catch_up.completed and page.catch_up.kind == "task"
    if values.kind == "task" and values.completed and not already_done_task and not errors \
            and not page.task.complete:
        task = page.task
        still = []
        if not task.units_complete:
            still.append(f"{name} has marked {task.units_done} of the {task.units_total} units of day "
                         f"{day.number} done")
        if task.diary_entries == 0:
            still.append(f"{name} has not yet linked a reflective diary entry to day {day.number}")
        errors.append(("completed", (
            f"The catch-up task can't be confirmed as done yet: {' and '.join(still)}. A task is done once all "
            "the day's units are marked done and there is a reflective entry about the day (you see that it "
            f"exists, never what it says). Save it as arranged for now. If you went through the day with {name} "
            "yourself, record it as a catch-up session instead.")))
    if len(values.venue) > REASON_LIMIT:
        errors.append(("venue", f"Keep the place under {REASON_LIMIT} characters."))
    if len(values.note) > NOTE_LIMIT:
        errors.append(("note", f"Keep the note under {NOTE_LIMIT} characters."))
    if errors:
        raise CatchUpRefused(errors)

    catch_up = page.catch_up
    before = _catch_up_as_dict(catch_up)
    if catch_up is None:
        catch_up = CatchUp(course_day_id=day.id, trainee_id=trainee_id, created_at=now)
        db.session.add(catch_up)
    session = values.kind == "session"
    catch_up.kind = values.kind
    catch_up.on_date = values.on_date
    catch_up.starts_at = values.starts_at if session else None
    catch_up.ends_at = values.ends_at if session else None
    catch_up.venue = values.venue.strip() if session else ""
    catch_up.note = values.note.strip()
    if values.completed and not catch_up.completed:
        catch_up.confirmed_at = now
        catch_up.confirmed_by_id = actor.id
    catch_up.completed = values.completed
    if not values.completed:
        catch_up.confirmed_at = None
        catch_up.confirmed_by_id = None
    db.session.flush()
    after = _catch_up_as_dict(catch_up)
    if before is None:
        record(actor, "attendance.catch_up_added", "catch_up", catch_up.id, after=after, cohort_id=cohort.id,
               subject_user_id=trainee_id)
    elif before != after:
        old, new = changes(before, after)
        record(actor, "attendance.catch_up_changed", "catch_up", catch_up.id, before=old, after=new,
               cohort_id=cohort.id, subject_user_id=trainee_id)
    # Confirmed, or no longer confirmed: the figures behind any alert have changed.
    check_thresholds(cohort)
    return catch_up


def remove_catch_up(actor: User, cohort: Cohort, trainee_id: int, day: CourseDay) -> None:
    """Remove a catch-up arranged by mistake (audited)."""
    page = catch_up_page(actor, cohort, trainee_id, day)
    if page.catch_up is None:
        return
    record(actor, "attendance.catch_up_removed", "catch_up", page.catch_up.id,
           before=_catch_up_as_dict(page.catch_up), cohort_id=cohort.id, subject_user_id=trainee_id)
    db.session.delete(page.catch_up)
    db.session.flush()
    check_thresholds(cohort)

