"""Use cases for people and sign-in. Services flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import abort, current_app
from sqlalchemy import func, select, union, update
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts import passwords, rules, throttle
from lms.accounts.models import Invitation, Organisation, PasswordReset, RoleGrant, User
from lms.accounts.policies import can_invite
from lms.accounts.rules import LinkState
from lms.accounts.sessions import end_other_sessions
from lms.audit import services as audit
from lms.authz.roles import SITE_WIDE_ROLES, Role
from lms.cohorts.models import Cohort, Enrolment
from lms.database import utcnow
from lms.extensions import db
from lms.notify.services import send_email
from lms.site.templating import format_datetime


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def load_signed_in_user(user_id: str) -> User | None:
    """Flask-Login's loader: the person with their role grants, if still active."""
    try:
        key = int(user_id)
    except (TypeError, ValueError):
        return None
    user = db.session.execute(  # one query on every request: the grants joined, not fetched after
        select(User).options(joinedload(User.role_grants)).where(User.id == key)
    ).unique().scalar_one_or_none()
    return user if user is not None and user.active else None


def find_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


@dataclass(frozen=True)
class SignInResult:
    user: User | None = None
    throttled: throttle.Throttled | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def authenticate(email: str, password: str, address: str) -> SignInResult:
    """Check an email and password, honouring the attempt limits.

    The result never tells whether an account exists: unknown email, wrong
    password and deactivated account all fail the same way.
    """
    email = normalise_email(email)
    limited = throttle.check(email, address)
    if limited:
        return SignInResult(throttled=limited)
    user = find_by_email(email) if email else None
    if not password or not passwords.verify_password(user.password_hash if user else None, password) \
            or user is None or not user.active:
        throttle.record_failure(email, address)
        return SignInResult()
    throttle.clear(email)
    if passwords.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_signed_in_at = utcnow()
    db.session.flush()
    return SignInResult(user=user)


def create_user(email: str, display_name: str, password: str | None = None,
                organisation: Organisation | None = None, pronouns: str | None = None) -> User:
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        pronouns=(pronouns or None),
        password_hash=passwords.hash_password(password) if password else None,
        organisation=organisation,
    )
    db.session.add(user)
    db.session.flush()
    return user


def grant_role(user: User, role: Role | str, cohort_id: int | None = None) -> RoleGrant:
    """Give ``user`` a role (site-wide for admin, otherwise in a cohort); idempotent."""
    role = Role(role)
    if role in SITE_WIDE_ROLES:
        cohort_id = None
    elif cohort_id is None:
        raise ValueError(f"The {role.label.lower()} role is held in a cohort: choose one.")
    for grant in user.role_grants:
        if grant.role == role and grant.cohort_id == cohort_id:
            return grant
    grant = RoleGrant(role=role.value, cohort_id=cohort_id)
    user.role_grants.append(grant)
    db.session.flush()
    return grant


def count_users() -> int:
    return db.session.execute(select(func.count(User.id))).scalar_one()


# Invitations, password resets, password changes and the profile.
#
# Tokens are random and only their SHA-256 is stored. Every writing function
# that ends sessions calls ``end_other_sessions`` before it writes anything
# else: that function uses a connection of its own, which on SQLite would
# wait for the request's own write lock if the request had written first.


class InvitationRefused(ValueError):
    """The person cannot be sent an invitation; the message says why and what to do."""


@dataclass(frozen=True)
class LinkCheck:
    """What a link from an invitation or reset e-mail leads to."""

    state: LinkState
    user: User | None = None

    @property
    def ok(self) -> bool:
        return self.state is LinkState.VALID


@dataclass
class InviteOutcome:
    invitation: Invitation | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CohortInvitations:
    sent: list[Invitation]
    already_invited: int  # people whose earlier link still works, left alone


@dataclass(frozen=True)
class AwaitingPassword:
    """A person who has not set a password yet, with their latest invitation (if any)."""

    user: User
    invitation: Invitation | None
    state: LinkState | None


