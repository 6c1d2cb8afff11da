"""The marking chain: allocation, anonymous marking, moderation, ratification, release and corrections.

Use cases over the pure state machine in `lms.coursework.rules`: every
step goes through `apply` (an illegal one is refused with its message),
every change of mark, state or feedback is audited, and services flush
while the request commits. Markers see only the scripts allocated to them
(anything else answers 404), by candidate number until release.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort, current_app
from flask.signals import Namespace
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts.models import RoleGrant, User
from lms.audit import services as audit
from lms.authz.access import object_or_404
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, Enrolment
from lms.cohorts.policies import is_admin
from lms.coursework import policies, uploads
from lms.coursework.models import (
    Assignment,
    Candidate,
    ExaminerComment,
    Mark,
    MarkCorrection,
    MitigatingClaim,
    Submission,
)
from lms.coursework.rules import (
    Action,
    MarkingState,
    Script,
    allocate_balanced,
    band_for_mark,
    criterion_problem,
    csv_safe,
    cut_off_after,
    deadline_on,
    moderation_sample,
    needs_third_marker,
    rubric_mark,
    validate_mark,
    validate_override,
    validate_second_marker,
)
from lms.coursework.services import (
    MAX_FEEDBACK_CHARACTERS,
    Refused,
    audit_change,
    check_version,
    closures_for,
    deadlines_for,
    ensure_assignments,
    flush_or_refuse,
    granted_extension,
    load_assignment,
    load_submission,
    local,
    move,
    rules_for,
    short_time,
    site_path,
    store_file,
    submission_options,
    whole_number,
    zone,
)
from lms.database import utcnow
from lms.extensions import db
from lms.notify.services import notify

_signals = Namespace()
# Other domains (progress, certificates) listen for these rather than importing the marking chain.
marks_ratified = _signals.signal("coursework.marks-ratified")
marks_released = _signals.signal("coursework.marks-released")


# --- marking: who marks, the queue, allocation ------------------------------------


def markers_for(cohort_id: int) -> list[User]:
    """People who may mark a cohort's scripts: its tutors and academic supervisors."""
    return list(db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.cohort_id == cohort_id, RoleGrant.role.in_([Role.TUTOR.value, Role.ACADEMIC_SUPERVISOR.value]),
               User.active.is_(True))
        .order_by(User.display_name).distinct()).scalars())


@dataclass
class MarkingOverviewRow:
    assignment: Assignment
    manage: bool
    to_mark: int
    total: int


def _marking_cohorts(actor: User) -> set[int]:
    """Cohorts whose marking this person may take part in: those they teach or supervise academically."""
    return set(actor.cohort_ids_for(Role.TUTOR)) | set(actor.cohort_ids_for(Role.ACADEMIC_SUPERVISOR))


def marking_overview(actor: User) -> list[MarkingOverviewRow]:
    """The assignments this person marks or manages, with how many scripts wait for them."""
    if is_admin(actor):
        cohorts = None
        ensure_assignments(db.session.execute(select(Cohort.id).where(Cohort.status != "archived")).scalars())
    else:
        cohorts = _marking_cohorts(actor)
        ensure_assignments(cohorts)
    mine = or_(Submission.first_marker_id == actor.id, Submission.second_marker_id == actor.id,
               Submission.third_marker_id == actor.id)
    query = select(Assignment).options(joinedload(Assignment.cohort)).join(Assignment.cohort)
    if cohorts is not None:
        allocated = select(Submission.assignment_id).where(mine)
        query = query.where(or_(Assignment.cohort_id.in_(cohorts), Assignment.id.in_(allocated)))
    assignments = db.session.execute(query.order_by(Cohort.start_date.desc(), Assignment.id)).scalars().all()
    ids = [a.id for a in assignments]
    totals = dict(db.session.execute(
        select(Submission.assignment_id, func.count()).where(Submission.assignment_id.in_(ids),
                                                             Submission.status == "submitted")
        .group_by(Submission.assignment_id)).all())
    waiting = or_(
        (Submission.first_marker_id == actor.id) & Submission.state.in_(["submitted", "in_marking"]),
        (Submission.second_marker_id == actor.id) & (Submission.state == "second_marking"),
        (Submission.third_marker_id == actor.id) & (Submission.state == "third_marking"))
    to_mark = dict(db.session.execute(
        select(Submission.assignment_id, func.count()).where(Submission.assignment_id.in_(ids), waiting)
        .group_by(Submission.assignment_id)).all())
    return [MarkingOverviewRow(a, policies.can_manage_marking(actor, a.cohort_id), to_mark.get(a.id, 0),
                               totals.get(a.id, 0)) for a in assignments]


@dataclass
class QueueRow:
    submission: Submission
    my_stage: str | None
    show_name: bool
    needs: str | None  # the stage needing a marker: first, second, third

    @property
    def state(self) -> MarkingState:
        return MarkingState(self.submission.state)

    @property
    def waiting_for_me(self) -> bool:
        state = self.submission.state
        return ((self.my_stage == "first" and state in ("submitted", "in_marking"))
                or (self.my_stage == "second" and state == "second_marking")
                or (self.my_stage == "third" and state == "third_marking"))

    @property
    def first_mark_shown(self) -> bool:
        """A lead tutor who is also this script's blind second marker does not see the first mark here."""
        return self.my_stage != "second" or policies.sees_marking(self.submission, "second", "first")


@dataclass
class Queue:
    assignment: Assignment
    rows: list[QueueRow]
    manage: bool
    markers: list[User]
    is_admin: bool

    @property
    def first_marked(self) -> int:
        return sum(1 for row in self.rows if row.state is MarkingState.FIRST_MARKED)

    @property
    def ratified(self) -> int:
        return sum(1 for row in self.rows if row.state is MarkingState.RATIFIED)


def _needs(submission: Submission) -> str | None:
    state = submission.state
    if state in ("submitted", "in_marking") and submission.first_marker_id is None:
        return "first"
    if state == "second_marking" and submission.second_marker_id is None:
        return "second"
    if state == "third_marking" and submission.third_marker_id is None:
        return "third"
    return None


