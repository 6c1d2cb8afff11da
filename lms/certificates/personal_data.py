"""Certificates' part of a person's data export and of an approved erasure.

Registered with lms.privacy.registry. The export holds the name the person
confirmed for certificates and the certificates they hold. An erasure removes
the confirmed name; the certificate register itself stays, as accreditation
requires, so that anyone holding a certificate can still have it verified.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from lms.accounts.models import User
from lms.certificates.models import Certificate, CertificateName
from lms.extensions import db
from lms.privacy.registry import ERASERS, EXPORTERS, ExportSection


def export_certificates(user: User) -> list[ExportSection]:
    """The person's confirmed name and their certificates."""
    name = db.session.execute(select(CertificateName).where(CertificateName.user_id == user.id)).scalar_one_or_none()
    held = db.session.execute(select(Certificate).where(Certificate.trainee_id == user.id)
                              .order_by(Certificate.id)).scalars().all()
    sections = []
    if name is not None:
        sections.append(ExportSection("certificate_name", "The name I confirmed for my certificate",
                                      [{"name": name.name, "confirmed": name.confirmed_at}], order=60))
    if held:
        sections.append(ExportSection("certificates", "My certificates", [
            {"serial": c.serial, "title": c.title, "name_printed": c.holder_name, "award": c.award,
             "credits": c.credits, "level": c.level, "framework": c.framework, "awarded_on": c.awarded_on,
             "status": c.status} for c in held],
            "The register keeps these after an erasure, so that they can still be verified.", order=61))
    return sections


def erase_certificates(user: User) -> None:
    """Remove the confirmed name and cut each certificate down to what verifying it needs: the register
    keeps serial, code, the name printed, award, credits, level and dates; the mark, its flags and the
    stored PDF go (flushes, never commits)."""
    db.session.execute(delete(CertificateName).where(CertificateName.user_id == user.id)
                       .execution_options(synchronize_session=False))
    from lms.certificates.services import _pdf_dir

    for certificate in db.session.execute(select(Certificate).where(Certificate.trainee_id == user.id)).scalars():
        certificate.recorded_mark = None
        certificate.flags = ""
        if certificate.pdf_file:
            (_pdf_dir() / certificate.pdf_file).unlink(missing_ok=True)
        certificate.pdf_file = certificate.pdf_sha256 = certificate.pdf_rendered_at = None
    db.session.flush()


EXPORTERS.append(export_certificates)
ERASERS.append(erase_certificates)
