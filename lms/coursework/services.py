"""Use cases of the assignment: submitting, extensions and mitigating circumstances, and what marking shares.

Every function takes the acting person, checks what they may do (anything
they may not see answers 404), applies the pure rules in
`lms.coursework.rules`, records an audit event for every change of mark,
state or feedback, and flushes. The request commits once, in the app.

The marking chain itself (allocation, marking, moderation, release,
corrections, the export) is in `lms.coursework.marking`, built on the
loading and audit helpers here.

Refusals with a message for the person raise `Refused`, holding
`(field, message)` pairs and the HTTP status to answer with; nothing is
changed when they do.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context, url_for
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from lms.accounts.models import User
from lms.audit import services as audit
from lms.authz.access import object_or_404
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.cohorts.policies import is_admin
from lms.coursework import policies, uploads
from lms.coursework.models import (
    Assignment,
    Candidate,
    Extension,
    Mark,
    MarkCorrection,
    MitigatingClaim,
    StoredFile,
    Submission,
)
from lms.coursework.rules import (
    Action,
    IllegalTransition,
    MarkingState,
    apply,
    closing_time,
    count_words,
    cut_off_after,
    days_late,
    deadline_on,
    default_due_date,
    digest_of_text,
    effective_deadline,
    extension_until,
    submission_digest,
)
from lms.database import utcnow
from lms.extensions import db
from lms.notify.services import notify

MAX_TEXT_CHARACTERS = 100_000
MAX_FILES = 5
MAX_REASON_CHARACTERS = 5_000
MAX_FEEDBACK_CHARACTERS = 20_000
MARKING_WORKING_DAYS = 15
ACTIVE_ENROLMENT = ("active", "completed")
CLAIM_CATEGORIES = {
    "illness": "Illness or a health condition",
    "bereavement": "Bereavement",
    "caring": "Caring responsibilities",
    "crisis": "A personal crisis",
    "other": "Something else",
}
EXTENSION_STATUS = {
    "requested": "waiting for a decision",
    "approved": "approved",
    "shortened": "approved for a shorter time",
    "declined": "declined",
}
CLAIM_STATUS = {"reported": "waiting for a decision", "accepted": "accepted", "rejected": "not accepted"}


class Refused(Exception):
    """A request refused with messages for the person, as (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]] | str, status: int = 400) -> None:
        if isinstance(errors, str):
            errors = [("", errors)]
        super().__init__("; ".join(message for _, message in errors))
        self.errors = errors
        self.status = status


STALE = ("Someone else saved changes to this script after you opened it, so your changes have not been "
         "saved (nothing was lost: their save stands). Your entries are still below. Check the saved "
         "version, then save again if yours should replace it.")


# --- settings, content and time ---------------------------------------------


def zone() -> str:
    """The deployment's time zone name (Europe/London by default)."""
    return current_app.config["LMS_TIMEZONE"]


def local(value: datetime | None) -> datetime | None:
    """A stored UTC time in the deployment's time zone."""
    return value.astimezone(ZoneInfo(zone())) if value else None


def short_time(value: datetime) -> str:
    """'Friday 6 March 2026 at 5:00pm', for messages and e-mails."""
    from lms.site.templating import format_datetime

    return format_datetime(value)


def site_path(endpoint: str, **values) -> str:
    """A site path for links in notifications, also from the command line (no request)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


@lru_cache(maxsize=8)
def _load_course(path: str):
    from lms.content.loader import load_course

    course, _problems = load_course(path)
    return course


@lru_cache(maxsize=8)
def _load_rules(path: str):
    try:
        from lms.progress.rules_file import load_rules_path
    except ImportError:  # the rules engine ships separately; fall back to its defaults
        return None
    rules, _problems = load_rules_path(path)
    return rules


def course_for(course_slug: str):
    """The course (frozen dataclasses from `courses/`), or None if it is missing or invalid."""
    path = Path(current_app.config["LMS_COURSES_DIR"]) / course_slug
    return _load_course(str(path)) if path.is_dir() else None


def rules_for(course_slug: str):
    """The course's credit-level rules (`assessments/<slug>/rules.toml`), or None."""
    path = Path(current_app.config["LMS_ASSESSMENTS_DIR"]) / course_slug / "rules.toml"
    return _load_rules(str(path)) if path.is_file() else None


def closures_for(course_slug: str) -> frozenset[date]:
    """The closure dates (bank holidays) the course's rules skip when counting working days
    (looked up once per request: pages over hundreds of attempts ask for each)."""
    cache = g.setdefault("lms_closures", {})
    key = (current_app.config["LMS_ASSESSMENTS_DIR"], course_slug)
    if key not in cache:
        rules = rules_for(course_slug)
        cache[key] = frozenset(rules.lateness.closure_dates) if rules else frozenset()
    return cache[key]


def _rubric_snapshot(assessment) -> list[dict]:
    return [{"id": criterion.id, "title": criterion.title, "weight": criterion.weight,
             "bands": [{"low": band.low, "high": band.high, "descriptor": band.descriptor}
                       for band in criterion.bands]}
            for criterion in assessment.rubric]


def _new_assignment(cohort: Cohort, assessment, last_day: date) -> Assignment:
    closures = closures_for(cohort.course_slug)
    rules = rules_for(cohort.course_slug)
    course = course_for(cohort.course_slug)
    due = deadline_on(default_due_date(last_day, assessment.due_weeks_after_last_day or 0), zone())
    pass_mark = rules.pass_mark if rules else 40
    if rules is None and course is not None:
        pass_mark = 40 if 3 <= course.level <= 6 else 50
    return Assignment(
        cohort_id=cohort.id, assessment_slug=assessment.slug, title=assessment.title,
        credit_bearing=assessment.credit_bearing, brief_markdown=assessment.brief_markdown,
        rubric=_rubric_snapshot(assessment), submission_types=list(assessment.submission_types),
        word_count=assessment.word_count, word_tolerance_percent=assessment.word_tolerance_percent,
        due_at=due, cut_off_at=cut_off_after(due, assessment.cut_off_working_days, zone(), closures),
        cut_off_working_days=assessment.cut_off_working_days,
        marks_due_at=cut_off_after(due, MARKING_WORKING_DAYS, zone(), closures),
        anonymous=assessment.credit_bearing, pass_mark=pass_mark,
        max_extension_working_days=rules.extensions.max_working_days if rules else 10,
    )


