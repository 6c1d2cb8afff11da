"""Certificates: issuing from ratified outcomes, the register, PDFs, verification, revocation, credentials.

Services take the acting person (``None`` is the system itself: the command
line or a background job), check what that person may do, and flush; the
request (or the job, or the command) commits.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import secrets
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from flask import abort, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms import jobs
from lms.accounts.models import RoleGrant, User
from lms.audit.models import AuditEvent
from lms.audit.services import events, record
from lms.authz.access import object_or_404
from lms.authz.roles import Role
from lms.certificates import codes, credentials, rendering
from lms.certificates.models import Certificate, CertificateBatch, CertificateName
from lms.certificates.policies import can_manage_certificates, can_view_certificate
from lms.certificates.rules import CertificateFacts, DecisionFacts, Eligibility, Verdict, eligibility, long_date
from lms.cohorts.models import Cohort, Enrolment
from lms.database import utcnow
from lms.extensions import db
from lms.notify.services import notify
from lms.progress.models import BoardDecision, ExamBoard

log = logging.getLogger("lms.certificates")

NAME_MAX = 120
REASON_MIN = 10
COMPLETION_TITLE = "Certificate of Completion"
STALE_BATCH = timedelta(hours=1)


def certificate_path(serial: str) -> str:
    """The certificate page's path (links in notifications are made outside requests too)."""
    return f"/certificates/{serial}"


# ---------------------------------------------------------------------------
# The course a certificate is for
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CourseFacts:
    """What a certificate says about the course, from courses/<slug> and its rules."""

    slug: str
    title: str
    level: int
    credits: int
    framework: str
    award_title: str
    notional_hours: int
    awarding_body: str
    provider: str
    assessment_title: str
    criteria: dict[str, str]


class CourseUnavailable(Exception):
    """The course files could not be loaded, so nothing can be issued for it."""

    def __init__(self, slug: str):
        super().__init__(slug)
        self.message = (f"The course {slug!r} could not be loaded, so no certificate can be issued for it. "
                        f"Check it with: lms course validate courses/{slug}")


@lru_cache(maxsize=16)
def _load_course_facts(courses_dir: str, assessments_dir: str, slug: str) -> CourseFacts | None:
    from lms.content.loader import load_course
    from lms.progress.rules_file import load_rules_path

    course, _ = load_course(Path(courses_dir) / slug)
    if course is None:
        return None
    credit_bearing = next((a for a in course.assessments if a.credit_bearing), None)
    rules, _ = load_rules_path(Path(assessments_dir) / (course.assessments_key or slug) / "rules.toml")
    return CourseFacts(
        slug=course.slug, title=course.title, level=course.level, credits=course.credits,
        framework=course.framework, award_title=course.award_title, notional_hours=course.notional_hours,
        awarding_body=course.awarding_body, provider=course.delivering_provider,
        assessment_title=credit_bearing.title if credit_bearing else "",
        criteria=criteria_narratives(rules, course.day_count, course.credits, course.level, course.framework),
    )


def criteria_narratives(rules, day_count: int, credits: int, level: int, framework: str) -> dict[str, str]:
    """What earns each award, in plain sentences, from the credit-level rules."""
    if rules is None:
        attendance = f"Attend the {day_count} course days"
        assessed = "pass the accredited assignment"
    else:
        attendance = (f"Attend at least {rules.attendance.required_days} of the {rules.days} course days "
                      f"(up to {rules.attendance.max_catch_up_days} of them may be caught up)")
        named = next((a.name for a in rules.assessments if a.credit_bearing), "accredited assignment")
        assessed = (f"pass the {named} (pass mark {rules.pass_mark}, at most {rules.attempts.max_attempts} "
                    "attempts)")
    ratified = "The outcome is ratified by an exam board."
    return {
        "credit": f"{attendance} and {assessed}. This earns {credits} credits at Level {level} ({framework}). "
                  f"{ratified}",
        "completion": f"{attendance}. A certificate of completion is awarded when the assignment is not passed "
                      f"or the trainee chose not to be assessed; it carries no credits. {ratified}",
    }


def course_facts(slug: str) -> CourseFacts:
    """The course's facts, loaded once per process. Raises CourseUnavailable."""
    facts = _load_course_facts(current_app.config["LMS_COURSES_DIR"], current_app.config["LMS_ASSESSMENTS_DIR"],
                               slug)
    if facts is None:
        raise CourseUnavailable(slug)
    return facts


# ---------------------------------------------------------------------------
# The name on a certificate
# ---------------------------------------------------------------------------

def clean_name(text: str | None) -> str:
    """A name as typed, with spaces tidied."""
    return " ".join((text or "").split())


def name_problem(name: str) -> str | None:
    """Why a name cannot go on a certificate, or None. Any characters are fine: they are printed as text."""
    if not name:
        return "Enter your name as you would like it on your certificate."
    if len(name) > NAME_MAX:
        return f"Your name must be {NAME_MAX} characters or fewer."
    if any(ord(char) < 32 or 0x7F <= ord(char) < 0xA0 for char in name):
        return "Your name contains a character that cannot be printed. Type it again without it."
    return None


