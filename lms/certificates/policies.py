"""Who may issue, see, revoke and verify certificates.

Verification is public on purpose: an employer checking a certificate needs
no account. Everything else is for the holder, the people who support them,
and admins.
"""

from __future__ import annotations

from lms.accounts.models import User
from lms.authz.access import PUBLIC, SIGNED_IN
from lms.authz.roles import Role
from lms.cohorts.policies import is_admin, supervises, teaches

ADMINS = frozenset({Role.ADMIN})
CERTIFICATE_READERS = frozenset({Role.TRAINEE, Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR, Role.ADMIN})

ENDPOINT_ACCESS = {
    "certificates.index": CERTIFICATE_READERS,
    "certificates.my_name": frozenset({Role.TRAINEE}),
    # Object-level checks decide (holder, their supervisors and tutors, admins); others get 404.
    "certificates.show": SIGNED_IN,
    "certificates.pdf": SIGNED_IN,
    "certificates.transcript": SIGNED_IN,
    "certificates.credential": SIGNED_IN,
    "certificates.cohort": ADMINS,
    "certificates.issue": ADMINS,
    "certificates.ask_names": ADMINS,
    "certificates.batch": ADMINS,
    "certificates.cohort_zip": ADMINS,
    "certificates.revoke": ADMINS,
    "certificates.reissue": ADMINS,
    # Anyone: checking a certificate, and what wallets need to check a credential.
    "certificates.verify_form": PUBLIC,
    "certificates.verify": PUBLIC,
    "certificates.status_list": PUBLIC,
    "certificates.jwks": PUBLIC,
    "certificates.did_document": PUBLIC,
}


def can_manage_certificates(actor: User) -> bool:
    """Admins issue, revoke and reissue certificates."""
    return is_admin(actor)


def can_view_certificate(actor: User, certificate) -> bool:
    """The holder, their supervisors, the cohort's tutors and admins see a certificate and its downloads."""
    if is_admin(actor):
        return True
    if certificate.trainee_id is not None and certificate.trainee_id == actor.id:
        return True
    enrolment = certificate.enrolment
    if enrolment is None:
        return False
    return supervises(actor, enrolment) or teaches(actor, enrolment.cohort_id)
