"""Reports, hiding with a reason, approving, locking, pinning, moving, and board settings."""

import pytest
from sqlalchemy import func, select

from lms.audit.models import AuditEvent
from lms.boards import demo as boards_demo
from lms.boards.models import Board, Post, PostReport, Thread
from lms.cohorts.models import Cohort
from lms.extensions import db
from lms.notify.models import Notification, OutboxEmail
from tests.conftest import csrf_token, sign_in


@pytest.fixture
def boards(demo, today):
    boards_demo.seed(today)
    db.session.commit()


def cohort_board(slug="demo-running") -> Board:
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one()
    return db.session.execute(select(Board).where(Board.key == f"cohort:{cohort.id}")).scalar_one()


def thread_titled(title) -> Thread:
    return db.session.execute(select(Thread).where(Thread.title == title)).scalar_one()


def first_post(title) -> Post:
    return db.session.execute(select(Post).where(Post.thread_id == thread_titled(title).id).order_by(Post.id)
                              ).scalars().first()


def switch(client, email):
    if client.get("/home").status_code == 200:
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    assert sign_in(client, email).status_code == 302
    return client


def post_form(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, "/home"), **fields})


def test_report_then_hide_with_a_reason_that_only_the_author_is_told(client, boards):
    post = first_post("What helped me on the strengths day")  # by Chloe, trainee3
    switch(client, "trainee4@example.org")
    assert client.get(f"/boards/posts/{post.id}/report").status_code == 200
    response = post_form(client, f"/boards/posts/{post.id}/report", reason="It names someone from my workplace.")
    assert response.status_code == 302
    # (The demo has a report of its own waiting, on another post.)
    report = db.session.execute(select(PostReport).where(PostReport.post_id == post.id)).scalar_one()
    assert report.reporter.email == "trainee4@example.org" and report.resolved_at is None
    told = db.session.execute(select(Notification.user_id).where(Notification.subject.like("%has been reported"))
                              ).scalars().all()
    assert told and post.author_id not in told

    switch(client, "tutor1@example.org")
    queue = client.get("/boards/reports").get_data(as_text=True)
    assert "It names someone from my workplace." in queue and "The strengths-spotting exercise" in queue
    assert "Chloe Nguyen" in queue
    # A reason is required.
    response = post_form(client, f"/boards/posts/{post.id}/hide", reason="  ")
    assert response.status_code == 400
    assert "Enter the reason for hiding this post" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == "published"
    reason = "It mentions a colleague by name. Please share your own story without naming others."
    response = post_form(client, f"/boards/posts/{post.id}/hide", reason=reason)
    assert response.status_code == 302
    db.session.expire_all()
    hidden = db.session.get(Post, post.id)
    assert hidden.status == "hidden" and hidden.hidden_reason == reason
    assert db.session.get(PostReport, report.id).outcome == "hidden"
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "board_post.hidden")).scalar_one()
    assert "It names someone from my workplace." not in client.get("/boards/reports").get_data(as_text=True)

    # The author is told why, privately: in the LMS with the reason, by e-mail without it.
    author_note = db.session.execute(select(Notification).where(
        Notification.user_id == post.author_id, Notification.subject.like("%hidden%"))).scalar_one()
    assert reason in author_note.body
    emails = db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == "trainee3@example.org")
                                ).scalars().all()
    assert emails and all(reason not in e.body for e in emails)

    thread_id = post.thread_id
    switch(client, "trainee5@example.org")
    page = client.get(f"/boards/threads/{thread_id}").get_data(as_text=True)
    assert "A tutor has hidden this post." in page and "The strengths-spotting exercise" not in page
    assert reason not in page
    # Isla's reply quoted the hidden post: the quotation is taken out too.
    assert "The quoted post is no longer shown." in page
    switch(client, "trainee3@example.org")
    page = client.get(f"/boards/threads/{thread_id}").get_data(as_text=True)
    assert reason in page and "Only you and the tutors can see it" in page
    assert reason in client.get("/notifications").get_data(as_text=True)


