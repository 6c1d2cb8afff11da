"""The recovery-focused language checker: finds lexicon terms in a piece of text.

Pure: the lexicon comes in as a sequence of terms (lms.content loads it from
the course's lexicon.toml), findings come out. The checker suggests; it never
blocks anything.

How text is matched:

- whole words and phrases only, case-insensitively ("mental" never matches
  inside "fundamental", nor "nuts" inside "doughnuts");
- the words of a phrase may be separated by any run of whitespace (line
  breaks included), hyphens or dashes, or Markdown emphasis marks, so
  "self harmer", "self-harmer" and "committed\\n**suicide**" are all found.
  A comma or full stop ends a phrase: "a victim, of course" is not "victim of";
- straight and curly apostrophes are the same ("he's" and "he’s");
- where two findings would overlap, the longer one wins;
- anything inside backticks (Markdown inline code, or a fenced block) is
  skipped: that is how a writer marks a word they are quoting on purpose.
  Quoted speech in quotation marks is still checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence


@dataclass(frozen=True)
class LexiconTerm:
    """One entry of the course lexicon: a term, its kinder alternative and why."""

    term: str
    alternative: str
    reason: str
    variants: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The TOML loader hands over lists; a tuple keeps the term hashable,
        # which the pattern cache relies on.
        object.__setattr__(self, "variants", tuple(self.variants))


@dataclass(frozen=True)
class Finding:
    """A place in the text where a lexicon term (or one of its variants) was used.

    `start` and `end` are character offsets into the text (end exclusive), so
    `text[start:end] == matched_text`.
    """

    term: str
    start: int
    end: int
    matched_text: str
    suggestion: str
    reason: str


# Between the words of a phrase: whitespace, hyphens and dashes, and the
# Markdown emphasis marks a writer may put around one word of a phrase.
_SEPARATOR = r"[\s\-\u2010-\u2015*_~]+"
_APOSTROPHES = "'\u2019\u02bc"
# A "word character" for the boundaries is a letter or digit; the underscore
# is left out because in Markdown it is emphasis (_committed suicide_).
_NOT_AFTER_WORD = r"(?<![^\W_])"
_NOT_BEFORE_WORD = r"(?![^\W_])"
# Inline code or a fenced block: a run of backticks closed by a run of the
# same length, as in CommonMark.
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
# Masked code keeps every offset in place but is neither a word character nor
# a separator, so no phrase can reach across it.
_MASK = "\x00"


def _words(phrase: str) -> tuple[str, ...]:
    """Split a term into its words, with apostrophes made straight and lower case."""
    for apostrophe in _APOSTROPHES[1:]:
        phrase = phrase.replace(apostrophe, "'")
    return tuple(word for word in re.split(_SEPARATOR, phrase.casefold()) if word)


def _pieces(words: tuple[str, ...]) -> list[str]:
    """A phrase as regex pieces: one per character, one per gap between words."""
    pieces: list[str] = []
    for index, word in enumerate(words):
        if index:
            pieces.append(_SEPARATOR)
        pieces.extend(f"[{_APOSTROPHES}]" if char == "'" else re.escape(char) for char in word)
    return pieces


def _phrase_pattern(words: tuple[str, ...]) -> str:
    return "".join(_pieces(words))


def _alternation(tree: dict[str, dict]) -> str:
    """Write a prefix tree of pieces as one regex, preferring the longest phrase.

    Sharing prefixes ("committed suicide", "committing suicide") makes a
    60-term lexicon about ten times faster than a flat list of alternatives.
    Branches of one node start with different characters, so at most one can
    match; an optional tail is greedy, so the longer phrase is tried first.
    """
    branches = [piece + _alternation(tree[piece]) for piece in sorted(tree) if piece]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in tree else body


@dataclass(frozen=True)
class _CompiledLexicon:
    pattern: re.Pattern[str] | None
    terms_by_words: dict[tuple[str, ...], LexiconTerm]

    def entry_for(self, matched: str) -> LexiconTerm:
        """The lexicon entry a piece of matched text came from."""
        entry = self.terms_by_words.get(_words(matched))
        if entry is not None:
            return entry
        # A few letters match case-insensitively without folding to the same
        # letter (the dotless i, the long s); find the phrase the slow way.
        for words, entry in self.terms_by_words.items():
            if re.fullmatch(_phrase_pattern(words), matched, re.IGNORECASE):
                return entry
        raise LookupError(f"no lexicon entry matches {matched!r}")


@lru_cache(maxsize=16)
def _compile(lexicon: tuple[LexiconTerm, ...]) -> _CompiledLexicon:
    """Build one regular expression for the whole lexicon (cached per lexicon)."""
    terms_by_words: dict[tuple[str, ...], LexiconTerm] = {}
    for entry in lexicon:
        for phrase in (entry.term, *entry.variants):
            words = _words(phrase)
            # The first entry to claim a phrase keeps it, so a duplicate in the
            # file cannot change an earlier suggestion.
            if words and words not in terms_by_words:
                terms_by_words[words] = entry
    if not terms_by_words:
        return _CompiledLexicon(None, terms_by_words)
    tree: dict[str, dict] = {}
    for words in terms_by_words:
        node = tree
        for piece in _pieces(words):
            node = node.setdefault(piece, {})
        node[""] = {}  # a phrase ends here
    # A lookahead finds a candidate at every word start, even inside another
    # candidate, so overlaps can be settled by length afterwards.
    pattern = re.compile(
        rf"{_NOT_AFTER_WORD}(?=({_alternation(tree)}{_NOT_BEFORE_WORD}))", re.IGNORECASE
    )
    return _CompiledLexicon(pattern, terms_by_words)


def _mask_code(text: str) -> str:
    """Blank out backticked spans, keeping every other character where it was."""
    return _CODE_SPAN.sub(lambda span: _MASK * len(span.group()), text)


def check(text: str, lexicon: Sequence[LexiconTerm]) -> list[Finding]:
    """Find every lexicon term used in `text`, in order of position.

    Takes the text as written and the lexicon's terms; returns one Finding per
    use, with the offsets, the words as written, the suggested alternative and
    the reason. Overlapping uses are settled in favour of the longer one.
    """
    compiled = _compile(tuple(lexicon))
    if compiled.pattern is None or not text:
        return []
    searchable = _mask_code(text) if "`" in text else text
    candidates = [
        (match.start(1), match.end(1)) for match in compiled.pattern.finditer(searchable)
    ]
    # Longest first, then earliest; a candidate overlapping a chosen one is dropped.
    taken = bytearray(len(text))
    chosen: list[tuple[int, int]] = []
    for start, end in sorted(candidates, key=lambda span: (span[0] - span[1], span[0])):
        if not any(taken[start:end]):
            taken[start:end] = b"\x01" * (end - start)
            chosen.append((start, end))
    findings = []
    for start, end in sorted(chosen):
        entry = compiled.entry_for(text[start:end])
        findings.append(
            Finding(
                term=entry.term,
                start=start,
                end=end,
                matched_text=text[start:end],
                suggestion=entry.alternative,
                reason=entry.reason,
            )
        )
    return findings
