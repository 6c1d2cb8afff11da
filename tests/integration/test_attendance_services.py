"""Attendance services against the database: the rules file, day titles, a save racing another, alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts.models import User
from lms.attendance import services
from lms.attendance.models import AttendanceAlert, Register, RegisterMark
from lms.attendance.rules import AttendanceRules
from lms.cohorts.models import Cohort, Enrolment
from lms.extensions import db
from lms.notify.models import Notification, OutboxEmail


def person(name: str) -> User:
    return db.session.execute(select(User).where(User.email == f"{name}@example.org")).scalar_one()


def running() -> Cohort:
    return db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()


def everyone(status="present", overrides=None):
    """Everyone in demo-running with ``status``, except those in ``overrides`` {trainee id: entered values}."""
    entered = {e.trainee_id: {"status": status} for e in db.session.execute(
        select(Enrolment).where(Enrolment.cohort_id == running().id)).scalars()}
    return entered | (overrides or {})


def taken_at(day):
    return services.day_start(day) + timedelta(hours=2)


# --- the rules file ------------------------------------------------------------------


def test_the_rules_come_from_the_courses_rules_file(app):
    assert services.rules_for("peer-support-l4") == AttendanceRules(
        planned_days=11, required_days=9, max_catch_up_days=2, absent_if_minutes_missed_over=60)


def course_rules_text(**changes) -> str:
    """The peer support course's rules.toml with some top-level or [attendance] settings changed."""
    import re
    from pathlib import Path

    text = (Path(__file__).parents[2] / "assessments" / "peer-support-l4" / "rules.toml").read_text(encoding="utf-8")
    for key, value in changes.items():
        text, found = re.subn(rf"^{key} = \S+", f"{key} = {value}", text, count=1, flags=re.MULTILINE)
        assert found, key
    return text


def rules_folder(app, tmp_path, text: str | None) -> None:
    folder = tmp_path / "assessments" / "a-course"
    folder.mkdir(parents=True)
    if text is not None:
        (folder / "rules.toml").write_text(text, encoding="utf-8")
    app.config["LMS_ASSESSMENTS_DIR"] = str(tmp_path / "assessments")


def test_the_rules_are_the_ones_the_progress_engine_loaded(app, tmp_path):
    from lms.progress.services import rules_for as progress_rules

    rules_folder(app, tmp_path, course_rules_text(days=10, required_days=8, max_catch_up_days=1,
                                                  absent_if_minutes_missed_over=30))
    assert services.course_rules("a-course") == (AttendanceRules(10, 8, 1, 30), None)
    loaded = progress_rules("a-course")
    assert (loaded.days, loaded.attendance.required_days, loaded.attendance.max_catch_up_days,
            loaded.attendance.absent_if_minutes_missed_over) == (10, 8, 1, 30)


# These used to be read "with safe fallbacks": silently the defaults, or values
# from a file the progress engine refuses (so the register and the certificate
# could disagree). Now a file the progress engine can't use gives the defaults,
# with the problem said plainly.
@pytest.mark.parametrize("text", [
    "days = 10\n[attendance]\nrequired_days = 8\n",  # valid TOML, but not a rules file the engine accepts
    "this is not = = toml",
    "days = 'eleven'\n[attendance]\nrequired_days = -1\nmax_catch_up_days = true\n",
    "attendance = 3\n",
    None,  # no rules file at all
])
def test_a_rules_file_the_progress_engine_cant_use_gives_the_defaults_and_says_so(app, tmp_path, caplog, text):
    rules_folder(app, tmp_path, text)
    rules, problem = services.course_rules("a-course")
    assert rules == AttendanceRules() == services.rules_for("a-course")
    assert "assessments/a-course/rules.toml" in problem and "lms rules validate" in problem
    assert "fall back to the defaults" in caplog.text


