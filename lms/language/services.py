"""The course lexicon, loaded once per process, and suggestions for a piece of writing.

The checker itself is pure (lms.language.rules); this module finds the
lexicon file and turns findings into something a page can show. Nothing a
person checks is stored or logged: the text comes in, suggestions go back.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app

from lms.language.rules import Finding, LexiconTerm, check

log = logging.getLogger("lms.language")

COURSE_SLUG = "peer-support-l4"
TEXT_LIMIT = 50_000


def lexicon_path() -> Path:
    """Where the lexicon lives: LMS_LEXICON_PATH, or the course's lexicon.toml."""
    configured = current_app.config.get("LMS_LEXICON_PATH")
    if configured:
        return Path(configured)
    return Path(current_app.config["LMS_COURSES_DIR"]) / COURSE_SLUG / "lexicon.toml"


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[LexiconTerm, ...]:
    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        # The helper suggests; it must never stop anyone writing. Say why it is quiet.
        log.warning("Language suggestions are off: could not read the lexicon %s (%s).", path,
                    type(error).__name__)
        return ()
    terms = []
    for entry in table.get("term", []):
        if not isinstance(entry, dict) or not entry.get("term") or not entry.get("alternative"):
            continue
        terms.append(LexiconTerm(term=str(entry["term"]), alternative=str(entry["alternative"]),
                                 reason=str(entry.get("reason", "")),
                                 variants=tuple(str(v) for v in entry.get("variants", []))))
    return tuple(terms)


def course_lexicon() -> tuple[LexiconTerm, ...]:
    """The course's lexicon terms (read from disk once per process)."""
    return _load(str(lexicon_path()))


def suggestions_for(text: str) -> list[Finding]:
    """Language suggestions for ``text``, in order of where they appear."""
    return check(text or "", course_lexicon())


def too_long(text: str) -> str | None:
    """A message when ``text`` is too long to check, else None."""
    if len(text or "") > TEXT_LIMIT:
        return f"That text is {len(text):,} characters long. Check up to {TEXT_LIMIT:,} characters at a time."
    return None


@dataclass(frozen=True)
class Segment:
    """A piece of the checked text, with the finding it is part of (if any)."""

    text: str
    finding: Finding | None = None
    number: int | None = None


def marked_text(text: str, findings: list[Finding]) -> list[Segment]:
    """Split ``text`` into plain pieces and the pieces a finding is about, numbered from 1."""
    segments: list[Segment] = []
    position = 0
    for number, finding in enumerate(findings, start=1):
        if finding.start > position:
            segments.append(Segment(text[position:finding.start]))
        segments.append(Segment(text[finding.start:finding.end], finding, number))
        position = finding.end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


def findings_as_json(findings: list[Finding]) -> list[dict]:
    return [{"term": f.term, "start": f.start, "end": f.end, "matched_text": f.matched_text,
             "suggestion": f.suggestion, "reason": f.reason} for f in findings]