def confirmed_name(user: User) -> CertificateName | None:
    return db.session.execute(select(CertificateName).where(CertificateName.user_id == user.id)).scalar_one_or_none()


def name_on_certificate(user: User) -> tuple[str, bool]:
    """(the name a certificate would show, whether the trainee confirmed it)."""
    confirmed = confirmed_name(user)
    return (confirmed.name, True) if confirmed else (user.display_name, False)


def holders_name_now(certificate: Certificate) -> tuple[str, bool] | None:
    """(the name the holder wants on a certificate today, whether they confirmed it); None once erased."""
    trainee = db.session.get(User, certificate.trainee_id) if certificate.trainee_id else None
    return name_on_certificate(trainee) if trainee is not None else None


def confirm_name(actor: User, text: str) -> list[tuple[str, str]]:
    """Record the name the trainee wants on their certificate. Returns form errors."""
    name = clean_name(text)
    problem = name_problem(name)
    if problem:
        return [("name", problem)]
    existing = confirmed_name(actor)
    before = existing.name if existing else None
    if existing is None:
        db.session.add(CertificateName(user_id=actor.id, name=name, confirmed_at=utcnow()))
    else:
        existing.name = name
        existing.confirmed_at = utcnow()
    record(actor, "certificate_name.confirmed", "user", actor.id, before={"name": before}, after={"name": name},
           subject_user_id=actor.id)
    # Someone holding a certificate with another name needs it reissued: tell the admins.
    holding = db.session.execute(select(Certificate).where(
        Certificate.trainee_id == actor.id, Certificate.status == "valid", Certificate.holder_name != name)
    ).scalars().all()
    if holding:
        admins = db.session.execute(select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
            RoleGrant.role == Role.ADMIN.value, User.active.is_(True))).scalars().all()
        for admin in admins:
            for certificate in holding:
                notify(admin, "A certificate may need reissuing",
                       f"A trainee has changed the name they want on their certificate {certificate.serial}. "
                       "Check it and reissue the certificate if the new name is right.",
                       link=certificate_path(certificate.serial), email=False)
    db.session.flush()
    return []


# ---------------------------------------------------------------------------
# Who gets what: the preview
# ---------------------------------------------------------------------------

@dataclass
class PreviewRow:
    enrolment: Enrolment
    name: str
    name_confirmed: bool
    eligibility: Eligibility
    decision: BoardDecision | None

    @property
    def award_label(self) -> str:
        return award_label(self.eligibility.award) if self.eligibility.award else ""


@dataclass
class Preview:
    cohort: Cohort
    rows: list[PreviewRow]
    course: CourseFacts | None
    problem: str | None = None

    @property
    def to_issue(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.eligibility.issues] if self.course else []

    @property
    def already_issued(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.eligibility.verdict is Verdict.ALREADY_ISSUED]

    @property
    def not_issued(self) -> list[PreviewRow]:
        """Who gets nothing from this run, and why (those already holding theirs aside)."""
        return [row for row in self.rows if (not row.eligibility.issues or not self.course)
                and row.eligibility.verdict is not Verdict.ALREADY_ISSUED]

    @property
    def unconfirmed_names(self) -> int:
        return len(self.awaiting_names)

    @property
    def awaiting_names(self) -> list[PreviewRow]:
        """Trainees whose certificate is ready but who have not yet confirmed the name to print."""
        return [row for row in self.to_issue if not row.name_confirmed]

    def selected(self, include_unconfirmed: bool) -> list[PreviewRow]:
        """What a run issues: everyone ready, or only those whose names are confirmed."""
        return [row for row in self.to_issue if include_unconfirmed or row.name_confirmed]


def award_label(award: str | None) -> str:
    return {"credit": "Credit certificate", "completion": "Certificate of completion"}.get(award or "", "None")


def cohort_for_admin(actor: User | None, slug: str) -> Cohort:
    """A cohort an admin (or the system) manages certificates for; 404 otherwise."""
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one_or_none()
    return object_or_404(cohort, actor is None or can_manage_certificates(actor))


