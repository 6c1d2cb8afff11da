"""Starting threads, replying, quoting, editing, removing, content notes, pseudonyms, and every bad input."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.boards import demo as boards_demo
from lms.boards.models import AgreementAcceptance, Board, Post, Thread
from lms.cohorts.models import Cohort
from lms.extensions import db
from tests.conftest import csrf_token, sign_in


@pytest.fixture
def boards(demo, today):
    boards_demo.seed(today)
    db.session.commit()


def cohort_board(slug="demo-running") -> Board:
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one()
    return db.session.execute(select(Board).where(Board.key == f"cohort:{cohort.id}")).scalar_one()


def group_board(name="Assignment buddies") -> Board:
    return db.session.execute(select(Board).where(Board.kind == "group", Board.name == name)).scalar_one()


def thread_titled(title) -> Thread:
    return db.session.execute(select(Thread).where(Thread.title == title)).scalar_one()


def post_count() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count(Post.id))).scalar_one()


def as_person(client, email):
    assert sign_in(client, email).status_code == 302
    return client


def new_thread(client, board_id, **fields):
    data = {"title": "Something I noticed", "body": "A kind post.", "accept_agreement": "y",
            "csrf_token": csrf_token(client, "/home"), **fields}
    return client.post(f"/boards/{board_id}/new", data=data)


def reply(client, thread_id, **fields):
    data = {"body": "Thank you for sharing.", "accept_agreement": "y", "csrf_token": csrf_token(client, "/home"),
            **fields}
    return client.post(f"/boards/threads/{thread_id}/reply", data=data)


def test_start_a_thread_with_a_content_note(client, boards):
    as_person(client, "trainee2@example.org")
    board = cohort_board()
    response = new_thread(client, board.id, title="After day 6", body="Some of it was *hard* to hear.",
                          content_note="talks about self-harm")
    assert response.status_code == 302
    thread = thread_titled("After day 6")
    assert response.headers["Location"].endswith(f"/boards/threads/{thread.id}")
    page = client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)
    # Folded until the reader opens it, and works without JavaScript.
    assert '<details class="post-note">' in page
    assert "Content note:</span> talks about self-harm" in page
    folded = page[page.index('<details class="post-note">'):page.index("</details>")]
    assert "<em>hard</em>" in folded
    assert thread.post_count == 1 and thread.author_id is not None


def test_reply_quoting_an_earlier_post(client, boards):
    as_person(client, "trainee4@example.org")
    thread = thread_titled("What helped me on the strengths day")
    first = db.session.execute(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)).scalars().first()
    page = client.get(f"/boards/threads/{thread.id}?quote={first.id}").get_data(as_text=True)
    assert f"[Chloe Nguyen wrote](#post-{first.id}):" in page
    assert "&gt; The strengths-spotting exercise surprised me." in page
    assert f'name="quoted_post_id" type="hidden" value="{first.id}"' in page
    body = f"[Chloe Nguyen wrote](#post-{first.id}):\n\n> The strengths-spotting exercise surprised me.\n\nMe too."
    response = reply(client, thread.id, body=body, quoted_post_id=str(first.id))
    assert response.status_code == 302
    post = db.session.execute(select(Post).order_by(Post.id.desc())).scalars().first()
    assert post.quoted_post_id == first.id
    page = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert f'<a href="#post-{first.id}">Chloe Nguyen wrote</a>' in page
    assert "<blockquote>" in page and "Quoting" in page


def test_a_quote_of_a_post_in_another_thread_is_ignored(client, boards):
    as_person(client, "trainee4@example.org")
    other = db.session.execute(select(Post).where(
        Post.thread_id == thread_titled("Introductions: say hello").id)).scalars().first()
    thread = thread_titled("What helped me on the strengths day")
    assert reply(client, thread.id, quoted_post_id=str(other.id)).status_code == 302
    post = db.session.execute(select(Post).order_by(Post.id.desc())).scalars().first()
    assert post.quoted_post_id is None


@pytest.mark.parametrize("slug_or_group", ["demo-finished", "group"])
def test_posting_to_a_board_one_is_not_on_is_not_found(client, boards, slug_or_group):
    as_person(client, "trainee1@example.org")
    board = group_board() if slug_or_group == "group" else cohort_board(slug_or_group)
    before = post_count()
    assert client.get(f"/boards/{board.id}").status_code == 404
    assert client.get(f"/boards/{board.id}/new").status_code == 404
    assert new_thread(client, board.id).status_code == 404
    thread = db.session.execute(select(Thread).where(Thread.board_id == board.id)).scalars().first()
    assert client.get(f"/boards/threads/{thread.id}").status_code == 404
    assert reply(client, thread.id).status_code == 404
    assert post_count() == before


def test_replying_to_a_locked_thread_is_refused(client, boards):
    thread = thread_titled("Introductions: say hello")
    thread.locked = True
    db.session.commit()
    as_person(client, "trainee2@example.org")
    before = post_count()
    response = reply(client, thread.id, body="Can I still say hello?")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This thread is locked, so new replies cannot be added." in page
    # What was typed is on the page to copy, where the error summary's link points.
    assert 'id="body" rows="8" readonly>Can I still say hello?</textarea>' in page and 'href="#body"' in page
    assert post_count() == before
    assert "Post reply" not in client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)


def test_editing_someone_elses_post_is_refused(client, boards):
    thread = thread_titled("Introductions: say hello")
    amiras = db.session.execute(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)).scalars().first()
    original = amiras.body
    as_person(client, "trainee2@example.org")
    # The edit page of someone else's post does not exist for them, and the page says why.
    assert client.get(f"/boards/posts/{amiras.id}/edit").status_code == 404
    response = client.post(f"/boards/posts/{amiras.id}/edit",
                           data={"body": "Changed by someone else", "csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 404
    assert "You can only change or remove your own posts" in response.get_data(as_text=True)
    assert client.get(f"/boards/posts/{amiras.id}/remove").status_code == 404
    response = client.post(f"/boards/posts/{amiras.id}/remove", data={"csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Post, amiras.id).body == original
    assert db.session.get(Post, amiras.id).status == "published"


def test_edit_within_the_window_shows_as_edited_and_after_it_is_refused(client, boards):
    as_person(client, "trainee2@example.org")
    thread = thread_titled("Introductions: say hello")
    assert reply(client, thread.id, body="First words").status_code == 302
    post = db.session.execute(select(Post).order_by(Post.id.desc())).scalars().first()
    page = client.get(f"/boards/posts/{post.id}/edit")
    assert page.status_code == 200 and "First words" in page.get_data(as_text=True)
    response = client.post(f"/boards/posts/{post.id}/edit",
                           data={"body": "Better words", "csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 302
    page = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "Better words" in page and "(edited)" in page

    db.session.expire_all()
    post = db.session.get(Post, post.id)
    post.created_at = post.created_at - timedelta(minutes=31)
    db.session.commit()
    response = client.post(f"/boards/posts/{post.id}/edit",
                           data={"body": "Too late", "csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 409
    assert "30 minutes after they are written" in response.get_data(as_text=True)
    # The words typed come back with the refusal, to copy.
    assert 'id="kept-words" rows="8" readonly' in response.get_data(as_text=True)
    assert ">Too late</textarea>" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Post, post.id).body == "Better words"


def test_editing_the_first_post_can_change_the_title(client, boards):
    as_person(client, "trainee2@example.org")
    new_thread(client, cohort_board().id, title="Tyop in title", body="Hello")
    thread = thread_titled("Tyop in title")
    post = db.session.execute(select(Post).where(Post.thread_id == thread.id)).scalar_one()
    response = client.post(f"/boards/posts/{post.id}/edit", data={
        "title": "Typo in title", "body": "Hello", "csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Thread, thread.id).title == "Typo in title"


@pytest.mark.parametrize("body, message", [
    ("   ", "Write your post. It cannot be empty."),
    ("x" * 10_001, "Keep it to 10,000 characters"),
])
def test_empty_or_huge_posts_are_refused_and_what_was_typed_is_kept(client, boards, body, message):
    as_person(client, "trainee2@example.org")
    before = post_count()
    response = new_thread(client, cohort_board().id, title="Kept title", body=body)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'href="#body"' in page
    assert 'value="Kept title"' in page
    thread = thread_titled("Introductions: say hello")
    response = reply(client, thread.id, body=body)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert post_count() == before


def test_a_thread_needs_a_title(client, boards):
    as_person(client, "trainee2@example.org")
    response = new_thread(client, cohort_board().id, title=" ", body="Words")
    assert response.status_code == 400
    assert "Give your thread a title" in response.get_data(as_text=True)


HARMFUL = "<script>alert('boo')</script>\n\n<img src=x onerror=alert(1)>\n\n[click me](javascript:alert(1))"


def test_html_and_javascript_links_are_rendered_harmless(client, boards):
    as_person(client, "trainee2@example.org")
    assert new_thread(client, cohort_board().id, title="Harmless", body=HARMFUL).status_code == 302
    thread = thread_titled("Harmless")
    for email in ("trainee3@example.org", "tutor1@example.org"):
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
        as_person(client, email)
        page = client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert" in page
        assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        assert 'href="javascript:' not in page.lower() and "onerror=alert" not in page.replace("&lt;img src=x onerror", "")
        assert "click me" in page


def test_a_flood_of_posts_is_slowed_with_a_clear_message(client, boards):
    as_person(client, "trainee2@example.org")
    thread = thread_titled("Introductions: say hello")
    before = post_count()
    for number in range(10):
        assert reply(client, thread.id, body=f"Post number {number}").status_code == 302
    response = reply(client, thread.id, body="One more thought")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "You have posted 10 times in the last 5 minutes" in page
    assert "One more thought" in page  # what was typed is still there
    assert new_thread(client, cohort_board().id).status_code == 429
    assert post_count() == before + 10


def test_the_community_agreement_is_accepted_before_first_posting(client, boards):
    db.session.execute(AgreementAcceptance.__table__.delete())
    db.session.commit()
    as_person(client, "trainee2@example.org")
    thread = thread_titled("Introductions: say hello")
    page = client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)
    assert "Our community agreement" in page and "Share your own story, not other people" in page
    before = post_count()
    response = reply(client, thread.id, body="Hello!", accept_agreement="")
    assert response.status_code == 400
    assert "tick the box to accept it" in response.get_data(as_text=True)
    assert post_count() == before
    assert reply(client, thread.id, body="Hello!").status_code == 302
    assert db.session.execute(select(func.count(AgreementAcceptance.id))).scalar_one() == 1
    # Accepted once: the next post needs no box.
    assert reply(client, thread.id, body="Hello again", accept_agreement="").status_code == 302
    assert "Our community agreement" not in client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)


def test_the_agreement_page(client, boards):
    db.session.execute(AgreementAcceptance.__table__.delete())
    db.session.commit()
    as_person(client, "trainee2@example.org")
    assert client.get("/boards/agreement").status_code == 200
    response = client.post("/boards/agreement", data={"csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 400 and "Tick the box" in response.get_data(as_text=True)
    response = client.post("/boards/agreement", data={"csrf_token": csrf_token(client, "/home"),
                                                      "accept_agreement": "y"})
    assert response.status_code == 302
    assert "You have accepted this agreement" in client.get("/boards/agreement").get_data(as_text=True)


def test_the_author_removes_their_post_and_the_thread_keeps_its_context(client, boards):
    as_person(client, "trainee1@example.org")
    thread = thread_titled("Introductions: say hello")
    amiras = db.session.execute(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)).scalars().first()
    assert client.get(f"/boards/posts/{amiras.id}/remove").status_code == 200
    response = client.post(f"/boards/posts/{amiras.id}/remove", data={"csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 302
    db.session.expire_all()
    removed = db.session.get(Post, amiras.id)
    assert removed.status == "removed" and removed.body == "" and removed.removed_at is not None
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    as_person(client, "trainee3@example.org")
    page = client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)
    assert "Removed by the author." in page
    assert "I walk my dog" not in page
    assert "Nervous and excited" in page  # the replies stay
    assert db.session.get(Thread, thread.id).post_count == 5


def test_pseudonyms_where_the_board_allows_them(client, boards):
    as_person(client, "trainee2@example.org")
    board = cohort_board()
    assert board.allow_pseudonyms
    page = client.get(f"/boards/{board.id}/new").get_data(as_text=True)
    assert "Show my name as" in page
    response = new_thread(client, board.id, title="Under a pseudonym", body="Something personal.",
                          display_mode="pseudonym", pseudonym="Quiet River")
    assert response.status_code == 302
    thread = thread_titled("Under a pseudonym")
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    as_person(client, "trainee3@example.org")
    page = client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)
    assert "Quiet River (pseudonym)" in page and "Ben Carter" not in page
    board_page = client.get(f"/boards/{board.id}").get_data(as_text=True)
    assert "Quiet River (pseudonym)" in board_page and "Ben Carter" not in board_page
    # Moderators still see who wrote it.
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    as_person(client, "tutor1@example.org")
    page = client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)
    assert "Quiet River (pseudonym), written by Ben Carter" in page


def test_first_name_only_and_a_board_that_shows_names(client, boards):
    as_person(client, "trainee2@example.org")
    thread = thread_titled("Introductions: say hello")
    assert reply(client, thread.id, body="Just Ben", display_mode="first_name").status_code == 302
    assert db.session.execute(select(Post).order_by(Post.id.desc())).scalars().first().display_mode == "first_name"
    board = cohort_board()
    board.allow_pseudonyms = False
    db.session.commit()
    before = post_count()
    response = reply(client, thread.id, body="Hidden name", display_mode="pseudonym", pseudonym="Owl")
    assert response.status_code == 400
    assert "This board shows everyone" in response.get_data(as_text=True)
    assert post_count() == before


def test_pre_moderation_holds_posts_until_a_tutor_approves(client, boards):
    board = cohort_board()
    board.premoderated = True
    db.session.commit()
    thread = thread_titled("Introductions: say hello")
    as_person(client, "trainee2@example.org")
    response = reply(client, thread.id, body="Waiting words")
    assert response.status_code == 302
    page = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "Waiting for a tutor to approve this" in page and "Waiting words" in page
    post = db.session.execute(select(Post).order_by(Post.id.desc())).scalars().first()
    assert post.status == "waiting"
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    as_person(client, "trainee3@example.org")
    assert "Waiting words" not in client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)
    assert client.get(f"/boards/posts/{post.id}").status_code == 404
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    as_person(client, "tutor1@example.org")
    queue = client.get("/boards/reports").get_data(as_text=True)
    assert "Waiting words" in queue
    response = client.post(f"/boards/posts/{post.id}/approve", data={"csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == "published"
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    as_person(client, "trainee3@example.org")
    assert "Waiting words" in client.get(f"/boards/threads/{thread.id}").get_data(as_text=True)


def test_a_new_thread_on_a_pre_moderated_board_waits_unseen(client, boards):
    board = cohort_board()
    board.premoderated = True
    db.session.commit()
    as_person(client, "trainee2@example.org")
    assert new_thread(client, board.id, title="Waiting thread").status_code == 302
    thread = thread_titled("Waiting thread")
    assert not thread.approved
    assert "Waiting thread" in client.get(f"/boards/{board.id}").get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    as_person(client, "trainee3@example.org")
    assert "Waiting thread" not in client.get(f"/boards/{board.id}").get_data(as_text=True)
    assert client.get(f"/boards/threads/{thread.id}").status_code == 404


def test_check_my_language_shows_suggestions_and_posts_nothing(client, boards):
    as_person(client, "trainee2@example.org")
    thread = thread_titled("Introductions: say hello")
    before = post_count()
    response = reply(client, thread.id, body="He is a schizophrenic who suffers from depression.",
                     check_language="1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "suggestion" in page and "He is a schizophrenic" in page
    assert post_count() == before


def test_a_post_link_opens_the_right_page(client, boards):
    as_person(client, "trainee2@example.org")
    thread = thread_titled("Introductions: say hello")
    post = db.session.execute(select(Post).where(Post.thread_id == thread.id).order_by(Post.id.desc())).scalars().first()
    response = client.get(f"/boards/posts/{post.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/boards/threads/{thread.id}?page=1#post-{post.id}")
    assert client.get("/boards/posts/999999").status_code == 404
