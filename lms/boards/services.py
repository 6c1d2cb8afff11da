"""Use cases of the message boards: boards, threads and posts, reading, watching, e-mail and search.

Moderation lives in ``moderation.py``; memberships (the course board, study
groups) in ``memberships.py``. Every function takes the acting person, checks
what they may do with ``policies``, applies ``rules`` and flushes; the request
commits. Something a person may not see answers 404 (``object_or_404``);
something they may not do raises ``Refused`` with a message in plain words; a
form that cannot be accepted comes back as a ``Result`` with ``errors``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from limits import RateLimitItemPerMinute
from markupsafe import Markup
from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from lms import ratelimits
from lms.accounts.models import RoleGrant, User
from lms.accounts.rules import EMAIL_DAILY, EMAIL_IMMEDIATELY, email_choice
from lms.authz.access import object_or_404
from lms.authz.roles import Role
from lms.boards import rules, search
from lms.boards.models import (
    AgreementAcceptance,
    Board,
    BoardRead,
    DigestItem,
    Post,
    PostReport,
    StudyGroup,
    Subscription,
    Thread,
    ThreadRead,
)
from lms.boards.policies import Viewer, board_access, readers_among, viewer_for
from lms.boards.rules import BoardKind, DisplayMode, PostStatus
from lms.cohorts.models import Cohort
from lms.content.markdown import render_markdown
from lms.database import utcnow
from lms.extensions import db
from lms.notify.services import notify, send_email

POST_LIMIT = RateLimitItemPerMinute(rules.POSTS_PER_WINDOW, rules.FLOOD_WINDOW_MINUTES)


class Refused(Exception):
    """The person may not do what they asked; ``message`` says why, in plain words.

    ``status`` is 409 when the state of things forbids it (a locked thread, an
    edit window that has passed), 400 for a request that makes no sense, and
    404 where the thing asked for does not exist for this person (the edit
    page of someone else's post), as everywhere else in the LMS.
    """

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Result:
    """What came of a form: the saved object, or the problems to show beside the fields."""

    value: object = None
    errors: list[rules.Problem] = field(default_factory=list)
    status: int = 200

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class PostInput:
    """What a person typed into a post form."""

    body: str = ""
    title: str = ""
    content_note: str = ""
    display_mode: str = DisplayMode.NAME.value
    pseudonym: str = ""
    quoted_post_id: int | None = None
    accept_agreement: bool = False


# ---------------------------------------------------------------------------
# Links (plain paths, so that jobs and the demo can build them without a request)
# ---------------------------------------------------------------------------

def post_link(post_id: int) -> str:
    """The address that opens a post in its thread (on the right page)."""
    return f"/boards/posts/{post_id}"


def group_link(group_id: int) -> str:
    """The address of a study group's page."""
    return f"/boards/groups/{group_id}"


# ---------------------------------------------------------------------------
# Boards: which exist, and loading one with what a person may do there
# ---------------------------------------------------------------------------

def _board_query():
    return select(Board).options(joinedload(Board.cohort), joinedload(Board.study_group))


def _get_or_create_board(existing: dict[str, Board], key: str, **fields) -> Board:
    board = existing.get(key)
    if board is None:
        board = Board(key=key, **fields)
        db.session.add(board)
        existing[key] = board
    return board


def ensure_boards_for(user: User) -> None:
    """Create the cohort, course and tutors' boards this person should find and that do not exist yet.

    Boards come into being when someone first needs them, so that cohorts
    created anywhere in the LMS get a board without a signal between domains.
    """
    is_admin = user.has_role(Role.ADMIN)
    cohort_ids = user.cohort_ids_for(Role.TRAINEE) | user.cohort_ids_for(Role.TUTOR)
    query = select(Cohort)
    if not is_admin:
        if not cohort_ids:
            return
        query = query.where(Cohort.id.in_(cohort_ids))
    cohorts = list(db.session.execute(query).scalars())
    keys = {f"cohort:{c.id}" for c in cohorts} | {f"course:{c.course_slug}" for c in cohorts}
    if is_admin or user.cohort_ids_for(Role.TUTOR):
        keys.add("tutors")
    existing = {b.key: b for b in db.session.execute(select(Board).where(Board.key.in_(keys))).scalars()}
    if keys <= set(existing):
        return
    for cohort in cohorts:
        _get_or_create_board(existing, f"cohort:{cohort.id}", kind=BoardKind.COHORT.value, name=cohort.name,
                             description="For the trainees and tutors of this cohort.", cohort_id=cohort.id)
        _get_or_create_board(existing, f"course:{cohort.course_slug}", kind=BoardKind.COURSE.value,
                             name="Course community: trainees and alumni", course_slug=cohort.course_slug,
                             description="For everyone who is taking or has taken the course. "
                                         "Join if you would like to; you can leave at any time.")
    if "tutors" in keys:
        _get_or_create_board(existing, "tutors", kind=BoardKind.TUTORS.value, name="Tutors' board",
                             description="For tutors: planning, sharing practice and supporting each other.")
    db.session.flush()


@dataclass
class BoardContext:
    """A board, the person looking at it, and what they may do there."""

    board: Board
    viewer: Viewer
    access: rules.Access


def load_board(user: User, board_id: int, *, need: str = "read") -> BoardContext:
    """The board with ``user``'s access to it; 404 unless they may ``need`` ("see" or "read")."""
    board = db.session.execute(_board_query().where(Board.id == board_id)).unique().scalar_one_or_none()
    if board is None:
        object_or_404(None, False)
    viewer = viewer_for(user, [board.id])
    access = board_access(viewer, board)
    object_or_404(board, getattr(access, need))
    return BoardContext(board, viewer, access)


@dataclass
class BoardSummary:
    """A board on the boards index, with its unread threads for this person."""

    board: Board
    access: rules.Access
    unread_threads: int = 0
    member: bool = False
    watching: bool = False


@dataclass
class Overview:
    """The boards index: boards to read (a page of them), boards to join, study groups and invitations."""

    boards: list[BoardSummary]
    joinable: list[BoardSummary]
    groups: list[BoardSummary]
    invitations: list[StudyGroup]
    can_start_group: bool
    page: rules.Page | None = None  # of the boards to read (an admin reads every cohort's)


BOARDS_PER_PAGE = 25


def readable_boards(user: User, viewer: Viewer, *, include_joinable: bool = False) -> list[tuple[Board, rules.Access]]:
    """Every board ``user`` may read (and, if asked, the ones they could join), with their access."""
    conditions = [Board.id.in_(viewer.member_boards | viewer.invited_boards)]
    if viewer.is_admin:
        conditions.append(Board.kind.in_([BoardKind.COHORT.value, BoardKind.COURSE.value, BoardKind.TUTORS.value]))
    else:
        conditions.append(and_(Board.kind == BoardKind.COHORT.value, Board.cohort_id.in_(viewer.cohorts)))
        conditions.append(and_(Board.kind == BoardKind.COURSE.value,
                               Board.course_slug.in_(viewer.trainee_courses | viewer.tutor_courses)))
        if viewer.tutor_cohorts:
            conditions.append(Board.kind == BoardKind.TUTORS.value)
    boards = db.session.execute(_board_query().where(or_(*conditions)).order_by(Board.kind, Board.name, Board.id)
                                ).unique().scalars()
    found = []
    for board in boards:
        access = board_access(viewer, board)
        if access.read or (include_joinable and access.see):
            found.append((board, access))
    return found


def unread_counts(user_id: int, board_ids: list[int]) -> dict[int, int]:
    """How many threads on each board have posts this person has not read (one query)."""
    if not board_ids:
        return {}
    read_upto = case(
        (func.coalesce(ThreadRead.last_read_post_id, 0) > func.coalesce(BoardRead.last_read_post_id, 0),
         func.coalesce(ThreadRead.last_read_post_id, 0)),
        else_=func.coalesce(BoardRead.last_read_post_id, 0))
    rows = db.session.execute(
        select(Thread.board_id, func.count(Thread.id))
        .outerjoin(ThreadRead, and_(ThreadRead.thread_id == Thread.id, ThreadRead.user_id == user_id))
        .outerjoin(BoardRead, and_(BoardRead.board_id == Thread.board_id, BoardRead.user_id == user_id))
        .where(Thread.board_id.in_(board_ids), Thread.approved.is_(True), Thread.last_post_id > read_upto)
        .group_by(Thread.board_id)).all()
    return dict(rows)


def boards_overview(user: User, page_number: int = 1) -> Overview:
    """Everything the boards index shows, in a bounded number of queries: the boards to read a page at a time
    (cohort, course and tutors' boards first), unread counts for those on the page only."""
    ensure_boards_for(user)
    viewer = viewer_for(user)
    found = readable_boards(user, viewer, include_joinable=True)
    boards, joinable, groups, invitations = [], [], [], []
    for board, access in found:
        summary = BoardSummary(board, access, 0, board.id in viewer.member_boards)
        if board.kind == BoardKind.GROUP:
            if board.id in viewer.invited_boards and board.study_group is not None:
                invitations.append(board.study_group)
            elif access.read:
                groups.append(summary)
        elif access.read:
            boards.append(summary)
        else:
            joinable.append(summary)
    order = {BoardKind.COHORT: 0, BoardKind.COURSE: 1, BoardKind.TUTORS: 2}
    boards.sort(key=lambda s: (order.get(BoardKind(s.board.kind), 3), s.board.name))
    last_page = rules.Page(1, BOARDS_PER_PAGE, len(boards)).count
    page = rules.Page(min(max(1, page_number), last_page), BOARDS_PER_PAGE, len(boards))
    boards = boards[page.offset:page.offset + BOARDS_PER_PAGE]
    shown = boards + groups
    ids = [summary.board.id for summary in shown]
    unread = unread_counts(user.id, ids)
    watched = set(db.session.execute(select(Subscription.board_id).where(
        Subscription.user_id == user.id, Subscription.board_id.in_(ids))).scalars()) if ids else set()
    for summary in shown:
        summary.unread_threads = unread.get(summary.board.id, 0)
        summary.watching = summary.board.id in watched
    return Overview(boards, joinable, groups, invitations, bool(viewer.trainee_cohorts), page)


# ---------------------------------------------------------------------------
# A board page: its threads, a page at a time
# ---------------------------------------------------------------------------

@dataclass
class ThreadRow:
    """A thread on a board page: who started it (as this reader sees them) and whether it has unread posts."""

    thread: Thread
    starter: str
    unread: bool


@dataclass
class BoardPage:
    """One page of a board's threads."""

    context: BoardContext
    threads: list[ThreadRow]
    page: rules.Page
    watching: bool


def _visible_threads(context: BoardContext, user_id: int):
    condition = Thread.board_id == context.board.id
    if not context.access.moderate:
        condition = and_(condition, or_(Thread.approved.is_(True), Thread.author_id == user_id))
    return condition


def author_label(author: User | None, mode: str, pseudonym: str | None, *, moderator: bool,
                  mine: bool = False) -> str:
    """The name shown for a post's author to this reader: theirs, a peer's or a moderator's view."""
    name = author.display_name if author is not None else "A former member"
    if mine:
        shown = rules.peer_display(name, mode, pseudonym)
        return "You" if shown == name else f"You, as {shown}"
    if moderator:
        return rules.moderator_display(name, mode, pseudonym)
    return rules.peer_display(name, mode, pseudonym)


def board_page(user: User, board_id: int, page_number: int) -> BoardPage:
    """One page of a board's threads, pinned first then the most recently active."""
    context = load_board(user, board_id)
    condition = _visible_threads(context, user.id)
    total = db.session.execute(select(func.count(Thread.id)).where(condition)).scalar_one()
    page = rules.page_for(page_number, rules.THREADS_PER_PAGE, total)
    threads = list(db.session.execute(
        select(Thread).options(joinedload(Thread.author)).where(condition)
        .order_by(Thread.pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc())
        .limit(page.size).offset(page.offset)).scalars())
    reads = dict(db.session.execute(select(ThreadRead.thread_id, ThreadRead.last_read_post_id).where(
        ThreadRead.user_id == user.id, ThreadRead.thread_id.in_([t.id for t in threads]))).all()) if threads else {}
    board_read = db.session.execute(select(BoardRead.last_read_post_id).where(
        BoardRead.user_id == user.id, BoardRead.board_id == board_id)).scalar() or 0
    watching = db.session.execute(select(Subscription.id).where(
        Subscription.user_id == user.id, Subscription.board_id == board_id)).first() is not None
    rows = [ThreadRow(thread,
                      author_label(thread.author, thread.author_display_mode, thread.author_pseudonym,
                                    moderator=context.access.moderate, mine=thread.author_id == user.id),
                      thread.last_post_id > max(reads.get(thread.id, 0), board_read))
            for thread in threads]
    return BoardPage(context, rows, page, watching)


# ---------------------------------------------------------------------------
# A thread page: its posts, a page at a time
# ---------------------------------------------------------------------------

@dataclass
class PostView:
    """A post as one reader sees it."""

    post: Post
    author_label: str
    mine: bool
    tutor: bool
    body_html: Markup | None
    can_edit: bool
    can_remove: bool
    can_report: bool
    can_quote: bool
    unread: bool
    quoted_label: str | None = None
    edit_minutes_left: int = 0

    @property
    def anchor(self) -> str:
        return rules.post_anchor(self.post.id)


@dataclass
class ThreadContext:
    """A thread, its board, the person reading it and what they may do there."""

    thread: Thread
    board: Board
    viewer: Viewer
    access: rules.Access


@dataclass
class ThreadPage:
    """One page of a thread's posts as this reader sees them."""

    context: ThreadContext
    posts: list[PostView]
    page: rules.Page
    watching: bool
    agreed: bool


def load_thread(user: User, thread_id: int) -> ThreadContext:
    """The thread with ``user``'s access to its board; 404 unless they may read it."""
    thread = db.session.execute(
        select(Thread).options(joinedload(Thread.board).joinedload(Board.cohort),
                               joinedload(Thread.board).joinedload(Board.study_group))
        .where(Thread.id == thread_id)).unique().scalar_one_or_none()
    if thread is None:
        object_or_404(None, False)
    viewer = viewer_for(user, [thread.board_id])
    access = board_access(viewer, thread.board)
    visible = access.read and (thread.approved or access.moderate or thread.author_id == user.id)
    object_or_404(thread, visible)
    return ThreadContext(thread, thread.board, viewer, access)


def _visible_posts(context: ThreadContext, user_id: int):
    condition = Post.thread_id == context.thread.id
    if not context.access.moderate:
        condition = and_(condition, or_(Post.status != PostStatus.WAITING.value, Post.author_id == user_id))
    return condition


def _is_tutor_of(author: User | None, board: Board) -> bool:
    if author is None:
        return False
    if board.kind == BoardKind.TUTORS:
        return False
    if board.cohort_id is not None:
        return board.cohort_id in author.cohort_ids_for(Role.TUTOR)
    return bool(author.cohort_ids_for(Role.TUTOR))


def shown_body(post: Post, user_id: int, moderator: bool) -> str:
    """A post's words as a reader sees them: a quotation of a post that has since been removed
    (or, for everyone but moderators and its author, hidden) is taken out. ``quoted_post`` must be loaded."""
    quoted = post.quoted_post
    if quoted is None:
        return post.body
    if quoted.status == PostStatus.REMOVED or (
            quoted.status == PostStatus.HIDDEN and not moderator and quoted.author_id != user_id):
        return rules.without_quote(post.body, quoted.id)
    return post.body


def _post_view(post: Post, user: User, context: ThreadContext, now: datetime, read_upto: int) -> PostView:
    mine = post.author_id == user.id
    moderator = context.access.moderate
    status = PostStatus(post.status)
    shows_body = status is PostStatus.PUBLISHED or (status in (PostStatus.WAITING, PostStatus.HIDDEN)
                                                    and (mine or moderator))
    can_write = context.access.post and not context.thread.locked
    quoted_label = None
    if post.quoted_post is not None:
        quoted = post.quoted_post
        quoted_label = author_label(quoted.author, quoted.display_mode, quoted.pseudonym,
                                     moderator=moderator, mine=quoted.author_id == user.id)
    editable = (mine and status in (PostStatus.PUBLISHED, PostStatus.WAITING)
                and rules.within_edit_window(post.created_at, now)
                and not (context.board.premoderated and status is PostStatus.PUBLISHED and not moderator))
    return PostView(
        post=post,
        author_label=author_label(post.author, post.display_mode, post.pseudonym, moderator=moderator, mine=mine),
        mine=mine,
        tutor=post.display_mode == DisplayMode.NAME and _is_tutor_of(post.author, context.board),
        body_html=(render_markdown(shown_body(post, user.id, moderator), anchor_prefix=f"p{post.id}-")
                   if shows_body else None),
        can_edit=editable and context.access.post,
        can_remove=mine and status is not PostStatus.REMOVED,
        can_report=not mine and status is PostStatus.PUBLISHED,
        can_quote=can_write and status is PostStatus.PUBLISHED,
        unread=post.id > read_upto and not mine,
        quoted_label=quoted_label,
        edit_minutes_left=rules.edit_minutes_left(post.created_at, now) if editable else 0,
    )


def _post_options():
    return (selectinload(Post.author).selectinload(User.role_grants),
            selectinload(Post.quoted_post).selectinload(Post.author))


def has_accepted_agreement(user: User) -> bool:
    """Whether ``user`` has accepted the current community agreement."""
    return db.session.execute(select(AgreementAcceptance.id).where(
        AgreementAcceptance.user_id == user.id,
        AgreementAcceptance.version == rules.AGREEMENT_VERSION)).first() is not None


def accept_agreement(user: User) -> None:
    """Record that ``user`` accepted the current community agreement (idempotent)."""
    if not has_accepted_agreement(user):
        db.session.add(AgreementAcceptance(user_id=user.id, version=rules.AGREEMENT_VERSION))
        db.session.flush()


def _upsert_read(model, other_column: str, user_id: int, other_id: int, post_id: int) -> None:
    """Move a person's read marker forward (never back), in one statement."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(user_id=user_id, **{other_column: other_id}, last_read_post_id=post_id)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", other_column],
        set_={"last_read_post_id": case(
            (statement.excluded.last_read_post_id > model.last_read_post_id, statement.excluded.last_read_post_id),
            else_=model.last_read_post_id)})
    db.session.execute(statement)


def thread_page(user: User, thread_id: int, page_number: int | None) -> ThreadPage:
    """One page of a thread's posts, oldest first; marks them as read.

    With no page number, opens the page of the first unread post.
    """
    context = load_thread(user, thread_id)
    condition = _visible_posts(context, user.id)
    read_upto = db.session.execute(select(ThreadRead.last_read_post_id).where(
        ThreadRead.user_id == user.id, ThreadRead.thread_id == thread_id)).scalar() or 0
    total = db.session.execute(select(func.count(Post.id)).where(condition)).scalar_one()
    if page_number is None:
        before = db.session.execute(select(func.count(Post.id)).where(condition, Post.id <= read_upto)
                                    ).scalar_one() if read_upto else 0
        page_number = rules.page_of_position(min(before, max(total - 1, 0)), rules.POSTS_PER_PAGE)
    page = rules.page_for(page_number, rules.POSTS_PER_PAGE, total)
    posts = list(db.session.execute(
        select(Post).options(*_post_options()).where(condition)
        .order_by(Post.id).limit(page.size).offset(page.offset)).scalars())
    now = utcnow()
    views = [_post_view(post, user, context, now, read_upto) for post in posts]
    if posts and posts[-1].id > read_upto:
        _upsert_read(ThreadRead, "thread_id", user.id, thread_id, posts[-1].id)
    watching = db.session.execute(select(Subscription.id).where(
        Subscription.user_id == user.id, Subscription.thread_id == thread_id)).first() is not None
    return ThreadPage(context, views, page, watching, has_accepted_agreement(user))


def quote_prefill(user: User, context: ThreadContext, post_id: int | None) -> PostInput | None:
    """The start of a reply quoting ``post_id`` (when it is a published post of this thread)."""
    if not post_id:
        return None
    post = db.session.execute(select(Post).options(joinedload(Post.author), selectinload(Post.quoted_post)).where(
        Post.id == post_id, Post.thread_id == context.thread.id,
        Post.status == PostStatus.PUBLISHED.value)).scalar_one_or_none()
    if post is None:
        return None
    body = shown_body(post, user.id, context.access.moderate)
    label = author_label(post.author, post.display_mode, post.pseudonym, moderator=False,
                          mine=post.author_id == user.id)
    label = "I" if label.startswith("You") else label
    return PostInput(body=rules.quote_markdown(label, body, post.id), content_note=post.content_note or "",
                     quoted_post_id=post.id)


def post_location(user: User, post_id: int) -> tuple[int, int]:
    """(thread id, page number) where ``post_id`` appears for ``user``; 404 if they may not see it."""
    post = db.session.get(Post, post_id)
    if post is None:
        object_or_404(None, False)
    context = load_thread(user, post.thread_id)
    object_or_404(post, context.access.moderate or post.status != PostStatus.WAITING or post.author_id == user.id)
    before = db.session.execute(select(func.count(Post.id)).where(
        _visible_posts(context, user.id), Post.id < post.id)).scalar_one()
    return post.thread_id, rules.page_of_position(before, rules.POSTS_PER_PAGE)


# ---------------------------------------------------------------------------
# Writing posts
# ---------------------------------------------------------------------------

def _flood_key(user: User) -> str:
    return f"board-posts:{user.id}"


def _flood_problem(user: User) -> rules.Problem | None:
    if ratelimits.allowed(POST_LIMIT, _flood_key(user)):
        return None
    return ("body", rules.flood_message(ratelimits.minutes_until_reset(POST_LIMIT, _flood_key(user))))


def _post_problems(user: User, data: PostInput, board: Board, access: rules.Access, *,
                   with_title: bool) -> list[rules.Problem]:
    problems: list[rules.Problem] = []
    if with_title:
        problems += rules.title_problems(data.title)
    problems += rules.body_problems(data.body)
    problems += rules.content_note_problems(data.content_note)
    # Tutors post under their own names: people need to know who is moderating.
    problems += rules.display_problems(data.display_mode, data.pseudonym,
                                       board.allow_pseudonyms and not access.moderate)
    if not data.accept_agreement and not has_accepted_agreement(user):
        problems.append(("accept_agreement", "Read the community agreement and tick the box to accept it "
                                             "before you post."))
    return problems


def _make_post(user: User, thread: Thread, board: Board, data: PostInput, *, status: PostStatus,
               quoted_post_id: int | None = None) -> Post:
    mode = DisplayMode(data.display_mode)
    post = Post(thread=thread, board_id=board.id, author_id=user.id, body=data.body,
                content_note=data.content_note.strip() or None, display_mode=mode.value,
                pseudonym=data.pseudonym.strip() if mode is DisplayMode.PSEUDONYM else None,
                quoted_post_id=quoted_post_id, status=status.value, created_at=utcnow())
    db.session.add(post)
    db.session.flush()
    return post


def after_publishing(post: Post, thread: Thread, board: Board, *, tell: bool = True) -> None:
    """What follows when a post takes its place in a thread: counters, the index, the watchers."""
    thread.post_count += 1
    thread.last_post_id = max(thread.last_post_id or 0, post.id)
    thread.last_post_at = utcnow()
    db.session.flush()
    search.index_post(post.id, post.body)
    if tell:
        _tell_watchers(post, thread, board)


def _accept_for_posting(user: User, data: PostInput) -> None:
    if data.accept_agreement:
        accept_agreement(user)
    ratelimits.hit(POST_LIMIT, _flood_key(user))


def _watch(user_id: int, *, thread_id: int | None = None, board_id: int | None = None) -> None:
    """Watch a thread or a board (idempotent)."""
    watched = (Subscription.thread_id == thread_id) if thread_id is not None else (Subscription.board_id == board_id)
    exists = db.session.execute(select(Subscription.id).where(Subscription.user_id == user_id, watched)).first()
    if exists is None:
        db.session.add(Subscription(user_id=user_id, thread_id=thread_id, board_id=board_id))
        db.session.flush()


def start_thread(user: User, board_id: int, data: PostInput) -> Result:
    """Start a thread with its first post. Returns the thread, or problems to show."""
    context = load_board(user, board_id)
    board, access = context.board, context.access
    if not access.post:
        raise Refused("This board is read-only now, so new threads cannot be started.")
    problems = _post_problems(user, data, board, access, with_title=True)
    if problems:
        return Result(errors=problems, status=400)
    flood = _flood_problem(user)
    if flood:
        return Result(errors=[flood], status=429)
    waits = board.premoderated and not access.moderate
    mode = DisplayMode(data.display_mode)
    thread = Thread(board_id=board.id, title=data.title.strip(), author_id=user.id, approved=not waits,
                    author_display_mode=mode.value,
                    author_pseudonym=data.pseudonym.strip() if mode is DisplayMode.PSEUDONYM else None,
                    created_at=utcnow(), last_post_at=utcnow())
    db.session.add(thread)
    post = _make_post(user, thread, board, data, status=PostStatus.WAITING if waits else PostStatus.PUBLISHED)
    _accept_for_posting(user, data)
    _watch(user.id, thread_id=thread.id)
    if waits:
        _tell_moderators_waiting(post, board)
    else:
        after_publishing(post, thread, board)
    _upsert_read(ThreadRead, "thread_id", user.id, thread.id, post.id)
    return Result(value=thread)


def reply(user: User, thread_id: int, data: PostInput) -> Result:
    """Add a reply to a thread. Returns the post, or problems to show."""
    context = load_thread(user, thread_id)
    thread, board, access = context.thread, context.board, context.access
    if not access.post:
        return Result(errors=[("body", "This board is read-only now, so replies cannot be added.")], status=409)
    if thread.locked:
        return Result(errors=[("body", "This thread is locked, so new replies cannot be added. "
                                       "Your words have not been posted; you can copy them if you need them.")],
                      status=409)
    if not thread.approved:
        return Result(errors=[("body", "This thread is waiting for a tutor to approve it. "
                                       "You can reply once it has been approved.")], status=409)
    problems = _post_problems(user, data, board, access, with_title=False)
    if problems:
        return Result(errors=problems, status=400)
    flood = _flood_problem(user)
    if flood:
        return Result(errors=[flood], status=429)
    quoted_post_id = None
    if data.quoted_post_id:
        quoted_post_id = db.session.execute(select(Post.id).where(
            Post.id == data.quoted_post_id, Post.thread_id == thread.id,
            Post.status == PostStatus.PUBLISHED.value)).scalar()
    waits = board.premoderated and not access.moderate
    post = _make_post(user, thread, board, data, status=PostStatus.WAITING if waits else PostStatus.PUBLISHED,
                      quoted_post_id=quoted_post_id)
    _accept_for_posting(user, data)
    _watch(user.id, thread_id=thread.id)
    if waits:
        _tell_moderators_waiting(post, board)
    else:
        after_publishing(post, thread, board)
        _upsert_read(ThreadRead, "thread_id", user.id, thread.id, post.id)
    return Result(value=post)


@dataclass
class PostContext:
    """A post with its thread and the reader's access."""

    post: Post
    thread: ThreadContext


def load_post(user: User, post_id: int, *, moderating: bool = False) -> PostContext:
    """The post with its thread and board; 404 unless ``user`` may see it.

    With ``moderating``, the board's moderators may reach a post on a board they
    do not read (a study group that has not invited them) only while it has an
    open report or waits for approval, and nobody else may: moderating a group
    is never a way to read it.
    """
    post = db.session.execute(select(Post).options(joinedload(Post.author)).where(Post.id == post_id)
                              ).scalar_one_or_none()
    if post is None:
        object_or_404(None, False)
    thread = db.session.execute(
        select(Thread).options(joinedload(Thread.board).joinedload(Board.cohort),
                               joinedload(Thread.board).joinedload(Board.study_group))
        .where(Thread.id == post.thread_id)).unique().scalar_one()
    viewer = viewer_for(user, [thread.board_id])
    access = board_access(viewer, thread.board)
    context = PostContext(post, ThreadContext(thread, thread.board, viewer, access))
    if moderating:
        needs_a_moderator = access.read or post.status == PostStatus.WAITING or db.session.execute(
            select(PostReport.id).where(PostReport.post_id == post.id, PostReport.resolved_at.is_(None))
        ).first() is not None
        object_or_404(post, access.moderate and needs_a_moderator)
        return context
    visible = access.read and (thread.approved or access.moderate or thread.author_id == user.id) and (
        post.status != PostStatus.WAITING or access.moderate or post.author_id == user.id)
    object_or_404(post, visible)
    return context


def _own_post(user: User, post_id: int) -> PostContext:
    context = load_post(user, post_id)
    if context.post.author_id != user.id:
        raise Refused("You can only change or remove your own posts. If you are worried about this post, "
                      "you can report it to a tutor.", status=404)
    return context


def edit_form(user: User, post_id: int) -> tuple[PostContext, PostInput, bool]:
    """What the edit page starts with: the post, its current words, and whether it starts its thread."""
    context = _editable(user, post_id)
    post = context.post
    first = is_first_post(post)
    data = PostInput(body=post.body, title=context.thread.thread.title if first else "",
                     content_note=post.content_note or "", display_mode=post.display_mode,
                     pseudonym=post.pseudonym or "", accept_agreement=True)
    return context, data, first


def is_first_post(post: Post) -> bool:
    """Whether ``post`` opened its thread."""
    return db.session.execute(select(func.min(Post.id)).where(Post.thread_id == post.thread_id)
                              ).scalar() == post.id


def _editable(user: User, post_id: int) -> PostContext:
    context = _own_post(user, post_id)
    post, thread_context = context.post, context.thread
    status = PostStatus(post.status)
    if status is PostStatus.REMOVED:
        raise Refused("You removed this post, so it cannot be changed.")
    if status is PostStatus.HIDDEN:
        raise Refused("A tutor has hidden this post, so it cannot be changed. "
                      "Your notifications say why; you are welcome to write a new post.")
    if not rules.within_edit_window(post.created_at, utcnow()):
        raise Refused("Posts can be changed for 30 minutes after they are written, and that time has passed "
                      "for this one. You can remove it and write a new post if you need to.")
    if thread_context.board.premoderated and status is PostStatus.PUBLISHED and not thread_context.access.moderate:
        raise Refused("A tutor approves posts on this board, so a post cannot be changed once approved. "
                      "You can remove it and write a new post if you need to.")
    if thread_context.thread.locked:
        raise Refused("This thread is locked, so its posts cannot be changed.")
    return context


def edit_post(user: User, post_id: int, data: PostInput) -> Result:
    """Change one's own post within the edit window; it then shows as edited."""
    context = _editable(user, post_id)
    post, thread = context.post, context.thread.thread
    first = is_first_post(post)
    problems = rules.body_problems(data.body) + rules.content_note_problems(data.content_note)
    if first:
        problems = rules.title_problems(data.title) + problems
    if problems:
        return Result(errors=problems, status=400)
    old_body = post.body
    post.body = data.body
    post.content_note = data.content_note.strip() or None
    post.edited_at = utcnow()
    if first:
        thread.title = data.title.strip()
    db.session.flush()
    if post.status == PostStatus.PUBLISHED and old_body != post.body:
        search.reindex_post(post.id, old_body, post.body)
    return Result(value=post)


def remove_post(user: User, post_id: int) -> Post:
    """The author removes their own post: its words go; "Removed by the author" stays."""
    context = _own_post(user, post_id)
    post = context.post
    if post.status == PostStatus.REMOVED:
        raise Refused("You have already removed this post.", status=400)
    was_published = post.status == PostStatus.PUBLISHED
    old_body = post.body
    post.status = PostStatus.REMOVED.value
    post.body = ""
    post.content_note = None
    post.removed_at = utcnow()
    db.session.execute(update(PostReport).where(PostReport.post_id == post.id, PostReport.resolved_at.is_(None))
                       .values(resolved_at=utcnow(), outcome="removed"))
    db.session.execute(delete(DigestItem).where(DigestItem.post_id == post.id))
    db.session.flush()
    if was_published:
        search.unindex_post(post.id, old_body)
    return post


# ---------------------------------------------------------------------------
# Who is told about reports and waiting posts
# ---------------------------------------------------------------------------

def moderators_of(board: Board) -> list[User]:
    """The people told about reports and waiting posts: the cohort's (or course's) tutors, else admins."""
    if board.kind in (BoardKind.COHORT, BoardKind.GROUP) and board.cohort_id is not None:
        cohort_ids = select(Cohort.id).where(Cohort.id == board.cohort_id)
    elif board.kind == BoardKind.COURSE:
        cohort_ids = select(Cohort.id).where(Cohort.course_slug == board.course_slug)
    else:
        cohort_ids = None
    people: list[User] = []
    if cohort_ids is not None:
        people = list(db.session.execute(
            select(User).join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == Role.TUTOR.value, RoleGrant.cohort_id.in_(cohort_ids), User.active.is_(True))
            .distinct().order_by(User.id)).scalars())
    if not people:
        people = list(db.session.execute(
            select(User).join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == Role.ADMIN.value, User.active.is_(True)).distinct().order_by(User.id)).scalars())
    return people