def queue(actor: User, assignment_id: int) -> Queue:
    """The marking queue: a marker's own allocation, or every script for admins and the lead tutor.

    A bounded number of queries whatever the number of scripts.
    """
    assignment = load_assignment(assignment_id)
    manage = assignment is not None and policies.can_manage_marking(actor, assignment.cohort_id)
    query = (select(Submission)
             .options(joinedload(Submission.candidate), joinedload(Submission.enrolment).joinedload(Enrolment.trainee),
                      joinedload(Submission.first_marker), joinedload(Submission.second_marker),
                      joinedload(Submission.third_marker), selectinload(Submission.marks))
             .join(Submission.candidate)
             .where(Submission.assignment_id == assignment_id, Submission.status == "submitted")
             .order_by(Candidate.number, Submission.attempt))
    if not manage:
        query = query.where(or_(Submission.first_marker_id == actor.id, Submission.second_marker_id == actor.id,
                                Submission.third_marker_id == actor.id))
    submissions = db.session.execute(query).scalars().all() if assignment is not None else []
    object_or_404(assignment, manage or bool(submissions)
                  or (assignment is not None and assignment.cohort_id in _marking_cohorts(actor)))
    for submission in submissions:
        set_committed_value(submission, "assignment", assignment)  # already loaded: no query per row
    rows = [QueueRow(s, policies.marker_stage(actor, s), policies.shows_identity(actor, s), _needs(s))
            for s in submissions]
    return Queue(assignment, rows, manage, markers_for(assignment.cohort_id) if manage else [], is_admin(actor))


def _managed_assignment(actor: User, assignment_id: int) -> Assignment:
    assignment = load_assignment(assignment_id)
    return object_or_404(assignment, assignment is not None
                         and policies.can_manage_marking(actor, assignment.cohort_id))


def allocate(actor: User, assignment_id: int, submission_ids, marker_ids) -> dict[int, int]:
    """Share the chosen scripts among the chosen first markers, as evenly as possible.

    Loads already allocated count, so repeated allocations stay balanced.
    Returns {submission id: marker id}.
    """
    assignment = _managed_assignment(actor, assignment_id)
    markers = {m.id: m for m in markers_for(assignment.cohort_id)}
    chosen_markers = [int(m) for m in marker_ids if whole_number(m) in markers]
    wanted = {whole_number(s) for s in submission_ids} - {None}
    errors = []
    if not chosen_markers:
        errors.append(("markers", "Choose at least one marker."))
    if not wanted:
        errors.append(("scripts", "Choose at least one script to allocate."))
    if errors:
        raise Refused(errors)
    scripts = db.session.execute(
        select(Submission).options(*submission_options())
        .where(Submission.assignment_id == assignment.id, Submission.id.in_(wanted),
               Submission.status == "submitted")).unique().scalars().all()
    scripts = [s for s in scripts if s.state in ("submitted", "in_marking")]
    if not scripts:
        raise Refused([("scripts", "None of the chosen scripts is waiting for a first marker.")], status=409)
    loads = dict(db.session.execute(
        select(Submission.first_marker_id, func.count()).where(Submission.assignment_id == assignment.id,
                                                               Submission.first_marker_id.in_(chosen_markers))
        .group_by(Submission.first_marker_id)).all())
    # A script moving from one marker to another no longer counts against the first.
    for script in scripts:
        if script.first_marker_id in loads:
            loads[script.first_marker_id] -= 1
    ordered = sorted(scripts, key=lambda s: s.candidate.number)
    allocation = allocate_balanced([s.id for s in ordered], chosen_markers, loads)
    for script in ordered:
        _set_marker(actor, script, "first", markers[allocation[script.id]])
    flush_or_refuse()
    _tell_markers(allocation, markers, assignment)
    return allocation


def _set_marker(actor: User, submission: Submission, stage: str, marker: User) -> None:
    before = getattr(submission, f"{stage}_marker_id")
    if before == marker.id:
        return
    move(actor, submission, Action.ALLOCATE)
    setattr(submission, f"{stage}_marker_id", marker.id)
    setattr(submission, f"{stage}_marker", marker)
    audit_change(actor, "marker_allocated", submission, before={f"{stage}_marker": before},
           after={f"{stage}_marker": marker.id})
    # A draft first marking by the previous marker stays on record, now in the new marker's hands.
    for mark in submission.marks:
        if mark.stage == stage and mark.completed_at is None:
            mark.marker_id = marker.id


def _tell_markers(allocation: dict, markers: dict, assignment: Assignment, stage: str = "first") -> None:
    counts: dict[int, int] = {}
    for marker_id in allocation.values():
        counts[marker_id] = counts.get(marker_id, 0) + 1
    what = {"first": "to mark", "second": "to second mark", "third": "to mark as third marker"}[stage]
    for marker_id, count in counts.items():
        notify(markers[marker_id], f"Scripts {what}: {assignment.title}",
               f"You have {count} script{'s' if count != 1 else ''} {what} for {assignment.cohort.name}.",
               link=site_path("coursework.queue", assignment_id=assignment.id), email=True)


_SEEN_FIRST_MARKS = ("Second marking here is blind, and you have seen the first marks while allocating, so you "
                     "cannot second mark these scripts yourself. Choose other second markers, or ask an admin to "
                     "allocate if you are to second mark.")