def test_report_needs_a_reason_and_counts_once(client, boards):
    post = first_post("Introductions: say hello")
    switch(client, "trainee2@example.org")
    response = post_form(client, f"/boards/posts/{post.id}/report", reason="")
    assert response.status_code == 400
    assert "Enter what worries you about this post" in response.get_data(as_text=True)
    assert post_form(client, f"/boards/posts/{post.id}/report", reason="Worried").status_code == 302
    response = post_form(client, f"/boards/posts/{post.id}/report", reason="Again")
    assert response.status_code == 400 and "already reported" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count(PostReport.id)).where(PostReport.post_id == post.id)).scalar_one() == 1


def test_reporting_a_post_one_cannot_see_is_not_found(client, boards):
    running = first_post("Introductions: say hello")
    group = first_post("Reading session on Thursday")
    switch(client, "trainee13@example.org")  # finished cohort
    assert client.get(f"/boards/posts/{running.id}/report").status_code == 404
    assert post_form(client, f"/boards/posts/{running.id}/report", reason="x").status_code == 404
    switch(client, "trainee1@example.org")  # not in the study group
    assert post_form(client, f"/boards/posts/{group.id}/report", reason="x").status_code == 404
    assert db.session.execute(select(func.count(PostReport.id)).where(
        PostReport.post_id.in_([running.id, group.id]))).scalar_one() == 0


def test_one_cannot_report_ones_own_post(client, boards):
    post = first_post("Introductions: say hello")
    switch(client, "trainee1@example.org")
    response = post_form(client, f"/boards/posts/{post.id}/report", reason="x")
    assert response.status_code == 400 and "This is your own post" in response.get_data(as_text=True)


def test_a_tutor_moderates_a_reported_study_group_post_without_reading_the_group(client, boards):
    post = first_post("Reading session on Thursday")  # Ella's, in Assignment buddies
    # Before anyone reports it, moderating the group is no way in: every moderation page is not found.
    switch(client, "tutor1@example.org")
    assert client.get(f"/boards/posts/{post.id}/hide").status_code == 404
    assert post_form(client, f"/boards/posts/{post.id}/hide", reason="x").status_code == 404
    assert post_form(client, f"/boards/posts/{post.id}/keep").status_code == 404
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == "published"
    switch(client, "trainee4@example.org")  # a member
    assert post_form(client, f"/boards/posts/{post.id}/report", reason="Shares a phone number").status_code == 302
    switch(client, "tutor1@example.org")
    assert client.get(f"/boards/threads/{post.thread_id}").status_code == 404
    assert "Shares a phone number" in client.get("/boards/reports").get_data(as_text=True)
    assert client.get(f"/boards/posts/{post.id}/hide").status_code == 200
    assert post_form(client, f"/boards/posts/{post.id}/hide", reason="Please keep numbers private").status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == "hidden"
    # The report is dealt with, so the tutor is out of the group again.
    assert client.get(f"/boards/posts/{post.id}/hide").status_code == 404


def test_keeping_a_reported_post_closes_its_reports(client, boards):
    post = first_post("Introductions: say hello")
    switch(client, "trainee2@example.org")
    post_form(client, f"/boards/posts/{post.id}/report", reason="Not sure about this")
    switch(client, "tutor1@example.org")
    assert post_form(client, f"/boards/posts/{post.id}/keep").status_code == 302
    db.session.expire_all()
    assert db.session.execute(select(PostReport).where(PostReport.post_id == post.id)).scalar_one().outcome == "kept"
    assert db.session.get(Post, post.id).status == "published"
    # Nothing left to keep.
    assert post_form(client, f"/boards/posts/{post.id}/keep").status_code == 400


@pytest.mark.parametrize("email", ["trainee2@example.org", "academic1@example.org"])
def test_only_tutors_and_admins_moderate(client, boards, email):
    post = first_post("Introductions: say hello")
    switch(client, email)
    assert client.get("/boards/reports").status_code == 403
    assert post_form(client, f"/boards/posts/{post.id}/hide", reason="x").status_code == 403
    assert post_form(client, f"/boards/threads/{post.thread_id}/moderate", action="lock").status_code == 403
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == "published"
    assert not db.session.get(Thread, post.thread_id).locked


