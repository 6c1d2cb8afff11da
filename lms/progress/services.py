"""Progress for every role: the same engine behind the trainee's path, the grids and the API.

Services take the acting person and check what they may see themselves;
something they may not see answers 404.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import abort
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.authz.access import object_or_404
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, Enrolment
from lms.cohorts.policies import is_admin, teaches
from lms.cohorts.rules import csv_safe
from lms.database import utcnow
from lms.extensions import db
from lms.progress import policies
from lms.progress.facts import Extras, RulesUnavailable, facts_for, rules_for
from lms.progress.models import ApiToken, MarkSharingConsent, SupervisionNote
from lms.progress.rules import AssessmentState, Facts, Outcome, Rules, evaluate, long_date

QUIET_DAYS = 14
ENDED = frozenset({"withdrawn", "transferred"})

FLAG_UNREACHABLE = "Threshold no longer reachable"
FLAG_QUIET = f"No activity for {QUIET_DAYS} days"
FLAG_OVERDUE = "Assignment overdue"

AWARD_TEXT = {"credit": "Certificate with 20 credits", "completion": "Certificate of completion",
              "none": "No certificate this time", None: "Not decided yet"}
STATUS_TEXT = {"in_progress": "In progress", "provisional": "Provisional (waiting for the exam board)",
               "ratified": "Confirmed by the exam board"}
STATE_TEXT = {
    AssessmentState.NOT_YET_DUE: "Not due yet",
    AssessmentState.OVERDUE: "Overdue",
    AssessmentState.AWAITING_MARK: "Waiting for a mark",
    AssessmentState.AWAITING_NEW_DATE: "Waiting for a new date",
    AssessmentState.PASSED: "Passed",
    AssessmentState.NOT_PASSED: "Not passed",
}
REQUEST_TEXT = {"requested": "requested", "granted": "granted", "refused": "not granted", "reported": "reported",
                "accepted": "accepted", "rejected": "not accepted", "withdrawn": "withdrawn"}


def enrolment_options():
    """What every progress page reads from an enrolment, loaded up front."""
    return (selectinload(Enrolment.trainee), selectinload(Enrolment.cohort).selectinload(Cohort.days),
            selectinload(Enrolment.academic_supervisor), selectinload(Enrolment.personal_supervisor))


@dataclass
class ProgressRow:
    """One trainee's progress as a grid row: the engine's outcome and what staff see beside it."""

    enrolment: Enrolment
    facts: Facts
    outcome: Outcome | None
    extras: Extras
    show_marks: bool
    rules: Rules | None
    flags: list[str] = field(default_factory=list)

    @property
    def trainee(self) -> User:
        return self.enrolment.trainee

    @property
    def at_risk(self) -> bool:
        return bool(self.flags)

    @property
    def assessment(self):
        """The first credit-bearing assessment's outcome (the accredited assignment), or None."""
        if self.outcome is None:
            return None
        return next((a for a in self.outcome.assessments.values() if a.credit_bearing), None)

    @property
    def assignment_text(self) -> str:
        assessment = self.assessment
        if assessment is None:
            return "No assignment"
        text = STATE_TEXT[assessment.state]
        if assessment.state in (AssessmentState.PASSED, AssessmentState.NOT_PASSED) and not self.show_marks:
            return "Marked"
        if assessment.state is AssessmentState.NOT_YET_DUE and assessment.attempts:
            return f"{text} (due {long_date(assessment.attempts[-1].deadline)})"
        return text

    @property
    def mark_text(self) -> str:
        assessment = self.assessment
        if not self.show_marks or assessment is None or assessment.recorded_mark is None:
            return ""
        flags = " ".join(flag.value for flag in assessment.flags)
        return f"{assessment.recorded_mark}{' ' + flags if flags else ''}"

    @property
    def requests_text(self) -> str:
        parts = []
        if self.extras.extension:
            parts.append(f"Extension {REQUEST_TEXT.get(self.extras.extension, self.extras.extension)}")
        if self.extras.mitigation:
            parts.append(f"Mitigation {REQUEST_TEXT.get(self.extras.mitigation, self.extras.mitigation)}")
        return "; ".join(parts)

    @property
    def award_text(self) -> str:
        if self.outcome is None:
            return "Rules unavailable"
        return AWARD_TEXT.get(self.outcome.award.value if self.outcome.award else None, "")

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.outcome.status.value] if self.outcome else ""