def test_with_broken_rules_staff_see_the_problem_and_no_alert_is_sent(demo, login_as, tmp_path):
    from flask import current_app

    tutor = person("tutor1")
    cohort = running()
    struggling = person("trainee4")
    for day in cohort.days[:5]:
        services.save_register(tutor, cohort, day, everyone(overrides={struggling.id: {"status": "absent"}}), 0, "",
                               taken_at(day))
    db.session.commit()
    assert db.session.execute(select(func.count(AttendanceAlert.enrolment_id))).scalar_one() == 1
    # The rules file breaks: a save while it is broken neither clears nor sends alerts.
    folder = tmp_path / "broken" / cohort.course_slug
    folder.mkdir(parents=True)
    (folder / "rules.toml").write_text("this is not = = toml", encoding="utf-8")
    current_app.config["LMS_ASSESSMENTS_DIR"] = str(tmp_path / "broken")
    services.save_register(tutor, cohort, cohort.days[5], everyone(overrides={person("trainee5").id: {
        "status": "absent"}}), 0, "", taken_at(cohort.days[5]))
    assert db.session.execute(select(func.count(AttendanceAlert.enrolment_id))).scalar_one() == 1
    db.session.commit()
    client = login_as("tutor")
    for path in (f"/attendance/cohorts/{cohort.slug}", f"/attendance/cohorts/{cohort.slug}/trainees/{struggling.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "The attendance rules could not be read." in page and "lms rules validate" in page


def test_the_export_warns_when_the_rules_file_is_broken(demo, runner, tmp_path):
    from flask import current_app

    result = runner.invoke(args=["attendance", "export", "--cohort", "demo-running"])
    assert result.exit_code == 0 and "Warning" not in result.stderr
    folder = tmp_path / "broken" / "peer-support-l4"
    folder.mkdir(parents=True)
    (folder / "rules.toml").write_text("days = 'eleven'", encoding="utf-8")
    current_app.config["LMS_ASSESSMENTS_DIR"] = str(tmp_path / "broken")
    result = runner.invoke(args=["attendance", "export", "--cohort", "demo-running"])
    assert result.exit_code == 0
    assert "Warning: The course's rules file (assessments/peer-support-l4/rules.toml) can't be used" in result.stderr
    assert result.stdout.startswith("email,name,day 1")


def test_day_titles_come_from_the_course_files(app):
    titles = services.day_titles("peer-support-l4")
    assert len(titles) == 11
    assert titles[3] == "Strengths spotting"
    assert services.day_titles("no-such-course") == {}


# --- saving the register -------------------------------------------------------------


def test_a_save_racing_another_is_refused_and_loses_nothing(demo, monkeypatch):
    tutor = person("tutor1")
    cohort = running()
    day = cohort.days[1]
    services.save_register(tutor, cohort, day, everyone(), 0, "", taken_at(day))
    db.session.commit()
    trainee = person("trainee1")
    # Another tutor's save lands between this save reading the register and writing it.
    original = services.register_page

    def read_then_overtaken(*args, **kwargs):
        page = original(*args, **kwargs)
        db.session.execute(Register.__table__.update().values(version=Register.version + 1))
        return page

    monkeypatch.setattr(services, "register_page", read_then_overtaken)
    with pytest.raises(services.RegisterConflict):
        services.save_register(tutor, cohort, day, {trainee.id: {"status": "absent"}}, 1, "Not in the room",
                               taken_at(day))
    db.session.rollback()
    mark = db.session.execute(select(RegisterMark).where(
        RegisterMark.trainee_id == trainee.id, RegisterMark.course_day_id == day.id)).scalar_one()
    assert mark.status == "present"


def test_a_stale_copy_in_memory_is_caught_by_the_database(demo, monkeypatch):
    tutor = person("tutor1")
    cohort = running()
    day = cohort.days[1]
    services.save_register(tutor, cohort, day, everyone(), 0, "", taken_at(day))
    db.session.commit()
    original = services.register_page

    def stale(*args, **kwargs):
        page = original(*args, **kwargs)
        # As if this worker still held version 1 after someone else saved version 2.
        db.session.execute(Register.__table__.update().values(version=2))
        set_committed_value(page.register, "version", 1)
        return page

    monkeypatch.setattr(services, "register_page", stale)
    with pytest.raises(services.RegisterConflict):
        services.save_register(tutor, cohort, day, {person("trainee1").id: {"status": "absent"}}, 1, "Reason",
                               taken_at(day))


def test_the_service_refuses_what_the_form_could_not_send(demo):
    tutor = person("tutor1")
    cohort = running()
    day = cohort.days[1]
    with pytest.raises(services.RegisterRefused) as refused:
        services.save_register(tutor, cohort, day, {person("trainee1").id: {"status": "late", "minutes": "-1"}},
                               0, "", taken_at(day))
    assert refused.value.errors[0][0] == f"minutes-{person('trainee1').id}"
    with pytest.raises(services.RegisterRefused):
        services.save_register(tutor, cohort, day, everyone(), None, "", taken_at(day))
    assert db.session.execute(select(func.count(RegisterMark.id))).scalar_one() == 0


def test_only_the_cohorts_tutors_and_admins_take_its_register(demo):
    from werkzeug.exceptions import NotFound

    cohort = running()
    day = cohort.days[1]
    for name in ("academic1", "supervisor1", "trainee1"):
        with pytest.raises(NotFound):
            services.save_register(person(name), cohort, day, everyone(), 0, "", taken_at(day))
    services.save_register(person("admin"), cohort, day, everyone(), 0, "", taken_at(day))


# --- alerts ----------------------------------------------------------------------------


def test_alerts_are_only_for_active_trainees_and_say_nothing_private(demo):
    tutor = person("tutor1")
    cohort = running()
    leaving, struggling = person("trainee3"), person("trainee4")
    missed = {leaving.id: {"status": "absent"},
              struggling.id: {"status": "authorised_absence", "absence_reason": "Private medical appointment"}}
    for day in cohort.days[:4]:
        services.save_register(tutor, cohort, day, everyone(overrides=missed), 0, "", taken_at(day))
    assert db.session.execute(select(func.count(AttendanceAlert.enrolment_id))).scalar_one() == 0
    # trainee3 withdraws; the fifth missed day puts trainee4 out of reach.
    db.session.execute(select(Enrolment).where(Enrolment.trainee_id == leaving.id)).scalar_one().status = "withdrawn"
    entered = everyone(overrides=missed)
    del entered[leaving.id]
    services.save_register(tutor, cohort, cohort.days[4], entered, 0, "", taken_at(cohort.days[4]))
    db.session.commit()
    alerted = db.session.execute(select(AttendanceAlert.enrolment_id)).scalars().all()
    assert alerted == [db.session.execute(select(Enrolment.id).where(Enrolment.trainee_id == struggling.id)).scalar_one()]
    told = db.session.execute(select(Notification.user_id)).scalars().all()
    # No lead tutor is set in this demo, so every tutor of the cohort is told, with the academic supervisor.
    assert sorted(told) == sorted([person("tutor1").id, person("tutor2").id, person("academic1").id])
    emails = db.session.execute(select(OutboxEmail.body)).scalars().all()
    assert len(emails) == 3 and not any("medical" in body.lower() for body in emails)
