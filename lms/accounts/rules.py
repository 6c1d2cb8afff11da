"""Pure rules for account links, new passwords and interface preferences.

No Flask or SQLAlchemy here: values in, values out.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import Enum

from lms.accounts.passwords import password_problem

INVITATION_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)
# At most this many reset e-mails to one account in RESET_EMAIL_WINDOW, whoever asks.
RESET_EMAILS_PER_WINDOW = 3
RESET_EMAIL_WINDOW = timedelta(hours=1)

# When a person wants notifications by e-mail (stored in User.notification_email).
EMAIL_IMMEDIATELY = "immediately"
EMAIL_DAILY = "daily"
EMAIL_NEVER = "never"
NOTIFICATION_EMAIL_CHOICES = {
    EMAIL_IMMEDIATELY: "Straight away: one e-mail for each notification",
    EMAIL_DAILY: "Once a day: a daily digest of what happened",
    EMAIL_NEVER: "Never: I will check my notifications in the LMS",
}


def email_choice(value: str | None) -> str:
    """A person's e-mail preference (``User.notification_email``), with anything unknown read as "immediately"."""
    return value if value in NOTIFICATION_EMAIL_CHOICES else EMAIL_IMMEDIATELY


class LinkState(Enum):
    """What an invitation or password-reset link is good for now."""

    VALID = "valid"
    UNKNOWN = "unknown"      # no such token: mistyped, cut short or tampered with
    USED = "used"
    REPLACED = "replaced"    # a newer link was sent, or the password was set another way
    EXPIRED = "expired"
    INACTIVE = "inactive"    # the account has been deactivated since the link was sent


def new_token() -> tuple[str, str]:
    """A random URL-safe token and the SHA-256 digest to store instead of it."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_state(*, used_at: datetime | None, revoked_at: datetime | None, expires_at: datetime,
               now: datetime) -> LinkState:
    """The state of a stored link at ``now``. Used beats replaced beats expired."""
    if used_at is not None:
        return LinkState.USED
    if revoked_at is not None:
        return LinkState.REPLACED
    if now >= expires_at:
        return LinkState.EXPIRED
    return LinkState.VALID


def new_password_problems(password: str, confirm: str, *, field: str = "password",
                          confirm_field: str = "confirm") -> list[tuple[str, str]]:
    """(field, message) pairs for a new password typed twice; empty when it is fine."""
    password = password or ""
    if not password:
        return [(field, "Enter a new password.")]
    problem = password_problem(password)
    if problem:
        return [(field, problem)]
    if password != (confirm or ""):
        return [(confirm_field, "The two passwords do not match. Type the same password in both boxes.")]
    return []


def preference_classes(*, larger_text: bool, reduced_motion: bool) -> str:
    """The classes for ``<html>`` that carry a person's interface preferences."""
    classes = []
    if larger_text:
        classes.append("larger-text")
    if reduced_motion:
        classes.append("reduced-motion")
    return " ".join(classes)