def _flags(enrolment: Enrolment, outcome: Outcome | None, extras: Extras, as_of: datetime) -> list[str]:
    if outcome is None or enrolment.status in ENDED:
        return []
    flags = []
    if not outcome.attendance.reachable:
        flags.append(FLAG_UNREACHABLE)
    if any(a.state is AssessmentState.OVERDUE for a in outcome.assessments.values() if a.credit_bearing):
        flags.append(FLAG_OVERDUE)
    started = [d for d in extras.day_dates if d <= as_of.date()]
    if outcome.status.value == "in_progress" and started:
        quiet_since = as_of - timedelta(days=QUIET_DAYS)
        reference = extras.last_activity or datetime.combine(min(started), datetime.min.time(), tzinfo=as_of.tzinfo)
        if reference < quiet_since:
            flags.append(FLAG_QUIET)
    return flags


def build_rows(enrolments: list[Enrolment], as_of: datetime, *, released_only: bool, viewer: User | None = None,
               marks_for=lambda enrolment: True) -> list[ProgressRow]:
    """Rows for the enrolments (loaded with `enrolment_options`), in a bounded number of queries."""
    facts, extras = facts_for(enrolments, as_of, released_only=released_only,
                              viewer_id=viewer.id if viewer is not None else None)
    rules_cache: dict[str, Rules | None] = {}
    rows = []
    for enrolment in enrolments:
        course = enrolment.cohort.course_slug
        if course not in rules_cache:
            try:
                rules_cache[course] = rules_for(course)
            except RulesUnavailable:
                rules_cache[course] = None
        rules = rules_cache[course]
        outcome = evaluate(rules, facts[enrolment.id]) if rules is not None else None
        rows.append(ProgressRow(enrolment, facts[enrolment.id], outcome, extras[enrolment.id],
                                marks_for(enrolment), rules, _flags(enrolment, outcome, extras[enrolment.id], as_of)))
    return rows


SORTS = {
    "name": lambda row: row.trainee.display_name.casefold(),
    "attendance": lambda row: row.outcome.attendance.counted if row.outcome else -1,
    "flags": lambda row: -len(row.flags),
    "cohort": lambda row: (row.enrolment.cohort.start_date, row.enrolment.cohort.name),
}
FILTERS = {"all": "Everyone", "at-risk": "Trainees who may need support"}


def arrange(rows: list[ProgressRow], filter_by: str, sort: str, descending: bool) -> list[ProgressRow]:
    """Filter (all or at-risk) and sort the rows; unknown values fall back to the defaults."""
    if filter_by == "at-risk":
        rows = [row for row in rows if row.at_risk]
    key = SORTS.get(sort, SORTS["name"])
    return sorted(rows, key=lambda row: (key(row), row.trainee.display_name.casefold()), reverse=descending)


def _consents(enrolment_ids) -> set[int]:
    ids = list(enrolment_ids)
    if not ids:
        return set()
    return set(db.session.execute(select(MarkSharingConsent.enrolment_id).where(
        MarkSharingConsent.enrolment_id.in_(ids), MarkSharingConsent.consented.is_(True))).scalars())


def _marks_rule(viewer: User, consents: set[int]):
    """Academic supervisors, tutors and admins see released marks; a personal supervisor only with consent."""
    def show(enrolment: Enrolment) -> bool:
        if is_admin(viewer) or teaches(viewer, enrolment.cohort_id) or enrolment.academic_supervisor_id == viewer.id:
            return True
        return enrolment.id in consents
    return show


# --- the trainee's path -------------------------------------------------------------------


@dataclass
class Path:
    row: ProgressRow
    consented: bool


def my_paths(actor: User, as_of: datetime) -> list[Path]:
    """The signed-in trainee's path to the certificate in each of their cohorts. Marks only once released."""
    enrolments = db.session.execute(
        select(Enrolment).options(*enrolment_options()).where(Enrolment.trainee_id == actor.id)
        .order_by(Enrolment.enrolled_at.desc())).scalars().all()
    rows = build_rows(list(enrolments), as_of, released_only=True)
    consents = _consents(e.id for e in enrolments)
    return [Path(row, row.enrolment.id in consents) for row in rows]