def allocate_script(actor: User, submission_id: int, *, stage: str, marker_id) -> Submission:
    """Allocate (or change) one script's first, second or third marker."""
    submission = load_submission(submission_id)
    object_or_404(submission, submission is not None and submission.status == "submitted"
                  and policies.can_manage_marking(actor, submission.assignment.cohort_id))
    markers = {m.id: m for m in markers_for(submission.assignment.cohort_id)}
    chosen = whole_number(marker_id)
    if stage not in policies.STAGES:
        raise Refused([("stage", "Choose first, second or third marker.")])
    if chosen not in markers:
        raise Refused([(f"marker-{submission.id}", "Choose a marker from the list.")])
    if stage == "second":
        problem = validate_second_marker(submission.first_marker_id, chosen)
        if problem:
            raise Refused([(f"marker-{submission.id}", problem)])
        if chosen == actor.id and not submission.assignment.second_marker_sees_first_mark:
            raise Refused([(f"marker-{submission.id}", _SEEN_FIRST_MARKS)])
    if stage == "third" and chosen in (submission.first_marker_id, submission.second_marker_id):
        raise Refused([(f"marker-{submission.id}", "The third marker must be someone other than the first and "
                                                   "second markers. Choose another marker.")])
    if policies.current_stage(submission) != stage:
        raise Refused([(f"marker-{submission.id}",
                        f"This script is {MarkingState(submission.state).label}, so it has no {stage} marker "
                        "to allocate now.")], status=409)
    _set_marker(actor, submission, stage, markers[chosen])
    flush_or_refuse()
    _tell_markers({submission.id: chosen}, markers, submission.assignment, stage)
    return submission


# --- marking a script --------------------------------------------------------------


@dataclass
class ScriptView:
    """A script as one person sees it on the marking page."""

    submission: Submission
    actor_stage: str | None
    show_name: bool
    marks: dict[str, Mark]
    is_admin: bool

    @property
    def assignment(self) -> Assignment:
        return self.submission.assignment

    @property
    def state(self) -> MarkingState:
        return MarkingState(self.submission.state)

    @property
    def editing(self) -> str | None:
        """The form this person fills in now: 'first', 'second', 'third', 'agree', or None to read."""
        stage, state = self.actor_stage, self.state
        if stage == "first" and state in (MarkingState.SUBMITTED, MarkingState.IN_MARKING):
            return "first"
        if stage == "second" and state is MarkingState.SECOND_MARKING:
            return "agree" if self.completed("second") else "second"
        if stage == "third" and state is MarkingState.THIRD_MARKING:
            return "agree" if self.completed("third") else "third"
        return None

    def completed(self, stage: str) -> bool:
        """Whether the given stage's marker has recorded their mark."""
        mark = self.marks.get(stage)
        return mark is not None and mark.completed_at is not None

    def visible(self, stage: str) -> bool:
        """Whether this person may see a stage's marking now (second marking can be blind)."""
        return stage in self.marks and policies.sees_marking(self.submission, self.actor_stage, stage, self.is_admin)

    @property
    def can_reopen(self) -> bool:
        return self.state is MarkingState.FIRST_MARKED and (self.actor_stage == "first" or self.is_admin)

    @property
    def within_tolerance(self) -> bool:
        first, second = self.submission.first_mark, self.submission.second_mark
        return first is not None and second is not None and not needs_third_marker(
            first, second, self.assignment.third_marker_tolerance)


def script(actor: User, submission_id: int) -> ScriptView:
    """A script for marking: only its markers (and admins) may open it; everyone else gets 404."""
    submission = load_submission(submission_id)
    object_or_404(submission, submission is not None and policies.can_open_script(actor, submission))
    return ScriptView(submission, policies.marker_stage(actor, submission), policies.shows_identity(actor, submission),
                      {m.stage: m for m in submission.marks}, is_admin(actor))


@dataclass
class CriterionEntry:
    band: str | None
    mark: str | None
    comment: str


def _marking_for(actor: User, submission_id: int, stage: str, version) -> ScriptView:
    view = script(actor, submission_id)
    if view.actor_stage != stage:
        abort(404)
    check_version(view.submission, version)
    return view


