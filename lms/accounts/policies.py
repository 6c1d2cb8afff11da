"""Who may use the sign-in and account pages, and who may invite people."""

from lms.authz.access import PUBLIC, SIGNED_IN
from lms.authz.roles import Role

ADMINS = frozenset({Role.ADMIN})

ENDPOINT_ACCESS = {
    "accounts.sign_in": PUBLIC,
    "accounts.sign_out": PUBLIC,
    # Links from e-mails: the token in the address is the proof.
    "accounts.accept_invitation": PUBLIC,
    "accounts.forgot_password": PUBLIC,
    "accounts.reset_password": PUBLIC,
    "accounts.change_password": SIGNED_IN,
    "accounts.profile": SIGNED_IN,
    "accounts.co_delivery": frozenset({Role.TUTOR}),
    "accounts.invitations": ADMINS,
    "accounts.invite_person": ADMINS,
    "accounts.invite_cohort": ADMINS,
    "accounts.resend_invitation": ADMINS,
}


def can_invite(actor) -> bool:
    """Only admins invite people and send invitations again."""
    return actor.has_role(Role.ADMIN)
