"""An admin, in a real browser, creates an organisation, a cohort with its 11 days, imports trainees
from a CSV file and assigns their supervisors. axe checks every page visited."""

import re
from datetime import date, timedelta

from tests.browser.conftest import check_accessibility, sign_in

HEADER = "email,name,role,organisation,academic_supervisor_email,personal_supervisor_email"


def invitation_path(live_server, email: str) -> str:
    """The link in the latest invitation e-mail to ``email`` (as the person would open it from their inbox)."""
    from sqlalchemy import select

    from lms.extensions import db
    from lms.notify.models import OutboxEmail

    with live_server.app.app_context():
        body = db.session.execute(select(OutboxEmail.body).where(OutboxEmail.to_address == email)
                                  .order_by(OutboxEmail.id.desc()).limit(1)).scalar_one()
    match = re.search(r"https?://[^/\s]+(/invitation/\S+)", body)
    assert match, "the invitation e-mail holds a link to set a password"
    return match.group(1)


def test_admin_sets_up_a_cohort_and_imports_trainees(page, tmp_path, chromium, live_server):
    sign_in(page, "admin@example.org")
    check_accessibility(page)

    # An organisation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organisations").click()
    check_accessibility(page)
    page.get_by_role("link", name="Add an organisation").click()
    check_accessibility(page)
    page.get_by_role("button", name="Add the organisation").click()  # empty: the error summary
    assert "Enter the organisation" in page.get_by_role("alert").inner_text()
    check_accessibility(page)
    page.get_by_label("Name", exact=True).fill("Eastvale Community Mind")
    page.get_by_label("Kind of organisation").select_option("employer")
    page.get_by_label("Contact email (optional)").fill("peer@eastvale.example.org")
    page.get_by_role("button", name="Add the organisation").click()
    assert "Eastvale Community Mind has been added" in page.get_by_role("status").first.inner_text()
    check_accessibility(page)

    # A cohort and its 11 days.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cohorts").click()
    check_accessibility(page)
    page.get_by_role("link", name="Add a cohort").click()
    check_accessibility(page)
    start = date.today() + timedelta(days=60)
    page.get_by_label("Course").select_option("peer-support-l4")
    page.get_by_label("Name", exact=True).fill("Peer Support Worker Training – Eastvale")
    page.get_by_label("Short name (for web addresses)").fill("eastvale-browser")
    page.get_by_label("Start date").fill(start.isoformat())
    page.get_by_label("Places").fill("12")
    page.get_by_label("Status").select_option("planned")
    page.get_by_role("button", name="Add the cohort").click()
    page.wait_for_url("**/admin/cohorts/eastvale-browser/schedule")
    check_accessibility(page)
    assert page.locator("fieldset.schedule__day").count() == 11
    page.get_by_role("button", name="Save the schedule").click()  # no venues yet: a message by each day
    assert "Enter where day 1 happens" in page.get_by_role("alert").inner_text()
    check_accessibility(page)
    for index in range(11):
        page.locator(f"#days-{index}-venue").fill("Eastvale Recovery College, Room 2")
    page.locator("#days-10-starts_at").fill("10:00")
    page.get_by_role("button", name="Save the schedule").click()
    page.wait_for_url("**/admin/cohorts/eastvale-browser")
    check_accessibility(page)
    assert page.locator("#schedule + .table-wrapper tbody tr").count() == 11

    # Supervisors of the cohort.
    for email, role in (("academic1@example.org", "academic_supervisor"), ("supervisor2@example.org", "personal_supervisor")):
        page.get_by_label("Email").fill(email)
        page.get_by_label("Role", exact=True).select_option(role)
        page.get_by_role("button", name="Give the role").click()
        check_accessibility(page)
    assert "Aisha Rahman" in page.get_by_role("table", name="Personal supervisors of this cohort").inner_text()

    # Trainees from a CSV file: a file with a problem first, then the right one.
    page.get_by_role("link", name="Import people from a CSV file", exact=True).click()
    check_accessibility(page)
    broken = tmp_path / "broken.csv"
    broken.write_text(HEADER + "\nnot-an-email,Someone,trainee,Harbour Mind,,\n", encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(broken))
    page.get_by_role("button", name="Import the file").click()
    assert "Row 2, column email" in page.locator(".import-problems").inner_text()
    check_accessibility(page)
    good = tmp_path / "trainees.csv"
    good.write_text("\ufeff" + "\r\n".join([
        HEADER,
        "rowan.ash@example.org,Rowan Ash,trainee,Harbour Mind,,",
        "zoe.bronte@example.org,Zoë Brontë,trainee,Harbour Mind,,",
        "kai.lee@example.org,Kai Lee,trainee,Eastvale Community Mind,,",
    ]) + "\r\n", encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    assert "The file is ready to import" in page.locator(".import-plan").inner_text()
    check_accessibility(page)
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Import the file").click()
    page.wait_for_url("**/admin/cohorts/eastvale-browser#trainees")
    assert "3 new accounts, 3 enrolments" in page.get_by_role("status").first.inner_text()
    check_accessibility(page)

    # Assign Rowan's supervisors.
    page.get_by_role("link", name="Change Rowan Ash's enrolment").click()
    check_accessibility(page)
    page.get_by_label("Academic supervisor").select_option(label="Helen Marsh")
    page.get_by_label("Personal supervisor").select_option(label="Aisha Rahman (Harbour Mind)")
    page.get_by_role("button", name="Save the supervisors").click()
    page.wait_for_url("**/admin/cohorts/eastvale-browser#trainees")
    row = page.get_by_role("row", name="Rowan Ash")
    assert "Helen Marsh" in row.inner_text() and "Aisha Rahman" in row.inner_text()
    check_accessibility(page)

    # Kai works for Eastvale: Aisha (Harbour Mind) cannot be their personal supervisor.
    page.get_by_role("link", name="Change Kai Lee's enrolment").click()
    page.get_by_label("Personal supervisor").select_option(label="Aisha Rahman (Harbour Mind)")
    page.get_by_role("button", name="Save the supervisors").click()
    assert "trainee's own organisation" in page.get_by_role("alert").inner_text()
    check_accessibility(page)

    # The audit log shows what was done.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    check_accessibility(page)
    assert "People imported from a file" in page.content() and "Organisation added" in page.content()

    # Each invited person opens the link in their e-mail, sets a password and signs in with it.
    for email, name in (("rowan.ash@example.org", "Rowan Ash"), ("zoe.bronte@example.org", "Zoë Brontë"),
                        ("kai.lee@example.org", "Kai Lee")):
        context = chromium.new_context(base_url=live_server.url)
        person = context.new_page()
        person.goto(invitation_path(live_server, email))
        assert f"Welcome, {name}" in person.content()
        check_accessibility(person)
        person.get_by_label("Create a password").fill("short")
        person.get_by_label("Type the same password again").fill("short")
        person.get_by_role("button", name="Set my password and sign in").click()
        assert "10 characters" in person.get_by_role("alert").inner_text()
        check_accessibility(person)
        person.get_by_label("Create a password").fill("river stones in autumn")
        person.get_by_label("Type the same password again").fill("river stones in autumn")
        person.get_by_role("button", name="Set my password and sign in").click()
        person.wait_for_url("**/home")
        check_accessibility(person)
        person.get_by_role("button", name="Sign out").click()
        sign_in(person, email, "river stones in autumn")
        assert name in person.content()
        context.close()


def test_other_admin_and_personal_data_pages_pass_axe(page):
    """The pages the journey above does not reach: people, a person, retention, erasure, my data."""
    sign_in(page, "trainee12@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").click()
    page.get_by_role("link", name="Download your data, or ask for it to be erased").click()
    check_accessibility(page)
    page.get_by_role("button", name="Ask for my data to be erased").click()  # not confirmed: an error
    assert "Tick the box" in page.get_by_role("alert").inner_text()
    check_accessibility(page)
    page.get_by_label("I understand", exact=False).check()
    page.get_by_role("button", name="Ask for my data to be erased").click()
    assert "Your request has been sent" in page.get_by_role("status").first.inner_text()
    check_accessibility(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "admin@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    check_accessibility(page)
    page.get_by_label("Name or email").fill("Lee Murphy")
    page.get_by_role("button", name="Show people").click()
    page.get_by_role("link", name="Lee Murphy").click()
    check_accessibility(page)
    page.goto("/admin/erasure-requests")
    check_accessibility(page)
    page.get_by_role("button", name="Save the decision").click()  # no decision chosen: an error
    assert "Choose whether to erase" in page.get_by_role("alert").inner_text()
    check_accessibility(page)
    page.goto("/admin/retention")
    check_accessibility(page)
    page.goto("/admin/cohorts/demo-running")
    check_accessibility(page)
    page.get_by_role("link", name="Change Lee Murphy's enrolment").click()
    check_accessibility(page)
    page.get_by_role("button", name="Change the enrolment").click()  # nothing chosen: an error
    check_accessibility(page)
    page.goto("/admin/cohorts/demo-running/edit")
    check_accessibility(page)