def preview(cohort: Cohort) -> Preview:
    """Every enrolment of the cohort with what an issuing run would give them, and why. Four queries."""
    enrolments = db.session.execute(
        select(Enrolment).where(Enrolment.cohort_id == cohort.id).options(joinedload(Enrolment.trainee))
    ).scalars().all()
    decisions = db.session.execute(
        select(BoardDecision).join(ExamBoard, BoardDecision.board_id == ExamBoard.id)
        .where(ExamBoard.cohort_id == cohort.id).options(joinedload(BoardDecision.board))
    ).scalars().all()
    certificates = db.session.execute(
        select(Certificate).where(Certificate.enrolment_id.in_([e.id for e in enrolments]))
    ).scalars().all() if enrolments else []
    names = dict(db.session.execute(
        select(CertificateName.user_id, CertificateName.name)
        .where(CertificateName.user_id.in_([e.trainee_id for e in enrolments]))
    ).all()) if enrolments else {}

    by_enrolment: dict[int, list[BoardDecision]] = defaultdict(list)
    for decision in decisions:
        by_enrolment[decision.enrolment_id].append(decision)
    held: dict[int, list[Certificate]] = defaultdict(list)
    for certificate in certificates:
        held[certificate.enrolment_id].append(certificate)

    rows = []
    for enrolment in enrolments:
        facts = [DecisionFacts(d.id, d.decision, d.award, d.board.status, d.board.held_on, d.superseded)
                 for d in by_enrolment[enrolment.id]]
        existing = [CertificateFacts(c.serial or "", c.award, c.status, c.decision_id, c.status_reason,
                                     c.status_changed_at.date() if c.status_changed_at else None)
                    for c in held[enrolment.id]]
        verdict = eligibility(facts, existing)
        decision = next((d for d in by_enrolment[enrolment.id] if d.id == verdict.decision_id), None)
        name = names.get(enrolment.trainee_id)
        rows.append(PreviewRow(enrolment, name or enrolment.trainee.display_name, name is not None, verdict, decision))
    rows.sort(key=lambda row: (not row.eligibility.issues, row.enrolment.trainee.display_name.lower()))
    try:
        course = course_facts(cohort.course_slug)
        problem = None
    except CourseUnavailable as error:
        course, problem = None, error.message
    return Preview(cohort, rows, course, problem)


# ---------------------------------------------------------------------------
# Issuing
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IssueItem:
    """One certificate to issue, as plain values (they outlive the commits of a long run)."""

    enrolment_id: int
    trainee_id: int
    cohort_id: int
    decision_id: int
    name: str
    award: str
    awarded_on: object
    credits: int
    recorded_mark: int | None
    flags: str

    @classmethod
    def from_row(cls, row: PreviewRow) -> IssueItem:
        if not row.eligibility.issues or row.decision is None:
            raise ValueError(f"Not eligible: {row.eligibility.reason}")
        decision = row.decision
        return cls(row.enrolment.id, row.enrolment.trainee_id, row.enrolment.cohort_id, decision.id, row.name,
                   row.eligibility.award, row.eligibility.awarded_on, decision.credits, decision.recorded_mark,
                   decision.flags or "")


def _new_certificate(item: IssueItem, course: CourseFacts, actor_id: int | None, now: datetime) -> Certificate:
    credit = item.award == "credit"
    return Certificate(
        code=codes.new_code(), credential_uuid=str(uuid.uuid4()), live_key=f"{item.enrolment_id}:{item.award}",
        enrolment_id=item.enrolment_id, trainee_id=item.trainee_id, cohort_id=item.cohort_id,
        decision_id=item.decision_id, holder_name=item.name, award=item.award,
        title=course.award_title if credit else COMPLETION_TITLE,
        course_slug=course.slug, course_title=course.title,
        credits=(item.credits or course.credits) if credit else 0,
        level=course.level, framework=course.framework, notional_hours=course.notional_hours,
        awarding_body=course.awarding_body, provider=course.provider, awarded_on=item.awarded_on,
        assessment_title=course.assessment_title, recorded_mark=item.recorded_mark,
        flags=item.flags, issued_at=now, issued_by_id=actor_id, status="valid",
    )


def _live_key_taken(live_key: str) -> bool:
    return db.session.execute(select(Certificate.id).where(Certificate.live_key == live_key)).first() is not None


def _insert(certificate: Certificate) -> bool:
    """Insert a certificate and give it its serial; False when a valid one for the same award exists.

    The unique ``live_key`` makes the database the referee between two runs at
    the same moment: the second insert fails, its transaction (this one
    certificate's, as runs commit trainee by trainee) is rolled back, and that
    run skips the trainee. No savepoint: on SQLite a savepoint that opens the
    transaction commits it when released, which would split the certificate
    from its audit event.
    """
    for _ in range(3):
        if _live_key_taken(certificate.live_key):
            return False
        db.session.add(certificate)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            if _live_key_taken(certificate.live_key):
                return False
            certificate.code = codes.new_code()  # a clash of random codes: astronomically rare
            certificate.credential_uuid = str(uuid.uuid4())
            continue
        certificate.serial = codes.serial_number(certificate.issued_at.year, certificate.id)
        db.session.flush()
        return True
    raise RuntimeError("Could not find a free verification code.")


def _audit_values(certificate: Certificate) -> dict:
    return {"serial": certificate.serial, "holder_name": certificate.holder_name, "award": certificate.award,
            "credits": certificate.credits, "level": certificate.level, "awarded_on": certificate.awarded_on,
            "status": certificate.status}