def save_first_marking(actor: User, submission_id: int, *, version, criteria: dict[str, CriterionEntry],
                       overall: str | None, override_reason: str, feedback_text: str, feedback_file=None,
                       complete: bool = False, now: datetime | None = None) -> Submission:
    """Save the first marker's rubric grid, mark and feedback; `complete` finishes first marking.

    Drafts may be partial; completing needs every criterion, the feedback, and
    a reason for any mark that differs from the rubric's.
    """
    now = now or utcnow()
    view = _marking_for(actor, submission_id, "first", version)
    submission, assignment = view.submission, view.assignment
    state = MarkingState(submission.state)
    if state not in (MarkingState.SUBMITTED, MarkingState.IN_MARKING):
        raise Refused(f"This script is {state.label}, so first marking can't change now."
                      + (" Reopen first marking to change it." if state is MarkingState.FIRST_MARKED else ""),
                      status=409)
    errors: list[tuple[str, str]] = []
    chosen: dict[str, dict] = {}
    marks: dict[str, int] = {}
    for criterion in assignment.rubric:
        entry = criteria.get(criterion["id"]) or CriterionEntry(None, None, "")
        bands = [(b["low"], b["high"]) for b in criterion["bands"]]
        given_mark = (entry.mark or "").strip()
        band = entry.band or None
        if given_mark and not band and validate_mark(given_mark) is None:
            # A mark without a band: take the band it falls in.
            found = band_for_mark(bands, int(given_mark))
            band = f"{found[0]}-{found[1]}" if found else None
        if given_mark or complete:
            problem = criterion_problem(bands, band, given_mark)
            if problem:
                errors.append((f"mark-{criterion['id']}", f"{criterion['title']}: {problem}"))
            else:
                marks[criterion["id"]] = int(given_mark)
        chosen[criterion["id"]] = {"band": band, "mark": marks.get(criterion["id"]),
                                   "comment": (entry.comment or "").strip()[:MAX_FEEDBACK_CHARACTERS]}
    computed = rubric_mark(assignment.weights, marks) if assignment.rubric and len(marks) == len(assignment.rubric) \
        else None
    overall = (overall or "").strip()
    override_reason = (override_reason or "").strip()
    final = computed
    if overall:
        if computed is None:
            problem = validate_mark(overall)
            if problem is None and complete:
                problem = "Complete the rubric first: the overall mark is worked out from it."
        else:
            problem = validate_override(overall, computed, override_reason)
        if problem:
            errors.append(("overall", problem))
        else:
            final = int(overall)
    feedback_text = (feedback_text or "").strip()
    if len(feedback_text) > MAX_FEEDBACK_CHARACTERS:
        errors.append(("feedback", f"Keep the feedback under {MAX_FEEDBACK_CHARACTERS:,} characters, or attach it "
                                   "as a file."))
    if complete and not feedback_text:
        errors.append(("feedback", "Write feedback for the trainee before completing first marking: what went "
                                   "well and what to do next."))
    if errors:
        raise Refused(errors)
    staged = []
    if feedback_file is not None and (feedback_file.filename or ""):
        try:
            staged = uploads.stage_all([feedback_file])
        except uploads.UploadProblem as problem:
            raise Refused([("feedback_file", problem.message)], status=problem.status) from None
    try:
        if state is MarkingState.SUBMITTED:
            move(actor, submission, Action.START_MARKING)
        mark = view.marks.get("first")
        if mark is None:
            mark = Mark(submission=submission, stage="first", marker_id=actor.id, criteria={}, feedback="")
            db.session.add(mark)
        old = {"criteria": mark.criteria, "computed_mark": mark.computed_mark, "mark": mark.mark,
               "override_reason": mark.override_reason, "feedback": mark.feedback}
        mark.criteria = chosen
        mark.computed_mark = computed
        mark.mark = final if assignment.rubric else None
        mark.override_reason = override_reason if (overall and computed is not None and final != computed) else None
        mark.feedback = feedback_text
        mark.marker_id = actor.id
        mark.updated_at = now
        old_file = mark.feedback_file
        if staged:
            stored = store_file(actor, submission, staged, "feedback", now)
            mark.feedback_file_id = stored.id
        submission.updated_at = now
        new = {"criteria": chosen, "computed_mark": computed, "mark": mark.mark,
               "override_reason": mark.override_reason, "feedback": feedback_text}
        before, after = audit.changes(old, new)
        if staged:
            after["feedback_file"] = staged[0].sha256
        if before or after:
            audit_change(actor, "first_marking_saved", submission, before=before, after=after,
                   reason=mark.override_reason)
        if complete:
            if assignment.rubric and mark.mark is None:
                raise Refused([("overall", "Give a mark for every criterion before completing first marking.")])
            mark.completed_at = now
            submission.first_mark = mark.mark
            move(actor, submission, Action.COMPLETE_FIRST_MARKING)
            if not assignment.credit_bearing:
                _release_formative(actor, submission, now)
        flush_or_refuse()
    except BaseException:
        uploads.discard(staged)
        raise
    uploads.keep(staged, db.session)
    if staged and old_file is not None:
        db.session.delete(old_file)
        uploads.remove_after_commit(old_file.stored_name)
    return submission


def _release_formative(actor: User, submission: Submission, now: datetime) -> None:
    """Formative work has feedback and no mark: it is agreed, passes no exam board and is released at once."""
    move(actor, submission, Action.AGREE, reason="Formative task: feedback only.")
    submission.agreed_at = now
    submission.agreed_by_id = actor.id
    move(actor, submission, Action.RATIFY, reason="Formative task: no exam board.")
    _release(actor, submission, now)


def reopen_first_marking(actor: User, submission_id: int, *, version) -> Submission:
    """Take a first-marked script back into marking (before moderation)."""
    view = script(actor, submission_id)
    if not view.can_reopen:
        if view.state is not MarkingState.FIRST_MARKED:
            raise Refused(f"This script is {view.state.label}, so first marking can't be reopened.", status=409)
        abort(404)
    check_version(view.submission, version)
    move(actor, view.submission, Action.REOPEN_FIRST_MARKING)
    view.submission.first_mark = None
    first = view.marks.get("first")
    if first is not None:
        first.completed_at = None
    flush_or_refuse()
    return view.submission


def save_moderation_mark(actor: User, submission_id: int, *, stage: str, version, mark, comment: str,
                         now: datetime | None = None) -> Submission:
    """The second (or third) marker's own mark and comments, completed in one go.

    A second mark more than the tolerance away from the first sends the
    script to a third marker.
    """
    now = now or utcnow()
    view = _marking_for(actor, submission_id, stage, version)
    if view.editing != stage:
        raise Refused(f"This script is {view.state.label}; your {stage} mark can't be changed now.", status=409)
    submission, assignment = view.submission, view.assignment
    errors = []
    problem = validate_mark(mark)
    if problem:
        errors.append(("mark", problem))
    comment = (comment or "").strip()
    if not comment:
        errors.append(("comment", "Add a short comment on the script, so the marks can be discussed and agreed."))
    elif len(comment) > MAX_FEEDBACK_CHARACTERS:
        errors.append(("comment", f"Keep the comment under {MAX_FEEDBACK_CHARACTERS:,} characters."))
    if errors:
        raise Refused(errors)
    record = view.marks.get(stage)
    if record is None:
        record = Mark(submission=submission, stage=stage, marker_id=actor.id, criteria={})
        db.session.add(record)
    value = int(str(mark).strip())
    record.mark, record.feedback, record.completed_at, record.updated_at = value, comment, now, now
    setattr(submission, f"{stage}_mark", value)
    submission.updated_at = now
    audit_change(actor, f"{stage}_marking_saved", submission, after={f"{stage}_mark": value, "comment": comment})
    if stage == "second" and needs_third_marker(submission.first_mark, value, assignment.third_marker_tolerance):
        move(actor, submission, Action.REFER_TO_THIRD_MARKER,
              reason=f"First and second marks differ by more than {assignment.third_marker_tolerance}.")
    flush_or_refuse()
    return submission


