"""Progress for every role: the same engine behind the trainee's path, the grids and the API.

Services take the acting person and check what they may see themselves;
something they may not see answers 404.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from flask import abort
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.models import User
from lms.audit.services import record
from lms.authz.access import object_or_404
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, Enrolment
from lms.cohorts.policies import is_admin, teaches
from lms.cohorts.rules import csv_safe
from lms.cohorts.services import Page, page_number
from lms.database import utcnow
from lms.extensions import db
from lms.progress import policies
from lms.progress.facts import Extras, RulesUnavailable, facts_for, rules_for
from lms.progress.models import ApiToken, AssessmentOptOut, BoardDecision, MarkSharingConsent, SupervisionNote
from lms.progress.rules import (Achievable, AssessmentState, Award, Facts, Flag, Outcome, Rules, Status, evaluate,
                                long_date)
# The engine's own wording of an assessment's next step, so a page can leave out what a viewer may not see.
from lms.progress.rules import _assessment_sentence as assessment_sentence

QUIET_DAYS = 14
ENDED = frozenset({"withdrawn", "transferred"})

FLAG_UNREACHABLE = "Threshold no longer reachable"
FLAG_QUIET = f"No activity for {QUIET_DAYS} days"
FLAG_OVERDUE = "Assignment overdue"
NOT_SHARED = "Not shared (the trainee has not chosen to share their marks)"

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
    # The people and the cohort come in the same query (joined); only the cohort's days need one more.
    return (joinedload(Enrolment.trainee), joinedload(Enrolment.cohort).selectinload(Cohort.days),
            joinedload(Enrolment.academic_supervisor), joinedload(Enrolment.personal_supervisor))


@dataclass
class ProgressRow:
    """One trainee's progress as a grid row: the engine's outcome and what staff see beside it.

    `show_marks` is False for a personal supervisor the trainee has not chosen
    to share marks with: then the row shows no marks, no pass or fail, no mark
    flags and no award forecast. `show_mitigation` is False for anyone but the
    trainee, their academic supervisor and admins: then nothing about
    mitigating circumstances is shown.
    """

    enrolment: Enrolment
    facts: Facts
    outcome: Outcome | None
    extras: Extras
    show_marks: bool
    rules: Rules | None
    flags: list[str] = field(default_factory=list)
    show_mitigation: bool = True

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
        if not self.show_marks:
            return _unshared_assignment_text(assessment)
        text = STATE_TEXT[assessment.state]
        if assessment.state is AssessmentState.NOT_YET_DUE and assessment.attempts:
            return f"{text} (due {long_date(assessment.attempts[-1].deadline)})"
        return text

    @property
    def mark_flags(self) -> list[str]:
        """The recorded mark's flags this viewer may see (MC only with mitigation)."""
        assessment = self.assessment
        if not self.show_marks or assessment is None:
            return []
        return [flag.value for flag in assessment.flags if self.show_mitigation or flag is not Flag.MITIGATION]

    @property
    def mark_text(self) -> str:
        assessment = self.assessment
        if not self.show_marks or assessment is None or assessment.recorded_mark is None:
            return ""
        flags = " ".join(self.mark_flags)
        return f"{assessment.recorded_mark}{' ' + flags if flags else ''}"

    @property
    def requests_text(self) -> str:
        parts = []
        if self.extras.extension:
            parts.append(f"Extension {REQUEST_TEXT.get(self.extras.extension, self.extras.extension)}")
        if self.extras.mitigation and self.show_mitigation:
            parts.append(f"Mitigation {REQUEST_TEXT.get(self.extras.mitigation, self.extras.mitigation)}")
        return "; ".join(parts)

    @property
    def missing(self) -> list[str]:
        """What is still needed, without the sentences that would tell this viewer about marks or mitigation."""
        if self.outcome is None:
            return []
        hidden = set()
        for assessment in self.outcome.assessments.values():
            current = assessment.attempts[-1] if assessment.attempts else None
            mentions_mitigation = current is not None and current.mitigation_accepted
            tells_results = assessment.attempts_used > 0 or _submitted(assessment)
            if (not self.show_marks and tells_results) or (not self.show_mitigation and mentions_mitigation):
                sentence = assessment_sentence(self.rules, assessment) if self.rules is not None else None
                if sentence:
                    hidden.add(sentence)
        return [sentence for sentence in self.outcome.missing if sentence not in hidden]

    @property
    def award_text(self) -> str:
        if self.outcome is None:
            return "Rules unavailable"
        if not self.show_marks:
            return NOT_SHARED
        return AWARD_TEXT.get(self.outcome.award.value if self.outcome.award else None, "")

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.outcome.status.value] if self.outcome else ""