def ensure_assignments(cohort_ids) -> None:
    """Set up each cohort's assignments from its course's assessments, where missing.

    The due date is the assessment's rule (weeks after the cohort's last
    course day, at 5pm local time); admins may change it afterwards.
    """
    cohort_ids = set(cohort_ids)
    if not cohort_ids:
        return
    existing = set(db.session.execute(
        select(Assignment.cohort_id, Assignment.assessment_slug).where(Assignment.cohort_id.in_(cohort_ids))).all())
    cohorts = db.session.execute(select(Cohort).where(Cohort.id.in_(cohort_ids))).scalars().all()
    needed = []
    for cohort in cohorts:
        course = course_for(cohort.course_slug)
        for assessment in (course.assessments if course else ()):
            if (cohort.id, assessment.slug) not in existing:
                needed.append((cohort, assessment))
    if not needed:
        return
    last_days = dict(db.session.execute(
        select(CourseDay.cohort_id, func.max(CourseDay.date))
        .where(CourseDay.cohort_id.in_({cohort.id for cohort, _ in needed})).group_by(CourseDay.cohort_id)).all())
    for cohort, assessment in needed:
        last_day = last_days.get(cohort.id) or cohort.start_date + timedelta(weeks=10)
        try:
            # A savepoint: another request may be setting up the same assignment right now.
            with db.session.begin_nested():
                db.session.add(_new_assignment(cohort, assessment, last_day))
        except IntegrityError:
            pass


def _candidate_for(enrolment_id: int) -> Candidate:
    candidate = db.session.execute(
        select(Candidate).where(Candidate.enrolment_id == enrolment_id)).scalar_one_or_none()
    if candidate is not None:
        return candidate
    for attempt in range(50):
        # Four digits while they last, then five: short enough to read out, never a name.
        number = secrets.randbelow(9000) + 1000 if attempt < 30 else secrets.randbelow(90000) + 10000
        try:
            with db.session.begin_nested():
                candidate = Candidate(enrolment_id=enrolment_id, number=number)
                db.session.add(candidate)
            return candidate
        except IntegrityError:
            existing = db.session.execute(
                select(Candidate).where(Candidate.enrolment_id == enrolment_id)).scalar_one_or_none()
            if existing is not None:
                return existing
    raise RuntimeError("Could not find a free candidate number.")


# --- deadlines -----------------------------------------------------------------


@dataclass(frozen=True)
class Deadlines:
    """The dates that apply to one attempt."""

    due: datetime
    cut_off: datetime
    extension_until: datetime | None
    deadline: datetime  # the due date, or the extended date
    closes: datetime  # after this, submitting is closed

    def is_open(self, now: datetime) -> bool:
        return now <= self.closes


def granted_extension(submission: Submission | None) -> datetime | None:
    """The latest extended deadline granted for an attempt, or None."""
    if submission is None:
        return None
    granted = [e.granted_until for e in submission.extensions
               if e.status in ("approved", "shortened") and e.granted_until]
    return max(granted, default=None)


def deadlines_for(assignment: Assignment, submission: Submission | None) -> Deadlines:
    """Due date, cut-off, extension and closing time of an attempt (the first, when `submission` is None)."""
    if submission is None:
        return _deadlines(assignment, 1, None, None, None)
    return _deadlines(assignment, submission.attempt, submission.due_at, submission.cut_off_at,
                      granted_extension(submission))


def _deadlines(assignment: Assignment, attempt: int, due_at: datetime | None, cut_off_at: datetime | None,
               extended: datetime | None) -> Deadlines:
    """`deadlines_for` from an attempt's own columns (a later attempt carries its own dates)."""
    if attempt > 1 and due_at:
        due, cut_off = due_at, cut_off_at or due_at
    else:
        due, cut_off = assignment.due_at, assignment.cut_off_at
    closes = closing_time(due, cut_off, extended, assignment.cut_off_working_days, zone(),
                          closures_for(assignment.cohort.course_slug))
    return Deadlines(due, cut_off, extended, effective_deadline(due, extended), closes)


def working_days_late_now(assignment: Assignment, deadlines: Deadlines, now: datetime) -> int:
    """How many working days late a submission made at `now` would be."""
    return days_late(deadlines.deadline, now, zone(), closures_for(assignment.cohort.course_slug))


# --- loading -------------------------------------------------------------------


def submission_options():
    """Loader options for a submission with everything the pages show (no lazy loads)."""
    return (
        joinedload(Submission.assignment).joinedload(Assignment.cohort),
        joinedload(Submission.enrolment).options(joinedload(Enrolment.trainee),
                                                 joinedload(Enrolment.academic_supervisor)),
        joinedload(Submission.candidate),
        joinedload(Submission.first_marker),
        joinedload(Submission.second_marker),
        joinedload(Submission.third_marker),
        selectinload(Submission.files),
        selectinload(Submission.marks).options(joinedload(Mark.marker), joinedload(Mark.feedback_file)),
        selectinload(Submission.extensions).joinedload(Extension.evidence_file),
    )


def load_submission(submission_id: int) -> Submission | None:
    """A submission with its assignment, people, files, marks and extensions, or None."""
    return db.session.execute(
        select(Submission).options(*submission_options()).where(Submission.id == submission_id)
    ).unique().scalar_one_or_none()


def load_assignment(assignment_id: int) -> Assignment | None:
    """An assignment with its cohort, or None."""
    return db.session.execute(
        select(Assignment).options(joinedload(Assignment.cohort)).where(Assignment.id == assignment_id)
    ).scalar_one_or_none()


def audit_change(actor, action: str, submission: Submission, before=None, after=None, reason=None,
                 object_type="submission", object_id=None):
    """Audit a change to a submission (or to something of it), naming the trainee and cohort it concerns."""
    audit.record(actor, f"coursework.{action}", object_type, object_id or submission.id, before=before, after=after,
                 cohort_id=submission.assignment.cohort_id, subject_user_id=submission.enrolment.trainee_id,
                 reason=reason)


def move(actor, submission: Submission, action: Action, reason: str | None = None) -> None:
    """Apply one step of the marking chain (IllegalTransition becomes a refusal) and audit it."""
    before = submission.state
    try:
        submission.state = apply(MarkingState(submission.state), action).value
    except IllegalTransition as refused:
        raise Refused(refused.message, status=409) from None
    submission.updated_at = utcnow()
    audit_change(actor, f"state.{action.value}", submission, before={"state": before},
                 after={"state": submission.state},
           reason=reason)


