"""Use cases for cohorts: the courses on offer, cohort details (with optimistic locking),
the schedule of course days, tutors and other role grants, and enrolment.

Services take the acting person, check that they may act, apply the pure
rules in ``lms.cohorts.rules``, write the audit log and flush; the request
commits once. ``actor=None`` means the system itself (a CLI command).

Optimistic locking: an edit form carries the cohort's ``version`` and a signed
snapshot of the values it showed. A save from an older version is refused with
what changed since (snapshot against the values now), and nothing is
overwritten. Saves that race past that check are caught by SQLAlchemy's
version counter (``StaleDataError``) and answered the same way.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import abort, current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, inspect, or_, select
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from lms.accounts import services as accounts
from lms.accounts.models import Organisation, RoleGrant, User
from lms.audit import services as audit
from lms.authz.roles import Role
from lms.cohorts import rules
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.cohorts.policies import is_admin
from lms.extensions import db
from lms.notify.services import notify

log = logging.getLogger(__name__)

COHORT_ROLES = (Role.TUTOR, Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR, Role.EXTERNAL_EXAMINER)
FIELD_LABELS = {
    "course_slug": "Course", "name": "Name", "slug": "Short name (for web addresses)",
    "start_date": "Start date", "capacity": "Places", "status": "Status",
}
STATUS_LABELS = {"planned": "Planned", "running": "Running", "finished": "Finished", "archived": "Archived"}


def require_admin(actor: User | None) -> None:
    """Refuse anyone but an admin (``None`` is the system itself, for CLI commands)."""
    if actor is not None and not is_admin(actor):
        abort(403)


# ---------------------------------------------------------------------------
# Courses on offer
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CourseChoice:
    slug: str
    title: str
    days: int


def available_courses() -> dict[str, CourseChoice]:
    """The courses in the courses folder: each sub-folder with a readable course.toml giving ``days``."""
    root = Path(current_app.config["LMS_COURSES_DIR"])
    courses: dict[str, CourseChoice] = {}
    if not root.is_dir():
        return courses
    for folder in sorted(root.iterdir()):
        definition = folder / "course.toml"
        if not definition.is_file():
            continue
        try:
            with definition.open("rb") as handle:
                data = tomllib.load(handle)
            days = int(data["days"])
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
            # `lms course validate` explains the problem; here the course is just not offered.
            log.warning("Course %s is not offered: %s", folder.name, error)
            continue
        if days < 1:
            continue
        courses[folder.name] = CourseChoice(folder.name, str(data.get("title") or folder.name), days)
    return courses


def course_days(course_slug: str) -> int | None:
    course = available_courses().get(course_slug)
    return course.days if course else None


# ---------------------------------------------------------------------------
# Lists and pages
# ---------------------------------------------------------------------------

@dataclass
class Page:
    """One page of a list."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        return min(self.page * self.per_page, self.total)


def page_number(raw) -> int:
    try:
        return max(1, min(int(raw), 100_000))
    except (TypeError, ValueError):
        return 1


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with LIKE's own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


COHORT_SORTS = {
    "start": (Cohort.start_date.desc(), Cohort.id.desc()),
    "name": (func.lower(Cohort.name), Cohort.id),
    "status": (Cohort.status, Cohort.start_date.desc(), Cohort.id),
    "slug": (Cohort.slug,),
}


def places_taken_query():
    return select(func.count(Enrolment.id)).where(Enrolment.status.in_(rules.PLACE_TAKING_STATUSES))


def list_cohorts(actor: User, *, q: str = "", status: str = "", sort: str = "start", page: int = 1,
                 per_page: int = 25) -> tuple[Page, dict[int, int]]:
    """A page of cohorts (search by name or short name, filter by status) and the places taken in each."""
    require_admin(actor)
    query = select(Cohort)
    if q.strip():
        pattern = like_pattern(q.strip())
        query = query.where(or_(Cohort.name.ilike(pattern, escape="\\"), Cohort.slug.ilike(pattern, escape="\\")))
    if status in rules.COHORT_STATUSES:
        query = query.where(Cohort.status == status)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    items = list(db.session.execute(
        query.order_by(*COHORT_SORTS.get(sort, COHORT_SORTS["start"]))
        .limit(per_page).offset((page - 1) * per_page)).scalars())
    taken = {}
    if items:
        taken = dict(db.session.execute(
            select(Enrolment.cohort_id, func.count(Enrolment.id))
            .where(Enrolment.cohort_id.in_([c.id for c in items]), Enrolment.status.in_(rules.PLACE_TAKING_STATUSES))
            .group_by(Enrolment.cohort_id)).all())
    return Page(items, total, page, per_page), taken


def get_cohort(actor: User | None, slug: str, *, with_days: bool = True) -> Cohort:
    """The cohort with this short name (404 when there is none)."""
    require_admin(actor)
    query = select(Cohort).where(Cohort.slug == slug)
    if with_days:
        query = query.options(selectinload(Cohort.days))
    cohort = db.session.execute(query).scalar_one_or_none()
    if cohort is None:
        abort(404)
    return cohort


