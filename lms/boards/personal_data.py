"""The boards' part of a person's data export and of an approved erasure.

Registered with lms.privacy.registry. The export holds what the person wrote:
their posts (with the board and thread), the threads they started, the
concerns they reported and the study groups they set up or belong to. An
erasure removes their words the way removing a post does ("removed" stays,
so replies keep their context), takes the posts out of search, and drops
their reports' reasons, memberships, subscriptions and read markers.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from lms.accounts.models import User
from lms.boards import search
from lms.boards.models import (
    AgreementAcceptance,
    Board,
    BoardMember,
    BoardRead,
    DigestItem,
    Post,
    PostReport,
    StudyGroup,
    Subscription,
    Thread,
    ThreadRead,
)
from lms.boards.rules import PostStatus
from lms.database import utcnow
from lms.extensions import db
from lms.privacy.registry import ERASERS, EXPORTERS, ExportSection

ERASED = "[removed at the person's request]"


def export_boards(user: User) -> list[ExportSection]:
    """The person's own posts, threads, reports and study groups."""
    posts = db.session.execute(
        select(Post, Thread.title, Board.name).join(Thread, Post.thread_id == Thread.id)
        .join(Board, Post.board_id == Board.id).where(Post.author_id == user.id).order_by(Post.id)).all()
    threads = db.session.execute(
        select(Thread, Board.name).join(Board, Thread.board_id == Board.id)
        .where(Thread.author_id == user.id).order_by(Thread.id)).all()
    reports = db.session.execute(
        select(PostReport).where(PostReport.reporter_id == user.id).order_by(PostReport.id)).scalars().all()
    groups = db.session.execute(
        select(StudyGroup, BoardMember.status).join(Board, Board.study_group_id == StudyGroup.id)
        .join(BoardMember, (BoardMember.board_id == Board.id) & (BoardMember.user_id == user.id), isouter=True)
        .where((StudyGroup.created_by_id == user.id) | (BoardMember.user_id == user.id))
        .order_by(StudyGroup.id)).all()
    sections = [ExportSection(
        "board_posts", "My posts on the message boards",
        [{"board": board, "thread": title, "written": post.created_at, "edited": post.edited_at,
          "status": post.status, "shown_as": post.display_mode, "pseudonym": post.pseudonym,
          "content_note": post.content_note, "text": post.body} for post, title, board in posts],
        "Everything you posted, including posts waiting for a tutor and posts a tutor hid.", order=50)]
    if threads:
        sections.append(ExportSection("board_threads", "Threads I started", [
            {"board": board, "title": thread.title, "started": thread.created_at} for thread, board in threads],
            order=51))
    if reports:
        sections.append(ExportSection("board_reports", "Posts I reported", [
            {"post": report.post_id, "reported": report.created_at, "reason": report.reason,
             "outcome": report.outcome} for report in reports], order=52))
    if groups:
        sections.append(ExportSection("study_groups", "My peer study groups", [
            {"name": group.name, "purpose": group.purpose, "set_up_by_me": group.created_by_id == user.id,
             "membership": status} for group, status in groups], order=53))
    return sections


def erase_boards(user: User) -> None:
    """Remove the person's words from the boards; the thread structure stays (flushes, never commits)."""
    posts = db.session.execute(
        select(Post.id, Post.body, Post.status).where(Post.author_id == user.id)).all()
    now = utcnow()
    if posts:
        ids = [post_id for post_id, _, _ in posts]
        db.session.execute(update(Post).where(Post.id.in_(ids)).values(
            status=PostStatus.REMOVED.value, body=ERASED, content_note=None, pseudonym=None, removed_at=now)
            .execution_options(synchronize_session=False))
        db.session.execute(update(PostReport).where(PostReport.post_id.in_(ids), PostReport.resolved_at.is_(None))
                           .values(resolved_at=now, outcome="removed").execution_options(synchronize_session=False))
        db.session.execute(delete(DigestItem).where(DigestItem.post_id.in_(ids))
                           .execution_options(synchronize_session=False))
    db.session.execute(update(Thread).where(Thread.author_id == user.id)
                       .values(title=ERASED, author_pseudonym=None).execution_options(synchronize_session=False))
    db.session.execute(update(PostReport).where(PostReport.reporter_id == user.id)
                       .values(reason=ERASED).execution_options(synchronize_session=False))
    for model in (BoardMember, BoardRead, ThreadRead, Subscription, AgreementAcceptance, DigestItem):
        db.session.execute(delete(model).where(model.user_id == user.id).execution_options(synchronize_session=False))
    db.session.flush()
    for post_id, body, status in posts:
        if status == PostStatus.PUBLISHED:
            search.unindex_post(post_id, body)


EXPORTERS.append(export_boards)
ERASERS.append(erase_boards)
