"""Reading credit-level rules (TOML) and a trainee's facts (JSON) for the rules engine.

Both readers return a value or every problem found, never an exception: a
rules file is written by an admin and a facts file may come from anywhere, so
each problem says where it is and how to put it right.

    load_rules_text(text, source) -> (Rules | None, [Problem])
    load_rules_path(path)         -> (Rules | None, [Problem])
    parse_facts_text(text, source) -> (Facts | None, [Problem])
    load_facts_path(path)         -> (Facts | None, [Problem])

No Flask, no database.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lms.progress.rules import (
    AssessmentFacts,
    AssessmentRule,
    Attempt,
    AttemptRules,
    AttendanceFacts,
    AttendanceRules,
    CondonementRules,
    DiaryRules,
    ExtensionRules,
    Facts,
    LatenessRules,
    Rules,
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (file, line when known) and what to do about it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


def _sorted(problems: list[Problem]) -> list[Problem]:
    """In file order; problems without a line (missing keys) last."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def _shown(value: Any) -> str:
    """A value as the person wrote it, short enough for a message."""
    if isinstance(value, (date, datetime)):
        text = value.isoformat()
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except ValueError:
            text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f" Did you mean `{close[0]}`?"
    return f" Those allowed here are: {', '.join(f'`{c}`' for c in choices)}."


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- where keys are in a TOML file (tomllib gives no line numbers)

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]#]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _key_parts(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.split(r"\.(?=(?:[^\"']|\"[^\"]*\"|'[^']*')*$)", dotted)]


@dataclass(frozen=True)
class _KeyLines:
    """Line numbers of keys and section headers, keyed by (section, index of [[table]], key)."""

    keys: dict[tuple[str, int | None, str], int]
    sections: dict[tuple[str, int | None], int]
    repeated: dict[tuple[str, int | None, str], tuple[int, int]]  # (first line, repeat line)

    def of(self, section: str = "", key: str | None = None, index: int | None = None) -> int | None:
        if key is not None and (section, index, key) in self.keys:
            return self.keys[(section, index, key)]
        if key is not None and (f"{section}.{key}", None) in self.sections:
            return self.sections[(f"{section}.{key}", None)]
        if (section, index) in self.sections:
            return self.sections[(section, index)]
        # A section written inline (`attendance = {...}`) or dotted (`attendance.x = 1`).
        return self.keys.get(("", None, section))


def _key_lines(text: str) -> _KeyLines:
    keys: dict[tuple[str, int | None, str], int] = {}
    sections: dict[tuple[str, int | None], int] = {}
    repeated: dict[tuple[str, int | None, str], tuple[int, int]] = {}
    tables_seen: dict[str, int] = {}
    section, index = "", None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        header = _HEADER.match(line)
        if header:
            section = ".".join(_key_parts(header.group(2)))
            if header.group(1) == "[[":
                index = tables_seen.get(section, -1) + 1
                tables_seen[section] = index
            else:
                index = None
            sections.setdefault((section, index), number)
            continue
        key = _KEY.match(line)
        if not key:
            continue
        parts = _key_parts(key.group(1))
        places = [(section, index, parts[-1])]
        if len(parts) > 1 and section == "":
            places = [("", None, parts[0]), (parts[0], None, parts[-1])]
        elif len(parts) > 1:
            places = [(section, index, parts[0])]
        for place in places:
            if place in keys and place not in repeated and len(parts) == 1:
                repeated[place] = (keys[place], number)
            keys.setdefault(place, number)
    return _KeyLines(keys, sections, repeated)


# --- what a rules file may say


@dataclass(frozen=True)
class _Setting:
    key: str
    kind: str  # "whole", "mark", "bool", "text", "dates"
    example: str
    required: bool = False
    minimum: int = 0
    maximum: int | None = None


_YEAR_OF_WORKING_DAYS = 260