def all_cohorts() -> list[Cohort]:
    return list(db.session.execute(select(Cohort).order_by(Cohort.start_date.desc(), Cohort.id)).scalars())


def places_taken(cohort_id: int) -> int:
    return db.session.execute(places_taken_query().where(Enrolment.cohort_id == cohort_id)).scalar_one()


@dataclass
class CohortPage:
    cohort: Cohort
    course: CourseChoice | None
    enrolments: list[Enrolment]
    grants: dict[str, list[RoleGrant]]
    places_taken: int
    transferred_to: dict[int, Cohort] = field(default_factory=dict)

    @property
    def lead_tutor(self) -> User | None:
        return next((grant.user for grant in self.grants.get("tutor", []) if grant.lead), None)

    @property
    def peer_trainers(self) -> int:
        """How many of the cohort's tutors co-deliver from their own lived experience."""
        return sum(1 for grant in self.grants.get("tutor", []) if grant.peer_trainer)


def cohort_grants(cohort_id: int) -> dict[str, list[RoleGrant]]:
    """The role grants in a cohort with their people, by role (lead tutor first, then by name)."""
    grants: dict[str, list[RoleGrant]] = {role.value: [] for role in (Role.TRAINEE, *COHORT_ROLES)}
    for grant in db.session.execute(
        select(RoleGrant).join(RoleGrant.user).where(RoleGrant.cohort_id == cohort_id)
        .options(selectinload(RoleGrant.user).selectinload(User.organisation))
        .order_by(RoleGrant.lead.desc(), func.lower(User.display_name), User.id)
    ).scalars():
        grants.setdefault(grant.role, []).append(grant)
    return grants


def cohort_enrolments(cohort_id: int) -> list[Enrolment]:
    """Everyone enrolled in a cohort (any status), by name, with their supervisors."""
    trainee = aliased(User)
    return list(db.session.execute(
        select(Enrolment).join(trainee, Enrolment.trainee_id == trainee.id).where(Enrolment.cohort_id == cohort_id)
        .options(selectinload(Enrolment.trainee).selectinload(User.organisation),
                 selectinload(Enrolment.academic_supervisor), selectinload(Enrolment.personal_supervisor))
        .order_by(func.lower(trainee.display_name), trainee.id)
    ).scalars())


def cohort_page(actor: User, slug: str) -> CohortPage:
    """Everything the cohort page shows, in a fixed number of queries whatever the cohort's size."""
    cohort = get_cohort(actor, slug)
    enrolments = cohort_enrolments(cohort.id)
    page = CohortPage(
        cohort=cohort, course=available_courses().get(cohort.course_slug), enrolments=enrolments,
        grants=cohort_grants(cohort.id),
        places_taken=sum(1 for e in enrolments if e.status in rules.PLACE_TAKING_STATUSES),
    )
    moved = [e.transferred_to_id for e in enrolments if e.transferred_to_id]
    if moved:
        for enrolment_id, target in db.session.execute(
                select(Enrolment.id, Cohort).join(Cohort, Enrolment.cohort_id == Cohort.id)
                .where(Enrolment.id.in_(moved))).all():
            page.transferred_to[enrolment_id] = target
    return page


def lead_tutor(cohort_id: int) -> User | None:
    """The lead tutor of a cohort, if one is set."""
    return db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.cohort_id == cohort_id, RoleGrant.role == Role.TUTOR.value, RoleGrant.lead.is_(True))
    ).scalars().first()


# ---------------------------------------------------------------------------
# Optimistic locking
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    label: str
    then: str
    now: str


@dataclass
class Conflict:
    """Someone saved the cohort after this form was opened: what they changed, and the version now."""

    changes: list[Change]
    version: int


@dataclass
class Outcome:
    ok: bool = False
    problems: list[rules.Problem] = field(default_factory=list)
    conflict: Conflict | None = None
    notified: int = 0


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="lms.cohorts.snapshot")


def sign_snapshot(values) -> str:
    """A tamper-proof copy of what an edit form showed, for explaining a later conflict."""
    return _serializer().dumps(values)


def read_snapshot(token: str | None):
    try:
        return _serializer().loads(token or "")
    except BadSignature:
        return None


def cohort_values(cohort: Cohort) -> dict[str, str]:
    return {
        "course_slug": cohort.course_slug, "name": cohort.name, "slug": cohort.slug,
        "start_date": cohort.start_date.isoformat(), "capacity": str(cohort.capacity), "status": cohort.status,
    }


def _show_value(key: str, value: str | None) -> str:
    if value is None or value == "":
        return "(empty)"
    if key == "status":
        return STATUS_LABELS.get(value, value)
    if key == "start_date":
        parsed = rules.parse_date(value)
        return f"{parsed:%A} {parsed.day} {parsed:%B %Y}" if parsed else value
    return value


def cohort_conflict(cohort: Cohort, snapshot) -> Conflict:
    now = cohort_values(cohort)
    then = snapshot if isinstance(snapshot, dict) else {}
    changes = [Change(FIELD_LABELS[key], _show_value(key, then.get(key)) if then else "(not known)",
                      _show_value(key, now[key]))
               for key in now if not then or then.get(key) != now[key]]
    return Conflict(changes, cohort.version)