def agree_mark(actor: User, submission_id: int, *, version, mark, rationale: str,
               now: datetime | None = None) -> Submission:
    """Record the agreed mark with its rationale (the second or third marker, or an admin)."""
    now = now or utcnow()
    view = script(actor, submission_id)
    submission, assignment = view.submission, view.assignment
    if view.state not in (MarkingState.SECOND_MARKING, MarkingState.THIRD_MARKING):
        raise Refused(f"This script is {view.state.label}, so there is no mark to agree now.", status=409)
    stage = "second" if view.state is MarkingState.SECOND_MARKING else "third"
    if view.actor_stage != stage and not view.is_admin:
        raise Refused(f"The {stage} marker records the agreed mark for this script.", status=409)
    if not view.completed(stage):
        raise Refused(f"The {stage} mark has not been recorded yet. Record it first; then the mark can be agreed.",
                      status=409)
    check_version(submission, version)
    if stage == "second" and not view.within_tolerance:
        raise Refused("The first and second marks are more than "
                      f"{assignment.third_marker_tolerance} apart, so a third marker decides.", status=409)
    errors = []
    problem = validate_mark(mark)
    if problem:
        errors.append(("agreed_mark", problem))
    rationale = (rationale or "").strip()
    if not rationale:
        errors.append(("rationale", "Record how the mark was agreed, briefly, for the exam board and the "
                                    "external examiner."))
    if errors:
        raise Refused(errors)
    value = int(str(mark).strip())
    before = {"agreed_mark": submission.agreed_mark}
    move(actor, submission, Action.AGREE, reason=rationale)
    submission.agreed_mark = value
    submission.mark = value
    submission.agreed_rationale = rationale
    submission.agreed_by_id = actor.id
    submission.agreed_at = now
    audit_change(actor, "mark_agreed", submission, before=before, after={"agreed_mark": value}, reason=rationale)
    flush_or_refuse()
    _tell_earlier_markers(actor, submission, stage, value, rationale)
    return submission


def _tell_earlier_markers(actor: User, submission: Submission, stage: str, value: int, rationale: str) -> None:
    """The markers before the one who agreed hear the agreed mark and why, so none learns it first from the
    exam board (and can say so if it is not what they agreed)."""
    earlier = [submission.first_marker] + ([submission.second_marker] if stage == "third" else [])
    label = submission.candidate.label if submission.candidate else f"script {submission.id}"
    for marker in earlier:
        if marker is not None and marker.id != actor.id:
            notify(marker, f"Mark agreed: {label}, {submission.assignment.title}",
                   f"The agreed mark for {label} is {value}. How it was agreed: {rationale}",
                   link=site_path("coursework.script", submission_id=submission.id))


# --- moderation sample -----------------------------------------------------------------


@dataclass
class Moderation:
    assignment: Assignment
    first_marked: list[Submission]
    proposed: set[int]
    still_marking: int
    markers: list[User]


def moderation(actor: User, assignment_id: int) -> Moderation:
    """The proposed moderation sample for the scripts now first marked (admins and the lead tutor)."""
    assignment = _managed_assignment(actor, assignment_id)
    scripts = db.session.execute(
        select(Submission).options(joinedload(Submission.candidate), joinedload(Submission.first_marker))
        .join(Submission.candidate)
        .where(Submission.assignment_id == assignment.id, Submission.status == "submitted")
        .order_by(Candidate.number)).scalars().all()
    first_marked = [s for s in scripts if s.state == MarkingState.FIRST_MARKED]
    still = sum(1 for s in scripts if s.state in (MarkingState.SUBMITTED, MarkingState.IN_MARKING))
    proposed = set(moderation_sample([Script(s.id, s.first_marker_id, s.first_mark) for s in first_marked
                                      if s.first_mark is not None], assignment.pass_mark)) \
        if assignment.credit_bearing else set()
    return Moderation(assignment, first_marked, proposed, still, markers_for(assignment.cohort_id))


def confirm_sample(actor: User, assignment_id: int, *, sampled_ids, second_marker_ids,
                   now: datetime | None = None) -> tuple[int, int]:
    """Send the chosen scripts to second marking (shared evenly among the chosen second
    markers, never to a script's own first marker); the first mark of every other
    first-marked script becomes its agreed mark. Returns (sampled, agreed)."""
    now = now or utcnow()
    view = moderation(actor, assignment_id)
    if not view.first_marked:
        raise Refused([("sampled", "There are no first-marked scripts to moderate yet.")], status=409)
    by_id = {s.id: s for s in view.first_marked}
    sampled = [by_id[i] for i in sorted({whole_number(i) for i in sampled_ids} & set(by_id))]
    markers = {m.id: m for m in view.markers}
    chosen = [m for m in (whole_number(i) for i in second_marker_ids) if m in markers]
    errors = []
    if sampled and not chosen:
        errors.append(("second_markers", "Choose at least one second marker."))
    if sampled and actor.id in chosen and not view.assignment.second_marker_sees_first_mark:
        errors.append(("second_markers", _SEEN_FIRST_MARKS))
    allocation = allocate_balanced([s.id for s in sampled], chosen, {},
                                   {s.id: {s.first_marker_id} for s in sampled}) if chosen else {}
    for script_ in sampled:
        if chosen and script_.id not in allocation:
            errors.append(("second_markers", f"{script_.candidate.label}: "
                                             + validate_second_marker(script_.first_marker_id, chosen[0])))
    if errors:
        raise Refused(errors)
    full = {s.id: s for s in db.session.execute(
        select(Submission).options(*submission_options()).where(Submission.id.in_(list(by_id)))).unique().scalars()}
    for script_ in sampled:
        submission = full[script_.id]
        move(actor, submission, Action.SELECT_FOR_MODERATION, reason="In the moderation sample.")
        submission.sampled = True
        _set_marker(actor, submission, "second", markers[allocation[submission.id]])
    agreed = 0
    for submission_id in sorted(set(by_id) - {s.id for s in sampled}):
        submission = full[submission_id]
        move(actor, submission, Action.AGREE, reason="Not in the moderation sample: the first mark stands.")
        submission.agreed_mark = submission.mark = submission.first_mark
        submission.agreed_rationale = "Not in the moderation sample: the first mark stands."
        submission.agreed_by_id = actor.id
        submission.agreed_at = now
        audit_change(actor, "mark_agreed", submission, after={"agreed_mark": submission.agreed_mark})
        agreed += 1
    flush_or_refuse()
    if allocation:
        _tell_markers(allocation, markers, view.assignment, "second")
    return len(sampled), agreed


