"""Find what each domain package contributes, so domains plug in without editing a registry.

A domain is a subpackage of ``lms`` (accounts, cohorts, diary, ...). By
convention it may hold:

- ``models.py``: tables (imported so SQLAlchemy and Alembic see them);
- ``views.py``: a blueprint ``bp``, and optionally ``NAVIGATION``, a list of
  ``(order, label, endpoint, roles or None)`` for the main navigation;
- ``policies.py``: ``ENDPOINT_ACCESS``, its part of the access matrix;
- ``cli.py``: ``COMMANDS``, click commands for the ``lms`` command;
- ``demo.py``: ``seed(today)`` and ``DEMO_ORDER`` (lower runs first);
- ``checks.py``: ``run(app)``, start-up checks that refuse to start a misconfigured app.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path
from types import ModuleType

PACKAGE_DIR = Path(__file__).resolve().parent
NOT_DOMAINS = {"migrations", "templates", "static", "courses", "assessments"}


@cache
def domain_names() -> tuple[str, ...]:
    return tuple(sorted(
        info.name for info in pkgutil.iter_modules([str(PACKAGE_DIR)])
        if info.ispkg and info.name not in NOT_DOMAINS
    ))


def modules(kind: str) -> list[ModuleType]:
    """Import ``lms.<domain>.<kind>`` for every domain that has one."""
    found = []
    for name in domain_names():
        if (PACKAGE_DIR / name / f"{kind}.py").exists():
            found.append(importlib.import_module(f"lms.{name}.{kind}"))
    return found
