"""``lms retention apply [--dry-run]``: delete personal data past the retention settings."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.extensions import db


@click.group("retention")
def retention():
    """Keep personal data no longer than the retention settings say."""


@retention.command("apply")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@with_appcontext
def apply_command(dry_run: bool):
    """Delete personal data older than each kind's retention setting (run it daily)."""
    from flask import current_app

    from lms.accounts.sessions import purge_expired
    from lms.cli import today
    from lms.privacy.services import apply_retention

    results = apply_retention(today(), apply=not dry_run)
    verb = "would be deleted" if dry_run else "deleted"
    if not results:
        click.echo("No retention limits are set: nothing to do.")
    for row, count in results:
        click.echo(f"{row.rule.label} (kept {row.months} months): {count} {verb}.")
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
        # Sign-in sessions past their timeouts no longer work; their rows are only clutter.
        click.echo(f"Ended sign-in sessions removed: {purge_expired(current_app)}.")


COMMANDS = [retention]