def issue_one(item: IssueItem, course: CourseFacts, actor: User | None, *, render: bool = True) -> Certificate | None:
    """Issue one trainee's certificate; None when it was already issued (by a concurrent run, say)."""
    certificate = _new_certificate(item, course, actor.id if actor else None, utcnow())
    if not _insert(certificate):
        return None
    record(actor, "certificate.issued", "certificate", certificate.id, after=_audit_values(certificate),
           cohort_id=certificate.cohort_id, subject_user_id=certificate.trainee_id)
    trainee = db.session.get(User, item.trainee_id)
    if trainee is not None and trainee.active:
        notify(trainee, "Your certificate is ready",
               f"Your {certificate.title} has been issued. You can download it, and its digital credential, "
               "from My certificates.", link=certificate_path(certificate.serial))
    if render:
        store_pdf(certificate)
    return certificate


@dataclass
class IssueReport:
    total: int = 0
    issued: list[str] = field(default_factory=list)
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


def issue_cohort(cohort_id: int, actor_id: int | None, *, batch_id: int | None = None,
                 progress: Callable[[IssueItem, Certificate | None], None] | None = None,
                 render: bool = True, include_unconfirmed: bool = True,
                 only_enrolments: set[int] | None = None) -> IssueReport:
    """Issue every certificate the cohort's ratified outcomes call for, committing one trainee at a time.

    Used by the background job, the command line and tests. Safe to run twice,
    or twice at once: nothing is issued twice. With ``render`` False the PDFs
    are rendered when first downloaded instead.
    """
    cohort = db.session.get(Cohort, cohort_id)
    current = preview(cohort)
    items = [IssueItem.from_row(row) for row in current.selected(include_unconfirmed)
             if only_enrolments is None or row.enrolment.id in only_enrolments]
    course = current.course
    # The preview's objects are not needed again: let go of them, so that the
    # commit after each certificate does not expire hundreds of them each time.
    db.session.expunge_all()
    report = IssueReport(total=len(items))

    def update_batch(**changes):
        if batch_id is None:
            return
        batch = db.session.get(CertificateBatch, batch_id)
        for name, value in changes.items():
            setattr(batch, name, value(getattr(batch, name)) if callable(value) else value)

    update_batch(total=len(items), status="running")
    if current.problem:
        update_batch(status="failed", message=current.problem, finished_at=utcnow())
        report.failed.append(current.problem)
    db.session.commit()
    if current.problem:
        return report
    actor = db.session.get(User, actor_id) if actor_id else None
    for item in items:
        try:
            certificate = issue_one(item, course, actor, render=render)
        except Exception:  # one trainee's problem must not stop the others
            db.session.rollback()
            log.exception("Could not issue a certificate for enrolment %s", item.enrolment_id)
            report.failed.append(item.name)
            certificate = None
            update_batch(failed=lambda n: n + 1)
        else:
            if certificate is None:
                report.skipped += 1
                update_batch(skipped=lambda n: n + 1)
            else:
                report.issued.append(certificate.serial)
                update_batch(done=lambda n: n + 1)
        db.session.commit()
        if progress:
            progress(item, certificate)
    if report.failed:
        update_batch(status="failed", finished_at=utcnow(),
                     message=f"{len(report.failed)} could not be issued. Start issuing again to retry them; "
                             "what was issued stays issued.")
    else:
        update_batch(status="finished", finished_at=utcnow())
    db.session.commit()
    return report


NAME_CHOICES = ("confirmed", "all")


def start_batch(actor: User, cohort: Cohort, expected: str | None,
                names: str | None = None) -> tuple[CertificateBatch | None, list]:
    """After the admin confirms the preview, queue the issuing run. Returns (batch, form errors).

    ``expected`` is the number the admin saw: if the list changed since, they
    look again rather than issue something they did not see. While some
    trainees have not confirmed the name to print, ``names`` says what to do:
    "confirmed" issues the others and asks those trainees to confirm (they get
    theirs in a later run), "all" prints their LMS names now.
    """
    if not can_manage_certificates(actor):
        abort(404)
    current = preview(cohort)
    if current.problem:
        return None, [("confirm", current.problem)]
    if not current.to_issue:
        return None, [("confirm", "There is no certificate to issue for this cohort.")]
    waiting = current.awaiting_names
    if waiting and names not in NAME_CHOICES:
        return None, [("names", f"Choose whether to wait for the {len(waiting)} trainee"
                                f"{'s' if len(waiting) != 1 else ''} who have not confirmed their name, "
                                "or to print the name the LMS has for them.")]
    include = names == "all" or not waiting
    count = len(current.selected(include))
    if count == 0:
        _ask_for_names(actor, cohort, waiting)
        return None, [("names", "None of these trainees has confirmed their name yet, so nothing can be issued "
                                "while you wait for them. They have each been asked to confirm it.")]
    if expected != str(count):
        return None, [("confirm", f"The list has changed since you looked at it: {count} certificate"
                                  f"{'s are' if count != 1 else ' is'} now ready to issue. Check the list again, "
                                  "then confirm.")]
    # A run already under way is followed rather than doubled; one that has
    # shown no sign of life for a long while (a worker stopped) is not waited for.
    running = db.session.execute(select(CertificateBatch).where(
        CertificateBatch.cohort_id == cohort.id, CertificateBatch.status.in_(("queued", "running")),
        CertificateBatch.created_at > utcnow() - STALE_BATCH)).scalars().first()
    if running is not None:
        return running, []
    batch = CertificateBatch(cohort_id=cohort.id, created_by_id=actor.id, status="queued", total=count,
                             include_unconfirmed=include, enrolment_ids=json.dumps(sorted(
                                 row.enrolment.id for row in current.selected(include))))
    db.session.add(batch)
    db.session.flush()
    if not include:
        _ask_for_names(actor, cohort, waiting)
    record(actor, "certificates.batch_started", "certificate_batch", batch.id, after={"cohort": cohort.slug,
                                                                                       "total": count},
           cohort_id=cohort.id)
    jobs.enqueue(run_batch, batch.id)
    return batch, []


