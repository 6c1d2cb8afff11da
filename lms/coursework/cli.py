"""`lms coursework setup|export|sweep-uploads`: set up a cohort's assignments, export marks for the exam
board, and tidy the upload store after workers that died mid-request."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.cohorts.models import Cohort
from lms.coursework import marking, services, uploads
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


@coursework.command("sweep-uploads")
@click.option("--older-than-hours", type=float, default=24, show_default=True,
              help="Only look at files at least this old (a request still running is never touched).")
@click.option("--dry-run", is_flag=True, help="Say what would change, and change nothing.")
@click.option("--remove-unreferenced", is_flag=True,
              help="Also remove kept files that no record names (only once you are sure this is the right "
                   "database for this upload folder).")
@with_appcontext
def sweep_uploads(older_than_hours, dry_run, remove_unreferenced):
    """Finish or clear away uploads left by a worker that stopped mid-request (run it daily)."""
    if older_than_hours < 0:
        click.secho("--older-than-hours cannot be negative. Nothing was done.", fg="red", err=True)
        raise SystemExit(1)
    report = uploads.sweep(older_than_hours, apply=not dry_run, remove_unreferenced=remove_unreferenced)
    would = "would be " if dry_run else ""
    click.echo(f"{len(report.renamed)} saved file(s) {would}given their final name; "
               f"{len(report.removed)} unfinished upload(s) {would}removed.")
    if report.unreferenced:
        if report.unreferenced_removed:
            click.echo(f"{len(report.unreferenced)} file(s) that no record names were removed.")
        else:
            click.secho(f"{len(report.unreferenced)} file(s) that no record names were left in place "
                        "(add --remove-unreferenced to remove them).", fg="yellow")


COMMANDS = [coursework]