def flush_or_refuse() -> None:
    """Flush, turning a lost optimistic-locking race into a plain refusal."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Refused(STALE, status=409) from None


def check_version(submission: Submission, version) -> None:
    """Refuse a save made from an older copy of the script (optimistic locking)."""
    try:
        given = int(version)
    except (TypeError, ValueError):
        given = None
    if given != submission.version:
        raise Refused(STALE, status=409)


# --- trainees: their assignments -------------------------------------------------


@dataclass
class TraineeAssignment:
    """What a trainee sees for one assignment."""

    assignment: Assignment
    enrolment: Enrolment
    attempts: list[Submission]
    current: Submission | None
    deadlines: Deadlines
    now: datetime
    claims: list[MitigatingClaim] = field(default_factory=list)

    @property
    def attempt_number(self) -> int:
        return self.current.attempt if self.current else 1

    @property
    def submitted(self) -> bool:
        return self.current is not None and self.current.status == "submitted"

    @property
    def open(self) -> bool:
        return not self.submitted and self.deadlines.is_open(self.now) and self.enrolment.status in ACTIVE_ENROLMENT

    @property
    def late_now(self) -> int:
        return working_days_late_now(self.assignment, self.deadlines, self.now)

    @property
    def pending_extension(self) -> Extension | None:
        if self.current is None:
            return None
        return next((e for e in self.current.extensions if e.status == "requested"), None)

    @property
    def released(self) -> list[Submission]:
        return [s for s in self.attempts if s.state == MarkingState.RELEASED]


def my_assignments(actor: User, now: datetime | None = None) -> list[TraineeAssignment]:
    """Every assignment of every cohort the trainee is enrolled in, with their attempts."""
    now = now or utcnow()
    enrolments = db.session.execute(
        select(Enrolment).options(joinedload(Enrolment.cohort))
        .where(Enrolment.trainee_id == actor.id).order_by(Enrolment.enrolled_at.desc())).scalars().all()
    ensure_assignments({e.cohort_id for e in enrolments})
    by_cohort = {e.cohort_id: e for e in enrolments}
    assignments = db.session.execute(
        select(Assignment).options(joinedload(Assignment.cohort))
        .where(Assignment.cohort_id.in_(by_cohort)).order_by(Assignment.credit_bearing.desc(), Assignment.due_at)
    ).scalars().all()
    submissions = db.session.execute(
        select(Submission).options(selectinload(Submission.extensions))
        .where(Submission.enrolment_id.in_([e.id for e in enrolments])).order_by(Submission.attempt)
    ).scalars().all()
    views = []
    for assignment in assignments:
        enrolment = by_cohort[assignment.cohort_id]
        attempts = [s for s in submissions if s.assignment_id == assignment.id and s.enrolment_id == enrolment.id]
        current = attempts[-1] if attempts else None
        views.append(TraineeAssignment(assignment, enrolment, attempts, current,
                                       deadlines_for(assignment, current), now))
    return views


def trainee_assignment(actor: User, assignment_id: int, now: datetime | None = None) -> TraineeAssignment:
    """One assignment as the trainee sees it; 404 unless they are enrolled in its cohort."""
    now = now or utcnow()
    assignment = load_assignment(assignment_id)
    enrolment = None
    if assignment is not None:
        enrolment = db.session.execute(
            select(Enrolment).options(joinedload(Enrolment.academic_supervisor))
            .where(Enrolment.cohort_id == assignment.cohort_id, Enrolment.trainee_id == actor.id)
        ).scalar_one_or_none()
    object_or_404(assignment, enrolment is not None)
    attempts = list(db.session.execute(
        select(Submission).options(*submission_options())
        .where(Submission.assignment_id == assignment.id, Submission.enrolment_id == enrolment.id)
        .order_by(Submission.attempt)).unique().scalars())
    current = attempts[-1] if attempts else None
    claims = list(db.session.execute(
        select(MitigatingClaim).where(MitigatingClaim.submission_id.in_([s.id for s in attempts]))
        .order_by(MitigatingClaim.id)).scalars()) if attempts else []
    return TraineeAssignment(assignment, enrolment, attempts, current, deadlines_for(assignment, current), now, claims)


def _current_draft(actor: User, view: TraineeAssignment) -> Submission:
    """The attempt a trainee is working on, created as an empty draft if they have not started."""
    if view.current is not None:
        return view.current
    candidate = _candidate_for(view.enrolment.id)
    submission = Submission(assignment=view.assignment, enrolment=view.enrolment, candidate=candidate, attempt=1,
                            status="draft", text="")
    submission.extensions = []
    submission.marks = []
    db.session.add(submission)
    db.session.flush()
    view.current = submission
    view.attempts.append(submission)
    return submission


def _check_open(view: TraineeAssignment) -> None:
    if view.enrolment.status not in ACTIVE_ENROLMENT:
        raise Refused("Your place on this course is not active just now, so the assignment can't be changed. "
                      "Please talk to your academic supervisor or the course admin.", status=409)
    if view.submitted:
        raise Refused("You have already submitted this attempt, so it can't be changed. "
                      "Your receipt shows exactly what was submitted.", status=409)
    if not view.deadlines.is_open(view.now):
        raise Refused(f"Submission closed on {short_time(view.deadlines.closes)}. If something got in the way, "
                      "you can report mitigating circumstances, or talk to your academic supervisor about "
                      "what you can do next.", status=409)


def _text_problem(text: str) -> str | None:
    if len(text) > MAX_TEXT_CHARACTERS:
        return (f"Your text is longer than we can keep in one go ({MAX_TEXT_CHARACTERS:,} characters). "
                "Please upload it as a file instead.")
    return None


def autosave(actor: User, assignment_id: int, text: str, now: datetime | None = None) -> Submission:
    """Keep the trainee's draft text (the editor saves as they type). Refused when the attempt is closed."""
    view = trainee_assignment(actor, assignment_id, now)
    _check_open(view)
    problem = _text_problem(text)
    if problem:
        raise Refused([("text", problem)])
    submission = _current_draft(actor, view)
    submission.text = text
    submission.text_saved_at = view.now
    submission.updated_at = view.now
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Refused("Your draft was saved from another window at the same moment. Reload the page to carry on; "
                      "copy your latest text first if it is not shown.", status=409) from None
    return submission


