"""The boards' demo: lively, respectful, idempotent, seeded by `lms demo`; and `lms boards reindex`."""

from sqlalchemy import func, select

from lms.boards.models import Board, BoardMember, Post, StudyGroup, Thread
from lms.cohorts.models import Cohort
from lms.extensions import db
from tests.conftest import sign_in


def counts():
    db.session.expire_all()
    return tuple(db.session.execute(select(func.count(model.id))).scalar_one()
                 for model in (Board, Thread, Post, StudyGroup, BoardMember))


def test_lms_demo_seeds_the_boards_once(runner, app):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "11 board threads" in first.output and "1 board report" in first.output
    seeded = counts()
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "0 board threads" in second.output
    assert counts() == seeded

    welcome = db.session.execute(select(Thread).where(Thread.title == "Welcome to our cohort board")).scalar_one()
    assert welcome.pinned and welcome.author.email == "tutor1@example.org"
    noted = db.session.execute(select(Post).where(Post.content_note.is_not(None))).scalars().all()
    assert noted
    group = db.session.execute(select(StudyGroup).where(StudyGroup.name == "Assignment buddies")).scalar_one()
    assert group.board is not None and group.open
    planning = db.session.execute(select(Thread).where(Thread.board_id == group.board.id,
                                                       Thread.title.like("Reading%"))).scalar_one()
    assert "reading" in planning.title.lower() and planning.post_count == 4
    check_ins = db.session.execute(select(StudyGroup).where(StudyGroup.name == "Wellness plan check-ins")).scalar_one()
    assert not check_ins.open and db.session.execute(select(Thread).where(
        Thread.board_id == check_ins.board.id)).scalars().all()
    # The reported post waits in the tutors' queue; running the demo again reports nothing more.
    from lms.boards.models import PostReport
    [report] = db.session.execute(select(PostReport)).scalars().all()
    assert report.resolved_at is None and "only share our own stories" in report.reason


def test_the_demo_reads_well_for_a_trainee(client, runner, app):
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert sign_in(client, "trainee1@example.org").status_code == 302
    index = client.get("/boards").get_data(as_text=True)
    assert "threads with posts you have not read" in index
    running = db.session.execute(select(Cohort.id).where(Cohort.slug == "demo-running")).scalar_one()
    board = db.session.execute(select(Board).where(Board.key == f"cohort:{running}")).scalar_one()
    page = client.get(f"/boards/{board.id}").get_data(as_text=True)
    assert "Pinned" in page and "Welcome to our cohort board" in page


def test_reindex_rebuilds_search(client, runner, app):
    assert runner.invoke(args=["demo"]).exit_code == 0
    result = runner.invoke(args=["boards", "reindex"])
    assert result.exit_code == 0 and "Search index rebuilt" in result.output
    assert sign_in(client, "trainee2@example.org").status_code == 302
    page = client.get("/boards/search?q=bread").get_data(as_text=True)
    assert "1 post found" in page or "2 posts found" in page
