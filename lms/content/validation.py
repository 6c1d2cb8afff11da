"""Checks on course and assessment content, each pointing at a file and line.

Pure functions: parsed TOML tables and loaded dataclasses in, a list of
`Problem`s out. `tomllib` gives no positions, so `key_lines` scans the TOML
text itself to find the line of each key and value.

Every message says what is wrong and how to put it right, in plain words, for
the tutor or content writer who will read it in a terminal.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lms.content.markdown import UNIT_ID_PATTERN, parse_day_link
from lms.content.model import Assessment, Band, Course, Day, Problem, Unit

Path = tuple["str | int", ...]

ID_RE = re.compile(r"^" + UNIT_ID_PATTERN + r"$")
OUTCOME_ID_RE = re.compile(r"^LO\d+$")
COMPETENCE_CODE_RE = re.compile(r"^\d+(?:\.\d+)*$")
SUBMISSION_TYPES = ("text", "file")
CERTHE = "certificate of higher education"
CERTHE_CREDITS = 120
HOURS_PER_CREDIT = 10
MAX_PROMPTS_PER_DAY = 3


# ---------------------------------------------------------------------------
# Where keys are: line numbers for TOML keys and values
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyLines:
    """Line numbers of the keys in one TOML text.

    Paths are tuples of keys and array indexes, as `tomllib` would give them:
    ``("rubric", 0, "bands", "0-29")``. ``first_line`` is the file line of the
    TOML text's first line (2 for front matter after a ``+++`` line).
    """

    keys: Mapping[Path, int] = field(default_factory=dict)
    value_ends: Mapping[Path, int] = field(default_factory=dict)
    lines: tuple[str, ...] = ()
    first_line: int = 1

    def line(self, path: Path) -> int | None:
        """The file line of ``path``, else of its nearest ancestor, else None."""
        path = tuple(path)
        while path:
            if path in self.keys:
                return self.keys[path] + self.first_line - 1
            path = path[:-1]
        return None

    def value_line(self, path: Path, value: str) -> int | None:
        """The file line where ``value`` is written in the value of ``path``.

        Useful for one item of a list spread over several lines; falls back
        to the line of the key.
        """
        path = tuple(path)
        start = self.keys.get(path)
        if start is None:
            return self.line(path)
        end = self.value_ends.get(path, start)
        quoted = (f'"{value}"', f"'{value}'")
        for number in range(start, end + 1):
            text = self.lines[number - 1]
            if any(item in text for item in quoted):
                return number + self.first_line - 1
        return self.line(path)


_BARE_KEY = r"[A-Za-z0-9_-]+"
_QUOTED_KEY = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY_PART = rf"(?:{_BARE_KEY}|{_QUOTED_KEY})"
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER_RE = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED_KEY})\s*(\]\]?)\s*(?:#.*)?$")
_KEY_VALUE_RE = re.compile(rf"^\s*({_DOTTED_KEY})\s*=(.*)$")
_KEY_PART_RE = re.compile(_KEY_PART)


def key_lines(text: str, first_line: int = 1) -> KeyLines:
    """Scan TOML text for the line of every table header and key.

    Tolerant by design: it is only used to point at lines, so anything it
    cannot follow (keys inside inline tables) falls back to an ancestor.
    """
    lines = tuple(text.splitlines())
    keys: dict[Path, int] = {}
    value_ends: dict[Path, int] = {}
    array_counts: dict[Path, int] = {}
    table: Path = ()
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        header = _HEADER_RE.match(line)
        if header and (len(header.group(1)) == len(header.group(3))):
            parts = _key_parts(header.group(2))
            concrete = _resolve_arrays(parts[:-1], array_counts) + (parts[-1],)
            if header.group(1) == "[[":
                index = array_counts.get(concrete, 0)
                array_counts[concrete] = index + 1
                keys.setdefault(concrete, number)
                concrete = concrete + (index,)
            keys.setdefault(concrete, number)
            table = concrete
            continue
        key_value = _KEY_VALUE_RE.match(line)
        if not key_value:
            continue
        path = table + _key_parts(key_value.group(1))
        keys.setdefault(path, number)
        state = _scan_value(key_value.group(2), (None, 0))
        while (state[0] in ('"""', "'''") or state[1] > 0) and number < len(lines):
            number += 1
            state = _scan_value(lines[number - 1], state)
        value_ends[path] = number
    return KeyLines(keys=keys, value_ends=value_ends, lines=lines, first_line=first_line)