def _tell_moderators_waiting(post: Post, board: Board) -> None:
    for moderator in moderators_of(board):
        if moderator.id == post.author_id:
            continue
        notify(moderator, f"A post on {board.name} is waiting for approval",
               "Please look at it in the reports queue.", link="/boards/reports", email=False)


# ---------------------------------------------------------------------------
# Watching, reading and e-mail
# ---------------------------------------------------------------------------

def set_watching_thread(user: User, thread_id: int, watch: bool) -> Thread:
    """Start (or stop) telling ``user`` about new replies in a thread they can read."""
    context = load_thread(user, thread_id)
    if watch:
        _watch(user.id, thread_id=thread_id)
    else:
        db.session.execute(delete(Subscription).where(Subscription.user_id == user.id,
                                                      Subscription.thread_id == thread_id))
    return context.thread


def set_watching_board(user: User, board_id: int, watch: bool) -> Board:
    """Start (or stop) telling ``user`` about new threads and replies on a board they can read."""
    context = load_board(user, board_id)
    if watch:
        _watch(user.id, board_id=board_id)
    else:
        db.session.execute(delete(Subscription).where(Subscription.user_id == user.id,
                                                      Subscription.board_id == board_id))
    return context.board


def mark_board_read(user: User, board_id: int) -> Board:
    """Count every post on the board so far as read."""
    context = load_board(user, board_id)
    latest = db.session.execute(select(func.max(Thread.last_post_id)).where(Thread.board_id == board_id)
                                ).scalar() or 0
    _upsert_read(BoardRead, "board_id", user.id, board_id, latest)
    return context.board