# --- exam board, release, corrections, referral -------------------------------------------


def ratify_marks(actor: User, cohort: Cohort | int, submission_ids=None, now: datetime | None = None) -> int:
    """Record the exam board's ratification: every agreed mark of the cohort moves to ratified.

    For the exam board (admins). `submission_ids` limits it to some scripts.
    Returns how many were ratified.
    """
    if not is_admin(actor):
        raise Refused("Only the exam board (admins) can ratify marks.", status=403)
    now = now or utcnow()
    cohort_id = cohort if isinstance(cohort, int) else cohort.id
    query = (select(Submission).options(*submission_options()).join(Submission.assignment)
             .where(Assignment.cohort_id == cohort_id, Submission.state == MarkingState.AGREED.value))
    if submission_ids is not None:
        query = query.where(Submission.id.in_(list(submission_ids)))
    ratified = []
    for submission in db.session.execute(query).unique().scalars():
        move(actor, submission, Action.RATIFY, reason="Ratified by the exam board.")
        submission.ratified_at = now
        ratified.append(submission.id)
    flush_or_refuse()
    if ratified:
        marks_ratified.send(current_app._get_current_object(), cohort_id=cohort_id, submission_ids=ratified)
    return len(ratified)


def _release(actor: User, submission: Submission, now: datetime) -> None:
    move(actor, submission, Action.RELEASE)
    submission.released_at = now
    assignment = submission.assignment
    referral = _open_referral(actor, submission, now)
    body = (f"Your feedback for “{assignment.title}” is ready." if not assignment.credit_bearing
            else f"Your mark and feedback for “{assignment.title}” are ready to read.")
    if referral is not None:
        body += (f"\n\nYou can submit a second attempt (a resubmission). Its deadline is "
                 f"{short_time(referral.due_at)}. Your academic supervisor can help you plan it.")
    notify(submission.enrolment.trainee, f"Feedback ready: {assignment.title}", body,
           link=site_path("coursework.feedback", submission_id=submission.id))


def _open_referral(actor: User, submission: Submission, now: datetime) -> Submission | None:
    """A failed first attempt opens a second attempt with its own due date (raw marks only here:
    the rules engine applies the cap to a referral's mark)."""
    assignment = submission.assignment
    rules = rules_for(assignment.cohort.course_slug)
    max_attempts = rules.attempts.max_attempts if rules else 2
    if (not assignment.credit_bearing or submission.mark is None or submission.mark >= assignment.pass_mark
            or submission.attempt >= max_attempts):
        return None
    exists = db.session.execute(select(Submission.id).where(
        Submission.assignment_id == assignment.id, Submission.enrolment_id == submission.enrolment_id,
        Submission.attempt == submission.attempt + 1)).scalar_one_or_none()
    if exists is not None:
        return None
    return _new_attempt(actor, assignment, submission, now)


def _new_attempt(actor: User, assignment: Assignment, after: Submission, now: datetime,
                 why: str = "referral_opened") -> Submission:
    """The attempt after `after`, due `referral_weeks` from now (never before `after` was itself due)."""
    closures = closures_for(assignment.cohort.course_slug)
    start = max(local(now).date(), local(deadlines_for(assignment, after).due).date())
    due = deadline_on(start + timedelta(weeks=assignment.referral_weeks), zone())
    attempt = Submission(assignment_id=assignment.id, enrolment_id=after.enrolment_id,
                         candidate_id=after.candidate_id, attempt=after.attempt + 1, status="draft",
                         text="", due_at=due,
                         cut_off_at=cut_off_after(due, assignment.cut_off_working_days, zone(), closures))
    db.session.add(attempt)
    db.session.flush()
    audit_change(actor, why, after, after={"attempt": attempt.attempt, "due_at": due, "submission": attempt.id})
    return attempt


def open_next_attempts(actor: User, enrolment_id: int, now: datetime | None = None, *,
                       why: str = "next_attempt_opened") -> list[Submission]:
    """Open the trainee's next attempt at each credit-bearing assignment where the rules say
    one is left and none is open (state "awaiting a new date"), and tell the trainee.

    Called when an exam board allows an extra attempt or defers a trainee, and
    when mitigating circumstances are accepted (a mitigated non-submission does
    not use up its attempt). Does nothing where an attempt is still open,
    passed, or none is left, so calling it twice opens nothing more.
    """
    from lms.coursework.services import _candidate_for, assessment_facts
    from lms.progress.facts import extra_attempts
    from lms.progress.rules import AssessmentFacts, AssessmentRule, AssessmentState, evaluate_assessment

    now = now or utcnow()
    enrolment = db.session.execute(select(Enrolment).options(joinedload(Enrolment.trainee))
                                   .where(Enrolment.id == enrolment_id)).scalar_one_or_none()
    if enrolment is None:
        return []
    assignments = list(db.session.execute(
        select(Assignment).options(joinedload(Assignment.cohort))
        .where(Assignment.cohort_id == enrolment.cohort_id, Assignment.credit_bearing.is_(True))).scalars())
    if not assignments:
        return []
    # Released marks only: a failing mark the trainee has not been given yet opens its referral on release.
    facts = assessment_facts([enrolment_id]).get(enrolment_id, {})
    extra = extra_attempts([enrolment_id]).get(enrolment_id, 0)
    opened = []
    for assignment in assignments:
        rules = rules_for(assignment.cohort.course_slug)
        if rules is None:
            continue
        rule = next((r for r in rules.assessments if r.slug == assignment.assessment_slug),
                    AssessmentRule(slug=assignment.assessment_slug))
        slug_facts = facts.get(assignment.assessment_slug, AssessmentFacts())
        outcome = evaluate_assessment(rules, rule, AssessmentFacts(slug_facts.attempts, extra), now)
        if outcome.state is not AssessmentState.AWAITING_NEW_DATE:
            continue
        attempts = list(db.session.execute(select(Submission).where(
            Submission.assignment_id == assignment.id, Submission.enrolment_id == enrolment_id)
            .order_by(Submission.attempt)).scalars())
        if not attempts:  # never started: keep the missed first attempt on the record
            first = Submission(assignment_id=assignment.id, enrolment_id=enrolment_id,
                               candidate_id=_candidate_for(enrolment_id).id, attempt=1, status="draft", text="")
            db.session.add(first)
            db.session.flush()
            attempts = [first]
        attempt = _new_attempt(actor, assignment, attempts[-1], now, why)
        opened.append(attempt)
        notify(enrolment.trainee, f"Another attempt at {assignment.title}",
               f"You can submit another attempt at “{assignment.title}”. Its deadline is "
               f"{short_time(attempt.due_at)}. Your academic supervisor can help you plan it.",
               link=site_path("coursework.submission", assignment_id=assignment.id))
    return opened