def _require_admin(actor: User | None) -> None:
    # ``None`` is the system itself (a CLI command or an import job).
    if actor is not None and not can_invite(actor):
        abort(403)


def _base_url() -> str:
    return current_app.config["LMS_BASE_URL"].rstrip("/")


def invitation_link(token: str) -> str:
    return f"{_base_url()}/invitation/{token}"


def reset_link(token: str) -> str:
    return f"{_base_url()}/reset-password/{token}"


def _invitation_email(user: User, actor: User | None, token: str, expires_at: datetime) -> tuple[str, str]:
    inviter = f"{actor.display_name} has" if actor is not None else "Your course team has"
    body = (
        f"Hello {user.display_name},\n\n"
        f"{inviter} invited you to the Peer Support Training site, where you will find your "
        "course days, your course materials and everything else you need for the course.\n\n"
        "To set your password and sign in, open this link:\n\n"
        f"{invitation_link(token)}\n\n"
        f"The link works once and lasts 7 days, until {format_datetime(expires_at)}. If it has expired, "
        "ask your course admin to send you a new invitation.\n\n"
        "If you were not expecting this e-mail, you can ignore it.\n"
    )
    return "Set up your Peer Support Training account", body


def _can_be_invited(user: User) -> str | None:
    """Why ``user`` cannot be invited, or None when they can."""
    if not user.active:
        return (f"{user.display_name}'s account is deactivated. "
                "Reactivate it before sending an invitation.")
    if user.password_hash:
        return (f"{user.display_name} has already set a password, so they can sign in. "
                "If they have forgotten it, they can use “Forgotten your password?” on the sign-in page.")
    return None


