"""Every broken course folder gives the problems it should, with file and line."""

from pathlib import Path

import pytest

from lms.content import load_course, validate_course
from lms.content.model import Band
from lms.content.validation import check_bands, key_lines, parse_band

BROKEN = Path(__file__).parent / "data" / "broken_courses"
DAY1 = "days/01-welcome.md"
DAY2 = "days/02-listening.md"
ESSAY = "../../assessments/mini-course/short-essay.md"
TASK = "../../assessments/mini-course/listening-task.md"

# case -> every problem expected, as (file, line, words the message must hold)
EXPECTED = {
    "bad-toml-course": [("course.toml", 5, "not valid TOML")],
    "bad-toml-day": [(DAY1, 3, "not valid TOML")],
    "unknown-key": [(DAY2, 9, "unknown key 'room' in the front matter")],
    "unknown-key-typo": [("course.toml", 10, "Did you mean 'awarding_body'?")],
    "missing-field": [(DAY2, 1, "'title' is missing in the front matter")],
    "wrong-type": [("course.toml", 8, "'level' should be a whole number")],
    "day-gap": [
        (DAY1, 37, "points to day 2, which does not exist"),
        ("days/03-listening.md", 2, "there is no day 2"),
    ],
    "duplicate-day": [(DAY2, 2, "day 2 is also days/02-listening-again.md")],
    "day-number-mismatch": [("days/03-listening.md", 2, "name says day 3 but its number is 2")],
    "day-count": [("course.toml", 13, "days = 3 but the days folder has 2 day files")],
    "unknown-core-area": [(DAY2, 4, "unknown core area 'listening-skills'")],
    "unknown-principle": [(DAY1, 5, "unknown principle 'hope'")],
    "unknown-outcome": [(DAY2, 9, "unknown learning outcome 'LO9'")],
    "unknown-competence": [(DAY2, 7, "unknown competence code '3.9'")],
    "uncovered-core-area": [("course.toml", 44, "no day covers the core area 'wellness-planning'")],
    "uncovered-principle": [("course.toml", 24, "no day covers the principle 'safe'")],
    "broken-link-day": [(DAY1, 37, "'day:05' points to day 5, which does not exist")],
    "broken-link-unit": [(DAY1, 37, "a unit 'hearing-well' that day 2 does not have")],
    "empty-unit": [(DAY2, 31, "the unit 'coming-soon' is empty for trainees")],
    "unit-without-id": [(DAY2, 31, "'Looking after yourself' has no id: end it with "
                                   "{#looking-after-yourself}")],
    "malformed-unit-id": [(DAY2, 31, "the unit id 'Looking_After' is not valid")],
    "duplicate-unit-id": [(DAY2, 31, "'what-recovery-means' is already used in "
                                     "days/01-welcome.md line 31")],
    "no-prompt": [(DAY1, 1, "no reflective diary prompt")],
    "too-many-prompts": [(DAY2, 40, "4 reflective diary prompts")],
    "unclosed-facilitator": [(DAY2, 40, "facilitator notes opened here are never closed")],
    "unclosed-facilitator-before-unit": [(DAY2, 27, "not closed before the next unit")],
    "lexicon-no-alternative": [("lexicon.toml", 7, "'suffering from' has no alternative")],
    "lexicon-duplicate-term": [("lexicon.toml", 7, "'Commit Suicide' is already in the lexicon")],
    "certhe-credits": [("course.toml", 11, "a Certificate of Higher Education needs 120 credits "
                                           "at Level 4")],
    "notional-hours": [("course.toml", 12, "notional_hours is 150 but 20 credits means 200 hours")],
    "rubric-weights": [(ESSAY, 13, "the rubric weights add up to 90 (60 + 30)")],
    "band-overlap": [(ESSAY, 19, "the bands '0-39' and '35-69' of criterion 'understanding' "
                                 "overlap")],
    "band-gap": [(ESSAY, 19, "no band for marks 40-44")],
    "band-malformed": [(ESSAY, 19, "the band 'forty to 69' of criterion 'understanding' is not "
                                   "a mark range")],
    "assessment-unknown-outcome": [(ESSAY, 11, "unknown learning outcome 'LO7'")],
    "missing-rubric": [(TASK, 4, "a credit-bearing assessment needs a rubric")],
    "submission-type": [(ESSAY, 8, "unknown submission type 'video'")],
    "many-problems": [
        (ESSAY, 8, "unknown submission type 'video'"),
        (ESSAY, 13, "the rubric weights add up to 90"),
        (ESSAY, 19, "'0-39' and '35-69' of criterion 'understanding' overlap"),
        ("course.toml", 11, "a Certificate of Higher Education needs 120 credits"),
        ("course.toml", 12, "notional_hours is 150"),
        (DAY1, 31, "'What recovery means' has no id"),
        (DAY1, 37, "'day:05' points to day 5"),
        (DAY2, 4, "unknown core area 'listening-skills'"),
        (DAY2, 31, "the unit 'coming-soon' is empty"),
        (DAY2, 42, "facilitator notes opened here are never closed"),
        ("lexicon.toml", 7, "'suffering from' has no alternative"),
    ],
}