def _key_parts(dotted: str) -> Path:
    parts = []
    for raw in _KEY_PART_RE.findall(dotted):
        if raw[:1] in "\"'":
            raw = raw[1:-1]
        parts.append(raw)
    return tuple(parts)


def _resolve_arrays(parts: Path, array_counts: Mapping[Path, int]) -> Path:
    """Turn `rubric.bands` into ("rubric", <latest index>, "bands")'s parent path."""
    concrete: Path = ()
    for part in parts:
        concrete = concrete + (part,)
        if concrete in array_counts:
            concrete = concrete + (array_counts[concrete] - 1,)
    return concrete


def _scan_value(text: str, state: tuple[str | None, int]) -> tuple[str | None, int]:
    """Follow strings and brackets through one line of a value.

    ``state`` is (open multi-line string delimiter or None, bracket depth).
    """
    quote, depth = state
    index = 0
    while index < len(text):
        if quote:
            if len(quote) == 3 and text.startswith(quote, index):
                quote, index = None, index + 3
                continue
            if quote in ('"', '"""') and text[index] == "\\":
                index += 2
                continue
            if len(quote) == 1 and text[index] == quote:
                quote = None
            index += 1
            continue
        if text.startswith('"""', index) or text.startswith("'''", index):
            quote, index = text[index:index + 3], index + 3
            continue
        char = text[index]
        if char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        index += 1
    if quote in ('"', "'"):
        quote = None  # single-line strings cannot run on to the next line
    return quote, max(depth, 0)


def toml_error_problem(file: str, error: Exception, first_line: int = 1,
                       last_line: int | None = None) -> Problem:
    """Turn a `tomllib.TOMLDecodeError` into a Problem at the line it names."""
    text = str(error)
    match = re.search(r"\(at line (\d+), column (\d+)\)", text)
    line = int(match.group(1)) + first_line - 1 if match else last_line
    detail = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", text)
    return Problem(file, line, f"this is not valid TOML ({detail}). Check the quotes, "
                               "commas, brackets and '=' signs on this line.")


# ---------------------------------------------------------------------------
# Fields: which keys a table may hold, which are required, and their types
# ---------------------------------------------------------------------------

class Kind(enum.Enum):
    TEXT = "text in quotes"
    WHOLE_NUMBER = "a whole number"
    TRUE_OR_FALSE = "true or false"
    TEXT_LIST = 'a list of text, like ["a", "b"]'
    TABLE_LIST = "a list of tables, written as [[name]] blocks"
    TEXT_TABLE = 'a table of text values, like "0-29" = "..."'


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = True


COURSE_FIELDS = (
    Field("slug", Kind.TEXT), Field("title", Kind.TEXT), Field("version", Kind.TEXT),
    Field("summary", Kind.TEXT), Field("level", Kind.WHOLE_NUMBER),
    Field("credits", Kind.WHOLE_NUMBER), Field("framework", Kind.TEXT),
    Field("award_title", Kind.TEXT), Field("notional_hours", Kind.WHOLE_NUMBER),
    Field("days", Kind.WHOLE_NUMBER), Field("awarding_body", Kind.TEXT),
    Field("delivering_provider", Kind.TEXT), Field("assessments", Kind.TEXT, required=False),
    Field("principles", Kind.TABLE_LIST), Field("core_areas", Kind.TABLE_LIST),
    Field("outcomes", Kind.TABLE_LIST), Field("competences", Kind.TABLE_LIST),
)
PRINCIPLE_FIELDS = (Field("id", Kind.TEXT), Field("title", Kind.TEXT),
                    Field("description", Kind.TEXT, required=False))
