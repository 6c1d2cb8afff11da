"""People, their organisations, their roles and their signed-in sessions."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.authz.roles import Role
from lms.database import UTCDateTime, utcnow
from lms.extensions import db


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # employer (NHS trust, charity), partner, or the training provider itself
    kind: Mapped[str] = mapped_column(String(20), default="employer")
    contact_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    pronouns: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Preferences the person sets on their profile page; the interface honours them.
    prefers_larger_text: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    prefers_reduced_motion: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # When to e-mail notifications: one of NOTIFICATION_EMAIL_CHOICES.
    notification_email: Mapped[str] = mapped_column(String(20), default="immediately",
                                                    server_default="immediately")

    organisation: Mapped[Organisation | None] = relationship()
    role_grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login asks this at sign-in
        return self.active

    @property
    def roles(self) -> frozenset[Role]:
        """Every role this person holds in any cohort (or site-wide)."""
        return frozenset(Role(grant.role) for grant in self.role_grants)

    def has_role(self, *roles: Role | str) -> bool:
        return bool(self.roles & {Role(role) for role in roles})

    def cohort_ids_for(self, role: Role | str) -> frozenset[int]:
        return frozenset(
            grant.cohort_id for grant in self.role_grants
            if grant.role == Role(role) and grant.cohort_id is not None
        )


class RoleGrant(db.Model):
    """A role a person holds, in one cohort or (for admins) site-wide."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role", "cohort_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The lead tutor of a cohort (one per cohort); other tutors co-facilitate.
    lead: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # A tutor who co-delivers from their own lived experience (a peer trainer): the course is co-produced.
    # The tutor's own disclosure (on their profile, or by an admin with their agreement), shown to staff only.
    peer_trainer: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    user: Mapped[User] = relationship(back_populates="role_grants")


class WebSession(db.Model):
    """A signed-in (or anonymous) browser session, kept on the server.

    The cookie holds only a random token; the row is keyed by its SHA-256 so a
    copy of the database cannot be replayed as cookies.
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(db.Model):
    """An e-mailed link that lets a person set their first password.

    Only the SHA-256 of the link's random token is kept, so a copy of the
    database cannot be turned back into working links. Single use; it expires.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The address the link was sent to (the person's e-mail may change later).
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a newer invitation replaces this one, or the password is set another way.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class PasswordReset(db.Model):
    """An e-mailed single-use link to choose a new password (token kept as SHA-256 only)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
