"""Pure rules for cohorts: their details, the schedule of course days, bulk-import files, enrolment changes.

No Flask or SQLAlchemy here: plain values in, plain values out, so every rule
can be tested on its own and the web form, the upload form and the
``lms users import`` command all give the same answers in the same words.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

# ---------------------------------------------------------------------------
# Cohort details
# ---------------------------------------------------------------------------

COHORT_STATUSES = ("planned", "running", "finished", "archived")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_CAPACITY = 10_000


@dataclass(frozen=True)
class Problem:
    """Something wrong with what was entered, named by the form field it belongs to."""

    field: str
    message: str


@dataclass(frozen=True)
class CohortDetails:
    """A cohort's details as typed into the form (strings, not yet parsed)."""

    course_slug: str
    name: str
    slug: str
    start_date: str
    capacity: str
    status: str


@dataclass(frozen=True)
class CheckedCohortDetails:
    course_slug: str
    name: str
    slug: str
    start_date: date
    capacity: int
    status: str


def parse_date(text: str) -> date | None:
    """A date typed as 2026-03-14 (what a date input sends) or 14/03/2026; None if neither."""
    text = (text or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def parse_time(text: str) -> time | None:
    """A time typed as 09:30, 9:30 or 9.30 (24-hour clock); None otherwise."""
    text = (text or "").strip().replace(".", ":")
    for pattern in ("%H:%M", "%H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).time()
        except ValueError:
            continue
    return None


def check_cohort_details(details: CohortDetails, courses: Mapping[str, str]) -> tuple[CheckedCohortDetails | None, list[Problem]]:
    """Check a cohort's details against the known courses (slug -> title).

    Returns the parsed details when there is nothing wrong, and the problems
    (field, message) otherwise. Whether the slug is already taken is a
    question for the database, so the service asks it.
    """
    problems: list[Problem] = []
    if details.course_slug not in courses:
        problems.append(Problem("course_slug", "Choose the course this cohort runs."))
    name = details.name.strip()
    if not name:
        problems.append(Problem("name", "Enter a name for the cohort, for example “Peer Support Worker Training – March 2027”."))
    elif len(name) > 200:
        problems.append(Problem("name", "Keep the cohort's name to 200 characters or fewer."))
    slug = details.slug.strip().lower()
    if not slug:
        problems.append(Problem("slug", "Enter a short name for web addresses, for example “march-2027”."))
    elif len(slug) > 80 or not SLUG_PATTERN.match(slug):
        problems.append(Problem("slug", "Use only lower-case letters, numbers and single hyphens in the short name "
                                        "(up to 80 characters), for example “march-2027”."))
    start = parse_date(details.start_date)
    if start is None:
        problems.append(Problem("start_date", "Enter the start date as a real date, for example 2027-03-14."))
    capacity = None
    try:
        capacity = int(details.capacity.strip())
    except (ValueError, AttributeError):
        problems.append(Problem("capacity", "Enter the number of places as a whole number, for example 16."))
    else:
        if not 1 <= capacity <= MAX_CAPACITY:
            problems.append(Problem("capacity", f"The number of places must be between 1 and {MAX_CAPACITY:,}."))
    if details.status not in COHORT_STATUSES:
        problems.append(Problem("status", "Choose the cohort's status: planned, running, finished or archived."))
    if problems:
        return None, problems
    return CheckedCohortDetails(details.course_slug, name, slug, start, capacity, details.status), []


# ---------------------------------------------------------------------------
# The schedule of course days
# ---------------------------------------------------------------------------

MAX_VENUE = 500
LINK_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class DayEntry:
    """One course day as typed into the schedule form (strings, not yet parsed)."""

    date: str
    starts_at: str
    ends_at: str
    venue: str


@dataclass(frozen=True)
class ScheduledDay:
    """A checked course day."""

    number: int
    date: date
    starts_at: time
    ends_at: time
    venue: str


@dataclass(frozen=True)
class DayProblem:
    """A problem with the schedule: ``day`` is the day number (None for the whole schedule),
    ``part`` the field of that day (date, starts_at, ends_at, venue) or None."""

    day: int | None
    part: str | None
    message: str


def _when(day: ScheduledDay) -> str:
    return f"{day.date:%A} {day.date.day} {day.date:%B %Y}, {day.starts_at:%H:%M}–{day.ends_at:%H:%M}"


def check_schedule(entries: Sequence[DayEntry], expected_days: int) -> tuple[list[ScheduledDay], list[DayProblem]]:
    """Check a whole schedule: one entry per course day, in order, on different dates, each ending after it starts.

    ``entries[0]`` is day 1. Returns the checked days when there is nothing
    wrong (an empty list otherwise) and every problem found.
    """
    problems: list[DayProblem] = []
    if len(entries) != expected_days:
        problems.append(DayProblem(None, None, (
            f"The course has {expected_days} days, but this schedule has {len(entries)}. "
            f"Give each of the {expected_days} course days a date, start and end time and a place.")))
    checked: list[ScheduledDay] = []
    for number, entry in enumerate(entries, start=1):
        day_date = parse_date(entry.date)
        starts = parse_time(entry.starts_at)
        ends = parse_time(entry.ends_at)
        venue = (entry.venue or "").strip()
        if not (entry.date or "").strip():
            problems.append(DayProblem(number, "date", f"Enter the date of day {number}."))
        elif day_date is None:
            problems.append(DayProblem(number, "date", f"Enter the date of day {number} as a real date, for example 2027-03-14."))
        if not (entry.starts_at or "").strip():
            problems.append(DayProblem(number, "starts_at", f"Enter the time day {number} starts, for example 09:30."))
        elif starts is None:
            problems.append(DayProblem(number, "starts_at", f"Enter the start time of day {number} on the 24-hour clock, for example 09:30."))
        if not (entry.ends_at or "").strip():
            problems.append(DayProblem(number, "ends_at", f"Enter the time day {number} ends, for example 16:00."))
        elif ends is None:
            problems.append(DayProblem(number, "ends_at", f"Enter the end time of day {number} on the 24-hour clock, for example 16:00."))
        elif starts is not None and ends <= starts:
            problems.append(DayProblem(number, "ends_at", f"Day {number} must end after it starts ({starts:%H:%M})."))
        if not venue:
            problems.append(DayProblem(number, "venue", f"Enter where day {number} happens: a venue, or the link for an online day."))
        elif len(venue) > MAX_VENUE:
            problems.append(DayProblem(number, "venue", f"Keep the place of day {number} to {MAX_VENUE} characters or fewer."))
        elif any(scheme.lower() not in ("http", "https") for scheme in LINK_SCHEME.findall(venue)):
            problems.append(DayProblem(number, "venue", f"An online link for day {number} must start with https://."))
        if day_date and starts and ends and ends > starts:
            checked.append(ScheduledDay(number, day_date, starts, ends, venue))
    # Order: compare each day with the one before it that could be read.
    previous: ScheduledDay | None = None
    for day in checked:
        if previous is not None:
            if day.date == previous.date:
                overlap = day.starts_at < previous.ends_at and previous.starts_at < day.ends_at
                what = "overlaps" if overlap else "is on the same date as"
                problems.append(DayProblem(day.number, "date", (
                    f"Day {day.number} {what} day {previous.number} ({_when(previous)}). "
                    "Each course day needs a date of its own.")))
            elif day.date < previous.date:
                problems.append(DayProblem(day.number, "date", (
                    f"Day {day.number} is before day {previous.number} ({previous.date:%d %B %Y}). "
                    "Put the course days in order: day 1 first.")))
        previous = day
    if problems:
        return [], problems
    return checked, []


def schedule_changes(old: Sequence[ScheduledDay], new: Sequence[ScheduledDay]) -> list[tuple[ScheduledDay | None, ScheduledDay]]:
    """The days of ``new`` that differ from ``old`` (matched by number), as (old or None, new) pairs."""
    before = {day.number: day for day in old}
    return [(before.get(day.number), day) for day in new if before.get(day.number) != day]


# ---------------------------------------------------------------------------
# Enrolment
# ---------------------------------------------------------------------------

ENROLMENT_STATUSES = ("active", "deferred", "withdrawn", "transferred", "completed")
# A place is taken by everyone still on the course or who finished it.
PLACE_TAKING_STATUSES = frozenset({"active", "deferred", "completed"})
# Enrolled "on a course now": a person may hold only one of these at a time.
CURRENT_STATUSES = frozenset({"active", "deferred"})

STATUS_LABELS = {
    "active": "Active", "deferred": "Deferred", "withdrawn": "Withdrawn",
    "transferred": "Transferred", "completed": "Completed",
}

# The enrolment state machine: (status, action) -> new status.
TRANSITIONS = {
    ("active", "defer"): "deferred",
    ("deferred", "resume"): "active",
    ("active", "withdraw"): "withdrawn",
    ("deferred", "withdraw"): "withdrawn",
    ("withdrawn", "reinstate"): "active",
    ("active", "transfer"): "transferred",
    ("deferred", "transfer"): "transferred",
    ("active", "complete"): "completed",
    ("completed", "reopen"): "active",
}

ACTION_LABELS = {
    "defer": "Defer", "resume": "Resume (back to active)", "withdraw": "Withdraw",
    "reinstate": "Reinstate (back to active)", "transfer": "Transfer to another cohort",
    "complete": "Mark as completed", "reopen": "Reopen (back to active)",
}

# Actions that must say why (and when).
NEEDS_REASON = frozenset({"withdraw", "defer", "transfer"})


def next_status(status: str, action: str) -> str | None:
    """The status an enrolment moves to, or None when the action does not apply to it."""
    return TRANSITIONS.get((status, action))


def actions_for(status: str) -> list[str]:
    """The actions open to an enrolment in ``status``, in a stable order."""
    return [action for (state, action) in TRANSITIONS if state == status]


def status_change_problems(status: str, action: str, reason: str, on_date: str) -> list[Problem]:
    """Check a change of enrolment status: the action must apply, and some need a reason and a date."""
    if next_status(status, action) is None:
        return [Problem("action", "Choose what to do with this enrolment.")]
    problems = []
    if action in NEEDS_REASON and not (reason or "").strip():
        problems.append(Problem("reason", "Enter the reason. It is kept with the trainee's record."))
    if len(reason or "") > 2000:
        problems.append(Problem("reason", "Keep the reason to 2,000 characters or fewer."))
    if parse_date(on_date) is None:
        problems.append(Problem("on_date", "Enter the date this took effect, for example 2027-03-14."))
    return problems


# ---------------------------------------------------------------------------
# Bulk import of people from a CSV file
# ---------------------------------------------------------------------------

COLUMNS = ("email", "name", "role", "organisation", "academic_supervisor_email", "personal_supervisor_email")
IMPORT_ROLES = ("trainee", "tutor", "academic_supervisor", "personal_supervisor")
ROLE_WORDS = {"trainee": "trainee", "tutor": "tutor", "academic_supervisor": "academic supervisor",
              "personal_supervisor": "personal supervisor"}
STAFF_ROLES = frozenset({"tutor", "academic_supervisor", "personal_supervisor"})
MAX_ROWS = 50_000
MAX_NAME = 120
MAX_ORGANISATION = 200
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                           r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
# Cells starting with these are run as formulas by spreadsheets (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SAVE_AS_UTF8 = ("In Excel, choose File › Save As and the type “CSV UTF-8 (Comma delimited)”; "
                "in other spreadsheets choose CSV with the character set UTF-8.")


@dataclass(frozen=True)
class CsvProblem:
    """A problem in an import file: the spreadsheet row (the header is row 1) and column, when known."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"Row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True)
class ImportRow:
    row: int
    email: str
    name: str
    role: str
    organisation: str
    academic_supervisor_email: str
    personal_supervisor_email: str


def csv_safe(value) -> str:
    """A cell for a CSV export that spreadsheets will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _unescape(cell: str) -> str:
    # A cell exported by csv_safe comes back as what was stored.
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@":
        return cell[1:]
    return cell


def _column_name(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _role_name(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def valid_email(email: str) -> bool:
    return len(email) <= 254 and bool(EMAIL_PATTERN.match(email))


def decode_import_file(raw: bytes) -> tuple[str | None, CsvProblem | None]:
    """The text of an uploaded file (UTF-8 with or without a byte-order mark, or UTF-16 with one)."""
    if raw.startswith(b"PK\x03\x04"):
        return None, CsvProblem(None, None, "This looks like an Excel workbook (.xlsx), not a CSV file. " + SAVE_AS_UTF8)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), None
        except UnicodeDecodeError:
            pass
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = raw[:error.start].count(b"\n") + 1
        return None, CsvProblem(row, None, (
            f"The file is not saved as UTF-8 text: row {row} has a character we cannot read "
            "(names with accents often show this). " + SAVE_AS_UTF8))
    if "\x00" in text:
        return None, CsvProblem(None, None, "This is not a text file. Save the spreadsheet as CSV. " + SAVE_AS_UTF8)
    return text, None


def _delimiter(first_line: str) -> str:
    # Excel writes semicolons in some regional settings, and tabs for "Unicode text".
    counts = {mark: first_line.count(mark) for mark in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_import_file(raw: bytes, max_rows: int = MAX_ROWS) -> tuple[list[ImportRow], list[CsvProblem]]:
    """Read and check an import file on its own: encoding, header, and each row's cells.

    Returns the rows and every problem found (row 1 is the header). Checks
    that need the database (organisations, existing people, enrolments) come
    after, in ``plan_import``.
    """
    if not raw.strip(b" \t\r\n\xef\xbb\xbf\x00\xff\xfe"):
        return [], [CsvProblem(None, None, (
            "The file is empty. It needs a header row (" + ",".join(COLUMNS) + ") and one row for each person."))]
    text, problem = decode_import_file(raw)
    if problem:
        return [], [problem]
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        # Every record, blank ones included, so row numbers match the spreadsheet's.
        records = list(reader)
    except csv.Error as error:
        return [], [CsvProblem(reader.line_num or None, None, f"The file could not be read as CSV ({error}). {SAVE_AS_UTF8}")]
    numbered = [(number, record) for number, record in enumerate(records, start=1)
                if any(cell.strip() for cell in record)]
    if not numbered:
        return [], [CsvProblem(None, None, (
            "The file is empty. It needs a header row (" + ",".join(COLUMNS) + ") and one row for each person."))]

    header_row, header_cells = numbered[0]
    header = [_column_name(cell.lstrip("\ufeff")) for cell in header_cells]
    problems: list[CsvProblem] = []
    if not set(header) & set(COLUMNS):
        return [], [CsvProblem(header_row, None, (
            f"Row {header_row} must be the header, naming the columns: " + ",".join(COLUMNS) + ". "
            "It looks like data. Add the header row and upload the file again."))]
    seen = set()
    for position, name in enumerate(header, start=1):
        if name in seen:
            problems.append(CsvProblem(header_row, name, f"The column “{name}” appears twice in the header. Keep one."))
        elif name not in COLUMNS:
            shown = name or f"number {position} (no name)"
            problems.append(CsvProblem(header_row, shown, (
                f"The column “{shown}” is not one the import uses. Remove it. "
                "The columns are: " + ",".join(COLUMNS) + ".")))
        seen.add(name)
    for name in COLUMNS:
        if name not in seen:
            problems.append(CsvProblem(header_row, name, f"The column “{name}” is missing from the header row."))
    if problems:
        return [], problems

    position = {name: header.index(name) for name in COLUMNS}
    rows: list[ImportRow] = []
    first_row_of: dict[str, int] = {}
    for count, (number, cells) in enumerate(numbered[1:], start=1):
        if count > max_rows:
            problems.append(CsvProblem(number, None, (
                f"The file has more than {max_rows:,} people. Split it into smaller files.")))
            break
        if len(cells) != len(header):
            problems.append(CsvProblem(number, None, (
                f"This row has {len(cells)} cells, but the header has {len(header)}. "
                "Check for a stray comma, or a missing cell.")))
            continue
        values = {name: _unescape(cells[position[name]].strip()) for name in COLUMNS}
        row = ImportRow(
            row=number, email=values["email"].lower(), name=" ".join(values["name"].split()),
            role=_role_name(values["role"]), organisation=" ".join(values["organisation"].split()),
            academic_supervisor_email=values["academic_supervisor_email"].lower(),
            personal_supervisor_email=values["personal_supervisor_email"].lower(),
        )
        problems.extend(_row_problems(row))
        if row.email:
            if row.email in first_row_of:
                problems.append(CsvProblem(number, "email", (
                    f"{row.email} is in this file more than once (first in row {first_row_of[row.email]}). "
                    "Keep one row for each person.")))
                continue
            first_row_of[row.email] = number
        rows.append(row)
    if not rows and not problems:
        problems.append(CsvProblem(None, None, "The file has a header row but nobody in it. Add one row for each person."))
    return rows, problems


def _row_problems(row: ImportRow) -> list[CsvProblem]:
    problems = []
    number = row.row
    if not row.email:
        problems.append(CsvProblem(number, "email", "Enter the person's email address."))
    elif not valid_email(row.email):
        problems.append(CsvProblem(number, "email", f"“{row.email}” is not an email address we can use. Check it, for example name@example.org."))
    if not row.name:
        problems.append(CsvProblem(number, "name", "Enter the person's name, as they like to be called."))
    elif len(row.name) > MAX_NAME:
        problems.append(CsvProblem(number, "name", f"Keep the name to {MAX_NAME} characters or fewer."))
    if not row.role:
        problems.append(CsvProblem(number, "role", "Enter the person's role: trainee, tutor, academic_supervisor or personal_supervisor."))
    elif row.role == "admin":
        problems.append(CsvProblem(number, "role", "Admins are not added by import. Give someone the admin role with "
                                                   "`lms users create`, or use another role here."))
    elif row.role not in IMPORT_ROLES:
        problems.append(CsvProblem(number, "role", (
            f"“{row.role}” is not a role the import knows. Use trainee, tutor, academic_supervisor or personal_supervisor.")))
    if len(row.organisation) > MAX_ORGANISATION:
        problems.append(CsvProblem(number, "organisation", f"Keep the organisation to {MAX_ORGANISATION} characters or fewer."))
    for column in ("academic_supervisor_email", "personal_supervisor_email"):
        email = getattr(row, column)
        if not email:
            continue
        if row.role in STAFF_ROLES:
            problems.append(CsvProblem(number, column, f"Only trainees have supervisors. Leave this cell empty for a {ROLE_WORDS[row.role]}."))
        elif not valid_email(email):
            problems.append(CsvProblem(number, column, f"“{email}” is not an email address we can use."))
        elif email == row.email:
            problems.append(CsvProblem(number, column, "A trainee cannot be their own supervisor."))
    return problems


@dataclass(frozen=True)
class ExistingEnrolment:
    status: str
    academic_supervisor_email: str | None
    personal_supervisor_email: str | None


@dataclass(frozen=True)
class ExistingPerson:
    """What the database knows about a person named in an import file."""

    id: int
    email: str
    name: str
    organisation: str | None
    active: bool = True
    roles_here: frozenset[str] = frozenset()
    enrolment_here: ExistingEnrolment | None = None
    # The name of another cohort where they are enrolled now (active or deferred), if any.
    enrolled_elsewhere: str | None = None


@dataclass(frozen=True)
class ImportWorld:
    """The facts an import is checked against."""

    cohort_name: str
    capacity: int
    places_taken: int
    organisations: Mapping[str, str]      # lower-case name -> the name as written
    people: Mapping[str, ExistingPerson]  # by lower-case email


@dataclass
class PersonPlan:
    """What the import will do for one row."""

    row: int
    email: str
    name: str
    role: str
    organisation: str | None
    existing_id: int | None
    grant_role: bool
    enrol: bool
    academic_supervisor_email: str | None = None
    personal_supervisor_email: str | None = None

    @property
    def new_account(self) -> bool:
        return self.existing_id is None

    def describe(self) -> str:
        what = []
        if self.new_account:
            what.append(f"new account for {self.name} <{self.email}>")
        else:
            what.append(f"{self.email} (existing account)")
        if self.enrol:
            what.append("enrol as a trainee")
            if self.academic_supervisor_email:
                what.append(f"academic supervisor {self.academic_supervisor_email}")
            if self.personal_supervisor_email:
                what.append(f"personal supervisor {self.personal_supervisor_email}")
        elif self.grant_role:
            what.append(f"give the {ROLE_WORDS[self.role]} role")
        else:
            what.append("already here: nothing to change")
        return f"Row {self.row}: " + "; ".join(what)


@dataclass
class ImportPlan:
    people: list[PersonPlan] = field(default_factory=list)
    # Existing people named as supervisors who need that role in this cohort: (email, role).
    supervisor_grants: list[tuple[str, str]] = field(default_factory=list)
    problems: list[CsvProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new accounts": sum(1 for p in self.people if p.new_account),
            "enrolments": sum(1 for p in self.people if p.enrol),
            "roles given": sum(1 for p in self.people if p.grant_role) + len(self.supervisor_grants),
            "unchanged": sum(1 for p in self.people if not p.grant_role and not p.enrol and not p.new_account),
        }

    @property
    def changes_anything(self) -> bool:
        counts = self.counts
        return bool(counts["new accounts"] or counts["enrolments"] or counts["roles given"])


def plan_import(rows: Sequence[ImportRow], world: ImportWorld) -> ImportPlan:
    """Check rows against the database's facts and say what importing them would do.

    A clean plan for a file already imported changes nothing, so importing
    the same file twice is safe.
    """
    plan = ImportPlan()
    in_file = {row.email: row for row in rows}
    granted: set[tuple[str, str]] = set()
    new_enrolment_rows: list[int] = []
    for row in rows:
        problems: list[CsvProblem] = []
        existing = world.people.get(row.email)
        organisation = None
        if row.organisation:
            organisation = world.organisations.get(row.organisation.lower())
            if organisation is None:
                problems.append(CsvProblem(row.row, "organisation", (
                    f"There is no organisation called “{row.organisation}”. Check the spelling, "
                    "or add it on the Organisations page first.")))
        if existing is not None:
            if not existing.active:
                problems.append(CsvProblem(row.row, "email", (
                    f"{row.email}'s account is deactivated. Reactivate it on their page first, or remove this row.")))
            if organisation and existing.organisation and existing.organisation != organisation:
                problems.append(CsvProblem(row.row, "organisation", (
                    f"{row.email}'s account belongs to {existing.organisation}. Put that here, "
                    "or change their organisation on their page first.")))
            if organisation is None and existing.organisation:
                organisation = existing.organisation
        if not row.organisation and organisation is None and row.role in ("trainee", "personal_supervisor"):
            # Someone whose account already has one may leave it out; everyone else gives it.
            problems.append(CsvProblem(row.row, "organisation", (
                f"Enter the organisation a {ROLE_WORDS[row.role]} works for: it links trainees with their "
                "personal supervisors.")))
        roles_here = existing.roles_here if existing else frozenset()
        enrol = grant = False
        academic = personal = None
        if row.role == "trainee":
            staff_here = roles_here & STAFF_ROLES
            if staff_here:
                problems.append(CsvProblem(row.row, "role", (
                    f"{row.email} is a {ROLE_WORDS[sorted(staff_here)[0]]} in this cohort, so cannot also be a trainee in it.")))
            enrolment = existing.enrolment_here if existing else None
            if existing and existing.enrolled_elsewhere and enrolment is None:
                problems.append(CsvProblem(row.row, "email", (
                    f"{row.email} is already enrolled in {existing.enrolled_elsewhere}. "
                    "Transfer them from their enrolment page instead of importing them here.")))
            if enrolment is not None and enrolment.status not in PLACE_TAKING_STATUSES:
                problems.append(CsvProblem(row.row, "email", (
                    f"{row.email} was enrolled in this cohort before and is now {enrolment.status}. "
                    "Change their enrolment on the cohort page instead.")))
            academic = _supervisor(row, "academic_supervisor_email", "academic_supervisor", in_file, world,
                                   organisation, problems, plan, granted)
            personal = _supervisor(row, "personal_supervisor_email", "personal_supervisor", in_file, world,
                                   organisation, problems, plan, granted)
            if enrolment is not None and enrolment.status in PLACE_TAKING_STATUSES:
                for column, wanted, current in (
                        ("academic_supervisor_email", row.academic_supervisor_email, enrolment.academic_supervisor_email),
                        ("personal_supervisor_email", row.personal_supervisor_email, enrolment.personal_supervisor_email)):
                    if wanted and wanted != (current or ""):
                        problems.append(CsvProblem(row.row, column, (
                            f"{row.email} is already enrolled in this cohort with "
                            f"{current or 'no one'} as {ROLE_WORDS[column.removesuffix('_email')]}. "
                            "Change it on their enrolment page, or make this cell match.")))
            else:
                enrol = True
            grant = "trainee" not in roles_here
        else:
            if "trainee" in roles_here:
                problems.append(CsvProblem(row.row, "role", (
                    f"{row.email} is a trainee in this cohort, so cannot also be a {ROLE_WORDS.get(row.role, row.role)} in it.")))
            grant = row.role not in roles_here
        if enrol and not problems:
            new_enrolment_rows.append(row.row)
        plan.problems.extend(problems)
        plan.people.append(PersonPlan(
            row=row.row, email=row.email, name=row.name, role=row.role, organisation=organisation,
            existing_id=existing.id if existing else None, grant_role=grant, enrol=enrol,
            academic_supervisor_email=academic, personal_supervisor_email=personal,
        ))
    places_left = max(world.capacity - world.places_taken, 0)
    if len(new_enrolment_rows) > places_left:
        overflow = new_enrolment_rows[places_left]
        plan.problems.append(CsvProblem(overflow, None, (
            f"This file would enrol {len(new_enrolment_rows)} trainees, but {world.cohort_name} has "
            f"{places_left} of its {world.capacity} places left, so the cohort is full from this row on. "
            "Raise the number of places on the cohort's page, or split the file.")))
    plan.problems.sort(key=lambda p: (p.row or 0, COLUMNS.index(p.column) if p.column in COLUMNS else -1))
    return plan


def _supervisor(row: ImportRow, column: str, role: str, in_file: Mapping[str, ImportRow], world: ImportWorld,
                trainee_organisation: str | None, problems: list[CsvProblem], plan: ImportPlan,
                granted: set[tuple[str, str]]) -> str | None:
    """Check one supervisor cell of a trainee's row; the supervisor's email when it can be used."""
    email = getattr(row, column)
    if not email:
        return None
    words = ROLE_WORDS[role]
    listed = in_file.get(email)
    existing = world.people.get(email)
    if listed is not None:
        if listed.role != role:
            problems.append(CsvProblem(row.row, column, (
                f"{email} is in row {listed.row} as a {ROLE_WORDS.get(listed.role, listed.role)}, not as a {words}. "
                f"Give them the role {role} in their row.")))
            return None
        organisation = world.organisations.get(listed.organisation.lower()) if listed.organisation else None
        if organisation is None and existing is not None:
            organisation = existing.organisation
    elif existing is not None:
        if not existing.active:
            problems.append(CsvProblem(row.row, column, f"{email}'s account is deactivated, so they cannot supervise."))
            return None
        if "trainee" in existing.roles_here:
            problems.append(CsvProblem(row.row, column, f"{email} is a trainee in this cohort, so cannot be a {words} in it."))
            return None
        if role not in existing.roles_here and (email, role) not in granted:
            granted.add((email, role))
            plan.supervisor_grants.append((email, role))
        organisation = existing.organisation
    else:
        problems.append(CsvProblem(row.row, column, (
            f"There is no account for {email}, and they are not in this file. "
            f"Add a row for them with the role {role}.")))
        return None
    if role == "personal_supervisor" and trainee_organisation and organisation != trainee_organisation:
        problems.append(CsvProblem(row.row, column, (
            f"{email} works for {organisation or 'no organisation we know of'}, but {row.email} works for "
            f"{trainee_organisation}. A personal supervisor must be from the trainee's own organisation.")))
        return None
    return email
