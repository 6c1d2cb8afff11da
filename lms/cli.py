"""The ``lms`` command: quickstart, demo, db, users (and more as features land)."""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from lms.extensions import db


def _create_app():
    from lms.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main():
    """Peer support worker training LMS."""


def fail(message: str, code: int = 1):
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def upgrade_database() -> None:
    """Create or upgrade the database schema to the latest migration."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)


def explain_database_problem(error: Exception) -> str:
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        where = Path(url.database or "")
        return (f"The LMS could not open its database file at {where}.\n"
                f"Check that the folder {where.parent} exists and that you can write to it, "
                f"or set LMS_DATABASE_URL to another location.\n(Details: {type(error).__name__}: {error.args[0] if error.args else ''})")
    return (f"The LMS could not reach its database at {url.render_as_string(hide_password=True)}.\n"
            "Check that PostgreSQL is running and that LMS_DATABASE_URL is right "
            "(user, password, host, port and database name).\n"
            f"(Details: {type(error).__name__})")


def today():
    return datetime.now(ZoneInfo(current_app.config["LMS_TIMEZONE"])).date()


def seed_demo() -> dict:
    """Seed the base demo, then each domain's part of it, in order."""
    from lms import demo
    from lms.domains import modules

    added = demo.seed(today())
    for part in sorted(modules("demo"), key=lambda module: module.DEMO_ORDER):
        added.update(part.seed(today()) or {})
    db.session.commit()
    return added


def prepare(with_demo: bool) -> None:
    """Upgrade the schema, load content and (optionally) the demo; exit clearly on failure."""
    try:
        Path(current_app.instance_path).mkdir(parents=True, exist_ok=True)
        upgrade_database()
        from lms.curriculum.cli import sync_all_courses
        sync_all_courses()  # an invalid course is reported and skipped
        if with_demo:
            seed_demo()
    except SQLAlchemyError as error:
        db.session.rollback()
        fail(explain_database_problem(error))
    except PermissionError as error:
        fail(f"The LMS cannot write to {error.filename}. Check the folder's permissions, "
             "or set LMS_DATABASE_URL to a writable location.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-demo", is_flag=True, help="Do not seed the demo people and cohorts.")
@click.option("--no-serve", is_flag=True, hidden=True, help="Prepare everything, then stop (for scripts).")
@with_appcontext
def quickstart(host, port, no_demo, no_serve):
    """Create or upgrade the database, load the course and demo, and serve the LMS."""
    from lms import demo

    prepare(with_demo=not no_demo)
    url = f"http://{host}:{port}"
    click.echo("")
    click.secho("The LMS is ready.", fg="green", bold=True)
    click.echo(f"Database: {db.engine.url.render_as_string(hide_password=True)}")
    if not no_demo:
        click.echo(f"\nDemo sign-ins (password for all: {demo.DEMO_PASSWORD}):")
        for email, what in demo.sign_ins():
            click.echo(f"  {email:<48} {what}")
    click.echo(f"\nOpen {url} in your browser. Press Ctrl+C to stop.\n")
    if no_serve:
        return
    # Flask.run() does nothing under a Flask CLI command (FLASK_RUN_FROM_CLI), so serve directly.
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), use_reloader=False, threaded=True)


@click.command("demo")
@with_appcontext
def demo_command():
    """Seed the demo people and cohorts (idempotent)."""
    try:
        added = seed_demo()
    except SQLAlchemyError as error:
        db.session.rollback()
        fail(explain_database_problem(error))
    click.echo("Demo ready. Added: " + ", ".join(f"{count} {what}" for what, count in added.items()))


@click.group()
def users():
    """Manage people."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True, help="Display name, as the person likes to be called.")
@click.option("--role", required=True, type=click.Choice(["admin", "tutor", "academic_supervisor",
                                                          "personal_supervisor", "external_examiner", "trainee"]))
@click.option("--cohort", help="Cohort slug (every role but admin is held in a cohort).")
@click.option("--password-file", type=click.File("r"), help="Read the password from this file.")
@with_appcontext
def create_user_command(email, name, role, cohort, password_file):
    """Create a person with a role (asks for the password without echo)."""
    from sqlalchemy import select

    from lms.accounts import passwords, services
    from lms.cohorts.models import Cohort

    if services.find_by_email(email):
        fail(f"There is already an account for {services.normalise_email(email)}.")
    cohort_id = None
    if role != "admin":
        if not cohort:
            fail(f"The {role.replace('_', ' ')} role is held in a cohort: add --cohort SLUG.")
        found = db.session.execute(select(Cohort).where(Cohort.slug == cohort)).scalar_one_or_none()
        if found is None:
            fail(f"There is no cohort with the slug {cohort!r}.")
        cohort_id = found.id
    if password_file:
        password = password_file.read().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            fail("The two passwords were different. Nothing was created.")
    problem = passwords.password_problem(password)
    if problem:
        fail(problem + " Nothing was created.")
    user = services.create_user(email, name, password)
    services.grant_role(user, role, cohort_id)
    db.session.commit()
    click.echo(f"Created {user.email} ({role}).")


# create_app() attaches these, and each domain's cli.COMMANDS, to app.cli.
COMMANDS = [quickstart, demo_command, users]


if __name__ == "__main__":
    main()