def set_mark_consent(actor: User, enrolment_id: int, consented: bool) -> MarkSharingConsent:
    """The trainee chooses whether their personal supervisor sees their marks."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    object_or_404(enrolment, enrolment is not None and enrolment.trainee_id == actor.id)
    consent = db.session.get(MarkSharingConsent, enrolment_id)
    if consent is None:
        consent = MarkSharingConsent(enrolment_id=enrolment_id)
        db.session.add(consent)
    consent.consented = consented
    consent.changed_at = utcnow()
    db.session.flush()
    return consent


# --- supervisors' caseload and cohort grids ------------------------------------------------


def caseload(actor: User, as_of: datetime) -> list[ProgressRow]:
    """Every trainee the actor supervises (academic or personal), across cohorts."""
    enrolments = list(db.session.execute(
        select(Enrolment).options(*enrolment_options()).where(or_(
            Enrolment.academic_supervisor_id == actor.id, Enrolment.personal_supervisor_id == actor.id))
    ).scalars())
    consents = _consents(e.id for e in enrolments)
    return build_rows(enrolments, as_of, released_only=True, viewer=actor, marks_for=_marks_rule(actor, consents))


def visible_cohorts(actor: User) -> list[Cohort]:
    """Cohorts whose grid the actor may see: all for admins, the ones they teach for tutors."""
    query = select(Cohort).order_by(Cohort.start_date.desc())
    if not is_admin(actor):
        query = query.where(Cohort.id.in_(actor.cohort_ids_for(Role.TUTOR)))
    return list(db.session.execute(query).scalars())


def cohort_for(actor: User, slug: str) -> Cohort:
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one_or_none()
    return object_or_404(cohort, cohort is not None and policies.can_see_cohort_progress(actor, cohort))


def cohort_rows(actor: User, cohort: Cohort, as_of: datetime) -> list[ProgressRow]:
    """The cohort's grid with the outcome forecast; agreed marks count (staff view)."""
    enrolments = list(db.session.execute(
        select(Enrolment).options(*enrolment_options()).where(Enrolment.cohort_id == cohort.id)).scalars())
    return build_rows(enrolments, as_of, released_only=False, viewer=actor)


@dataclass
class TraineePage:
    row: ProgressRow
    notes: list[SupervisionNote]


def trainee_page(actor: User, enrolment_id: int, as_of: datetime) -> TraineePage:
    """The caseload view of one trainee for staff linked to them; others get 404."""
    enrolment = db.session.execute(
        select(Enrolment).options(*enrolment_options()).where(Enrolment.id == enrolment_id)).scalar_one_or_none()
    object_or_404(enrolment, enrolment is not None and policies.is_staff_for(actor, enrolment))
    staff_marks = is_admin(actor) or teaches(actor, enrolment.cohort_id)
    row = build_rows([enrolment], as_of, released_only=not staff_marks, viewer=actor,
                     marks_for=_marks_rule(actor, _consents([enrolment.id])))[0]
    notes = list(db.session.execute(
        select(SupervisionNote).options(selectinload(SupervisionNote.author))
        .where(SupervisionNote.enrolment_id == enrolment.id).order_by(SupervisionNote.created_at.desc())).scalars())
    return TraineePage(row, notes)


NOTE_LIMIT = 5000


def add_note(actor: User, enrolment_id: int, text: str) -> tuple[SupervisionNote | None, list[tuple[str, str]]]:
    """Keep a supervision note on a trainee; staff linked to them only."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    object_or_404(enrolment, enrolment is not None and policies.is_staff_for(actor, enrolment))
    text = (text or "").strip()
    if not text:
        return None, [("text", "Write the note before saving it.")]
    if len(text) > NOTE_LIMIT:
        return None, [("text", f"The note is {len(text)} characters long; keep it to {NOTE_LIMIT}.")]
    note = SupervisionNote(enrolment_id=enrolment.id, author_id=actor.id, text=text)
    db.session.add(note)
    db.session.flush()
    return note, []


CSV_HEADER = ["Trainee", "Cohort", "Days counted", "Days needed", "Can still reach", "Units done", "Assignment",
              "Mark", "Extension or mitigation", "Diary entries", "Forecast", "Status", "Flags"]


def grid_csv(rows: list[ProgressRow]) -> str:
    """The grid as CSV; every cell is safe from spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        attendance = row.outcome.attendance if row.outcome else None
        writer.writerow([csv_safe(cell) for cell in (
            row.trainee.display_name, row.enrolment.cohort.name,
            attendance.counted if attendance else "", attendance.required if attendance else "",
            ("yes" if attendance.reachable else "no") if attendance else "", row.extras.units_done,
            row.assignment_text, row.mark_text, row.requests_text, row.extras.diary_entries,
            row.award_text, row.status_text, "; ".join(row.flags))])
    return out.getvalue()


@dataclass
class ChartBar:
    number: int
    day: object
    counted: int
    x: int
    y: int
    height: int


@dataclass
class Chart:
    bars: list[ChartBar]
    trainees: int
    width: int
    height: int


def cohort_chart(cohort: Cohort, rows: list[ProgressRow]) -> Chart:
    """Attendance counted on each course day (bars), for a server-rendered SVG and its table."""
    active = [row for row in rows if row.enrolment.status not in ENDED]
    days = list(cohort.days)
    plot_height, bar_width, gap = 160, 28, 8
    total = max(len(active), 1)
    bars = []
    for index, day in enumerate(days):
        counted = sum(1 for row in active if index < len(row.extras.per_day)
                      and row.extras.per_day[index] in ("counted", "caught_up"))
        height = round(plot_height * counted / total)
        bars.append(ChartBar(day.number, day, counted, 40 + index * (bar_width + gap), 10 + plot_height - height,
                             height))
    return Chart(bars, len(active), 40 + max(len(days), 1) * (bar_width + gap) + 10, plot_height + 40)


