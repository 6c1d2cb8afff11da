"""Who may do what with assignments, submissions and marks.

Endpoint access says which roles may open a page at all; the predicates
below are the object-level checks the services apply (anything a person may
not see answers 404).
"""

from __future__ import annotations

from lms.accounts.models import User
from lms.authz.access import SIGNED_IN
from lms.authz.roles import Role
from lms.cohorts.models import Enrolment
from lms.cohorts.policies import is_admin
from lms.coursework.rules import MarkingState

TRAINEE = frozenset({Role.TRAINEE})
MARKING = frozenset({Role.TUTOR, Role.ACADEMIC_SUPERVISOR, Role.ADMIN})
LEADING = frozenset({Role.TUTOR, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
SUPERVISING = frozenset({Role.ACADEMIC_SUPERVISOR, Role.ADMIN})
EXAMINING = frozenset({Role.EXTERNAL_EXAMINER})

ENDPOINT_ACCESS = {
    # Trainees
    "coursework.my_assignments": TRAINEE,
    "coursework.submission": TRAINEE,
    "coursework.autosave": TRAINEE,
    "coursework.remove_file": TRAINEE,
    "coursework.request_extension": TRAINEE,
    "coursework.report_mitigation": TRAINEE,
    "coursework.receipt": TRAINEE,
    "coursework.feedback": TRAINEE,
    # Anyone signed in; the service checks the file is theirs to see.
    "coursework.download": SIGNED_IN,
    # Academic supervisors and admins
    "coursework.requests": SUPERVISING,
    "coursework.decide_extension": SUPERVISING,
    "coursework.claim": SUPERVISING,
    # Marking
    "coursework.marking": MARKING,
    "coursework.queue": MARKING,
    "coursework.allocate": LEADING,
    "coursework.allocate_script": LEADING,
    "coursework.script": MARKING,
    "coursework.reopen": MARKING,
    "coursework.agree": MARKING,
    "coursework.moderation": LEADING,
    "coursework.settings": ADMIN,
    "coursework.attempt_dates": ADMIN,
    "coursework.release": ADMIN,
    "coursework.release_script": ADMIN,
    "coursework.correct": ADMIN,
    "coursework.export": ADMIN,
    # External examiners
    "coursework.examining": EXAMINING,
    "coursework.examiner_sample": EXAMINING,
}

STAGES = ("first", "second", "third")


def is_lead_tutor(user: User, cohort_id: int) -> bool:
    """The lead tutor of a cohort (the tutor's role grant there carries the lead flag)."""
    return any(grant.role == Role.TUTOR and grant.cohort_id == cohort_id and grant.lead
               for grant in user.role_grants)


def can_manage_marking(user: User, cohort_id: int) -> bool:
    """Allocate markers, propose the moderation sample: admins and the lead tutor."""
    return is_admin(user) or is_lead_tutor(user, cohort_id)


def marker_stage(user: User, submission) -> str | None:
    """Which marker this person is on the script ('first', 'second', 'third'), or None."""
    for stage in STAGES:
        if getattr(submission, f"{stage}_marker_id") == user.id:
            return stage
    return None


def can_open_script(user: User, submission) -> bool:
    """A marker sees only scripts allocated to them; admins see every script."""
    return submission.status == "submitted" and (is_admin(user) or marker_stage(user, submission) is not None)


def current_stage(submission) -> str | None:
    """The marking stage the script is at: 'first', 'second', 'third', or None once agreed."""
    state = MarkingState(submission.state) if submission.state else None
    if state in (MarkingState.SUBMITTED, MarkingState.IN_MARKING, MarkingState.FIRST_MARKED):
        return "first"
    if state is MarkingState.SECOND_MARKING:
        return "second"
    if state is MarkingState.THIRD_MARKING:
        return "third"
    return None


def shows_identity(user: User, submission) -> bool:
    """Whether this person sees the trainee's name (anonymous marking hides it from markers until release)."""
    if user.id == submission.enrolment.trainee_id or is_admin(user):
        return True
    if not submission.assignment.anonymous:
        return True
    return submission.state == MarkingState.RELEASED


def owns(user: User, enrolment: Enrolment) -> bool:
    """The enrolment is this person's own."""
    return enrolment.trainee_id == user.id


def can_decide_extension(user: User, enrolment: Enrolment) -> bool:
    """The trainee's academic supervisor, or an admin."""
    return is_admin(user) or enrolment.academic_supervisor_id == user.id


def can_view_claim(user: User, enrolment: Enrolment) -> bool:
    """Mitigating circumstances: the trainee, their academic supervisor and admins. Never markers."""
    return is_admin(user) or user.id in (enrolment.academic_supervisor_id, enrolment.trainee_id)


def can_decide_claim(user: User) -> bool:
    """Admins (or, later, the exam board) accept or reject mitigating circumstances."""
    return is_admin(user)


def can_examine(user: User, cohort_id: int) -> bool:
    """External examiners of the cohort see the moderation sample, read-only, and comment."""
    return cohort_id in user.cohort_ids_for(Role.EXTERNAL_EXAMINER)


SETTLED = (MarkingState.AGREED, MarkingState.RATIFIED, MarkingState.RELEASED)


def sees_marking(submission, actor_stage: str | None, stage: str, admin: bool = False) -> bool:
    """Whether a person (by their stage on the script) may see another stage's mark, comments and files now.

    Blind second marking: the second marker sees the first marking only after
    recording their own (unless the assignment says otherwise) or once the
    mark is agreed. A third marker sees both; everyone sees all once agreed.
    `submission.marks` must be loaded.
    """
    if admin or stage == actor_stage:
        return True
    state = MarkingState(submission.state) if submission.state else None
    if actor_stage == "second" and stage == "first":
        second = next((m for m in submission.marks if m.stage == "second"), None)
        return (submission.assignment.second_marker_sees_first_mark or state in SETTLED
                or (second is not None and second.completed_at is not None))
    return actor_stage == "third" or state in SETTLED


def can_download(user: User, stored_file, submission) -> bool:
    """Who may download a kept file, by what it is for.

    Submitted work: the trainee, the script's markers, admins, and external
    examiners for scripts in the sample. Feedback files: the markers and
    admins, and the trainee once the mark is released. Evidence for an
    extension or mitigating circumstances: the trainee, their academic
    supervisor and admins only.
    """
    enrolment = submission.enrolment
    if is_admin(user):
        return True
    trainee = user.id == enrolment.trainee_id
    if stored_file.purpose in ("extension_evidence", "mitigation_evidence"):
        return trainee or user.id == enrolment.academic_supervisor_id
    marker = marker_stage(user, submission) is not None
    examiner = submission.sampled and can_examine(user, submission.assignment.cohort_id)
    if stored_file.purpose == "submission":
        return trainee or marker or examiner
    if stored_file.purpose == "feedback":
        if marker:
            # A first marker's feedback file is part of the first marking: hidden from a blind second marker.
            owner = next((m.stage for m in submission.marks if m.feedback_file_id == stored_file.id), None)
            return owner is None or sees_marking(submission, marker_stage(user, submission), owner)
        return examiner or (trainee and submission.state == MarkingState.RELEASED)
    return False