_TOP = (
    _Setting("level", "whole", "4", required=True, minimum=1, maximum=12),
    _Setting("framework", "text", '"FHEQ"', required=True),
    _Setting("credits", "whole", "20", required=True, maximum=1000),
    _Setting("pass_mark", "mark", "40"),
    _Setting("days", "whole", "11", required=True, minimum=1, maximum=366),
)
_SECTIONS: dict[str, tuple[_Setting, ...]] = {
    "attendance": (
        _Setting("required_days", "whole", "9", maximum=366),
        _Setting("max_catch_up_days", "whole", "2", maximum=366),
        _Setting("absent_if_minutes_missed_over", "whole", "60", maximum=1440),
    ),
    "attempts": (
        _Setting("max_attempts", "whole", "2", minimum=1, maximum=10),
        _Setting("referral_cap", "bool", "true"),
    ),
    "lateness": (
        _Setting("capped_up_to_working_days", "whole", "5", maximum=_YEAR_OF_WORKING_DAYS),
        _Setting("non_submission_after_working_days", "whole", "5", maximum=_YEAR_OF_WORKING_DAYS),
        _Setting("late_second_attempt_scores_zero", "bool", "true"),
        _Setting("closure_dates", "dates", '["2026-12-25", "2026-12-28"]'),
    ),
    "extensions": (_Setting("max_working_days", "whole", "10", maximum=_YEAR_OF_WORKING_DAYS),),
    "condonement": (
        _Setting("enabled", "bool", "false"),
        _Setting("band", "whole", "5", maximum=100),
    ),
    "diary": (_Setting("entries_required", "whole", "0", maximum=10_000),),
}
_ASSESSMENT = (
    _Setting("slug", "text", '"accredited-assignment"', required=True),
    _Setting("credit_bearing", "bool", "true"),
    _Setting("title", "text", '"accredited assignment"'),
)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_setting(setting: _Setting, value: Any, where: str) -> tuple[Any, str | None]:
    """The value converted for the dataclasses, or a message saying what is wrong with it."""
    name = f"`{setting.key}`{where}"
    if setting.kind in ("whole", "mark"):
        if not _is_whole(value):
            return None, f"{name} should be a whole number, like {setting.example}, not {_shown(value)}."
        if setting.kind == "mark" and not 0 <= value <= 100:
            return None, f"{name} is {value}, but a pass mark must be from 0 to 100."
        if value < 0:
            return None, f"{name} is {value}, but it cannot be negative. Use 0 or more."
        if value < setting.minimum:
            return None, f"{name} is {value}, but it must be at least {setting.minimum}."
        if setting.maximum is not None and value > setting.maximum:
            return None, f"{name} is {value}, which is more than this file allows ({setting.maximum})."
        return value, None
    if setting.kind == "bool":
        if not isinstance(value, bool):
            return None, f"{name} should be true or false (without quotes), not {_shown(value)}."
        return value, None
    if setting.kind == "text":
        if not isinstance(value, str) or not value.strip():
            return None, f"{name} should be text in quotes, like {setting.example}, not {_shown(value)}."
        return value, None
    # dates
    if not isinstance(value, list):
        return None, f"{name} should be a list of dates in square brackets, like {setting.example}."
    days: set[date] = set()
    for item in value:
        day = _closure_date(item)
        if day is None:
            return None, (f"{name} holds {_shown(item)}, which is not a date. "
                          'Write each date as "YYYY-MM-DD", like "2026-12-25".')
        days.add(day)
    return frozenset(days), None


def _closure_date(item: Any) -> date | None:
    if isinstance(item, datetime):
        return None
    if isinstance(item, date):
        return item
    if isinstance(item, str) and _ISO_DATE.match(item):
        try:
            return date.fromisoformat(item)
        except ValueError:
            return None
    return None


def _read_table(
    table: dict[str, Any],
    settings: tuple[_Setting, ...],
    place: Callable[[str | None], int | None],
    where: str,
    report: Callable[[int | None, str], None],
    text_lines: list[str],
) -> dict[str, Any]:
    """Check one table's keys and values; return the good values by key."""
    allowed = [s.key for s in settings]
    values: dict[str, Any] = {}
    for key, value in table.items():
        setting = next((s for s in settings if s.key == key), None)
        if setting is None:
            report(place(key), f"`{key}`{where} is not a setting this file knows.{_did_you_mean(key, allowed)}")
            continue
        converted, message = _check_setting(setting, value, where)
        if message:
            line = place(key)
            if setting.kind == "dates" and isinstance(value, list):
                line = _line_of_bad_item(value, line, text_lines)
            report(line, message)
        else:
            values[key] = converted
    for setting in settings:
        if setting.required and setting.key not in table:
            near = " near the top of the file, before any [section]" if not where else ""
            report(place(None), f"`{setting.key}`{where} is missing. Add a line such as "
                                f"`{setting.key} = {setting.example}`{near}.")
    return values