def save_work(actor: User, assignment_id: int, *, text: str | None, files=(), declaration: bool = False,
              submit: bool = False, now: datetime | None = None) -> Submission:
    """Save the trainee's draft (text and/or files) and, when `submit`, submit it.

    Everything is checked before anything is kept: a refused file, a missing
    declaration or a closed deadline changes nothing.
    """
    view = trainee_assignment(actor, assignment_id, now)
    _check_open(view)
    assignment = view.assignment
    errors: list[tuple[str, str]] = []
    files = [f for f in files if f is not None and (f.filename or "")]
    if text is not None:
        problem = _text_problem(text)
        if problem:
            errors.append(("text", problem))
        elif text.strip() and "text" not in assignment.submission_types:
            errors.append(("text", "This assignment is submitted as a file. Please upload your work as a file."))
    if files and "file" not in assignment.submission_types:
        errors.append(("files", "This assignment is submitted as text in the box. Paste your work into the box."))
    existing_files = list(view.current.files) if view.current else []
    if len(existing_files) + len(files) > MAX_FILES:
        errors.append(("files", f"You can upload up to {MAX_FILES} files. Remove one before adding another."))
    new_text = text if text is not None else (view.current.text if view.current else "")
    if submit:
        if not declaration:
            errors.append(("declaration", "Tick the box to confirm this is your own work before you submit."))
        if not (new_text or "").strip() and not existing_files and not files:
            errors.append(("text", "There is nothing to submit yet. Write your work in the box or upload a file."))
    if errors:
        raise Refused(errors)
    try:
        staged = uploads.stage_all(files)
    except uploads.UploadProblem as problem:
        raise Refused([("files", problem.message)], status=problem.status) from None
    try:
        submission = _current_draft(actor, view)
        before = {"text_digest": digest_of_text(submission.text), "files": [f.sha256 for f in existing_files]}
        submission.text = new_text or ""
        submission.text_saved_at = view.now
        submission.updated_at = view.now
        added = [StoredFile(submission_id=submission.id, purpose="submission", stored_name=s.stored_name,
                            original_name=s.original_name, kind=s.kind, size=s.size, sha256=s.sha256,
                            word_count=s.word_count, uploaded_by_id=actor.id, uploaded_at=view.now)
                 for s in staged]
        db.session.add_all(added)
        all_files = existing_files + added
        if submit:
            _submit(actor, view, submission, all_files)
        elif staged:
            audit_change(actor, "draft_files_added", submission, before=before,
                   after={"files": [f.sha256 for f in all_files]})
        db.session.flush()
    except StaleDataError:
        uploads.discard(staged)
        db.session.rollback()
        raise Refused([("text", "Your draft was saved from another window at the same moment, so this save was "
                                "not made. Reload the page and try again.")], status=409) from None
    except BaseException:
        uploads.discard(staged)
        raise
    uploads.keep(staged, db.session)
    return submission


def _submit(actor: User, view: TraineeAssignment, submission: Submission, files: list[StoredFile]) -> None:
    assignment = view.assignment
    text_words = count_words(submission.text)
    submission.status = "submitted"
    submission.declaration = True
    submission.submitted_at = view.now
    submission.word_count = text_words + sum(f.word_count or 0 for f in files)
    submission.text_digest = digest_of_text(submission.text)
    submission.digest = submission_digest(submission.text, [(f.original_name, f.sha256) for f in files])
    submission.deadline_applied = view.deadlines.deadline
    submission.working_days_late = working_days_late_now(assignment, view.deadlines, view.now)
    submission.state = MarkingState.SUBMITTED.value
    audit_change(actor, "submitted", submission, after={
        "state": submission.state, "digest": submission.digest, "word_count": submission.word_count,
        "working_days_late": submission.working_days_late, "attempt": submission.attempt})
    has_pdf = any(f.kind == "pdf" for f in files)
    if has_pdf and not submission.word_count:
        words = "Word count: not counted (words in a PDF file cannot be counted here; your marker checks the length)"
    else:
        words = f"Word count: {submission.word_count:,}" + (" (not counting any PDF)" if has_pdf else "")
    lines = [
        f"Thank you. Your work for “{assignment.title}” was submitted on {short_time(view.now)}.",
        "",
        f"Attempt: {submission.attempt}",
        words,
        f"SHA-256 of what you submitted: {submission.digest}",
    ]
    for stored in files:
        lines.append(f"File: {stored.original_name} ({stored.sha256})")
    if submission.working_days_late:
        days = submission.working_days_late
        lines.append(f"This was submitted {days} working day{'s' if days != 1 else ''} after the deadline.")
    lines += ["", "Keep this e-mail: it is your receipt. Your receipt page in the LMS shows the same."]
    notify(actor, f"Receipt: {assignment.title}", "\n".join(lines),
           link=site_path("coursework.receipt", submission_id=submission.id), required=True)


def remove_file(actor: User, assignment_id: int, file_id: int, now: datetime | None = None) -> StoredFile:
    """Take a file out of the trainee's draft (refused once submitted or closed)."""
    view = trainee_assignment(actor, assignment_id, now)
    stored = next((f for f in (view.current.files if view.current else []) if f.id == file_id), None)
    object_or_404(stored, stored is not None)
    _check_open(view)
    audit_change(actor, "draft_file_removed", view.current,
                 before={"file": stored.sha256, "name": stored.original_name})
    db.session.delete(stored)
    view.current.updated_at = view.now
    db.session.flush()
    uploads.remove_after_commit(stored.stored_name)
    return stored


def receipt(actor: User, submission_id: int) -> Submission:
    """A submitted attempt's receipt: the trainee's own only."""
    submission = load_submission(submission_id)
    object_or_404(submission, submission is not None and submission.status == "submitted"
                  and policies.owns(actor, submission.enrolment))
    return submission


@dataclass
class Feedback:
    submission: Submission
    first: Mark | None
    corrections: list[MarkCorrection]
    # The mark the course rules record for this attempt (capped for a referral, changed for lateness),
    # with its flags (L, R, ...); the marker's mark when the rules cannot be read.
    recorded_mark: int | None = None
    flags: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.recorded_mark is not None and self.recorded_mark >= self.submission.assignment.pass_mark

    @property
    def changed_by_rules(self) -> bool:
        return self.recorded_mark is not None and self.recorded_mark != self.submission.mark


def _recorded(submission: Submission) -> tuple[int | None, tuple[str, ...]]:
    """The recorded mark and flags of a released attempt, as the credit-level rules engine reads them."""
    from lms.progress.services import build_rows, enrolment_options

    enrolment = db.session.execute(select(Enrolment).options(*enrolment_options())
                                   .where(Enrolment.id == submission.enrolment_id)).scalar_one()
    [row] = build_rows([enrolment], utcnow(), released_only=True)  # no outcome when the rules cannot be read
    outcome = row.outcome.assessments.get(submission.assignment.assessment_slug) if row.outcome else None
    attempt = next((a for a in outcome.attempts if a.position == submission.attempt), None) if outcome else None
    if attempt is None or attempt.raw_mark != submission.mark:
        return submission.mark, ()
    return attempt.recorded_mark, tuple(flag.value for flag in attempt.flags)