CORE_AREA_FIELDS = PRINCIPLE_FIELDS
OUTCOME_FIELDS = (Field("id", Kind.TEXT), Field("text", Kind.TEXT))
COMPETENCE_FIELDS = (Field("code", Kind.TEXT), Field("title", Kind.TEXT),
                     Field("description", Kind.TEXT, required=False))
DAY_FIELDS = (
    Field("number", Kind.WHOLE_NUMBER), Field("title", Kind.TEXT),
    Field("core_areas", Kind.TEXT_LIST), Field("principles", Kind.TEXT_LIST),
    Field("outcomes", Kind.TEXT_LIST), Field("competences", Kind.TEXT_LIST),
    Field("duration_minutes", Kind.WHOLE_NUMBER),
    Field("content_notes", Kind.TEXT_LIST, required=False),
    Field("topics", Kind.TEXT_LIST, required=False),
)
LEXICON_FIELDS = (Field("term", Kind.TABLE_LIST),)
# `alternative` is required, but reported by check_lexicon_alternatives with a
# message that says why it matters.
LEXICON_TERM_FIELDS = (Field("term", Kind.TEXT), Field("alternative", Kind.TEXT, required=False),
                       Field("reason", Kind.TEXT), Field("variants", Kind.TEXT_LIST, required=False))
ASSESSMENT_FIELDS = (
    Field("slug", Kind.TEXT), Field("title", Kind.TEXT), Field("credit_bearing", Kind.TRUE_OR_FALSE),
    Field("weighting", Kind.WHOLE_NUMBER),
    Field("due_weeks_after_last_day", Kind.WHOLE_NUMBER, required=False),
    Field("cut_off_working_days", Kind.WHOLE_NUMBER, required=False),
    Field("submission_types", Kind.TEXT_LIST),
    Field("word_count", Kind.WHOLE_NUMBER, required=False),
    Field("word_tolerance_percent", Kind.WHOLE_NUMBER, required=False),
    Field("outcomes", Kind.TEXT_LIST), Field("rubric", Kind.TABLE_LIST, required=False),
)
CRITERION_FIELDS = (Field("id", Kind.TEXT), Field("title", Kind.TEXT),
                    Field("weight", Kind.WHOLE_NUMBER), Field("bands", Kind.TEXT_TABLE))


def has_kind(value: object, kind: Kind) -> bool:
    """Whether a parsed TOML value is of the kind a field needs."""
    if kind is Kind.TEXT:
        return isinstance(value, str)
    if kind is Kind.WHOLE_NUMBER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is Kind.TRUE_OR_FALSE:
        return isinstance(value, bool)
    if kind is Kind.TEXT_LIST:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if kind is Kind.TABLE_LIST:
        return isinstance(value, list) and all(isinstance(item, dict) for item in value)
    return isinstance(value, dict) and all(isinstance(item, str) for item in value.values())


def check_fields(table: Mapping, fields: tuple[Field, ...], file: str, keys: KeyLines,
                 path: Path = (), what: str = "") -> list[Problem]:
    """Unknown keys, missing required fields and wrong types in one table.

    ``what`` names the table for people ("principle 3", "the front matter").
    """
    known = {item.name: item for item in fields}
    where = f" in {what}" if what else ""
    problems = []
    for name, value in table.items():
        spec = known.get(name)
        if spec is None:
            guess = difflib.get_close_matches(name, list(known), n=1)
            hint = f" Did you mean '{guess[0]}'?" if guess else (
                f" The keys allowed here are: {', '.join(known)}.")
            problems.append(Problem(file, keys.line(path + (name,)),
                                    f"unknown key '{name}'{where}.{hint}"))
        elif not has_kind(value, spec.kind):
            problems.append(Problem(file, keys.line(path + (name,)),
                                    f"'{name}'{where} should be {spec.kind.value}."))
    # A missing key has no line of its own: point at its table's header, or
    # at the top of the file (the opening +++ of front matter).
    table_line = keys.line(path) or max(keys.first_line - 1, 1)
    for spec in fields:
        if spec.required and spec.name not in table:
            problems.append(Problem(file, table_line, (
                f"'{spec.name}' is missing{where}: add it as {spec.kind.value}.")))
    return problems


