"""A catch-up by task: what the tutor sees of it, when it can be confirmed, and what the trainee sees."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import current_app
from markupsafe import escape
from sqlalchemy import select

from lms.attendance.models import CatchUp
from lms.curriculum.services import set_unit_done, unit_rows
from lms.curriculum.sync import sync_course_folder
from lms.diary.services import EntryContent, EntryFields, create_entry
from lms.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.web.test_attendance_register import day, user
from tests.web.test_attendance_views import seeded  # noqa: F401 (a fixture)

SECRET = "Something only I should read about day two"


@pytest.fixture
def course(seeded):  # noqa: F811
    """The demo with its registers, and the course's units loaded (none marked done by trainee12 on day 2)."""
    result = sync_course_folder(Path(current_app.config["LMS_COURSES_DIR"]) / "peer-support-l4")
    assert result.ok
    db.session.commit()
    return seeded


def units_of(number: int) -> list:
    return sorted((row for row in unit_rows("peer-support-l4").values() if row.day_number == number),
                  key=lambda row: row.position)


def mark_units(email: str, number: int, count: int | None = None) -> None:
    for row in units_of(number)[:count]:
        set_unit_done(user(email), "demo-running", row.unit_key, True, date.today())
    db.session.commit()


def write_diary_entry(email: str, number: int | None) -> None:
    create_entry(user(email), EntryFields(EntryContent(title="My private title", body=SECRET), date.today(), number),
                 draft=False)
    db.session.commit()


def catch_up_url(number: int, email: str = "trainee12") -> str:
    return f"/attendance/cohorts/demo-running/trainees/{user(email).id}/days/{day(number).id}/catch-up"


def post(client, number: int, **fields):
    url = catch_up_url(number)
    data = {"csrf_token": csrf_token(client, url), "kind": "task", "on_date": date.today().isoformat(),
            "completed": "done"} | fields
    return client.post(url, data=data)


def saved_catch_up(number: int) -> CatchUp | None:
    db.session.expire_all()
    return db.session.execute(select(CatchUp).where(
        CatchUp.trainee_id == user("trainee12").id, CatchUp.course_day_id == day(number).id)).scalar_one_or_none()


def test_the_tutor_sees_the_days_units_and_diary_entries_counted_never_read(course, login_as):
    client = login_as("tutor")
    units = units_of(2)
    assert len(units) >= 2
    page = client.get(catch_up_url(2)).get_data(as_text=True)
    name = escape(user("trainee12").display_name)
    assert f"Units of day 2 {name} has marked done</dt><dd>0 of {len(units)}" in page
    assert f"Diary entries {name} has linked to day 2</dt><dd>0</dd>" in page
    # The trainee marks one unit done and writes two entries: one about day 2, one about nothing in particular.
    mark_units("trainee12@example.org", 2, 1)
    write_diary_entry("trainee12@example.org", 2)
    write_diary_entry("trainee12@example.org", None)
    page = client.get(catch_up_url(2)).get_data(as_text=True)
    assert f"0 of {len(units)}" not in page and f"1 of {len(units)}. Not yet: {escape(units[1].title)}" in page
    assert f"Diary entries {name} has linked to day 2</dt><dd>1</dd>" in page
    assert "you see how many are linked to the day, never what they say" in page
    assert SECRET not in page and "My private title" not in page


def test_a_task_cant_be_confirmed_while_the_days_units_are_not_all_done(course, login_as):
    client = login_as("tutor")
    mark_units("trainee12@example.org", 2, 1)
    response = post(client, 2, note="Said they had finished")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"has marked 1 of the {len(units_of(2))} units of day 2 done" in page
    assert "Save it as arranged for now" in page and "record it as a catch-up session instead" in page
    assert saved_catch_up(2) is None  # nothing saved
    # Arranged is fine, and the trainee can finish it.
    assert post(client, 2, completed="arranged").status_code == 302
    assert post(client, 2).status_code == 400
    assert saved_catch_up(2).completed is False
    mark_units("trainee12@example.org", 2)
    # Every unit done, but no reflective entry about the day yet: still not done.
    response = post(client, 2)
    assert response.status_code == 400 and "has not yet linked a reflective diary entry to day 2" in \
        response.get_data(as_text=True)
    assert "units of day 2 done" not in response.get_data(as_text=True)
    assert saved_catch_up(2).completed is False
    write_diary_entry("trainee12@example.org", 2)
    assert post(client, 2).status_code == 302
    assert saved_catch_up(2).completed is True


def test_a_tutor_can_still_record_a_catch_up_session_instead(course, login_as):
    client = login_as("tutor")
    response = post(client, 3, kind="session", starts_at="10:00", ends_at="11:30", venue="Room 4")
    assert response.status_code == 302
    assert (saved_catch_up(3).kind, saved_catch_up(3).completed) == ("session", True)


def test_a_confirmed_task_stays_confirmed_when_a_unit_is_unmarked_later(course, login_as):
    client = login_as("tutor")
    mark_units("trainee12@example.org", 2)
    write_diary_entry("trainee12@example.org", 2)
    assert post(client, 2).status_code == 302
    first = units_of(2)[0]
    set_unit_done(user("trainee12"), "demo-running", first.unit_key, False, date.today())
    db.session.commit()
    # Changing the note of a catch-up already confirmed is not a new confirmation.
    assert post(client, 2, note="Good reflections").status_code == 302
    assert (saved_catch_up(2).completed, saved_catch_up(2).note) == (True, "Good reflections")


def test_the_trainee_sees_their_catch_ups_to_do_on_their_attendance_page(app, course, login_as):
    tutor = login_as("tutor")
    mark_units("trainee12@example.org", 2, 1)
    write_diary_entry("trainee12@example.org", 2)
    due = date.today() + timedelta(days=7)
    assert post(tutor, 2, on_date=due.isoformat(), completed="arranged").status_code == 302
    later = (date.today() + timedelta(days=3)).isoformat()
    assert post(tutor, 3, kind="session", on_date=later, starts_at="10:00", ends_at="12:00", venue="Room 4",
                completed="arranged").status_code == 302
    trainee = app.test_client()
    sign_in(trainee, "trainee12@example.org")
    page = trainee.get("/attendance").get_data(as_text=True)
    assert "Your catch-ups to do" in page
    assert f"a catch-up task, by {due:%A} {due.day} {due:%B %Y}" in page
    assert f"mark each one done (1 of {len(units_of(2))} done so far)" in page
    assert "linked to that day (1 so far)" in page
    assert 'href="/cohorts/demo-running/course/days/2"' in page and 'href="/diary/new?day=2"' in page
    assert "a catch-up session on" in page and "10:00 to 12:00, at Room 4" in page
    assert page.index("catch-up session on") < page.index("catch-up task, by")  # the sooner one first
    assert SECRET not in page  # the diary is counted here, not shown
    # Once confirmed, a catch-up is no longer one to do.
    mark_units("trainee12@example.org", 2)
    assert post(tutor, 2, on_date=date.today().isoformat()).status_code == 302
    page = trainee.get("/attendance").get_data(as_text=True)
    assert "Your catch-up to do" in page and "a catch-up task, by" not in page


def test_nobody_else_sees_a_trainees_catch_ups_to_do(app, course, login_as):
    page = login_as("trainee9@example.org").get("/attendance").get_data(as_text=True)
    assert "Your catch-up to do" in page and "a catch-up session on" in page  # the demo's, theirs
    client = app.test_client()
    sign_in(client, "trainee1@example.org")
    other = client.get("/attendance").get_data(as_text=True)
    assert "catch-up to do" not in other and "catch-ups to do" not in other