def feedback(actor: User, submission_id: int) -> Feedback:
    """The released mark and feedback of the trainee's own attempt, with the mark the rules record."""
    submission = load_submission(submission_id)
    object_or_404(submission, submission is not None and policies.owns(actor, submission.enrolment)
                  and submission.state == MarkingState.RELEASED)
    corrections = list(db.session.execute(
        select(MarkCorrection).where(MarkCorrection.submission_id == submission.id)
        .order_by(MarkCorrection.id)).scalars())
    first = next((m for m in submission.marks if m.stage == "first"), None)
    recorded, flags = _recorded(submission) if submission.assignment.credit_bearing else (submission.mark, ())
    return Feedback(submission, first, corrections, recorded, flags)


# --- extensions ------------------------------------------------------------------


def whole_number(value, default=None):
    """The whole number in a form value, or `default`."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def request_extension(actor: User, assignment_id: int, *, working_days, reason: str, evidence=None,
                      now: datetime | None = None) -> Extension:
    """A trainee asks for more time on their current attempt."""
    view = trainee_assignment(actor, assignment_id, now)
    _check_open(view)
    limit = view.assignment.max_extension_working_days
    errors = []
    days = whole_number(working_days)
    if days is None or not 1 <= days <= limit:
        errors.append(("working_days", f"Choose how many working days you need, from 1 to {limit}."))
    reason = (reason or "").strip()
    if not reason:
        errors.append(("reason", "Tell us briefly why you need more time. A few words are enough."))
    elif len(reason) > MAX_REASON_CHARACTERS:
        errors.append(("reason", f"Keep the reason under {MAX_REASON_CHARACTERS:,} characters. "
                                 "You can add more in an evidence file."))
    if view.pending_extension is not None:
        errors.append(("working_days", "You have already asked for an extension and are waiting for the answer. "
                                       "Your academic supervisor will reply soon."))
    if errors:
        raise Refused(errors)
    staged = _stage_evidence(evidence)
    try:
        submission = _current_draft(actor, view)
        stored = store_file(actor, submission, staged, "extension_evidence", view.now)
        extension = Extension(submission=submission, working_days=days, reason=reason,
                              evidence_file_id=stored.id if stored else None, status="requested", created_at=view.now)
        db.session.add(extension)
        db.session.flush()
        # The reason may be personal: the audit log records that a request was made, not why.
        audit_change(actor, "extension_requested", submission, after={"working_days": days, "extension": extension.id})
        db.session.flush()
    except BaseException:
        uploads.discard(staged)
        raise
    uploads.keep(staged, db.session)
    supervisor = view.enrolment.academic_supervisor
    if supervisor is not None:
        notify(supervisor, "An extension request is waiting for you",
               f"A trainee you supervise has asked for an extension of {days} working day"
               f"{'s' if days != 1 else ''} on “{view.assignment.title}”.",
               link=site_path("coursework.decide_extension", extension_id=extension.id))
    return extension


def _stage_evidence(evidence) -> list[uploads.StagedUpload]:
    if evidence is None or not (evidence.filename or ""):
        return []
    try:
        return uploads.stage_all([evidence])
    except uploads.UploadProblem as problem:
        raise Refused([("evidence", problem.message)], status=problem.status) from None


def store_file(actor, submission, staged, purpose, now) -> StoredFile | None:
    """Record a staged upload against an attempt (its file is kept once the caller flushes)."""
    if not staged:
        return None
    upload = staged[0]
    stored = StoredFile(submission_id=submission.id, purpose=purpose, stored_name=upload.stored_name,
                        original_name=upload.original_name, kind=upload.kind, size=upload.size,
                        sha256=upload.sha256, uploaded_by_id=actor.id, uploaded_at=now)
    db.session.add(stored)
    db.session.flush()
    return stored


def _load_extension(extension_id: int) -> Extension | None:
    return db.session.execute(
        select(Extension).options(
            joinedload(Extension.evidence_file),
            joinedload(Extension.submission).options(*submission_options()))
        .where(Extension.id == extension_id)).unique().scalar_one_or_none()


def extension_for_decision(actor: User, extension_id: int) -> tuple[Extension, Deadlines]:
    """An extension request, for the trainee's academic supervisor or an admin."""
    extension = _load_extension(extension_id)
    object_or_404(extension, extension is not None
                  and policies.can_decide_extension(actor, extension.submission.enrolment))
    return extension, deadlines_for(extension.submission.assignment, extension.submission)


def decide_extension(actor: User, extension_id: int, *, decision: str, working_days=None, message: str = "",
                     now: datetime | None = None) -> Extension:
    """Approve, shorten or decline an extension request, with a message for the trainee."""
    now = now or utcnow()
    extension, _ = extension_for_decision(actor, extension_id)
    if extension.status != "requested":
        raise Refused(f"This request has already been {EXTENSION_STATUS[extension.status]}.", status=409)
    message = (message or "").strip()
    errors = []
    days = extension.working_days
    if decision not in ("approve", "shorten", "decline"):
        errors.append(("decision", "Choose whether to approve, shorten or decline the request."))
    if decision == "shorten":
        days = whole_number(working_days)
        if days is None or not 1 <= days < extension.working_days:
            errors.append(("working_days", f"Enter a number of working days from 1 to {extension.working_days - 1} "
                                           f"(fewer than the {extension.working_days} asked for)."))
    if decision in ("shorten", "decline") and not message:
        errors.append(("message", "Write a short message for the trainee saying why, and what they can do next."))
    if len(message) > MAX_REASON_CHARACTERS:
        errors.append(("message", f"Keep the message under {MAX_REASON_CHARACTERS:,} characters."))
    if errors:
        raise Refused(errors)
    submission = extension.submission
    base = deadlines_for(submission.assignment, submission).due
    extension.status = {"approve": "approved", "shorten": "shortened", "decline": "declined"}[decision]
    extension.decided_by_id = actor.id
    extension.decided_at = now
    extension.decision_message = message or None
    if decision != "decline":
        extension.granted_days = days
        extension.granted_until = extension_until(base, days, zone(),
                                                  closures_for(submission.assignment.cohort.course_slug))
    audit_change(actor, "extension_decided", submission, before={"status": "requested"},
           after={"status": extension.status, "granted_days": extension.granted_days,
                  "granted_until": extension.granted_until}, object_type="extension", object_id=extension.id)
    db.session.flush()
    if decision == "decline":
        body = f"Your request for more time on “{submission.assignment.title}” was not approved."
    else:
        body = (f"Your extension on “{submission.assignment.title}” is {EXTENSION_STATUS[extension.status]}: "
                f"your new deadline is {short_time(extension.granted_until)}.")
    if message:
        # The message may be personal: it stays in the LMS, out of the e-mail.
        body += f"\n\n{actor.display_name} has written you a message: you can read it on the assignment page."
    notify(submission.enrolment.trainee, "A decision on your extension request", body,
           link=site_path("coursework.submission", assignment_id=submission.assignment_id))
    return extension


