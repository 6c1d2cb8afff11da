"""``lms certificates``: issue, list, revoke, export and check certificates from the command line.

Exit codes: 0 done (or valid), 1 refused or not valid, 2 the input could not be used.
"""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from lms.extensions import db

REFUSED = 1
INVALID = 2


def _stop(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def _find(code_or_serial: str):
    from lms.certificates import services
    from lms.certificates.models import Certificate

    certificate = db.session.execute(select(Certificate).where(
        Certificate.serial == code_or_serial.strip().upper())).scalar_one_or_none()
    return certificate or services.find_by_code(code_or_serial)


@click.group()
def certificates():
    """Issue, list, revoke and check certificates."""


@certificates.command("issue")
@click.option("--cohort", "slug", required=True, help="The cohort's slug, e.g. demo-finished.")
@click.option("--dry-run", is_flag=True, help="Show who would get what, and why not, then stop.")
@click.option("--yes", is_flag=True, help="Issue without asking for confirmation.")
@click.option("--names", type=click.Choice(["confirmed", "all"]), default=None,
              help="While some trainees have not confirmed their name: 'confirmed' issues only the others "
                   "(and asks them), 'all' prints the LMS name for them.")
@with_appcontext
def issue_command(slug, dry_run, yes, names):
    """Issue the certificates a cohort's ratified outcomes call for (only those not issued yet)."""
    from lms.certificates import services
    from lms.certificates.models import Certificate

    try:
        cohort = services.cohort_for_admin(None, slug)
    except Exception:
        _stop(f"There is no cohort with the slug {slug!r}.", INVALID)
    preview = services.preview(cohort)
    if preview.problem:
        _stop(preview.problem, REFUSED)
    to_issue, already, not_issued = preview.to_issue, preview.already_issued, preview.not_issued
    click.echo(f"{cohort.name}: {len(to_issue)} to issue, {len(already)} already issued, "
               f"{len(not_issued)} with no certificate.")
    for row in to_issue:
        unconfirmed = "" if row.name_confirmed else "  (name not confirmed by the trainee)"
        click.echo(f"  issue   {row.name}: {row.award_label}{unconfirmed}")
    for row in already:
        click.echo(f"  has     {row.enrolment.trainee.display_name}: {row.eligibility.serial}")
    for row in not_issued:
        click.echo(f"  none    {row.enrolment.trainee.display_name}: {row.eligibility.reason}")
    if dry_run:
        click.echo("Dry run: nothing was issued.")
        return
    if not to_issue:
        click.echo("Nothing to issue.")
        return
    waiting = preview.awaiting_names
    if waiting and names is None:
        _stop(f"{len(waiting)} trainee{'s have' if len(waiting) != 1 else ' has'} not confirmed the name for "
              "their certificate. Add --names confirmed to issue only the others (and ask them to confirm), "
              "or --names all to print the name the LMS has for them. Nothing was issued.", INVALID)
    include = names == "all" or not waiting
    to_issue = preview.selected(include)
    if not include:
        services._ask_for_names(None, cohort, waiting)
        db.session.commit()
        click.echo(f"Asked {len(waiting)} trainee{'s' if len(waiting) != 1 else ''} to confirm their name.")
    if not to_issue:
        click.echo("Nothing to issue until a name is confirmed.")
        return
    if not yes and not click.confirm(f"Issue {len(to_issue)} certificate{'s' if len(to_issue) != 1 else ''}?"):
        _stop("Nothing was issued.", REFUSED)
    cohort_id = cohort.id
    with click.progressbar(length=len(to_issue), label="Issuing certificates", show_pos=True) as bar:
        report = services.issue_cohort(cohort_id, None, progress=lambda item, certificate: bar.update(1),
                                       include_unconfirmed=include)
    click.echo(f"Issued {len(report.issued)} certificate{'s' if len(report.issued) != 1 else ''}."
               + (f" {report.skipped} had already been issued by another run." if report.skipped else ""))
    if report.failed:
        _stop(f"{len(report.failed)} could not be issued: {', '.join(report.failed)}. Run the command again "
              "to retry them.", REFUSED)
    total = db.session.execute(select(func.count(Certificate.id)).where(
        Certificate.cohort_id == cohort_id, Certificate.status == "valid")).scalar()
    click.echo(f"The cohort now has {total} valid certificate{'s' if total != 1 else ''}.")


@certificates.command("list")
@click.option("--cohort", "slug", required=True, help="The cohort's slug.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of certificates).")
@with_appcontext
def list_command(slug, as_json):
    """List a cohort's certificates: serial, code, holder name, award, credits, level, status, issued_at."""
    from lms.certificates import services

    try:
        rows = services.list_for_cohort(slug)
    except LookupError as error:
        _stop(str(error), INVALID)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No certificates in this cohort yet.")
    for row in rows:
        click.echo(f"{row['serial']}  {row['code']}  {row['status']:<8}  {row['award']:<10}  "
                   f"{row['credits']:>2} credits  Level {row['level']}  {row['holder_name']}")


@certificates.command("revoke")
@click.argument("code")
@click.option("--reason", required=True, help="Why it is revoked (kept in the register, told to the holder).")
@with_appcontext
def revoke_command(code, reason):
    """Revoke the certificate with this verification code (or serial number)."""
    from lms.certificates import services

    certificate = _find(code)
    if certificate is None:
        _stop(f"There is no certificate with the code or serial number {code!r}. Nothing was revoked.", INVALID)
    errors = services.revoke(None, certificate, reason)
    if errors:
        db.session.rollback()
        _stop(errors[0][1] + " Nothing was revoked.", REFUSED)
    db.session.commit()
    click.echo(f"Revoked {certificate.serial}. Its verification page and the status list now say so.")


@certificates.command("export-credential")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the credential's contents as JSON instead.")
@with_appcontext
def export_credential_command(code, as_json):
    """Print the signed Open Badges 3.0 credential (a VC-JOSE JWT) of a certificate."""
    from lms.certificates import services

    certificate = _find(code)
    if certificate is None:
        _stop(f"There is no certificate with the code or serial number {code!r}.", INVALID)
    token = services.signed_credential(certificate)
    db.session.commit()  # the signing key may have just been made
    click.echo(services.credential_json(token) if as_json else token)


@certificates.command("verify-credential")
@click.argument("file", type=click.File("r"))
@with_appcontext
def verify_credential_command(file):
    """Check a credential's signature, issuer key and revocation status against this LMS's own register."""
    from lms.certificates import services

    try:
        token = file.read()
    except (OSError, UnicodeDecodeError):
        _stop("The file could not be read as text. Use the .jwt file downloaded from the LMS.", INVALID)
    result = services.check_credential(token)
    if result.credential is None:
        _stop("Not valid: " + " ".join(result.problems), INVALID)
    for note in result.notes:
        click.echo(note)
    if result.valid:
        click.echo("Valid: the signature is this LMS's, the issuer key matches, and it has not been revoked.")
        return
    click.echo("Not valid:")
    for problem in result.problems:
        click.echo(f"  - {problem}")
    sys.exit(REFUSED)


COMMANDS = [certificates]
