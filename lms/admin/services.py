"""Use cases behind the admin pages: people, organisations and the audit log.

Every change an admin makes here is written to the audit log with what it
was before and after. Services flush; the request commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask import abort
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import Organisation, RoleGrant, User, WebSession
from lms.admin import rules
from lms.audit import services as audit
from lms.audit.models import AuditEvent
from lms.authz.roles import Role
from lms.cohorts import services as cohorts
from lms.cohorts.models import Cohort, Enrolment
from lms.cohorts.rules import Problem
from lms.extensions import db

require_admin = cohorts.require_admin
Page = cohorts.Page

PEOPLE_SORTS = {
    "name": (func.lower(User.display_name), User.id),
    "email": (User.email,),
    "newest": (User.created_at.desc(), User.id.desc()),
    "organisation": (func.lower(func.coalesce(Organisation.name, "~")), func.lower(User.display_name), User.id),
}
ORGANISATION_SORTS = {
    "name": (func.lower(Organisation.name), Organisation.id),
    "kind": (Organisation.kind, func.lower(Organisation.name)),
    "newest": (Organisation.created_at.desc(), Organisation.id.desc()),
}


# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------

def list_people(actor: User, *, q: str = "", role: str = "", organisation: str = "", status: str = "",
                sort: str = "name", page: int = 1, per_page: int = 25) -> tuple[Page, dict[int, str]]:
    """A page of people (search by name or email; filter by role, organisation, active or not),
    and the names of the cohorts their roles are held in."""
    require_admin(actor)
    query = select(User).outerjoin(Organisation, User.organisation_id == Organisation.id)
    if q.strip():
        pattern = cohorts.like_pattern(q.strip())
        query = query.where(or_(User.display_name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\")))
    if role in {r.value for r in Role}:
        query = query.where(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == role)))
    if organisation == "none":
        query = query.where(User.organisation_id.is_(None))
    elif organisation.isdigit():
        query = query.where(User.organisation_id == int(organisation))
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "deactivated":
        query = query.where(User.active.is_(False))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    people = list(db.session.execute(
        query.options(selectinload(User.role_grants), selectinload(User.organisation))
        .order_by(*PEOPLE_SORTS.get(sort, PEOPLE_SORTS["name"]))
        .limit(per_page).offset((page - 1) * per_page)).scalars())
    return Page(people, total, page, per_page), _cohort_names({g.cohort_id for p in people for g in p.role_grants})


def _cohort_names(ids) -> dict[int, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return dict(db.session.execute(select(Cohort.id, Cohort.name).where(Cohort.id.in_(ids))).all())


@dataclass
class PersonPage:
    person: User
    cohort_names: dict[int, str]
    enrolments: list[Enrolment]
    supervising: list[Enrolment]
    recent_events: list[AuditEvent] = field(default_factory=list)


def get_person(actor: User, user_id: int) -> User:
    require_admin(actor)
    person = db.session.execute(
        select(User).where(User.id == user_id)
        .options(selectinload(User.role_grants), selectinload(User.organisation))).scalar_one_or_none()
    if person is None:
        abort(404)
    return person


def person_page(actor: User, user_id: int) -> PersonPage:
    """A person with their roles per cohort, enrolments, whom they supervise and recent audit events."""
    person = get_person(actor, user_id)
    supervising = list(db.session.execute(
        select(Enrolment).where(or_(Enrolment.academic_supervisor_id == person.id,
                                    Enrolment.personal_supervisor_id == person.id))
        .options(selectinload(Enrolment.trainee), selectinload(Enrolment.cohort))
        .order_by(Enrolment.id.desc()).limit(200)).scalars())
    return PersonPage(
        person=person, cohort_names=_cohort_names({g.cohort_id for g in person.role_grants}),
        enrolments=cohorts.enrolment_history(person.id), supervising=supervising,
        recent_events=audit.events(person_id=person.id, limit=10),
    )


def person_values(person: User) -> dict:
    return {"display_name": person.display_name,
            "organisation": person.organisation.name if person.organisation else None}


def update_person(actor: User, person: User, *, display_name: str, organisation_id: int | None) -> list[Problem]:
    """Change a person's name or organisation (a personal supervisor's trainees must stay in theirs)."""
    require_admin(actor)
    name, problems = rules.check_person_name(display_name)
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation_id and organisation is None:
        problems.append(Problem("organisation", "Choose an organisation from the list."))
    if not problems and organisation_id != person.organisation_id:
        supervised = db.session.execute(select(func.count(Enrolment.id)).where(
            Enrolment.personal_supervisor_id == person.id, Enrolment.status.in_(("active", "deferred")))).scalar_one()
        if supervised:
            problems.append(Problem("organisation", (
                f"{person.display_name} is the personal supervisor of {supervised} trainee"
                f"{'s' if supervised != 1 else ''} in their current organisation. Choose other supervisors for them first.")))
        supervisors = db.session.execute(select(func.count(Enrolment.id)).where(
            Enrolment.trainee_id == person.id, Enrolment.personal_supervisor_id.is_not(None),
            Enrolment.status.in_(("active", "deferred")))).scalar_one()
        if supervisors:
            problems.append(Problem("organisation", (
                f"{person.display_name} has a personal supervisor from their current organisation. "
                "Remove or change their personal supervisor first.")))
    if problems:
        return problems
    before = person_values(person)
    person.display_name = name
    person.organisation = organisation
    db.session.flush()
    old, new = audit.changes(before, person_values(person))
    if new:
        audit.record(actor, "user.updated", "user", person.id, subject_user_id=person.id, before=old, after=new)
    return []


def end_all_sessions(user_id: int) -> int:
    """Sign a person out everywhere, inside the request's own transaction."""
    return db.session.execute(delete(WebSession).where(WebSession.user_id == user_id)
                              .execution_options(synchronize_session=False)).rowcount


