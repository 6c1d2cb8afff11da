"""``lms users import FILE.csv --cohort SLUG [--dry-run]``: bulk import of people into a cohort.

The command joins the existing ``lms users`` group (lms/cli.py) rather than
adding a top-level command, so ``COMMANDS`` is empty.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.cli import fail, users
from lms.extensions import db

MAX_FILE_BYTES = 25 * 1024 * 1024


@users.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--cohort", "cohort_slug", required=True, help="The short name (slug) of the cohort to import into.")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would happen; import nothing.")
@click.option("--no-invite", is_flag=True, help="Do not send new people an invitation e-mail.")
@with_appcontext
def import_command(file: Path, cohort_slug: str, dry_run: bool, no_invite: bool):
    """Import people into a cohort from a CSV file.

    Columns: email,name,role,organisation,academic_supervisor_email,personal_supervisor_email.
    The whole file is checked first; nothing is imported unless every row is right.
    """
    from lms.cohorts.bulk_import import import_people
    from lms.cohorts.models import Cohort

    if not file.is_file():
        fail(f"There is no file at {file}. Check the path and try again.")
    if file.stat().st_size > MAX_FILE_BYTES:
        fail(f"{file} is larger than 25 MB. Split it into smaller files.")
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == cohort_slug)).scalar_one_or_none()
    if cohort is None:
        fail(f"There is no cohort with the short name {cohort_slug!r}. `lms` lists cohorts on the Cohorts admin page.")
    report = import_people(None, cohort, file.read_bytes(), dry_run=dry_run, invite=not no_invite)
    if not report.ok:
        db.session.rollback()
        for line in report.lines():
            click.echo(line, err=True)
        raise SystemExit(1)
    for line in report.lines():
        click.echo(line)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()


COMMANDS: list = []
