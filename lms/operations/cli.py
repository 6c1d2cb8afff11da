"""`lms check-deploy`, `lms backup create|restore` and `lms worker`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.operations import backup as backups
from lms.operations import deploy


@click.command("check-deploy")
@click.option("--workers", type=int, default=None,
              help="How many app workers you will run (default: WEB_CONCURRENCY or 1).")
@with_appcontext
def check_deploy(workers):
    """Report misconfiguration in plain language; exit 1 when anything is unsafe."""
    findings = deploy.check(current_app, deploy.planned_workers(workers))
    for finding in findings:
        label = "UNSAFE " if finding.level == deploy.UNSAFE else "Warning"
        click.secho(f"{label}  {finding.message}", fg="red" if finding.level == deploy.UNSAFE else "yellow")
    unsafe = [f for f in findings if f.level == deploy.UNSAFE]
    if unsafe:
        click.echo(f"\n{len(unsafe)} unsafe setting(s): fix them before real people use this deployment.")
        sys.exit(1)
    click.echo("No unsafe settings found." + (" Read the warnings above." if findings else ""))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop (for tests and cron).")
@with_appcontext
def worker(burst):
    """Run background jobs (e-mail, certificate batches) from the Redis queue.

    One process runs the jobs one after another with the app already built,
    so a job starts in milliseconds; run several for more throughput, under a
    process supervisor that restarts them.
    """
    from lms import jobs

    redis_url = current_app.config.get("LMS_REDIS_URL")
    if not redis_url:
        click.echo("LMS_REDIS_URL is not set, so there is no queue: jobs run inside the request that asks for "
                   "them, and no worker is needed.")
        sys.exit(1)
    jobs.work(redis_url, current_app.config.get("LMS_QUEUE_NAME", jobs.QUEUE_NAME), burst=burst)
    if burst:
        click.echo("The queue is empty: every waiting job has run.")


@click.group()
def backup():
    """Back up and restore the database, uploads and certificates."""


@backup.command("create")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def create_command(folder):
    """Write a backup into FOLDER (new or empty)."""
    try:
        manifest = backups.create(folder)
    except backups.BackupError as error:
        click.secho(str(error), fg="red", err=True)
        sys.exit(1)
    rows = sum(table["rows"] for table in manifest["tables"].values())
    click.echo(f"Backed up {rows} rows in {len(manifest['tables'])} tables and {len(manifest['files'])} files "
               f"to {folder}.")
    click.secho("Keys are not in the backup. Keep LMS_SECRET_KEY and LMS_DATA_KEY (instance/secret_key, "
                "instance/data_key) backed up separately: without the data key, diaries and wellness plans "
                "cannot be read.", fg="yellow")


@backup.command("restore")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@with_appcontext
def restore_command(folder):
    """Restore the backup in FOLDER into this deployment's empty database."""
    try:
        manifest = backups.restore(folder)
    except backups.BackupError as error:
        click.secho(str(error), fg="red", err=True)
        sys.exit(1)
    click.echo(f"Restored the backup from {manifest['created_at']} (schema {manifest['schema_revision']}); "
               "every table matches its checksum.")


COMMANDS = [check_deploy, backup, worker]
