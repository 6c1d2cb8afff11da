"""Membership of the boards that need one: the opt-in course community board, and peer study groups
(starting one, inviting peers, answering an invitation, joining and leaving)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import RoleGrant, User
from lms.audit.services import record
from lms.authz.access import object_or_404
from lms.authz.roles import Role
from lms.boards import rules
from lms.boards.models import Board, BoardMember, StudyGroup, Subscription, Thread
from lms.boards.policies import facts, viewer_for
from lms.boards.rules import BoardKind
from lms.boards.services import BoardContext, Refused, Result, email_by_choice, group_link, load_board
from lms.cohorts.models import Cohort
from lms.extensions import db
from lms.notify.services import notify


# ---------------------------------------------------------------------------
# The course board: opting in and out
# ---------------------------------------------------------------------------

def join_board(user: User, board_id: int) -> Board:
    """Opt in to the course community board (current trainees and alumni of the course)."""
    context = load_board(user, board_id, need="see")
    board = context.board
    if board.kind != BoardKind.COURSE:
        raise Refused("This board is not one you join: everyone it is for can already read it.", status=400)
    if context.access.read and board.id in context.viewer.member_boards:
        return board
    if not facts(context.viewer, board).trainee_here:
        raise Refused("The course community board is for trainees and alumni of the course.", status=400)
    db.session.add(BoardMember(board_id=board.id, user_id=user.id, status="member"))
    db.session.flush()
    return board


def leave_board(user: User, board_id: int) -> Board:
    """Leave the course community board; its threads stop being watched."""
    context = load_board(user, board_id, need="see")
    board = context.board
    if board.kind != BoardKind.COURSE:
        raise Refused("You cannot leave this board. Study groups are left from the group's own page.",
                      status=400)
    _leave(user.id, board.id)
    return board


def _leave(user_id: int, board_id: int) -> None:
    db.session.execute(delete(BoardMember).where(BoardMember.board_id == board_id, BoardMember.user_id == user_id))
    thread_ids = select(Thread.id).where(Thread.board_id == board_id)
    db.session.execute(delete(Subscription).where(Subscription.user_id == user_id, or_(
        Subscription.board_id == board_id, Subscription.thread_id.in_(thread_ids))))
    db.session.flush()


# ---------------------------------------------------------------------------
# Peer study groups
# ---------------------------------------------------------------------------

@dataclass
class GroupRow:
    """A study group in the list, with how many members it has and this person's place in it."""

    group: StudyGroup
    members: int
    status: str | None  # "member", "invited" or None


def trainee_cohorts(user: User) -> list[Cohort]:
    """The cohorts in which ``user`` is a trainee (where they may start study groups)."""
    ids = user.cohort_ids_for(Role.TRAINEE)
    if not ids:
        return []
    return list(db.session.execute(select(Cohort).where(Cohort.id.in_(ids)).order_by(Cohort.start_date.desc()))
                .scalars())


GROUPS_PER_PAGE = 25


def groups_list(user: User, page_number: int = 1) -> tuple[list[GroupRow], rules.Page]:
    """A page of the study groups in the cohorts ``user`` belongs to (all of them, for admins), with member
    counts. The number of queries does not depend on how many groups there are."""
    viewer = viewer_for(user)
    query = select(StudyGroup).options(joinedload(StudyGroup.board), joinedload(StudyGroup.cohort))
    if not viewer.is_admin:
        query = query.where(StudyGroup.cohort_id.in_(viewer.cohorts))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = rules.page_for(page_number, GROUPS_PER_PAGE, total)
    groups = list(db.session.execute(query.order_by(StudyGroup.cohort_id, StudyGroup.name, StudyGroup.id)
                                     .limit(page.size).offset((page.number - 1) * page.size)).unique().scalars())
    board_ids = [g.board.id for g in groups if g.board is not None]
    counts = dict(db.session.execute(
        select(BoardMember.board_id, func.count(BoardMember.id))
        .where(BoardMember.board_id.in_(board_ids), BoardMember.status == "member")
        .group_by(BoardMember.board_id)).all()) if board_ids else {}
    rows = []
    for group in groups:
        board = group.board
        status = ("member" if board.id in viewer.member_boards
                  else "invited" if board.id in viewer.invited_boards else None)
        rows.append(GroupRow(group, counts.get(board.id, 0), status))
    return rows, page


def create_group(user: User, cohort_id: int | None, name: str, purpose: str, is_open: bool) -> Result:
    """A trainee starts a peer study group in their cohort, with its own board; they are its first member."""
    cohorts = {c.id: c for c in trainee_cohorts(user)}
    if not cohorts:
        raise Refused("Study groups are started by trainees, for trainees of their cohort.", status=403)
    problems = rules.group_problems(name, purpose)
    if cohort_id not in cohorts:
        problems.insert(0, ("cohort_id", "Choose the cohort the group is for."))
    elif not problems and db.session.execute(select(StudyGroup.id).where(
            StudyGroup.cohort_id == cohort_id, func.lower(StudyGroup.name) == name.strip().lower())).first():
        problems.append(("name", f"There is already a study group called \u201c{name.strip()}\u201d in your "
                                 "cohort. Join that one, or choose another name."))
    if problems:
        return Result(errors=problems, status=400)
    group = StudyGroup(cohort_id=cohort_id, name=name.strip(), purpose=purpose.strip(), open=bool(is_open),
                       created_by_id=user.id)
    db.session.add(group)
    db.session.flush()
    board = Board(key=f"group:{group.id}", kind=BoardKind.GROUP.value, name=group.name,
                  description=group.purpose, cohort_id=cohort_id, study_group_id=group.id)
    db.session.add(board)
    db.session.flush()
    db.session.add(BoardMember(board_id=board.id, user_id=user.id, status="member"))
    db.session.flush()
    record(user, "study_group.created", "study_group", group.id, after={"name": group.name, "open": group.open},
           cohort_id=cohort_id)
    return Result(value=group)