def ask_for_names(actor: User, cohort: Cohort) -> int:
    """Ask every trainee whose certificate is ready but whose name is not confirmed to confirm it, without
    issuing anything. Returns how many were asked (0 when nobody is waiting)."""
    if not can_manage_certificates(actor):
        abort(404)
    current = preview(cohort)
    return _ask_for_names(actor, cohort, current.awaiting_names if current.to_issue else [])


def names_last_requested(cohort: Cohort) -> datetime | None:
    """When trainees of the cohort were last asked to confirm their names, if ever."""
    return db.session.execute(select(func.max(AuditEvent.created_at)).where(
        AuditEvent.action == "certificates.names_requested", AuditEvent.cohort_id == cohort.id)).scalar()


def _ask_for_names(actor: User | None, cohort: Cohort, waiting: list[PreviewRow]) -> int:
    """Ask each trainee whose certificate waits for their name to confirm it. Returns how many were asked."""
    for row in waiting:
        notify(row.enrolment.trainee, "Please confirm the name for your certificate",
               f"Your certificate for {cohort.name} is ready to be issued. Please check the name it should "
               f"show (we have “{row.name}”) and confirm or correct it; it will be issued once you have.",
               link="/certificates/name")
    if waiting:
        record(actor, "certificates.names_requested", "cohort", cohort.id, cohort_id=cohort.id,
               after={"asked": len(waiting)})
    return len(waiting)


def run_batch(batch_id: int) -> None:
    """The background job: issue a batch, in a database session (and app context) of its own."""
    app = current_app._get_current_object()
    with app.app_context():
        try:
            batch = db.session.get(CertificateBatch, batch_id)
            if batch is None or batch.status not in ("queued",):
                return
            issue_cohort(batch.cohort_id, batch.created_by_id, batch_id=batch.id,
                         include_unconfirmed=batch.include_unconfirmed,
                         only_enrolments=set(json.loads(batch.enrolment_ids)) if batch.enrolment_ids else None)
        except Exception:
            db.session.rollback()
            log.exception("Certificate batch %s failed", batch_id)
            batch = db.session.get(CertificateBatch, batch_id)
            if batch is not None:
                batch.status, batch.finished_at = "failed", utcnow()
                batch.message = "Issuing stopped because of an error on our side. Start it again to carry on."
                db.session.commit()
        finally:
            db.session.remove()


def batch_for(actor: User, batch_id: int) -> CertificateBatch:
    batch = db.session.execute(select(CertificateBatch).where(CertificateBatch.id == batch_id).options(
        joinedload(CertificateBatch.cohort), joinedload(CertificateBatch.created_by))).scalar_one_or_none()
    return object_or_404(batch, can_manage_certificates(actor))


# ---------------------------------------------------------------------------
# PDFs
# ---------------------------------------------------------------------------

def _pdf_dir() -> Path:
    return Path(current_app.config["LMS_UPLOAD_DIR"]) / "certificates"


def store_pdf(certificate: Certificate, url_fetcher=None) -> bytes:
    """Render the certificate's PDF, store it under a random name and record its SHA-256."""
    data = rendering.certificate_pdf(certificate, url_fetcher)
    folder = _pdf_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.pdf"
    temporary = folder / f".{name}.part"
    temporary.write_bytes(data)
    os.replace(temporary, folder / name)
    old = certificate.pdf_file
    certificate.pdf_file = name
    certificate.pdf_sha256 = hashlib.sha256(data).hexdigest()
    certificate.pdf_rendered_at = utcnow()
    db.session.flush()
    if old and old != name:
        (folder / old).unlink(missing_ok=True)
    return data