def deactivate(actor: User, person: User, reason: str = "") -> list[Problem]:
    """Stop a person signing in and end every session they have; their records stay."""
    require_admin(actor)
    if person.id == actor.id:
        return [Problem("deactivate", "You cannot deactivate your own account. Ask another admin.")]
    if not person.active:
        return []
    person.active = False
    ended = end_all_sessions(person.id)
    db.session.flush()
    audit.record(actor, "user.deactivated", "user", person.id, subject_user_id=person.id,
                 before={"active": True}, after={"active": False, "sessions_ended": ended}, reason=reason or None)
    return []


def reactivate(actor: User, person: User) -> None:
    """Let a deactivated person sign in again."""
    require_admin(actor)
    if person.active:
        return
    person.active = True
    db.session.flush()
    audit.record(actor, "user.reactivated", "user", person.id, subject_user_id=person.id,
                 before={"active": False}, after={"active": True})


# ---------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------

def list_organisations(actor: User, *, q: str = "", kind: str = "", sort: str = "name", page: int = 1,
                       per_page: int = 25) -> tuple[Page, dict[int, int]]:
    """A page of organisations and how many people belong to each."""
    require_admin(actor)
    query = select(Organisation)
    if q.strip():
        pattern = cohorts.like_pattern(q.strip())
        query = query.where(or_(Organisation.name.ilike(pattern, escape="\\"),
                                Organisation.contact_email.ilike(pattern, escape="\\")))
    if kind in rules.ORGANISATION_KINDS:
        query = query.where(Organisation.kind == kind)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    items = list(db.session.execute(
        query.order_by(*ORGANISATION_SORTS.get(sort, ORGANISATION_SORTS["name"]))
        .limit(per_page).offset((page - 1) * per_page)).scalars())
    counts = {}
    if items:
        counts = dict(db.session.execute(
            select(User.organisation_id, func.count(User.id)).where(User.organisation_id.in_([o.id for o in items]))
            .group_by(User.organisation_id)).all())
    return Page(items, total, page, per_page), counts


def get_organisation(actor: User, organisation_id: int) -> Organisation:
    require_admin(actor)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


def organisation_values(organisation: Organisation) -> dict:
    return {"name": organisation.name, "kind": organisation.kind, "contact_email": organisation.contact_email}


def _organisation_problems(details: rules.OrganisationDetails, organisation: Organisation | None):
    checked, problems = rules.check_organisation(details)
    if checked is None:
        return None, problems
    taken = db.session.execute(select(Organisation.id).where(
        func.lower(Organisation.name) == checked.name.lower())).scalar_one_or_none()
    if taken is not None and (organisation is None or taken != organisation.id):
        return None, [Problem("name", f"There is already an organisation called “{checked.name}”.")]
    return checked, []