@dataclass
class GroupPage:
    """A study group's page as this person may see it."""

    group: StudyGroup
    board: Board
    access: rules.Access
    status: str | None
    members: list[BoardMember]
    member_count: int
    invitable: list[User]
    cohort_trainee: bool  # a trainee of the group's cohort (who may join an open group)


def _load_group(user: User, group_id: int) -> tuple[StudyGroup, BoardContext]:
    group = db.session.execute(select(StudyGroup).options(joinedload(StudyGroup.board), joinedload(StudyGroup.cohort))
                               .where(StudyGroup.id == group_id)).unique().scalar_one_or_none()
    if group is None or group.board is None:
        object_or_404(None, False)
    return group, load_board(user, group.board.id, need="see")


def group_page(user: User, group_id: int) -> GroupPage:
    """A study group as ``user`` may see it: members see who is in it and can invite peers;
    others see only its name, purpose and size."""
    group, context = _load_group(user, group_id)
    board, viewer = context.board, context.viewer
    status = "member" if board.id in viewer.member_boards else "invited" if board.id in viewer.invited_boards else None
    members = list(db.session.execute(
        select(BoardMember).options(joinedload(BoardMember.user))
        .where(BoardMember.board_id == board.id).order_by(BoardMember.status.desc(), BoardMember.id)).scalars())
    member_count = sum(1 for m in members if m.status == "member")
    invitable: list[User] = []
    if context.access.read:
        taken = {m.user_id for m in members}
        invitable = [person for person in _cohort_people(group.cohort_id) if person.id not in taken]
    else:
        members = []
    return GroupPage(group, board, context.access, status, members, member_count, invitable,
                     group.cohort_id in viewer.trainee_cohorts)


def _cohort_people(cohort_id: int) -> list[User]:
    """The trainees and tutors of a cohort: the people a study group may invite."""
    return list(db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.cohort_id == cohort_id, RoleGrant.role.in_([Role.TRAINEE.value, Role.TUTOR.value]),
               User.active.is_(True))
        .distinct().order_by(User.display_name, User.id)).scalars())


def invite_to_group(user: User, group_id: int, invitee_id: int | None) -> Result:
    """A member invites a peer (or a tutor) of the cohort; they are told and choose whether to join."""
    group, context = _load_group(user, group_id)
    if not context.access.read:
        object_or_404(None, False)
    people = {person.id: person for person in _cohort_people(group.cohort_id)}
    invitee = people.get(invitee_id or 0)
    if invitee is None:
        return Result(errors=[("invitee_id", "Choose a trainee or tutor of your cohort to invite.")], status=400)
    existing = db.session.execute(select(BoardMember).where(
        BoardMember.board_id == context.board.id, BoardMember.user_id == invitee.id)).scalar_one_or_none()
    if existing is not None:
        what = "is already a member" if existing.status == "member" else "has already been invited"
        return Result(errors=[("invitee_id", f"{invitee.display_name} {what}.")], status=400)
    db.session.add(BoardMember(board_id=context.board.id, user_id=invitee.id, status="invited",
                               invited_by_id=user.id))
    db.session.flush()
    notify(invitee, f"You are invited to the study group \u201c{group.name}\u201d",
           f"{user.display_name} has invited you to join. You can accept or decline on the group's page.",
           link=group_link(group.id), email=False)
    email_by_choice(invitee, "You are invited to a study group",
                     f"{user.display_name} has invited you to a peer study group. "
                     "You can accept or decline on the group's page:", group_link(group.id), digest_post_id=None)
    return Result(value=invitee)


def answer_invitation(user: User, group_id: int, accept: bool) -> StudyGroup:
    """Accept or decline an invitation to a study group."""
    group, context = _load_group(user, group_id)
    membership = db.session.execute(select(BoardMember).where(
        BoardMember.board_id == context.board.id, BoardMember.user_id == user.id,
        BoardMember.status == "invited")).scalar_one_or_none()
    if membership is None:
        raise Refused("There is no invitation waiting for you in this group.", status=400)
    if accept:
        membership.status = "member"
    else:
        db.session.delete(membership)
    db.session.flush()
    return group


def join_group(user: User, group_id: int) -> StudyGroup:
    """Join an open group of one's cohort (or accept an invitation to any group)."""
    group, context = _load_group(user, group_id)
    board = context.board
    if board.id in context.viewer.member_boards:
        return group
    if board.id in context.viewer.invited_boards:
        return answer_invitation(user, group_id, accept=True)
    if group.cohort_id not in context.viewer.trainee_cohorts:
        raise Refused("Study groups are for the trainees of their cohort. A member can invite you if "
                      "they would like you to join.", status=400)
    if not group.open:
        raise Refused("This group is invite-only. Ask one of its members to invite you.", status=400)
    db.session.add(BoardMember(board_id=board.id, user_id=user.id, status="member"))
    db.session.flush()
    return group


def leave_group(user: User, group_id: int) -> StudyGroup:
    """Leave a study group: its board is no longer readable and its threads no longer watched."""
    group, context = _load_group(user, group_id)
    if context.board.id not in context.viewer.member_boards:
        raise Refused("You are not a member of this group.", status=400)
    _leave(user.id, context.board.id)
    return group

