"""The wheel ships every package and the content folders (the flat layout needs them declared)."""

import tomllib
from pathlib import Path

import pytest

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


def test_the_upload_limit_setting_sizes_the_request_limit_and_refuses_words(tmp_path):
    from lms.config import settings_from_env

    default = settings_from_env(tmp_path, env={})
    assert default["LMS_MAX_UPLOAD_MB"] == 20
    assert default["MAX_CONTENT_LENGTH"] == 25 * 1024 * 1024

    bigger = settings_from_env(tmp_path, env={"LMS_MAX_UPLOAD_MB": "50"})
    assert bigger["MAX_CONTENT_LENGTH"] == 55 * 1024 * 1024, "a 50 MB file must not be cut off at 25 MB"

    for bad in ("twenty", "0", "-3"):
        with pytest.raises(ValueError, match="LMS_MAX_UPLOAD_MB"):
            settings_from_env(tmp_path, env={"LMS_MAX_UPLOAD_MB": bad})
