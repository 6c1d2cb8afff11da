"""In a real browser: a tutor takes a register with the keyboard only, a trainee checks in with a code,
and a supervisor sees the figures. axe checks every page visited.

These journeys use a cohort and people of their own, so the shared demo stays as other tests expect it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.browser.conftest import check_accessibility, sign_in

PASSWORD = "attendance-browser-pass"
TUTOR = "attendance.tutor@example.org"
SUPERVISOR = "attendance.supervisor@example.org"
TRAINEES = [("attendance.trainee1@example.org", "Nia Roberts"), ("attendance.trainee2@example.org", "Omar Farouk"),
            ("attendance.trainee3@example.org", "Pat Quinn")]
SLUG = "attendance-browser"


@pytest.fixture(scope="module")
def journey(live_server):
    """A cohort with five days held, one that started ten minutes ago (self check-in on), and five to come."""
    from lms.accounts import services as accounts
    from lms.accounts.models import User
    from lms.attendance import services
    from lms.attendance.models import AttendanceSettings, RegisterMark
    from lms.authz.roles import Role
    from lms.cohorts.models import Cohort, CourseDay, Enrolment
    from lms.extensions import db

    app = live_server.app
    with app.app_context():
        # The live database is built by the migrations; make any attendance tables they don't have yet.
        db.create_all()
        cohort = db.session.execute(select(Cohort).where(Cohort.slug == SLUG)).scalar_one_or_none()
        if cohort is None:
            london = ZoneInfo(app.config["LMS_TIMEZONE"])
            start = datetime.now(london) - timedelta(minutes=10)
            today = start.date()
            cohort = Cohort(slug=SLUG, name="Attendance journeys cohort", course_slug="peer-support-l4",
                            start_date=today - timedelta(weeks=5), status="running")
            cohort.days = [CourseDay(number=n, date=today + timedelta(weeks=n - 6), starts_at=time(9, 30),
                                     ends_at=time(16, 0), venue="Room 1, Recovery College") for n in range(1, 12)]
            cohort.days[5].starts_at = start.time().replace(second=0, microsecond=0)
            cohort.days[5].ends_at = time(23, 59)
            db.session.add(cohort)
            db.session.flush()
            db.session.add(AttendanceSettings(cohort_id=cohort.id, self_check_in=True, check_in_minutes=60))
            tutor = accounts.create_user(TUTOR, "Rowan Tutor", PASSWORD)
            accounts.grant_role(tutor, Role.TUTOR, cohort.id)
            supervisor = accounts.create_user(SUPERVISOR, "Sam Supervisor", PASSWORD)
            accounts.grant_role(supervisor, Role.ACADEMIC_SUPERVISOR, cohort.id)
            for email, name in TRAINEES:
                trainee = accounts.create_user(email, name, PASSWORD)
                accounts.grant_role(trainee, Role.TRAINEE, cohort.id)
                db.session.add(Enrolment(cohort=cohort, trainee=trainee, academic_supervisor=supervisor))
            db.session.flush()
            # Days 2 to 5 are already taken; the keyboard journey takes day 1.
            for course_day in cohort.days[1:5]:
                entered = {db.session.execute(select(Enrolment.trainee_id).where(
                    Enrolment.cohort_id == cohort.id)).scalars().all()[0]: {"status": "present"}}
                services.save_register(tutor, cohort, course_day, entered, 0, "",
                                       services.day_start(course_day) + timedelta(hours=1))
            db.session.commit()

        def state():
            with app.app_context():
                found = db.session.execute(select(Cohort).where(Cohort.slug == SLUG)).scalar_one()
                marks = db.session.execute(
                    select(RegisterMark.course_day_id, RegisterMark.trainee_id, RegisterMark.status,
                           RegisterMark.minutes_missed, RegisterMark.confirmed, RegisterMark.note)).all()
                days = {d.id: d.number for d in found.days}
                emails = dict(db.session.execute(select(User.id, User.email)).all())
                return {(days[d], emails[t]): (status, minutes, confirmed, note)
                        for d, t, status, minutes, confirmed, note in marks if d in days}

        with app.app_context():
            found = db.session.execute(select(Cohort).where(Cohort.slug == SLUG)).scalar_one()
            ids = {d.number: d.id for d in found.days}
        yield {"days": ids, "state": state}


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_tutor_takes_a_register_with_the_keyboard_only(page, journey):
    sign_in(page, TUTOR, PASSWORD)
    page.get_by_role("link", name="Attendance", exact=True).click()
    check_accessibility(page)
    page.get_by_role("link", name="Attendance journeys cohort").click()
    check_accessibility(page)
    page.goto(f"/attendance/cohorts/{SLUG}/days/{journey['days'][1]}/register")
    check_accessibility(page)

    first, second, third = (email for email, _ in sorted(TRAINEES, key=lambda t: t[1]))
    # First trainee (Nia Roberts): into the radio group, then down once: Present.
    tab_to(page, 'input[type="radio"]:checked')
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "present"
    # Through minutes, reason and note to the next trainee (Omar Farouk): down twice: Late, 15 minutes.
    tab_to(page, 'input[type="radio"]:checked')
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "late"
    page.keyboard.press("Tab")
    page.keyboard.type("15")
    # Third trainee (Pat Quinn): five down to Absent (past late, left early, both), and a note.
    tab_to(page, 'input[type="radio"]:checked')
    for _ in range(5):
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "absent"
    page.keyboard.press("Space")
    tab_to(page, 'input[name^="note-"]')
    page.keyboard.type("Rang to say they were unwell")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=The register for day 1 has been saved")
    check_accessibility(page)

    saved = journey["state"]()
    assert saved[(1, first)] == ("present", 0, True, "")
    assert saved[(1, second)] == ("late", 15, True, "")
    assert saved[(1, third)] == ("absent", 0, True, "Rang to say they were unwell")


def test_a_keyboard_error_is_announced_and_linked(page, journey):
    sign_in(page, TUTOR, PASSWORD)
    page.goto(f"/attendance/cohorts/{SLUG}/days/{journey['days'][2]}/register")
    tab_to(page, 'input[type="radio"]:checked')
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # Late, but no minutes
    tab_to(page, 'input[name^="note-"]')
    page.keyboard.press("Enter")
    summary = page.get_by_role("alert")
    assert "Enter how many minutes" in summary.inner_text()
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")
    check_accessibility(page)


def test_a_trainee_checks_in_with_the_code(browser_context_pair, journey):
    tutor_page, trainee_page = browser_context_pair
    sign_in(tutor_page, TUTOR, PASSWORD)
    tutor_page.goto(f"/attendance/cohorts/{SLUG}/days/{journey['days'][6]}/register")
    check_accessibility(tutor_page)
    tutor_page.get_by_role("link", name="Show the self check-in code").click()
    check_accessibility(tutor_page)
    tutor_page.get_by_role("button", name="Show a check-in code").click()
    code = tutor_page.locator(".check-in-code__code").inner_text().replace("Code:", "").strip()
    assert len(code) == 6
    assert tutor_page.locator("svg[role=img]").count() == 1
    check_accessibility(tutor_page)

    trainee_email = TRAINEES[0][0]
    sign_in(trainee_page, trainee_email, PASSWORD)
    trainee_page.get_by_role("link", name="Attendance", exact=True).click()
    check_accessibility(trainee_page)
    trainee_page.get_by_role("link", name="Check in").click()
    check_accessibility(trainee_page)
    trainee_page.get_by_label("Check-in code").fill("nope00")
    trainee_page.get_by_role("button", name="Check in").click()
    assert "That code isn't right" in trainee_page.get_by_role("alert").inner_text()
    check_accessibility(trainee_page)
    trainee_page.get_by_label("Check-in code").fill(code.lower())
    trainee_page.get_by_role("button", name="Check in").click()
    assert "You're checked in" in trainee_page.get_by_role("heading", level=1).inner_text()
    check_accessibility(trainee_page)
    assert journey["state"]()[(6, trainee_email)][:3] == ("present", 0, False)

    # The tutor sees the check-in in the register and confirms it by saving.
    tutor_page.goto(f"/attendance/cohorts/{SLUG}/days/{journey['days'][6]}/register")
    assert tutor_page.locator(".att-tag--checked-in").count() == 1
    tutor_page.get_by_role("button", name="Save the register").click()
    tutor_page.wait_for_selector("text=has been saved")
    check_accessibility(tutor_page)
    assert journey["state"]()[(6, trainee_email)][:3] == ("present", 0, True)


@pytest.fixture
def browser_context_pair(chromium, live_server):
    contexts = [chromium.new_context(base_url=live_server.url) for _ in range(2)]
    yield [context.new_page() for context in contexts]
    for context in contexts:
        context.close()


def test_a_supervisor_sees_the_figures(page, journey):
    sign_in(page, SUPERVISOR, PASSWORD)
    page.get_by_role("link", name="Attendance", exact=True).click()
    check_accessibility(page)
    table = page.get_by_role("table", name="Attendance of the trainees you supervise")
    assert table.get_by_role("row").count() == 1 + len(TRAINEES)
    assert "of 9" in table.inner_text()
    page.get_by_role("link", name=TRAINEES[0][1]).click()
    check_accessibility(page)
    assert page.get_by_role("heading", level=1).inner_text() == f"Attendance: {TRAINEES[0][1]}"
    assert "Days counted" in page.content()
    assert page.get_by_role("table").get_by_role("row").count() == 12


def test_attendance_pages_fit_a_narrow_screen(chromium, live_server, journey):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 320, "height": 640})
    page = context.new_page()
    sign_in(page, TUTOR, PASSWORD)
    for url in (f"/attendance/cohorts/{SLUG}", f"/attendance/cohorts/{SLUG}/days/{journey['days'][1]}/register"):
        page.goto(url)
        check_accessibility(page)
        # Wide tables scroll inside their own region; the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), url
    context.close()



def test_a_catch_up_task_as_the_tutor_and_the_trainee_see_it(chromium, live_server, journey):
    """The tutor's catch-up page shows how the task is going; the trainee sees the catch-up they were given."""
    from datetime import date

    from lms.accounts.models import User
    from lms.attendance import services
    from lms.cohorts.models import Cohort
    from lms.extensions import db

    email, name = TRAINEES[2]
    app = live_server.app
    with app.app_context():
        tutor = db.session.execute(select(User).where(User.email == TUTOR)).scalar_one()
        trainee = db.session.execute(select(User).where(User.email == email)).scalar_one()
        cohort = db.session.execute(select(Cohort).where(Cohort.slug == SLUG)).scalar_one()
        day3 = next(d for d in cohort.days if d.number == 3)
        taken_at = services.day_start(day3) + timedelta(hours=2)
        version = services.register_page(tutor, cohort, day3, taken_at).version
        services.save_register(tutor, cohort, day3, {trainee.id: {"status": "absent"}}, version, "", taken_at)
        services.save_catch_up(tutor, cohort, trainee.id, day3, services.CatchUpValues(
            kind="task", on_date=date.today() + timedelta(days=3)), services.day_start(day3) + timedelta(days=1))
        db.session.commit()
        trainee_id, day_id = trainee.id, day3.id

    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    sign_in(page, TUTOR, PASSWORD)
    page.goto(f"/attendance/cohorts/{SLUG}/trainees/{trainee_id}/days/{day_id}/catch-up")
    check_accessibility(page)
    assert page.get_by_role("heading", name="How the catch-up task is going").is_visible()
    assert f"Diary entries {name} has linked to day 3" in page.content()
    context.close()

    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    sign_in(page, email, PASSWORD)
    page.goto("/attendance")
    check_accessibility(page)
    region = page.get_by_role("region", name="Your catch-up to do")
    assert "a catch-up task, by" in region.inner_text()
    assert region.get_by_role("link", name="Write a diary entry about day 3").is_visible()
    context.close()