def field_value(table: Mapping, spec_name: str, fields: tuple[Field, ...], default=None):
    """The value of a field when present and of the right kind, else ``default``."""
    spec = next(item for item in fields if item.name == spec_name)
    value = table.get(spec_name, default)
    return value if value is not default and has_kind(value, spec.kind) else default


# ---------------------------------------------------------------------------
# course.toml
# ---------------------------------------------------------------------------

def check_course_rules(table: Mapping, file: str, keys: KeyLines) -> list[Problem]:
    """The award title, notional hours and size rules of a course."""
    problems = []
    credits = field_value(table, "credits", COURSE_FIELDS)
    level = field_value(table, "level", COURSE_FIELDS)
    award = field_value(table, "award_title", COURSE_FIELDS)
    hours = field_value(table, "notional_hours", COURSE_FIELDS)
    days = field_value(table, "days", COURSE_FIELDS)
    slug = field_value(table, "slug", COURSE_FIELDS)
    if slug is not None and not ID_RE.match(slug):
        problems.append(Problem(file, keys.line(("slug",)), (
            f"the slug '{slug}' should use only lowercase letters, digits and hyphens.")))
    if credits is not None and credits <= 0:
        problems.append(Problem(file, keys.line(("credits",)), "credits must be more than 0."))
    if level is not None and not 1 <= level <= 8:
        problems.append(Problem(file, keys.line(("level",)), (
            f"level {level} is not an FHEQ level: use a whole number from 1 to 8 (4 for this course).")))
    if days is not None and days <= 0:
        problems.append(Problem(file, keys.line(("days",)), "days must be at least 1."))
    if award is not None and credits is not None and award.strip().lower() == CERTHE \
            and credits < CERTHE_CREDITS:
        problems.append(Problem(file, keys.line(("award_title",)), (
            f"a Certificate of Higher Education needs {CERTHE_CREDITS} credits at Level 4, "
            f"and this course carries {credits}. Use a title that fits the credits, such as "
            "'Certificate in Peer Support Work'.")))
    if credits is not None and hours is not None and hours != credits * HOURS_PER_CREDIT:
        problems.append(Problem(file, keys.line(("notional_hours",)), (
            f"notional_hours is {hours} but {credits} credits means {credits * HOURS_PER_CREDIT} "
            f"hours ({HOURS_PER_CREDIT} hours of learning per credit).")))
    key = field_value(table, "assessments", COURSE_FIELDS)
    if key is not None and not ID_RE.match(key):
        problems.append(Problem(file, keys.line(("assessments",)), (
            f"assessments = '{key}' should name a folder under assessments/, using only "
            "lowercase letters, digits and hyphens.")))
    return problems


def check_ids(items: list, id_key: str, array: str, file: str, keys: KeyLines,
              pattern: re.Pattern, advice: str) -> list[Problem]:
    """Malformed and repeated ids in one array of tables of course.toml."""
    problems = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        value = item.get(id_key)
        if not isinstance(value, str):
            continue
        line = keys.line((array, index, id_key))
        if not pattern.match(value):
            problems.append(Problem(file, line, f"{id_key} '{value}' in {array} {advice}"))
        if value in seen:
            problems.append(Problem(file, line, (
                f"{id_key} '{value}' in {array} is used twice (first on line {seen[value]}); "
                "each needs its own.")))
        else:
            seen[value] = line or 0
    return problems