def schedule_values(cohort: Cohort) -> list[dict[str, str]]:
    return [{"number": day.number, "date": day.date.isoformat(), "starts_at": day.starts_at.strftime("%H:%M"),
             "ends_at": day.ends_at.strftime("%H:%M"), "venue": day.venue} for day in cohort.days]


def _describe_day(values: dict | None) -> str:
    if not values:
        return "(not scheduled)"
    day = rules.parse_date(values["date"])
    when = f"{day:%a} {day.day} {day:%b %Y}" if day else values["date"]
    return f"{when}, {values['starts_at']}–{values['ends_at']}, {values['venue']}"


def schedule_conflict(cohort: Cohort, snapshot) -> Conflict:
    now = {day["number"]: day for day in schedule_values(cohort)}
    then = {day.get("number"): day for day in snapshot} if isinstance(snapshot, list) else None
    changes = []
    for number in sorted(set(now) | set(then or {})):
        before = (then or {}).get(number)
        if then is None or before != now.get(number):
            changes.append(Change(f"Day {number}", _describe_day(before) if then is not None else "(not known)",
                                  _describe_day(now.get(number))))
    if not changes:
        # The schedule is as it was, so the other save changed the cohort's details.
        changes = [Change("Cohort details", "as when you opened this page", "changed by someone else")]
    return Conflict(changes, cohort.version)


class _Stale(Exception):
    pass


def _flush_or_stale() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        raise _Stale() from error


def _reload(cohort_id: int) -> Cohort:
    db.session.rollback()
    return db.session.execute(
        select(Cohort).where(Cohort.id == cohort_id).options(selectinload(Cohort.days))
        .execution_options(populate_existing=True)).scalar_one()


# ---------------------------------------------------------------------------
# Creating and editing cohorts
# ---------------------------------------------------------------------------

def _details_problems(details: rules.CohortDetails, cohort: Cohort | None):
    courses = {slug: course.title for slug, course in available_courses().items()}
    if cohort is not None and cohort.course_slug not in courses:
        courses[cohort.course_slug] = cohort.course_slug  # keep a course whose folder has gone
    checked, problems = rules.check_cohort_details(details, courses)
    slug = details.slug.strip().lower()
    if not any(problem.field == "slug" for problem in problems):
        # Asked even when other fields are wrong, so every problem is reported at once.
        taken = db.session.execute(select(Cohort.id).where(Cohort.slug == slug)).scalar_one_or_none()
        if taken is not None and (cohort is None or taken != cohort.id):
            problems.append(rules.Problem("slug", f"Another cohort already uses the short name “{slug}”. Choose another."))
    if checked is None or problems:
        return None, problems
    if cohort is not None and checked.course_slug != cohort.course_slug and cohort.days:
        wanted = course_days(checked.course_slug)
        if wanted != len(cohort.days):
            problems.append(rules.Problem("course_slug", (
                f"This cohort's schedule has {len(cohort.days)} course days, but that course has {wanted}. "
                "Keep the course, or start a new cohort for the other one.")))
    return (None, problems) if problems else (checked, [])


def create_cohort(actor: User | None, details: rules.CohortDetails) -> tuple[Cohort | None, list[rules.Problem]]:
    """Create a cohort from the form's details; its schedule is set next, on its own page."""
    require_admin(actor)
    checked, problems = _details_problems(details, None)
    if problems:
        return None, problems
    cohort = Cohort(course_slug=checked.course_slug, name=checked.name, slug=checked.slug,
                    start_date=checked.start_date, capacity=checked.capacity, status=checked.status)
    db.session.add(cohort)
    db.session.flush()
    audit.record(actor, "cohort.created", "cohort", cohort.id, cohort_id=cohort.id,
                 after={**cohort_values(cohort), "version": cohort.version})
    return cohort, []


def update_cohort(actor: User | None, cohort: Cohort, details: rules.CohortDetails, *, version: int | None,
                  snapshot) -> Outcome:
    """Save a cohort's details, unless someone else saved it since the form was opened."""
    require_admin(actor)
    if version != cohort.version:
        return Outcome(conflict=cohort_conflict(cohort, snapshot))
    checked, problems = _details_problems(details, cohort)
    if problems:
        return Outcome(problems=problems)
    before = cohort_values(cohort)
    cohort.course_slug, cohort.name, cohort.slug = checked.course_slug, checked.name, checked.slug
    cohort.start_date, cohort.capacity, cohort.status = checked.start_date, checked.capacity, checked.status
    old, new = audit.changes(before, cohort_values(cohort))
    if not new:
        return Outcome(ok=True)
    cohort_id = cohort.id
    try:
        _flush_or_stale()
    except _Stale:
        return Outcome(conflict=cohort_conflict(_reload(cohort_id), snapshot))
    audit.record(actor, "cohort.updated", "cohort", cohort.id, cohort_id=cohort.id,
                 before={**old, "version": version}, after={**new, "version": cohort.version})
    return Outcome(ok=True)