def pdf_bytes(certificate: Certificate) -> bytes:
    """The stored PDF; rendered (and stored) first if it is missing or does not match its SHA-256."""
    if certificate.pdf_file:
        path = _pdf_dir() / certificate.pdf_file
        if path.is_file():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() == certificate.pdf_sha256:
                return data
            log.warning("Stored PDF of certificate %s does not match its SHA-256; rendering it again.",
                        certificate.serial)
    return store_pdf(certificate)


def render_pdf_job(certificate_id: int) -> None:
    """Background job: render and store one certificate's PDF (after a reissue)."""
    app = current_app._get_current_object()
    with app.app_context():
        try:
            certificate = db.session.get(Certificate, certificate_id)
            if certificate is not None and not certificate.pdf_file:
                store_pdf(certificate)
                db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("Could not render the PDF of certificate %s; it will be rendered when downloaded.",
                          certificate_id)
        finally:
            db.session.remove()


def transcript_bytes(certificate: Certificate) -> bytes:
    return rendering.transcript_pdf(certificate)


def safe_file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "certificate"


def cohort_zip(actor: User, cohort: Cohort) -> bytes:
    """Every valid certificate of the cohort as PDFs in one zip."""
    if not can_manage_certificates(actor):
        abort(404)
    certificates = db.session.execute(select(Certificate).where(
        Certificate.cohort_id == cohort.id, Certificate.status == "valid").order_by(Certificate.serial)).scalars().all()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for certificate in certificates:
            archive.writestr(f"{certificate.serial}-{safe_file_name(certificate.holder_name)}.pdf",
                             pdf_bytes(certificate))
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# The register: finding certificates
# ---------------------------------------------------------------------------

def certificate_for(actor: User, serial: str) -> Certificate:
    """A certificate the actor may see (holder, their supervisors, the cohort's tutors, admins); 404 otherwise."""
    certificate = db.session.execute(select(Certificate).where(Certificate.serial == serial).options(
        joinedload(Certificate.enrolment), joinedload(Certificate.replaced_by))).scalar_one_or_none()
    return object_or_404(certificate, certificate is not None and can_view_certificate(actor, certificate))


def find_by_code(text: str) -> Certificate | None:
    """The certificate with this verification code (any spacing or case), or None."""
    compact = codes.normalise_code(text)
    if compact is None:
        return None
    return db.session.execute(select(Certificate).where(Certificate.code == compact).options(
        joinedload(Certificate.replaced_by))).scalar_one_or_none()


def replaced_by(certificate: Certificate) -> Certificate | None:
    """The current certificate at the end of a chain of reissues."""
    seen = set()
    current = certificate.replaced_by
    while current is not None and current.replaced_by_id and current.id not in seen:
        seen.add(current.id)
        current = db.session.get(Certificate, current.replaced_by_id)
    return current


def my_certificates(user: User) -> list[Certificate]:
    return list(db.session.execute(select(Certificate).where(Certificate.trainee_id == user.id).options(
        joinedload(Certificate.replaced_by)).order_by(Certificate.issued_at.desc(), Certificate.id.desc())).scalars())


def supervised_certificates(user: User) -> list[Certificate]:
    """Certificates of the trainees this person supervises (academic or personal)."""
    return list(db.session.execute(
        select(Certificate).join(Enrolment, Certificate.enrolment_id == Enrolment.id)
        .where((Enrolment.academic_supervisor_id == user.id) | (Enrolment.personal_supervisor_id == user.id))
        .options(joinedload(Certificate.replaced_by), joinedload(Certificate.cohort))
        .order_by(Certificate.holder_name, Certificate.id)).scalars())


@dataclass
class CohortSummary:
    cohort: Cohort
    ratified: int
    issued: int


def admin_overview() -> tuple[list[CohortSummary], list[CertificateBatch]]:
    """Cohorts with ratified outcomes and issued certificates, and the latest issuing runs."""
    from sqlalchemy import func

    cohorts = db.session.execute(select(Cohort).order_by(Cohort.start_date.desc())).scalars().all()
    ratified = dict(db.session.execute(
        select(ExamBoard.cohort_id, func.count(BoardDecision.id)).join(BoardDecision, BoardDecision.board_id == ExamBoard.id)
        .where(ExamBoard.status == "ratified", BoardDecision.decision == "ratify", BoardDecision.superseded.is_(False),
               BoardDecision.award.in_(("credit", "completion")))
        .group_by(ExamBoard.cohort_id)).all())
    issued = dict(db.session.execute(
        select(Certificate.cohort_id, func.count(Certificate.id)).where(Certificate.status == "valid")
        .group_by(Certificate.cohort_id)).all())
    batches = db.session.execute(select(CertificateBatch).options(joinedload(CertificateBatch.cohort))
                                 .order_by(CertificateBatch.id.desc()).limit(10)).scalars().all()
    return [CohortSummary(c, ratified.get(c.id, 0), issued.get(c.id, 0)) for c in cohorts], list(batches)