def check_competence_domains(codes: Iterable[str], file: str, keys: KeyLines) -> list[Problem]:
    """Every sub-code ("2.5") needs its domain ("2") defined too."""
    codes = list(codes)
    problems = []
    for index, code in enumerate(codes):
        domain = code.split(".", 1)[0]
        if "." in code and domain not in codes:
            problems.append(Problem(file, keys.line(("competences", index, "code")), (
                f"competence {code} belongs to domain {domain}, which is not listed: "
                f"add a [[competences]] entry with code = \"{domain}\".")))
    return problems


# ---------------------------------------------------------------------------
# Days
# ---------------------------------------------------------------------------

def check_day_references(day_table: Mapping, course: Course, file: str,
                         keys: KeyLines) -> list[Problem]:
    """Ids a day's front matter uses that course.toml does not define."""
    known = {
        "core_areas": ({item.id for item in course.core_areas}, "core area"),
        "principles": ({item.id for item in course.principles}, "principle"),
        "outcomes": ({item.id for item in course.outcomes}, "learning outcome"),
        "competences": ({item.code for item in course.competences}, "competence code"),
    }
    problems = []
    for name, (defined, label) in known.items():
        values = field_value(day_table, name, DAY_FIELDS, default=[])
        for value in values:
            if value in defined:
                continue
            guess = difflib.get_close_matches(value, sorted(defined), n=1)
            hint = f" Did you mean '{guess[0]}'?" if guess else ""
            problems.append(Problem(file, keys.value_line((name,), value), (
                f"unknown {label} '{value}': it is not defined in course.toml.{hint}")))
    return problems


def check_day_numbers(days: list[tuple[str, int, int | None, int | None]],
                      expected: int | None, course_file: str,
                      course_keys: KeyLines) -> list[Problem]:
    """Day numbering: duplicates, gaps, file-name prefixes and the count of days.

    ``days`` holds (file, number from front matter, line of the number,
    number from the file name prefix) for each day file.
    """
    problems = []
    first_with: dict[int, str] = {}
    for file, number, line, prefix in sorted(days, key=lambda item: item[0]):
        if prefix is not None and prefix != number:
            problems.append(Problem(file, line, (
                f"this file's name says day {prefix} but its number is {number}: "
                f"rename the file to start with {number:02d}- or correct the number.")))
        if number < 1:
            problems.append(Problem(file, line, "day numbers start at 1."))
        elif number in first_with:
            problems.append(Problem(file, line, (
                f"day {number} is also {first_with[number]}: each day needs its own number.")))
        else:
            first_with[number] = file
    numbers = sorted(first_with)
    for missing in range(1, numbers[-1] if numbers else 0):
        if missing not in first_with:
            after = next(number for number in numbers if number > missing)
            following = [item for item in days if item[1] == after][0]
            problems.append(Problem(following[0], following[2], (
                f"there is no day {missing}: days are numbered 1, 2, 3 and so on without gaps.")))
    if expected is not None and expected != len(days):
        problems.append(Problem(course_file, course_keys.line(("days",)), (
            f"course.toml says days = {expected} but the days folder has {len(days)} day "
            f"file{'s' if len(days) != 1 else ''}: add or remove day files, or change the number.")))
    return problems


def check_day_prompts(day: Day, file: str, prompt_lines: list[int]) -> list[Problem]:
    """Each day has 1 to 3 reflective diary prompts in all."""
    count = len(day.prompts)
    if count == 0:
        return [Problem(file, 1, (
            "this day has no reflective diary prompt: add a '### Reflective diary prompts' "
            "section to a unit with 1 to 3 prompts as list items."))]
    if count > MAX_PROMPTS_PER_DAY:
        return [Problem(file, prompt_lines[MAX_PROMPTS_PER_DAY], (
            f"this day has {count} reflective diary prompts; keep it to "
            f"{MAX_PROMPTS_PER_DAY} or fewer so trainees have time for each."))]
    return []


