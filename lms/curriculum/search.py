"""Search across a course (pure: no Flask, no database).

Simple, predictable matching: every word of the query must appear, in any
case, in one piece of text (a day's title and topics, its introduction, a
unit's title, a unit's body). What is searched follows what the person may
read: days not yet open are searched only as far as their outline, and
facilitator notes are searched only for tutors.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from lms.content.model import Course
from lms.curriculum.outline import aims_markdown, first_paragraph, plain_text

QUERY_LIMIT = 100
EXCERPT_CHARS = 180


@dataclass(frozen=True)
class SearchHit:
    """One place the query was found.

    ``unit_id`` is None for a hit in the day itself (title, topics,
    introduction). ``excerpt`` is a list of (text, is_match) pieces so the
    page can mark the matching words without building HTML here.
    """

    day_number: int
    day_title: str
    unit_id: str | None
    unit_title: str | None
    where: str
    excerpt: tuple[tuple[str, bool], ...]

    @property
    def facilitator_only(self) -> bool:
        return self.where == "Facilitator notes"


def query_words(query: str) -> list[str]:
    """The distinct lower-case words of a query, in order."""
    words: list[str] = []
    for word in (query or "")[:QUERY_LIMIT].lower().split():
        if word not in words:
            words.append(word)
    return words


def search_course(course: Course, query: str, *, open_days: Collection[int], facilitator: bool,
                  limit: int = 60) -> list[SearchHit]:
    """Every day or unit of ``course`` matching ``query``, in course order.

    ``open_days`` are the day numbers the person may read in full; other days
    are searched in their outline only. ``facilitator`` includes facilitator
    notes (tutors only). One hit per day and per unit, from the first text
    that matches.
    """
    words = query_words(query)
    if not words:
        return []
    hits: list[SearchHit] = []
    for day in course.days:
        full = day.number in open_days
        day_sources = [("Day title and topics", f"{day.title}. {', '.join(day.topics)}"),
                       ("Introduction to the day", day.intro_markdown if full else first_paragraph(day.intro_markdown))]
        if facilitator:
            day_sources.append(("Facilitator notes", day.intro_facilitator_markdown))
        hit = _first_match(words, day_sources)
        if hit:
            hits.append(SearchHit(day.number, day.title, None, None, *hit))
        for unit in day.units:
            sources = [("Unit", unit.title), ("Unit", unit.body_markdown if full else aims_markdown(unit))]
            if facilitator:
                sources.append(("Facilitator notes", unit.facilitator_markdown))
            hit = _first_match(words, sources)
            if hit:
                hits.append(SearchHit(day.number, day.title, unit.id, unit.title, *hit))
        if len(hits) >= limit:
            break
    return hits[:limit]


def _first_match(words: list[str], sources: list[tuple[str, str]]):
    for where, markdown in sources:
        text = plain_text(markdown)
        lowered = text.lower()
        if text and all(word in lowered for word in words):
            return where, excerpt(text, words)
    return None


def excerpt(text: str, words: list[str], width: int = EXCERPT_CHARS) -> tuple[tuple[str, bool], ...]:
    """A short window of ``text`` around the first matching word, split into (piece, is_match)."""
    lowered = text.lower()
    first = min((lowered.find(word) for word in words if word in lowered), default=0)
    start = max(0, first - width // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    window = text[start:end]
    pattern = re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)),
                         re.IGNORECASE)
    pieces: list[tuple[str, bool]] = [("…" if start else "", False)]
    position = 0
    for match in pattern.finditer(window):
        pieces.append((window[position:match.start()], False))
        pieces.append((match.group(0), True))
        position = match.end()
    pieces.append((window[position:] + ("…" if end < len(text) else ""), False))
    return tuple(piece for piece in pieces if piece[0])
