"""Pure rules of the message boards: who may do what on which kind of board,
how names are shown, the edit window, limits on what a post may hold, the
community agreement, search query building and page arithmetic.

No Flask or SQLAlchemy here: plain values in, plain values out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class BoardKind(StrEnum):
    """The four kinds of board."""

    COHORT = "cohort"    # one per cohort: its trainees and tutors
    COURSE = "course"    # one per course: current trainees and alumni who opt in
    TUTORS = "tutors"    # tutors (and admins) only
    GROUP = "group"      # one per peer study group: its members only


class PostStatus(StrEnum):
    """Where a post stands."""

    PUBLISHED = "published"
    WAITING = "waiting"     # pre-moderated board: waiting for a tutor to approve it
    HIDDEN = "hidden"       # hidden by a tutor, with a reason told to the author
    REMOVED = "removed"     # removed by the author; a placeholder keeps the thread's context


class DisplayMode(StrEnum):
    """How a post's author is shown to peers."""

    NAME = "name"
    FIRST_NAME = "first_name"
    PSEUDONYM = "pseudonym"


DISPLAY_CHOICES = [
    (DisplayMode.NAME.value, "My name"),
    (DisplayMode.FIRST_NAME.value, "My first name only"),
    (DisplayMode.PSEUDONYM.value, "A pseudonym"),
]


# ---------------------------------------------------------------------------
# Who may do what: one function per board kind, over plain facts.
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Facts:
    """What the access rules need to know about one person and one board.

    ``tutor_here``: tutors the board's cohort (cohort and group boards) or a
    cohort of the board's course (course board). ``trainee_here``: a trainee
    of the board's cohort, or a current trainee or alumnus of the course.
    ``member``: has opted in (course board) or accepted a place (study group).
    ``read_only``: the board's cohort is archived.
    """

    is_admin: bool = False
    tutor_here: bool = False
    trainee_here: bool = False
    tutor_anywhere: bool = False
    member: bool = False
    read_only: bool = False


@dataclass(frozen=True)
class Access:
    """What a person may do on a board.

    ``see``: may know the board exists (a study group's name and purpose, the
    course board they could join). ``moderate``: may act on reports and
    waiting posts, hide posts, lock, pin and move threads.
    """

    see: bool = False
    read: bool = False
    post: bool = False
    moderate: bool = False


NO_ACCESS = Access()


def cohort_board_access(f: Facts) -> Access:
    """A cohort's board: its trainees and tutors (and admins)."""
    read = f.is_admin or f.tutor_here or f.trainee_here
    return Access(see=read, read=read, post=read and not f.read_only,
                  moderate=f.is_admin or f.tutor_here)


def course_board_access(f: Facts) -> Access:
    # Trainees and alumni opt in; the course's tutors read it in order to moderate it.
    """The course community board: trainees and alumni who opted in, and the course's tutors."""
    read = f.is_admin or f.tutor_here or (f.trainee_here and f.member)
    return Access(see=read or f.trainee_here, read=read, post=read, moderate=f.is_admin or f.tutor_here)


def tutors_board_access(f: Facts) -> Access:
    """The tutors' board: tutors and admins."""
    read = f.is_admin or f.tutor_anywhere
    return Access(see=read, read=read, post=read, moderate=f.is_admin)


def group_board_access(f: Facts) -> Access:
    # Only members read a study group's board, tutors and admins included: a
    # tutor knows the group exists and reads it only when the group invites them.
    # They still moderate it, through reports made by the group's members.
    """A study group's board: its members only."""
    read = f.member and (f.trainee_here or f.tutor_here or f.is_admin)
    return Access(see=read or f.trainee_here or f.tutor_here or f.is_admin, read=read,
                  post=read and not f.read_only, moderate=f.is_admin or f.tutor_here)


RIGHTS = {
    BoardKind.COHORT: cohort_board_access,
    BoardKind.COURSE: course_board_access,
    BoardKind.TUTORS: tutors_board_access,
    BoardKind.GROUP: group_board_access,
}


def board_access(kind: BoardKind | str, facts: Facts) -> Access:
    """The single policy: what ``facts`` allow on a board of ``kind``."""
    return RIGHTS[BoardKind(kind)](facts)


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------

def first_name(full_name: str) -> str:
    """The first word of a display name ("Grace O'Neill" -> "Grace")."""
    parts = (full_name or "").split()
    return parts[0] if parts else "Someone"


def peer_display(full_name: str, mode: DisplayMode | str | None, pseudonym: str | None) -> str:
    """How a post's author is shown to peers.

    A pseudonym is always marked as one, so nobody can pass as someone else.
    """
    mode = DisplayMode(mode or DisplayMode.NAME)
    if mode is DisplayMode.FIRST_NAME:
        return first_name(full_name)
    if mode is DisplayMode.PSEUDONYM and pseudonym:
        return f"{pseudonym} (pseudonym)"
    return full_name