def _revoke_open_links(user_ids: list[int], now: datetime, *, resets: bool = False) -> None:
    """Stop every unused invitation (and optionally reset link) of these people working."""
    if not user_ids:
        return
    models = (Invitation, PasswordReset) if resets else (Invitation,)
    for model in models:
        db.session.execute(
            update(model)
            .where(model.user_id.in_(user_ids), model.used_at.is_(None), model.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )


def invite(actor: User | None, user: User) -> Invitation:
    """Send ``user`` an invitation e-mail to set their password; return the stored invitation.

    Any earlier unused invitation stops working. The e-mail is sent after the
    request commits. Raises ``InvitationRefused`` when the person already has
    a password or is deactivated.
    """
    _require_admin(actor)
    problem = _can_be_invited(user)
    if problem:
        raise InvitationRefused(problem)
    return invite_many(actor, [user])[0]


def invite_many(actor: User | None, users: list[User]) -> list[Invitation]:
    """Invite each of ``users`` who has no password yet and is active; return the new invitations.

    People who already have a password or are deactivated are skipped. A
    constant number of queries whatever the number of people (plus one row
    per invitation, e-mail and audit event).
    """
    _require_admin(actor)
    users = [user for user in users if _can_be_invited(user) is None]
    if not users:
        return []
    now = utcnow()
    _revoke_open_links([user.id for user in users], now)
    invitations = []
    for user in users:
        token, digest = rules.new_token()
        invitation = Invitation(user_id=user.id, email=user.email, token_hash=digest,
                                created_by_id=actor.id if actor is not None else None,
                                created_at=now, expires_at=now + rules.INVITATION_LIFETIME)
        db.session.add(invitation)
        subject, body = _invitation_email(user, actor, token, invitation.expires_at)
        send_email(user.email, subject, body)
        audit.record(actor, "invitation.sent", "user", user.id, subject_user_id=user.id,
                     after={"email": user.email, "expires_at": invitation.expires_at})
        invitations.append(invitation)
    db.session.flush()
    return invitations


def _valid_email(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def invite_person(actor: User, *, email: str, name: str, organisation_id: int | None = None,
                  role: str | None = None, cohort_id: int | None = None) -> InviteOutcome:
    """Create the person if they are new, give them a role if asked, and invite them.

    Returns the invitation, or the problems as (field, message) pairs with
    nothing saved.
    """
    _require_admin(actor)
    errors: list[tuple[str, str]] = []
    email = normalise_email(email)
    name = (name or "").strip()
    existing = None
    if not email:
        errors.append(("email", "Enter the person's email address."))
    elif len(email) > 254 or not _valid_email(email):
        errors.append(("email", "Enter an email address in the right format, like name@example.org."))
    else:
        existing = db.session.execute(
            select(User).options(selectinload(User.role_grants)).where(User.email == email)
        ).scalar_one_or_none()
        problem = _can_be_invited(existing) if existing is not None else None
        if problem:
            errors.append(("email", problem))
    if existing is None:
        if not name:
            errors.append(("name", "Enter the person's name."))
        elif len(name) > 120:
            errors.append(("name", "Enter a name of 120 characters or fewer."))
    organisation = None
    if organisation_id:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            errors.append(("organisation", "Choose an organisation from the list."))
    chosen_role = None
    if role:
        try:
            chosen_role = Role(role)
        except ValueError:
            errors.append(("role", "Choose a role from the list."))
    cohort = None
    if cohort_id:
        cohort = db.session.get(Cohort, cohort_id)
        if cohort is None:
            errors.append(("cohort", "Choose a cohort from the list."))
        elif chosen_role is None and not role:
            errors.append(("role", "Choose the person's role in this cohort, or leave the cohort empty."))
    employed = (Role.TRAINEE, Role.PERSONAL_SUPERVISOR)
    if (chosen_role in employed and organisation is None and not organisation_id
            and (existing is None or existing.organisation_id is None)):
        who = "trainee" if chosen_role is Role.TRAINEE else "personal supervisor"
        errors.append(("organisation", f"Choose the organisation that employs this {who}: every {who} belongs "
                                       "to their employer, so that their personal supervisor and reports match."))
    if chosen_role is not None and chosen_role not in SITE_WIDE_ROLES and not cohort_id:
        errors.append(("cohort", f"Choose the cohort the person will be a "
                                 f"{chosen_role.label.lower()} in."))
    if errors:
        return InviteOutcome(errors=errors)

    user = existing
    if user is None:
        user = create_user(email, name, organisation=organisation)
        audit.record(actor, "user.created", "user", user.id, subject_user_id=user.id,
                     after={"email": user.email, "display_name": user.display_name,
                            "organisation": organisation.name if organisation else None})
    if chosen_role is not None:
        cohort_for_role = None if chosen_role in SITE_WIDE_ROLES else cohort.id
        grant_role(user, chosen_role, cohort_for_role)
        audit.record(actor, "role.granted", "user", user.id, subject_user_id=user.id, cohort_id=cohort_for_role,
                     after={"role": chosen_role.value, "cohort_id": cohort_for_role})
    return InviteOutcome(invitation=invite(actor, user))


def resend_invitation(actor: User, user_id: int) -> Invitation:
    """Send a new invitation to the person with ``user_id`` (404 when there is none)."""
    _require_admin(actor)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return invite(actor, user)


def awaiting_password(limit: int = 200) -> tuple[list[AwaitingPassword], int]:
    """Active people with no password yet (by name, at most ``limit``) and how many there are in all."""
    total = db.session.execute(
        select(func.count(User.id)).where(User.password_hash.is_(None), User.active.is_(True))
    ).scalar_one()
    users = list(db.session.execute(
        select(User).where(User.password_hash.is_(None), User.active.is_(True))
        .order_by(User.display_name, User.id).limit(limit)
    ).scalars())
    latest: dict[int, Invitation] = {}
    if users:
        for invitation in db.session.execute(
            select(Invitation).where(Invitation.user_id.in_([user.id for user in users]))
            .order_by(Invitation.created_at, Invitation.id)
        ).scalars():
            latest[invitation.user_id] = invitation
    now = utcnow()
    rows = []
    for user in users:
        invitation = latest.get(user.id)
        state = None if invitation is None else rules.link_state(
            used_at=invitation.used_at, revoked_at=invitation.revoked_at,
            expires_at=invitation.expires_at, now=now)
        rows.append(AwaitingPassword(user, invitation, state))
    return rows, total


def cohorts_to_invite() -> list[Cohort]:
    """Cohorts an admin may invite people from, newest first (archived ones left out)."""
    return list(db.session.execute(
        select(Cohort).where(Cohort.status != "archived").order_by(Cohort.start_date.desc(), Cohort.id)
    ).scalars())


def organisations_to_choose() -> list[Organisation]:
    return list(db.session.execute(select(Organisation).order_by(Organisation.name)).scalars())


def people_without_password_in(cohort_id: int) -> list[User]:
    """Active people in a cohort (any role, or enrolled) who have not set a password yet."""
    members = union(
        select(RoleGrant.user_id).where(RoleGrant.cohort_id == cohort_id),
        select(Enrolment.trainee_id).where(Enrolment.cohort_id == cohort_id),
        select(Enrolment.academic_supervisor_id).where(Enrolment.cohort_id == cohort_id),
        select(Enrolment.personal_supervisor_id).where(Enrolment.cohort_id == cohort_id),
    )
    return list(db.session.execute(
        select(User).where(User.id.in_(members), User.password_hash.is_(None), User.active.is_(True))
        .order_by(User.display_name, User.id)
    ).scalars())


def invite_cohort(actor: User, cohort_id: int, *, include_already_invited: bool = False) -> CohortInvitations:
    """Invite everyone in the cohort who has no password yet.

    People whose earlier invitation still works are left alone unless
    ``include_already_invited``: then they get a new link and the old one stops.
    """
    _require_admin(actor)
    if db.session.get(Cohort, cohort_id) is None:
        abort(404)
    people = people_without_password_in(cohort_id)
    waiting: set[int] = set()
    if people and not include_already_invited:
        waiting = set(db.session.execute(
            select(Invitation.user_id).where(
                Invitation.user_id.in_([person.id for person in people]), Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
        ).scalars())
    sent = invite_many(actor, [person for person in people if person.id not in waiting])
    return CohortInvitations(sent=sent, already_invited=len(waiting))


def _find_link(model, token: str):
    if not token or len(token) > 100:
        return None
    return db.session.execute(
        select(model).options(joinedload(model.user)).where(model.token_hash == rules.token_digest(token))
    ).scalar_one_or_none()


def _check(record) -> LinkCheck:
    if record is None:
        return LinkCheck(LinkState.UNKNOWN)
    state = rules.link_state(used_at=record.used_at, revoked_at=record.revoked_at,
                             expires_at=record.expires_at, now=utcnow())
    if state is LinkState.VALID and not record.user.active:
        state = LinkState.INACTIVE
    return LinkCheck(state, record.user)


def check_invitation(token: str) -> LinkCheck:
    """What the invitation link with ``token`` is good for now."""
    return _check(_find_link(Invitation, token))


def check_reset(token: str) -> LinkCheck:
    """What the password-reset link with ``token`` is good for now."""
    return _check(_find_link(PasswordReset, token))


def _use_link(model, record, now: datetime) -> bool:
    """Mark a link used, atomically: False when another request used it first."""
    result = db.session.execute(
        update(model).where(model.id == record.id, model.used_at.is_(None), model.revoked_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _set_password_from_link(model, token: str, password: str, confirm: str,
                            action: str) -> tuple[LinkCheck, list[tuple[str, str]]]:
    record = _find_link(model, token)
    check = _check(record)
    if not check.ok:
        return check, []
    errors = rules.new_password_problems(password, confirm)
    if errors:
        return check, errors
    user = record.user
    # Signed out everywhere first (see the note above); the caller signs this browser in fresh.
    end_other_sessions(user.id, None)
    now = utcnow()
    if not _use_link(model, record, now):
        return LinkCheck(LinkState.USED, user), []
    _revoke_open_links([user.id], now, resets=True)
    user.password_hash = passwords.hash_password(password)
    user.last_signed_in_at = now
    audit.record(user, action, "user", user.id, subject_user_id=user.id)
    db.session.flush()
    return check, []


def accept_invitation(token: str, password: str, confirm: str) -> tuple[LinkCheck, list[tuple[str, str]]]:
    """Set the invited person's first password.

    Returns the link check (not ``ok``: nothing changed) and the password
    problems (non-empty: nothing changed). On success the caller signs the
    person in.
    """
    return _set_password_from_link(Invitation, token, password, confirm, "account.invitation_accepted")


def request_password_reset(email: str) -> None:
    """E-mail a reset link when an active account has this address.

    Says nothing about whether it did: the page gives the same answer either
    way. At most ``RESET_EMAILS_PER_WINDOW`` e-mails per account per hour.
    """
    user = find_by_email(email) if normalise_email(email) else None
    if user is None or not user.active:
        return
    now = utcnow()
    recent = db.session.execute(
        select(func.count(PasswordReset.id)).where(
            PasswordReset.user_id == user.id, PasswordReset.created_at > now - rules.RESET_EMAIL_WINDOW)
    ).scalar_one()
    if recent >= rules.RESET_EMAILS_PER_WINDOW:
        return
    token, digest = rules.new_token()
    reset = PasswordReset(user_id=user.id, token_hash=digest, created_at=now,
                          expires_at=now + rules.RESET_LIFETIME)
    db.session.add(reset)
    send_email(user.email, "Reset your Peer Support Training password", (
        f"Hello {user.display_name},\n\n"
        "Someone (we hope you) asked to reset the password for your Peer Support Training account. "
        "To choose a new password, open this link:\n\n"
        f"{reset_link(token)}\n\n"
        f"The link works once and lasts 1 hour, until {format_datetime(reset.expires_at)}.\n\n"
        "If you did not ask for this, you can ignore this e-mail: your password has not changed.\n"
    ))
    db.session.flush()


def _password_changed_email(user: User) -> None:
    send_email(user.email, "Your Peer Support Training password has changed", (
        f"Hello {user.display_name},\n\n"
        f"The password for your Peer Support Training account was changed on {format_datetime(utcnow())}. "
        "You have been signed out everywhere else.\n\n"
        "If this was you, there is nothing more to do. If it was not, reset your password from the "
        f"sign-in page ({_base_url()}/forgot-password) and tell your course admin straight away.\n"
    ))


def complete_password_reset(token: str, password: str, confirm: str) -> tuple[LinkCheck, list[tuple[str, str]]]:
    """Set a new password from a reset link and end every session of that person.

    Returns as ``accept_invitation`` does; on success the caller signs the person in fresh.
    """
    check, errors = _set_password_from_link(PasswordReset, token, password, confirm, "account.password_reset")
    if check.ok and not errors:
        _password_changed_email(check.user)
    return check, errors


def change_password(user: User, *, current: str, new: str, confirm: str, keep_token: str | None,
                    address: str) -> list[tuple[str, str]]:
    """Change a signed-in person's password and sign them out everywhere else.

    Returns (field, message) problems; when there are any, nothing changed and
    every session carries on. Wrong current passwords count towards the
    sign-in attempt limits, so this form cannot be used to guess.
    """
    limited = throttle.check(user.email, address)
    if limited:
        return [("current_password", limited.message)]
    if not current or not passwords.verify_password(user.password_hash, current):
        throttle.record_failure(user.email, address)
        return [("current_password", "Your current password is not right. Check it and try again.")]
    errors = rules.new_password_problems(new, confirm, field="new_password", confirm_field="confirm_password")
    if not errors and new == current:
        errors = [("new_password", "Choose a new password that is different from your current one.")]
    if errors:
        return errors
    end_other_sessions(user.id, keep_token)
    now = utcnow()
    _revoke_open_links([user.id], now, resets=True)
    user.password_hash = passwords.hash_password(new)
    audit.record(user, "account.password_changed", "user", user.id, subject_user_id=user.id)
    _password_changed_email(user)
    db.session.flush()
    return []


def update_profile(user: User, *, display_name: str, pronouns: str, notification_email: str,
                   larger_text: bool, reduced_motion: bool) -> list[tuple[str, str]]:
    """Save a person's own profile and preferences; (field, message) problems mean nothing changed."""
    errors = []
    display_name = (display_name or "").strip()
    pronouns = (pronouns or "").strip()
    if not display_name:
        errors.append(("display_name", "Enter the name you would like people to see in the LMS."))
    elif len(display_name) > 120:
        errors.append(("display_name", "Enter a name of 120 characters or fewer."))
    if len(pronouns) > 40:
        errors.append(("pronouns", "Enter pronouns of 40 characters or fewer, like she/her or they/them."))
    if notification_email not in rules.NOTIFICATION_EMAIL_CHOICES:
        errors.append(("notification_email", "Choose when you would like e-mails about notifications."))
    if errors:
        return errors
    old = {"display_name": user.display_name, "pronouns": user.pronouns}
    user.display_name = display_name
    user.pronouns = pronouns or None
    user.notification_email = notification_email
    user.prefers_larger_text = bool(larger_text)
    user.prefers_reduced_motion = bool(reduced_motion)
    # Name and pronouns are what others see; preferences are the person's own business.
    before, after = audit.changes(old, {"display_name": user.display_name, "pronouns": user.pronouns})
    if before:
        audit.record(user, "profile.changed", "user", user.id, subject_user_id=user.id, before=before, after=after)
    db.session.flush()
    return []


def interface_classes(user) -> str:
    """The ``<html>`` classes for a person's interface preferences ('' when signed out)."""
    if not getattr(user, "is_authenticated", False):
        return ""
    return rules.preference_classes(larger_text=user.prefers_larger_text,
                                    reduced_motion=user.prefers_reduced_motion)


# --- co-delivering the course ------------------------------------------------------------


def tutor_grants(user: User) -> list[tuple[RoleGrant, Cohort]]:
    """The cohorts a person tutors, with their grants (newest cohort first): for saying whether they co-deliver
    from their own lived experience."""
    return list(db.session.execute(
        select(RoleGrant, Cohort).join(Cohort, Cohort.id == RoleGrant.cohort_id)
        .where(RoleGrant.user_id == user.id, RoleGrant.role == Role.TUTOR.value)
        .order_by(Cohort.start_date.desc(), Cohort.id)).all())


def set_own_co_delivery(user: User, grant_id, peer_trainer: bool) -> tuple[RoleGrant, Cohort]:
    """A tutor records, or withdraws, that they co-deliver a cohort from their own lived experience. It is
    their disclosure to make: a grant that is not their own tutor role answers 404."""
    try:
        wanted = int(grant_id)
    except (TypeError, ValueError):
        abort(404)
    found = next(((grant, cohort) for grant, cohort in tutor_grants(user) if grant.id == wanted), None)
    if found is None:
        abort(404)
    grant, cohort = found
    change_peer_trainer(user, grant, peer_trainer)
    return grant, cohort


def change_peer_trainer(actor: User | None, grant: RoleGrant, peer_trainer: bool) -> None:
    """Record whether a tutor co-delivers from lived experience (the tutor, or an admin with their agreement)."""
    if bool(grant.peer_trainer) != peer_trainer:
        audit.record(actor, "role.peer_trainer_changed", "role_grant", grant.id, cohort_id=grant.cohort_id,
                     subject_user_id=grant.user_id, before={"peer_trainer": bool(grant.peer_trainer)},
                     after={"peer_trainer": peer_trainer})
        grant.peer_trainer = peer_trainer
        db.session.flush()