# ---------------------------------------------------------------------------
# The schedule
# ---------------------------------------------------------------------------

def suggested_schedule(cohort: Cohort, days: int) -> list[rules.DayEntry]:
    """A first schedule to edit: the days already set, then weekly days from the start date."""
    from datetime import timedelta

    entries = [rules.DayEntry(day.date.isoformat(), day.starts_at.strftime("%H:%M"), day.ends_at.strftime("%H:%M"),
                              day.venue) for day in cohort.days[:days]]
    last = cohort.days[len(entries) - 1].date if entries else cohort.start_date - timedelta(weeks=1)
    venue = cohort.days[-1].venue if cohort.days else ""
    while len(entries) < days:
        last = last + timedelta(weeks=1)
        entries.append(rules.DayEntry(last.isoformat(), "09:30", "16:00", venue))
    return entries


def _scheduled(day: CourseDay) -> rules.ScheduledDay:
    return rules.ScheduledDay(day.number, day.date, day.starts_at, day.ends_at, day.venue)


def _day_text(day: rules.ScheduledDay) -> str:
    where = day.venue
    return (f"Day {day.number}: {day.date:%A} {day.date.day} {day.date:%B %Y}, "
            f"{day.starts_at:%H:%M} to {day.ends_at:%H:%M}, {where}")


def save_schedule(actor: User | None, cohort: Cohort, entries: list[rules.DayEntry], *, version: int | None,
                  snapshot) -> Outcome:
    """Save the whole schedule of a cohort's course days.

    Existing course days keep their identity (registers and notes hang on
    them); a changed day is announced to everyone enrolled and to the tutors.
    """
    require_admin(actor)
    if version != cohort.version:
        return Outcome(conflict=schedule_conflict(cohort, snapshot))
    expected = course_days(cohort.course_slug) or len(cohort.days)
    if not expected:
        return Outcome(problems=[rules.Problem("days", (
            f"The course “{cohort.course_slug}” is not in the courses folder, so we do not know how many days it has."))])
    checked, problems = rules.check_schedule(entries, expected)
    if problems:
        return Outcome(problems=[rules.Problem(_day_field(p), p.message) for p in problems])
    old_days = [_scheduled(day) for day in cohort.days]
    changed = rules.schedule_changes(old_days, checked)
    if not changed and len(old_days) == len(checked):
        return Outcome(ok=True)
    existing = {day.number: day for day in cohort.days}
    for day in checked:
        row = existing.get(day.number)
        if row is None:
            cohort.days.append(CourseDay(number=day.number, date=day.date, starts_at=day.starts_at,
                                         ends_at=day.ends_at, venue=day.venue))
        else:
            row.date, row.starts_at, row.ends_at, row.venue = day.date, day.starts_at, day.ends_at, day.venue
    for number, row in existing.items():
        if number > len(checked):
            cohort.days.remove(row)
    flag_modified(cohort, "name")  # a schedule change is a change to the cohort: bump its version
    cohort_id = cohort.id
    try:
        _flush_or_stale()
    except _Stale:
        return Outcome(conflict=schedule_conflict(_reload(cohort_id), snapshot))
    rescheduled = [(old, new) for old, new in changed if old is not None]
    audit.record(actor, "cohort.schedule_changed" if old_days else "cohort.schedule_set", "cohort", cohort.id,
                 cohort_id=cohort.id,
                 before={"days": [_day_text(old) for old, _ in changed if old is not None], "version": version},
                 after={"days": [_day_text(new) for _, new in changed], "version": cohort.version})
    notified = _announce_rescheduling(cohort, rescheduled) if rescheduled else 0
    return Outcome(ok=True, notified=notified)


def _day_field(problem: rules.DayProblem) -> str:
    if problem.day is None:
        return "days"
    return f"days-{problem.day - 1}-{problem.part}"


def _announce_rescheduling(cohort: Cohort, rescheduled) -> int:
    """Tell everyone enrolled (and the tutors) which course days moved; returns how many people were told."""
    people = list(db.session.execute(
        select(User).where(User.active.is_(True), or_(
            User.id.in_(select(Enrolment.trainee_id).where(
                Enrolment.cohort_id == cohort.id, Enrolment.status.in_(rules.CURRENT_STATUSES))),
            User.id.in_(select(RoleGrant.user_id).where(
                RoleGrant.cohort_id == cohort.id, RoleGrant.role == Role.TUTOR.value)),
        ))).scalars())
    lines = []
    for old, new in rescheduled:
        lines.append(f"{_day_text(new)}\n  (was {old.date:%A} {old.date.day} {old.date:%B %Y}, "
                     f"{old.starts_at:%H:%M} to {old.ends_at:%H:%M}, {old.venue})")
    numbers = ", ".join(str(new.number) for _, new in rescheduled)
    subject = (f"Course day {numbers} has changed" if len(rescheduled) == 1 else f"Course days {numbers} have changed")
    body = (f"The schedule of {cohort.name} has changed:\n\n" + "\n\n".join(lines) +
            "\n\nIf the new time is hard for you, talk to your tutor: together you can find a way to catch up.")
    for person in people:
        notify(person, subject[:200], body, link="/home")
    return len(people)