def check_links(links: Iterable[tuple[str, str, int]], course: Course) -> list[Problem]:
    """Course links (``day:NN`` and ``day:NN#unit-id``) that lead nowhere.

    ``links`` holds (file, href, line) for each link found in the content.
    """
    problems = []
    for file, href, line in links:
        target = parse_day_link(href)
        if target is None:
            problems.append(Problem(file, line, (
                f"the link '{href}' is not a course link: write day:NN or day:NN#unit-id, "
                "for example day:07 or day:07#my-wellness-plan.")))
            continue
        number, unit_id = target
        days = [day for day in course.days if day.number == number]
        if not days:
            problems.append(Problem(file, line, (
                f"the link '{href}' points to day {number}, which does not exist.")))
        elif unit_id is not None and all(day.unit(unit_id) is None for day in days):
            elsewhere = course.day_of_unit(unit_id)
            hint = f" That unit is on day {elsewhere.number}." if elsewhere else ""
            problems.append(Problem(file, line, (
                f"the link '{href}' points to a unit '{unit_id}' that day {number} does not "
                f"have.{hint}")))
    return problems


def check_coverage(course: Course, file: str, keys: KeyLines) -> list[Problem]:
    """Core areas and principles that no day covers."""
    covered_areas = {area for day in course.days for area in day.core_areas}
    covered_principles = {item for day in course.days for item in day.principles}
    problems = []
    for index, area in enumerate(course.core_areas):
        if area.id not in covered_areas:
            problems.append(Problem(file, keys.line(("core_areas", index, "id")), (
                f"no day covers the core area '{area.id}': add it to the core_areas of the "
                "day that teaches it.")))
    for index, principle in enumerate(course.principles):
        if principle.id not in covered_principles:
            problems.append(Problem(file, keys.line(("principles", index, "id")), (
                f"no day covers the principle '{principle.id}': add it to the principles "
                "of a day that explores it.")))
    return problems


# ---------------------------------------------------------------------------
# Lexicon
# ---------------------------------------------------------------------------

def check_lexicon(terms: list, file: str, keys: KeyLines) -> list[Problem]:
    """Entries without an alternative, and phrases listed twice."""
    problems = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(terms):
        term = entry.get("term")
        alternative = entry.get("alternative")
        line = keys.line(("term", index))
        if isinstance(term, str) and not term.strip():
            problems.append(Problem(file, keys.line(("term", index, "term")),
                                    "this lexicon entry has an empty term."))
        if "alternative" in entry and isinstance(alternative, str) and not alternative.strip():
            problems.append(Problem(file, keys.line(("term", index, "alternative")), (
                f"the lexicon entry '{term}' has an empty alternative: say what to use instead.")))
        variants = field_value(entry, "variants", LEXICON_TERM_FIELDS, default=[])
        phrases = ([term] if isinstance(term, str) else []) + list(variants)
        for phrase in phrases:
            folded = " ".join(phrase.lower().split())
            if not folded:
                continue
            if folded in seen:
                problems.append(Problem(file, line, (
                    f"'{phrase}' is already in the lexicon (line {seen[folded]}): "
                    "list each term or variant once.")))
            else:
                seen[folded] = line or 0
    return problems


def check_lexicon_alternatives(terms: list, file: str, keys: KeyLines) -> list[Problem]:
    """A clearer message than "'alternative' is missing" for the lexicon's main rule."""
    return [
        Problem(file, keys.line(("term", index)), (
            f"the lexicon entry '{entry.get('term', '?')}' has no alternative: add "
            "alternative = \"...\" with the words to use instead."))
        for index, entry in enumerate(terms) if "alternative" not in entry
    ]


# ---------------------------------------------------------------------------
# Assessments
# ---------------------------------------------------------------------------

_BAND_RE = re.compile(r"^\s*(\d{1,3})\s*(?:-\s*(\d{1,3})|(\+))\s*$")


def parse_band(label: str, descriptor: str) -> Band | None:
    """Read a band label: "40-49" -> Band(40, 49), "70+" -> Band(70, 100); else None."""
    match = _BAND_RE.match(label)
    if match is None:
        return None
    low = int(match.group(1))
    high = 100 if match.group(3) else int(match.group(2))
    if low > high or high > 100:
        return None
    return Band(low, high, descriptor)


