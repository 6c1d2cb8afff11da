"""Unread markers, watching threads and boards, notifications, e-mail now or as a daily digest."""

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.boards import demo as boards_demo
from lms.boards.models import Board, DigestItem, Post, Subscription, Thread, ThreadRead
from lms.boards.services import send_daily_digests
from lms.cohorts.models import Cohort
from lms.extensions import db
from lms.notify.models import Notification, OutboxEmail
from tests.conftest import csrf_token, sign_in


@pytest.fixture
def boards(demo, today):
    boards_demo.seed(today)
    db.session.commit()


def switch(client, email):
    if client.get("/home").status_code == 200:
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    assert sign_in(client, email).status_code == 302
    return client


def post_form(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, "/home"), **fields})


def reply(client, thread_id, body="A reply"):
    return post_form(client, f"/boards/threads/{thread_id}/reply", body=body, accept_agreement="y")


def thread_titled(title) -> Thread:
    return db.session.execute(select(Thread).where(Thread.title == title)).scalar_one()


def person(email) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def cohort_board() -> Board:
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    return db.session.execute(select(Board).where(Board.key == f"cohort:{cohort.id}")).scalar_one()


def set_email_choice(email, choice):
    user = person(email)
    user.notification_email = choice
    db.session.commit()


def test_unread_markers_for_threads_and_boards(client, boards):
    board = cohort_board()
    thread = thread_titled("Introductions: say hello")
    switch(client, "trainee2@example.org")
    index = client.get("/boards").get_data(as_text=True)
    assert "5 threads with posts you have not read" in index
    client.get(f"/boards/threads/{thread.id}")
    assert "4 threads with posts you have not read" in client.get("/boards").get_data(as_text=True)
    row = db.session.execute(select(ThreadRead).where(ThreadRead.thread_id == thread.id)).scalar_one()
    assert row.last_read_post_id == thread.last_post_id

    switch(client, "trainee3@example.org")
    assert reply(client, thread.id, "Hello again from Chloe").status_code == 302
    switch(client, "trainee2@example.org")
    board_page = client.get(f"/boards/{board.id}").get_data(as_text=True)
    row_html = board_page[board_page.index(f'/boards/threads/{thread.id}"') - 200:board_page.index(f'/boards/threads/{thread.id}"')]
    assert "New" in row_html
    page = client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)
    # Only the reply written since the last visit is marked new.
    assert page.count('<span class="tag tag--new">New</span>') == 1
    assert "5 threads" not in client.get("/boards").get_data(as_text=True)

    assert post_form(client, f"/boards/{board.id}/read").status_code == 302
    assert "You are up to date" in client.get("/boards").get_data(as_text=True)


def test_a_long_thread_opens_at_the_first_unread_page(client, boards, app):
    thread = thread_titled("Introductions: say hello")
    author = person("trainee3@example.org")
    db.session.execute(Post.__table__.insert(), [
        {"thread_id": thread.id, "board_id": thread.board_id, "author_id": author.id, "body": f"Post {n}",
         "display_mode": "name", "status": "published", "created_at": thread.created_at} for n in range(100)])
    thread.post_count += 100
    thread.last_post_id = db.session.execute(select(func.max(Post.id))).scalar()
    db.session.commit()
    switch(client, "trainee2@example.org")
    first_page = client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)
    assert "Page 1 of 3" in first_page
    # Reading page 1 moves the marker; next time the thread opens on page 2.
    assert "Page 2 of 3" in client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)


def test_watchers_are_told_in_the_lms_and_by_email_now(client, boards):
    thread = thread_titled("Introductions: say hello")  # Amira (trainee1) started it, so watches it
    switch(client, "trainee2@example.org")
    assert reply(client, thread.id, "Something personal about my week").status_code == 302
    amira = person("trainee1@example.org")
    note = db.session.execute(select(Notification).where(Notification.user_id == amira.id)).scalar_one()
    assert note.subject == "New reply in \u201cIntroductions: say hello\u201d" and note.link.startswith("/boards/posts/")
    email = db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == amira.email)).scalar_one()
    # E-mails say that something happened, never what was written.
    assert "Something personal" not in email.body and "Introductions" not in email.body
    assert "http://localhost/boards/posts/" in email.body
    # The author is not told about their own post; the replier now watches the thread.
    assert not db.session.execute(select(Notification).where(Notification.user_id == person("trainee2@example.org").id)
                                  ).first()
    assert db.session.execute(select(Subscription).where(Subscription.user_id == person("trainee2@example.org").id,
                                                         Subscription.thread_id == thread.id)).scalar_one()


