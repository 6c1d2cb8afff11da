"""Sample URL arguments for the boards' endpoints: the demo boards, seeded on first use."""

from datetime import date

from sqlalchemy import select


def _demo() -> dict:
    from lms.boards import demo
    from lms.boards.models import Board, Post, StudyGroup, Thread
    from lms.cohorts.models import Cohort
    from lms.extensions import db

    demo.seed(date.today())
    db.session.commit()
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    board = db.session.execute(select(Board).where(Board.key == f"cohort:{cohort.id}")).scalar_one()
    thread = db.session.execute(select(Thread).where(Thread.board_id == board.id,
                                                     Thread.title == "Introductions: say hello")).scalar_one()
    post = db.session.execute(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)).scalars().first()
    group = db.session.execute(select(StudyGroup).where(StudyGroup.name == "Assignment buddies")).scalar_one()
    return {"board_id": board.id, "thread_id": thread.id, "post_id": post.id, "group_id": group.id}


def _only(*names):
    return lambda: {name: _demo()[name] for name in names}


BOARD = _only("board_id")
THREAD = _only("thread_id")
POST = _only("post_id")
GROUP = _only("group_id")

SAMPLE_ARGS = {
    "boards.board": BOARD, "boards.new_thread": BOARD, "boards.watch_board": BOARD,
    "boards.mark_board_read": BOARD, "boards.join_board": BOARD, "boards.leave_board": BOARD,
    "boards.board_settings": BOARD,
    "boards.thread": THREAD, "boards.reply": THREAD, "boards.watch_thread": THREAD,
    "boards.moderate_thread": THREAD, "boards.move_thread": THREAD,
    "boards.post": POST, "boards.edit_post": POST, "boards.remove_post": POST, "boards.report_post": POST,
    "boards.hide_post": POST, "boards.approve_post": POST, "boards.keep_post": POST,
    "boards.group": GROUP, "boards.invite": GROUP, "boards.join_group": GROUP, "boards.leave_group": GROUP,
    "boards.answer_invitation": GROUP,
}
