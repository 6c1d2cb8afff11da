"""In a real browser: a supervisor filters to trainees who may need support and opens one; an admin opens an
exam board and ratifies a cohort. axe checks every page.

The journey uses a cohort of its own (the shared demo stays as other tests expect it).
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import check_accessibility, sign_in, sign_out

SLUG = "progress-browser"
NAME = "Progress journey cohort"
TRAINEES = (("pb.one@example.org", "Ari Quinn"), ("pb.two@example.org", "Noor Hale"))


@pytest.fixture(scope="module")
def journey(live_server):
    """A cohort whose eleven days are all held; Ari missed five days (the threshold is out of reach even with catch-ups)."""
    from lms.accounts.models import RoleGrant, User
    from lms.accounts.passwords import hash_password
    from lms.authz.roles import Role
    from lms.cohorts.models import Cohort, CourseDay, Enrolment
    from lms.extensions import db

    app = live_server.app
    with app.app_context():
        # The live database is built by the migrations; make any progress tables they don't have yet.
        db.create_all()
        if db.session.execute(select(Cohort).where(Cohort.slug == SLUG)).scalar_one_or_none() is None:
            start = date.today() - timedelta(weeks=10, days=3)  # the last day was three days ago
            cohort = Cohort(slug=SLUG, name=NAME, course_slug="peer-support-l4", start_date=start, status="running")
            cohort.days = [CourseDay(number=n + 1, date=start + timedelta(weeks=n), starts_at=time(9, 30),
                                     ends_at=time(16, 0)) for n in range(11)]
            db.session.add(cohort)
            db.session.flush()
            academic = db.session.execute(select(User).where(User.email == "academic1@example.org")).scalar_one()
            db.session.add(RoleGrant(user_id=academic.id, role=Role.ACADEMIC_SUPERVISOR.value, cohort_id=cohort.id))
            for index, (email, name) in enumerate(TRAINEES):
                trainee = User(email=email, display_name=name, password_hash=hash_password("progress-browser-pass"))
                db.session.add(trainee)
                db.session.flush()
                db.session.add(RoleGrant(user_id=trainee.id, role=Role.TRAINEE.value, cohort_id=cohort.id))
                db.session.add(Enrolment(cohort_id=cohort.id, trainee_id=trainee.id,
                                         academic_supervisor_id=academic.id))
                try:
                    from lms.attendance.models import RegisterMark
                except ImportError:
                    continue
                for day in cohort.days:
                    absent = index == 0 and day.number in (2, 3, 4, 5, 6)
                    db.session.add(RegisterMark(course_day_id=day.id, trainee_id=trainee.id,
                                                status="absent" if absent else "present"))
            db.session.commit()
    return live_server


def test_supervisor_filters_to_trainees_at_risk_and_opens_one(page, journey):
    sign_in(page, "academic1@example.org")
    page.get_by_role("link", name="Progress", exact=True).click()
    expect(page.get_by_role("heading", name="Progress", level=1)).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Show").select_option("at-risk")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**filter=at-risk**")
    check_accessibility(page)
    expect(page.get_by_role("link", name="Ari Quinn")).to_be_visible()
    expect(page.get_by_role("link", name="Noor Hale")).to_have_count(0)
    page.get_by_role("link", name="Ari Quinn").click()
    expect(page.get_by_role("heading", name="Ari Quinn")).to_be_visible()
    expect(page.get_by_text("Threshold no longer reachable").first).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Supervision note").fill("Talked through options for next time.")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_text("Talked through options for next time.")).to_be_visible()
    check_accessibility(page)
    sign_out(page)


def test_admin_opens_a_board_and_ratifies_a_cohort(page, journey):
    sign_in(page, "admin@example.org")
    page.get_by_role("link", name="Exam boards").click()
    expect(page.get_by_role("heading", name="Exam boards", level=1)).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Cohort").select_option(label=NAME)
    page.get_by_label("Date the board meets").fill(date.today().isoformat())
    page.get_by_label("Members, one per line").fill("Helen Marsh (chair)\nPriya Shah")
    page.get_by_role("button", name="Open the board").click()
    expect(page.get_by_role("heading", name=f"Exam board: {NAME}")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Ratify all proposed outcomes").click()
    expect(page.locator("#board-status")).to_contain_text("Ratified")
    expect(page.get_by_role("heading", name="Record a correction")).to_be_visible()
    check_accessibility(page)
    sign_out(page)
