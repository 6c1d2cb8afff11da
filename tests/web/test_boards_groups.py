"""Peer study groups, the opt-in course board, and which boards each person finds."""

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.boards import demo as boards_demo
from lms.boards import policies
from lms.boards.models import Board, BoardMember, StudyGroup, Thread
from lms.cohorts.models import Cohort
from lms.extensions import db
from lms.notify.models import Notification
from tests.conftest import csrf_token, sign_in


@pytest.fixture
def boards(demo, today):
    boards_demo.seed(today)
    db.session.commit()


def switch(client, email):
    if client.get("/home").status_code == 200:
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    assert sign_in(client, email).status_code == 302
    return client


def post_form(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, "/home"), **fields})


def group_named(name) -> StudyGroup:
    return db.session.execute(select(StudyGroup).where(StudyGroup.name == name)).scalar_one()


def members(group: StudyGroup) -> dict[str, str]:
    db.session.expire_all()
    board = db.session.execute(select(Board).where(Board.study_group_id == group.id)).scalar_one()
    return {m.user.email: m.status for m in db.session.execute(
        select(BoardMember).where(BoardMember.board_id == board.id)).scalars()}


def test_a_trainee_creates_a_group_and_invites_a_peer_who_accepts(client, boards):
    switch(client, "trainee1@example.org")
    assert client.get("/boards/groups/new").status_code == 200
    response = post_form(client, "/boards/groups/new", name="Role play practice",
                         purpose="Practising active listening before day 8.", membership="invite",
                         cohort_id=str(group_named("Assignment buddies").cohort_id))
    assert response.status_code == 302
    group = group_named("Role play practice")
    assert not group.open and members(group) == {"trainee1@example.org": "member"}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ben Carter" in page  # someone to invite
    assert "Maya Patel" not in page  # another cohort's trainee is not offered
    ben = db.session.execute(select(User).where(User.email == "trainee2@example.org")).scalar_one()
    assert post_form(client, f"/boards/groups/{group.id}/invite", invitee_id=str(ben.id)).status_code == 302
    assert members(group)["trainee2@example.org"] == "invited"
    assert db.session.execute(select(Notification).where(
        Notification.user_id == ben.id, Notification.subject.like("%Role play practice%"))).scalar_one()

    switch(client, "trainee2@example.org")
    board = db.session.execute(select(Board).where(Board.study_group_id == group.id)).scalar_one()
    assert client.get(f"/boards/{board.id}").status_code == 404  # not until they accept
    assert "Role play practice" in client.get("/boards").get_data(as_text=True)
    assert post_form(client, f"/boards/groups/{group.id}/invitation", action="accept").status_code == 302
    assert members(group)["trainee2@example.org"] == "member"
    assert client.get(f"/boards/{board.id}").status_code == 200


