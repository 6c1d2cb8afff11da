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


def test_the_garbage_collector_setting_defaults_to_fewer_runs_and_refuses_words(tmp_path):
    import gc

    from lms.app import tune_garbage_collector
    from lms.config import settings_from_env

    assert settings_from_env(tmp_path, env={})["LMS_GC_THRESHOLD"] == 50_000
    assert settings_from_env(tmp_path, env={"LMS_GC_THRESHOLD": "0"})["LMS_GC_THRESHOLD"] == 0
    for bad in ("often", "-1"):
        with pytest.raises(ValueError, match="LMS_GC_THRESHOLD"):
            settings_from_env(tmp_path, env={"LMS_GC_THRESHOLD": bad})
    before = gc.get_threshold()
    try:
        tune_garbage_collector(12_345)
        assert gc.get_threshold()[0] == 12_345
        tune_garbage_collector(0)  # 0 leaves the collector as it is
        assert gc.get_threshold()[0] == 12_345
    finally:
        gc.set_threshold(*before)


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