def test_stop_watching_a_thread_and_watch_a_board(client, boards):
    thread = thread_titled("Introductions: say hello")
    board = cohort_board()
    switch(client, "trainee1@example.org")
    assert post_form(client, f"/boards/threads/{thread.id}/watch", action="stop").status_code == 302
    assert post_form(client, f"/boards/{board.id}/watch").status_code == 302
    switch(client, "trainee2@example.org")
    reply(client, thread.id)
    post_form(client, f"/boards/{board.id}/new", title="A new question", body="What do you all think?",
              accept_agreement="y")
    subjects = db.session.execute(select(Notification.subject).where(
        Notification.user_id == person("trainee1@example.org").id)).scalars().all()
    # Watching the board brings both the reply and the new thread.
    assert "New thread on" in " ".join(subjects) and len(subjects) == 2
    switch(client, "trainee1@example.org")
    assert post_form(client, f"/boards/{board.id}/watch", action="stop").status_code == 302
    assert not db.session.execute(select(Subscription).where(
        Subscription.user_id == person("trainee1@example.org").id, Subscription.board_id == board.id)).first()


def test_never_means_no_email_and_daily_means_the_digest(client, boards):
    thread = thread_titled("Introductions: say hello")
    set_email_choice("trainee1@example.org", "never")
    set_email_choice("trainee12@example.org", "daily")  # Lee replied in the thread, so watches it
    switch(client, "trainee2@example.org")
    reply(client, thread.id, "First")
    assert not db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == "trainee1@example.org")).first()
    assert not db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == "trainee12@example.org")).first()
    assert db.session.execute(select(func.count(DigestItem.id)).where(
        DigestItem.user_id == person("trainee12@example.org").id)).scalar_one() == 1
    # In the LMS, everyone watching is told.
    assert db.session.execute(select(Notification).where(
        Notification.user_id == person("trainee1@example.org").id)).first()


def test_the_daily_digest_job_sends_one_email_and_leaves_out_hidden_posts(client, boards, runner):
    thread = thread_titled("Introductions: say hello")
    set_email_choice("trainee1@example.org", "daily")
    switch(client, "trainee2@example.org")
    reply(client, thread.id, "First")
    reply(client, thread.id, "Second")
    second = db.session.execute(select(Post).order_by(Post.id.desc())).scalars().first()
    switch(client, "tutor1@example.org")
    post_form(client, f"/boards/posts/{second.id}/hide", reason="Please keep to the agreement.")
    assert send_daily_digests() == 1
    emails = db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == "trainee1@example.org")
                                ).scalars().all()
    assert len(emails) == 1
    digest = emails[0]
    assert digest.subject == "Your daily digest from the course boards"
    assert "There is 1 new post" in digest.body and f"/boards/posts/{second.id}" not in digest.body
    assert "First" not in digest.body  # links, never words
    assert emails[0].sent_at is not None
    assert db.session.execute(select(func.count(DigestItem.id))).scalar_one() == 0
    # Nothing left: the command says so.
    result = runner.invoke(args=["boards", "send-digests"])
    assert result.exit_code == 0 and "Sent 0 daily digests." in result.output


def test_the_digest_command_for_cron(client, boards, runner):
    set_email_choice("trainee1@example.org", "daily")
    switch(client, "trainee2@example.org")
    reply(client, thread_titled("Introductions: say hello").id)
    result = runner.invoke(args=["boards", "send-digests"])
    assert result.exit_code == 0 and "Sent 1 daily digest." in result.output
    assert db.session.execute(select(OutboxEmail).where(OutboxEmail.subject.like("Your daily digest%"))).scalar_one()


def test_a_digest_leaves_out_boards_the_person_can_no_longer_read(client, boards):
    group = db.session.execute(select(Board).where(Board.name == "Assignment buddies")).scalar_one()
    thread = db.session.execute(select(Thread).where(Thread.board_id == group.id)).scalars().first()
    set_email_choice("trainee4@example.org", "daily")
    switch(client, "trainee5@example.org")
    reply(client, thread.id)
    assert db.session.execute(select(DigestItem).where(DigestItem.user_id == person("trainee4@example.org").id)).first()
    switch(client, "trainee4@example.org")
    post_form(client, f"/boards/groups/{group.study_group_id}/leave")
    assert send_daily_digests() == 0
    assert not db.session.execute(select(OutboxEmail).where(OutboxEmail.subject.like("Your daily digest%"))).first()
