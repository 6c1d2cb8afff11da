"""Read a course folder (and its assessments) into frozen dataclasses.

`load_course(path)` reads ``courses/<slug>/`` as described in
docs/content-format.md: ``course.toml``, ``days/NN-name.md``, ``lexicon.toml``
when present, and the assessments in ``<root>/assessments/<key>/`` when that
folder exists. It reports every problem it finds, each with file and line, and
gives no course at all when there is any problem, so an invalid course can
never replace a valid one.

Facilitator notes (``::: facilitator`` ... ``:::``) are split out here, so the
trainee-facing Markdown of a unit never holds them; so is a unit's content
note (``::: content-note`` ... ``:::``), shown before the unit's material.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from lms.content import validation as checks
from lms.content.markdown import parse_tokens
from lms.content.model import (
    Assessment,
    Competence,
    CoreArea,
    Course,
    Criterion,
    Day,
    LearningOutcome,
    Lexicon,
    LexiconTerm,
    Principle,
    Problem,
    Unit,
)
from lms.content.validation import KeyLines, field_value, key_lines

DAY_FILE_RE = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
FRONT_MATTER_FENCE = "+++"

_CONTAINER_RE = re.compile(r"^\s*:::\s*([^\s:].*?)?\s*$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_UNIT_HEADING_RE = re.compile(r"^ {0,3}##(?:[ \t]+(.*?))?[ \t]*$")
_UNIT_ID_RE = re.compile(r"\s*\{#([^}]*)\}\s*$")
_PROMPTS_HEADING_RE = re.compile(r"^reflective diary prompts?$", re.IGNORECASE)
_INLINE_LINK_RE = re.compile(r"\]\(\s*<?((?i:day):[^)\s>]*)")
_REFERENCE_LINK_RE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?((?i:day):[^\s>]*)")
_AUTOLINK_RE = re.compile(r"<((?i:day):[^>\s]*)>")


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

def load_course(path: str | os.PathLike) -> tuple[Course | None, list[Problem]]:
    """Load a course folder (``courses/<slug>``) with its lexicon and assessments.

    Returns ``(course, [])`` when everything is valid, or ``(None, problems)``
    with every problem found, sorted by file then line. Problem files are
    relative to ``path``.
    """
    reading = _CourseReading(Path(path))
    course = reading.read()
    problems = sorted(set(reading.problems), key=lambda problem: problem.sort_key)
    return (None if problems else course), problems


def validate_course(path: str | os.PathLike) -> list[Problem]:
    """Every problem in a course folder and its assessments, sorted by file then line.

    An empty list means the course is valid.
    """
    return load_course(path)[1]


def split_facilitator_notes(text: str) -> tuple[str, str]:
    """Split Markdown into (trainee text, facilitator notes).

    ``::: facilitator`` opens a block of tutor-only notes and a line holding
    only ``:::`` closes it. An unclosed block runs to the end, so notes are
    never shown to trainees by mistake. Each block leaves a blank line behind
    in the trainee text; the notes are joined by a blank line. A unit's
    ``::: content-note`` block is left out of both (the loader keeps it).
    """
    trainee, notes, _, _ = _split_lines([(number, line) for number, line
                                         in enumerate(text.splitlines(), start=1)])
    return _join(trainee), "\n\n".join(_join(block) for block in notes if _join(block))


def strip_facilitator_notes(text: str) -> str:
    """The Markdown with every ``::: facilitator`` block removed (what trainees see)."""
    return split_facilitator_notes(text)[0]


# ---------------------------------------------------------------------------
# Splitting Markdown into intro, units and facilitator notes
# ---------------------------------------------------------------------------

Line = tuple[int, str]  # (line number in the file, text)


@dataclass
class _Section:
    """The intro of a day, or one unit, while it is being read."""

    heading_line: int | None = None
    title: str = ""
    unit_id: str = ""
    lines: list[Line] = field(default_factory=list)


NOTE_BLOCKS = {"facilitator": "facilitator notes", "content-note": "content note"}


def _split_lines(lines: list[Line]
                 ) -> tuple[list[Line], list[list[Line]], list[tuple[int, str]], list[tuple[int, list[Line]]]]:
    """Separate facilitator blocks and content notes from the rest.

    Returns (trainee lines, facilitator blocks, problems as (line, message),
    content-note blocks as (opening line, lines)). Code fences are respected: ``:::`` inside one is
    only text.
    """
    trainee: list[Line] = []
    blocks: list[list[Line]] = []
    notes: list[tuple[int, list[Line]]] = []
    problems: list[tuple[int, str]] = []
    fence: str | None = None
    open_at: int | None = None
    open_kind = "facilitator"
    for number, text in lines:
        target = (notes[-1][1] if open_kind == "content-note" else blocks[-1]) if open_at is not None else trainee
        if fence is not None:
            target.append((number, text))
            if text.strip().startswith(fence[0] * len(fence)) and not text.strip().strip(fence[0]):
                fence = None
            continue
        fence_match = _FENCE_RE.match(text)
        if fence_match:
            fence = fence_match.group(1)
            target.append((number, text))
            continue
        container = _CONTAINER_RE.match(text)
        if container is None:
            target.append((number, text))
            continue
        name = (container.group(1) or "").strip()
        if open_at is not None:
            if name:
                problems.append((number, (
                    f"'::: {name}' opens a block inside the {NOTE_BLOCKS[open_kind]} opened on line "
                    f"{open_at}: close those with a line holding only ':::' first.")))
                target.append((number, text))
            else:
                open_at = None
                trainee.append((number, ""))  # keeps the paragraphs either side apart
            continue
        if not name:
            problems.append((number, (
                "this ':::' closes nothing: facilitator notes start with a '::: facilitator' line, "
                "a unit's content note with '::: content-note'.")))
            continue
        open_kind = name.lower() if name.lower() in NOTE_BLOCKS else "facilitator"
        if name.lower() not in NOTE_BLOCKS:
            # Hidden from trainees all the same: an unknown block is more likely
            # a mistyped facilitator note than something meant for them.
            problems.append((number, (
                f"unknown block '::: {name}': the blocks are '::: facilitator' for notes that only "
                "tutors see and '::: content-note' for a note shown before a unit's emotive material.")))
        open_at = number
        if open_kind == "content-note":
            notes.append((number, []))
        else:
            blocks.append([])
    if open_at is not None:
        problems.append((open_at, (
            f"the {NOTE_BLOCKS[open_kind]} opened here {'are' if open_kind == 'facilitator' else 'is'} never "
            "closed: add a line holding only ':::' where it ends, or trainees' text after it would be "
            "hidden.")))
    return trainee, blocks, problems, notes


def _join(lines: list[Line]) -> str:
    """The text of some lines, without blank lines at the start or end."""
    texts = [text for _, text in lines]
    while texts and not texts[0].strip():
        texts.pop(0)
    while texts and not texts[-1].strip():
        texts.pop()
    return "\n".join(texts)


def _trim(lines: list[Line]) -> list[Line]:
    start, end = 0, len(lines)
    while start < end and not lines[start][1].strip():
        start += 1
    while end > start and not lines[end - 1][1].strip():
        end -= 1
    return lines[start:end]


def _sections(lines: list[Line]) -> tuple[list[_Section], list[tuple[int, str]]]:
    """Cut a day's body at its ``## `` headings: the intro first, then one section per unit.

    A ``## `` heading inside a facilitator block still starts a new unit (and
    the block is reported as unclosed), so an unclosed block cannot swallow
    the rest of the day.
    """
    sections = [_Section()]
    problems: list[tuple[int, str]] = []
    fence: str | None = None
    in_notes_since: int | None = None
    for number, text in lines:
        if fence is not None:
            sections[-1].lines.append((number, text))
            if text.strip().startswith(fence[0] * len(fence)) and not text.strip().strip(fence[0]):
                fence = None
            continue
        fence_match = _FENCE_RE.match(text)
        container = _CONTAINER_RE.match(text)
        heading = _UNIT_HEADING_RE.match(text)
        if fence_match:
            fence = fence_match.group(1)
        elif container:
            name = (container.group(1) or "").strip()
            if in_notes_since is None and name:
                in_notes_since = number
            elif in_notes_since is not None and not name:
                in_notes_since = None
        elif heading:
            if in_notes_since is not None:
                problems.append((in_notes_since, (
                    "the facilitator notes opened here are not closed before the next unit: add "
                    "a line holding only ':::' where they end.")))
                sections[-1].lines.append((number, ":::"))
                in_notes_since = None
            sections.append(_read_unit_heading(number, heading.group(1) or "", problems))
            continue
        sections[-1].lines.append((number, text))
    return sections, problems


def _read_unit_heading(number: int, raw: str, problems: list[tuple[int, str]]) -> _Section:
    raw = re.sub(r"[ \t]+#+$", "", raw).strip()  # an optional closing "##"
    if raw and set(raw) == {"#"}:
        raw = ""
    match = _UNIT_ID_RE.search(raw)
    title = _UNIT_ID_RE.sub("", raw).strip() if match else raw
    unit_id = match.group(1).strip() if match else ""
    if match is None:
        suggestion = _suggest_id(title) or "unit-name"
        problems.append((number, (
            f"the unit heading '{title}' has no id: end it with {{#{suggestion}}} "
            "(the id keeps trainees' progress, so choose it once and keep it).")))
    elif not checks.ID_RE.match(unit_id):
        problems.append((number, (
            f"the unit id '{unit_id}' is not valid: use lowercase letters, digits and single "
            f"hyphens, like {{#{_suggest_id(unit_id) or 'unit-name'}}}.")))
        unit_id = ""
    if not title:
        problems.append((number, "this unit heading has no title: write it after '## '."))
    return _Section(heading_line=number, title=title, unit_id=unit_id)


def _suggest_id(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class _Read:
    """Trainee Markdown with the file line of each of its lines, and the notes."""

    markdown: str
    line_numbers: tuple[int, ...]
    facilitator_markdown: str
    content_note: str = ""
    content_note_lines: tuple[int, ...] = ()

    def file_line(self, index: int) -> int:
        return self.line_numbers[min(index, len(self.line_numbers) - 1)]


def _read_section(lines: list[Line]) -> tuple[_Read, list[tuple[int, str]]]:
    trainee, blocks, problems, content_notes = _split_lines(lines)
    trainee = _trim(trainee)
    notes = "\n\n".join(text for text in (_join(block) for block in blocks) if text)
    content_note = "\n\n".join(text for text in (_join(block) for _, block in content_notes) if text)
    opened = tuple(line for line, _ in content_notes)
    return _Read("\n".join(text for _, text in trainee), tuple(number for number, _ in trainee), notes,
                 content_note, opened), problems


def _prompts_and_headings(read: _Read) -> tuple[list[tuple[str, int]], list[tuple[int, str]]]:
    """Diary prompts (text, file line) and misplaced big headings in trainee Markdown."""
    prompts: list[tuple[str, int]] = []
    problems: list[tuple[int, str]] = []
    if not read.markdown:
        return prompts, problems
    tokens = parse_tokens(read.markdown)
    in_prompts = False
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[index + 1]
            in_prompts = token.tag == "h3" and bool(_PROMPTS_HEADING_RE.match(inline.content.strip()))
            if token.tag in ("h1", "h2") and token.map:
                line = read.file_line(token.map[0])
                if token.markup in ("=", "-"):
                    problems.append((line, (
                        "this text is read as a big heading because of the '---' or '===' line "
                        "under it: leave a blank line before a '---' rule, or use '### ' for a "
                        "heading inside a unit.")))
                else:
                    problems.append((line, (
                        "'# ' headings are not used in day files: the day's title comes from "
                        "its front matter, '## ' starts a unit and '### ' a part of a unit.")))
        elif in_prompts and token.type == "list_item_open" and token.level == 1 and token.map:
            inline = next((later for later in tokens[index + 1:] if later.type == "inline"), None)
            text = " ".join(inline.content.split()) if inline is not None else ""
            if text:
                prompts.append((text, read.file_line(token.map[0])))
    return prompts, problems


def _course_links(lines: list[Line]) -> list[tuple[str, int]]:
    """Every ``day:`` link in some Markdown lines, outside code fences, as (href, line)."""
    links = []
    fence: str | None = None
    for number, text in lines:
        if fence is not None:
            if text.strip().startswith(fence[0] * len(fence)) and not text.strip().strip(fence[0]):
                fence = None
            continue
        fence_match = _FENCE_RE.match(text)
        if fence_match:
            fence = fence_match.group(1)
            continue
        for pattern in (_INLINE_LINK_RE, _REFERENCE_LINK_RE, _AUTOLINK_RE):
            links.extend((match.group(1), number) for match in pattern.finditer(text))
    return links


# ---------------------------------------------------------------------------
# Front matter
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _FrontMatter:
    toml: str | None
    body: list[Line]
    problem: str | None = None
    problem_line: int | None = None


def _split_front_matter(text: str) -> _FrontMatter:
    lines = text.splitlines()
    numbered = list(enumerate(lines, start=1))
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        return _FrontMatter(None, numbered, (
            "this file does not start with its front matter: put its details (number, title, "
            "...) between two lines holding only +++ at the very top."), 1)
    for index in range(1, len(lines)):
        if lines[index].strip() == FRONT_MATTER_FENCE:
            return _FrontMatter("\n".join(lines[1:index]), numbered[index + 1:])
    return _FrontMatter(None, [], (
        "the front matter opened here is never closed: add a line holding only +++ after it."), 1)


# ---------------------------------------------------------------------------
# Reading a whole course
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _DayReading:
    file: str
    day: Day
    table: dict | None
    keys: KeyLines
    number_line: int | None
    prefix: int | None
    links: tuple[tuple[str, int], ...]


class _CourseReading:
    """One pass over a course folder, gathering the course and its problems."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []

    def read(self) -> Course | None:
        if not self.folder.is_dir():
            self.problems.append(Problem(str(self.folder), None, (
                "there is no course folder here: give the path of a folder holding course.toml, "
                "such as courses/peer-support-l4.")))
            return None
        table, keys = self._read_toml(self.folder / "course.toml", required=True)
        days = self._read_days()
        lexicon = self._read_lexicon()
        course = self._build_course(table or {}, days, lexicon)
        if table is not None:
            self._check_course_table(table, keys)
        course_file = self._name(self.folder / "course.toml")
        expected = field_value(table or {}, "days", checks.COURSE_FIELDS)
        self.problems += checks.check_day_numbers(
            [(item.file, item.day.number, item.number_line, item.prefix) for item in days],
            expected, course_file, keys)
        self.problems += checks.check_unit_ids(
            (item.file, unit) for item in days for unit in item.day.units)
        if table is not None:
            for item in days:
                if item.table is not None:
                    self.problems += checks.check_day_references(item.table, course, item.file,
                                                                 item.keys)
            # Coverage is only known when every day's front matter could be read.
            if all(item.table is not None for item in days):
                self.problems += checks.check_coverage(course, course_file, keys)
        assessments, assessment_links = self._read_assessments(table or {}, course)
        course = replace(course, assessments=assessments)
        links = [(item.file, href, line) for item in days for href, line in item.links]
        self.problems += checks.check_links(links + assessment_links, course)
        return course

    # -- files --------------------------------------------------------------

    def _name(self, path: Path) -> str:
        """A file's name relative to the course folder, with forward slashes."""
        try:
            relative = os.path.relpath(path, self.folder)
        except ValueError:  # another drive on Windows
            relative = str(path)
        return relative.replace(os.sep, "/")

    def _read_text(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            self.problems.append(Problem(self._name(path), None, (
                f"this file is not UTF-8 text ({error.reason} at byte {error.start}): save it "
                "as UTF-8.")))
        except OSError as error:
            self.problems.append(Problem(self._name(path), None,
                                         f"this file could not be read ({error.strerror})."))
        return None

    def _read_toml(self, path: Path, required: bool) -> tuple[dict | None, KeyLines]:
        name = self._name(path)
        if not path.is_file():
            if required:
                self.problems.append(Problem(name, None, (
                    f"{path.name} is missing: every course folder needs one (see "
                    "docs/content-format.md).")))
            return None, KeyLines()
        text = self._read_text(path)
        if text is None:
            return None, KeyLines()
        return self._parse_toml(text, name, first_line=1)

    def _parse_toml(self, text: str, name: str, first_line: int) -> tuple[dict | None, KeyLines]:
        keys = key_lines(text, first_line)
        try:
            return tomllib.loads(text), keys
        except tomllib.TOMLDecodeError as error:
            last = first_line + max(len(text.splitlines()) - 1, 0)
            self.problems.append(checks.toml_error_problem(name, error, first_line, last))
            return None, keys

    # -- course.toml ---------------------------------------------------------

    def _check_course_table(self, table: dict, keys: KeyLines) -> None:
        name = self._name(self.folder / "course.toml")
        self.problems += checks.check_fields(table, checks.COURSE_FIELDS, name, keys)
        self.problems += checks.check_course_rules(table, name, keys)
        arrays = (
            ("principles", checks.PRINCIPLE_FIELDS, "id", checks.ID_RE,
             "should use only lowercase letters, digits and hyphens."),
            ("core_areas", checks.CORE_AREA_FIELDS, "id", checks.ID_RE,
             "should use only lowercase letters, digits and hyphens."),
            ("outcomes", checks.OUTCOME_FIELDS, "id", checks.OUTCOME_ID_RE,
             "should be LO followed by a number, like LO1."),
            ("competences", checks.COMPETENCE_FIELDS, "code", checks.COMPETENCE_CODE_RE,
             'should be a domain number or a sub-code, like "2" or "2.5".'),
        )
        for array, fields, id_key, pattern, advice in arrays:
            items = field_value(table, array, checks.COURSE_FIELDS, default=[])
            for index, item in enumerate(items):
                self.problems += checks.check_fields(item, fields, name, keys, (array, index),
                                                     f"{array} entry {index + 1}")
            self.problems += checks.check_ids(items, id_key, array, name, keys, pattern, advice)
            if array in table and not items and isinstance(table[array], list):
                self.problems.append(Problem(name, keys.line((array,)),
                                             f"{array} is empty: the course needs at least one."))
        competences = field_value(table, "competences", checks.COURSE_FIELDS, default=[])
        self.problems += checks.check_competence_domains(
            [item["code"] for item in competences if isinstance(item.get("code"), str)], name, keys)

    def _build_course(self, table: dict, days: list[_DayReading], lexicon: Lexicon) -> Course:
        def text(name: str) -> str:
            return field_value(table, name, checks.COURSE_FIELDS, default="")

        def number(name: str) -> int:
            return field_value(table, name, checks.COURSE_FIELDS, default=0)

        def items(name: str) -> list[dict]:
            return field_value(table, name, checks.COURSE_FIELDS, default=[])

        def get(item: dict, key: str) -> str:
            value = item.get(key, "")
            return value if isinstance(value, str) else ""

        return Course(
            slug=text("slug"), title=text("title"), version=text("version"),
            summary=text("summary"), level=number("level"), credits=number("credits"),
            framework=text("framework"), award_title=text("award_title"),
            notional_hours=number("notional_hours"), day_count=number("days"),
            awarding_body=text("awarding_body"), delivering_provider=text("delivering_provider"),
            assessments_key=field_value(table, "assessments", checks.COURSE_FIELDS),
            principles=tuple(Principle(get(item, "id"), get(item, "title"), get(item, "description"))
                             for item in items("principles")),
            core_areas=tuple(CoreArea(get(item, "id"), get(item, "title"), get(item, "description"))
                             for item in items("core_areas")),
            outcomes=tuple(LearningOutcome(get(item, "id"), get(item, "text"))
                           for item in items("outcomes")),
            competences=tuple(Competence(get(item, "code"), get(item, "title"),
                                         get(item, "description"))
                              for item in items("competences")),
            days=tuple(sorted((item.day for item in days), key=lambda day: day.number)),
            lexicon=lexicon,
        )

    # -- days ----------------------------------------------------------------

    def _read_days(self) -> list[_DayReading]:
        folder = self.folder / "days"
        if not folder.is_dir():
            self.problems.append(Problem(self._name(folder), None, (
                "there is no days folder: add days/01-short-name.md and one file for each "
                "course day.")))
            return []
        readings = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.suffix != ".md" or not path.is_file():
                continue
            reading = self._read_day(path)
            if reading is not None:
                readings.append(reading)
        return readings

    def _read_day(self, path: Path) -> _DayReading | None:
        name = self._name(path)
        prefix_match = DAY_FILE_RE.match(path.name)
        if prefix_match is None:
            self.problems.append(Problem(name, None, (
                "name day files with two digits, a hyphen and a short name, like "
                "03-strengths-spotting.md.")))
        prefix = int(prefix_match.group(1)) if prefix_match else None
        text = self._read_text(path)
        if text is None:
            return None
        front = _split_front_matter(text)
        if front.problem:
            self.problems.append(Problem(name, front.problem_line, front.problem))
        table, keys = (None, KeyLines())
        if front.toml is not None:
            table, keys = self._parse_toml(front.toml, name, first_line=2)
        if table is not None:
            self.problems += checks.check_fields(table, checks.DAY_FIELDS, name, keys,
                                                 what="the front matter")
        table_or_empty = table or {}

        def listed(key: str) -> tuple[str, ...]:
            return tuple(field_value(table_or_empty, key, checks.DAY_FIELDS, default=[]))

        number = field_value(table_or_empty, "number", checks.DAY_FIELDS)
        if number is None:
            number = prefix if prefix is not None else 0
        sections, section_problems = _sections(front.body)
        located = list(section_problems)
        intro, intro_problems = _read_section(sections[0].lines)
        located += intro_problems
        located += _prompts_and_headings(intro)[1]
        located += [(line, "a content note before the first unit belongs in the front matter: list it in "
                           "content_notes, which trainees see before the day's material.")
                    for line in intro.content_note_lines]
        units = []
        prompt_lines: list[int] = []
        for section in sections[1:]:
            read, read_problems = _read_section(section.lines)
            located += read_problems
            prompts, heading_problems = _prompts_and_headings(read)
            located += heading_problems
            prompt_lines += [line for _, line in prompts]
            if len(read.content_note_lines) > 1:
                located.append((read.content_note_lines[1], (
                    f"the unit '{section.unit_id or section.title}' already has a content note (line "
                    f"{read.content_note_lines[0]}): keep one per unit, shown before its material.")))
            if read.content_note_lines and not read.content_note.strip():
                located.append((read.content_note_lines[0], (
                    "this content note is empty: say in a sentence or two what the unit's material touches "
                    "on, so trainees can choose how to take part.")))
            if not read.markdown.strip():
                located.append((section.heading_line, (
                    f"the unit '{section.unit_id or section.title}' is empty for trainees: add "
                    "its aims, activities or resources (facilitator notes alone are not "
                    "enough).")))
            units.append(Unit(id=section.unit_id, title=section.title,
                              body_markdown=read.markdown,
                              facilitator_markdown=read.facilitator_markdown,
                              prompts=tuple(text for text, _ in prompts),
                              line=section.heading_line or 0, content_note=read.content_note))
        self.problems += [Problem(name, line, message) for line, message in located]
        day = Day(
            number=number, title=field_value(table_or_empty, "title", checks.DAY_FIELDS, default=""),
            file_name=path.name, core_areas=listed("core_areas"), principles=listed("principles"),
            outcomes=listed("outcomes"), competences=listed("competences"),
            duration_minutes=field_value(table_or_empty, "duration_minutes", checks.DAY_FIELDS),
            content_notes=listed("content_notes"), topics=listed("topics"),
            intro_markdown=intro.markdown, intro_facilitator_markdown=intro.facilitator_markdown,
            units=tuple(units),
        )
        if front.toml is not None:
            if not units:
                self.problems.append(Problem(name, None, (
                    "this day has no units: start each session with a heading like "
                    "'## Session title {#session-id}'.")))
            self.problems += checks.check_day_prompts(day, name, prompt_lines)
        return _DayReading(
            file=name, day=day, table=table, keys=keys,
            number_line=keys.line(("number",)) if table and "number" in table else None,
            prefix=prefix, links=tuple(_course_links(front.body)))

    # -- lexicon -------------------------------------------------------------

    def _read_lexicon(self) -> Lexicon:
        path = self.folder / "lexicon.toml"
        table, keys = self._read_toml(path, required=False)
        if table is None:
            return Lexicon()
        name = self._name(path)
        self.problems += checks.check_fields(table, checks.LEXICON_FIELDS, name, keys)
        entries = field_value(table, "term", checks.LEXICON_FIELDS, default=[])
        terms = []
        for index, entry in enumerate(entries):
            self.problems += checks.check_fields(entry, checks.LEXICON_TERM_FIELDS, name, keys,
                                                 ("term", index), f"lexicon entry {index + 1}")
            terms.append(LexiconTerm(
                term=field_value(entry, "term", checks.LEXICON_TERM_FIELDS, default=""),
                alternative=field_value(entry, "alternative", checks.LEXICON_TERM_FIELDS,
                                        default=""),
                reason=field_value(entry, "reason", checks.LEXICON_TERM_FIELDS, default=""),
                variants=tuple(field_value(entry, "variants", checks.LEXICON_TERM_FIELDS,
                                           default=[])),
                line=keys.line(("term", index))))
        self.problems += checks.check_lexicon_alternatives(entries, name, keys)
        self.problems += checks.check_lexicon(entries, name, keys)
        return Lexicon(tuple(terms))

    # -- assessments ---------------------------------------------------------

    def _read_assessments(self, table: dict, course: Course
                          ) -> tuple[tuple[Assessment, ...], list[tuple[str, str, int]]]:
        key = course.assessments_key
        if not key or not checks.ID_RE.match(key):
            return (), []
        folder = self.folder.resolve().parent.parent / "assessments" / key
        if not folder.is_dir():
            return (), []
        outcome_ids = {item.id for item in course.outcomes} if "outcomes" in table else None
        read: list[tuple[str, Assessment, KeyLines]] = []
        links: list[tuple[str, str, int]] = []
        for path in sorted(folder.glob("*.md")):
            if path.name.lower() == "readme.md" or path.name.startswith("."):
                continue
            result = self._read_assessment(path, outcome_ids)
            if result is not None:
                assessment, keys, found = result
                read.append((self._name(path), assessment, keys))
                links += [(self._name(path), href, line) for href, line in found]
        self.problems += checks.check_assessment_set(read)
        return tuple(item[1] for item in read), links

    def _read_assessment(self, path: Path, outcome_ids: set[str] | None
                         ) -> tuple[Assessment, KeyLines, list[tuple[str, int]]] | None:
        name = self._name(path)
        text = self._read_text(path)
        if text is None:
            return None
        front = _split_front_matter(text)
        if front.problem:
            self.problems.append(Problem(name, front.problem_line, front.problem.replace(
                "(number, title, ...)", "(slug, title, rubric, ...)")))
            return None
        table, keys = self._parse_toml(front.toml or "", name, first_line=2)
        if table is None:
            return None
        fields = checks.ASSESSMENT_FIELDS
        self.problems += checks.check_fields(table, fields, name, keys, what="the front matter")
        self.problems += checks.check_assessment(table, name, keys, outcome_ids)
        criteria = []
        for index, item in enumerate(field_value(table, "rubric", fields, default=[])):
            where = ("rubric", index)
            label = item.get("id") if isinstance(item.get("id"), str) else f"number {index + 1}"
            self.problems += checks.check_fields(item, checks.CRITERION_FIELDS, name, keys, where,
                                                 f"rubric criterion {label}")
            bands_table = field_value(item, "bands", checks.CRITERION_FIELDS)
            bands: tuple = ()
            if bands_table is not None:
                bands, band_problems = checks.check_bands(bands_table, name, keys,
                                                          where + ("bands",), label)
                self.problems += band_problems
            criteria.append(Criterion(
                id=field_value(item, "id", checks.CRITERION_FIELDS, default=""),
                title=field_value(item, "title", checks.CRITERION_FIELDS, default=""),
                weight=field_value(item, "weight", checks.CRITERION_FIELDS, default=0),
                bands=bands))
        brief, brief_problems = _read_section(front.body)
        self.problems += [Problem(name, line, message) for line, message in brief_problems]
        if not brief.markdown.strip():
            self.problems.append(Problem(name, None, (
                "the brief is empty: write what the assessment asks for below the front matter.")))
        assessment = Assessment(
            slug=field_value(table, "slug", fields, default=""),
            title=field_value(table, "title", fields, default=""),
            credit_bearing=field_value(table, "credit_bearing", fields, default=False),
            weighting=field_value(table, "weighting", fields, default=0),
            due_weeks_after_last_day=field_value(table, "due_weeks_after_last_day", fields),
            cut_off_working_days=field_value(table, "cut_off_working_days", fields, default=0),
            submission_types=tuple(field_value(table, "submission_types", fields, default=[])),
            word_count=field_value(table, "word_count", fields),
            word_tolerance_percent=field_value(table, "word_tolerance_percent", fields, default=0),
            outcomes=tuple(field_value(table, "outcomes", fields, default=[])),
            rubric=tuple(criteria),
            brief_markdown=brief.markdown,
            file_name=path.name,
        )
        return assessment, keys, _course_links(front.body)