def email_by_choice(user: User, subject: str, body: str, link: str, digest_post_id: int | None) -> None:
    """E-mail now, add to tomorrow's digest, or neither, as the person chose.

    E-mails never carry what people wrote (posts may hold personal stories):
    they say that something happened and link to it.
    """
    choice = email_choice(user.notification_email)
    if choice == EMAIL_IMMEDIATELY:
        send_email(user.email, subject, f"{body}\n\n{current_app.config['LMS_BASE_URL']}{link}")
    elif choice == EMAIL_DAILY and digest_post_id is not None:
        db.session.add(DigestItem(user_id=user.id, post_id=digest_post_id))


def _tell_watchers(post: Post, thread: Thread, board: Board) -> None:
    """Tell the people watching the thread or its board about a newly published post."""
    watchers = list(db.session.execute(
        select(User).options(selectinload(User.role_grants))
        .join(Subscription, Subscription.user_id == User.id)
        .where(or_(Subscription.thread_id == thread.id, Subscription.board_id == board.id),
               User.id != post.author_id, User.active.is_(True))
        .distinct().order_by(User.id)).scalars())
    new_thread = thread.post_count == 1
    for watcher in readers_among(watchers, board):
        subject = (f"New thread on {board.name}: \u201c{thread.title}\u201d" if new_thread
                   else f"New reply in \u201c{thread.title}\u201d")
        notify(watcher, subject[:200], f"On {board.name}.", link=post_link(post.id), email=False)
        email_by_choice(watcher, f"New post on {board.name}",
                         f"There is a new post on {board.name}, in a thread or board you watch.",
                         post_link(post.id), digest_post_id=post.id)
    db.session.flush()


