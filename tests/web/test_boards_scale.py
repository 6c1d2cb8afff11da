"""A thread of 2,000 posts and a board of 20,000 threads: pages issue the same, bounded number of
queries as small ones, and stay fast. Rows are made with bulk inserts."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from lms.accounts.models import User
from lms.boards import demo as boards_demo
from lms.boards.models import Board, Post, Thread
from lms.cohorts.models import Cohort
from lms.database import utcnow
from lms.extensions import db
from tests.conftest import sign_in

BIG_THREAD, SMALL_THREAD = 2_000, 50
BIG_BOARD, SMALL_BOARD = 20_000, 100
MAX_QUERIES = 25


@pytest.fixture
def boards(demo, today):
    boards_demo.seed(today)
    db.session.commit()
    cohorts = {c.slug: c for c in db.session.execute(select(Cohort)).scalars()}
    return {slug: db.session.execute(select(Board).where(Board.key == f"cohort:{cohort.id}")).scalar_one()
            for slug, cohort in cohorts.items()}


def people(*emails) -> list[User]:
    return [db.session.execute(select(User).where(User.email == e)).scalar_one() for e in emails]


def make_thread(board: Board, posts: int) -> int:
    """A thread with ``posts`` posts by several authors, some quoting earlier ones, one with a content note."""
    authors = people(*(f"trainee{n}@example.org" for n in range(1, 13)), "tutor1@example.org")
    start = utcnow() - timedelta(days=30)
    thread = Thread(board_id=board.id, title=f"A long conversation ({posts})", author_id=authors[0].id,
                    created_at=start, last_post_at=start)
    db.session.add(thread)
    db.session.flush()
    db.session.execute(insert(Post), [{
        "thread_id": thread.id, "board_id": board.id, "author_id": authors[n % len(authors)].id,
        "body": f"Post {n}: what helped me this week was **a walk** and a chat.", "display_mode": "name",
        "status": "published", "created_at": start + timedelta(minutes=n),
        "content_note": "talks about low mood" if n % 97 == 0 else None,
    } for n in range(posts)])
    ids = list(db.session.execute(select(Post.id).where(Post.thread_id == thread.id).order_by(Post.id)).scalars())
    # Every tenth post quotes the one before it.
    db.session.execute(Post.__table__.update().where(Post.id.in_(ids[10::10])).values(
        quoted_post_id=Post.__table__.c.id - 1))
    thread.post_count, thread.last_post_id = posts, ids[-1]
    db.session.commit()
    return thread.id


def make_threads(board: Board, count: int) -> None:
    author, = people("trainee1@example.org")
    start = utcnow() - timedelta(days=60)
    db.session.execute(insert(Thread), [{
        "board_id": board.id, "title": f"Thread {n}", "author_id": author.id, "author_display_mode": "name",
        "approved": True, "pinned": n % 5000 == 0, "locked": False, "post_count": 1, "last_post_id": n + 1,
        "created_at": start + timedelta(seconds=n), "last_post_at": start + timedelta(seconds=n),
    } for n in range(count)])
    db.session.commit()


def measure(client, count_queries, url):
    client.get(url)  # warm up: the first request of a process loads templates
    began = time.perf_counter()
    with count_queries() as statements:
        response = client.get(url)
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, response.status_code
    return len(statements), elapsed, response.get_data(as_text=True)


def test_a_thread_page_issues_the_same_queries_for_50_or_2000_posts(client, boards, count_queries):
    small = make_thread(boards["demo-running"], SMALL_THREAD)
    big = make_thread(boards["demo-running"], BIG_THREAD)
    assert sign_in(client, "trainee2@example.org").status_code == 302
    results = {}
    for name, thread_id, page in [("small", small, 1), ("big", big, 1), ("big, last page", big, 50),
                                  ("big, middle", big, 25)]:
        results[name] = measure(client, count_queries, f"/boards/threads/{thread_id}?page={page}")
    counts = {name: queries for name, (queries, _, _) in results.items()}
    assert len(set(counts.values())) == 1, counts
    assert counts["big"] <= MAX_QUERIES
    big_page = results["big"][2]
    assert big_page.count('class="post ') + big_page.count('class="post"') == 40 and "Page 1 of 50" in big_page
    assert "Quoting" in big_page and "Content note:" in big_page
    assert results["big, last page"][1] < 2.0, results
    print({name: (q, f"{t * 1000:.0f} ms") for name, (q, t, _) in results.items()})


def test_a_board_page_issues_the_same_queries_for_100_or_20000_threads(client, boards, count_queries):
    make_threads(boards["demo-finished"], SMALL_BOARD)
    make_threads(boards["demo-running"], BIG_BOARD)
    assert sign_in(client, "tutor1@example.org").status_code == 302
    small = measure(client, count_queries, f"/boards/{boards['demo-finished'].id}")
    big = measure(client, count_queries, f"/boards/{boards['demo-running'].id}")
    far = measure(client, count_queries, f"/boards/{boards['demo-running'].id}?page=600")
    assert small[0] == big[0] == far[0] <= MAX_QUERIES, (small[0], big[0], far[0])
    assert "Page 1 of 667" in big[2] and big[2].count("<tr>") == 31  # 30 threads and the header row
    assert big[1] < 2.0 and far[1] < 2.0, (big[1], far[1])
    index = measure(client, count_queries, "/boards")
    assert index[0] <= MAX_QUERIES and index[1] < 2.0
    print({"small board": small[:2], "20,000 threads": big[:2], "page 600": far[:2], "index": index[:2]})


def test_the_study_groups_list_is_paged_with_the_same_queries_for_2_or_300_groups(client, boards, count_queries):
    from lms.boards.models import StudyGroup
    from lms.boards.rules import BoardKind

    assert sign_in(client, "admin@example.org").status_code == 302
    few, _, page = measure(client, count_queries, "/boards/groups")
    assert "Pages of study groups" not in page
    running = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    creator = people("trainee1@example.org")[0]
    for n in range(300):
        group = StudyGroup(cohort_id=running.id, name=f"Group {n:03d}", purpose="Reading.", open=True,
                           created_by_id=creator.id)
        db.session.add(group)
        db.session.flush()
        db.session.add(Board(key=f"group:{group.id}", kind=BoardKind.GROUP.value, name=group.name,
                             description="Reading.", cohort_id=running.id, study_group_id=group.id))
    db.session.commit()
    many, _, page = measure(client, count_queries, "/boards/groups")
    assert many == few
    assert page.count('<th scope="row"><a href="/boards/groups/') == 25 and "Page 1 of 13" in page
    last = client.get("/boards/groups?page=13").get_data(as_text=True)
    assert "Page 13 of 13" in last and last.count('<th scope="row"><a href="/boards/groups/') == 302 - 12 * 25


def test_the_boards_index_pages_an_admins_boards_with_the_same_queries_for_few_or_many(client, boards,
                                                                                        count_queries):
    from lms.boards.rules import BoardKind

    assert sign_in(client, "admin@example.org").status_code == 302
    few, _, page = measure(client, count_queries, "/boards")
    assert "Pages of boards" not in page
    running = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    db.session.execute(insert(Board), [{
        "key": f"cohort-extra:{n}", "kind": BoardKind.COHORT.value, "name": f"Extra cohort board {n:03d}",
        "description": "Another cohort's board.", "cohort_id": running.id} for n in range(60)])
    db.session.commit()
    total = len(db.session.execute(select(Board.id).where(Board.kind != BoardKind.GROUP.value)).all())
    many, _, page = measure(client, count_queries, "/boards")
    assert many == few, (few, many)
    assert page.count('class="card board-card"') - page.count("About the group") == 25
    pages = -(-total // 25)
    assert f"Page 1 of {pages}" in page and f"Boards 1 to 25 of {total}." in page
    last = client.get(f"/boards?page={pages}").get_data(as_text=True)
    assert f"Page {pages} of {pages}" in last and f"of {total}." in last
    beyond = client.get("/boards?page=999").get_data(as_text=True)
    assert f"Page {pages} of {pages}" in beyond
