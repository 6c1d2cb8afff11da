"""The personal data the core of the LMS keeps: account, roles, enrolments, notifications,
e-mails, sessions and audit events about the person.

Registered like any other domain's (see ``lms.privacy.registry``).
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from lms.accounts.models import Invitation, Organisation, PasswordReset, RoleGrant, User, WebSession
from lms.audit.models import AuditEvent
from lms.authz.roles import ROLE_LABELS, Role
from lms.cohorts.models import Cohort, Enrolment
from lms.cohorts.rules import STATUS_LABELS
from lms.extensions import db
from lms.notify.models import Notification, OutboxEmail
from lms.privacy.models import ErasureRequest
from lms.privacy.registry import ERASERS, EXPORTERS, RETENTION_RULES, ExportSection, RetentionRule

ERASED_DOMAIN = "erased.invalid"


def erased_name(user_id: int) -> str:
    return f"Erased person #{user_id}"


def erased_email(user_id: int) -> str:
    # Unique (the id is), and .invalid can never receive mail.
    return f"erased-{user_id}@{ERASED_DOMAIN}"


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

PREFERENCE_COLUMNS = ("prefers_larger_text", "prefers_reduced_motion", "notification_email")


def export_core(user: User) -> list[ExportSection]:
    """The core sections of a person's export."""
    organisation = db.session.execute(
        select(Organisation.name).where(Organisation.id == user.organisation_id)).scalar_one_or_none()
    account = {
        "email": user.email, "name": user.display_name, "pronouns": user.pronouns, "organisation": organisation,
        "account_created": user.created_at, "last_signed_in": user.last_signed_in_at,
        "can_sign_in": user.active, "has_a_password": bool(user.password_hash),
    }
    account.update({name: getattr(user, name) for name in PREFERENCE_COLUMNS if hasattr(user, name)})
    grants = list(db.session.execute(select(RoleGrant).where(RoleGrant.user_id == user.id).order_by(RoleGrant.id)).scalars())
    cohort_names = dict(db.session.execute(select(Cohort.id, Cohort.name).where(
        Cohort.id.in_({grant.cohort_id for grant in grants if grant.cohort_id}))).all())
    roles = [{"role": ROLE_LABELS.get(grant.role, grant.role),
              "cohort": cohort_names.get(grant.cohort_id, "the whole site"), "since": grant.granted_at,
              "lead_tutor": grant.lead if grant.role == Role.TUTOR.value else None}
             for grant in grants]
    enrolments = []
    for enrolment in db.session.execute(
            select(Enrolment).where(Enrolment.trainee_id == user.id).order_by(Enrolment.id)
            .options(selectinload(Enrolment.cohort).selectinload(Cohort.days),
                     selectinload(Enrolment.academic_supervisor), selectinload(Enrolment.personal_supervisor))).scalars():
        enrolments.append({
            "cohort": enrolment.cohort.name, "course": enrolment.cohort.course_slug,
            "status": STATUS_LABELS.get(enrolment.status, enrolment.status), "enrolled": enrolment.enrolled_at,
            "status_reason": enrolment.status_reason, "status_changed_on": enrolment.status_changed_on,
            "academic_supervisor": enrolment.academic_supervisor.display_name if enrolment.academic_supervisor else None,
            "personal_supervisor": enrolment.personal_supervisor.display_name if enrolment.personal_supervisor else None,
            "course_days": [f"Day {d.number}: {d.date.isoformat()} {d.starts_at:%H:%M}–{d.ends_at:%H:%M}, {d.venue}"
                            for d in enrolment.cohort.days],
        })
    notifications = [{"subject": n.subject, "message": n.body, "link": n.link, "sent": n.created_at, "read": n.read_at}
                     for n in db.session.execute(select(Notification).where(Notification.user_id == user.id)
                                                 .order_by(Notification.id)).scalars()]
    emails = [{"to": m.to_address, "subject": m.subject, "message": m.body, "created": m.created_at, "sent": m.sent_at}
              for m in db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == user.email)
                                          .order_by(OutboxEmail.id)).scalars()]
    sessions = [{"signed_in": s.created_at, "last_active": s.last_seen_at}
                for s in db.session.execute(select(WebSession).where(WebSession.user_id == user.id)
                                            .order_by(WebSession.created_at)).scalars()]
    events = []
    for event in db.session.execute(
            select(AuditEvent).where(AuditEvent.subject_user_id == user.id)
            .options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id)).scalars():
        events.append({"when": event.created_at, "what": event.action,
                       "by": event.actor.display_name if event.actor else "the system",
                       "before": _loads(event.before), "after": _loads(event.after), "reason": event.reason})
    requests = [{"asked": r.requested_at, "your_note": r.note, "status": r.status, "decided": r.decided_at,
                 "decision_note": r.decision_note}
                for r in db.session.execute(select(ErasureRequest).where(ErasureRequest.user_id == user.id)
                                            .order_by(ErasureRequest.id)).scalars()]
    return [
        ExportSection("account", "My account", [account], "Your account and the preferences you set.", order=0),
        ExportSection("roles", "My roles", roles, "The roles you hold, and in which cohort.", order=1),
        ExportSection("enrolments", "My enrolments", enrolments,
                      "The cohorts you are or were enrolled in, with your supervisors and course days.", order=2),
        ExportSection("notifications", "Notifications to me", notifications, order=80),
        ExportSection("emails", "E-mails sent to me", emails, order=81),
        ExportSection("sessions", "Where I am signed in", sessions,
                      "Your signed-in sessions (no addresses or devices are kept).", order=82),
        ExportSection("audit", "Changes recorded about me", events,
                      "The audit log's record of changes made to your account and enrolments.", order=90),
        ExportSection("erasure_requests", "My requests to erase my data", requests, order=91),
    ]


