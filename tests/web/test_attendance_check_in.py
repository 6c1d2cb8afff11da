"""Self check-in: settings, the code and its QR code, checking in, wrong and expired codes, guessing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import segno
from sqlalchemy import func, select

from lms.attendance.models import AttendanceSettings, CheckInCode, RegisterMark
from lms.attendance.services import CODE_ALPHABET
from lms.database import utcnow
from lms.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.web.test_attendance_register import (
    cohort,
    day,
    make_today,
    register_form,
    register_url,
    trainees,
    user,
)

CODE_PAGE = "/attendance/cohorts/demo-running/days/{}/check-in-code"


@pytest.fixture
def tutor(login_as):
    return login_as("tutor")


def turn_on_self_check_in(client, minutes="60"):
    url = "/attendance/cohorts/demo-running/settings"
    return client.post(url, data={"csrf_token": csrf_token(client, url), "self_check_in": "y",
                                  "check_in_minutes": minutes})


@pytest.fixture
def open_code(tutor):
    """Self check-in on, day 7 started ten minutes ago, and its code shown."""
    assert turn_on_self_check_in(tutor).status_code == 302
    today = make_today(day(7))
    url = CODE_PAGE.format(today.id)
    assert tutor.post(url, data={"csrf_token": csrf_token(tutor, url)}).status_code == 302
    return db.session.execute(select(CheckInCode).where(CheckInCode.course_day_id == today.id)).scalar_one()


@pytest.fixture
def trainee(app, open_code):
    client = app.test_client()
    assert sign_in(client, "trainee1@example.org").status_code == 302
    return client


def check_in(client, code):
    return client.post("/attendance/check-in", data={"csrf_token": csrf_token(client, "/attendance/check-in"),
                                                     "code": code})


def mark_of(person_email="trainee1"):
    db.session.expire_all()
    return db.session.execute(select(RegisterMark).where(
        RegisterMark.course_day_id == day(7).id, RegisterMark.trainee_id == user(person_email).id)
    ).scalar_one_or_none()


# --- settings and the code -------------------------------------------------------------


def test_self_check_in_is_off_until_a_tutor_turns_it_on(tutor):
    today = make_today(day(7))
    url = CODE_PAGE.format(today.id)
    assert "Self check-in is turned off for this cohort" in tutor.get(url).get_data(as_text=True)
    response = tutor.post(url, data={"csrf_token": csrf_token(tutor, url)})
    assert response.status_code == 400 and "turned off" in response.get_data(as_text=True)
    assert db.session.execute(select(CheckInCode)).first() is None


@pytest.mark.parametrize("minutes", ["abc", "5", "1000", ""])
def test_settings_refuse_a_window_that_cant_be_right(tutor, minutes):
    response = turn_on_self_check_in(tutor, minutes)
    assert response.status_code == 400
    assert "between 15 and 240" in response.get_data(as_text=True)
    assert db.session.get(AttendanceSettings, cohort().id) is None


def test_the_code_page_shows_a_short_code_and_its_qr_code(tutor, open_code):
    assert len(open_code.code) == 6 and set(open_code.code) <= set(CODE_ALPHABET)
    # The window: from the day's start for an hour.
    assert open_code.closes_at - open_code.opens_at == timedelta(minutes=60)
    page = tutor.get(CODE_PAGE.format(day(7).id)).get_data(as_text=True)
    assert open_code.code in page
    url = f"http://localhost/attendance/check-in?code={open_code.code}"
    assert url in page
    # The QR code is inline SVG of exactly that address: no script, no external image.
    expected = segno.make(url, error="m").svg_inline(scale=6, dark="#0b0c0c", light="#ffffff",
                                                    title="QR code of the check-in page")
    assert expected.split(">", 1)[1] in page
    assert 'role="img" aria-label="QR code of the check-in page"' in page


def test_a_new_code_replaces_the_old_one(tutor, open_code):
    old = open_code.code
    url = CODE_PAGE.format(day(7).id)
    tutor.post(url, data={"csrf_token": csrf_token(tutor, url)})
    db.session.expire_all()
    assert db.session.execute(select(CheckInCode.code)).scalar_one() != old


def test_no_code_for_a_day_more_than_an_hour_ahead(tutor):
    turn_on_self_check_in(tutor)
    url = CODE_PAGE.format(day(8).id)
    response = tutor.post(url, data={"csrf_token": csrf_token(tutor, url)})
    assert response.status_code == 400 and "can be made from" in response.get_data(as_text=True)
    assert db.session.execute(select(CheckInCode)).first() is None


# --- checking in -------------------------------------------------------------------------


def test_a_trainee_checks_in_with_the_code(trainee, open_code, tutor):
    page = trainee.get("/attendance").get_data(as_text=True)
    assert "Check-in is open for day 7" in page
    # Scanning the QR code opens the form with the code filled in; only the button marks them.
    form = trainee.get(f"/attendance/check-in?code={open_code.code}").get_data(as_text=True)
    assert f'value="{open_code.code}"' in form
    assert mark_of() is None
    response = check_in(trainee, open_code.code.lower())  # capitals or not
    assert response.status_code == 200
    assert "You're checked in" in response.get_data(as_text=True)
    mark = mark_of()
    assert (mark.status, mark.confirmed) == ("present", False)
    assert mark.checked_in_at is not None
    # Checking in again is harmless.
    again = check_in(trainee, open_code.code)
    assert "already on the register" in again.get_data(as_text=True)
    # The tutor sees it in the register, and saving the register confirms it.
    register = tutor.get(register_url(day(7))).get_data(as_text=True)
    assert "Checked in" in register
    data = register_form(tutor, day(7), {trainees()[0]: "present"})
    assert tutor.post(register_url(day(7)), data=data).status_code == 302
    assert mark_of().confirmed


def test_the_tutor_corrects_a_check_in(trainee, open_code, tutor):
    check_in(trainee, open_code.code)
    data = register_form(tutor, day(7), {trainees()[0]: ("late", 20)})
    assert tutor.post(register_url(day(7)), data=data).status_code == 302
    mark = mark_of()
    assert (mark.status, mark.minutes_missed, mark.confirmed) == ("late", 20, True)


def test_a_register_form_opened_before_a_check_in_does_not_erase_it(trainee, open_code, tutor):
    data = register_form(tutor, day(7), {p: "unmarked" for p in trainees()} | {trainees()[1]: "present"})
    check_in(trainee, open_code.code)
    assert tutor.post(register_url(day(7)), data=data).status_code == 302
    assert mark_of().status == "present"


def test_a_check_in_never_replaces_the_tutors_mark(trainee, open_code, tutor):
    data = register_form(tutor, day(7), {trainees()[0]: ("late", 30)})
    tutor.post(register_url(day(7)), data=data)
    response = check_in(trainee, open_code.code)
    assert "already on the register" in response.get_data(as_text=True)
    assert (mark_of().status, mark_of().minutes_missed) == ("late", 30)


def test_a_wrong_code(trainee, open_code):
    wrong = "KM4TQ7" if open_code.code != "KM4TQ7" else "AAAAAA"
    response = check_in(trainee, wrong)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "That code isn&#39;t right" in page and 'href="#code"' in page
    assert mark_of() is None


def test_an_empty_code(trainee, open_code):
    response = check_in(trainee, "  ")
    assert response.status_code == 400 and "Enter the code your tutor is showing" in response.get_data(as_text=True)
    assert mark_of() is None


def test_an_expired_code(trainee, open_code):
    open_code.opens_at = utcnow() - timedelta(hours=2)
    open_code.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = check_in(trainee, open_code.code)
    assert response.status_code == 400
    assert "That code has expired" in response.get_data(as_text=True)
    assert mark_of() is None
    assert "Check-in is open" not in trainee.get("/attendance").get_data(as_text=True)


def test_a_code_before_its_window_opens(trainee, open_code):
    open_code.opens_at = utcnow() + timedelta(minutes=30)
    db.session.commit()
    response = check_in(trainee, open_code.code)
    assert response.status_code == 400 and "opens at" in response.get_data(as_text=True)
    assert mark_of() is None


def test_a_code_stops_working_when_self_check_in_is_turned_off(trainee, open_code):
    db.session.get(AttendanceSettings, cohort().id).self_check_in = False
    db.session.commit()
    assert check_in(trainee, open_code.code).status_code == 400
    assert mark_of() is None


def test_a_code_of_another_cohort_does_not_work(app, open_code):
    client = app.test_client()
    sign_in(client, "trainee13@example.org")  # in demo-finished
    response = check_in(client, open_code.code)
    assert response.status_code == 400 and "isn&#39;t right" in response.get_data(as_text=True)
    assert mark_of("trainee13") is None


def test_a_withdrawn_trainee_cannot_check_in(trainee, open_code):
    from lms.cohorts.models import Enrolment

    enrolment = db.session.execute(select(Enrolment).where(Enrolment.trainee_id == user("trainee1").id)).scalar_one()
    enrolment.status = "withdrawn"
    db.session.commit()
    assert check_in(trainee, open_code.code).status_code == 400
    assert mark_of() is None


def test_repeated_guessing_is_stopped(trainee, open_code):
    for attempt in range(5):
        assert check_in(trainee, f"WRONG{attempt}").status_code == 400
    # Even the right code is refused until the window passes: guessing gains nothing.
    response = check_in(trainee, open_code.code)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "too many codes that didn&#39;t work" in page and "ask your tutor to mark you" in page
    assert re.search(r"wait \d+ minutes?", page)
    assert mark_of() is None


def test_only_trainees_check_in(tutor):
    assert tutor.get("/attendance/check-in").status_code == 403


def test_a_check_in_after_the_register_was_first_saved_is_audited(trainee, open_code, tutor):
    import json

    from lms.audit.models import AuditEvent

    data = register_form(tutor, day(7), {p: "unmarked" for p in trainees()} | {trainees()[1]: "present"})
    assert tutor.post(register_url(day(7)), data=data).status_code == 302
    before = utcnow()
    assert "You're checked in" in check_in(trainee, open_code.code).get_data(as_text=True)
    mark = mark_of()
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "attendance.mark_changed", AuditEvent.object_id == str(mark.id))).scalar_one()
    # Who, when, before, after and why, like a tutor's change after the first save.
    assert event.reason == "Self check-in" and event.actor_id == user("trainee1").id
    assert event.subject_user_id == user("trainee1").id and event.cohort_id == cohort().id
    assert json.loads(event.before) == {"status": "unmarked"} and json.loads(event.after) == {"status": "present"}
    assert before - timedelta(seconds=5) <= event.created_at.replace(tzinfo=before.tzinfo) <= utcnow()
    # Checking in again changes nothing, so nothing more is audited.
    check_in(trainee, open_code.code)
    assert db.session.execute(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "attendance.mark_changed")).scalar_one() == 1


def test_a_check_in_before_the_register_was_first_saved_is_not_a_change_to_it(trainee, open_code):
    from lms.audit.models import AuditEvent

    assert "You're checked in" in check_in(trainee, open_code.code).get_data(as_text=True)
    assert mark_of().status == "present"
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "attendance.mark_changed")).first() is None
