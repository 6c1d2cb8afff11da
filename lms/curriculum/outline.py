"""The outline of a course day, and plain text from Markdown (pure: no Flask, no database).

An outline is what a person sees of a day before its material opens: the
day's title, core areas, topics, the first paragraph of its introduction and
each unit's title with its aims.
"""

from __future__ import annotations

import re

from lms.content.model import Course, Day, Unit

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>]*)>")
_MARKUP = re.compile(r"[*_`>|]+|^\s*(?:[-+]|\d+[.)])\s+|^#{1,6}\s+|^:::.*$", re.MULTILINE)
_SPACES = re.compile(r"\s+")


def section_markdown(text: str, heading: str) -> str:
    """The Markdown under the heading titled ``heading`` (any level, any case),
    up to the next heading of the same or a higher level."""
    lines = (text or "").splitlines()
    collected: list[str] = []
    level = None
    for line in lines:
        match = _HEADING.match(line)
        if level is None:
            if match and match.group(2).strip().lower() == heading.lower():
                level = len(match.group(1))
            continue
        if match and len(match.group(1)) <= level:
            break
        collected.append(line)
    return "\n".join(collected).strip()


def aims_markdown(unit: Unit) -> str:
    """The unit's ``### Aims`` section (usually a list), or an empty string."""
    return section_markdown(unit.body_markdown, "Aims")


def first_paragraph(text: str) -> str:
    """The first paragraph of some Markdown (what a day's introduction says it is for)."""
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        if block.strip() and not _HEADING.match(block.strip().splitlines()[0]):
            return block.strip()
    return ""


def plain_text(markdown: str) -> str:
    """Markdown as plain words on one line, for search excerpts (links keep their words)."""
    text = _LINK.sub(r"\1", markdown or "")
    text = _AUTOLINK.sub(r"\1", text)
    text = _MARKUP.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def core_area_titles(course: Course, day: Day) -> list[str]:
    """The titles of the core content areas a day covers, in the day's order."""
    titles = {area.id: area.title for area in course.core_areas}
    return [titles.get(area, area) for area in day.core_areas]


def outcome_texts(course: Course, day: Day) -> list[tuple[str, str]]:
    """(id, text) of the learning outcomes a day works towards."""
    texts = {outcome.id: outcome.text for outcome in course.outcomes}
    return [(outcome, texts.get(outcome, "")) for outcome in day.outcomes]