# ---------------------------------------------------------------------------
# Tutors and other roles in a cohort
# ---------------------------------------------------------------------------

def people_with_role(cohort_id: int, role: Role) -> list[User]:
    """Active people holding ``role`` in a cohort, by name, with their organisation."""
    return list(db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.cohort_id == cohort_id, RoleGrant.role == role.value, User.active.is_(True))
        .options(selectinload(User.organisation)).order_by(func.lower(User.display_name), User.id)
    ).scalars())


def ensure_role(user: User, role: Role, cohort_id: int) -> RoleGrant:
    """Give ``user`` a role in a cohort unless they hold it (without loading all their grants)."""
    if "role_grants" in inspect(user).dict:
        return accounts.grant_role(user, role, cohort_id)
    grant = db.session.execute(select(RoleGrant).where(
        RoleGrant.user_id == user.id, RoleGrant.role == Role(role).value, RoleGrant.cohort_id == cohort_id)
    ).scalar_one_or_none()
    if grant is None:
        grant = RoleGrant(user_id=user.id, role=Role(role).value, cohort_id=cohort_id)
        db.session.add(grant)
        db.session.flush()
    return grant


def _grant_record(grant: RoleGrant) -> dict:
    return {"role": grant.role, "cohort_id": grant.cohort_id, "lead": grant.lead,
            "peer_trainer": bool(grant.peer_trainer)}


def grant_cohort_role(actor: User | None, cohort: Cohort, email: str, role: str, *, lead: bool = False,
                      peer_trainer: bool = False) -> list[rules.Problem]:
    """Give an existing person a tutor, supervisor or external examiner role in the cohort (a lead tutor replaces the last one)."""
    require_admin(actor)
    problems = []
    try:
        chosen = Role(role)
    except ValueError:
        chosen = None
    if chosen not in COHORT_ROLES:
        problems.append(rules.Problem("role", "Choose the role: tutor, academic supervisor, personal supervisor or external examiner."))
    email = accounts.normalise_email(email)
    person = None
    if not email:
        problems.append(rules.Problem("email", "Enter the person's email address."))
    else:
        person = db.session.execute(
            select(User).where(User.email == email).options(selectinload(User.role_grants))).scalar_one_or_none()
        if person is None:
            problems.append(rules.Problem("email", (
                f"There is no account for {email}. Invite them first, or add them with the import.")))
        elif not person.active:
            problems.append(rules.Problem("email", f"{person.display_name}'s account is deactivated. Reactivate it first."))
    if problems:
        return problems
    held = {grant.role for grant in person.role_grants if grant.cohort_id == cohort.id}
    if chosen.value in held:
        return [rules.Problem("email", f"{person.display_name} is already a {chosen.label.lower()} in this cohort.")]
    if Role.TRAINEE.value in held:
        return [rules.Problem("email", f"{person.display_name} is a trainee in this cohort, so cannot also be a "
                                       f"{chosen.label.lower()} in it.")]
    if chosen is Role.PERSONAL_SUPERVISOR and person.organisation_id is None:
        return [rules.Problem("email", (
            f"{person.display_name} has no organisation on their account. A personal supervisor works for the "
            "trainee's own organisation: set theirs on their page first."))]
    if peer_trainer and chosen is not Role.TUTOR:
        return [rules.Problem("peer_trainer", "Only tutors co-deliver the course. Untick “They co-deliver from "
                                              "their own lived experience”, or choose the tutor role.")]
    grant = accounts.grant_role(person, chosen, cohort.id)
    if chosen is Role.TUTOR and (lead or lead_tutor(cohort.id) is None):
        _make_lead(actor, cohort, grant)
    if peer_trainer:
        grant.peer_trainer = True
    audit.record(actor, "role.granted", "role_grant", grant.id, cohort_id=cohort.id, subject_user_id=person.id,
                 after=_grant_record(grant))
    return []


def _make_lead(actor: User | None, cohort: Cohort, grant: RoleGrant) -> None:
    previous = list(db.session.execute(select(RoleGrant).where(
        RoleGrant.cohort_id == cohort.id, RoleGrant.role == Role.TUTOR.value, RoleGrant.lead.is_(True),
        RoleGrant.id != grant.id)).scalars())
    for other in previous:
        other.lead = False
        audit.record(actor, "role.lead_changed", "role_grant", other.id, cohort_id=cohort.id,
                     subject_user_id=other.user_id, before={"lead": True}, after={"lead": False})
    grant.lead = True
    db.session.flush()


def _grant_in(cohort: Cohort, grant_id: int) -> RoleGrant:
    grant = db.session.execute(
        select(RoleGrant).where(RoleGrant.id == grant_id, RoleGrant.cohort_id == cohort.id)
        .options(selectinload(RoleGrant.user))).scalar_one_or_none()
    if grant is None or grant.role not in {role.value for role in COHORT_ROLES}:
        abort(404)
    return grant


