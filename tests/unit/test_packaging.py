"""The wheel ships every package and the content folders (the flat layout needs them declared)."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_lms_package_is_declared():
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"lms"} | {
        "lms." + ".".join(path.parent.relative_to(ROOT / "lms").parts)
        for path in (ROOT / "lms").rglob("__init__.py") if path.parent != ROOT / "lms"
    }
    missing = found - declared
    assert not missing, f"Add these to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    for data in ("lms.templates", "lms.static", "lms.courses", "lms.assessments"):
        assert data in declared
