"""Boards, study groups, threads, posts, reports, and what each person has read and watches.

The full-text index of posts is not a table here: an FTS5 virtual table on
SQLite (or a GIN expression index on PostgreSQL) cannot be an ORM model, so
lms/boards/search.py creates it when first needed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, text, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.cohorts.models import Cohort
from lms.database import UTCDateTime, utcnow
from lms.extensions import db


class StudyGroup(db.Model):
    """A peer study group that trainees of one cohort set up for themselves."""

    __tablename__ = "study_groups"
    __table_args__ = (UniqueConstraint("cohort_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[str] = mapped_column(Text)
    # Open: any trainee of the cohort may join. Otherwise members invite people.
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cohort: Mapped[Cohort] = relationship()
    board: Mapped[Board] = relationship(back_populates="study_group", uselist=False)


class Board(db.Model):
    """A message board: a cohort's, a course's, the tutors', or a study group's."""

    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One board per key ("cohort:12", "course:peer-support-l4", "tutors", "group:5"),
    # so two requests creating the same board at once cannot make two.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # rules.BoardKind
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Set for cohort and study-group boards.
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    # Set for the course-wide board.
    course_slug: Mapped[str | None] = mapped_column(String(80))
    study_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("study_groups.id", ondelete="CASCADE"), unique=True)
    # New posts wait for a tutor's approval.
    premoderated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Trainees may post under their first name only or a pseudonym.
    allow_pseudonyms: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cohort: Mapped[Cohort | None] = relationship()
    study_group: Mapped[StudyGroup | None] = relationship(back_populates="board")


class BoardMember(db.Model):
    """A person's place on a board that needs one: the course board (opt-in) or a study group.

    ``status`` is "member", or "invited" until the person accepts.
    """

    __tablename__ = "board_members"
    __table_args__ = (UniqueConstraint("board_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="member")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class Thread(db.Model):
    """A conversation on a board: a title, a first post and flat replies.

    ``post_count``, ``last_post_id`` and ``last_post_at`` count the posts that
    have a place in the thread for everyone (published, hidden or removed, not
    waiting), so a board page needs no per-thread query.
    """

    __tablename__ = "board_threads"
    __table_args__ = (
        Index("ix_board_threads_listing", "board_id", "pinned", "last_post_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(150))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # How the starter is shown, copied from the first post.
    author_display_mode: Mapped[str] = mapped_column(String(20), default="name")
    author_pseudonym: Mapped[str | None] = mapped_column(String(40))
    # False while the first post waits for a tutor on a pre-moderated board.
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    post_count: Mapped[int] = mapped_column(default=0)
    last_post_id: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    board: Mapped[Board] = relationship()
    author: Mapped[User | None] = relationship()


class Post(db.Model):
    """One post in a thread, written in Markdown."""

    __tablename__ = "board_posts"
    __table_args__ = (
        Index("ix_board_posts_thread", "thread_id", "id"),
        Index("ix_board_posts_board_status", "board_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("board_threads.id", ondelete="CASCADE"))
    # The thread's board, kept here so that search can filter without a join.
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(Text)
    # Folds the post until the reader chooses to open it ("talks about self-harm").
    content_note: Mapped[str | None] = mapped_column(String(120))
    display_mode: Mapped[str] = mapped_column(String(20), default="name")
    pseudonym: Mapped[str | None] = mapped_column(String(40))
    quoted_post_id: Mapped[int | None] = mapped_column(ForeignKey("board_posts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="published")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    thread: Mapped[Thread] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    quoted_post: Mapped[Post | None] = relationship(remote_side=[id], foreign_keys=[quoted_post_id])


class PostReport(db.Model):
    """Someone's concern about a post, waiting in the moderation queue until a tutor acts."""

    __tablename__ = "board_post_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("board_posts.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # "hidden" (the post was hidden) or "kept" (a tutor looked and left it up)
    outcome: Mapped[str | None] = mapped_column(String(20))

    post: Mapped[Post] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])


class ThreadRead(db.Model):
    """How far a person has read a thread: the last post id they have seen."""

    __tablename__ = "board_thread_reads"
    __table_args__ = (UniqueConstraint("user_id", "thread_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("board_threads.id", ondelete="CASCADE"), index=True)
    last_read_post_id: Mapped[int] = mapped_column(default=0)


class BoardRead(db.Model):
    """"Mark all as read" on a board: every post up to this id counts as read."""

    __tablename__ = "board_reads"
    __table_args__ = (UniqueConstraint("user_id", "board_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), index=True)
    last_read_post_id: Mapped[int] = mapped_column(default=0)


class Subscription(db.Model):
    """A person watching a board (new threads and replies) or one thread (its replies)."""

    __tablename__ = "board_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "board_id", "thread_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("board_threads.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class AgreementAcceptance(db.Model):
    """A person accepted (this version of) the community agreement before first posting."""

    __tablename__ = "board_agreement_acceptances"
    __table_args__ = (UniqueConstraint("user_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    version: Mapped[int]
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestItem(db.Model):
    """A new post waiting to go into a person's daily e-mail digest."""

    __tablename__ = "board_digest_items"
    __table_args__ = (UniqueConstraint("user_id", "post_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("board_posts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    post: Mapped[Post] = relationship()
