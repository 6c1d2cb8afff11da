"""`lms attendance export --cohort SLUG`: a cohort's attendance grid as CSV on standard output."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.attendance import services


@click.group("attendance")
def attendance():
    """Registers and attendance figures."""


@attendance.command("export")
@click.option("--cohort", "slug", required=True, help="The cohort's slug, for example demo-running.")
@with_appcontext
def export(slug):
    """Print a cohort's attendance as CSV: one row per trainee, one column per course day, then the figures."""
    cohort = services.cohort_by_slug(slug)
    if cohort is None:
        click.secho(f"There is no cohort with the slug {slug!r}. Nothing was exported.", fg="red", err=True)
        raise SystemExit(1)
    grid = services.build_grid(cohort)
    if grid.rules_problem:
        click.secho(f"Warning: {grid.rules_problem}", fg="yellow", err=True)
    click.echo(services.grid_csv(grid), nl=False)


COMMANDS = [attendance]
