"""Bulk import of people into a cohort from a CSV file (``lms users import`` and the upload form).

The whole file is checked first (``rules.read_import_file``, then
``rules.plan_import`` against what the database holds) and nothing is
written unless every row is clean. Work is set-based: a fixed number of
queries to learn what exists, and one bulk INSERT per table to apply the plan,
so 10,000 rows take seconds, not minutes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import aliased

from lms.accounts.models import Organisation, RoleGrant, User
from lms.audit import services as audit
from lms.audit.models import AuditEvent
from lms.authz.roles import Role
from lms.cohorts import rules
from lms.cohorts.models import Cohort, Enrolment
from lms.cohorts.services import require_admin
from lms.database import utcnow
from lms.extensions import db

CHUNK = 500  # IN lists stay well under every database's parameter limit


@dataclass
class ImportReport:
    """What an import found and did."""

    cohort: Cohort
    problems: list[rules.CsvProblem] = field(default_factory=list)
    plan: rules.ImportPlan | None = None
    dry_run: bool = False
    applied: bool = False
    invited: int = 0
    invitations_available: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def counts(self) -> dict[str, int]:
        return self.plan.counts if self.plan else {}

    def summary(self) -> str:
        if self.problems:
            count = len(self.problems)
            return (f"Nothing was imported. We found {count} problem{'s' if count != 1 else ''} in the file: "
                    f"put {'them' if count != 1 else 'it'} right and try again.")
        counts = self.counts
        parts = (f"{counts['new accounts']} new account{'s' if counts['new accounts'] != 1 else ''}, "
                 f"{counts['enrolments']} enrolment{'s' if counts['enrolments'] != 1 else ''}, "
                 f"{counts['roles given']} role{'s' if counts['roles given'] != 1 else ''} given, "
                 f"{counts['unchanged']} unchanged")
        if self.dry_run:
            return f"The file is ready to import; nothing has been imported yet. Importing it would make {parts}."
        if not self.plan.changes_anything:
            return "Everyone in this file is already in the cohort as the file says: nothing changed."
        text = f"Imported into {self.cohort.name}: {parts}."
        if self.invited:
            text += f" {self.invited} invitation{'s' if self.invited != 1 else ''} sent."
        elif counts["new accounts"] and not self.invitations_available:
            text += " New people have no invitation yet: send them one from the Invitations page."
        return text

    def lines(self) -> list[str]:
        """The full report, one line per problem (or, for a dry run, per row)."""
        if self.problems:
            return [self.summary(), *[str(problem) for problem in self.problems]]
        if self.dry_run and self.plan:
            return [self.summary(), *[person.describe() for person in self.plan.people]]
        return [self.summary()]


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def load_world(cohort: Cohort, rows: list[rules.ImportRow]) -> rules.ImportWorld:
    """What the database holds about the people named in ``rows``, in a fixed number of queries per 500 people."""
    emails = sorted({row.email for row in rows if row.email} |
                    {row.academic_supervisor_email for row in rows if row.academic_supervisor_email} |
                    {row.personal_supervisor_email for row in rows if row.personal_supervisor_email})
    found = []
    for chunk in _chunks(emails):
        found.extend(db.session.execute(
            select(User.id, User.email, User.display_name, User.active, Organisation.name)
            .outerjoin(Organisation, User.organisation_id == Organisation.id)
            .where(User.email.in_(chunk))).all())
    ids = [person.id for person in found]
    roles_here: dict[int, set[str]] = {}
    for user_id, role in db.session.execute(
            select(RoleGrant.user_id, RoleGrant.role).where(RoleGrant.cohort_id == cohort.id)).all():
        roles_here.setdefault(user_id, set()).add(role)
    academic, personal = aliased(User), aliased(User)
    here = {trainee_id: rules.ExistingEnrolment(status, academic_email, personal_email)
            for trainee_id, status, academic_email, personal_email in db.session.execute(
                select(Enrolment.trainee_id, Enrolment.status, academic.email, personal.email)
                .outerjoin(academic, Enrolment.academic_supervisor_id == academic.id)
                .outerjoin(personal, Enrolment.personal_supervisor_id == personal.id)
                .where(Enrolment.cohort_id == cohort.id)).all()}
    elsewhere: dict[int, str] = {}
    for chunk in _chunks(ids):
        for trainee_id, name in db.session.execute(
                select(Enrolment.trainee_id, Cohort.name).join(Cohort, Enrolment.cohort_id == Cohort.id)
                .where(Enrolment.trainee_id.in_(chunk), Enrolment.cohort_id != cohort.id,
                       Enrolment.status.in_(rules.CURRENT_STATUSES))).all():
            elsewhere.setdefault(trainee_id, name)
    people = {
        person.email: rules.ExistingPerson(
            id=person.id, email=person.email, name=person.display_name, organisation=person.name,
            active=person.active, roles_here=frozenset(roles_here.get(person.id, ())),
            enrolment_here=here.get(person.id), enrolled_elsewhere=elsewhere.get(person.id))
        for person in found
    }
    organisations = {name.lower(): name for name in db.session.execute(select(Organisation.name)).scalars()}
    taken = sum(1 for enrolment in here.values() if enrolment.status in rules.PLACE_TAKING_STATUSES)
    return rules.ImportWorld(cohort_name=cohort.name, capacity=cohort.capacity, places_taken=taken,
                             organisations=organisations, people=people)


def check_file(cohort: Cohort, raw: bytes) -> tuple[list[rules.CsvProblem], rules.ImportPlan | None]:
    """Every problem with the file, and the plan when the header could be read."""
    rows, problems = rules.read_import_file(raw)
    if not rows:
        return problems, None
    plan = rules.plan_import(rows, load_world(cohort, rows))
    # A cell already reported as badly written is not reported again as "not found".
    reported = {(problem.row, problem.column) for problem in problems}
    problems = problems + [p for p in plan.problems if (p.row, p.column) not in reported or p.column is None]
    problems.sort(key=lambda p: (p.row or 0, rules.COLUMNS.index(p.column) if p.column in rules.COLUMNS else -1))
    return problems, plan


def import_people(actor: User | None, cohort: Cohort, raw: bytes, *, dry_run: bool = False,
                  invite: bool = True) -> ImportReport:
    """Check a whole import file and, if it is clean and not a dry run, apply it.

    New people get an account without a password; with ``invite`` they are
    sent an invitation to set one (when the invitations service is present).
    """
    require_admin(actor)
    report = ImportReport(cohort=cohort, dry_run=dry_run)
    report.problems, report.plan = check_file(cohort, raw)
    if report.problems or dry_run:
        return report
    new_ids = apply_plan(actor, cohort, report.plan)
    report.applied = True
    if invite and new_ids:
        report.invited, report.invitations_available = _invite(actor, new_ids)
    return report


def _audit_row(actor: User | None, now, action: str, object_type: str, object_id, *, subject: int | None,
               cohort_id: int | None, after: dict) -> dict:
    return {"created_at": now, "actor_id": actor.id if actor is not None else None, "action": action,
            "object_type": object_type, "object_id": str(object_id), "subject_user_id": subject,
            "cohort_id": cohort_id, "before": None, "after": json.dumps(after, sort_keys=True, ensure_ascii=False),
            "reason": "bulk import"}


def apply_plan(actor: User | None, cohort: Cohort, plan: rules.ImportPlan) -> list[int]:
    """Write a clean plan with one bulk INSERT per table; returns the ids of new accounts."""
    now = utcnow()
    organisation_ids = dict(db.session.execute(select(Organisation.name, Organisation.id)).all())
    audit_rows: list[dict] = []
    ids: dict[str, int] = {p.email: p.existing_id for p in plan.people if p.existing_id is not None}
    new_people = [p for p in plan.people if p.new_account]
    if new_people:
        # Every dict has the same keys, so the database gets a few multi-row INSERTs.
        created = db.session.execute(
            insert(User).returning(User.id, User.email),
            [{"email": p.email, "display_name": p.name, "password_hash": None, "active": True,
              "organisation_id": organisation_ids.get(p.organisation), "created_at": now} for p in new_people],
        ).all()
        ids.update({email: user_id for user_id, email in created})
        audit_rows += [_audit_row(actor, now, "user.created", "user", ids[p.email], subject=ids[p.email], cohort_id=None,
                                  after={"email": p.email, "display_name": p.name, "organisation": p.organisation})
                       for p in new_people]
    supervisor_emails = sorted({email for p in plan.people
                                for email in (p.academic_supervisor_email, p.personal_supervisor_email)
                                if email and email not in ids})
    for chunk in _chunks(supervisor_emails):
        ids.update(dict(db.session.execute(select(User.email, User.id).where(User.email.in_(chunk))).all()))
    # Existing people without an organisation take the one in the file.
    needs_organisation = [p for p in plan.people if not p.new_account and p.organisation]
    if needs_organisation:
        without = set()
        for chunk in _chunks([p.existing_id for p in needs_organisation]):
            without.update(db.session.execute(select(User.id).where(
                User.id.in_(chunk), User.organisation_id.is_(None))).scalars())
        changes = [p for p in needs_organisation if p.existing_id in without]
        if changes:
            db.session.execute(update(User), [{"id": p.existing_id, "organisation_id": organisation_ids[p.organisation]}
                                              for p in changes])
            audit_rows += [_audit_row(actor, now, "user.updated", "user", p.existing_id, subject=p.existing_id,
                                      cohort_id=None, after={"organisation": p.organisation}) for p in changes]
    grants = [(ids[p.email], p.role) for p in plan.people if p.grant_role]
    grants += [(ids[email], role) for email, role in plan.supervisor_grants]
    if grants:
        db.session.execute(insert(RoleGrant), [
            {"user_id": user_id, "role": Role(role).value, "cohort_id": cohort.id, "granted_at": now, "lead": False}
            for user_id, role in grants])
        audit_rows += [_audit_row(actor, now, "role.granted", "user", user_id, subject=user_id, cohort_id=cohort.id,
                                  after={"role": role, "cohort_id": cohort.id}) for user_id, role in grants]
    enrolling = [p for p in plan.people if p.enrol]
    if enrolling:
        enrolment_ids = dict(db.session.execute(insert(Enrolment).returning(Enrolment.trainee_id, Enrolment.id), [
            {"cohort_id": cohort.id, "trainee_id": ids[p.email], "status": "active", "enrolled_at": now,
             "academic_supervisor_id": ids.get(p.academic_supervisor_email) if p.academic_supervisor_email else None,
             "personal_supervisor_id": ids.get(p.personal_supervisor_email) if p.personal_supervisor_email else None}
            for p in enrolling]).all())
        audit_rows += [_audit_row(actor, now, "enrolment.created", "enrolment", enrolment_ids[ids[p.email]],
                                  subject=ids[p.email], cohort_id=cohort.id,
                                  after={"status": "active", "academic_supervisor": p.academic_supervisor_email,
                                         "personal_supervisor": p.personal_supervisor_email})
                       for p in enrolling]
    if audit_rows:
        db.session.execute(insert(AuditEvent), audit_rows)
    if plan.changes_anything:
        audit.record(actor, "cohort.import", "cohort", cohort.id, cohort_id=cohort.id, after=plan.counts)
    return [ids[p.email] for p in new_people]


def _invite(actor: User | None, user_ids: list[int]) -> tuple[int, bool]:
    """Send invitations to new people, when the invitations service is there (it is built separately)."""
    from lms.accounts import services as accounts

    invite_many = getattr(accounts, "invite_many", None)
    if invite_many is None:
        return 0, False
    people = []
    for chunk in _chunks(user_ids):
        people.extend(db.session.execute(select(User).where(User.id.in_(chunk))).scalars())
    return len(invite_many(actor, people)), True


def cohort_csv_rows(cohort: Cohort) -> list[list[str]]:
    """The cohort's people in the import file's format (enrolled trainees, then tutors and supervisors),
    every cell made safe for spreadsheets."""
    trainee, academic, personal = aliased(User), aliased(User), aliased(User)
    rows = [list(rules.COLUMNS)]
    for email, name, organisation, academic_email, personal_email in db.session.execute(
            select(trainee.email, trainee.display_name, Organisation.name, academic.email, personal.email)
            .select_from(Enrolment).join(trainee, Enrolment.trainee_id == trainee.id)
            .outerjoin(Organisation, trainee.organisation_id == Organisation.id)
            .outerjoin(academic, Enrolment.academic_supervisor_id == academic.id)
            .outerjoin(personal, Enrolment.personal_supervisor_id == personal.id)
            .where(Enrolment.cohort_id == cohort.id, Enrolment.status.in_(rules.PLACE_TAKING_STATUSES))
            .order_by(func.lower(trainee.display_name), trainee.id)).all():
        rows.append([email, name, "trainee", organisation, academic_email, personal_email])
    for email, name, organisation, role in db.session.execute(
            select(User.email, User.display_name, Organisation.name, RoleGrant.role)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .outerjoin(Organisation, User.organisation_id == Organisation.id)
            .where(RoleGrant.cohort_id == cohort.id, RoleGrant.role.in_(rules.STAFF_ROLES))
            .order_by(RoleGrant.role, func.lower(User.display_name), User.id)).all():
        rows.append([email, name, role, organisation, "", ""])
    return [[rules.csv_safe(cell) for cell in row] for row in rows]