def _submitted(assessment) -> bool:
    return any(attempt.submitted_at is not None for attempt in assessment.attempts)


def _unshared_assignment_text(assessment) -> str:
    """The assignment's state without anything that tells a pass, a fail or a resubmission."""
    if _submitted(assessment):
        return "Submitted"
    if assessment.attempts_used == 0 and assessment.state is AssessmentState.NOT_YET_DUE and assessment.attempts:
        return f"Not due yet (due {long_date(assessment.attempts[-1].deadline)})"
    if assessment.attempts_used == 0 and assessment.state is AssessmentState.OVERDUE:
        return STATE_TEXT[AssessmentState.OVERDUE]
    return "Not submitted yet" if assessment.attempts else "No date set yet"


def _flags(enrolment: Enrolment, outcome: Outcome | None, extras: Extras, as_of: datetime,
           show_marks: bool = True) -> list[str]:
    if outcome is None or enrolment.status in ENDED:
        return []
    flags = []
    if not outcome.attendance.reachable:
        flags.append(FLAG_UNREACHABLE)
    # Without the trainee's consent an overdue resubmission would tell a fail: flag only a first attempt.
    if any(a.state is AssessmentState.OVERDUE and (show_marks or (a.attempts_used == 0 and not _submitted(a)))
           for a in outcome.assessments.values() if a.credit_bearing):
        flags.append(FLAG_OVERDUE)
    started = [d for d in extras.day_dates if d <= as_of.date()]
    if outcome.status.value == "in_progress" and started:
        quiet_since = as_of - timedelta(days=QUIET_DAYS)
        reference = extras.last_activity or datetime.combine(min(started), datetime.min.time(), tzinfo=as_of.tzinfo)
        if reference < quiet_since:
            flags.append(FLAG_QUIET)
    return flags


def build_rows(enrolments: list[Enrolment], as_of: datetime, *, released_only: bool, viewer: User | None = None,
               marks_for=lambda enrolment: True, mitigation_for=lambda enrolment: True,
               ratified_locks: bool = False) -> list[ProgressRow]:
    """Rows for the enrolments (loaded with `enrolment_options`), in a bounded number of queries.

    `marks_for(enrolment)` and `mitigation_for(enrolment)` say whether the
    viewer may see the trainee's results and anything about mitigation. With
    `ratified_locks`, a trainee whose exam board has ratified their outcome
    shows the board's locked outcome instead of a fresh evaluation (the exam
    board itself leaves it False, to see what the rules say now).
    """
    facts, extras = facts_for(enrolments, as_of, released_only=released_only,
                              viewer_id=viewer.id if viewer is not None else None)
    ratified = {e.id: extras[e.id].locked_decision for e in enrolments
                if ratified_locks and extras[e.id].locked_decision is not None}
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
        if outcome is not None and enrolment.id in ratified:
            outcome = locked_outcome(outcome, ratified[enrolment.id], released_only=released_only)
        show_marks = marks_for(enrolment)
        rows.append(ProgressRow(enrolment, facts[enrolment.id], outcome, extras[enrolment.id], show_marks, rules,
                                _flags(enrolment, outcome, extras[enrolment.id], as_of, show_marks),
                                mitigation_for(enrolment)))
    return rows


# --- outcomes an exam board has ratified ----------------------------------------------------


def _flags_of(values) -> tuple[Flag, ...]:
    known = {flag.value: flag for flag in Flag}
    return tuple(known[value] for value in values if value in known)


