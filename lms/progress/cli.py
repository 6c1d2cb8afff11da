"""``lms rules check`` and ``lms rules validate``: the credit-level rules from the command line.

Both exit 2 for unreadable or invalid input, listing every problem, and never
print a stack trace.
"""

from __future__ import annotations

import json
import sys

import click

from lms.progress.rules import evaluate, outcome_to_dict
from lms.progress.rules_file import load_facts_path, load_rules_path

INVALID = 2


def _report(problems) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    count = len(problems)
    click.echo(f"{count} problem{'s' if count != 1 else ''} found. Nothing was evaluated.", err=True)
    sys.exit(INVALID)


@click.group()
def rules():
    """Check and use the credit-level rules (rules.toml)."""


@rules.command("validate")
@click.argument("rules_file", type=click.Path(dir_okay=False))
def validate_command(rules_file):
    """List every problem in RULES_FILE with its line; exit 0 only when it is clean."""
    loaded, problems = load_rules_path(rules_file)
    if problems:
        _report(problems)
    click.echo(f"{rules_file}: no problems found (level {loaded.level}, {loaded.credits} credits, "
               f"pass mark {loaded.pass_mark}).")


@rules.command("check")
@click.option("--rules", "rules_file", required=True, type=click.Path(dir_okay=False), help="The rules.toml to apply.")
@click.option("--facts", "facts_file", required=True, type=click.Path(dir_okay=False), help="A trainee's facts as JSON.")
def check_command(rules_file, facts_file):
    """Evaluate FACTS against RULES and print the outcome as JSON."""
    loaded, problems = load_rules_path(rules_file)
    facts, fact_problems = load_facts_path(facts_file)
    if problems or fact_problems:
        _report(problems + fact_problems)
    click.echo(json.dumps(outcome_to_dict(evaluate(loaded, facts)), indent=2))


COMMANDS = [rules]