def test_a_tutor_of_another_cohort_cannot_hide(client, boards):
    from lms.accounts import services as accounts

    other = Cohort(slug="other", name="Other cohort", course_slug="peer-support-l4",
                   start_date=db.session.execute(select(Cohort.start_date)).scalars().first())
    db.session.add(other)
    db.session.flush()
    tutor = accounts.create_user("tutor9@example.org", "Nia Jones", "peer-support-demo")
    accounts.grant_role(tutor, "tutor", other.id)
    db.session.commit()
    post = first_post("Introductions: say hello")
    switch(client, "tutor9@example.org")
    assert post_form(client, f"/boards/posts/{post.id}/hide", reason="x").status_code == 404
    assert client.get(f"/boards/threads/{post.thread_id}").status_code == 404
    assert "Introductions" not in client.get("/boards/reports").get_data(as_text=True)


def test_lock_pin_and_move_a_thread(client, boards):
    thread = thread_titled("Introductions: say hello")
    switch(client, "tutor1@example.org")
    for action in ("lock", "pin"):
        assert post_form(client, f"/boards/threads/{thread.id}/moderate", action=action).status_code == 302
    db.session.expire_all()
    thread = db.session.get(Thread, thread.id)
    assert thread.locked and thread.pinned
    page = client.get(f"/boards/{thread.board_id}").get_data(as_text=True)
    assert "Pinned" in page and "Locked" in page
    assert post_form(client, f"/boards/threads/{thread.id}/moderate", action="explode").status_code == 400
    assert post_form(client, f"/boards/threads/{thread.id}/moderate", action="unlock").status_code == 302

    finished = cohort_board("demo-finished")
    page = client.get(f"/boards/threads/{thread.id}/move").get_data(as_text=True)
    assert finished.name in page and "Assignment buddies" not in page
    response = post_form(client, f"/boards/threads/{thread.id}/move")
    assert response.status_code == 400 and "Choose the board" in response.get_data(as_text=True)
    assert post_form(client, f"/boards/threads/{thread.id}/move", board_id=str(finished.id)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Thread, thread.id).board_id == finished.id
    assert set(db.session.execute(select(Post.board_id).where(Post.thread_id == thread.id)).scalars()) == {finished.id}
    switch(client, "trainee2@example.org")
    assert client.get(f"/boards/threads/{thread.id}").status_code == 404


def test_board_settings(client, boards):
    board = cohort_board()
    switch(client, "tutor1@example.org")
    assert client.get(f"/boards/{board.id}/settings").status_code == 200
    assert post_form(client, f"/boards/{board.id}/settings", premoderated="y").status_code == 302
    db.session.expire_all()
    board = db.session.get(Board, board.id)
    assert board.premoderated and not board.allow_pseudonyms
    group = db.session.execute(select(Board).where(Board.kind == "group")).scalars().first()
    assert client.get(f"/boards/{group.id}/settings").status_code == 404


def test_a_study_groups_threads_cannot_be_moved_out_of_the_group(client, boards):
    from lms.accounts.models import User
    from lms.boards.models import BoardMember

    group_board = db.session.execute(select(Board).where(Board.name == "Assignment buddies")).scalar_one()
    tutor = db.session.execute(select(User).where(User.email == "tutor1@example.org")).scalar_one()
    db.session.add(BoardMember(board_id=group_board.id, user_id=tutor.id, status="member"))
    db.session.commit()
    thread = db.session.execute(select(Thread).where(Thread.board_id == group_board.id)).scalars().first()
    switch(client, "tutor1@example.org")
    page = client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)
    assert "Move thread" not in page
    response = post_form(client, f"/boards/threads/{thread.id}/move", board_id=str(cohort_board().id))
    assert response.status_code == 409 and "stay in the group" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Thread, thread.id).board_id == group_board.id