def set_lead_tutor(actor: User | None, cohort: Cohort, grant_id: int) -> RoleGrant:
    """Make one of the cohort's tutors its lead tutor."""
    require_admin(actor)
    grant = _grant_in(cohort, grant_id)
    if grant.role != Role.TUTOR.value:
        abort(404)
    if not grant.lead:
        _make_lead(actor, cohort, grant)
        audit.record(actor, "role.lead_changed", "role_grant", grant.id, cohort_id=cohort.id,
                     subject_user_id=grant.user_id, before={"lead": False}, after={"lead": True})
    return grant


def set_peer_trainer(actor: User | None, cohort: Cohort, grant_id: int, peer_trainer: bool) -> RoleGrant:
    """Record whether one of the cohort's tutors co-delivers from their own lived experience."""
    require_admin(actor)
    grant = _grant_in(cohort, grant_id)
    if grant.role != Role.TUTOR.value:
        abort(404)
    accounts.change_peer_trainer(actor, grant, peer_trainer)
    return grant


def revoke_cohort_role(actor: User | None, cohort: Cohort, grant_id: int) -> list[rules.Problem]:
    """Take a tutor or supervisor role away, unless trainees still depend on it."""
    require_admin(actor)
    grant = _grant_in(cohort, grant_id)
    column = {Role.ACADEMIC_SUPERVISOR.value: Enrolment.academic_supervisor_id,
              Role.PERSONAL_SUPERVISOR.value: Enrolment.personal_supervisor_id}.get(grant.role)
    if column is not None:
        linked = db.session.execute(select(func.count(Enrolment.id)).where(
            Enrolment.cohort_id == cohort.id, column == grant.user_id,
            Enrolment.status.in_(rules.CURRENT_STATUSES))).scalar_one()
        if linked:
            return [rules.Problem("revoke", (
                f"{grant.user.display_name} supervises {linked} trainee{'s' if linked != 1 else ''} in this cohort. "
                "Choose another supervisor for them first."))]
    record = _grant_record(grant)
    user_id = grant.user_id
    db.session.delete(grant)
    db.session.flush()
    audit.record(actor, "role.revoked", "role_grant", grant_id, cohort_id=cohort.id, subject_user_id=user_id,
                 before=record)
    return []


# ---------------------------------------------------------------------------
# Enrolment
# ---------------------------------------------------------------------------

def enrolment_values(enrolment: Enrolment) -> dict:
    return {
        "status": enrolment.status, "academic_supervisor_id": enrolment.academic_supervisor_id,
        "personal_supervisor_id": enrolment.personal_supervisor_id, "status_reason": enrolment.status_reason,
        "status_changed_on": enrolment.status_changed_on, "transferred_to_id": enrolment.transferred_to_id,
    }


def _supervisor_problems(cohort: Cohort, organisation_id: int | None, academic_id: int | None,
                         personal_id: int | None) -> tuple[list[rules.Problem], User | None, User | None]:
    """Check chosen supervisors: each must hold that role in the cohort; a personal supervisor
    must work for the trainee's organisation."""
    problems = []
    academic = personal = None
    if academic_id:
        academic = next((u for u in people_with_role(cohort.id, Role.ACADEMIC_SUPERVISOR) if u.id == academic_id), None)
        if academic is None:
            problems.append(rules.Problem("academic_supervisor", "Choose an academic supervisor of this cohort from the list."))
    if personal_id:
        personal = next((u for u in people_with_role(cohort.id, Role.PERSONAL_SUPERVISOR) if u.id == personal_id), None)
        if personal is None:
            problems.append(rules.Problem("personal_supervisor", "Choose a personal supervisor of this cohort from the list."))
        elif organisation_id is None:
            problems.append(rules.Problem("personal_supervisor", (
                "The trainee has no organisation yet, so a personal supervisor cannot be checked. Choose their organisation first.")))
        elif personal.organisation_id != organisation_id:
            theirs = personal.organisation.name if personal.organisation else "no organisation"
            problems.append(rules.Problem("personal_supervisor", (
                f"{personal.display_name} works for {theirs}, not the trainee's organisation. "
                "A personal supervisor must be from the trainee's own organisation.")))
            personal = None
    return problems, academic, personal


def current_enrolment_elsewhere(trainee_id: int, cohort_id: int) -> Enrolment | None:
    return db.session.execute(
        select(Enrolment).where(Enrolment.trainee_id == trainee_id, Enrolment.cohort_id != cohort_id,
                                Enrolment.status.in_(rules.CURRENT_STATUSES))
        .options(selectinload(Enrolment.cohort))).scalars().first()


@dataclass
class EnrolRequest:
    email: str
    name: str = ""
    organisation_id: int | None = None
    academic_supervisor_id: int | None = None
    personal_supervisor_id: int | None = None