def check_bands(bands: Mapping[str, str], file: str, keys: KeyLines, path: Path,
                criterion: str) -> tuple[tuple[Band, ...], list[Problem]]:
    """Parse a criterion's bands; report malformed, overlapping and missing marks.

    Returns the bands it could read, lowest first, and the problems.
    """
    problems = []
    parsed: list[tuple[Band, str]] = []
    for label, descriptor in bands.items():
        band = parse_band(label, descriptor)
        if band is None:
            problems.append(Problem(file, keys.line(path + (label,)), (
                f"the band '{label}' of criterion '{criterion}' is not a mark range: write it "
                "as \"40-49\" (lowest and highest mark, 0 to 100) or \"70+\".")))
            continue
        if not descriptor.strip():
            problems.append(Problem(file, keys.line(path + (label,)), (
                f"the band '{label}' of criterion '{criterion}' has no descriptor: say what "
                "work in this band looks like.")))
        parsed.append((band, label))
    parsed.sort(key=lambda item: (item[0].low, item[0].high))
    if problems or not parsed:
        if not parsed and not problems:
            problems.append(Problem(file, keys.line(path), (
                f"criterion '{criterion}' has no mark bands: add bands covering 0 to 100.")))
        return tuple(band for band, _ in parsed), problems
    expected_low = 0
    previous = None
    for band, label in parsed:
        line = keys.line(path + (label,))
        if band.low < expected_low and previous is not None:
            problems.append(Problem(file, line, (
                f"the bands '{previous}' and '{label}' of criterion '{criterion}' overlap: "
                "each mark from 0 to 100 belongs to exactly one band.")))
        elif band.low > expected_low:
            problems.append(Problem(file, line, (
                f"criterion '{criterion}' has no band for marks {expected_low}-{band.low - 1}: "
                "the bands must cover every mark from 0 to 100.")))
        expected_low = max(expected_low, band.high + 1)
        previous = label
    if expected_low <= 100:
        problems.append(Problem(file, keys.line(path + (parsed[-1][1],)), (
            f"criterion '{criterion}' has no band for marks {expected_low}-100: "
            "the bands must cover every mark from 0 to 100.")))
    return tuple(band for band, _ in parsed), problems


def check_assessment(table: Mapping, file: str, keys: KeyLines,
                     outcome_ids: set[str] | None) -> list[Problem]:
    """The rules of one assessment's front matter (fields are checked separately)."""
    problems = []
    slug = field_value(table, "slug", ASSESSMENT_FIELDS)
    credit_bearing = field_value(table, "credit_bearing", ASSESSMENT_FIELDS)
    weighting = field_value(table, "weighting", ASSESSMENT_FIELDS)
    rubric = field_value(table, "rubric", ASSESSMENT_FIELDS)
    if slug is not None and not ID_RE.match(slug):
        problems.append(Problem(file, keys.line(("slug",)), (
            f"the slug '{slug}' should use only lowercase letters, digits and hyphens.")))
    if weighting is not None and not 0 <= weighting <= 100:
        problems.append(Problem(file, keys.line(("weighting",)),
                                "weighting is a percentage: use a whole number from 0 to 100."))
    if credit_bearing is False and weighting not in (None, 0):
        problems.append(Problem(file, keys.line(("weighting",)), (
            "a formative task (credit_bearing = false) carries no marks: set weighting = 0.")))
    if credit_bearing is True and not table.get("rubric"):
        problems.append(Problem(file, keys.line(("credit_bearing",)), (
            "a credit-bearing assessment needs a rubric: add [[rubric]] criteria with "
            "weights and mark bands.")))
    for name in ("due_weeks_after_last_day", "cut_off_working_days", "word_count"):
        value = field_value(table, name, ASSESSMENT_FIELDS)
        if value is not None and value < 0:
            problems.append(Problem(file, keys.line((name,)), f"{name} cannot be negative."))
    tolerance = field_value(table, "word_tolerance_percent", ASSESSMENT_FIELDS)
    if tolerance is not None and not 0 <= tolerance <= 100:
        problems.append(Problem(file, keys.line(("word_tolerance_percent",)),
                                "word_tolerance_percent must be from 0 to 100."))
    for kind in field_value(table, "submission_types", ASSESSMENT_FIELDS, default=[]):
        if kind not in SUBMISSION_TYPES:
            problems.append(Problem(file, keys.value_line(("submission_types",), kind), (
                f"unknown submission type '{kind}': use \"text\", \"file\" or both.")))
    if outcome_ids is not None:
        for outcome in field_value(table, "outcomes", ASSESSMENT_FIELDS, default=[]):
            if outcome not in outcome_ids:
                problems.append(Problem(file, keys.value_line(("outcomes",), outcome), (
                    f"unknown learning outcome '{outcome}': the course defines "
                    f"{', '.join(sorted(outcome_ids)) or 'none'}.")))
    if rubric:
        problems.extend(_check_rubric(rubric, file, keys))
    return problems