# --- the JSON API ---------------------------------------------------------------------------


SCOPES = frozenset({"progress:read"})


class ApiRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(actor: User, name: str, email: str, scopes: str) -> tuple[str | None, list[tuple[str, str]]]:
    """An admin creates a token acting for a person; returns the token (shown once) or the problems."""
    if not is_admin(actor):
        abort(403)
    errors = []
    name = (name or "").strip()
    if not name:
        errors.append(("name", "Give the token a name that says which integration uses it."))
    user = db.session.execute(select(User).where(User.email == (email or "").strip().lower())).scalar_one_or_none()
    if user is None:
        errors.append(("email", "There is no account with that email address."))
    wanted = set((scopes or "").split())
    if not wanted or not wanted <= SCOPES:
        errors.append(("scopes", f"Choose from these scopes: {', '.join(sorted(SCOPES))}."))
    if errors:
        return None, errors
    token = "lms_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(name=name[:120], digest=digest_of(token), scopes=" ".join(sorted(wanted)),
                            user_id=user.id, created_by_id=actor.id))
    db.session.flush()
    return token, []


def tokens(actor: User) -> list[ApiToken]:
    if not is_admin(actor):
        abort(403)
    return list(db.session.execute(select(ApiToken).options(selectinload(ApiToken.user))
                                   .order_by(ApiToken.created_at.desc())).scalars())


def revoke_token(actor: User, token_id: int) -> ApiToken:
    if not is_admin(actor):
        abort(403)
    token = object_or_404(db.session.get(ApiToken, token_id), True)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    db.session.flush()
    return token


def api_caller(authorization: str | None, session_user, scope: str = "progress:read") -> User:
    """The person an API request acts for: from a bearer token, else the session. Raises ApiRefused."""
    if authorization:
        kind, _, value = authorization.partition(" ")
        if kind.lower() != "bearer" or not value.strip():
            raise ApiRefused(401, "Send the token as 'Authorization: Bearer <token>'.")
        token = db.session.execute(select(ApiToken).options(selectinload(ApiToken.user).selectinload(User.role_grants))
                                   .where(ApiToken.digest == digest_of(value.strip()))).scalar_one_or_none()
        if token is None or token.revoked_at is not None:
            raise ApiRefused(401, "This token is not valid or has been revoked.")
        if scope not in token.scopes.split():
            raise ApiRefused(403, f"This token does not have the '{scope}' scope.")
        if not token.user.is_active:
            raise ApiRefused(401, "The account this token acts for is not active.")
        token.last_used_at = utcnow()
        return token.user
    if session_user is not None and session_user.is_authenticated:
        return session_user
    raise ApiRefused(401, "Sign in or send a token with 'Authorization: Bearer <token>'.")


def api_progress(caller: User, slug: str, as_of: datetime) -> dict:
    """The cohort's outcomes for the API: admins see all; supervisors their own trainees; otherwise 404."""
    from lms.progress.rules import outcome_to_dict

    cohort = db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one_or_none()
    if cohort is None:
        raise ApiRefused(404, "There is no such cohort.")
    query = select(Enrolment).options(*enrolment_options()).where(Enrolment.cohort_id == cohort.id)
    admin = is_admin(caller)
    if not admin:
        query = query.where(or_(Enrolment.academic_supervisor_id == caller.id,
                                Enrolment.personal_supervisor_id == caller.id))
    enrolments = list(db.session.execute(query).scalars())
    if not admin and not enrolments:
        raise ApiRefused(404, "There is no such cohort.")
    consents = _consents(e.id for e in enrolments)
    rows = build_rows(enrolments, as_of, released_only=not admin, marks_for=_marks_rule(caller, consents))
    trainees = []
    for row in sorted(rows, key=lambda r: r.enrolment.id):
        outcome = outcome_to_dict(row.outcome) if row.outcome else None
        if outcome is not None and not row.show_marks:
            for assessment in outcome["assessments"].values():
                assessment["raw_mark"] = assessment["recorded_mark"] = None
        trainees.append({"enrolment_id": row.enrolment.id, "trainee": row.trainee.display_name,
                         "enrolment_status": row.enrolment.status, "outcome": outcome})
    return {"cohort": cohort.slug, "as_of": as_of.isoformat(), "trainees": trainees}
