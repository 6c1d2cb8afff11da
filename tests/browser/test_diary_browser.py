"""In a real browser: an entry from a day's prompt, a language suggestion, sharing, a comment, withdrawal."""

from urllib.parse import urlencode

import pytest

from lms.extensions import db
from tests.browser.conftest import check_accessibility, sign_in, sign_out

PROMPT = "Which of your own strengths did you find hardest to accept today, and why might that be?"


@pytest.fixture(scope="module")
def diary_tables(live_server):
    """The diary's tables, until the migrations that make them are generated (a no-op afterwards)."""
    with live_server.app.app_context():
        db.create_all()
        db.engine.dispose()
    # Autosave every second rather than every 20, so the test sees it happen.
    live_server.app.config["LMS_DIARY_AUTOSAVE_SECONDS"] = 1
    yield
    live_server.app.config.pop("LMS_DIARY_AUTOSAVE_SECONDS")


def test_write_from_a_prompt_share_comment_and_withdraw(page, diary_tables):
    sign_in(page, "trainee1@example.org")
    page.goto("/diary/new?" + urlencode({"day": 3, "prompt": PROMPT}))
    page.get_by_text(PROMPT).wait_for()
    assert page.get_by_label("Title").input_value() == "Day 3 reflection"
    check_accessibility(page)

    page.get_by_label("Title").fill("Owning my listening")
    page.get_by_label("Your entry").fill(
        "For years I called myself a self-harmer. Today someone said I listen well, and I noticed "
        "how hard it was to accept.")
    suggestions = page.locator("#body-language")
    suggestions.get_by_text("a person who self-harms").wait_for()
    page.get_by_text("Draft saved at").wait_for()  # autosave made a draft; saving now updates it
    check_accessibility(page)

    page.get_by_label("3 – Getting by").check()
    page.get_by_role("button", name="Save entry").click()
    page.wait_for_url("**/diary/entries/*")
    entry_url = page.url
    entry_path = entry_url.split("/diary/entries/")[1]
    page.get_by_role("heading", name="Owning my listening").wait_for()
    check_accessibility(page)

    page.goto("/diary")
    assert page.get_by_role("link", name="Owning my listening").count() == 1
    check_accessibility(page)
    page.goto(entry_url)
    page.get_by_role("button", name="Share with Helen Marsh").click()
    page.get_by_text("Your entry is shared").wait_for()
    check_accessibility(page)
    sign_out(page)

    sign_in(page, "academic1@example.org")
    page.get_by_role("link", name="Shared with me").click()
    page.get_by_text("Waiting for your comment").first.wait_for()
    check_accessibility(page)
    page.get_by_role("link", name="Owning my listening").click()
    page.get_by_text("how hard it was to accept").wait_for()
    assert page.get_by_text("Getting by").count() == 0  # the check-in is never shared
    check_accessibility(page)
    page.get_by_label("Write a comment").fill("Thank you for sharing this. Noticing that is a real strength.")
    page.get_by_role("button", name="Add comment").click()
    page.get_by_text("Your comment has been sent").wait_for()
    check_accessibility(page)
    shared_url = page.url.split("#")[0]
    sign_out(page)

    sign_in(page, "trainee1@example.org")
    page.goto(entry_url)
    page.get_by_text("Noticing that is a real strength").wait_for()
    page.get_by_role("button", name="Stop sharing with Helen Marsh").click()
    page.get_by_text("It is private again").wait_for()
    check_accessibility(page)
    sign_out(page)

    sign_in(page, "academic1@example.org")
    response = page.goto(shared_url)
    assert response.status == 404 and f"/shared-with-me/diary/{entry_path}" in shared_url
    page.get_by_role("heading", name="Page not found").wait_for()
    check_accessibility(page)
    page.goto("/shared-with-me")
    assert page.get_by_text("Owning my listening").count() == 0
    check_accessibility(page)


def test_diary_wellness_plan_and_practice_pages_are_accessible(page, diary_tables):
    sign_in(page, "trainee2@example.org")
    page.get_by_role("link", name="Wellness plan").click()
    check_accessibility(page)
    page.get_by_role("link", name="Start my wellness plan").click()
    page.get_by_label("My daily wellness tools").fill("A walk before work")
    page.get_by_label("What helps").fill("A calm voice")
    check_accessibility(page)
    page.get_by_role("button", name="Save my plan").click()
    page.get_by_text("Version 1, saved on").wait_for()
    check_accessibility(page)

    page.get_by_role("link", name="My diary").click()
    check_accessibility(page)
    page.get_by_role("link", name="Diary settings").click()
    check_accessibility(page)

    page.get_by_role("link", name="Language practice").click()
    page.get_by_label("Your text").fill("She is a borderline, and the mentally ill need more help.")
    page.get_by_role("button", name="Check my language").click()
    page.get_by_text("Why:").first.wait_for()
    check_accessibility(page)