# --- mitigating circumstances ----------------------------------------------------


def report_mitigation(actor: User, assignment_id: int, *, category: str, details: str, evidence=None,
                      now: datetime | None = None) -> MitigatingClaim:
    """A trainee reports mitigating circumstances for their current attempt.

    For an attempt already submitted, the claim is recorded as made after
    submission: the trainee is taken as fit to sit unless an admin accepts it
    exceptionally.
    """
    view = trainee_assignment(actor, assignment_id, now)
    errors = []
    if category not in CLAIM_CATEGORIES:
        errors.append(("category", "Choose what best describes what happened."))
    details = (details or "").strip()
    if not details:
        errors.append(("details", "Tell us briefly what happened and how it affected your work. "
                                  "Share only what you are comfortable with."))
    elif len(details) > MAX_REASON_CHARACTERS * 2:
        errors.append(("details", f"Keep this under {MAX_REASON_CHARACTERS * 2:,} characters. "
                                  "You can add more in an evidence file."))
    if errors:
        raise Refused(errors)
    staged = _stage_evidence(evidence)
    try:
        submission = _current_draft(actor, view)
        stored = store_file(actor, submission, staged, "mitigation_evidence", view.now)
        claim = MitigatingClaim(submission_id=submission.id, category=category, details=details,
                                evidence_file_id=stored.id if stored else None,
                                after_submission=submission.status == "submitted", created_at=view.now)
        db.session.add(claim)
        db.session.flush()
        # Personal circumstances stay out of the audit log and e-mails: record only that a claim exists.
        audit_change(actor, "mitigation_reported", submission, after={"claim": claim.id},
                     object_type="mitigating_claim",
               object_id=claim.id)
    except BaseException:
        uploads.discard(staged)
        raise
    uploads.keep(staged, db.session)
    supervisor = view.enrolment.academic_supervisor
    if supervisor is not None:
        notify(supervisor, "A trainee you supervise has reported mitigating circumstances",
               "Please read it in the LMS. Nothing about it is included in this e-mail.",
               link=site_path("coursework.claim", claim_id=claim.id))
    return claim


def _load_claim(claim_id: int) -> MitigatingClaim | None:
    return db.session.execute(
        select(MitigatingClaim).options(
            joinedload(MitigatingClaim.evidence_file), joinedload(MitigatingClaim.decided_by),
            joinedload(MitigatingClaim.submission).options(*submission_options()))
        .where(MitigatingClaim.id == claim_id)).unique().scalar_one_or_none()


def claim_for(actor: User, claim_id: int) -> MitigatingClaim:
    """A claim, for the trainee's academic supervisor or an admin (never a marker)."""
    claim = _load_claim(claim_id)
    object_or_404(claim, claim is not None and policies.can_view_claim(actor, claim.submission.enrolment)
                  and actor.id != claim.submission.enrolment.trainee_id)
    return claim


def decide_claim(actor: User, claim_id: int, *, decision: str, reason: str = "", exceptional: bool = False,
                 now: datetime | None = None) -> MitigatingClaim:
    """Accept or reject mitigating circumstances (admins; later the exam board)."""
    now = now or utcnow()
    claim = claim_for(actor, claim_id)
    if not policies.can_decide_claim(actor):
        raise Refused("Only an admin or the exam board can accept or reject mitigating circumstances.", status=403)
    if claim.status != "reported":
        raise Refused(f"This claim has already been {CLAIM_STATUS[claim.status]}.", status=409)
    reason = (reason or "").strip()
    errors = []
    if decision not in ("accept", "reject"):
        errors.append(("decision", "Choose whether to accept or reject the claim."))
    if decision == "reject" and not reason:
        errors.append(("reason", "Record the reason, kindly: the trainee will read it."))
    if decision == "accept" and claim.after_submission:
        if not exceptional:
            errors.append(("exceptional", "This claim was made after the work was submitted, so the trainee is "
                                          "taken as fit to sit. To accept it, tick “accept exceptionally”."))
        if not reason:
            errors.append(("reason", "Record the reason for accepting a claim made after submission."))
    if len(reason) > MAX_REASON_CHARACTERS:
        errors.append(("reason", f"Keep the reason under {MAX_REASON_CHARACTERS:,} characters."))
    if errors:
        raise Refused(errors)
    claim.status = "accepted" if decision == "accept" else "rejected"
    claim.exceptional = bool(exceptional and decision == "accept" and claim.after_submission)
    claim.decision_reason = reason or None
    claim.decided_by_id = actor.id
    claim.decided_at = now
    audit_change(actor, "mitigation_decided", claim.submission, before={"status": "reported"},
           after={"status": claim.status, "exceptional": claim.exceptional}, object_type="mitigating_claim",
           object_id=claim.id)
    db.session.flush()
    notify(claim.submission.enrolment.trainee, "A decision on your mitigating circumstances",
           "There is a decision on the mitigating circumstances you reported. Please read it in the LMS.",
           link=site_path("coursework.submission", assignment_id=claim.submission.assignment_id))
    if claim.status == "accepted":
        from lms.coursework.marking import open_next_attempts

        # A missed attempt with accepted mitigation does not count: the trainee gets it again.
        open_next_attempts(actor, claim.submission.enrolment_id, now, why="attempt_reopened_for_mitigation")
    return claim


@dataclass
class Requests:
    extensions: list[Extension]
    claims: list[MitigatingClaim]