def course_folder(case: str) -> Path:
    return BROKEN / case / "courses" / "mini-course"


def test_every_fixture_folder_has_expectations():
    cases = {path.name for path in BROKEN.iterdir() if path.is_dir()}
    assert cases == set(EXPECTED) | {"valid"}


def test_the_valid_minimal_course_has_no_problems():
    assert validate_course(course_folder("valid")) == []


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_broken_course_reports_each_problem_with_file_and_line(case):
    problems = validate_course(course_folder(case))

    found = [(problem.file, problem.line) for problem in problems]
    assert found == [(file, line) for file, line, _ in EXPECTED[case]], [str(p) for p in problems]
    for problem, (_, _, words) in zip(problems, EXPECTED[case]):
        assert words in problem.message, str(problem)


def test_problems_read_as_file_colon_line_colon_message():
    [problem] = validate_course(course_folder("notional-hours"))

    assert str(problem).startswith("course.toml:12: notional_hours is 150")


def test_problems_are_sorted_by_file_then_line():
    problems = validate_course(course_folder("many-problems"))

    assert problems == sorted(problems, key=lambda problem: (problem.file, problem.line or 0))


def test_the_certhe_refusal_explains_itself():
    [problem] = validate_course(course_folder("certhe-credits"))

    assert "needs 120 credits at Level 4" in problem.message
    assert "this course carries 20" in problem.message


def test_a_missing_course_toml_is_reported(tmp_path):
    (tmp_path / "days").mkdir()

    problems = validate_course(tmp_path)

    assert [(p.file, p.line) for p in problems] == [("course.toml", None)]
    assert "course.toml is missing" in problems[0].message


def test_a_folder_that_does_not_exist_is_reported(tmp_path):
    [problem] = validate_course(tmp_path / "nowhere")

    assert "there is no course folder here" in problem.message


def test_a_day_file_without_front_matter_is_reported(tmp_path):
    import shutil

    shutil.copytree(BROKEN / "valid", tmp_path / "copy")
    folder = tmp_path / "copy" / "courses" / "mini-course"
    day = folder / "days" / "02-listening.md"
    day.write_text(day.read_text().replace("+++\n", "", 1))

    problems = validate_course(folder)

    assert (DAY2, 1) in [(p.file, p.line) for p in problems]
    assert any("does not start with its front matter" in p.message for p in problems)


# --- pieces of the checks ----------------------------------------------------------

def test_key_lines_finds_keys_in_tables_arrays_and_front_matter():
    text = (
        'slug = "x"\n'
        'summary = """\n'
        'several lines\n'
        '"""\n'
        "[[rubric]]\n"
        'id = "a"\n'
        "[rubric.bands]\n"
        '"0-29" = "low"\n'
        "[[rubric]]\n"
        'id = "b"\n'
        "list = [\n"
        '  "one",\n'
        '  "two",\n'
        "]\n"
    )
    keys = key_lines(text, first_line=2)

    assert keys.line(("slug",)) == 2
    assert keys.line(("summary",)) == 3
    assert keys.line(("rubric", 0)) == 6
    assert keys.line(("rubric", 0, "bands", "0-29")) == 9
    assert keys.line(("rubric", 1, "id")) == 11
    assert keys.value_line(("rubric", 1, "list"), "two") == 14
    assert keys.line(("rubric", 1, "nothing-here")) == 10  # falls back to the table


@pytest.mark.parametrize("label, band", [
    ("0-29", Band(0, 29, "d")), ("70-100", Band(70, 100, "d")), ("70+", Band(70, 100, "d")),
    (" 40 - 49 ", Band(40, 49, "d")), ("50-40", None), ("60-101", None), ("good", None),
    ("-5-10", None),
])
def test_parse_band(label, band):
    assert parse_band(label, "d") == band


def test_bands_covering_0_to_100_are_accepted_and_sorted():
    bands, problems = check_bands({"70+": "c", "0-39": "a", "40-69": "b"}, "f", key_lines(""),
                                  ("rubric", 0, "bands"), "x")

    assert problems == []
    assert [band.label for band in bands] == ["0-39", "40-69", "70-100"]


def test_bands_stopping_short_of_100_are_reported():
    _, problems = check_bands({"0-39": "a", "40-89": "b"}, "f", key_lines(""),
                              ("rubric", 0, "bands"), "x")

    assert [p.message for p in problems] == [
        "criterion 'x' has no band for marks 90-100: the bands must cover every mark from 0 to 100."]


# --- problems that are easier to show by editing a copy of the valid course ----------