def send_daily_digests(now: datetime | None = None) -> int:
    """The daily digest job: one e-mail per person with posts waiting for them. Returns how many were sent.

    Run once a day (``lms boards send-digests`` from cron). Each post is
    checked again before it goes in: one that has since been hidden or
    removed, or a board the person can no longer read, is left out. The job
    commits its own work.
    """
    items = list(db.session.execute(
        select(DigestItem).options(
            selectinload(DigestItem.user).selectinload(User.role_grants),
            selectinload(DigestItem.post).selectinload(Post.thread).selectinload(Thread.board)
            .selectinload(Board.cohort))
        .order_by(DigestItem.user_id, DigestItem.id)).scalars())
    by_user: dict[int, list[DigestItem]] = defaultdict(list)
    for item in items:
        by_user[item.user_id].append(item)
    sent = 0
    base = current_app.config["LMS_BASE_URL"]
    for user_items in by_user.values():
        user = user_items[0].user
        lines: dict[str, list[str]] = defaultdict(list)
        if user.active and email_choice(user.notification_email) == EMAIL_DAILY:
            readable: dict[int, bool] = {}
            for item in user_items:
                post = item.post
                board = post.thread.board
                if board.id not in readable:
                    readable[board.id] = bool(readers_among([user], board))
                if post.status == PostStatus.PUBLISHED and post.thread.approved and readable[board.id]:
                    lines[board.name].append(f"  {base}{post_link(post.id)}")
        if lines:
            count = sum(len(links) for links in lines.values())
            body = [f"Hello {user.display_name},", "",
                    f"There {'is 1 new post' if count == 1 else f'are {count} new posts'} on the boards you watch:"]
            for board_name, links in lines.items():
                body += ["", f"{board_name}:"] + links
            body += ["", "You get this digest once a day because you chose it. You can change how often we "
                         "e-mail you in your account settings."]
            send_email(user.email, "Your daily digest from the course boards", "\n".join(body))
            sent += 1
        db.session.execute(delete(DigestItem).where(DigestItem.id.in_([item.id for item in user_items])))
    db.session.commit()
    return sent


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------