def requests_for(actor: User) -> Requests:
    """Extension requests and mitigating circumstances of the trainees this person supervises (all, for admins)."""
    scope = [] if is_admin(actor) else [Enrolment.academic_supervisor_id == actor.id]
    extensions = db.session.execute(
        select(Extension).join(Extension.submission).join(Submission.enrolment).where(*scope)
        .options(joinedload(Extension.submission).options(
            joinedload(Submission.assignment), joinedload(Submission.enrolment).joinedload(Enrolment.trainee)))
        .order_by((Extension.status == "requested").desc(), Extension.created_at.desc()).limit(200)
    ).unique().scalars().all()
    claims = db.session.execute(
        select(MitigatingClaim).join(MitigatingClaim.submission).join(Submission.enrolment).where(*scope)
        .options(joinedload(MitigatingClaim.submission).options(
            joinedload(Submission.assignment), joinedload(Submission.enrolment).joinedload(Enrolment.trainee)))
        .order_by((MitigatingClaim.status == "reported").desc(), MitigatingClaim.created_at.desc()).limit(200)
    ).unique().scalars().all()
    return Requests(list(extensions), list(claims))


# --- settings ------------------------------------------------------------------------


def _parse_local(day: str, at: str, label: str, field_name: str, errors, time_field: str = "") -> datetime | None:
    try:
        parsed_day = date.fromisoformat((day or "").strip())
    except ValueError:
        errors.append((field_name, f"Enter the {label} as a date, for example 2026-03-27."))
        return None
    try:
        parsed_time = time.fromisoformat((at or "17:00").strip())
    except ValueError:
        errors.append((time_field or field_name, f"Enter the {label} time as hours and minutes, for example 17:00."))
        return None
    return datetime.combine(parsed_day, parsed_time, tzinfo=ZoneInfo(zone())).astimezone(ZoneInfo("UTC"))


def update_settings(actor: User, assignment_id: int, *, version, due_date, due_time, cut_off_date, cut_off_time,
                    marks_due_date, anonymous: bool, second_marker_sees_first_mark: bool, tolerance) -> Assignment:
    """Change an assignment's dates and marking settings (admins)."""
    assignment = load_assignment(assignment_id)
    object_or_404(assignment, assignment is not None and is_admin(actor))
    if whole_number(version) != assignment.version:
        raise Refused("Someone else changed these settings after you opened them, so yours were not saved. "
                      "Reload the page to see theirs, then make your change again.", status=409)
    errors: list[tuple[str, str]] = []
    due = _parse_local(due_date, due_time, "due date", "due_date", errors, "due_time")
    cut_off = _parse_local(cut_off_date, cut_off_time, "cut-off date", "cut_off_date", errors, "cut_off_time")
    marks_due = _parse_local(marks_due_date, "17:00", "marking deadline", "marks_due_date", errors) \
        if (marks_due_date or "").strip() else None
    gap = whole_number(tolerance)
    if gap is None or not 0 <= gap <= 100:
        errors.append(("tolerance", "Enter the tolerance as a whole number of marks from 0 to 100, for example 10."))
    if due and cut_off and cut_off < due:
        errors.append(("cut_off_date", "The cut-off date must be on or after the due date."))
    if errors:
        raise Refused(errors)
    old = {"due_at": assignment.due_at, "cut_off_at": assignment.cut_off_at, "marks_due_at": assignment.marks_due_at,
           "anonymous": assignment.anonymous, "second_marker_sees_first_mark": assignment.second_marker_sees_first_mark,
           "third_marker_tolerance": assignment.third_marker_tolerance}
    assignment.due_at, assignment.cut_off_at, assignment.marks_due_at = due, cut_off, marks_due
    assignment.anonymous = bool(anonymous)
    assignment.second_marker_sees_first_mark = bool(second_marker_sees_first_mark)
    assignment.third_marker_tolerance = gap
    new = {"due_at": due, "cut_off_at": cut_off, "marks_due_at": marks_due, "anonymous": assignment.anonymous,
           "second_marker_sees_first_mark": assignment.second_marker_sees_first_mark,
           "third_marker_tolerance": gap}
    before, after = audit.changes(old, new)
    if before or after:
        audit.record(actor, "coursework.assignment_settings_changed", "assignment", assignment.id, before=before,
                     after=after, cohort_id=assignment.cohort_id)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Refused("Someone else changed these settings at the same moment. Reload the page and try again.",
                      status=409) from None
    return assignment


def second_attempts(assignment: Assignment) -> list[Submission]:
    """The referrals (second attempts) of an assignment, for admins to see and change their dates."""
    return list(db.session.execute(
        select(Submission).options(joinedload(Submission.candidate),
                                   joinedload(Submission.enrolment).joinedload(Enrolment.trainee))
        .join(Submission.candidate)
        .where(Submission.assignment_id == assignment.id, Submission.attempt > 1)
        .order_by(Candidate.number)).scalars())


def update_attempt_dates(actor: User, submission_id: int, *, version, due_date, due_time, cut_off_date,
                         cut_off_time) -> Submission:
    """Change the due date and cut-off of a second attempt (admins), before it is submitted."""
    submission = load_submission(submission_id)
    object_or_404(submission, submission is not None and is_admin(actor) and submission.attempt > 1)
    if submission.status == "submitted":
        raise Refused("This attempt has been submitted, so its dates can no longer change.", status=409)
    check_version(submission, version)
    errors: list[tuple[str, str]] = []
    prefix = f"attempt-{submission.id}-"
    due = _parse_local(due_date, due_time, "due date", prefix + "due_date", errors, prefix + "due_time")
    cut_off = _parse_local(cut_off_date, cut_off_time, "cut-off date", prefix + "cut_off_date", errors,
                           prefix + "cut_off_time")
    if due and cut_off and cut_off < due:
        errors.append((prefix + "cut_off_date", "The cut-off date must be on or after the due date."))
    if errors:
        raise Refused(errors)
    before, after = audit.changes({"due_at": submission.due_at, "cut_off_at": submission.cut_off_at},
                                  {"due_at": due, "cut_off_at": cut_off})
    submission.due_at, submission.cut_off_at, submission.updated_at = due, cut_off, utcnow()
    if before or after:
        audit_change(actor, "attempt_dates_changed", submission, before=before, after=after)
    flush_or_refuse()
    return submission


def settings_for(actor: User, assignment_id: int) -> Assignment:
    """An assignment for its settings page (admins; 404 for anyone else)."""
    assignment = load_assignment(assignment_id)
    return object_or_404(assignment, assignment is not None and is_admin(actor))


# --- downloads ---------------------------------------------------------------------------