def enrol(actor: User | None, cohort: Cohort, request: EnrolRequest) -> tuple[Enrolment | None, list[rules.Problem], User | None]:
    """Enrol a person as a trainee (creating their account if they are new).

    Returns the enrolment, the problems (nothing saved when there are any) and
    the person when their account was created here (so they can be invited).
    """
    require_admin(actor)
    problems: list[rules.Problem] = []
    email = accounts.normalise_email(request.email)
    person = None
    if not email:
        problems.append(rules.Problem("email", "Enter the trainee's email address."))
    elif not rules.valid_email(email):
        problems.append(rules.Problem("email", "Enter an email address in the right format, like name@example.org."))
    else:
        person = db.session.execute(
            select(User).where(User.email == email).options(selectinload(User.role_grants), selectinload(User.organisation))
        ).scalar_one_or_none()
    organisation = db.session.get(Organisation, request.organisation_id) if request.organisation_id else None
    if request.organisation_id and organisation is None:
        problems.append(rules.Problem("organisation", "Choose an organisation from the list."))
    if person is None and email and not problems:
        if not request.name.strip():
            problems.append(rules.Problem("name", f"There is no account for {email} yet: enter their name to create one."))
        elif len(request.name.strip()) > rules.MAX_NAME:
            problems.append(rules.Problem("name", f"Keep the name to {rules.MAX_NAME} characters or fewer."))
        if organisation is None and not request.organisation_id:
            problems.append(rules.Problem("organisation", "Choose the organisation the trainee works for."))
    if person is not None:
        if not person.active:
            problems.append(rules.Problem("email", f"{person.display_name}'s account is deactivated. Reactivate it first."))
        if organisation is not None and person.organisation_id not in (None, organisation.id):
            problems.append(rules.Problem("organisation", (
                f"{person.display_name}'s account belongs to {person.organisation.name}. "
                "Choose that, or change their organisation on their page first.")))
        held = {grant.role for grant in person.role_grants if grant.cohort_id == cohort.id}
        staff = held & {role.value for role in COHORT_ROLES}
        if staff:
            problems.append(rules.Problem("email", (
                f"{person.display_name} is a {Role(sorted(staff)[0]).label.lower()} in this cohort, so cannot also be a trainee in it.")))
        here = db.session.execute(select(Enrolment).where(
            Enrolment.cohort_id == cohort.id, Enrolment.trainee_id == person.id)).scalar_one_or_none()
        if here is not None:
            problems.append(rules.Problem("email", (
                f"{person.display_name} is already enrolled in this cohort "
                f"({rules.STATUS_LABELS[here.status].lower()}). Enrolling twice is not possible: "
                "change their existing enrolment instead.")))
        else:
            elsewhere = current_enrolment_elsewhere(person.id, cohort.id)
            if elsewhere is not None:
                problems.append(rules.Problem("email", (
                    f"{person.display_name} is already enrolled in {elsewhere.cohort.name}. "
                    "Transfer them from that enrolment's page instead.")))
    trainee_organisation_id = (organisation.id if organisation else None) or (person.organisation_id if person else None)
    supervisor_problems, academic, personal = _supervisor_problems(
        cohort, trainee_organisation_id, request.academic_supervisor_id, request.personal_supervisor_id)
    problems.extend(supervisor_problems)
    if places_taken(cohort.id) >= cohort.capacity:
        problems.append(rules.Problem("email", (
            f"The cohort is full: all {cohort.capacity} places are taken. Raise the number of places on the "
            "cohort's details page first.")))
    if problems:
        return None, problems, None
    created = None
    if person is None:
        person = accounts.create_user(email, request.name, organisation=organisation)
        created = person
        audit.record(actor, "user.created", "user", person.id, subject_user_id=person.id,
                     after={"email": person.email, "display_name": person.display_name,
                            "organisation": organisation.name if organisation else None})
    elif person.organisation_id is None and organisation is not None:
        person.organisation = organisation
        audit.record(actor, "user.updated", "user", person.id, subject_user_id=person.id,
                     before={"organisation": None}, after={"organisation": organisation.name})
    ensure_role(person, Role.TRAINEE, cohort.id)
    enrolment = Enrolment(cohort_id=cohort.id, trainee_id=person.id, status="active",
                          academic_supervisor_id=academic.id if academic else None,
                          personal_supervisor_id=personal.id if personal else None)
    db.session.add(enrolment)
    db.session.flush()
    audit.record(actor, "enrolment.created", "enrolment", enrolment.id, cohort_id=cohort.id,
                 subject_user_id=person.id, after=enrolment_values(enrolment))
    return enrolment, [], created


def get_enrolment(actor: User | None, cohort: Cohort, enrolment_id: int) -> Enrolment:
    require_admin(actor)
    enrolment = db.session.execute(
        select(Enrolment).where(Enrolment.id == enrolment_id, Enrolment.cohort_id == cohort.id)
        .options(selectinload(Enrolment.trainee).selectinload(User.organisation), selectinload(Enrolment.cohort),
                 selectinload(Enrolment.academic_supervisor), selectinload(Enrolment.personal_supervisor))
    ).scalar_one_or_none()
    if enrolment is None:
        abort(404)
    return enrolment