@dataclass
class SearchHit:
    """A post found by a search, with its author as the reader sees them and a piece of its text."""

    post: Post
    author_label: str
    excerpt: str


@dataclass
class SearchResults:
    """One page of search results."""

    query: str
    hits: list[SearchHit]
    page: rules.Page
    threads: list[Thread] = field(default_factory=list)  # threads whose title matches (first page only)


def search_posts(user: User, query: str, page_number: int = 1) -> SearchResults:
    """Posts matching ``query`` on the boards ``user`` may read: published ones only, in visible threads."""
    query = (query or "").strip()[:200]
    viewer = viewer_for(user)
    boards = {board.id: access for board, access in readable_boards(user, viewer)}
    if not rules.search_terms(query):
        return SearchResults(query, [], rules.page_for(1, rules.RESULTS_PER_PAGE, 0))
    size = rules.RESULTS_PER_PAGE
    ids, total = search.matching_post_ids(query, list(boards), size, (max(1, page_number) - 1) * size)
    page = rules.page_for(page_number, size, total)
    posts = {p.id: p for p in db.session.execute(
        select(Post).options(selectinload(Post.author), selectinload(Post.quoted_post),
                             selectinload(Post.thread).selectinload(Thread.board))
        .where(Post.id.in_(ids))).scalars()} if ids else {}
    threads = []
    if page.number == 1:
        thread_ids = search.matching_thread_ids(query, list(boards), rules.THREAD_RESULTS)
        found = {t.id: t for t in db.session.execute(
            select(Thread).options(selectinload(Thread.board)).where(Thread.id.in_(thread_ids)))
            .scalars()} if thread_ids else {}
        threads = [found[thread_id] for thread_id in thread_ids]
    hits = []
    for post_id in ids:
        post = posts[post_id]
        moderator = boards[post.board_id].moderate
        label = author_label(post.author, post.display_mode, post.pseudonym, moderator=moderator,
                              mine=post.author_id == user.id)
        # A post behind a content note is not quoted in the results: the reader chooses to open it.
        text = (f"Content note: {post.content_note}" if post.content_note
                else rules.excerpt(shown_body(post, user.id, moderator), query))
        hits.append(SearchHit(post, label, text))
    return SearchResults(query, hits, page, threads)
