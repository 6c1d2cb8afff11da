"""Pure helpers of the assignment: words, deadlines, lateness, allocation, receipts, CSV cells, file checks."""

import io
import zipfile
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from lms.coursework import uploads
from lms.coursework.rules import (
    allocate_balanced,
    band_for_mark,
    closing_time,
    count_words,
    criterion_problem,
    csv_safe,
    cut_off_after,
    days_late,
    deadline_on,
    default_due_date,
    digest_of_text,
    effective_deadline,
    extension_until,
    format_candidate_number,
    submission_digest,
    word_count_note,
)

LONDON = ZoneInfo("Europe/London")


def test_count_words():
    assert count_words("") == 0 and count_words(None) == 0
    assert count_words("  Peer   support\nis mutual. ") == 4
    assert count_words("strengths-based, recovery-focused") == 2


def test_word_count_note_only_outside_the_range():
    assert word_count_note(2500, 2500, 10) is None
    assert word_count_note(2250, 2500, 10) is None and word_count_note(2750, 2500, 10) is None
    assert word_count_note(2249, 2500, 10) == (
        "Your text has 2,249 words. The brief asks for 2,500 words, so between 2,250 and 2,750.")
    assert word_count_note(10, None, 10) is None


def test_deadlines_fall_at_5pm_uk_time_in_summer_and_winter():
    summer, winter = deadline_on(date(2026, 7, 3)), deadline_on(date(2026, 12, 4))
    assert summer.tzinfo == timezone.utc and summer.time() == time(16, 0)
    assert winter.time() == time(17, 0)
    assert summer.astimezone(LONDON).time() == time(17, 0)


def test_default_due_date_is_weeks_after_the_last_day():
    assert default_due_date(date(2026, 3, 5), 4) == date(2026, 4, 2)


def test_cut_off_counts_working_days_and_keeps_the_time():
    due = deadline_on(date(2026, 3, 6))  # a Friday
    assert cut_off_after(due, 5).astimezone(LONDON) == datetime(2026, 3, 13, 17, 0, tzinfo=LONDON)
    assert cut_off_after(due, 1).astimezone(LONDON).date() == date(2026, 3, 9)  # Monday
    # Closure dates (a bank holiday Monday) are skipped too.
    assert cut_off_after(due, 1, closures={date(2026, 3, 9)}).astimezone(LONDON).date() == date(2026, 3, 10)


def test_cut_off_across_the_clocks_changing_stays_at_5pm_local():
    due = deadline_on(date(2026, 3, 27))  # Friday before the clocks go forward
    assert cut_off_after(due, 1).astimezone(LONDON).time() == time(17, 0)


def test_lateness_counts_working_days_from_the_deadline():
    due = deadline_on(date(2026, 3, 6))  # Friday 5pm
    assert days_late(due, due) == 0
    assert days_late(due, datetime(2026, 3, 6, 18, 0, tzinfo=LONDON)) == 1  # same evening: at least 1
    assert days_late(due, datetime(2026, 3, 8, 12, 0, tzinfo=LONDON)) == 1  # Sunday
    assert days_late(due, datetime(2026, 3, 10, 9, 0, tzinfo=LONDON)) == 2  # Tuesday


def test_an_extension_moves_the_deadline_and_can_reach_past_the_cut_off():
    due = deadline_on(date(2026, 3, 6))
    cut_off = cut_off_after(due, 5)
    extended = extension_until(due, 10)
    assert extended.astimezone(LONDON).date() == date(2026, 3, 20)
    assert effective_deadline(due, extended) == extended
    assert effective_deadline(due, None) == due
    assert effective_deadline(due, due.replace(day=1)) == due  # an "extension" before the due date is ignored
    assert closing_time(due, cut_off, None, 5) == cut_off
    assert closing_time(due, cut_off, extended, 5).astimezone(LONDON).date() == date(2026, 3, 27)
    short = extension_until(due, 1)
    assert closing_time(due, cut_off, short, 5).astimezone(LONDON).date() == date(2026, 3, 16)


def test_allocation_is_balanced_and_counts_existing_loads():
    allocation = allocate_balanced([1, 2, 3, 4, 5], ["a", "b"])
    assert allocation == {1: "a", 2: "b", 3: "a", 4: "b", 5: "a"}
    allocation = allocate_balanced([1, 2, 3], ["a", "b"], current_loads={"a": 3})
    assert list(allocation.values()) == ["b", "b", "b"]
    many = allocate_balanced(list(range(200)), ["a", "b", "c"])
    counts = sorted(list(many.values()).count(m) for m in "abc")
    assert counts[-1] - counts[0] <= 1