def history(certificate: Certificate):
    """Every recorded change to this certificate, newest first, with the holder's changes of the name
    they want printed since it was issued (the certificate keeps its name until it is reissued)."""
    changes = events(object_type="certificate", object_id=certificate.id, limit=100)
    if certificate.trainee_id is not None:
        changes += [event for event in events(object_type="user", object_id=certificate.trainee_id,
                                              action="certificate_name.confirmed", limit=100)
                    if event.created_at >= certificate.issued_at]
    return sorted(changes, key=lambda event: (event.created_at, event.id), reverse=True)


def name_asked_for(event) -> str:
    """The name a holder confirmed, from its audit event (for the certificate's history)."""
    try:
        return json.loads(event.after or "{}").get("name", "")
    except ValueError:
        return ""


def list_for_cohort(slug: str) -> list[dict]:
    """The cohort's register as plain values (for ``lms certificates list``)."""
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one_or_none()
    if cohort is None:
        raise LookupError(f"There is no cohort with the slug {slug!r}.")
    certificates = db.session.execute(select(Certificate).where(Certificate.cohort_id == cohort.id)
                                      .order_by(Certificate.id)).scalars().all()
    return [{"serial": c.serial, "code": codes.format_code(c.code), "holder_name": c.holder_name, "award": c.award,
             "credits": c.credits, "level": c.level, "status": c.status,
             "issued_at": c.issued_at.isoformat()} for c in certificates]


# ---------------------------------------------------------------------------
# Revocation and reissue
# ---------------------------------------------------------------------------

def reason_problem(reason: str, what: str) -> str | None:
    if len(reason) < REASON_MIN:
        return f"Give the reason for {what} in a sentence (at least {REASON_MIN} characters): it is kept in the register."
    if len(reason) > 1000:
        return "Keep the reason to 1,000 characters or fewer."
    return None


def _not_valid_problem(certificate: Certificate) -> str | None:
    if certificate.status == "revoked":
        return f"This certificate was already revoked on {long_date(certificate.status_changed_at)}."
    if certificate.status == "reissued":
        return "This certificate has already been replaced by a reissued one."
    return None


def revoke(actor: User | None, certificate: Certificate, reason: str) -> list[tuple[str, str]]:
    """Revoke a valid certificate with a reason. Returns form errors (nothing changes when there are any)."""
    if actor is not None and not can_manage_certificates(actor):
        abort(404)
    reason = " ".join((reason or "").split())
    problem = _not_valid_problem(certificate)
    if problem:
        return [("reason", problem)]
    problem = reason_problem(reason, "revoking it")
    if problem:
        return [("reason", problem)]
    before = _audit_values(certificate)
    certificate.status, certificate.status_reason, certificate.status_changed_at = "revoked", reason, utcnow()
    certificate.live_key = None
    db.session.flush()
    record(actor, "certificate.revoked", "certificate", certificate.id, before=before,
           after=_audit_values(certificate), reason=reason, cohort_id=certificate.cohort_id,
           subject_user_id=certificate.trainee_id)
    trainee = db.session.get(User, certificate.trainee_id) if certificate.trainee_id else None
    if trainee is not None and trainee.active:
        notify(trainee, "Your certificate has been revoked",
               f"Your certificate {certificate.serial} has been revoked. The reason recorded is: {reason}\n\n"
               "If you have questions about this, please contact the course team.",
               link=certificate_path(certificate.serial))
    return []


def reissue(actor: User, certificate: Certificate, name: str, reason: str) -> tuple[Certificate | None, list]:
    """Replace a valid certificate with a new one (after a name change or correction)."""
    if not can_manage_certificates(actor):
        abort(404)
    name = clean_name(name)
    reason = " ".join((reason or "").split())
    errors = []
    problem = _not_valid_problem(certificate)
    if problem:
        return None, [("name", problem)]
    if name_problem(name):
        errors.append(("name", "Enter the name to print on the new certificate."
                       if not name else name_problem(name).replace("Your name", "The name")))
    problem = reason_problem(reason, "reissuing it")
    if problem:
        errors.append(("reason", problem))
    if errors:
        return None, errors
    before = _audit_values(certificate)
    certificate.status, certificate.status_reason, certificate.status_changed_at = "reissued", reason, utcnow()
    live_key, certificate.live_key = certificate.live_key, None
    db.session.flush()
    columns = ("enrolment_id", "trainee_id", "cohort_id", "decision_id", "award", "title", "course_slug",
               "course_title", "credits", "level", "framework", "notional_hours", "awarding_body", "provider",
               "awarded_on", "assessment_title", "recorded_mark", "flags")
    replacement = Certificate(**{column: getattr(certificate, column) for column in columns},
                              code=codes.new_code(), credential_uuid=str(uuid.uuid4()), live_key=live_key,
                              holder_name=name, issued_at=utcnow(), issued_by_id=actor.id, status="valid")
    db.session.add(replacement)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone reissued or issued the same certificate at the same moment: nothing is saved.
        db.session.rollback()
        return None, [("name", "This certificate was changed by someone else at the same time. "
                               "Go back to the certificate and check it before trying again.")]
    replacement.serial = codes.serial_number(replacement.issued_at.year, replacement.id)
    certificate.replaced_by_id = replacement.id
    db.session.flush()
    record(actor, "certificate.reissued", "certificate", certificate.id, before=before,
           after={**_audit_values(certificate), "replaced_by": replacement.serial}, reason=reason,
           cohort_id=certificate.cohort_id, subject_user_id=certificate.trainee_id)
    record(actor, "certificate.issued", "certificate", replacement.id,
           after={**_audit_values(replacement), "replaces": certificate.serial}, reason=reason,
           cohort_id=replacement.cohort_id, subject_user_id=replacement.trainee_id)
    trainee = db.session.get(User, certificate.trainee_id) if certificate.trainee_id else None
    if trainee is not None and trainee.active:
        notify(trainee, "Your certificate has been reissued",
               f"Your certificate has been reissued as {replacement.serial}. The earlier one, "
               f"{certificate.serial}, now says it was replaced.", link=certificate_path(replacement.serial))
    jobs.enqueue(render_pdf_job, replacement.id)
    return replacement, []