def moderator_display(full_name: str, mode: DisplayMode | str | None, pseudonym: str | None) -> str:
    """How a post's author is shown to moderators: what peers see, and who wrote it."""
    shown = peer_display(full_name, mode, pseudonym)
    return shown if shown == full_name else f"{shown}, written by {full_name}"


# ---------------------------------------------------------------------------
# Editing
# ---------------------------------------------------------------------------

EDIT_WINDOW = timedelta(minutes=30)


def within_edit_window(created_at: datetime, now: datetime) -> bool:
    """A post may be edited by its author for 30 minutes after it was written."""
    return now - created_at <= EDIT_WINDOW


def edit_minutes_left(created_at: datetime, now: datetime) -> int:
    """Whole minutes left to edit a post (0 once the window has passed)."""
    left = (created_at + EDIT_WINDOW - now).total_seconds()
    return max(0, math.ceil(left / 60))


# ---------------------------------------------------------------------------
# What a post, a thread, a report and a group may hold
# ---------------------------------------------------------------------------

MAX_BODY = 10_000
MAX_TITLE = 150
MAX_CONTENT_NOTE = 120
MAX_PSEUDONYM = 40
MAX_REASON = 1_000
MAX_GROUP_NAME = 80
MAX_GROUP_PURPOSE = 1_000
_PSEUDONYM = re.compile(r"^[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F' -]*$")

Problem = tuple[str, str]   # (field name, message in plain words)


def body_problems(body: str, field: str = "body") -> list[Problem]:
    """What is wrong with a post's text, if anything."""
    if not body.strip():
        return [(field, "Write your post. It cannot be empty.")]
    if len(body) > MAX_BODY:
        return [(field, f"Your post is {len(body):,} characters long. Keep it to {MAX_BODY:,} characters, "
                        "or split it into two posts.")]
    return []


def title_problems(title: str) -> list[Problem]:
    """What is wrong with a thread's title, if anything."""
    if not title.strip():
        return [("title", "Give your thread a title, so people know what it is about.")]
    if len(title) > MAX_TITLE:
        return [("title", f"Keep the title to {MAX_TITLE} characters.")]
    return []


def content_note_problems(note: str) -> list[Problem]:
    """What is wrong with a content note, if anything."""
    if len(note) > MAX_CONTENT_NOTE:
        return [("content_note", f"Keep the content note short: {MAX_CONTENT_NOTE} characters at most, "
                                 "for example \u201ctalks about self-harm\u201d.")]
    return []


def display_problems(mode: str, pseudonym: str, allowed: bool) -> list[Problem]:
    """What is wrong with the chosen name display, given whether the board allows others."""
    if mode not in {m.value for m in DisplayMode}:
        return [("display_mode", "Choose how your name is shown.")]
    if mode != DisplayMode.NAME and not allowed:
        return [("display_mode", "This board shows everyone's name. Choose \u201cMy name\u201d.")]
    if mode == DisplayMode.PSEUDONYM:
        pseudonym = pseudonym.strip()
        if not pseudonym:
            return [("pseudonym", "Enter the pseudonym you would like to use.")]
        if len(pseudonym) > MAX_PSEUDONYM or not _PSEUDONYM.match(pseudonym):
            return [("pseudonym", f"Use letters, spaces, hyphens or apostrophes for your pseudonym, "
                                  f"up to {MAX_PSEUDONYM} characters.")]
    return []


def reason_problems(reason: str, field: str = "reason", what: str = "the reason") -> list[Problem]:
    """What is wrong with a reason (for a report, or for hiding a post), if anything."""
    if not reason.strip():
        return [(field, f"Enter {what}.")]
    if len(reason) > MAX_REASON:
        return [(field, f"Keep {what} to {MAX_REASON:,} characters.")]
    return []


def group_problems(name: str, purpose: str) -> list[Problem]:
    """What is wrong with a new study group's name and purpose, if anything."""
    problems: list[Problem] = []
    if not name.strip():
        problems.append(("name", "Give your study group a name."))
    elif len(name) > MAX_GROUP_NAME:
        problems.append(("name", f"Keep the group's name to {MAX_GROUP_NAME} characters."))
    if not purpose.strip():
        problems.append(("purpose", "Say what the group is for, so peers know whether to join."))
    elif len(purpose) > MAX_GROUP_PURPOSE:
        problems.append(("purpose", f"Keep the purpose to {MAX_GROUP_PURPOSE:,} characters."))
    return problems


# ---------------------------------------------------------------------------
# Flood control
# ---------------------------------------------------------------------------

POSTS_PER_WINDOW = 10
FLOOD_WINDOW_MINUTES = 5


def flood_message(minutes_to_wait: int) -> str:
    """The message for someone who has posted too often, too quickly."""
    unit = "minute" if minutes_to_wait == 1 else "minutes"
    return (f"You have posted {POSTS_PER_WINDOW} times in the last {FLOOD_WINDOW_MINUTES} minutes. "
            f"Please wait {minutes_to_wait} {unit} before posting again. Your words are still here.")


