"""The pure rules of the boards: rights per board kind, names, the edit window, limits, search, pages."""

from datetime import datetime, timedelta, timezone

import pytest

from lms.boards import rules
from lms.boards.rules import Access, BoardKind, Facts

# Roles as facts about one person and one board of each kind (the board's cohort or course being "here").
ROLES = {
    "admin": Facts(is_admin=True),
    "tutor here": Facts(tutor_here=True, tutor_anywhere=True),
    "tutor elsewhere": Facts(tutor_anywhere=True),
    "trainee here": Facts(trainee_here=True),
    "trainee here, member": Facts(trainee_here=True, member=True),
    "tutor here, member": Facts(tutor_here=True, tutor_anywhere=True, member=True),
    "trainee elsewhere": Facts(),
    "supervisor": Facts(),
}

R, P, M, S = "read", "post", "moderate", "see"
EXPECTED = {
    BoardKind.COHORT: {
        "admin": {S, R, P, M}, "tutor here": {S, R, P, M}, "tutor elsewhere": set(),
        "trainee here": {S, R, P}, "trainee here, member": {S, R, P}, "tutor here, member": {S, R, P, M},
        "trainee elsewhere": set(), "supervisor": set(),
    },
    BoardKind.COURSE: {
        "admin": {S, R, P, M}, "tutor here": {S, R, P, M}, "tutor elsewhere": set(),
        "trainee here": {S}, "trainee here, member": {S, R, P}, "tutor here, member": {S, R, P, M},
        "trainee elsewhere": set(), "supervisor": set(),
    },
    BoardKind.TUTORS: {
        "admin": {S, R, P, M}, "tutor here": {S, R, P}, "tutor elsewhere": {S, R, P},
        "trainee here": set(), "trainee here, member": set(), "tutor here, member": {S, R, P},
        "trainee elsewhere": set(), "supervisor": set(),
    },
    BoardKind.GROUP: {
        "admin": {S, M}, "tutor here": {S, M}, "tutor elsewhere": set(),
        "trainee here": {S}, "trainee here, member": {S, R, P}, "tutor here, member": {S, R, P, M},
        "trainee elsewhere": set(), "supervisor": set(),
    },
}


def granted(access: Access) -> set[str]:
    return {name for name in (S, R, P, M) if getattr(access, name)}


@pytest.mark.parametrize("kind", list(BoardKind))
@pytest.mark.parametrize("role", list(ROLES))
def test_rights_matrix(kind, role):
    assert granted(rules.board_access(kind, ROLES[role])) == EXPECTED[kind][role]


@pytest.mark.parametrize("kind", [BoardKind.COHORT, BoardKind.GROUP])
def test_an_archived_cohort_is_read_only(kind):
    facts = Facts(trainee_here=True, member=True, read_only=True)
    access = rules.board_access(kind, facts)
    assert access.read and not access.post


def test_a_member_who_left_the_cohort_no_longer_reads_its_group():
    assert not rules.board_access(BoardKind.GROUP, Facts(member=True)).read


def test_names_shown_to_peers_and_moderators():
    assert rules.peer_display("Grace O'Neill", "name", None) == "Grace O'Neill"
    assert rules.peer_display("Grace O'Neill", "first_name", None) == "Grace"
    assert rules.peer_display("Grace O'Neill", "pseudonym", "Sunflower") == "Sunflower (pseudonym)"
    assert rules.moderator_display("Grace O'Neill", "pseudonym", "Sunflower") == \
        "Sunflower (pseudonym), written by Grace O'Neill"
    assert rules.moderator_display("Grace O'Neill", "name", None) == "Grace O'Neill"
    assert rules.first_name("") == "Someone"


def test_edit_window_is_thirty_minutes():
    start = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert rules.within_edit_window(start, start + timedelta(minutes=30))
    assert not rules.within_edit_window(start, start + timedelta(minutes=30, seconds=1))
    assert rules.edit_minutes_left(start, start + timedelta(minutes=10, seconds=30)) == 20
    assert rules.edit_minutes_left(start, start + timedelta(hours=1)) == 0


def test_post_limits():
    assert rules.body_problems("   ")[0][0] == "body"
    assert "10,000" in rules.body_problems("x" * 10_001)[0][1]
    assert rules.body_problems("Hello") == []
    assert rules.title_problems("")[0][0] == "title"
    assert rules.title_problems("t" * 151)
    assert rules.content_note_problems("n" * 121)
    assert rules.reason_problems("")[0] == ("reason", "Enter the reason.")


def test_display_choices():
    assert rules.display_problems("name", "", allowed=False) == []
    assert rules.display_problems("first_name", "", allowed=False)[0][0] == "display_mode"
    assert rules.display_problems("pseudonym", "", allowed=True)[0][0] == "pseudonym"
    assert rules.display_problems("pseudonym", "<b>x</b>", allowed=True)[0][0] == "pseudonym"
    assert rules.display_problems("pseudonym", "Quiet River", allowed=True) == []
    assert rules.display_problems("admin", "", allowed=True)[0][0] == "display_mode"


def test_group_problems():
    assert [field for field, _ in rules.group_problems("", "")] == ["name", "purpose"]
    assert rules.group_problems("Assignment buddies", "Reading together") == []


def test_quote_is_a_blockquote_linking_to_the_post():
    quoted = rules.quote_markdown("Chloe", "First line\nSecond line", 7)
    assert quoted == "[Chloe wrote](#post-7):\n\n> First line\n> Second line\n\n"


def test_fts5_query_quotes_every_word():
    assert rules.fts5_query('strengths "day" OR NEAR(x*') == '"strengths" "day" "or" "near" "x"'
    assert rules.fts5_query("  ... ") is None
    assert len(rules.search_terms(" ".join(["word"] * 40))) == rules.MAX_SEARCH_TERMS


def test_excerpt_is_plain_text_around_the_match():
    body = "**Intro** " + "filler words " * 40 + "the strengths question helped " + "more " * 40
    piece = rules.excerpt(body, "strengths")
    assert "strengths" in piece and "**" not in piece and piece.startswith("\u2026")
    assert rules.excerpt("Short *post*", "x") == "Short post"


def test_pages():
    page = rules.page_for(3, 30, 100)
    assert (page.count, page.offset, page.has_previous, page.has_next) == (4, 60, True, True)
    assert rules.page_for(99, 30, 100).number == 4
    assert rules.page_for(1, 30, 0).count == 1
    assert rules.page_number("abc") == 1 and rules.page_number("-2") == 1 and rules.page_number("5") == 5
    assert rules.page_of_position(0, 40) == 1 and rules.page_of_position(40, 40) == 2


def test_flood_message_and_email_choice():
    assert "wait 3 minutes" in rules.flood_message(3)
    assert "wait 1 minute " in rules.flood_message(1)
    from lms.accounts.rules import email_choice  # the profile's choice, used by boards and notifications

    assert email_choice("daily") == "daily"
    assert email_choice(None) == "immediately"


def test_a_quotation_of_a_withdrawn_post_is_taken_out():
    body = rules.quote_markdown("Chloe", "Line one\nLine two", 7) + "My reply"
    assert rules.without_quote(body, 7) == rules.QUOTE_WITHDRAWN + "\n\n\nMy reply"
    assert rules.without_quote(body, 8) == body
    assert rules.without_quote("No quote here", 7) == "No quote here"