def create_organisation(actor: User, details: rules.OrganisationDetails) -> tuple[Organisation | None, list[Problem]]:
    require_admin(actor)
    checked, problems = _organisation_problems(details, None)
    if problems:
        return None, problems
    organisation = Organisation(name=checked.name, kind=checked.kind, contact_email=checked.contact_email or None)
    db.session.add(organisation)
    db.session.flush()
    audit.record(actor, "organisation.created", "organisation", organisation.id, after=organisation_values(organisation))
    return organisation, []


def update_organisation(actor: User, organisation: Organisation, details: rules.OrganisationDetails) -> list[Problem]:
    require_admin(actor)
    checked, problems = _organisation_problems(details, organisation)
    if problems:
        return problems
    before = organisation_values(organisation)
    organisation.name, organisation.kind = checked.name, checked.kind
    organisation.contact_email = checked.contact_email or None
    db.session.flush()
    old, new = audit.changes(before, organisation_values(organisation))
    if new:
        audit.record(actor, "organisation.updated", "organisation", organisation.id, before=old, after=new)
    return []


def organisation_people(organisation_id: int, limit: int = 200) -> list[User]:
    return list(db.session.execute(
        select(User).where(User.organisation_id == organisation_id)
        .order_by(func.lower(User.display_name), User.id).limit(limit)).scalars())


# ---------------------------------------------------------------------------
# The audit log
# ---------------------------------------------------------------------------

ACTION_LABELS = {
    "cohort.created": "Cohort created", "cohort.updated": "Cohort details changed",
    "cohort.schedule_set": "Schedule set", "cohort.schedule_changed": "Course days rescheduled",
    "cohort.import": "People imported from a file", "role.granted": "Role given", "role.revoked": "Role removed",
    "role.lead_changed": "Lead tutor changed", "enrolment.created": "Enrolled",
    "enrolment.supervisors_changed": "Supervisors changed", "enrolment.defer": "Enrolment deferred",
    "enrolment.resume": "Enrolment resumed", "enrolment.withdraw": "Withdrawn", "enrolment.reinstate": "Reinstated",
    "enrolment.transfer": "Transferred", "enrolment.complete": "Completed", "enrolment.reopen": "Enrolment reopened",
    "user.created": "Account created", "user.updated": "Person's details changed", "user.deactivated": "Account deactivated",
    "user.reactivated": "Account reactivated", "organisation.created": "Organisation added",
    "organisation.updated": "Organisation changed", "personal_data.exported": "Personal data downloaded",
    "erasure.requested": "Erasure requested", "erasure.approved": "Personal data erased",
    "erasure.refused": "Erasure request declined", "retention.changed": "Retention settings changed",
    "invitation.sent": "Invitation sent",
}


@dataclass
class AuditRow:
    event: AuditEvent
    label: str
    cohort_name: str | None
    changes: list[tuple[str, str, str]]


def _loads(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"value": text}
    return value if isinstance(value, dict) else {"value": value}


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(_show(item) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_show(v)}" for k, v in sorted(value.items()))
    return str(value)


def describe_event(event: AuditEvent, cohort_names: dict[int, str]) -> AuditRow:
    before, after = _loads(event.before), _loads(event.after)
    keys = list(dict.fromkeys([*before, *after]))
    changes = [(key.replace("_", " "), _show(before.get(key)), _show(after.get(key))) for key in keys]
    return AuditRow(event, ACTION_LABELS.get(event.action, event.action), cohort_names.get(event.cohort_id), changes)


def audit_log(actor: User, *, person_id: int | None = None, cohort_id: int | None = None, page: int = 1,
              per_page: int = 50) -> tuple[list[AuditRow], bool]:
    """A page of audit events, newest first, filtered by person (who acted, or whom it was about) and cohort;
    and whether there is a next page."""
    require_admin(actor)
    found = audit.events(person_id=person_id, cohort_id=cohort_id, limit=per_page + 1, offset=(page - 1) * per_page)
    names = _cohort_names({event.cohort_id for event in found})
    return [describe_event(event, names) for event in found[:per_page]], len(found) > per_page


def find_person(text: str) -> User | None:
    """A person by email, or by their number."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        return db.session.get(User, int(text))
    return db.session.execute(select(User).where(User.email == text.lower())).scalar_one_or_none()