def _line_of_bad_item(items: list, key_line: int | None, lines: list[str]) -> int | None:
    """A bad date in a list written over several lines: point at its own line when we can."""
    if key_line is None:
        return key_line
    bad = next((item for item in items if _closure_date(item) is None), None)
    if not isinstance(bad, str):
        return key_line
    for number in range(key_line, min(len(lines), key_line + len(items) + 20) + 1):
        if f'"{bad}"' in lines[number - 1] or f"'{bad}'" in lines[number - 1]:
            return number
    return key_line


def _toml_error(error: tomllib.TOMLDecodeError, text: str, lines: _KeyLines) -> tuple[int | None, str]:
    reason = str(error)
    line: int | None = None
    where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", reason)
    if where:
        line = int(where.group(1))
        reason = f"{reason[:where.start()]}, column {where.group(2)}"
    elif reason.endswith("(at end of document)"):
        reason = reason.removesuffix("(at end of document)").strip() + ", at the end of the file"
        line = max(1, len(text.splitlines()))
    if reason.startswith("Cannot overwrite a value") and lines.repeated:
        (section, _, key), (first, again) = next(iter(sorted(lines.repeated.items(), key=lambda kv: kv[1][1])))
        return again, f"`{key}` is set twice (first on line {first}). Keep one of the two lines."
    return line, (f"This is not valid TOML ({reason}). Check this line: text needs quotes, "
                  "lists need their closing bracket, and each setting is written `key = value`.")


def load_rules_text(text: str, source: str = "rules.toml") -> tuple[Rules | None, list[Problem]]:
    """Rules from the text of a rules file, or None and every problem found (with lines)."""
    problems: list[Problem] = []

    def report(line: int | None, message: str) -> None:
        problems.append(Problem(source, line, message))

    lines = _key_lines(text)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        report(*_toml_error(error, text, lines))
        return None, problems
    except RecursionError:
        report(None, "This file is nested too deeply to read. Keep settings in plain [sections].")
        return None, problems

    text_lines = text.splitlines()

    def placer(section: str = "", index: int | None = None) -> Callable[[str | None], int | None]:
        return lambda key: lines.of(section, key, index)

    top_table = {k: v for k, v in document.items() if k not in _SECTIONS and k != "assessment"}
    for key, value in list(top_table.items()):
        if isinstance(value, (dict, list)) and key not in {s.key for s in _TOP}:
            if isinstance(value, dict) or (value and all(isinstance(v, dict) for v in value)):
                del top_table[key]
                report(lines.of(key) or lines.of(key, None, 0), f"[{key}] is not a section this file knows."
                                      f"{_did_you_mean(key, [*_SECTIONS, 'assessment'])}")
    top = _read_table(top_table, _TOP, placer(), "", report, text_lines)

    sections: dict[str, dict[str, Any]] = {}
    for name, settings in _SECTIONS.items():
        if name not in document:
            sections[name] = {}
            continue
        table = document[name]
        if not isinstance(table, dict):
            report(lines.of("", name), f"`{name}` should be a section: put [{name}] on a line of its own, "
                                       "with its settings on the lines below it.")
            sections[name] = {}
            continue
        sections[name] = _read_table(table, settings, placer(name), f" in [{name}]", report, text_lines)

    assessments = _read_assessments(document.get("assessment"), lines, placer, report, text_lines)

    _check_together(document, top, sections, assessments, lines, report)
    if problems:
        return None, _sorted(problems)
    return _build_rules(top, sections, assessments), []