@pytest.mark.parametrize("fields, message", [
    ({"name": "", "purpose": "Reading"}, "Give your study group a name."),
    ({"name": "Readers", "purpose": ""}, "Say what the group is for"),
    ({"name": "assignment BUDDIES", "purpose": "Again"}, "There is already a study group called"),
])
def test_a_group_needs_a_unique_name_and_a_purpose(client, boards, fields, message):
    switch(client, "trainee1@example.org")
    cohort_id = group_named("Assignment buddies").cohort_id
    before = db.session.execute(select(func.count(StudyGroup.id))).scalar_one()
    response = post_form(client, "/boards/groups/new", cohort_id=str(cohort_id), membership="open", **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.execute(select(func.count(StudyGroup.id))).scalar_one() == before


def test_only_trainees_start_groups_in_their_own_cohort(client, boards):
    switch(client, "tutor1@example.org")
    assert client.get("/boards/groups/new").status_code == 403
    switch(client, "trainee1@example.org")
    finished = db.session.execute(select(Cohort.id).where(Cohort.slug == "demo-finished")).scalar_one()
    response = post_form(client, "/boards/groups/new", cohort_id=str(finished), name="X", purpose="Y")
    assert response.status_code == 400 and "Choose the cohort" in response.get_data(as_text=True)


def test_inviting_someone_outside_the_cohort_is_refused(client, boards):
    group = group_named("Assignment buddies")
    maya = db.session.execute(select(User).where(User.email == "trainee13@example.org")).scalar_one()
    switch(client, "trainee5@example.org")
    response = post_form(client, f"/boards/groups/{group.id}/invite", invitee_id=str(maya.id))
    assert response.status_code == 400 and "Choose a trainee or tutor of your cohort" in response.get_data(as_text=True)
    response = post_form(client, f"/boards/groups/{group.id}/invite", invitee_id="")
    assert response.status_code == 400
    assert "trainee13@example.org" not in members(group)


def test_only_members_invite(client, boards):
    group = group_named("Assignment buddies")
    switch(client, "trainee1@example.org")
    assert post_form(client, f"/boards/groups/{group.id}/invite", invitee_id="1").status_code == 404


def test_a_tutor_sees_the_group_but_reads_its_board_only_when_invited(client, boards):
    group = group_named("Assignment buddies")
    board = db.session.execute(select(Board).where(Board.study_group_id == group.id)).scalar_one()
    switch(client, "tutor1@example.org")
    assert "Assignment buddies" in client.get("/boards/groups").get_data(as_text=True)
    page = client.get(f"/boards/groups/{group.id}").get_data(as_text=True)
    assert "Assignment buddies" in page and "4 members" in page
    assert "David Kowalski" not in page  # members' names are the group's own business
    assert client.get(f"/boards/{board.id}").status_code == 404
    tutor = db.session.execute(select(User).where(User.email == "tutor1@example.org")).scalar_one()
    switch(client, "trainee5@example.org")
    assert post_form(client, f"/boards/groups/{group.id}/invite", invitee_id=str(tutor.id)).status_code == 302
    switch(client, "tutor1@example.org")
    assert post_form(client, f"/boards/groups/{group.id}/invitation", action="accept").status_code == 302
    page = client.get(f"/boards/{board.id}").get_data(as_text=True)
    assert "Reading session on Thursday" in page


def test_join_an_open_group_not_an_invite_only_one_and_leave(client, boards):
    switch(client, "trainee1@example.org")
    buddies = group_named("Assignment buddies")
    closed = group_named("Wellness plan check-ins")
    assert "Join this group" in client.get(f"/boards/groups/{buddies.id}").get_data(as_text=True)
    assert post_form(client, f"/boards/groups/{buddies.id}/join").status_code == 302
    assert members(buddies)["trainee1@example.org"] == "member"
    response = post_form(client, f"/boards/groups/{closed.id}/join")
    assert response.status_code == 400 and "invite-only" in response.get_data(as_text=True)
    assert "trainee1@example.org" not in members(closed)
    assert post_form(client, f"/boards/groups/{buddies.id}/leave").status_code == 302
    assert "trainee1@example.org" not in members(buddies)
    board = db.session.execute(select(Board).where(Board.study_group_id == buddies.id)).scalar_one()
    assert client.get(f"/boards/{board.id}").status_code == 404


def test_another_cohorts_trainee_cannot_see_or_join_a_group(client, boards):
    group = group_named("Assignment buddies")
    switch(client, "trainee13@example.org")
    assert client.get(f"/boards/groups/{group.id}").status_code == 404
    assert post_form(client, f"/boards/groups/{group.id}/join").status_code == 404
    assert "Assignment buddies" not in client.get("/boards/groups").get_data(as_text=True)


def test_the_course_board_is_opt_in_for_trainees_and_alumni(client, boards):
    course = db.session.execute(select(Board).where(Board.kind == "course")).scalar_one()
    switch(client, "trainee2@example.org")
    page = client.get("/boards").get_data(as_text=True)
    assert "Boards you can join" in page and course.name in page
    assert client.get(f"/boards/{course.id}").status_code == 404
    assert post_form(client, f"/boards/{course.id}/join").status_code == 302
    assert "Questions about starting in a peer role" in client.get(f"/boards/{course.id}").get_data(as_text=True)
    assert post_form(client, f"/boards/{course.id}/leave").status_code == 302
    assert client.get(f"/boards/{course.id}").status_code == 404
    switch(client, "supervisor1@example.org")
    assert post_form(client, f"/boards/{course.id}/join").status_code == 404


@pytest.mark.parametrize("email, finds, not_finds", [
    ("trainee1@example.org", ["Peer Support Worker Training", "Course community"], ["Tutors' board"]),
    ("tutor1@example.org", ["Tutors&#39; board", "Course community"], []),
    ("admin@example.org", ["Tutors&#39; board"], []),
    ("supervisor1@example.org", ["There are no boards for you yet"], ["Tutors"]),
    ("academic1@example.org", ["There are no boards for you yet"], ["Tutors"]),
])
def test_the_boards_index_for_each_role(client, boards, email, finds, not_finds):
    switch(client, email)
    page = client.get("/boards")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for words in finds:
        assert words in text, words
    for words in not_finds:
        assert words not in text, words


def test_navigation_shows_boards_to_everyone_and_reports_to_moderators(client, boards):
    switch(client, "trainee1@example.org")
    nav = client.get("/home").get_data(as_text=True)
    assert 'href="/boards"' in nav and 'href="/boards/reports"' not in nav
    switch(client, "tutor1@example.org")
    nav = client.get("/home").get_data(as_text=True)
    assert 'href="/boards"' in nav and 'href="/boards/reports"' in nav


BOARDS = ["running", "finished", "course", "tutors", "group"]
# Who may read and post where, with the demo's memberships (trainee1 and trainee13 joined the course
# board; trainee5 is in "Assignment buddies").
CAN_POST = {
    "trainee1@example.org": {"running", "course"},
    "trainee5@example.org": {"running", "group"},
    "trainee13@example.org": {"finished", "course"},
    "tutor1@example.org": {"running", "finished", "course", "tutors"},
    "admin@example.org": {"running", "finished", "course", "tutors"},
    "supervisor1@example.org": set(),
    "academic1@example.org": set(),
}


def demo_boards() -> dict[str, Board]:
    cohorts = {c.slug: c.id for c in db.session.execute(select(Cohort)).scalars()}
    keys = {"running": f"cohort:{cohorts['demo-running']}", "finished": f"cohort:{cohorts['demo-finished']}",
            "course": "course:peer-support-l4", "tutors": "tutors"}
    found = {name: db.session.execute(select(Board).where(Board.key == key)).scalar_one() for name, key in keys.items()}
    found["group"] = db.session.execute(select(Board).where(Board.name == "Assignment buddies")).scalar_one()
    return found


MODERATORS = {"tutor1@example.org", "admin@example.org"}


@pytest.mark.parametrize("email", list(CAN_POST))
def test_read_and_post_matrix_of_roles_and_boards(client, boards, email):
    switch(client, email)
    for name, board in demo_boards().items():
        allowed = name in CAN_POST[email]
        expected = 200 if allowed else 404
        assert client.get(f"/boards/{board.id}").status_code == expected, (email, name)
        assert client.get(f"/boards/{board.id}/new").status_code == expected, (email, name)
        thread = db.session.execute(select(Thread).where(Thread.board_id == board.id)).scalars().first()
        assert client.get(f"/boards/threads/{thread.id}").status_code == expected, (email, name)
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        assert policies.can_read_board(user, board) == policies.can_post_on_board(user, board) == allowed
        assert policies.can_moderate_board(user, board) == (email in MODERATORS and name != "tutors"
                                                             or email == "admin@example.org")