def release(actor: User, assignment_id: int, submission_id: int | None = None,
            now: datetime | None = None) -> int:
    """Release ratified marks and feedback to trainees: all of an assignment at once, or one script."""
    now = now or utcnow()
    if not is_admin(actor):
        raise Refused("Only admins release marks.", status=403)
    query = select(Submission).options(*submission_options()).where(
        Submission.assignment_id == assignment_id, Submission.state == MarkingState.RATIFIED.value)
    if submission_id is not None:
        query = query.where(Submission.id == submission_id)
    scripts = db.session.execute(query).unique().scalars().all()
    if not scripts:
        raise Refused("There is nothing to release: marks are released once the exam board has ratified them.",
                      status=409)
    for submission in scripts:
        _release(actor, submission, now)
    flush_or_refuse()
    marks_released.send(current_app._get_current_object(), submission_ids=[s.id for s in scripts])
    return len(scripts)


def release_cohort(actor: User, cohort: Cohort | int, now: datetime | None = None) -> int:
    """Release every ratified mark of a cohort at once, whatever the assignment. Returns how many."""
    if not is_admin(actor):
        raise Refused("Only admins release marks.", status=403)
    cohort_id = cohort if isinstance(cohort, int) else cohort.id
    waiting = db.session.execute(
        select(Submission.assignment_id).join(Submission.assignment)
        .where(Assignment.cohort_id == cohort_id, Submission.state == MarkingState.RATIFIED.value)
        .distinct()).scalars().all()
    return sum(release(actor, assignment_id, now=now) for assignment_id in sorted(waiting))


def correct_mark(actor: User, submission_id: int, *, version, new_mark, reason: str,
                 now: datetime | None = None) -> MarkCorrection:
    """Correct a released mark: recorded with the reason, audited, and the trainee told."""
    now = now or utcnow()
    view = script(actor, submission_id)
    if not view.is_admin:
        abort(404)
    submission = view.submission
    if view.state is not MarkingState.RELEASED:
        raise Refused("Only a released mark is corrected this way. Before release, change the mark in the "
                      "marking chain.", status=409)
    check_version(submission, version)
    errors = []
    problem = validate_mark(new_mark)
    if problem:
        errors.append(("new_mark", problem))
    elif int(str(new_mark).strip()) == submission.mark:
        errors.append(("new_mark", f"The mark is already {submission.mark}. Enter the corrected mark."))
    reason = (reason or "").strip()
    if not reason:
        errors.append(("reason", "Record why the mark is being corrected."))
    if errors:
        raise Refused(errors)
    value = int(str(new_mark).strip())
    correction = MarkCorrection(submission_id=submission.id, old_mark=submission.mark, new_mark=value,
                                reason=reason, corrected_by_id=actor.id, created_at=now)
    db.session.add(correction)
    audit_change(actor, "mark_corrected", submission, before={"mark": submission.mark}, after={"mark": value},
           reason=reason)
    submission.mark = value
    submission.updated_at = now
    flush_or_refuse()
    referral = _open_referral(actor, submission, now)
    body = f"The mark for “{submission.assignment.title}” has been corrected to {value}. Reason: {reason}"
    if referral is not None:
        body += f"\n\nYou can submit a second attempt. Its deadline is {short_time(referral.due_at)}."
    notify(submission.enrolment.trainee, f"Your mark has been corrected: {submission.assignment.title}", body,
           link=site_path("coursework.feedback", submission_id=submission.id))
    return correction


# --- export for the exam board -------------------------------------------------------------

EXPORT_COLUMNS = ["candidate", "trainee", "attempt", "submitted", "working days late", "extension until",
                  "first marker", "first mark", "second marker (moderator)", "second mark", "third marker",
                  "third mark", "raw mark", "recorded mark", "state", "flags"]


def _recorded(assignment: Assignment, attempts: list[Submission], claims: dict[int, bool], now: datetime):
    """Recorded mark and flags of each attempt, from the credit-level rules engine (caps for lateness
    and referral), or the raw mark when the rules are not available."""
    rules = rules_for(assignment.cohort.course_slug)
    if rules is None or not assignment.credit_bearing:
        return {s.id: (s.mark, ()) for s in attempts}
    from lms.progress.rules import AssessmentFacts, AssessmentRule, Attempt, evaluate_assessment

    rule = next((r for r in rules.assessments if r.slug == assignment.assessment_slug),
                AssessmentRule(slug=assignment.assessment_slug))
    facts = AssessmentFacts(attempts=tuple(
        Attempt(due=deadlines_for(assignment, s).due, submitted_at=s.submitted_at,
                mark=s.mark if s.state in (MarkingState.AGREED, MarkingState.RATIFIED, MarkingState.RELEASED) else None,
                extension_until=granted_extension(s), mitigation_accepted=claims.get(s.id, False))
        for s in attempts))
    outcome = evaluate_assessment(rules, rule, facts, now)
    judged = {a.position: a for a in outcome.attempts}
    result = {}
    for position, submission in enumerate(attempts, start=1):
        attempt = judged.get(position)
        result[submission.id] = (attempt.recorded_mark, tuple(f.value for f in attempt.flags)) if attempt \
            else (submission.mark, ())
    return result