def _read_assessments(
    tables: Any, lines: _KeyLines, placer: Callable, report: Callable, text_lines: list[str]
) -> list[dict[str, Any]]:
    if tables is None:
        report(None, "There is no [[assessment]] section. Add one for each assessment, such as:\n"
                     '    [[assessment]]\n    slug = "accredited-assignment"\n    credit_bearing = true')
        return []
    if isinstance(tables, dict):
        report(lines.of("assessment"), "Write [[assessment]] with double square brackets: "
                                       "there is one such section for each assessment.")
        return []
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        report(lines.of("", "assessment"), "`assessment` should be written as [[assessment]] sections, "
                                           "one for each assessment.")
        return []
    read = []
    seen: dict[str, int] = {}
    for index, table in enumerate(tables):
        place = placer("assessment", index)
        values = _read_table(table, _ASSESSMENT, place, f" in [[assessment]] number {index + 1}", report, text_lines)
        slug = values.get("slug")
        if slug is not None and not _SLUG.match(slug):
            report(place("slug"), f"The slug {_shown(slug)} should be lowercase letters, digits and hyphens, "
                                  'like "accredited-assignment".')
            values.pop("slug")
        elif slug is not None and slug in seen:
            report(place("slug"), f"The assessment {_shown(slug)} is listed more than once "
                                  f"(first as number {seen[slug] + 1}). Keep one [[assessment]] for it.")
            values.pop("slug")
        elif slug is not None:
            seen[slug] = index
        read.append(values)
    return read


def _check_together(
    document: dict, top: dict, sections: dict, assessments: list, lines: _KeyLines, report: Callable
) -> None:
    """Rules that involve more than one setting, checked only when those settings are themselves valid."""
    level, days = top.get("level"), top.get("days")
    pass_mark = top.get("pass_mark")
    if level is not None and "pass_mark" not in document and not 3 <= level <= 8:
        report(lines.of("", "level"), f"There is no standard pass mark for level {level} (40 is used at levels "
                                      "3 to 6, 50 at levels 7 and 8). Add a line such as `pass_mark = 40`.")
    elif level is not None and pass_mark is None and 3 <= level <= 8:
        pass_mark = 40 if level <= 6 else 50

    attendance = sections["attendance"]
    required = attendance.get("required_days", AttendanceRules.required_days)
    raw_attendance = document.get("attendance")
    required_was_valid = "required_days" in attendance or not (
        isinstance(raw_attendance, dict) and "required_days" in raw_attendance)
    if days is not None and required_was_valid and required > days:
        line = lines.of("attendance", "required_days") if "required_days" in attendance else lines.of("", "days")
        report(line, f"`required_days` is {required}, but the course has only {days} course days (`days`). "
                     f"Set `required_days` in [attendance] to {days} or fewer.")

    lateness = sections["lateness"]
    capped = lateness.get("capped_up_to_working_days", LatenessRules.capped_up_to_working_days)
    cut_off = lateness.get("non_submission_after_working_days", LatenessRules.non_submission_after_working_days)
    either_set = "capped_up_to_working_days" in lateness or "non_submission_after_working_days" in lateness
    if capped > cut_off and either_set:
        report(lines.of("lateness", "capped_up_to_working_days"),
               f"`capped_up_to_working_days` is {capped}, more than `non_submission_after_working_days` "
               f"({cut_off}): a submission cannot be capped after it already counts as not submitted. "
               "Make the first no larger than the second.")

    band = sections["condonement"].get("band")
    if band is not None and pass_mark is not None and band > pass_mark:
        report(lines.of("condonement", "band"),
               f"`band` is {band}, more than the pass mark ({pass_mark}). Condonement covers marks just "
               "below the pass mark: set a band no larger than the pass mark.")

    credits = top.get("credits")
    if credits and assessments and all("slug" in a for a in assessments) and not any(
        a.get("credit_bearing", True) for a in assessments
    ):
        report(lines.of("assessment", None, 0),
               f"The course gives {credits} credits, but no assessment is credit-bearing. "
               "Set `credit_bearing = true` on the assessment that earns the credits.")


def _build_rules(top: dict, sections: dict, assessments: list) -> Rules:
    return Rules(
        level=top["level"],
        framework=top["framework"],
        credits=top["credits"],
        days=top["days"],
        pass_mark_setting=top.get("pass_mark"),
        assessments=tuple(AssessmentRule(**a) for a in assessments),
        attendance=AttendanceRules(**sections["attendance"]),
        attempts=AttemptRules(**sections["attempts"]),
        lateness=LatenessRules(**sections["lateness"]),
        extensions=ExtensionRules(**sections["extensions"]),
        condonement=CondonementRules(**sections["condonement"]),
        diary=DiaryRules(**sections["diary"]),
    )