# ---------------------------------------------------------------------------
# Quoting
# ---------------------------------------------------------------------------

def post_anchor(post_id: int) -> str:
    """The id of a post's element on the thread page."""
    return f"post-{post_id}"


def quote_markdown(author_label: str, body: str, post_id: int) -> str:
    """The start of a reply that quotes a post: a link to it and its words as a blockquote."""
    lines = (body or "").strip().splitlines() or [""]
    quoted = "\n".join(f"> {line}".rstrip() for line in lines)
    return f"[{author_label} wrote](#{post_anchor(post_id)}):\n\n{quoted}\n\n"


QUOTE_WITHDRAWN = "*The quoted post is no longer shown.*"


def without_quote(body: str, post_id: int) -> str:
    """``body`` with its quotation of post ``post_id`` taken out, when that post has been hidden or removed.

    A quote made with the "Quote" link starts with a link to the quoted post and
    a blockquote (``quote_markdown``); that whole block is replaced by a short
    note, so hidden or removed words do not live on in replies.
    """
    pattern = re.compile(r"\[[^\]\n]*\]\(#" + re.escape(post_anchor(post_id)) + r"\):?[ \t]*\n(?:[ \t]*\n)*"
                         r"(?:[ \t]*>.*(?:\n|$))+")
    return pattern.sub(QUOTE_WITHDRAWN + "\n\n", body or "", count=1)


# ---------------------------------------------------------------------------
# The community agreement
# ---------------------------------------------------------------------------

AGREEMENT_VERSION = 1
AGREEMENT_TITLE = "Our community agreement"
AGREEMENT_POINTS = [
    ("Confidentiality",
     "Share your own story, not other people's. What someone shares here or in the training room "
     "stays with us: do not pass it on, and leave out details that could identify anyone else."),
    ("Boundaries",
     "Share only what feels right for you, and step back whenever you need to. These boards are for "
     "learning and peer support, not for crisis help: if you or someone else is at risk, use the "
     "\u201cNeed support now?\u201d page. Add a content note when a post talks about something that "
     "may be hard to read."),
    ("Respect",
     "Be kind, and use recovery-focused, person-first language. Everyone's experience is their own: "
     "listen, ask rather than assume, and disagree with ideas, never with people."),
]
AGREEMENT_MODERATION = ("Tutors look after these boards. If a post goes against this agreement a tutor may "
                        "hide it, and will tell the person who wrote it why, privately. Anyone can report "
                        "a post they are worried about.")


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_SEARCH_TERMS = 12


def search_terms(query: str) -> list[str]:
    """The words of a search, lower case, at most 12 of them."""
    return [word.lower() for word in _WORD.findall(query or "")][:MAX_SEARCH_TERMS]


def fts5_query(query: str) -> str | None:
    """A safe SQLite FTS5 MATCH expression for what a person typed: every word must appear.

    Each word is quoted, so FTS5 operators and punctuation typed by a person
    are taken as plain words and never raise a syntax error.
    """
    terms = search_terms(query)
    if not terms:
        return None
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


_MARKDOWN_MARKS = re.compile(r"[*_`>#\[\]()|~]+")


def excerpt(body: str, query: str, length: int = 220) -> str:
    """A plain-text piece of ``body`` around the first searched word."""
    text = " ".join(_MARKDOWN_MARKS.sub(" ", body or "").split())
    if len(text) <= length:
        return text
    lowered = text.lower()
    positions = [lowered.find(term) for term in search_terms(query)]
    found = [p for p in positions if p >= 0]
    start = max(0, min(found) - length // 3) if found else 0
    piece = text[start:start + length]
    return ("\u2026" if start > 0 else "") + piece + ("\u2026" if start + length < len(text) else "")


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------

THREADS_PER_PAGE = 30
POSTS_PER_PAGE = 40
RESULTS_PER_PAGE = 20
THREAD_RESULTS = 10  # threads whose title matches, listed above the posts


@dataclass(frozen=True)
class Page:
    """Page ``number`` (from 1) of ``total`` items shown ``size`` at a time."""

    number: int
    size: int
    total: int

    @property
    def count(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count


def page_number(raw: str | int | None) -> int:
    """A page number from a query string: a positive whole number, otherwise 1."""
    try:
        number = int(raw or 1)
    except (TypeError, ValueError):
        return 1
    return number if 1 <= number <= 1_000_000 else 1


def page_for(number: int, size: int, total: int) -> Page:
    """Clamp a requested page to the pages there are."""
    count = max(1, math.ceil(total / size))
    return Page(min(max(1, number), count), size, total)


def page_of_position(position: int, size: int) -> int:
    """The page (from 1) on which the item at ``position`` (from 0) appears."""
    return position // size + 1


