"""Search returns only what each person may read: a matrix of roles and boards, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.boards import demo as boards_demo
from lms.boards import moderation, services
from lms.boards.models import Board, Post
from lms.cohorts.models import Cohort
from lms.extensions import db
from tests.conftest import sign_in

WORDS_BY_BOARD = {
    "zebracohort": "running", "zebrafinished": "finished", "zebragroup": "group",
    "zebratutors": "tutors", "zebracourse": "course",
}
NEVER_FOUND = ["zebrahidden", "zebraremoved", "zebrawaiting", "zebraold"]

READERS = {
    "trainee1@example.org": {"zebracohort", "zebracourse", "zebranew"},
    "trainee2@example.org": {"zebracohort", "zebranew"},
    "trainee5@example.org": {"zebracohort", "zebragroup", "zebranew"},
    "trainee13@example.org": {"zebrafinished", "zebracourse"},
    "tutor1@example.org": {"zebracohort", "zebrafinished", "zebratutors", "zebracourse", "zebranew"},
    "admin@example.org": {"zebracohort", "zebrafinished", "zebratutors", "zebracourse", "zebranew"},
    "supervisor1@example.org": set(),
    "academic1@example.org": set(),
}


def person(email) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def start(email, board, word, **fields):
    data = services.PostInput(title=f"About {word}", body=f"A post that mentions {word} in passing.",
                              accept_agreement=True, **fields)
    result = services.start_thread(person(email), board.id, data)
    assert result.ok, result.errors
    db.session.flush()
    return db.session.execute(select(Post).where(Post.thread_id == result.value.id)).scalar_one()


@pytest.fixture
def posts(demo, today):
    boards_demo.seed(today)
    boards = {b.key: b for b in db.session.execute(select(Board)).scalars()}
    cohorts = {c.slug: c for c in db.session.execute(select(Cohort)).scalars()}
    running = boards[f"cohort:{cohorts['demo-running'].id}"]
    places = {
        "running": (running, "trainee3@example.org"),
        "finished": (boards[f"cohort:{cohorts['demo-finished'].id}"], "trainee14@example.org"),
        "group": (db.session.execute(select(Board).where(Board.name == "Assignment buddies")).scalar_one(),
                  "trainee4@example.org"),
        "tutors": (boards["tutors"], "tutor2@example.org"),
        "course": (boards["course:peer-support-l4"], "trainee13@example.org"),
    }
    for word, place in WORDS_BY_BOARD.items():
        board, email = places[place]
        start(email, board, word)
    hidden = start("trainee3@example.org", running, "zebrahidden")
    moderation.hide_post(person("tutor1@example.org"), hidden.id, "Please keep to the agreement.")
    removed = start("trainee3@example.org", running, "zebraremoved")
    services.remove_post(person("trainee3@example.org"), removed.id)
    edited = start("trainee6@example.org", running, "zebraold")
    services.edit_post(person("trainee6@example.org"), edited.id,
                       services.PostInput(title="About zebranew", body="Now it mentions zebranew instead."))
    running.premoderated = True
    start("trainee6@example.org", running, "zebrawaiting")
    running.premoderated = False
    db.session.commit()


@pytest.mark.parametrize("email", list(READERS))
def test_search_matrix(client, posts, email):
    assert sign_in(client, email).status_code == 302
    for word in list(WORDS_BY_BOARD) + NEVER_FOUND + ["zebranew"]:
        page = client.get(f"/boards/search?q={word}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        found = "1 post found" in text
        assert found == (word in READERS[email]), (email, word)
        if not found:
            assert "No posts found" in text


def test_the_service_never_returns_unreadable_posts(posts):
    for email, readable in READERS.items():
        user = person(email)
        for word in list(WORDS_BY_BOARD) + NEVER_FOUND + ["zebranew"]:
            results = services.search_posts(user, word)
            assert bool(results.hits) == (word in readable), (email, word)
            # Thread titles ("About <word>") follow the same rules as posts.
            assert bool(results.threads) == (word in readable), (email, word)
            for hit in results.hits:
                assert hit.post.status == "published"


def test_search_the_demo_with_odd_input(client, posts):
    assert sign_in(client, "trainee2@example.org").status_code == 302
    for query in ['strengths', 'STRENGTH', '"strengths', 'strengths OR NEAR(', '*', "'; drop table x; --", "a" * 500]:
        assert client.get("/boards/search", query_string={"q": query}).status_code == 200, query
    page = client.get("/boards/search?q=strengths").get_data(as_text=True)
    assert "What helped me on the strengths day" in page
    assert client.get("/boards/search").status_code == 200


def test_a_post_behind_a_content_note_is_not_quoted_in_results(client, posts):
    assert sign_in(client, "trainee2@example.org").status_code == 302
    page = client.get("/boards/search?q=hospital").get_data(as_text=True)
    assert "Content note: talks about a hospital stay and low mood" in page
    assert "months of low mood before it" not in page


def test_search_pages_through_many_results(client, posts):
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    running = db.session.execute(select(Board).where(Board.key == f"cohort:{cohort.id}")).scalar_one()
    thread_id = db.session.execute(select(Post.thread_id).where(Post.board_id == running.id)).scalars().first()
    author = person("trainee3@example.org")
    for n in range(25):
        post = Post(thread_id=thread_id, board_id=running.id, author_id=author.id, body=f"Giraffe number {n}",
                    display_mode="name", status="published")
        db.session.add(post)
        db.session.flush()
        services.search.index_post(post.id, post.body)
    db.session.commit()
    assert sign_in(client, "trainee2@example.org").status_code == 302
    first = client.get("/boards/search?q=giraffe").get_data(as_text=True)
    assert "25 posts found" in first and "Page 1 of 2" in first
    second = client.get("/boards/search?q=giraffe&page=2").get_data(as_text=True)
    assert second.count('class="search-result"') == 5


def test_a_thread_is_found_by_its_title_and_like_wildcards_are_only_text(client, posts):
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    running = db.session.execute(select(Board).where(Board.key == f"cohort:{cohort.id}")).scalar_one()
    data = services.PostInput(title="Gentle questions for Mondays (100% optional)", body="Shall we share one each week?",
                              accept_agreement=True)
    assert services.start_thread(person("trainee3@example.org"), running.id, data).ok
    db.session.commit()
    assert sign_in(client, "trainee2@example.org").status_code == 302
    page = client.get("/boards/search?q=mondays gentle").get_data(as_text=True)
    assert "Threads with these words in their title" in page and "Gentle questions for Mondays" in page
    assert "No posts found" in page  # the words are in the title, not in any post
    for query in ["100%", "_", "%"]:
        text = client.get("/boards/search", query_string={"q": query}).get_data(as_text=True)
        if query != "100%":
            assert "Threads with these words" not in text, query
    assert not services.search_posts(person("trainee13@example.org"), "mondays").threads


def test_the_search_page_makes_the_same_number_of_queries_with_more_threads(client, posts, count_queries):
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    running = db.session.execute(select(Board).where(Board.key == f"cohort:{cohort.id}")).scalar_one()

    def add(n):
        for i in range(n):
            data = services.PostInput(title=f"Okapi thoughts {i}", body=f"Okapi post {i}", accept_agreement=True)
            author = person(f"trainee{3 + i % 8}@example.org")  # the flood limit is per person
            assert services.start_thread(author, running.id, data).ok
        db.session.commit()

    assert sign_in(client, "trainee2@example.org").status_code == 302
    add(1)
    with count_queries() as few:
        assert client.get("/boards/search?q=okapi").status_code == 200
    add(12)
    with count_queries() as many:
        page = client.get("/boards/search?q=okapi").get_data(as_text=True)
    assert page.count("Okapi thoughts") >= 10
    assert len(many) == len(few)
