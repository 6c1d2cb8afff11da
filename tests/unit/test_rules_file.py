"""Reading rules (TOML) and facts (JSON): every problem listed, none raised."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.progress.rules import AssessmentRule, Rules, evaluate
from lms.progress.rules_file import Problem, load_rules_path, load_rules_text, parse_facts_text

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RULES = ROOT / "assessments" / "peer-support-l4" / "rules.toml"
DATA = Path(__file__).parent / "data"

MINIMAL = """\
level = 4
framework = "FHEQ"
credits = 20
days = 11

[[assessment]]
slug = "accredited-assignment"
"""

EXAMPLE_FACTS = (DATA / "facts" / "example.json").read_text(encoding="utf-8")


def problems_of(text: str) -> list[Problem]:
    rules, problems = load_rules_text(text)
    assert (rules is None) == bool(problems)
    return problems


def messages(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def lines(problems: list[Problem]) -> list[int | None]:
    return [p.line for p in problems]


# --- the course's own rules file


def test_default_rules_file_loads_with_no_problems():
    rules, problems = load_rules_path(DEFAULT_RULES)
    assert problems == []
    assert isinstance(rules, Rules)
    assert (rules.level, rules.framework, rules.credits, rules.days) == (4, "FHEQ", 20, 11)
    assert rules.pass_mark == 40
    assert rules.notional_hours == 200
    assert rules.attendance.required_days == 9
    assert rules.attendance.max_catch_up_days == 2
    assert rules.attendance.absent_if_minutes_missed_over == 60
    assert (rules.attempts.max_attempts, rules.attempts.referral_cap) == (2, True)
    assert rules.lateness.capped_up_to_working_days == 5
    assert rules.lateness.non_submission_after_working_days == 5
    assert rules.lateness.late_second_attempt_scores_zero is True
    assert date(2026, 12, 25) in rules.lateness.closure_dates
    assert rules.extensions.max_working_days == 10
    assert (rules.condonement.enabled, rules.condonement.band) == (False, 5)
    assert rules.diary.entries_required == 0
    assert rules.assessments == (AssessmentRule(slug="accredited-assignment", credit_bearing=True,
                                                title="accredited assignment"),)


def test_default_rules_with_example_facts_give_credit():
    rules, _ = load_rules_path(DEFAULT_RULES)
    facts, problems = parse_facts_text(EXAMPLE_FACTS)
    assert problems == []
    assert evaluate(rules, facts).award.value == "credit"


def test_minimal_file_takes_the_defaults():
    rules, problems = load_rules_text(MINIMAL)
    assert problems == []
    assert rules.pass_mark == 40
    assert rules.attendance.required_days == 9
    assert rules.lateness.closure_dates == frozenset()


def test_pass_mark_derived_at_level_7():
    rules, problems = load_rules_text(MINIMAL.replace("level = 4", "level = 7"))
    assert problems == [] and rules.pass_mark == 50


def test_closure_dates_may_be_toml_dates_or_strings():
    text = MINIMAL + "\n[lateness]\nclosure_dates = [2026-12-25, \"2026-12-28\"]\n"
    rules, problems = load_rules_text(text)
    assert problems == []
    assert rules.lateness.closure_dates == frozenset({date(2026, 12, 25), date(2026, 12, 28)})


def test_dotted_and_inline_tables_are_read():
    text = MINIMAL.replace("days = 11\n", "days = 11\nattendance.required_days = 8\ncondonement = {enabled = true}\n")
    rules, problems = load_rules_text(text)
    assert problems == []
    assert rules.attendance.required_days == 8
    assert rules.condonement.enabled is True


# --- bad rules: every problem, with its line


def test_every_problem_in_a_bad_file_is_listed_with_its_line():
    path = DATA / "rules" / "many-problems.toml"
    rules, problems = load_rules_path(path)
    assert rules is None
    assert lines(problems) == [5, 9, 10, 14, 21, 25]
    assert all(p.file == str(path) for p in problems)
    text = messages(problems)
    assert "pass_mark" in text and "from 0 to 100" in text
    assert "required_days" in text and "only 11 course days" in text
    assert "max_catch_up_days" in text and "cannot be negative" in text
    assert "max_attempts" in text and "whole number" in text
    assert "25/12/2026" in text and "YYYY-MM-DD" in text
    assert "bandwidth" in text and "Did you mean `band`?" in text


def test_unknown_top_level_key():
    problems = problems_of(MINIMAL.replace("credits = 20", "credits = 20\npass_marks = 40"))
    assert lines(problems) == [4]
    assert "`pass_marks` is not a setting" in str(problems[0])
    assert "Did you mean `pass_mark`?" in str(problems[0])


def test_unknown_section():
    problems = problems_of(MINIMAL + "\n[late]\ncapped_up_to_working_days = 5\n")
    assert lines(problems) == [9]
    assert "[late]" in problems[0].message and "lateness" in problems[0].message


def test_unknown_key_in_assessment():
    problems = problems_of(MINIMAL + "weight = 100\n")
    assert lines(problems) == [8]
    assert "`weight`" in problems[0].message


@pytest.mark.parametrize(("value", "ok"), [("0", True), ("100", True), ("-1", False), ("101", False)])
def test_pass_mark_must_be_from_0_to_100(value, ok):
    problems = problems_of(MINIMAL.replace("days = 11", f"days = 11\npass_mark = {value}"))
    assert (problems == []) is ok
    if not ok:
        assert lines(problems) == [5]
        assert "from 0 to 100" in problems[0].message


@pytest.mark.parametrize(("required", "ok"), [(11, True), (12, False)])
def test_attendance_required_cannot_be_above_the_number_of_days(required, ok):
    problems = problems_of(MINIMAL + f"\n[attendance]\nrequired_days = {required}\n")
    assert (problems == []) is ok
    if not ok:
        assert lines(problems) == [10]
        assert "12" in problems[0].message and "11" in problems[0].message


def test_negative_values_are_each_reported():
    text = MINIMAL.replace("credits = 20", "credits = -20") + (
        "\n[attendance]\nmax_catch_up_days = -2\n"
        "\n[extensions]\nmax_working_days = -10\n"
        "\n[diary]\nentries_required = -1\n"
    )
    problems = problems_of(text)
    assert lines(problems) == [3, 10, 13, 16]
    assert all("negative" in p.message for p in problems)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param('credits = "twenty"', "whole number", id="string-for-number"),
        pytest.param("credits = 20.5", "whole number", id="float-for-number"),
        pytest.param("credits = true", "whole number", id="bool-for-number"),
        pytest.param("framework = 4", "text", id="number-for-text"),
    ],
)
def test_wrong_types_at_the_top(line, expected):
    key = line.split(" =")[0]
    text = "\n".join(line if row.startswith(key + " ") else row for row in MINIMAL.splitlines())
    problems = problems_of(text)
    assert len(problems) == 1
    assert expected in problems[0].message and f"`{key}`" in problems[0].message


def test_wrong_types_in_sections():
    text = MINIMAL + (
        '\n[attempts]\nreferral_cap = "yes"\n'
        "\n[lateness]\nclosure_dates = \"2026-12-25\"\n"
    )
    problems = problems_of(text)
    assert lines(problems) == [10, 13]
    assert "true or false" in problems[0].message
    assert "list of dates" in problems[1].message


def test_section_given_as_a_value_is_a_problem():
    problems = problems_of(MINIMAL.replace("days = 11", "days = 11\nattendance = 9"))
    assert lines(problems) == [5]
    assert "[attendance]" in problems[0].message


def test_missing_keys_are_each_reported():
    problems = problems_of('framework = "FHEQ"\n')
    text = messages(problems)
    for key in ("level", "credits", "days"):
        assert f"`{key}` is missing" in text
    assert "[[assessment]]" in text


def test_assessment_without_slug_and_duplicate_slug():
    text = MINIMAL + '\n[[assessment]]\ncredit_bearing = false\n\n[[assessment]]\nslug = "accredited-assignment"\n'
    problems = problems_of(text)
    assert lines(problems) == [9, 13]
    assert "`slug` in [[assessment]] number 2 is missing" in problems[0].message
    assert "more than once" in problems[1].message


def test_bad_slug():
    problems = problems_of(MINIMAL.replace('"accredited-assignment"', '"Accredited Assignment"'))
    assert lines(problems) == [7]
    assert "lowercase" in problems[0].message


def test_level_without_a_standard_pass_mark_needs_one():
    problems = problems_of(MINIMAL.replace("level = 4", "level = 2"))
    assert lines(problems) == [1]
    assert "pass_mark" in problems[0].message
    rules, fixed = load_rules_text(MINIMAL.replace("level = 4", "level = 2\npass_mark = 40"))
    assert fixed == [] and rules.pass_mark == 40


def test_level_out_of_range():
    problems = problems_of(MINIMAL.replace("level = 4", "level = 0"))
    assert lines(problems) == [1]


def test_condonement_band_larger_than_the_pass_mark():
    problems = problems_of(MINIMAL + "\n[condonement]\nenabled = true\nband = 41\n")
    assert lines(problems) == [11]
    assert "band" in problems[0].message


def test_capped_window_longer_than_non_submission_window():
    text = MINIMAL + "\n[lateness]\ncapped_up_to_working_days = 6\nnon_submission_after_working_days = 5\n"
    problems = problems_of(text)
    assert lines(problems) == [10]


def test_no_credit_bearing_assessment_for_a_credit_course():
    problems = problems_of(MINIMAL + "credit_bearing = false\n")
    assert "credit-bearing" in messages(problems)


def test_toml_syntax_error_gives_its_line():
    problems = problems_of(MINIMAL.replace("credits = 20", "credits = "))
    assert lines(problems) == [3]
    assert "TOML" in problems[0].message


def test_toml_syntax_error_at_end_of_document():
    problems = problems_of(MINIMAL + "closure_dates = [\n")
    assert len(problems) == 1
    assert "TOML" in problems[0].message


def test_missing_file_is_a_problem_not_an_exception(tmp_path):
    rules, problems = load_rules_path(tmp_path / "nowhere.toml")
    assert rules is None
    assert len(problems) == 1 and "could not be read" in problems[0].message


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_bytes(b"level = 4\nframework = \"\xff\"\n")
    rules, problems = load_rules_path(path)
    assert rules is None and "UTF-8" in problems[0].message


def test_problem_prints_as_file_line_message():
    assert str(Problem("rules.toml", 5, "Something is wrong.")) == "rules.toml:5: Something is wrong."
    assert str(Problem("facts.json", None, "Something is wrong.")) == "facts.json: Something is wrong."


def test_problems_name_the_source_given():
    problems = load_rules_text("level = ", source="assessments/x/rules.toml")[1]
    assert str(problems[0]).startswith("assessments/x/rules.toml:1: ")


# --- facts


def facts_problems(value) -> list[Problem]:
    text = value if isinstance(value, str) else json.dumps(value)
    facts, problems = parse_facts_text(text)
    assert (facts is None) == bool(problems)
    return problems


def example() -> dict:
    return json.loads(EXAMPLE_FACTS)


def first_attempt(value: dict) -> dict:
    return value["assessments"]["accredited-assignment"]["attempts"][0]


def test_example_facts_parse():
    facts, problems = parse_facts_text(EXAMPLE_FACTS)
    assert problems == []
    assert facts.as_of == datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    assert (facts.attendance.planned, facts.attendance.attended) == (11, 10)
    attempt = facts.assessments["accredited-assignment"].attempts[0]
    assert attempt.mark == 65 and attempt.extension_until is None and attempt.mitigation_accepted is False
    assert facts.diary_entries == 4 and facts.ratified is False


def test_optional_facts_take_defaults():
    value = example()
    for key in ("opted_out_of_assessment", "diary_entries", "ratified"):
        del value[key]
    for key in ("extension_until", "mark", "mitigation_accepted"):
        del first_attempt(value)[key]
    facts, problems = parse_facts_text(json.dumps(value))
    assert problems == []
    assert facts.diary_entries == 0 and facts.assessments["accredited-assignment"].attempts[0].mark is None


def test_utc_z_suffix_is_accepted():
    value = example()
    value["as_of"] = "2026-03-01T12:00:00Z"
    assert facts_problems(value) == []


def test_unreadable_json_gives_its_line():
    problems = facts_problems('{"as_of": "2026-03-01T12:00:00+00:00",\n "attendance": {,}\n}')
    assert lines(problems) == [2]
    assert "not valid JSON" in problems[0].message


def test_empty_text_is_unreadable():
    assert "not valid JSON" in facts_problems("")[0].message


def test_top_level_must_be_an_object():
    problems = facts_problems("[1, 2]")
    assert len(problems) == 1 and "object" in problems[0].message


def test_every_problem_in_bad_facts_is_listed():
    problems = facts_problems((DATA / "facts" / "many-problems.json").read_text(encoding="utf-8"))
    text = messages(problems)
    assert "as_of" in text and "UTC offset" in text
    assert "attendance.remaining" in text and "negative" in text
    assert "attempts[0].due" in text and "2 February 2026" in text
    assert "attempts[0].mark" in text and "from 0 to 100" in text
    assert "mitigation_accepted" in text and "true or false" in text
    assert "ratifed" in text and "Did you mean `ratified`?" in text
    assert len(problems) >= 6


def test_missing_keys_are_each_listed():
    value = example()
    del value["as_of"]
    del value["attendance"]["planned"]
    del first_attempt(value)["due"]
    del first_attempt(value)["submitted_at"]
    text = messages(facts_problems(value))
    for path in ("`as_of`", "`attendance.planned`", "attempts[0].due`", "attempts[0].submitted_at`"):
        assert path in text
    assert text.count("is missing") == 4


def test_missing_sections():
    text = messages(facts_problems({"as_of": "2026-03-01T12:00:00+00:00"}))
    assert "`attendance` is missing" in text and "`assessments` is missing" in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(lambda v: v["attendance"].update(planned="eleven"), "whole number", id="string-count"),
        pytest.param(lambda v: v["attendance"].update(attended=9.5), "whole number", id="fractional-count"),
        pytest.param(lambda v: v["attendance"].update(planned=True), "whole number", id="bool-count"),
        pytest.param(lambda v: v.update(ratified="no"), "true or false", id="string-bool"),
        pytest.param(lambda v: v.update(attendance=[11, 10]), "object", id="list-for-object"),
        pytest.param(lambda v: v["assessments"]["accredited-assignment"].update(attempts={}),
                     "list", id="object-for-list"),
        pytest.param(lambda v: v["assessments"]["accredited-assignment"]["attempts"].append(3),
                     "object", id="number-for-attempt"),
        pytest.param(lambda v: first_attempt(v).update(mark="65"), "whole number", id="string-mark"),
        pytest.param(lambda v: first_attempt(v).update(due=20260202), "date and time", id="number-for-date"),
        pytest.param(lambda v: v.update(as_of="yesterday"), "not a date and time", id="unparseable-date"),
    ],
)
def test_wrong_types(change, expected):
    value = example()
    change(value)
    problems = facts_problems(value)
    assert len(problems) == 1
    assert expected in problems[0].message


@pytest.mark.parametrize("field", ["as_of", "due", "submitted_at", "extension_until"])
def test_dates_without_an_offset(field):
    value = example()
    target = value if field == "as_of" else first_attempt(value)
    target[field] = "2026-02-02T17:00:00"
    problems = facts_problems(value)
    assert len(problems) == 1
    assert "UTC offset" in problems[0].message and "+00:00" in problems[0].message


@pytest.mark.parametrize(("mark", "ok"), [(0, True), (100, True), (-1, False), (101, False), (65.0, True)])
def test_marks_from_0_to_100(mark, ok):
    value = example()
    first_attempt(value)["mark"] = mark
    problems = facts_problems(value)
    assert (problems == []) is ok
    if not ok:
        assert "from 0 to 100" in problems[0].message


@pytest.mark.parametrize(
    ("attended", "caught_up", "remaining", "ok"),
    [(11, 0, 0, True), (12, 0, 0, False), (9, 2, 0, True), (9, 2, 1, False), (5, 0, 6, True), (5, 1, 6, False)],
)
def test_attended_caught_up_and_remaining_cannot_exceed_planned(attended, caught_up, remaining, ok):
    value = example()
    value["attendance"] = {"planned": 11, "attended": attended, "caught_up": caught_up, "remaining": remaining}
    problems = facts_problems(value)
    assert (problems == []) is ok
    if not ok:
        assert "more than the 11 planned" in problems[0].message


def test_negative_counts():
    value = example()
    value["attendance"]["attended"] = -1
    value["diary_entries"] = -3
    problems = facts_problems(value)
    assert len(problems) == 2
    assert all("negative" in p.message for p in problems)


def test_mark_for_an_attempt_not_submitted():
    value = example()
    first_attempt(value)["submitted_at"] = None
    problems = facts_problems(value)
    assert len(problems) == 1 and "not submitted" in problems[0].message


def test_extension_before_the_due_date():
    value = example()
    first_attempt(value)["extension_until"] = "2026-02-01T17:00:00+00:00"
    problems = facts_problems(value)
    assert len(problems) == 1 and "before" in problems[0].message


def test_unknown_key_in_an_attempt():
    value = example()
    first_attempt(value)["submited_at"] = first_attempt(value).pop("submitted_at")
    text = messages(facts_problems(value))
    assert "submited_at` is not" in text and "Did you mean `submitted_at`?" in text
    assert "submitted_at` is missing" in text


def test_assessment_slug_must_be_a_slug():
    value = example()
    value["assessments"]["Accredited Assignment"] = {"attempts": []}
    problems = facts_problems(value)
    assert len(problems) == 1 and "Accredited Assignment" in problems[0].message


def test_facts_problems_use_the_source_name():
    _, problems = parse_facts_text("{", source="trainee-7.json")
    assert str(problems[0]).startswith("trainee-7.json:1: ")


# --- nothing escapes


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30) | st.sampled_from(["2026-02-02T17:00:00+00:00", "2026-02-02T17:00:00", "1e400"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["as_of", "attendance", "planned", "attended", "caught_up", "remaining",
                         "assessments", "attempts", "due", "submitted_at", "mark", "extension_until",
                         "mitigation_accepted", "accredited-assignment", "ratified", "x"]),
        inner, max_size=6),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_any_json_gives_facts_or_problems_never_an_exception(value):
    facts, problems = parse_facts_text(json.dumps(value))
    assert (facts is None) == bool(problems)


def _mutations():
    leaves = st.none() | st.booleans() | st.integers(-3, 120) | st.text(max_size=10) | st.just([]) | st.just({})
    return st.tuples(st.sampled_from([
        ("as_of",), ("attendance", "planned"), ("attendance", "attended"), ("attendance", "remaining"),
        ("assessments", "accredited-assignment", "attempts", 0, "due"),
        ("assessments", "accredited-assignment", "attempts", 0, "mark"),
        ("assessments", "accredited-assignment", "attempts", 0, "submitted_at"),
        ("assessments", "accredited-assignment", "attempts", 0, "extension_until"),
        ("assessments", "accredited-assignment", "attempts"), ("assessments",), ("diary_entries",),
    ]), leaves)


@settings(max_examples=300, deadline=None)
@given(st.lists(_mutations(), min_size=1, max_size=4))
def test_mutated_example_gives_facts_or_problems_never_an_exception(changes):
    value = example()
    for path, leaf in changes:
        target = value
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = leaf
        except (KeyError, IndexError, TypeError):
            continue
    facts, problems = parse_facts_text(json.dumps(value))
    assert (facts is None) == bool(problems)
    if facts is not None:
        rules, _ = load_rules_path(DEFAULT_RULES)
        evaluate(rules, facts)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]=\"' \n#.abcdelmnprsty_0123456789-")), max_size=120))
def test_any_toml_text_gives_rules_or_problems_never_an_exception(text):
    rules, problems = load_rules_text(text)
    assert (rules is None) == bool(problems)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["level", "credits", "days", "pass_mark", "required_days", "max_attempts",
                        "band", "max_working_days", "closure_dates", "slug", "enabled"]),
       st.sampled_from(["-1", "0", "1", "999", "true", '"x"', "[]", "{}", "1.5", "2026-12-25", '["2026-13-40"]']))
def test_any_value_in_the_default_file_gives_rules_or_problems(key, value):
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    changed = "\n".join(
        f"{key} = {value}" if row.split("=")[0].strip() == key else row for row in text.splitlines()
    )
    rules, problems = load_rules_text(changed)
    assert (rules is None) == bool(problems)


def test_single_bracket_assessment_section():
    problems = problems_of(MINIMAL.replace("[[assessment]]", "[assessment]"))
    assert lines(problems) == [6]
    assert "[[assessment]]" in problems[0].message


def test_key_set_twice_points_at_the_second_line():
    problems = problems_of(MINIMAL.replace("days = 11", "days = 11\ndays = 12"))
    assert lines(problems) == [5]
    assert "set twice (first on line 4)" in problems[0].message


def test_bad_date_in_a_list_over_several_lines_points_at_its_own_line():
    text = MINIMAL + '\n[lateness]\nclosure_dates = [\n  "2026-12-25",\n  "2026-12-32",\n]\n'
    problems = problems_of(text)
    assert lines(problems) == [12]
    assert "2026-12-32" in problems[0].message


def test_date_and_time_is_not_a_closure_date():
    problems = problems_of(MINIMAL + "\n[lateness]\nclosure_dates = [2026-12-25T09:00:00]\n")
    assert lines(problems) == [10]


def test_unknown_sub_section_points_at_its_header():
    problems = problems_of(MINIMAL.replace("[[assessment]]", "[attendance.extra]\nx = 1\n\n[[assessment]]"))
    assert lines(problems) == [6]
