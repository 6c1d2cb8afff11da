"""The boards in a real browser, with axe on every page visited:

- a trainee starts a thread with a content note, another replies, a third reports it,
  a tutor hides it with a reason, and the author sees the reason;
- a trainee creates a study group and invites a peer, who accepts.
"""

from datetime import date

import pytest

from lms.extensions import db
from tests.browser.conftest import check_accessibility, sign_in, sign_out


@pytest.fixture(scope="module")
def boards_demo(live_server):
    """The boards' demo on the live server (its tables too, until the lead's migration adds them)."""
    from lms.boards import demo

    with live_server.app.app_context():
        db.create_all()
        demo.seed(date.today())
        db.session.commit()
    return live_server


def visit(page, path):
    page.goto(path)
    check_accessibility(page)


def test_a_thread_with_a_content_note_is_reported_and_hidden_with_a_reason(page, boards_demo):
    title = "What I noticed after the personal stories day"
    # Ben starts a thread with a content note.
    sign_in(page, "trainee2@example.org")
    page.get_by_role("link", name="Boards", exact=True).click()
    page.wait_for_url("**/boards")
    check_accessibility(page)
    page.get_by_role("link", name="Peer Support Worker Training").first.click()
    check_accessibility(page)
    page.get_by_role("link", name="Start a new thread").click()
    check_accessibility(page)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your post").fill("Telling part of my story was **harder** than I expected.")
    page.get_by_label("Content note (optional)").fill("talks about a hospital stay")
    page.get_by_role("button", name="Start thread").click()
    page.wait_for_url("**/boards/threads/*")
    assert "Your thread has been started." in page.get_by_role("status").inner_text()
    note = page.locator("details.post-note").first
    assert not note.evaluate("element => element.open")  # folded until the reader opens it
    check_accessibility(page)
    thread_url = page.url
    sign_out(page)

    # Chloe opens the note and replies.
    sign_in(page, "trainee3@example.org")
    visit(page, thread_url)
    page.locator("summary", has_text="talks about a hospital stay").click()
    assert page.get_by_text("harder than I expected").is_visible()
    check_accessibility(page)
    page.get_by_label("Your reply").fill("Thank you for sharing this. It was the same for me.")
    page.get_by_role("button", name="Post reply").click()
    page.wait_for_url("**/boards/threads/*")
    assert "Your reply has been posted." in page.get_by_role("status").inner_text()
    check_accessibility(page)
    sign_out(page)

    # David reports Ben's post.
    sign_in(page, "trainee4@example.org")
    visit(page, thread_url)
    page.get_by_role("link", name="Report this post by Ben Carter").click()
    check_accessibility(page)
    page.get_by_role("button", name="Send report").click()
    assert "Enter what worries you about this post" in page.get_by_role("alert").inner_text()
    check_accessibility(page)
    page.get_by_label("Reason").fill("It mentions the ward where a colleague works.")
    page.get_by_role("button", name="Send report").click()
    assert "A tutor will look at the post" in page.get_by_role("status").inner_text()
    check_accessibility(page)
    sign_out(page)

    # Priya hides it with a reason.
    sign_in(page, "tutor1@example.org")
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/boards/reports")
    check_accessibility(page)
    item = page.locator("article.queue-item", has_text="It mentions the ward where a colleague works.")
    item.get_by_role("link", name="Hide this post").click()
    check_accessibility(page)
    page.get_by_role("button", name="Hide the post").click()
    assert "Enter the reason for hiding this post" in page.get_by_role("alert").inner_text()
    check_accessibility(page)
    reason = "It could identify a colleague. Please share your own story without naming the ward."
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Hide the post").click()
    page.wait_for_url("**/boards/reports")
    assert "Its author has been told why, privately." in page.get_by_role("status").inner_text()
    check_accessibility(page)
    sign_out(page)

    # Ben sees the reason, privately.
    sign_in(page, "trainee2@example.org")
    page.get_by_role("link", name="Notifications").click()
    check_accessibility(page)
    assert reason in page.content()
    page.get_by_role("link", name="A tutor has hidden one of your posts").first.click()
    page.wait_for_url("**/boards/threads/*")
    assert reason in page.locator("article", has_text="A tutor has hidden this post").first.inner_text()
    check_accessibility(page)
    sign_out(page)

    # Chloe sees only that a tutor hid it.
    sign_in(page, "trainee3@example.org")
    visit(page, thread_url)
    assert "A tutor has hidden this post." in page.content() and reason not in page.content()
    sign_out(page)


def test_a_trainee_creates_a_study_group_and_invites_a_peer(page, boards_demo):
    sign_in(page, "trainee6@example.org")
    visit(page, "/boards/groups")
    page.get_by_role("link", name="Start a study group").click()
    check_accessibility(page)
    page.get_by_role("button", name="Start the group").click()
    assert "Give your study group a name." in page.get_by_role("alert").inner_text()
    check_accessibility(page)
    page.get_by_label("Group name").fill("Listening skills practice")
    page.get_by_label("What the group is for").fill("Practising active listening in pairs before day 8.")
    page.get_by_label("Invite only: members invite people").check()
    page.get_by_role("button", name="Start the group").click()
    page.wait_for_url("**/boards/groups/*")
    assert "has been set up" in page.get_by_role("status").inner_text()
    check_accessibility(page)
    page.get_by_label("Person to invite").select_option(label="Grace O'Neill")
    page.get_by_role("button", name="Send invitation").click()
    assert "Grace O'Neill has been invited" in page.get_by_role("status").inner_text()
    check_accessibility(page)
    sign_out(page)

    sign_in(page, "trainee7@example.org")
    visit(page, "/boards")
    page.get_by_role("button", name="Accept the invitation to Listening skills practice").click()
    assert "You have joined" in page.get_by_role("status").inner_text()
    check_accessibility(page)
    page.get_by_role("link", name="Go to the group’s board").click()
    check_accessibility(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Listening skills practice"
    sign_out(page)
