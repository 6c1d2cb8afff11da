"""Who may see and share diary entries and wellness plans.

A diary entry and a wellness plan belong to the trainee. Nobody else sees
them (not tutors, other trainees or admins) unless the trainee shares them:
an entry, one at a time, with their academic and/or personal supervisor; the
wellness plan with their personal supervisor. A supervisor sees what is shared
only while the share stands and while they are still linked to the trainee.
"""

from __future__ import annotations

from collections.abc import Iterable

from lms.accounts.models import User
from lms.authz.roles import Role
from lms.cohorts.models import Enrolment

TRAINEES = frozenset({Role.TRAINEE})
SUPERVISORS = frozenset({Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR})
PERSONAL_SUPERVISORS = frozenset({Role.PERSONAL_SUPERVISOR})

ACADEMIC = "academic_supervisor"
PERSONAL = "personal_supervisor"
# Enrolments that no longer link a trainee to their supervisors.
ENDED = frozenset({"withdrawn", "transferred"})

ENDPOINT_ACCESS = {
    "diary.index": TRAINEES,
    "diary.new_entry": TRAINEES,
    "diary.entry": TRAINEES,
    "diary.edit_entry": TRAINEES,
    "diary.autosave": TRAINEES,
    "diary.share_entry": TRAINEES,
    "diary.withdraw_entry": TRAINEES,
    "diary.history": TRAINEES,
    "diary.history_version": TRAINEES,
    "diary.delete_entry": TRAINEES,
    "diary.settings": TRAINEES,
    "diary.plan": TRAINEES,
    "diary.edit_plan": TRAINEES,
    "diary.plan_version": TRAINEES,
    "diary.plan_pdf": TRAINEES,
    "diary.plan_version_pdf": TRAINEES,
    "diary.share_plan": TRAINEES,
    "diary.withdraw_plan": TRAINEES,
    "diary.shared_with_me": SUPERVISORS,
    "diary.shared_entry": SUPERVISORS,
    "diary.add_comment": SUPERVISORS,
    "diary.shared_plan": PERSONAL_SUPERVISORS,
    "diary.shared_plan_pdf": PERSONAL_SUPERVISORS,
}


def owns(actor: User, item) -> bool:
    """A trainee's own entry, version, comment thread or plan."""
    return item is not None and actor.id == item.trainee_id


def supervisor_links(enrolments: Iterable[Enrolment]) -> dict[int, str]:
    """The trainee's current supervisors: {user id: academic_supervisor | personal_supervisor}.

    Taken from the trainee's enrolments that have not ended; when one person
    is both, the academic link is named.
    """
    links: dict[int, str] = {}
    for enrolment in enrolments:
        if enrolment.status in ENDED:
            continue
        if enrolment.personal_supervisor_id:
            links.setdefault(enrolment.personal_supervisor_id, PERSONAL)
        if enrolment.academic_supervisor_id:
            links[enrolment.academic_supervisor_id] = ACADEMIC
    return links


def personal_supervisor_ids(enrolments: Iterable[Enrolment]) -> set[int]:
    return {e.personal_supervisor_id for e in enrolments
            if e.status not in ENDED and e.personal_supervisor_id}


def can_share_entry_with(trainee: User, supervisor_id: int, enrolments: Iterable[Enrolment]) -> bool:
    """An entry may be shared only with one of the trainee's own supervisors."""
    return supervisor_id != trainee.id and supervisor_id in supervisor_links(enrolments)


def can_share_plan_with(trainee: User, supervisor_id: int, enrolments: Iterable[Enrolment]) -> bool:
    """A wellness plan may be shared only with the trainee's personal supervisor."""
    return supervisor_id != trainee.id and supervisor_id in personal_supervisor_ids(enrolments)


def can_view_shared_entry(actor: User, share, enrolments: Iterable[Enrolment]) -> bool:
    """A supervisor sees an entry shared with them, while shared and while still linked."""
    return (share is not None and share.withdrawn_at is None and share.supervisor_id == actor.id
            and actor.id in supervisor_links(enrolments))


def can_view_shared_plan(actor: User, plan, enrolments: Iterable[Enrolment]) -> bool:
    """A personal supervisor sees the plan shared with them while still the trainee's personal supervisor."""
    return (plan is not None and plan.shared_with_id == actor.id
            and actor.id in personal_supervisor_ids(enrolments))