# ---------------------------------------------------------------------------
# Open Badges credentials
# ---------------------------------------------------------------------------

def _key():
    app = current_app._get_current_object()
    cached = app.extensions.get("lms_certificates_key")
    if cached is None:
        cached = credentials.signing_key(app.config, app.instance_path)
        app.extensions["lms_certificates_key"] = cached
    return cached


def base_url() -> str:
    return current_app.config["LMS_BASE_URL"]


def signed_credential(certificate: Certificate) -> str:
    """The certificate's OpenBadgeCredential, signed (compact JWS)."""
    issuer = credentials.Issuer(base_url(), certificate.provider, certificate.awarding_body)
    try:
        criteria = course_facts(certificate.course_slug).criteria[certificate.award]
    except CourseUnavailable:
        criteria = "Attend the course and meet its assessment rules; the outcome is ratified by an exam board."
    credential = credentials.credential_for(certificate, issuer, criteria)
    key = _key()
    return credentials.sign(credential, key, credentials.key_id(base_url(), key))


def revoked_indexes(number: int) -> list[int]:
    """Indexes set in status list ``number``: certificates revoked or replaced. One query."""
    first = (number - 1) * credentials.LIST_SIZE + 1
    last = number * credentials.LIST_SIZE
    ids = db.session.execute(select(Certificate.id).where(
        Certificate.id.between(first, last), Certificate.status != "valid")).scalars().all()
    return [credentials.status_position(i)[1] for i in ids]


def status_list_token(number: int) -> str:
    """The signed BitstringStatusListCredential for list ``number``."""
    credential = credentials.status_list_credential(base_url(), number, revoked_indexes(number), utcnow())
    key = _key()
    return credentials.sign(credential, key, credentials.key_id(base_url(), key))


def did_document() -> dict:
    return credentials.did_document(base_url(), _key())


def jwks() -> dict:
    return credentials.jwks(base_url(), _key())


def check_credential(token: str) -> credentials.Check:
    """Check a signed credential against this LMS's key, the status list it serves, and its register."""
    lists: dict[int, str] = {}

    def is_revoked(number: int, index: int) -> bool:
        # Read the bit from the same signed status list /credentials/status/<n> serves to wallets and
        # verifiers, so that a fault in the served list is caught here too.
        if number not in lists:
            _, payload, _ = credentials.read_token(status_list_token(number))
            lists[number] = (payload or {}).get("credentialSubject", {}).get("encodedList", "")
        return credentials.status_bit(lists[number], index)

    result = credentials.check_token(token, base_url(), _key(), is_revoked)
    credential = result.credential or {}
    identifier = str(credential.get("id", ""))
    if identifier.startswith("urn:uuid:"):
        certificate = db.session.execute(select(Certificate).where(
            Certificate.credential_uuid == identifier[len("urn:uuid:"):])).scalar_one_or_none()
        if certificate is not None:
            result.notes.append(f"Certificate {certificate.serial} for {certificate.holder_name}.")
            if certificate.status == "revoked":
                result.notes.append(f"Revoked on {long_date(certificate.status_changed_at)}: "
                                    f"{certificate.status_reason}")
            elif certificate.status == "reissued":
                current = replaced_by(certificate)
                result.notes.append(f"Replaced by certificate {current.serial if current else 'a newer one'}.")
        elif result.valid:
            result.problems.append("This LMS's register has no certificate with this credential's id.")
    return result


def credential_json(token: str) -> str:
    """The credential inside a token, pretty-printed (for people reading it)."""
    _, payload, _ = credentials.read_token(token)
    return json.dumps(payload, indent=2, ensure_ascii=False)