def _check_rubric(rubric: list, file: str, keys: KeyLines) -> list[Problem]:
    problems = []
    weights = []
    seen: dict[str, int] = {}
    for index, criterion in enumerate(rubric):
        weight = field_value(criterion, "weight", CRITERION_FIELDS)
        criterion_id = criterion.get("id")
        if weight is not None:
            weights.append(weight)
            if weight <= 0:
                problems.append(Problem(file, keys.line(("rubric", index, "weight")),
                                        "a criterion's weight must be more than 0."))
        if isinstance(criterion_id, str):
            line = keys.line(("rubric", index, "id"))
            if not ID_RE.match(criterion_id):
                problems.append(Problem(file, line, (
                    f"criterion id '{criterion_id}' should use only lowercase letters, digits "
                    "and hyphens.")))
            if criterion_id in seen:
                problems.append(Problem(file, line, (
                    f"criterion id '{criterion_id}' is used twice (first on line "
                    f"{seen[criterion_id]}); each criterion needs its own.")))
            else:
                seen[criterion_id] = line or 0
    if len(weights) == len(rubric) and sum(weights) != 100:
        listed = " + ".join(str(weight) for weight in weights)
        problems.append(Problem(file, keys.line(("rubric", 0)), (
            f"the rubric weights add up to {sum(weights)} ({listed}); they must add up to 100.")))
    return problems


def check_assessment_set(assessments: list[tuple[str, Assessment, KeyLines]]) -> list[Problem]:
    """Across a course's assessments: repeated slugs, and credit-bearing weightings."""
    problems = []
    seen: dict[str, str] = {}
    for file, assessment, keys in assessments:
        if assessment.slug in seen:
            problems.append(Problem(file, keys.line(("slug",)), (
                f"the slug '{assessment.slug}' is also used by {seen[assessment.slug]}: "
                "each assessment needs its own.")))
        else:
            seen[assessment.slug] = file
    credit_bearing = [item for item in assessments if item[1].credit_bearing]
    total = sum(item[1].weighting for item in credit_bearing)
    if credit_bearing and total != 100:
        file, _, keys = credit_bearing[0]
        problems.append(Problem(file, keys.line(("weighting",)), (
            f"the weightings of the credit-bearing assessments add up to {total}; "
            "they must add up to 100.")))
    return problems


def check_unit_ids(units: Iterable[tuple[str, Unit]]) -> list[Problem]:
    """Unit ids used twice in a course (progress is kept by unit id)."""
    problems = []
    first: dict[str, tuple[str, int]] = {}
    for file, unit in units:
        if not unit.id:
            continue
        if unit.id in first:
            other_file, other_line = first[unit.id]
            problems.append(Problem(file, unit.line, (
                f"the unit id '{unit.id}' is already used in {other_file} line {other_line}: "
                "each unit needs its own id, because trainees' progress is kept by it.")))
        else:
            first[unit.id] = (file, unit.line)
    return problems