def export_csv(actor: User, assignment_id: int, now: datetime | None = None) -> tuple[Assignment, str]:
    """The marks of an assignment as CSV for the exam board (admins); cells safe from formula injection."""
    assignment = load_assignment(assignment_id)
    object_or_404(assignment, assignment is not None and is_admin(actor))
    return assignment, marks_csv(assignment, now)


def marks_csv(assignment: Assignment, now: datetime | None = None) -> str:
    """The CSV itself (also for `lms coursework export`, run by the operator): one row per attempt."""
    now = now or utcnow()
    submissions = db.session.execute(
        select(Submission).options(
            joinedload(Submission.candidate), joinedload(Submission.enrolment).joinedload(Enrolment.trainee),
            joinedload(Submission.first_marker), joinedload(Submission.second_marker),
            joinedload(Submission.third_marker), selectinload(Submission.extensions))
        .join(Submission.candidate)
        .where(Submission.assignment_id == assignment.id, Submission.status == "submitted")
        .order_by(Candidate.number, Submission.attempt)).scalars().all()
    accepted = set(db.session.execute(select(MitigatingClaim.submission_id).where(
        MitigatingClaim.submission_id.in_([s.id for s in submissions]), MitigatingClaim.status == "accepted"))
        .scalars())
    corrected = set(db.session.execute(select(MarkCorrection.submission_id).where(
        MarkCorrection.submission_id.in_([s.id for s in submissions]))).scalars())
    overridden = set(db.session.execute(select(Mark.submission_id).where(
        Mark.submission_id.in_([s.id for s in submissions]), Mark.stage == "first",
        Mark.override_reason.is_not(None))).scalars())
    by_enrolment: dict[int, list[Submission]] = {}
    for submission in submissions:
        set_committed_value(submission, "assignment", assignment)
        by_enrolment.setdefault(submission.enrolment_id, []).append(submission)
    recorded = {}
    for attempts in by_enrolment.values():
        recorded.update(_recorded(assignment, attempts, {s.id: s.id in accepted for s in attempts}, now))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for s in submissions:
        mark, engine_flags = recorded.get(s.id, (s.mark, ()))
        flags = list(engine_flags)
        if s.sampled:
            flags.append("sampled")
        if s.third_marker_id:
            flags.append("third marker")
        if s.id in overridden:
            flags.append("override")
        if s.id in corrected:
            flags.append("corrected")
        if s.working_days_late and "L" not in flags:
            flags.append("late")
        extension = granted_extension(s)
        writer.writerow([csv_safe(v) for v in [
            s.candidate.label, s.enrolment.trainee.display_name, s.attempt,
            local(s.submitted_at).strftime("%Y-%m-%d %H:%M") if s.submitted_at else "", s.working_days_late,
            local(extension).strftime("%Y-%m-%d %H:%M") if extension else "",
            s.first_marker.display_name if s.first_marker else "", s.first_mark,
            s.second_marker.display_name if s.second_marker else "", s.second_mark,
            s.third_marker.display_name if s.third_marker else "", s.third_mark,
            s.mark, mark, MarkingState(s.state).label, " ".join(flags)]])
    return out.getvalue()


# --- external examiners --------------------------------------------------------------------


def examining(actor: User) -> list[Assignment]:
    """The credit-bearing assignments of the cohorts this person examines."""
    cohorts = actor.cohort_ids_for(Role.EXTERNAL_EXAMINER)
    ensure_assignments(cohorts)
    return list(db.session.execute(
        select(Assignment).options(joinedload(Assignment.cohort))
        .where(Assignment.cohort_id.in_(cohorts), Assignment.credit_bearing.is_(True))
        .order_by(Assignment.id.desc())).scalars())


@dataclass
class ExaminerSample:
    assignment: Assignment
    scripts: list[Submission]
    comments: list[ExaminerComment]


def examiner_sample(actor: User, assignment_id: int) -> ExaminerSample:
    """The moderation sample with its marks, read-only, and the examiners' comments."""
    assignment = load_assignment(assignment_id)
    object_or_404(assignment, assignment is not None and policies.can_examine(actor, assignment.cohort_id))
    scripts = db.session.execute(
        select(Submission).options(*submission_options()).join(Submission.candidate)
        .where(Submission.assignment_id == assignment.id, Submission.sampled.is_(True))
        .order_by(Candidate.number)).unique().scalars().all()
    comments = db.session.execute(
        select(ExaminerComment).options(joinedload(ExaminerComment.author))
        .where(ExaminerComment.assignment_id == assignment.id).order_by(ExaminerComment.id)).scalars().all()
    return ExaminerSample(assignment, list(scripts), list(comments))


def add_examiner_comment(actor: User, assignment_id: int, *, submission_id=None, body: str) -> ExaminerComment:
    """An external examiner's comment on the sample (or one script in it)."""
    sample = examiner_sample(actor, assignment_id)
    target = whole_number(submission_id)
    if target is not None and target not in {s.id for s in sample.scripts}:
        abort(404)
    body = (body or "").strip()
    field_name = f"comment-{target}" if target else "comment"
    if not body:
        raise Refused([(field_name, "Write your comment before saving it.")])
    if len(body) > MAX_FEEDBACK_CHARACTERS:
        raise Refused([(field_name, f"Keep the comment under {MAX_FEEDBACK_CHARACTERS:,} characters.")])
    comment = ExaminerComment(assignment_id=sample.assignment.id, submission_id=target, author_id=actor.id, body=body)
    db.session.add(comment)
    db.session.flush()
    audit.record(actor, "coursework.examiner_comment", "assignment", sample.assignment.id,
                 after={"comment": comment.id, "submission": target}, cohort_id=sample.assignment.cohort_id)
    return comment
