"""`lms coursework setup|export`: set up a cohort's assignments, and export marks for the exam board."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.cohorts.models import Cohort
from lms.coursework import marking, services
from lms.coursework.models import Assignment
from lms.extensions import db


@click.group("coursework")
def coursework():
    """Assignments, submissions and marks."""


def _cohort(slug: str) -> Cohort:
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one_or_none()
    if cohort is None:
        click.secho(f"There is no cohort with the slug {slug!r}. Nothing was done.", fg="red", err=True)
        raise SystemExit(1)
    return cohort


@coursework.command("setup")
@click.option("--cohort", "slug", required=True, help="The cohort's slug, for example demo-running.")
@with_appcontext
def setup(slug):
    """Set up the cohort's assignments from its course's assessments (due dates from their rules)."""
    cohort = _cohort(slug)
    services.ensure_assignments({cohort.id})
    db.session.commit()
    for assignment in db.session.execute(select(Assignment).where(Assignment.cohort_id == cohort.id)
                                         .order_by(Assignment.id)).scalars():
        click.echo(f"{assignment.assessment_slug}: due {services.short_time(assignment.due_at)}, "
                   f"closes {services.short_time(assignment.cut_off_at)}")


@coursework.command("export")
@click.option("--cohort", "slug", required=True, help="The cohort's slug, for example demo-finished.")
@click.option("--assessment", default="accredited-assignment", show_default=True, help="The assessment's slug.")
@click.option("--output", type=click.File("w"), default="-", help="Write the CSV here (default: standard output).")
@with_appcontext
def export(slug, assessment, output):
    """Print an assignment's marks as CSV for the exam board (raw and recorded marks, markers, flags)."""
    cohort = _cohort(slug)
    assignment = db.session.execute(select(Assignment).where(
        Assignment.cohort_id == cohort.id, Assignment.assessment_slug == assessment)).scalar_one_or_none()
    if assignment is None:
        click.secho(f"{slug} has no assignment {assessment!r}. Try `lms coursework setup --cohort {slug}`.",
                    fg="red", err=True)
        raise SystemExit(1)
    output.write(marking.marks_csv(assignment))


COMMANDS = [coursework]
