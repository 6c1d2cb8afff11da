"""Course search and day outlines: pure functions over the loaded course."""

from pathlib import Path

from lms.content import load_course
from lms.curriculum.outline import aims_markdown, first_paragraph, plain_text, section_markdown
from lms.curriculum.search import excerpt, query_words, search_course

MINI = Path(__file__).parent / "data" / "broken_courses" / "valid" / "courses" / "mini-course"
COURSE, _ = load_course(MINI)


def test_every_word_must_match_in_any_case():
    hits = search_course(COURSE, "RECOVERY words", open_days={1, 2}, facilitator=False)
    assert [(hit.day_number, hit.unit_id) for hit in hits] == [(1, "what-recovery-means")]


def test_facilitator_notes_are_searched_for_tutors_only():
    assert search_course(COURSE, "tutor-only-welcome", open_days={1, 2}, facilitator=False) == []
    [hit] = search_course(COURSE, "tutor-only-welcome", open_days={1, 2}, facilitator=True)
    assert hit.facilitator_only and hit.unit_id == "getting-to-know-each-other"


def test_days_not_open_are_searched_in_outline_only():
    # "Say your name" is in the activities of day 1, not in its aims.
    assert search_course(COURSE, "say your name", open_days={2}, facilitator=False) == []
    assert search_course(COURSE, "meet the group", open_days={2}, facilitator=False)  # an aim
    assert search_course(COURSE, "say your name", open_days={1}, facilitator=False)


def test_an_empty_query_finds_nothing():
    assert search_course(COURSE, "   ", open_days={1, 2}, facilitator=True) == []
    assert query_words("Listen listen WELL") == ["listen", "well"]


def test_excerpts_mark_the_matching_words_and_stay_short():
    text = "word " * 100 + "the active listening skills " + "more " * 100
    pieces = excerpt(text, ["listening"])
    joined = "".join(piece for piece, _ in pieces)
    assert len(joined) < 200 and joined.startswith("…") and joined.endswith("…")
    assert ("listening", True) in pieces


def test_outline_helpers():
    body = "### Aims\n- One\n- Two\n\n### Activities\nDo things.\n#### Deeper\nx"
    unit = COURSE.day(1).units[0]
    assert aims_markdown(unit) == "- Meet the group."
    assert section_markdown(body, "aims") == "- One\n- Two"
    assert section_markdown(body, "Activities") == "Do things.\n#### Deeper\nx"
    assert first_paragraph("## Heading\n\nFirst words\nrun on.\n\nSecond.") == "First words\nrun on."
    assert plain_text("**Read** [day 4](day:04#x) and `code`\n- item") == "Read day 4 and code item"