def _read_text(path: str | Path, what: str) -> tuple[str | None, Problem | None]:
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        return None, Problem(str(path), None, f"The {what} could not be read ({error.strerror or error}). "
                                              "Check the path and that the file exists.")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return None, Problem(str(path), None, f"The {what} is not UTF-8 text (a byte at position {error.start} "
                                              "cannot be read). Save it with UTF-8 encoding.")


def load_rules_path(path: str | Path) -> tuple[Rules | None, list[Problem]]:
    """Rules from a rules file on disk, or None and every problem found."""
    text, problem = _read_text(path, "rules file")
    if problem:
        return None, [problem]
    return load_rules_text(text, str(path))


# --- facts (JSON)

_EXAMPLE_TIME = "2026-02-02T17:00:00+00:00"


class _FactsReader:
    """Walks a facts document, keeping every problem instead of stopping at the first."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def report(self, message: str) -> None:
        self.problems.append(Problem(self.source, None, message))

    def table(self, value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict | None:
        if not isinstance(value, dict):
            self.report(f"`{path}` should be an object (in curly brackets), not {_shown(value)}.")
            return None
        prefix = f"{path}." if path else ""
        for key in value:
            if key not in required and key not in optional:
                self.report(f"`{prefix}{key}` is not something facts may include."
                            f"{_did_you_mean(key, [*required, *optional])}")
        for key in required:
            if key not in value:
                self.report(f"`{prefix}{key}` is missing. Add it (see the facts format in the README).")
        return value

    def count(self, value: Any, path: str, example: str) -> int | None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not _is_whole(value):
            self.report(f"`{path}` should be a whole number, like {example}, not {_shown(value)}.")
            return None
        if value < 0:
            self.report(f"`{path}` is {value}, but it cannot be negative.")
            return None
        return value

    def flag(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.report(f"`{path}` should be true or false, not {_shown(value)}.")
            return None
        return value

    def moment(self, value: Any, path: str, nullable: bool = False) -> datetime | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            also = " or null" if nullable else ""
            self.report(f"`{path}` should be a date and time as text, like \"{_EXAMPLE_TIME}\"{also}, "
                        f"not {_shown(value)}.")
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.report(f"`{path}` is {_shown(value)}, which is not a date and time. "
                        f"Write it like \"{_EXAMPLE_TIME}\".")
            return None
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.report(f"`{path}` is {_shown(value)}, which has no UTC offset, so the time is ambiguous. "
                        f"Add one, like \"{_EXAMPLE_TIME}\" (+00:00 for UTC).")
            return None
        return moment

    def mark(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not _is_whole(value):
            self.report(f"`{path}` should be a whole number from 0 to 100 (or null when not yet marked), "
                        f"not {_shown(value)}.")
            return None
        if not 0 <= value <= 100:
            self.report(f"`{path}` is {value}, but a mark must be from 0 to 100.")
            return None
        return value


def parse_facts_text(text: str, source: str = "facts.json") -> tuple[Facts | None, list[Problem]]:
    """Facts from the text of a facts file (JSON), or None and every problem found."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return None, [Problem(source, error.lineno, f"This is not valid JSON ({error.msg}, column {error.colno}). "
                                                    "Check for a missing comma, quote or bracket.")]
    except (ValueError, RecursionError) as error:
        return None, [Problem(source, None, f"This JSON could not be read ({error}).")]

    reader = _FactsReader(source)
    top = reader.table(document, "", ("as_of", "attendance", "assessments"),
                       ("opted_out_of_assessment", "diary_entries", "ratified"))
    if top is None:
        reader.problems[-1] = Problem(source, None, "The facts should be a JSON object (in curly brackets) "
                                                    "with as_of, attendance and assessments.")
        return None, reader.problems

    as_of = reader.moment(top["as_of"], "as_of") if "as_of" in top else None
    attendance = _read_attendance(reader, top["attendance"]) if "attendance" in top else None
    assessments = _read_assessments_facts(reader, top["assessments"]) if "assessments" in top else None
    opted_out = reader.flag(top.get("opted_out_of_assessment", False), "opted_out_of_assessment")
    diary = reader.count(top.get("diary_entries", 0), "diary_entries", "4")
    ratified = reader.flag(top.get("ratified", False), "ratified")

    if reader.problems:
        return None, reader.problems
    return Facts(
        as_of=as_of,
        attendance=attendance,
        assessments=assessments,
        opted_out_of_assessment=opted_out,
        diary_entries=diary,
        ratified=ratified,
    ), []


