"""Who may use the boards' pages, and what a person may do on each board.

The rights themselves are pure rules (``rules.board_access``, one function per
board kind); this module gathers the facts about a person that those rules
need, in a bounded number of queries, and offers the ``can_*`` predicates.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms.accounts.models import User
from lms.authz.access import SIGNED_IN
from lms.authz.roles import Role
from lms.boards import rules
from lms.boards.models import Board, BoardMember
from lms.cohorts.models import Cohort
from lms.extensions import db

MODERATORS = frozenset({Role.TUTOR, Role.ADMIN})

ENDPOINT_ACCESS = {
    "boards.index": SIGNED_IN,
    "boards.board": SIGNED_IN,
    "boards.new_thread": SIGNED_IN,
    "boards.thread": SIGNED_IN,
    "boards.reply": SIGNED_IN,
    "boards.post": SIGNED_IN,
    "boards.edit_post": SIGNED_IN,
    "boards.remove_post": SIGNED_IN,
    "boards.report_post": SIGNED_IN,
    "boards.watch_thread": SIGNED_IN,
    "boards.watch_board": SIGNED_IN,
    "boards.mark_board_read": SIGNED_IN,
    "boards.join_board": SIGNED_IN,
    "boards.leave_board": SIGNED_IN,
    "boards.agreement": SIGNED_IN,
    "boards.search": SIGNED_IN,
    "boards.groups": SIGNED_IN,
    "boards.new_group": frozenset({Role.TRAINEE}),
    "boards.group": SIGNED_IN,
    "boards.invite": SIGNED_IN,
    "boards.join_group": SIGNED_IN,
    "boards.leave_group": SIGNED_IN,
    "boards.answer_invitation": SIGNED_IN,
    "boards.reports": MODERATORS,
    "boards.hide_post": MODERATORS,
    "boards.approve_post": MODERATORS,
    "boards.keep_post": MODERATORS,
    "boards.moderate_thread": MODERATORS,
    "boards.move_thread": MODERATORS,
    "boards.board_settings": MODERATORS,
}


@dataclass(frozen=True)
class Viewer:
    """The facts about one person that board access depends on.

    Built once per request by ``viewer_for``; ``member_boards`` holds the
    boards where the person has an accepted place, ``invited_boards`` those
    where an invitation waits for them.
    """

    user_id: int
    is_admin: bool
    trainee_cohorts: frozenset[int]
    tutor_cohorts: frozenset[int]
    trainee_courses: frozenset[str]
    tutor_courses: frozenset[str]
    member_boards: frozenset[int]
    invited_boards: frozenset[int]

    @property
    def cohorts(self) -> frozenset[int]:
        return self.trainee_cohorts | self.tutor_cohorts


def viewer_for(user: User, board_ids=None) -> Viewer:
    """Gather what ``user``'s board access depends on (at most two queries).

    ``board_ids`` limits the memberships looked up to those boards, for pages
    about one board.
    """
    trainee_cohorts = user.cohort_ids_for(Role.TRAINEE)
    tutor_cohorts = user.cohort_ids_for(Role.TUTOR)
    courses: dict[int, str] = {}
    if trainee_cohorts | tutor_cohorts:
        courses = dict(db.session.execute(
            select(Cohort.id, Cohort.course_slug).where(Cohort.id.in_(trainee_cohorts | tutor_cohorts))).all())
    query = select(BoardMember.board_id, BoardMember.status).where(BoardMember.user_id == user.id)
    if board_ids is not None:
        query = query.where(BoardMember.board_id.in_(list(board_ids)))
    memberships = db.session.execute(query).all()
    return Viewer(
        user_id=user.id,
        is_admin=user.has_role(Role.ADMIN),
        trainee_cohorts=trainee_cohorts,
        tutor_cohorts=tutor_cohorts,
        trainee_courses=frozenset(courses[c] for c in trainee_cohorts if c in courses),
        tutor_courses=frozenset(courses[c] for c in tutor_cohorts if c in courses),
        member_boards=frozenset(b for b, status in memberships if status == "member"),
        invited_boards=frozenset(b for b, status in memberships if status == "invited"),
    )


def facts(viewer: Viewer, board: Board) -> rules.Facts:
    """The facts about ``viewer`` that matter on ``board`` (its cohort must be loaded)."""
    kind = rules.BoardKind(board.kind)
    if kind is rules.BoardKind.COURSE:
        tutor_here = board.course_slug in viewer.tutor_courses
        trainee_here = board.course_slug in viewer.trainee_courses
    else:
        tutor_here = board.cohort_id in viewer.tutor_cohorts
        trainee_here = board.cohort_id in viewer.trainee_cohorts
    read_only = board.cohort_id is not None and board.cohort is not None and board.cohort.status == "archived"
    return rules.Facts(
        is_admin=viewer.is_admin,
        tutor_here=tutor_here,
        trainee_here=trainee_here,
        tutor_anywhere=bool(viewer.tutor_cohorts),
        member=board.id in viewer.member_boards,
        read_only=read_only,
    )


def board_access(viewer: Viewer, board: Board) -> rules.Access:
    """What ``viewer`` may do on ``board``: see, read, post, moderate."""
    return rules.board_access(board.kind, facts(viewer, board))


def _viewer(actor: User | Viewer, board: Board) -> Viewer:
    return actor if isinstance(actor, Viewer) else viewer_for(actor, [board.id])


def can_read_board(actor: User | Viewer, board: Board) -> bool:
    """Whether ``actor`` may read ``board``."""
    return board_access(_viewer(actor, board), board).read


def can_post_on_board(actor: User | Viewer, board: Board) -> bool:
    """Whether ``actor`` may start threads and reply on ``board``."""
    return board_access(_viewer(actor, board), board).post


def can_moderate_board(actor: User | Viewer, board: Board) -> bool:
    """Whether ``actor`` moderates ``board``."""
    return board_access(_viewer(actor, board), board).moderate


def readers_among(users: list[User], board: Board) -> list[User]:
    """The people in ``users`` who may read ``board`` now (for notifications; two queries at most)."""
    if not users:
        return []
    ids = [user.id for user in users]
    members = {
        user_id: status for user_id, status in db.session.execute(
            select(BoardMember.user_id, BoardMember.status).where(
                BoardMember.board_id == board.id, BoardMember.user_id.in_(ids))).all()
    }
    cohort_courses: dict[int, str] = {}
    if board.kind == rules.BoardKind.COURSE:
        cohort_ids = {grant.cohort_id for user in users for grant in user.role_grants if grant.cohort_id}
        if cohort_ids:
            cohort_courses = dict(db.session.execute(
                select(Cohort.id, Cohort.course_slug).where(Cohort.id.in_(cohort_ids))).all())
    readers = []
    for user in users:
        trainee_cohorts = user.cohort_ids_for(Role.TRAINEE)
        tutor_cohorts = user.cohort_ids_for(Role.TUTOR)
        viewer = Viewer(
            user_id=user.id, is_admin=user.has_role(Role.ADMIN),
            trainee_cohorts=trainee_cohorts, tutor_cohorts=tutor_cohorts,
            trainee_courses=frozenset(cohort_courses[c] for c in trainee_cohorts if c in cohort_courses),
            tutor_courses=frozenset(cohort_courses[c] for c in tutor_cohorts if c in cohort_courses),
            member_boards=frozenset([board.id]) if members.get(user.id) == "member" else frozenset(),
            invited_boards=frozenset(),
        )
        if board_access(viewer, board).read:
            readers.append(user)
    return readers