def locked_outcome(outcome: Outcome, decision: BoardDecision, *, released_only: bool) -> Outcome:
    """The board's ratified outcome in the engine's shape: its award, credits and recorded mark, status ratified.

    `outcome` is today's evaluation; it gives the shape and, with
    `released_only`, whether the viewer may see marks yet (a mark not yet
    released stays hidden). Everything else comes from what the board stored.
    """
    proposed = json.loads(decision.outcome_json or "{}") or {}
    award = Award(decision.award)
    attendance = proposed.get("attendance") or {}
    locked_attendance = replace(outcome.attendance, **{key: attendance[key] for key in
                                                       ("counted", "required", "met", "reachable")
                                                       if key in attendance})
    assessments = {}
    first_credit_bearing = True
    for slug, assessment in outcome.assessments.items():
        stored = (proposed.get("assessments") or {}).get(slug) or {}
        raw = stored.get("raw_mark", assessment.raw_mark)
        recorded = stored.get("recorded_mark", assessment.recorded_mark)
        flags = _flags_of(stored["flags"]) if "flags" in stored else assessment.flags
        if assessment.credit_bearing and first_credit_bearing:
            # The board's decision records the mark of the accredited assignment itself.
            first_credit_bearing = False
            recorded, flags = decision.recorded_mark, _flags_of(decision.flags.split())
        if released_only and assessment.recorded_mark is None:
            raw = recorded = None
        passed = bool(stored.get("passed", assessment.passed))
        assessments[slug] = replace(
            assessment, raw_mark=raw, recorded_mark=recorded, flags=flags, passed=passed,
            attempts_used=stored.get("attempts_used", assessment.attempts_used),
            attempts_left=stored.get("attempts_left", assessment.attempts_left), state=AssessmentState.PASSED if passed else AssessmentState.NOT_PASSED)
    return replace(outcome, award=award, status=Status.RATIFIED, credits=decision.credits,
                   attendance=locked_attendance, assessments=assessments,
                   achievable=Achievable(credit=award is Award.CREDIT, completion=award is Award.COMPLETION),
                   missing=())


SORTS = {
    "name": lambda row: row.trainee.display_name.casefold(),
    "attendance": lambda row: row.outcome.attendance.counted if row.outcome else -1,
    "flags": lambda row: -len(row.flags),
    "cohort": lambda row: (row.enrolment.cohort.start_date, row.enrolment.cohort.name),
}
FILTERS = {"all": "Everyone", "at-risk": "Trainees who may need support"}


CASELOAD_PAGE = 50  # trainees a page of the caseload shows (a supervisor may have hundreds)