def _read_attendance(reader: _FactsReader, value: Any) -> AttendanceFacts | None:
    keys = ("planned", "attended", "caught_up", "remaining")
    table = reader.table(value, "attendance", keys, ())
    if table is None:
        return None
    examples = {"planned": "11", "attended": "9", "caught_up": "0", "remaining": "0"}
    counts = {key: reader.count(table[key], f"attendance.{key}", examples[key]) for key in keys if key in table}
    if len(counts) < len(keys) or None in counts.values():
        return None
    held = counts["attended"] + counts["caught_up"] + counts["remaining"]
    if held > counts["planned"]:
        reader.report(f"`attendance`: attended ({counts['attended']}) + caught_up ({counts['caught_up']}) + "
                      f"remaining ({counts['remaining']}) come to {held}, more than the {counts['planned']} planned "
                      "course days. A caught-up day is a missed day, so it is not also counted as attended.")
        return None
    return AttendanceFacts(**counts)


def _read_assessments_facts(reader: _FactsReader, value: Any) -> dict[str, AssessmentFacts] | None:
    if not isinstance(value, dict):
        reader.report(f"`assessments` should be an object (in curly brackets) keyed by assessment slug, "
                      f"not {_shown(value)}.")
        return None
    read: dict[str, AssessmentFacts] = {}
    for slug, entry in value.items():
        path = f"assessments.{slug}"
        if not _SLUG.match(slug):
            reader.report(f"The assessment {_shown(slug)} in `assessments` should be named by its slug: "
                          'lowercase letters, digits and hyphens, like "accredited-assignment".')
            continue
        table = reader.table(entry, path, ("attempts",), ("extra_attempts_allowed",))
        if table is None or "attempts" not in table:
            continue
        extra = reader.count(table.get("extra_attempts_allowed", 0), f"{path}.extra_attempts_allowed", "1")
        attempts = table["attempts"]
        if not isinstance(attempts, list):
            reader.report(f"`{path}.attempts` should be a list (in square brackets) of attempts, "
                          f"not {_shown(attempts)}.")
            continue
        read_attempts = [_read_attempt(reader, item, f"{path}.attempts[{i}]") for i, item in enumerate(attempts)]
        if extra is not None and all(a is not None for a in read_attempts):
            read[slug] = AssessmentFacts(attempts=tuple(read_attempts), extra_attempts_allowed=extra)
    return read


def _read_attempt(reader: _FactsReader, value: Any, path: str) -> Attempt | None:
    table = reader.table(value, path, ("due", "submitted_at"), ("extension_until", "mark", "mitigation_accepted"))
    if table is None:
        return None
    before = len(reader.problems)
    due = reader.moment(table["due"], f"{path}.due") if "due" in table else None
    submitted = reader.moment(table["submitted_at"], f"{path}.submitted_at", nullable=True) \
        if "submitted_at" in table else None
    extension = reader.moment(table.get("extension_until"), f"{path}.extension_until", nullable=True)
    mark = reader.mark(table.get("mark"), f"{path}.mark")
    mitigation = reader.flag(table.get("mitigation_accepted", False), f"{path}.mitigation_accepted")
    if "submitted_at" in table and table["submitted_at"] is None and table.get("mark") is not None:
        reader.report(f"`{path}` has a mark but was not submitted (submitted_at is null). "
                      "Give the submission time, or remove the mark.")
    if due is not None and extension is not None and extension < due:
        reader.report(f"`{path}.extension_until` ({extension.isoformat()}) is before the due date "
                      f"({due.isoformat()}). An extension should be later than the due date; use null for none.")
    if len(reader.problems) > before or due is None:
        return None
    return Attempt(due=due, submitted_at=submitted, mark=mark, extension_until=extension,
                   mitigation_accepted=mitigation)


def load_facts_path(path: str | Path) -> tuple[Facts | None, list[Problem]]:
    """Facts from a facts file on disk, or None and every problem found."""
    text, problem = _read_text(path, "facts file")
    if problem:
        return None, [problem]
    return parse_facts_text(text, str(path))
