"""`lms mail retry` (send the e-mails that have not gone yet) and `lms mail digest` (the daily summary)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from lms.notify import services


@click.group("mail")
def mail():
    """The outbox of e-mails."""


@mail.command("retry")
@click.option("--older-than", "minutes", type=click.IntRange(min=0), default=10, show_default=True,
              help="Only e-mails waiting at least this many minutes (newer ones may still be on their way).")
@with_appcontext
def retry(minutes):
    """Send again every e-mail whose delivery failed or never started (for example after SMTP was away,
    or a worker was stopped). Schedule it every few minutes with cron."""
    sent, failing, given_up = services.retry_unsent(timedelta(minutes=minutes))
    click.echo(f"{sent} e-mail(s) sent, {failing} still failing (tried again next time), "
               f"{given_up} waiting over {services.RETRY_FOR.days} days and no longer tried.")
    if failing:
        raise SystemExit(1)


@mail.command("digest")
@with_appcontext
def digest():
    """Send each person who chose a daily e-mail one summary of their notifications (once a day from cron)."""
    sent = services.send_notification_digests()
    click.echo(f"Sent {sent} daily summar{'ies' if sent != 1 else 'y'}.")


COMMANDS = [mail]
