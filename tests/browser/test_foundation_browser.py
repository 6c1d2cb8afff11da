"""Each demo account signs in and out in a real browser; axe checks every page visited."""

import pytest

from tests.browser.conftest import check_accessibility, sign_in, sign_out

DEMO_ACCOUNTS = (["admin@example.org", "tutor1@example.org", "tutor2@example.org", "academic1@example.org",
                  "supervisor1@example.org", "supervisor2@example.org"]
                 + [f"trainee{n}@example.org" for n in range(1, 13)])


def test_sign_in_page_and_error_summary(page):
    page.goto("/sign-in")
    check_accessibility(page)
    page.get_by_label("Email").fill("trainee1@example.org")
    page.get_by_label("Password").fill("wrong password here")
    page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    assert "The email or password is not right" in summary.inner_text()
    # The error summary receives focus and links to the field.
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")
    assert page.get_by_label("Email").input_value() == "trainee1@example.org"
    check_accessibility(page)


@pytest.mark.parametrize("email", DEMO_ACCOUNTS)
def test_every_demo_account_signs_in_and_out(page, email):
    sign_in(page, email)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello,")
    check_accessibility(page)
    sign_out(page)
    assert "You have signed out" in page.get_by_role("status").inner_text()
    check_accessibility(page)


def test_support_page_from_every_page(page):
    page.goto("/")
    check_accessibility(page)
    page.get_by_role("link", name="Need support now?").click()
    page.wait_for_url("**/support")
    assert "116 123" in page.content()
    check_accessibility(page)


def test_keyboard_skip_link(page):
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Skip to main content" in focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"


def test_narrow_screen_has_no_sideways_scroll(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 320, "height": 640})
    page = context.new_page()
    sign_in(page, "academic1@example.org")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()