def test_allocation_never_gives_a_script_to_an_excluded_marker():
    allocation = allocate_balanced([1, 2, 3], ["a", "b"], exclude={1: {"a"}, 2: {"a"}, 3: {"a", "b"}})
    assert allocation == {1: "b", 2: "b"}


def test_the_receipt_digest_covers_text_and_files_in_any_order():
    files = [("a.pdf", "1" * 64), ("b.docx", "2" * 64)]
    digest = submission_digest("My essay", files)
    assert len(digest) == 64 and digest == submission_digest("My essay", list(reversed(files)))
    assert digest != submission_digest("My essay.", files)
    assert digest != submission_digest("My essay", files[:1])
    assert digest_of_text("a\r\nb") == digest_of_text("a\nb")


@pytest.mark.parametrize(("value", "cell"), [
    ("=SUM(A1)", "'=SUM(A1)"), ("+44 7700", "'+44 7700"), ("-1", "'-1"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("Maya Patel", "Maya Patel"), (58, "58"), (None, ""), (True, "yes"), ("C-4821", "C-4821"),
])
def test_csv_cells_are_safe_from_formula_injection(value, cell):
    assert csv_safe(value) == cell


def test_candidate_numbers():
    assert format_candidate_number(4821) == "C-4821"
    assert format_candidate_number(12) == "C-0012"


def test_a_criterion_needs_a_band_and_a_mark_inside_it():
    bands = [(0, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 100)]
    assert band_for_mark(bands, 64) == (60, 69)
    assert criterion_problem(bands, "60-69", "64") is None
    assert "not in the band 70–100" in criterion_problem(bands, "70-100", "64")
    assert "Choose the band" in criterion_problem(bands, None, "64")
    assert "101 is not a mark" in criterion_problem(bands, "70-100", "101")
    assert "whole number" in criterion_problem(bands, "60-69", "")
    assert "one of the bands" in criterion_problem(bands, "65-70", "66")


# --- files: checked by their content -------------------------------------------------------------


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def zipped(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_content_kinds(tmp_path):
    cases = {
        "pdf": b"%PDF-1.7\n...",
        "docx": zipped({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"}),
        "odt": zipped({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"}),
        "active": b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>",
        None: b"just some words",
    }
    for kind, data in cases.items():
        assert uploads.content_kind(write(tmp_path, "f", data), data[:2048]) == kind
    spreadsheet = zipped({"mimetype": "application/vnd.oasis.opendocument.spreadsheet"})
    assert uploads.content_kind(write(tmp_path, "s", spreadsheet), spreadsheet[:2048]) is None
    broken = b"PK\x03\x04 not really a zip"
    assert uploads.content_kind(write(tmp_path, "b", broken), broken) is None


def test_words_are_counted_in_word_and_opendocument_files(tmp_path):
    docx = zipped({"[Content_Types].xml": "<Types/>", "word/document.xml":
                   "<w:document><w:p><w:r><w:t>Peer sup</w:t></w:r><w:r><w:t>port is</w:t></w:r></w:p>"
                   "<w:p><w:r><w:t>mutual &amp; kind</w:t></w:r></w:p></w:document>"})
    assert uploads.file_word_count(write(tmp_path, "d", docx), "docx") == 6  # "&" counts, as in Word
    odt = zipped({"mimetype": "application/vnd.oasis.opendocument.text",
                  "content.xml": "<text:p>One two</text:p><text:p>three<text:s/>four</text:p>"})
    assert uploads.file_word_count(write(tmp_path, "o", odt), "odt") == 4
    assert uploads.file_word_count(write(tmp_path, "p", b"%PDF-"), "pdf") is None


@pytest.mark.parametrize("name", ["../essay.pdf", "a/b.pdf", "a\\b.pdf", "essay\x00.pdf", "tab\there.pdf",
                                  ".hidden.pdf", "x" * 201 + ".pdf", "", "   "])
def test_unsafe_file_names_are_refused(name):
    assert uploads.filename_problem(name)


@pytest.mark.parametrize("name", ["essay.pdf", "My assignment (final).docx", "Café notes.odt"])
def test_ordinary_file_names_are_fine(name):
    assert uploads.filename_problem(name) is None


def test_sizes_are_described_plainly():
    assert uploads.describe_size(20 * 1024 * 1024) == "20 MB"
    assert uploads.describe_size(1536 * 1024) == "1.5 MB"
    assert uploads.describe_size(300 * 1024) == "300 KB"