def edited_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    import shutil

    shutil.copytree(BROKEN / "valid", tmp_path / "copy")
    folder = tmp_path / "copy" / "courses" / "mini-course"
    path = folder / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return folder


def test_a_setext_heading_inside_a_unit_is_reported(tmp_path):
    folder = edited_copy(tmp_path, DAY2, "- Practise reflecting and summarising.\n",
                         "- Practise reflecting and summarising.\n\nA line\n---\n")

    [problem] = validate_course(folder)

    assert (problem.file, problem.line) == (DAY2, 18)
    assert "leave a blank line before a '---' rule" in problem.message


def test_a_top_level_heading_is_reported(tmp_path):
    folder = edited_copy(tmp_path, DAY2, "Today is about listening to understand.\n",
                         "# Listening\n\nToday is about listening to understand.\n")

    [problem] = validate_course(folder)

    assert (problem.file, problem.line) == (DAY2, 11)
    assert "'# ' headings are not used in day files" in problem.message


def test_an_unknown_block_is_reported_and_hidden(tmp_path):
    folder = edited_copy(tmp_path, DAY2, "::: facilitator\nTUTOR-ONLY-LISTENING",
                         "::: tutor\nTUTOR-ONLY-LISTENING")

    [problem] = validate_course(folder)

    assert (problem.file, problem.line) == (DAY2, 27)
    assert "unknown block '::: tutor'" in problem.message


def test_a_stray_closing_marker_is_reported(tmp_path):
    folder = edited_copy(tmp_path, DAY2, "Look back at", ":::\nLook back at")

    [problem] = validate_course(folder)

    assert (problem.file, problem.line) == (DAY2, 25)
    assert "closes nothing" in problem.message


def test_a_badly_named_day_file_is_reported(tmp_path):
    folder = edited_copy(tmp_path, "course.toml", "days = 2", "days = 2")
    (folder / DAY2).rename(folder / "days" / "2-listening.md")

    [problem] = validate_course(folder)

    assert (problem.file, problem.line) == ("days/2-listening.md", None)
    assert "like 03-strengths-spotting.md" in problem.message


def test_a_formative_task_with_a_weighting_is_reported(tmp_path):
    folder = edited_copy(tmp_path, "../../assessments/mini-course/listening-task.md",
                         "weighting = 0", "weighting = 20")

    [problem] = validate_course(folder)

    assert (problem.file, problem.line) == (TASK, 5)
    assert "set weighting = 0" in problem.message


# --- a unit's content note ---------------------------------------------------------

NOTE = "::: content-note\nThis unit talks about times we did not feel heard.\n:::\n\n"


def test_a_units_content_note_is_kept_apart_from_its_material(tmp_path):
    folder = edited_copy(tmp_path, DAY2, "## Looking after yourself {#looking-after-yourself}\n\n",
                         "## Looking after yourself {#looking-after-yourself}\n\n" + NOTE)
    course, problems = load_course(folder)
    assert problems == []
    unit = course.days[1].unit("looking-after-yourself")
    assert unit.content_note == "This unit talks about times we did not feel heard."
    assert "did not feel heard" not in unit.body_markdown and "content-note" not in unit.body_markdown
    assert course.days[1].unit("listening-well").content_note == ""


def test_two_content_notes_in_one_unit_are_reported(tmp_path):
    folder = edited_copy(tmp_path, DAY2, "### Aims\n- Notice what listening asks of you.\n",
                         NOTE + "### Aims\n- Notice what listening asks of you.\n\n" + NOTE)
    [problem] = validate_course(folder)
    assert (problem.file, problem.line) == (DAY2, 40)
    assert "already has a content note (line 33)" in problem.message


def test_an_empty_or_unclosed_content_note_is_reported(tmp_path):
    folder = edited_copy(tmp_path, DAY2, "### Aims\n- Notice what listening asks of you.\n",
                         "::: content-note\n:::\n\n### Aims\n- Notice what listening asks of you.\n")
    [problem] = validate_course(folder)
    assert (problem.file, problem.line) == (DAY2, 33) and "this content note is empty" in problem.message

    unclosed = edited_copy(tmp_path / "again", DAY2, "### Aims\n- Notice what listening asks of you.\n",
                           "::: content-note\nHeavy things.\n\n### Aims\n- Notice what listening asks of you.\n")
    problems = validate_course(unclosed)
    assert any(p.line == 43 and "opens a block inside the content note opened on line 33" in p.message
               for p in problems)


def test_a_content_note_before_the_first_unit_belongs_in_the_front_matter(tmp_path):
    folder = edited_copy(tmp_path, DAY2, "Today is about listening to understand.\n",
                         NOTE + "Today is about listening to understand.\n")
    [problem] = validate_course(folder)
    assert (problem.file, problem.line) == (DAY2, 11) and "list it in content_notes" in problem.message
