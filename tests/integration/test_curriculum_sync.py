"""`lms course validate|sync`: every problem reported, invalid content never replaces valid content,
syncing is idempotent and versioned, and units with progress are never silently deleted."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.cohorts.models import Cohort, Enrolment
from lms.content import load_course
from lms.curriculum import sync
from lms.curriculum.models import CourseUnit, CourseVersion, UnitProgress
from lms.extensions import db
from tests.conftest import sign_in
from tests.unit.test_content_validation import EXPECTED

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "courses" / "peer-support-l4"
BROKEN = ROOT / "tests" / "unit" / "data" / "broken_courses"


@cache
def real_course():
    course, problems = load_course(COURSE)
    assert not problems
    return course


def mini(case: str = "valid") -> Path:
    return BROKEN / case / "courses" / "mini-course"


def copy_of_course(tmp_path) -> Path:
    """A copy of the real course (with its assessments beside it) to change in a test."""
    target = tmp_path / "content"
    shutil.copytree(COURSE, target / "courses" / "peer-support-l4")
    shutil.copytree(ROOT / "assessments" / "peer-support-l4", target / "assessments" / "peer-support-l4")
    return target / "courses" / "peer-support-l4"


def snapshot():
    """Everything a sync may touch, to compare before and after."""
    versions = db.session.execute(select(CourseVersion.course_slug, CourseVersion.content_hash,
                                         CourseVersion.active).order_by(CourseVersion.id)).all()
    units = db.session.execute(select(CourseUnit.unit_key, CourseUnit.day_number, CourseUnit.position,
                                      CourseUnit.title, CourseUnit.archived_at).order_by(CourseUnit.id)).all()
    progress = db.session.execute(select(UnitProgress.enrolment_id, UnitProgress.unit_id)
                                  .order_by(UnitProgress.id)).all()
    return versions, units, progress


def remove_unit(course_folder: Path, day_file: str, unit_id: str) -> str:
    """Delete one unit (heading to the next heading) from a day file; returns its title."""
    path = course_folder / "days" / day_file
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("## ") and f"{{#{unit_id}}}" in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    title = lines[start][3:].split("{#")[0].strip()
    path.write_text("".join(lines[:start] + lines[end:]))
    return title


# ---------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """A command runner for `lms course validate`, which never opens the database."""
    from lms.app import create_app
    from tests.conftest import base_config

    instance = tmp_path_factory.mktemp("validate")
    return create_app(base_config(f"sqlite:///{instance / 'unused.sqlite3'}", instance)).test_cli_runner()


def test_validate_passes_the_real_course(cli):
    runner = cli
    result = runner.invoke(args=["course", "validate", "courses/peer-support-l4"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "courses/peer-support-l4: 11 days, 63 units — no problems found."


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_validate_lists_every_problem_of_a_broken_course(cli, case):
    result = cli.invoke(args=["course", "validate", str(mini(case))])
    assert result.exit_code == 1
    for file, line, words in EXPECTED[case]:
        assert any(output_line.startswith(f"{file}:{line}: ") and words in output_line
                   for output_line in result.output.splitlines()), (case, result.output)
    count = len(EXPECTED[case])
    assert f"{count} problem{'s' if count != 1 else ''} found." in result.output


def test_validate_explains_a_missing_folder(cli, tmp_path):
    result = cli.invoke(args=["course", "validate", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "there is no course folder here" in result.output


# ---------------------------------------------------------------------------
# sync
# ---------------------------------------------------------------------------

def test_sync_loads_the_course_and_a_second_sync_changes_nothing(runner, app):
    first = runner.invoke(args=["course", "sync", str(COURSE)])
    assert first.exit_code == 0, first.output
    assert "63 added" in first.output
    before = snapshot()
    assert len(before[0]) == 1 and before[0][0].active
    assert len(before[1]) == 63

    second = runner.invoke(args=["course", "sync", str(COURSE)])
    assert second.exit_code == 0, second.output
    assert "already up to date" in second.output
    assert snapshot() == before


def test_the_stored_course_reads_back_exactly(app):
    sync.sync_course(real_course())
    db.session.commit()
    sync._CACHE.clear()  # as a fresh process would: parse from the database
    assert sync.active_course("peer-support-l4") == real_course()


@pytest.mark.parametrize("case", ["many-problems", "empty-unit", "unclosed-facilitator"])
def test_sync_refuses_a_broken_course_and_leaves_the_database_unchanged(runner, app, case):
    good = runner.invoke(args=["course", "sync", str(mini("valid"))])
    assert good.exit_code == 0, good.output
    before = snapshot()

    result = runner.invoke(args=["course", "sync", str(mini(case))])

    assert result.exit_code == 1
    for file, line, words in EXPECTED[case]:
        assert f"{file}:{line}: " in result.output and words in result.output
    assert "Nothing was changed" in result.output
    assert snapshot() == before
    assert sync.active_course("mini-course") == load_course(mini("valid"))[0]


def test_pages_keep_working_after_a_refused_sync(app, runner, demo, client, tmp_path):
    sync.sync_course(real_course())
    db.session.commit()
    broken = copy_of_course(tmp_path)
    (broken / "days" / "04-active-listening.md").write_text("+++\nnumber = 4\ntitle = [\n+++\n")
    result = runner.invoke(args=["course", "sync", str(broken)])
    assert result.exit_code == 1 and "not valid TOML" in result.output
    sign_in(client, "trainee1@example.org")
    page = client.get("/cohorts/demo-running/course/days/4")
    assert page.status_code == 200 and "Active listening" in page.get_data(as_text=True)


def test_changed_content_is_a_new_version_and_old_content_can_come_back(app, tmp_path):
    folder = copy_of_course(tmp_path)
    first = sync.sync_course_folder(folder)
    db.session.commit()
    day = folder / "days" / "03-strengths-spotting.md"
    original = day.read_text()
    day.write_text(original.replace("Strengths spotting", "Spotting strengths", 1))

    changed = sync.sync_course_folder(folder)
    db.session.commit()
    assert first.new_version and changed.new_version
    versions = db.session.execute(select(CourseVersion).order_by(CourseVersion.id)).scalars().all()
    assert [v.active for v in versions] == [False, True]
    assert versions[0].content_hash != versions[1].content_hash
    assert sync.active_course("peer-support-l4").day(3).title == "Spotting strengths"

    day.write_text(original)
    back = sync.sync_course_folder(folder)
    db.session.commit()
    assert back.reactivated and not back.new_version
    assert db.session.execute(select(func.count(CourseVersion.id))).scalar_one() == 2
    assert sync.active_course("peer-support-l4").day(3).title == "Strengths spotting"


def give_progress(unit_key: str, count: int = 2) -> list[int]:
    unit = db.session.execute(select(CourseUnit).where(CourseUnit.unit_key == unit_key)).scalar_one()
    enrolments = db.session.execute(select(Enrolment).join(Cohort).where(Cohort.slug == "demo-running")
                                    .order_by(Enrolment.id).limit(count)).scalars().all()
    for enrolment in enrolments:
        db.session.add(UnitProgress(enrolment_id=enrolment.id, unit_id=unit.id))
    db.session.commit()
    return [enrolment.id for enrolment in enrolments]


def test_removing_a_unit_with_progress_needs_archive_and_keeps_the_progress(app, runner, demo, tmp_path):
    folder = copy_of_course(tmp_path)
    assert runner.invoke(args=["course", "sync", str(folder)]).exit_code == 0
    enrolment_ids = give_progress("empathy-and-non-directive-support")
    title = remove_unit(folder, "04-active-listening.md", "empathy-and-non-directive-support")
    before = snapshot()

    refused = runner.invoke(args=["course", "sync", str(folder)])

    assert refused.exit_code == 1
    assert "'empathy-and-non-directive-support'" in refused.output and title in refused.output
    assert "2 trainees have marked it done" in refused.output and "--archive" in refused.output
    assert snapshot() == before
    assert sync.active_course("peer-support-l4").day(4).unit("empathy-and-non-directive-support") is not None

    archived = runner.invoke(args=["course", "sync", str(folder), "--archive"])

    assert archived.exit_code == 0, archived.output
    assert "1 archived" in archived.output
    unit = db.session.execute(select(CourseUnit).where(
        CourseUnit.unit_key == "empathy-and-non-directive-support")).scalar_one()
    assert unit.archived_at is not None
    kept = db.session.execute(select(UnitProgress.enrolment_id).where(UnitProgress.unit_id == unit.id)).scalars()
    assert sorted(kept) == enrolment_ids
    assert sync.active_course("peer-support-l4").day(4).unit("empathy-and-non-directive-support") is None
    from lms.curriculum.services import units_done
    assert "empathy-and-non-directive-support" not in units_done(enrolment_ids)[enrolment_ids[0]]


def test_removing_a_unit_nobody_marked_needs_no_archive(app, runner, demo, tmp_path):
    folder = copy_of_course(tmp_path)
    assert runner.invoke(args=["course", "sync", str(folder)]).exit_code == 0
    remove_unit(folder, "04-active-listening.md", "empathy-and-non-directive-support")
    result = runner.invoke(args=["course", "sync", str(folder)])
    assert result.exit_code == 0, result.output
    assert "1 removed" in result.output, result.output
    assert db.session.execute(select(CourseUnit).where(
        CourseUnit.unit_key == "empathy-and-non-directive-support")).scalar_one_or_none() is None


def test_an_archived_unit_that_comes_back_is_restored_with_its_progress(app, demo, tmp_path):
    folder = copy_of_course(tmp_path)
    sync.sync_course_folder(folder)
    db.session.commit()
    enrolment_ids = give_progress("empathy-and-non-directive-support", 1)
    day = folder / "days" / "04-active-listening.md"
    original = day.read_text()
    remove_unit(folder, "04-active-listening.md", "empathy-and-non-directive-support")
    assert sync.sync_course_folder(folder, archive=True).archived == ["empathy-and-non-directive-support"]
    db.session.commit()
    day.write_text(original)
    restored = sync.sync_course_folder(folder)
    db.session.commit()
    assert restored.restored == ["empathy-and-non-directive-support"]
    from lms.curriculum.services import units_done
    assert "empathy-and-non-directive-support" in units_done(enrolment_ids)[enrolment_ids[0]]


def test_sync_all_courses_reports_an_invalid_course_and_goes_on(app, tmp_path):
    courses = tmp_path / "all" / "courses"
    shutil.copytree(mini("valid").parent.parent, tmp_path / "all", dirs_exist_ok=True)
    shutil.copytree(mini("many-problems"), courses / "broken-course")
    app.config["LMS_COURSES_DIR"] = str(courses)
    lines: list[str] = []
    from lms.curriculum.cli import sync_all_courses

    results = sync_all_courses(echo=lines.append)

    assert [result.ok for result in results] == [False, True]
    assert any("unknown core area 'listening-skills'" in line for line in lines)
    assert sync.active_course("mini-course") is not None


def test_the_demo_loads_the_course_and_progress_once(app, demo, today):
    from lms.curriculum import demo as curriculum_demo

    first = curriculum_demo.seed(today)
    db.session.commit()
    second = curriculum_demo.seed(today)
    db.session.commit()
    assert first["course versions"] == 1 and first["units marked done"] > 0
    assert second == {"course versions": 0, "units marked done": 0}
    finished = db.session.execute(select(func.count(UnitProgress.id)).join(Enrolment).join(Cohort)
                                  .where(Cohort.slug == "demo-finished")).scalar_one()
    assert finished == 8 * 63
