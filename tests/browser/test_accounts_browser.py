"""In a real browser: an admin invites a person who sets a password from the e-mail; larger text applies.

The live server has no SMTP server: the invitation e-mail is read from its outbox table.
"""

import re

from sqlalchemy import select, update

from lms.accounts.models import User
from lms.extensions import db
from lms.notify.models import OutboxEmail
from tests.browser.conftest import check_accessibility, sign_in

INVITEE = "jordan.invited@example.org"


def invitation_path(live_server, email: str) -> str:
    with live_server.app.app_context():
        body = db.session.execute(select(OutboxEmail.body).where(OutboxEmail.to_address == email)
                                  .order_by(OutboxEmail.id.desc())).scalars().first()
        db.session.remove()
    assert body, f"no e-mail to {email} in the outbox"
    return re.search(r"https?://[^/\s]+(/invitation/[A-Za-z0-9_\-]+)", body).group(1)


def test_admin_invites_a_person_who_sets_a_password_and_is_signed_in(page, chromium, live_server):
    sign_in(page, "admin@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invitations").click()
    page.wait_for_url("**/admin/invitations")
    check_accessibility(page)
    page.get_by_role("link", name="Invite everyone in a cohort").click()
    page.wait_for_url("**/admin/invitations/cohort")
    check_accessibility(page)
    page.go_back()
    page.get_by_role("link", name="Invite a person").click()
    page.wait_for_url("**/admin/invitations/new")
    check_accessibility(page)
    page.get_by_label("Name").fill("Jordan Invited")
    page.get_by_label("Email").fill(INVITEE)
    page.get_by_label("Organisation (optional)").select_option(label="Harbour Mind")
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_url("**/admin/invitations")
    assert f"An invitation has been sent to {INVITEE}" in page.get_by_role("status").inner_text()
    assert "Jordan Invited" in page.get_by_role("table").inner_text()
    check_accessibility(page)

    # The invited person opens the link from the e-mail in their own browser.
    path = invitation_path(live_server, INVITEE)
    context = chromium.new_context(base_url=live_server.url)
    invitee = context.new_page()
    try:
        # On the way, the pages for a forgotten password (nothing is sent for an unknown address).
        invitee.goto("/sign-in")
        invitee.get_by_role("link", name="Forgotten your password?").click()
        invitee.wait_for_url("**/forgot-password")
        check_accessibility(invitee)
        invitee.get_by_label("Email").fill("nobody-here@example.org")
        invitee.get_by_role("button", name="Send me a link").click()
        assert invitee.get_by_role("heading", level=1).inner_text() == "Check your e-mail"
        check_accessibility(invitee)

        invitee.goto(path)
        assert invitee.get_by_role("heading", level=1).inner_text() == "Set your password"
        check_accessibility(invitee)
        invitee.get_by_label("Create a password").fill("jordan's long password")
        invitee.get_by_label("Type the same password again").fill("jordan's long passwork")
        invitee.get_by_role("button", name="Set my password and sign in").click()
        assert "do not match" in invitee.get_by_role("alert").inner_text()
        check_accessibility(invitee)
        invitee.get_by_label("Create a password").fill("jordan's long password")
        invitee.get_by_label("Type the same password again").fill("jordan's long password")
        invitee.get_by_role("button", name="Set my password and sign in").click()
        invitee.wait_for_url("**/home")
        assert invitee.get_by_role("heading", level=1).inner_text() == "Hello, Jordan Invited"
        assert "you are signed in" in invitee.get_by_role("status").inner_text()
        check_accessibility(invitee)

        # The link works once only.
        invitee.goto(path)
        assert "already been used" in invitee.get_by_role("heading", level=1).inner_text()
        check_accessibility(invitee)
    finally:
        context.close()


def test_trainee_turns_on_larger_text(page, live_server):
    email = "trainee12@example.org"
    try:
        sign_in(page, email)
        before = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").click()
        page.wait_for_url("**/profile")
        check_accessibility(page)
        page.get_by_label("Larger text").check()
        page.get_by_role("button", name="Save my profile").click()
        page.wait_for_url("**/profile")
        assert "Your profile has been saved" in page.get_by_role("status").inner_text()
        assert page.evaluate("document.documentElement.classList.contains('larger-text')")
        after = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
        assert after > before
        assert page.get_by_label("Larger text").is_checked()
        check_accessibility(page)
        page.get_by_role("link", name="Change your password").click()
        page.wait_for_url("**/account/password")
        assert page.evaluate("document.documentElement.classList.contains('larger-text')")
        check_accessibility(page)
        page.goto("/home")
        assert page.evaluate("document.documentElement.classList.contains('larger-text')")
        check_accessibility(page)
    finally:
        # The live server is shared by the browser tests: leave trainee12 as the demo has them.
        with live_server.app.app_context():
            db.session.execute(update(User).where(User.email == email).values(prefers_larger_text=False))
            db.session.commit()
            db.session.remove()


def test_a_tutor_says_from_the_keyboard_whether_they_co_deliver_from_lived_experience(page, live_server):
    sign_in(page, "tutor2@example.org")
    try:
        page.goto("/profile")
        check_accessibility(page)
        section = page.locator("#co-delivery + p + ul li").first
        stop = section.get_by_role("button", name=re.compile("^Stop showing this"))
        stop.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "no longer shows you as co-delivering" in page.get_by_role("status").inner_text()
        check_accessibility(page)
        again = page.locator("#co-delivery + p + ul li").first.get_by_role(
            "button", name=re.compile("^I co-deliver from my own lived experience"))
        again.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "now see that you co-deliver" in page.get_by_role("status").inner_text()
    finally:
        page.goto("/home")