def _loads(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


# ---------------------------------------------------------------------------
# Erasure
# ---------------------------------------------------------------------------

def erase_core(user: User) -> None:
    """Remove the person's messages, sessions and free-text notes; scrub their name and email from
    the audit log. Enrolments, statuses and dates stay (accreditation needs them)."""
    old_email, old_name = user.email, user.display_name
    db.session.execute(delete(WebSession).where(WebSession.user_id == user.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(Notification).where(Notification.user_id == user.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.to_address == old_email)
                       .execution_options(synchronize_session=False))
    for model in (Invitation, PasswordReset):  # links sent to the person (they hold the address)
        db.session.execute(delete(model).where(model.user_id == user.id).execution_options(synchronize_session=False))
    # A withdrawal's reason can hold health details: the status and date are what the record needs.
    db.session.execute(update(Enrolment).where(Enrolment.trainee_id == user.id, Enrolment.status_reason.is_not(None))
                       .values(status_reason="(erased)").execution_options(synchronize_session=False))
    db.session.execute(update(ErasureRequest).where(ErasureRequest.user_id == user.id)
                       .values(note=None).execution_options(synchronize_session=False))
    replacements = [(old_email, erased_email(user.id))]
    if old_name:
        replacements.append((old_name, erased_name(user.id)))
    for event in db.session.execute(select(AuditEvent).where(or_(
            AuditEvent.subject_user_id == user.id, AuditEvent.actor_id == user.id,
            (AuditEvent.object_type == "user") & (AuditEvent.object_id == str(user.id))))).scalars():
        for column in ("before", "after", "reason"):
            text = getattr(event, column)
            if not text:
                continue
            for old, new in replacements:
                text = text.replace(old, new)
                # JSON escapes non-ASCII in some writers: scrub that spelling too.
                text = text.replace(json.dumps(old)[1:-1], new)
            setattr(event, column, text)
    db.session.flush()


def pseudonymise(user: User) -> None:
    """The last step of an erasure: the person's row stays, with nothing that identifies them."""
    user.display_name = erased_name(user.id)
    user.email = erased_email(user.id)
    user.pronouns = None
    user.password_hash = None
    user.active = False
    user.last_signed_in_at = None
    db.session.flush()


# ---------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------

def _months_ago(today: date, months: int):
    from datetime import datetime, timezone

    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    day = min(today.day, 28)
    return datetime(year, month + 1, day, tzinfo=timezone.utc)


def purge_notifications(months: int, today: date, apply: bool) -> int:
    cutoff = _months_ago(today, months)
    if not apply:
        return db.session.execute(select(func.count(Notification.id)).where(Notification.created_at < cutoff)).scalar_one()
    return db.session.execute(delete(Notification).where(Notification.created_at < cutoff)
                              .execution_options(synchronize_session=False)).rowcount


def purge_outbox(months: int, today: date, apply: bool) -> int:
    cutoff = _months_ago(today, months)
    if not apply:
        return db.session.execute(select(func.count(OutboxEmail.id)).where(OutboxEmail.created_at < cutoff)).scalar_one()
    return db.session.execute(delete(OutboxEmail).where(OutboxEmail.created_at < cutoff)
                              .execution_options(synchronize_session=False)).rowcount


def _register() -> None:
    if export_core in EXPORTERS:
        return
    EXPORTERS.append(export_core)
    ERASERS.append(erase_core)
    RETENTION_RULES.extend([
        RetentionRule("notifications", "In-app notifications",
                      "Deleted this many months after they were sent.", 24, purge_notifications),
        RetentionRule("email_outbox", "Copies of e-mails sent",
                      "Deleted this many months after they were sent.", 12, purge_outbox),
    ])


_register()
