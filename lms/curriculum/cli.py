"""``lms course validate|sync PATH``: check course content, and load it into the database."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from lms.content import load_course
from lms.curriculum.sync import SyncResult, course_folders, sync_course_folder
from lms.extensions import db


def shown(path) -> str:
    """The path as the person typed it, without a trailing slash."""
    return str(path).rstrip("/\\") or str(path)


@click.group(cls=AppGroup)
def course():
    """Check course content and load it into the database."""


@course.command("validate")
@click.argument("path")
def validate_command(path):
    """Check the course folder PATH and list every problem with its file and line."""
    loaded, problems = load_course(path)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        count = len(problems)
        click.secho(f"{shown(path)}: {count} problem{'s' if count != 1 else ''} found.", fg="red", err=True)
        sys.exit(1)
    click.echo(f"{shown(path)}: {len(loaded.days)} days, {len(loaded.units)} units — no problems found.")


@course.command("sync")
@click.argument("path")
@click.option("--archive", is_flag=True,
              help="Archive units this version no longer has, keeping trainees' progress on them.")
def sync_command(path, archive):
    """Load the course folder PATH into the database (only when it is valid; safe to repeat)."""
    from lms.cli import explain_database_problem, fail

    try:
        result = sync_course_folder(path, archive=archive)
        report(result)
        if not result.ok:
            db.session.rollback()
            sys.exit(1)
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        fail(explain_database_problem(error))


def report(result: SyncResult, echo=click.echo) -> None:
    """Print a sync's problems or refusals, then its one-line summary."""
    result.path = shown(result.path)
    for problem in result.problems:
        echo(str(problem))
    for refusal in result.refusals:
        echo(refusal)
    if result.ok:
        echo(result.summary())
    else:
        click.secho(result.summary(), fg="red", err=True)


def sync_all_courses(echo=click.echo) -> list[SyncResult]:
    """Sync every course folder under ``LMS_COURSES_DIR`` (what quickstart does).

    Each course is committed on its own; an invalid course is reported and
    skipped, and the version already in the database keeps working.
    """
    results = []
    for folder in course_folders(current_app.config["LMS_COURSES_DIR"]):
        result = sync_course_folder(folder)
        report(result, echo)
        if result.ok:
            db.session.commit()
        else:
            db.session.rollback()
        results.append(result)
    return results


COMMANDS = [course]
