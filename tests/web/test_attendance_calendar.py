"""The personal iCalendar feed: a private, revocable link to the course days that concern each person."""

from __future__ import annotations

import hashlib
import re
from datetime import time

import pytest
from icalendar import Calendar
from sqlalchemy import select

from lms.attendance import demo as attendance_demo
from lms.attendance.models import CalendarToken
from lms.cohorts.models import Enrolment
from lms.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.web.test_attendance_register import day, user


def make_link(client) -> str:
    response = client.post("/calendar/link", data={"csrf_token": csrf_token(client, "/calendar")})
    assert response.status_code == 200
    match = re.search(r'id="feed-url" type="text" value="(http://localhost/calendar/([^"]+)\.ics)"',
                      response.get_data(as_text=True))
    assert match, "the new link is shown"
    return match.group(2)


def feed(client, token):
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def events(calendar):
    return [component for component in calendar.walk("VEVENT")]


def summaries(calendar):
    return [str(event["SUMMARY"]) for event in events(calendar)]


@pytest.fixture
def seeded(demo, today):
    attendance_demo.seed(today)
    db.session.commit()
    return demo


def test_the_calendar_page_makes_a_link_shown_once_and_stores_only_its_hash(login_as):
    client = login_as("trainee")
    page = client.get("/calendar").get_data(as_text=True)
    assert "You don't have a calendar link yet" in page and "Make my calendar link" in page
    token = make_link(client)
    stored = db.session.execute(select(CalendarToken)).scalar_one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    # Afterwards the page says when it was made, but can't show it again.
    page = client.get("/calendar").get_data(as_text=True)
    assert token not in page and "You made a calendar link on" in page


def test_a_trainee_feed_has_their_eleven_days_and_their_catch_up_session(seeded, app):
    client = app.test_client()
    sign_in(client, "trainee9@example.org")  # has a catch-up session arranged in the demo
    calendar = feed(client, make_link(client))
    names = summaries(calendar)
    assert len(names) == 12
    assert "Peer support training – day 3: Strengths spotting" in names
    assert any(name.startswith("Peer support training – catch-up session for day 5") for name in names)
    third = next(e for e in events(calendar) if str(e["SUMMARY"]).endswith("Strengths spotting"))
    course_day = day(3)
    assert str(third["UID"]) == f"course-day-{course_day.id}@localhost"
    assert str(third["LOCATION"]) == course_day.venue
    start = third.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/London"
    assert (start.date(), start.time()) == (course_day.date, course_day.starts_at)
    assert third["DTSTART"].params["TZID"] == "Europe/London"
    assert calendar.walk("VTIMEZONE"), "the time zone is described"


def test_uids_are_stable_between_fetches(seeded, app):
    client = app.test_client()
    sign_in(client, "trainee1@example.org")
    token = make_link(client)
    first = sorted(str(e["UID"]) for e in events(feed(client, token)))
    course_day = day(7)
    course_day.starts_at = time(10, 0)  # rescheduled
    db.session.commit()
    second_calendar = feed(client, token)
    assert sorted(str(e["UID"]) for e in events(second_calendar)) == first
    moved = next(e for e in events(second_calendar) if str(e["UID"]) == f"course-day-{course_day.id}@localhost")
    assert moved.decoded("DTSTART").time() == time(10, 0)


def test_a_tutor_feed_has_the_days_of_cohorts_they_teach_and_their_catch_up_sessions(seeded, app):
    client = app.test_client()
    sign_in(client, "tutor1@example.org")
    names = summaries(feed(client, make_link(client)))
    assert len([n for n in names if " – day " in n]) == 22  # both demo cohorts
    assert any("catch-up session with Isla Campbell" in n for n in names)
    assert any("catch-up session with Olivia Hughes" in n for n in names)


def test_a_supervisor_feed_has_each_cohort_day_once(seeded, app):
    client = app.test_client()
    sign_in(client, "academic1@example.org")  # 20 trainees in 2 cohorts
    calendar = feed(client, make_link(client))
    uids = [str(e["UID"]) for e in events(calendar)]
    assert len(uids) == len(set(uids)) == 22
    assert not any("catch-up" in n for n in summaries(calendar))


def test_a_withdrawn_trainee_no_longer_gets_the_days(seeded, app):
    client = app.test_client()
    sign_in(client, "trainee2@example.org")
    token = make_link(client)
    enrolment = db.session.execute(select(Enrolment).where(Enrolment.trainee_id == user("trainee2").id)).scalar_one()
    enrolment.status = "withdrawn"
    db.session.commit()
    assert events(feed(client, token)) == []


def test_making_a_new_link_stops_the_old_one(login_as):
    client = login_as("trainee")
    old = make_link(client)
    new = make_link(client)
    assert old != new
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200


def test_stopping_the_link(login_as, app):
    client = login_as("trainee")
    token = make_link(client)
    response = client.post("/calendar/revoke", data={"csrf_token": csrf_token(client, "/calendar")},
                           follow_redirects=True)
    assert "Your calendar link has been stopped" in response.get_data(as_text=True)
    assert app.test_client().get(f"/calendar/{token}.ics").status_code == 404
    assert db.session.execute(select(CalendarToken)).first() is None


def test_the_feed_needs_no_sign_in_but_a_real_token(login_as, app):
    client = login_as("trainee")
    token = make_link(client)
    anonymous = app.test_client()
    assert anonymous.get(f"/calendar/{token}.ics").status_code == 200
    assert anonymous.get("/calendar/not-a-token.ics").status_code == 404
    assert anonymous.get(f"/calendar/{token[:-1]}.ics").status_code == 404
    assert anonymous.get(f"/calendar/{'x' * 500}.ics").status_code == 404


def test_a_deactivated_persons_feed_stops(login_as, app):
    client = login_as("trainee")
    token = make_link(client)
    user("trainee1").active = False
    db.session.commit()
    assert app.test_client().get(f"/calendar/{token}.ics").status_code == 404