def page_of(rows: list, raw_page) -> Page:
    """One page of the arranged rows (or enrolments); a page number past the end shows the last page."""
    count = max(1, -(-len(rows) // CASELOAD_PAGE))
    number = min(page_number(raw_page), count)
    start = (number - 1) * CASELOAD_PAGE
    return Page(rows[start:start + CASELOAD_PAGE], len(rows), number, CASELOAD_PAGE)


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
    admin = is_admin(viewer)  # worked out once, not for each of hundreds of rows
    taught: dict[int, bool] = {}

    def show(enrolment: Enrolment) -> bool:
        if enrolment.cohort_id not in taught:
            taught[enrolment.cohort_id] = teaches(viewer, enrolment.cohort_id)
        if admin or taught[enrolment.cohort_id] or enrolment.academic_supervisor_id == viewer.id:
            return True
        return enrolment.id in consents
    return show


def _mitigation_rule(viewer: User):
    """Mitigating circumstances are for the trainee's academic supervisor and admins only."""
    admin = is_admin(viewer)

    def show(enrolment: Enrolment) -> bool:
        return admin or enrolment.academic_supervisor_id == viewer.id
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
    rows = build_rows(list(enrolments), as_of, released_only=True, ratified_locks=True)
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


def _supervises(actor: User):
    return or_(Enrolment.academic_supervisor_id == actor.id, Enrolment.personal_supervisor_id == actor.id)


def _caseload_enrolments(actor: User) -> list[Enrolment]:
    return list(db.session.execute(select(Enrolment).options(*enrolment_options()).where(_supervises(actor))).scalars())


def _caseload_rows(actor: User, enrolments: list[Enrolment], as_of: datetime) -> list[ProgressRow]:
    consents = _consents(e.id for e in enrolments)
    return build_rows(enrolments, as_of, released_only=True, viewer=actor, marks_for=_marks_rule(actor, consents),
                      mitigation_for=_mitigation_rule(actor), ratified_locks=True)


def caseload(actor: User, as_of: datetime) -> list[ProgressRow]:
    """Every trainee the actor supervises (academic or personal), across cohorts."""
    return _caseload_rows(actor, _caseload_enrolments(actor), as_of)


# Orders that need nothing but the trainee's name and the cohort, so a page is worked out without the rest
# (the same orders as SORTS), from rows of (enrolment id, trainee's name, cohort start, cohort name).
ENROLMENT_SORTS = {
    "name": lambda row: row[1].casefold(),
    "cohort": lambda row: (row[2], row[3]),
}


def caseload_page(actor: User, as_of: datetime, filter_by: str, sort: str, descending: bool,
                  raw_page) -> tuple[Page, int]:
    """One page of the actor's caseload, arranged as `arrange` does, and how many trainees there are in all.

    In a name or cohort order of everyone (the usual view) only the trainees on the page are loaded and
    evaluated: a supervisor of 500 sees 50 at a time, and working out the other 450 would be wasted.
    Filtering to those who may need support, or ordering by attendance or flags, needs everyone's outcome,
    so evaluates all.
    """
    if filter_by != "all" or sort not in ENROLMENT_SORTS:
        enrolments = _caseload_enrolments(actor)
        return page_of(arrange(_caseload_rows(actor, enrolments, as_of), filter_by, sort, descending),
                       raw_page), len(enrolments)
    everyone = db.session.execute(
        select(Enrolment.id, User.display_name, Cohort.start_date, Cohort.name)
        .join(User, User.id == Enrolment.trainee_id).join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(_supervises(actor))).all()
    key = ENROLMENT_SORTS[sort]
    ordered = sorted(everyone, key=lambda row: (key(row), row[1].casefold()), reverse=descending)
    page = page_of(ordered, raw_page)
    wanted = [row[0] for row in page.items]
    loaded = {e.id: e for e in db.session.execute(
        select(Enrolment).options(*enrolment_options()).where(Enrolment.id.in_(wanted))).scalars()}
    return replace(page, items=_caseload_rows(actor, [loaded[i] for i in wanted], as_of)), len(everyone)


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
    return build_rows(enrolments, as_of, released_only=False, viewer=actor, mitigation_for=_mitigation_rule(actor),
                      ratified_locks=True)


@dataclass
class TraineePage:
    row: ProgressRow
    notes: list[SupervisionNote]
    opt_outs: list[AssessmentOptOut] = field(default_factory=list)  # newest first
    can_record_opt_out: bool = False

    @property
    def opted_out(self) -> bool:
        return self.row.facts.opted_out_of_assessment


def trainee_page(actor: User, enrolment_id: int, as_of: datetime) -> TraineePage:
    """The caseload view of one trainee for staff linked to them; others get 404."""
    enrolment = db.session.execute(
        select(Enrolment).options(*enrolment_options()).where(Enrolment.id == enrolment_id)).scalar_one_or_none()
    object_or_404(enrolment, enrolment is not None and policies.is_staff_for(actor, enrolment))
    staff_marks = is_admin(actor) or teaches(actor, enrolment.cohort_id)
    row = build_rows([enrolment], as_of, released_only=not staff_marks, viewer=actor,
                     marks_for=_marks_rule(actor, _consents([enrolment.id])),
                     mitigation_for=_mitigation_rule(actor), ratified_locks=True)[0]
    notes = list(db.session.execute(
        select(SupervisionNote).options(selectinload(SupervisionNote.author))
        .where(SupervisionNote.enrolment_id == enrolment.id).order_by(SupervisionNote.created_at.desc())).scalars())
    opt_outs = _opt_out_history(enrolment.id) if row.show_marks else []
    return TraineePage(row, notes, opt_outs, policies.can_record_opt_out(actor, enrolment))


def _opt_out_history(enrolment_id: int) -> list[AssessmentOptOut]:
    return list(db.session.execute(
        select(AssessmentOptOut).options(selectinload(AssessmentOptOut.recorded_by))
        .where(AssessmentOptOut.enrolment_id == enrolment_id).order_by(AssessmentOptOut.id.desc())).scalars())


REASON_LIMIT = 2000
OPT_OUT_CHOICES = {"out": True, "in": False}


def record_opt_out(actor: User, enrolment_id: int, choice: str, effective_on: str, reason: str,
                   today: date) -> tuple[AssessmentOptOut | None, list[tuple[str, str]]]:
    """Record that a trainee opted out of assessment (`choice` "out") or back in ("in"), with the date and reason.

    Admins only (others get 403; an unknown trainee 404). Each change is a new
    row and an audit event, so an opt-out is reversed by a recorded change.
    Returns the new row, or the problems field by field (nothing saved).
    """
    enrolment = db.session.get(Enrolment, enrolment_id)
    object_or_404(enrolment, enrolment is not None and policies.is_staff_for(actor, enrolment))
    if not policies.can_record_opt_out(actor, enrolment):
        abort(403)
    errors = []
    history = _opt_out_history(enrolment.id)
    currently_out = bool(history) and history[0].opted_out
    wanted = OPT_OUT_CHOICES.get(choice or "")
    if wanted is None:
        errors.append(("choice", "Choose whether the trainee is opting out of assessment or back in."))
    elif wanted == currently_out:
        errors.append(("choice", "The trainee is already recorded as opted out of assessment." if wanted else
                                 "The trainee is not opted out of assessment, so there is nothing to reverse."))
    try:
        day = date.fromisoformat((effective_on or "").strip())
    except ValueError:
        day = None
        errors.append(("effective_on", "Enter the date the trainee made this choice, for example 2027-03-15."))
    if day is not None and day > today:
        errors.append(("effective_on", "The date cannot be in the future; enter the date the choice was made."))
    reason = (reason or "").strip()
    if not reason:
        errors.append(("reason", "Give the reason, as the trainee explained it; it is kept in the record."))
    elif len(reason) > REASON_LIMIT:
        errors.append(("reason", f"The reason is {len(reason)} characters long; keep it to {REASON_LIMIT}."))
    if errors:
        return None, errors
    change = AssessmentOptOut(enrolment_id=enrolment.id, opted_out=wanted, effective_on=day, reason=reason,
                              recorded_by_id=actor.id)
    db.session.add(change)
    db.session.flush()
    record(actor, "progress.assessment_opted_out" if wanted else "progress.assessment_opted_back_in",
           "enrolment", enrolment.id, cohort_id=enrolment.cohort_id, subject_user_id=enrolment.trainee_id,
           reason=reason, before={"opted_out_of_assessment": currently_out},
           after={"opted_out_of_assessment": wanted, "effective_on": day.isoformat()})
    return change, []


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


# What each scope lets a token read. A token carries any set of them.
SCOPES = {
    "progress:read": "Each trainee's progress and outcome in a cohort (GET /api/v1/cohorts/<slug>/progress)",
    "cohorts:read": "The cohorts whose progress the person can see (GET /api/v1/cohorts)",
}
DEFAULT_SCOPES = ("progress:read",)


def parse_scopes(values) -> list[str]:
    """The scopes asked for, from checkboxes or a space-separated string, without repeats, in order."""
    if isinstance(values, str):
        values = [values]
    seen: list[str] = []
    for value in values or ():
        for scope in (value or "").split():
            if scope not in seen:
                seen.append(scope)
    return seen


class ApiRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(actor: User, name: str, email: str, scopes) -> tuple[str | None, list[tuple[str, str]]]:
    """An admin creates a token acting for a person, with one or more scopes (a list, or a space-separated string).

    Returns the token (shown once) or the problems, field by field.
    """
    if not is_admin(actor):
        abort(403)
    errors = []
    name = (name or "").strip()
    if not name:
        errors.append(("name", "Give the token a name that says which integration uses it."))
    user = db.session.execute(select(User).where(User.email == (email or "").strip().lower())).scalar_one_or_none()
    if user is None:
        errors.append(("email", "There is no account with that email address."))
    wanted = parse_scopes(scopes)
    unknown = [scope for scope in wanted if scope not in SCOPES]
    if not wanted:
        errors.append(("scopes", f"Choose at least one scope. Choose from these scopes: {', '.join(SCOPES)}."))
    elif unknown:
        errors.append(("scopes", f"{', '.join(unknown)} {'is not a scope' if len(unknown) == 1 else 'are not scopes'}. "
                                 f"Choose from these scopes: {', '.join(SCOPES)}."))
    if errors:
        return None, errors
    token = "lms_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(name=name[:120], digest=digest_of(token), scopes=" ".join(sorted(wanted)),
                            user_id=user.id, created_by_id=actor.id))
    record(actor, "api_token.created", "user", user.id, subject_user_id=user.id,
           after={"name": name[:120], "scopes": sorted(wanted)})
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
        if scope not in token.scope_list:
            raise ApiRefused(403, f"This token does not have the '{scope}' scope.")
        if not token.user.is_active:
            raise ApiRefused(401, "The account this token acts for is not active.")
        token.last_used_at = utcnow()
        return token.user
    if session_user is not None and session_user.is_authenticated:
        return session_user
    raise ApiRefused(401, "Sign in or send a token with 'Authorization: Bearer <token>'.")