def file_for_download(actor: User, file_id: int) -> StoredFile:
    """A kept file, for someone allowed to have it (404 for everyone else)."""
    stored = db.session.execute(
        select(StoredFile).options(joinedload(StoredFile.submission).options(
            joinedload(Submission.assignment), joinedload(Submission.enrolment), selectinload(Submission.marks)))
        .where(StoredFile.id == file_id)).scalar_one_or_none()
    return object_or_404(stored, stored is not None and policies.can_download(actor, stored, stored.submission))


# --- facts for the credit-level rules engine ------------------------------------------------


def assessment_facts(enrolment_ids, *, released_only: bool = True) -> dict[int, dict]:
    """Each enrolment's attempts as facts for `lms.progress.rules.evaluate`.

    Returns {enrolment id: {assessment slug: AssessmentFacts}} in a bounded
    number of queries. A mark counts once it is agreed (for the exam board)
    or, with `released_only` (what trainees and supervisors see), once it is
    released; marks are raw, the engine applies the caps.
    """
    return coursework_facts(enrolment_ids, released_only=released_only).assessments


@dataclass
class CourseworkFacts:
    """What the progress pages read of coursework, from the same few queries."""

    assessments: dict[int, dict] = field(default_factory=dict)  # as `assessment_facts`
    extension: dict[int, str] = field(default_factory=dict)  # latest extension request's status, per enrolment
    mitigation: dict[int, str] = field(default_factory=dict)  # latest mitigating circumstances claim's status
    touched: dict[int, datetime] = field(default_factory=dict)  # last change to any attempt


def coursework_facts(enrolment_ids, *, released_only: bool = True) -> CourseworkFacts:
    """`assessment_facts`, and each enrolment's latest extension and mitigation status and last coursework
    activity, in a bounded number of queries (five, whatever the number of enrolments)."""
    from lms.progress.rules import AssessmentFacts, Attempt

    enrolment_ids = list(enrolment_ids)
    if not enrolment_ids:
        return CourseworkFacts()
    # Plain rows of only the columns the facts need (not the essays): a caseload of hundreds of
    # attempts reads several times quicker than as objects.
    submissions = db.session.execute(
        select(Submission.id, Submission.enrolment_id, Submission.assignment_id, Submission.attempt,
               Submission.status, Submission.state, Submission.submitted_at, Submission.mark,
               # A first attempt's dates are its assignment's, so only later attempts' are read (parsing
               # timestamps is most of the cost of these rows).
               case((Submission.attempt > 1, Submission.due_at)).label("due_at"),
               case((Submission.attempt > 1, Submission.cut_off_at)).label("cut_off_at"), Submission.updated_at)
        .where(Submission.enrolment_id.in_(enrolment_ids)).order_by(Submission.attempt)).all()
    found = CourseworkFacts()
    for s in submissions:
        if s.updated_at is not None and (s.enrolment_id not in found.touched
                                         or s.updated_at > found.touched[s.enrolment_id]):
            found.touched[s.enrolment_id] = s.updated_at
    granted: dict[int, datetime] = {}
    accepted: set[int] = set()
    if submissions:
        submission_ids = [s.id for s in submissions]
        enrolment_of = {s.id: s.enrolment_id for s in submissions}
        # Every request, oldest first: the latest one's status is the enrolment's; granted dates count.
        for submission_id, status, until in db.session.execute(
                select(Extension.submission_id, Extension.status, Extension.granted_until)
                .where(Extension.submission_id.in_(submission_ids)).order_by(Extension.id)):
            found.extension[enrolment_of[submission_id]] = status
            if status in ("approved", "shortened") and until is not None:
                granted[submission_id] = max(granted.get(submission_id, until), until)
        for submission_id, status in db.session.execute(
                select(MitigatingClaim.submission_id, MitigatingClaim.status)
                .where(MitigatingClaim.submission_id.in_(submission_ids)).order_by(MitigatingClaim.id)):
            found.mitigation[enrolment_of[submission_id]] = status
            if status == "accepted":
                accepted.add(submission_id)
    counted = {MarkingState.RELEASED.value} if released_only else {
        MarkingState.AGREED.value, MarkingState.RATIFIED.value, MarkingState.RELEASED.value}
    attempts: dict[int, dict[str, list]] = {}
    started = {(s.enrolment_id, s.assignment_id) for s in submissions if s.attempt == 1}
    # A trainee who never opened the assignment still has a first attempt: past its deadline it is a
    # non-submission, just as an empty draft is.
    pairs = db.session.execute(
        select(Enrolment.id, Assignment.id).join(Assignment, Assignment.cohort_id == Enrolment.cohort_id)
        .where(Enrolment.id.in_(enrolment_ids)).order_by(Assignment.id)).all()
    wanted = {assignment_id for _, assignment_id in pairs} | {s.assignment_id for s in submissions}
    assignments = {a.id: a for a in db.session.execute(  # always run, so the page's query count stays fixed
        select(Assignment).options(joinedload(Assignment.cohort)).where(Assignment.id.in_(wanted))).scalars()}
    # Most attempts share their assignment's dates: work each set of dates out once.
    worked_out: dict[tuple, Deadlines] = {}

    def deadlines(assignment_id, attempt=1, due_at=None, cut_off_at=None, extended=None) -> Deadlines:
        key = (assignment_id, attempt > 1 and due_at, attempt > 1 and due_at and cut_off_at, extended)
        found = worked_out.get(key)
        if found is None:
            found = worked_out[key] = _deadlines(assignments[assignment_id], attempt, due_at, cut_off_at, extended)
        return found

    for enrolment_id, assignment_id in pairs:
        if (enrolment_id, assignment_id) not in started:
            attempts.setdefault(enrolment_id, {}).setdefault(assignments[assignment_id].assessment_slug, []).append(
                Attempt(due=deadlines(assignment_id).due))
    for s in submissions:
        dates = deadlines(s.assignment_id, s.attempt, s.due_at, s.cut_off_at, granted.get(s.id))
        attempts.setdefault(s.enrolment_id, {}).setdefault(assignments[s.assignment_id].assessment_slug, []).append(
            Attempt(due=dates.due, submitted_at=s.submitted_at if s.status == "submitted" else None,
                    mark=s.mark if s.state in counted else None, extension_until=dates.extension_until,
                    mitigation_accepted=s.id in accepted))
    found.assessments = {enrolment_id: {slug: AssessmentFacts(attempts=tuple(items)) for slug, items in by_slug.items()}
                         for enrolment_id, by_slug in attempts.items()}
    return found