def change_supervisors(actor: User | None, enrolment: Enrolment, academic_id: int | None,
                       personal_id: int | None) -> list[rules.Problem]:
    """Choose a trainee's academic and personal supervisors (either may be left empty)."""
    require_admin(actor)
    problems, academic, personal = _supervisor_problems(
        enrolment.cohort, enrolment.trainee.organisation_id, academic_id, personal_id)
    if problems:
        return problems
    before = enrolment_values(enrolment)
    enrolment.academic_supervisor = academic
    enrolment.personal_supervisor = personal
    db.session.flush()
    old, new = audit.changes(before, enrolment_values(enrolment))
    if new:
        audit.record(actor, "enrolment.supervisors_changed", "enrolment", enrolment.id, cohort_id=enrolment.cohort_id,
                     subject_user_id=enrolment.trainee_id, before=old, after=new)
    return []


def transfer_targets(enrolment: Enrolment) -> list[Cohort]:
    """Cohorts of the same course a trainee could move to (planned or running, not this one)."""
    return list(db.session.execute(
        select(Cohort).where(Cohort.id != enrolment.cohort_id, Cohort.course_slug == enrolment.cohort.course_slug,
                             Cohort.status.in_(("planned", "running")))
        .order_by(Cohort.start_date, Cohort.id)).scalars())


def change_status(actor: User | None, enrolment: Enrolment, action: str, *, reason: str = "",
                  on_date: str = "", target_cohort_id: int | None = None) -> tuple[list[rules.Problem], Enrolment | None]:
    """Defer, withdraw, transfer, complete (and undo those) an enrolment; nothing is ever deleted.

    A transfer creates a new enrolment in the target cohort with the same
    supervisors, and marks this one transferred with a link to it. Returns the
    problems and, for a transfer, the new enrolment.
    """
    require_admin(actor)
    problems = rules.status_change_problems(enrolment.status, action, reason, on_date)
    target = None
    if action == "transfer" and not problems:
        target = next((c for c in transfer_targets(enrolment) if c.id == target_cohort_id), None)
        if target is None:
            problems.append(rules.Problem("target_cohort", "Choose the cohort the trainee is moving to."))
        else:
            if db.session.execute(select(Enrolment.id).where(
                    Enrolment.cohort_id == target.id, Enrolment.trainee_id == enrolment.trainee_id)).first():
                problems.append(rules.Problem("target_cohort", (
                    f"{enrolment.trainee.display_name} has been enrolled in {target.name} before. "
                    "Change that enrolment instead.")))
            elif places_taken(target.id) >= target.capacity:
                problems.append(rules.Problem("target_cohort", f"{target.name} is full: all {target.capacity} places are taken."))
    if problems:
        return problems, None
    before = enrolment_values(enrolment)
    enrolment.status = rules.next_status(enrolment.status, action)
    enrolment.status_reason = reason.strip() or None
    enrolment.status_changed_on = rules.parse_date(on_date)
    moved = None
    if target is not None:
        moved = Enrolment(cohort_id=target.id, trainee_id=enrolment.trainee_id, status="active",
                          academic_supervisor_id=enrolment.academic_supervisor_id,
                          personal_supervisor_id=enrolment.personal_supervisor_id)
        db.session.add(moved)
        db.session.flush()
        enrolment.transferred_to_id = moved.id
        ensure_role(enrolment.trainee, Role.TRAINEE, target.id)
        # The supervisors follow their trainee into the new cohort.
        for supervisor, role in ((enrolment.academic_supervisor, Role.ACADEMIC_SUPERVISOR),
                                 (enrolment.personal_supervisor, Role.PERSONAL_SUPERVISOR)):
            if supervisor is not None:
                ensure_role(supervisor, role, target.id)
        audit.record(actor, "enrolment.created", "enrolment", moved.id, cohort_id=target.id,
                     subject_user_id=moved.trainee_id, after={**enrolment_values(moved), "transferred_from_id": enrolment.id})
        notify(enrolment.trainee, f"You have moved to {target.name}"[:200], (
            f"Your place has moved from {enrolment.cohort.name} to {target.name}. Everything you have done so far "
            "stays with you. Your tutors will be in touch about the course days ahead."), link="/home")
    db.session.flush()
    old, new = audit.changes(before, enrolment_values(enrolment))
    audit.record(actor, f"enrolment.{action}", "enrolment", enrolment.id, cohort_id=enrolment.cohort_id,
                 subject_user_id=enrolment.trainee_id, before=old, after=new, reason=enrolment.status_reason)
    return [], moved


def enrolment_history(trainee_id: int) -> list[Enrolment]:
    """Every enrolment of a person, newest cohort first, with cohorts and supervisors."""
    return list(db.session.execute(
        select(Enrolment).join(Enrolment.cohort).where(Enrolment.trainee_id == trainee_id)
        .options(selectinload(Enrolment.cohort), selectinload(Enrolment.academic_supervisor),
                 selectinload(Enrolment.personal_supervisor))
        .order_by(Cohort.start_date.desc(), Enrolment.id.desc())).scalars())


def organisations() -> list[Organisation]:
    return list(db.session.execute(select(Organisation).order_by(func.lower(Organisation.name))).scalars())


def today_in_zone() -> date:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(current_app.config["LMS_TIMEZONE"])).date()

