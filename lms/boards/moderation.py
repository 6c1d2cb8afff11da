"""Moderating the boards: reports, the queue, hiding with a reason, approving waiting posts,
locking, pinning and moving threads, and each board's settings.

Moderators are a board's tutors and the admins (``rules.board_access``). They
may act on a reported post on a board they do not read (a study group's), and
on nothing else there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import current_app
from markupsafe import Markup
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.audit.services import record
from lms.authz.access import object_or_404
from lms.boards import rules, search
from lms.boards.models import Board, DigestItem, Post, PostReport, Thread
from lms.boards.policies import Viewer, viewer_for
from lms.boards.rules import BoardKind, PostStatus
from lms.boards.services import (
    PostContext,
    Refused,
    Result,
    ThreadContext,
    after_publishing,
    author_label,
    email_by_choice,
    is_first_post,
    load_board,
    load_post,
    load_thread,
    moderators_of,
    post_link,
    readable_boards,
)
from lms.content.markdown import render_markdown
from lms.database import utcnow
from lms.extensions import db
from lms.notify.services import notify, send_email


def report_context(user: User, post_id: int) -> PostContext:
    """A post ``user`` may report: a published post they can read, written by someone else."""
    context = load_post(user, post_id)
    object_or_404(context.post, context.post.status == PostStatus.PUBLISHED)
    if context.post.author_id == user.id:
        raise Refused("This is your own post. You can change it for 30 minutes after writing it, "
                      "or remove it at any time.", status=400)
    return context


def report_post(user: User, post_id: int, reason: str) -> Result:
    """Report a post to the tutors, with a reason."""
    context = report_context(user, post_id)
    post = context.post
    problems = rules.reason_problems(reason, what="what worries you about this post")
    if problems:
        return Result(errors=problems, status=400)
    already = db.session.execute(select(PostReport.id).where(
        PostReport.post_id == post.id, PostReport.reporter_id == user.id, PostReport.resolved_at.is_(None))).first()
    if already:
        return Result(errors=[("reason", "You have already reported this post. A tutor will look at it soon.")],
                      status=400)
    report = PostReport(post_id=post.id, reporter_id=user.id, reason=reason.strip())
    db.session.add(report)
    db.session.flush()
    for moderator in moderators_of(context.thread.board):
        if moderator.id == user.id:
            continue
        notify(moderator, f"A post on {context.thread.board.name} has been reported",
               "Someone is worried about a post. Please look at it in the reports queue.",
               link="/boards/reports", email=False)
        email_by_choice(moderator, "A post has been reported",
                         "Someone has reported a post on a board you moderate. Please look at the reports "
                         "queue when you can.", "/boards/reports", digest_post_id=None)
    return Result(value=report)


def moderated_board_condition(viewer: Viewer):
    """A SQL condition on Board for the boards ``viewer`` moderates (None for admins: all of them)."""
    if viewer.is_admin:
        return None
    return or_(
        and_(Board.kind.in_([BoardKind.COHORT.value, BoardKind.GROUP.value]), Board.cohort_id.in_(viewer.tutor_cohorts)),
        and_(Board.kind == BoardKind.COURSE.value, Board.course_slug.in_(viewer.tutor_courses)),
    )


@dataclass
class QueueItem:
    """A post in the moderation queue with its open reports (none for a post waiting for approval)."""

    post: Post
    author_label: str
    body_html: Markup | None
    reports: list[PostReport]


@dataclass
class Queue:
    """The moderation queue: reported posts and posts waiting for approval, a page of each."""

    reported: list[QueueItem]
    waiting: list[QueueItem]
    reported_page: rules.Page
    waiting_page: rules.Page


def _queue_item(post: Post, reports: list[PostReport]) -> QueueItem:
    return QueueItem(post, author_label(post.author, post.display_mode, post.pseudonym, moderator=True),
                     render_markdown(post.body, anchor_prefix=f"q{post.id}-") if post.body else None, reports)


def moderation_queue(user: User, reported_page: int = 1, waiting_page: int = 1) -> Queue:
    """Reported posts and posts waiting for approval on the boards ``user`` moderates, oldest first."""
    viewer = viewer_for(user, [])
    boards = moderated_board_condition(viewer)
    board_ids = select(Board.id) if boards is None else select(Board.id).where(boards)
    size = 20
    reported_ids = (select(PostReport.post_id).join(Post, Post.id == PostReport.post_id)
                    .where(PostReport.resolved_at.is_(None), Post.board_id.in_(board_ids))
                    .group_by(PostReport.post_id))
    total_reported = db.session.execute(select(func.count()).select_from(reported_ids.subquery())).scalar_one()
    rpage = rules.page_for(reported_page, size, total_reported)
    post_ids = list(db.session.execute(reported_ids.order_by(func.min(PostReport.id))
                                       .limit(size).offset(rpage.offset)).scalars())
    options = (selectinload(Post.author), selectinload(Post.thread).selectinload(Thread.board))
    posts = {p.id: p for p in db.session.execute(select(Post).options(*options).where(Post.id.in_(post_ids))
                                                 ).scalars()} if post_ids else {}
    reports: dict[int, list[PostReport]] = defaultdict(list)
    if post_ids:
        for report in db.session.execute(
                select(PostReport).options(selectinload(PostReport.reporter))
                .where(PostReport.post_id.in_(post_ids), PostReport.resolved_at.is_(None)).order_by(PostReport.id)
        ).scalars():
            reports[report.post_id].append(report)
    waiting_condition = and_(Post.status == PostStatus.WAITING.value, Post.board_id.in_(board_ids))
    total_waiting = db.session.execute(select(func.count(Post.id)).where(waiting_condition)).scalar_one()
    wpage = rules.page_for(waiting_page, size, total_waiting)
    waiting = list(db.session.execute(select(Post).options(*options).where(waiting_condition)
                                      .order_by(Post.id).limit(size).offset(wpage.offset)).scalars())
    return Queue([_queue_item(posts[i], reports[i]) for i in post_ids if i in posts],
                 [_queue_item(post, []) for post in waiting], rpage, wpage)


def hide_post(user: User, post_id: int, reason: str) -> Result:
    """A moderator hides a post with a reason; the author is told why, privately."""
    context = load_post(user, post_id, moderating=True)
    post = context.post
    if post.status == PostStatus.REMOVED:
        raise Refused("The author has already removed this post.", status=400)
    if post.status == PostStatus.HIDDEN:
        raise Refused("This post is already hidden.", status=400)
    problems = rules.reason_problems(reason, what="the reason for hiding this post. The author will see it")
    if problems:
        return Result(errors=problems, status=400)
    was = post.status
    post.status = PostStatus.HIDDEN.value
    post.hidden_by_id = user.id
    post.hidden_at = utcnow()
    post.hidden_reason = reason.strip()
    db.session.execute(update(PostReport).where(PostReport.post_id == post.id, PostReport.resolved_at.is_(None))
                       .values(resolved_at=utcnow(), resolved_by_id=user.id, outcome="hidden"))
    db.session.execute(delete(DigestItem).where(DigestItem.post_id == post.id))
    db.session.flush()
    if was == PostStatus.PUBLISHED:
        search.unindex_post(post.id, post.body)
    board = context.thread.board
    record(user, "board_post.hidden", "board_post", post.id, before={"status": was},
           after={"status": post.status}, cohort_id=board.cohort_id, subject_user_id=post.author_id,
           reason=post.hidden_reason)
    if post.author is not None:
        notify(post.author, "A tutor has hidden one of your posts",
               f"Your post in \u201c{context.thread.thread.title}\u201d on {board.name} has been hidden. "
               f"The reason given: {post.hidden_reason}\n\nIf you would like to talk about it, "
               "please speak to your tutor.", link=post_link(post.id), email=False)
        send_email(post.author.email, "A tutor has hidden one of your posts",
                   "A tutor has hidden one of your posts on the course boards. Sign in to read why:\n\n"
                   f"{current_app.config['LMS_BASE_URL']}/notifications")
    return Result(value=post)


def approve_post(user: User, post_id: int) -> Post:
    """A moderator approves a post waiting on a pre-moderated board: it appears for everyone."""
    context = load_post(user, post_id, moderating=True)
    post, thread, board = context.post, context.thread.thread, context.thread.board
    if post.status != PostStatus.WAITING:
        raise Refused("This post is not waiting for approval.", status=400)
    post.status = PostStatus.PUBLISHED.value
    post.approved_by_id = user.id
    post.approved_at = utcnow()
    if not thread.approved and is_first_post(post):
        thread.approved = True
    db.session.flush()
    record(user, "board_post.approved", "board_post", post.id, cohort_id=board.cohort_id,
           subject_user_id=post.author_id)
    after_publishing(post, thread, board)
    if post.author is not None:
        notify(post.author, "Your post has been approved",
               f"Your post in \u201c{thread.title}\u201d is now on {board.name} for everyone to read.",
               link=post_link(post.id), email=False)
    return post


def keep_post(user: User, post_id: int) -> Post:
    """A moderator has looked at a reported post and leaves it up: its open reports are closed."""
    context = load_post(user, post_id, moderating=True)
    post = context.post
    closed = db.session.execute(
        update(PostReport).where(PostReport.post_id == post.id, PostReport.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=user.id, outcome="kept")).rowcount
    if not closed:
        raise Refused("There are no open reports about this post.", status=400)
    record(user, "board_post.kept", "board_post", post.id, cohort_id=context.thread.board.cohort_id,
           subject_user_id=post.author_id)
    return post


THREAD_ACTIONS = {
    "lock": ("locked", True), "unlock": ("locked", False),
    "pin": ("pinned", True), "unpin": ("pinned", False),
}


def moderate_thread(user: User, thread_id: int, action: str) -> Thread:
    """Lock, unlock, pin or unpin a thread (moderators of its board who can read it)."""
    context = load_thread(user, thread_id)
    if not context.access.moderate:
        raise Refused("Only the board's tutors can lock or pin threads.", status=403)
    if action not in THREAD_ACTIONS:
        raise Refused("That is not something that can be done to a thread.", status=400)
    attribute, value = THREAD_ACTIONS[action]
    before = getattr(context.thread, attribute)
    setattr(context.thread, attribute, value)
    db.session.flush()
    record(user, f"board_thread.{action}", "board_thread", context.thread.id, before={attribute: before},
           after={attribute: value}, cohort_id=context.board.cohort_id)
    return context.thread


def move_targets(user: User, context: ThreadContext) -> list[Board]:
    """Boards a moderator may move this thread to: others they read and moderate, never a study group's.

    A study group's own threads stay in the group: its members wrote them for each other.
    """
    if context.board.kind == BoardKind.GROUP:
        return []
    viewer = viewer_for(user)
    return [board for board, access in readable_boards(user, viewer)
            if access.moderate and board.id != context.board.id and board.kind != BoardKind.GROUP]


def move_thread(user: User, thread_id: int, board_id: int | None) -> Result:
    """Move a thread (and its posts) to another board the moderator reads and moderates."""
    context = load_thread(user, thread_id)
    if not context.access.moderate:
        raise Refused("Only the board's tutors can move threads.", status=403)
    if context.board.kind == BoardKind.GROUP:
        raise Refused("A study group's threads stay in the group: its members wrote them for each other.")
    targets = {board.id: board for board in move_targets(user, context)}
    if board_id not in targets:
        return Result(errors=[("board_id", "Choose the board to move this thread to.")], status=400)
    source = context.board
    context.thread.board_id = board_id
    db.session.execute(update(Post).where(Post.thread_id == thread_id).values(board_id=board_id))
    # Watching the old board does not mean watching the new one; read markers stay with the thread.
    db.session.flush()
    record(user, "board_thread.moved", "board_thread", thread_id, before={"board_id": source.id},
           after={"board_id": board_id}, cohort_id=source.cohort_id)
    return Result(value=context.thread)


def update_board_settings(user: User, board_id: int, premoderated: bool, allow_pseudonyms: bool) -> Board:
    """Moderators choose pre-moderation and whether trainees may post under a first name or pseudonym."""
    context = load_board(user, board_id)
    if not context.access.moderate or context.board.kind == BoardKind.GROUP:
        raise Refused("Only the board's tutors can change its settings.", status=403)
    board = context.board
    before = {"premoderated": board.premoderated, "allow_pseudonyms": board.allow_pseudonyms}
    board.premoderated = bool(premoderated)
    board.allow_pseudonyms = bool(allow_pseudonyms)
    db.session.flush()
    record(user, "board.settings", "board", board.id, before=before,
           after={"premoderated": board.premoderated, "allow_pseudonyms": board.allow_pseudonyms},
           cohort_id=board.cohort_id)
    return board

