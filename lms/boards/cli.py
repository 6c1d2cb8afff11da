"""``lms boards``: the daily digest (for cron) and rebuilding the search index."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.extensions import db


@click.group("boards")
def boards():
    """Message boards: digests and search."""


@boards.command("send-digests")
@with_appcontext
def send_digests_command():
    """Send each person who chose a daily digest one e-mail about new posts (run once a day from cron)."""
    from lms.boards.services import send_daily_digests

    sent = send_daily_digests()
    click.echo(f"Sent {sent} daily digest{'s' if sent != 1 else ''}.")


@boards.command("reindex")
@with_appcontext
def reindex_command():
    """Rebuild the full-text search index of board posts from the published posts."""
    from lms.boards.search import rebuild_index

    count = rebuild_index()
    db.session.commit()
    click.echo(f"Search index rebuilt: {count} published post{'s' if count != 1 else ''}.")


COMMANDS = [boards]
