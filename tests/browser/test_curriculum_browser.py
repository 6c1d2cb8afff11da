"""In a real browser: a trainee reads a course day and marks a unit done; a tutor sees
facilitator notes that a trainee does not. Every page visited is checked with axe."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, sign_in, sign_out

PROGRESS = re.compile(r"(\d+) of (\d+) units done")


def units_done(page, selector: str) -> tuple[int, int]:
    match = PROGRESS.search(page.locator(selector).inner_text())
    assert match, page.locator(selector).inner_text()
    return int(match.group(1)), int(match.group(2))


def test_a_trainee_opens_a_day_reads_a_unit_and_marks_it_done(page):
    sign_in(page, "trainee3@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Course").click()
    page.wait_for_url("**/cohorts/demo-running/course")
    check_accessibility(page)
    overall_before, total = units_done(page, "#overall-progress")

    page.get_by_role("link", name=re.compile(r"^Day 2: ")).click()
    page.wait_for_url("**/cohorts/demo-running/course/days/2")
    check_accessibility(page)
    expect(page.get_by_role("heading", name="Before you start: content note")).to_be_visible()
    page.get_by_role("link", name="Continue to the day's material").click()
    first_unit = page.locator("section.unit").first
    title = first_unit.get_by_role("heading", level=2).inner_text()
    expect(first_unit.locator(".prose")).to_contain_text("Aims")
    day_before, day_total = units_done(page, "#day-progress")

    first_unit.get_by_role("button", name=f"Mark as done: {title}").click()

    page.wait_for_url(re.compile(r"/days/2#"))
    expect(page.get_by_role("status")).to_contain_text(f"“{title}” is marked as done.")
    assert units_done(page, "#day-progress") == (day_before + 1, day_total)
    undo = page.locator("section.unit").first.get_by_role("button", name=re.compile("^Done ✓ — mark as not done"))
    expect(undo).to_be_visible()
    check_accessibility(page)

    page.get_by_role("link", name="All course days").click()
    assert units_done(page, "#overall-progress") == (overall_before + 1, total)

    page.get_by_role("link", name="Search the course").click()
    page.get_by_label("Words to look for").fill("open questions")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("result"))).to_be_visible()
    check_accessibility(page)


def test_a_tutor_sees_facilitator_notes_that_a_trainee_does_not(page):
    sign_in(page, "tutor1@example.org")
    page.goto("/cohorts/demo-running/course/days/3")
    check_accessibility(page)
    notes = page.get_by_role("complementary", name="Facilitator notes — tutors only")
    expect(notes.first).to_be_visible()
    assert notes.count() >= 6
    fragment = notes.first.locator("p").first.inner_text()[:60]
    assert fragment

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    page.get_by_role("link", name=re.compile("running")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("day 7")
    check_accessibility(page)
    page.get_by_role("link", name="Trainees' progress").click()
    expect(page.get_by_role("table")).to_be_visible()
    check_accessibility(page)
    # Unit by unit: a trainee's details open from the keyboard.
    summary = page.locator("details.unit-by-unit summary").first
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("details.unit-by-unit").first.get_by_text("Day 1:", exact=False).first).to_be_visible()
    check_accessibility(page)
    sign_out(page)

    sign_in(page, "trainee4@example.org")
    page.goto("/cohorts/demo-running/course/days/3")
    check_accessibility(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Day 3")
    expect(page.get_by_text("Facilitator notes")).to_have_count(0)
    assert fragment not in page.content()