def api_cohorts(caller: User) -> dict:
    """The cohorts whose progress the caller can read through the API: all for admins, else those with their trainees."""
    query = select(Cohort).order_by(Cohort.start_date.desc(), Cohort.slug)
    if not is_admin(caller):
        query = query.where(Cohort.id.in_(select(Enrolment.cohort_id).where(or_(
            Enrolment.academic_supervisor_id == caller.id, Enrolment.personal_supervisor_id == caller.id))))
    return {"cohorts": [{"slug": c.slug, "name": c.name, "course": c.course_slug,
                         "start_date": c.start_date.isoformat(), "status": c.status,
                         "progress": f"/api/v1/cohorts/{c.slug}/progress"}
                        for c in db.session.execute(query).scalars()]}


def api_progress(caller: User, slug: str, as_of: datetime) -> dict:
    """The cohort's outcomes for the API: admins see all; supervisors their own trainees; otherwise 404."""
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
    rows = build_rows(enrolments, as_of, released_only=not admin, marks_for=_marks_rule(caller, consents),
                      mitigation_for=_mitigation_rule(caller), ratified_locks=True)
    trainees = []
    for row in sorted(rows, key=lambda r: r.enrolment.id):
        trainees.append({"enrolment_id": row.enrolment.id, "trainee": row.trainee.display_name,
                         "enrolment_status": row.enrolment.status, "results_visible": row.show_marks,
                         "outcome": api_outcome(row)})
    return {"cohort": cohort.slug, "as_of": as_of.isoformat(), "trainees": trainees}


def api_outcome(row: ProgressRow) -> dict | None:
    """The row's outcome as the API gives it: what the viewer may not see is null (or left out of lists)."""
    from lms.progress.rules import outcome_to_dict

    if row.outcome is None:
        return None
    outcome = outcome_to_dict(row.outcome)
    outcome["missing"] = row.missing
    for assessment in outcome["assessments"].values():
        if not row.show_mitigation:
            assessment["flags"] = [flag for flag in assessment["flags"] if flag != Flag.MITIGATION.value]
        if not row.show_marks:
            assessment.update(raw_mark=None, recorded_mark=None, flags=[], passed=None, attempts_used=None,
                              attempts_left=None)
    if not row.show_marks:
        outcome.update(award=None, credits=None, achievable={"credit": None, "completion": None})
    return outcome
