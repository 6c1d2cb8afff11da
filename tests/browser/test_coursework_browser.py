"""In a real browser: a trainee submits text and a file and gets a receipt; a tutor marks with the rubric;
a second marker moderates; after release the trainee reads their mark and feedback. axe checks every page.

The journey uses a cohort and people of its own, so the shared demo stays as other tests expect it.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import check_accessibility, sign_in, sign_out

PASSWORD = "coursework-browser-pass"
TRAINEE = ("cw.trainee@example.org", "Sol Rivers")
TUTOR = ("cw.tutor@example.org", "Bea Lund")
SECOND = ("cw.academic@example.org", "Kit Moreno")
WRITER = ("cw.writer@example.org", "Ari Penn")  # signed out while writing (a test of their own)
SLUG = "coursework-browser"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ESSAY = ("Peer support is a relationship between equals. On the course I learned to notice strengths, "
         "to listen without fixing, and to share my own story only when it helps.")


@pytest.fixture(scope="module")
def journey(live_server):
    """A cohort six weeks into its eleven days, with a trainee, a lead tutor and an academic supervisor."""
    from lms.accounts import services as accounts
    from lms.authz.roles import Role
    from lms.cohorts.models import Cohort, CourseDay, Enrolment
    from lms.extensions import db

    app = live_server.app
    with app.app_context():
        # The live database is built by the migrations; make any coursework tables they don't have yet.
        db.create_all()
        cohort = db.session.execute(select(Cohort).where(Cohort.slug == SLUG)).scalar_one_or_none()
        if cohort is None:
            start = date.today() - timedelta(weeks=6)
            cohort = Cohort(slug=SLUG, name="Coursework journey cohort", course_slug="peer-support-l4",
                            start_date=start, status="running")
            cohort.days = [CourseDay(number=n + 1, date=start + timedelta(weeks=n), starts_at=time(9, 30),
                                     ends_at=time(16, 0)) for n in range(11)]
            db.session.add(cohort)
            db.session.flush()
            people = {}
            for email, name in (TRAINEE, TUTOR, SECOND):
                people[email] = accounts.find_by_email(email) or accounts.create_user(email, name, PASSWORD)
            accounts.grant_role(people[TRAINEE[0]], Role.TRAINEE, cohort.id)
            accounts.grant_role(people[TUTOR[0]], Role.TUTOR, cohort.id).lead = True
            accounts.grant_role(people[SECOND[0]], Role.ACADEMIC_SUPERVISOR, cohort.id)
            db.session.add(Enrolment(cohort=cohort, trainee=people[TRAINEE[0]],
                                     academic_supervisor=people[SECOND[0]]))
            people[WRITER[0]] = accounts.find_by_email(WRITER[0]) or accounts.create_user(WRITER[0], WRITER[1],
                                                                                         PASSWORD)
            accounts.grant_role(people[WRITER[0]], Role.TRAINEE, cohort.id)
            db.session.add(Enrolment(cohort=cohort, trainee=people[WRITER[0]],
                                     academic_supervisor=people[SECOND[0]]))
            db.session.commit()
        cohort_id = cohort.id
    return {"app": app, "cohort_id": cohort_id}


def the_submission(app):
    from lms.coursework.models import Assignment, Submission
    from lms.extensions import db

    with app.app_context():
        found = db.session.execute(select(Submission).join(Submission.assignment).where(
            Assignment.assessment_slug == "accredited-assignment", Submission.status == "submitted")
            .join(Assignment.cohort).where(Assignment.cohort.has(slug=SLUG))).scalar_one()
        found.candidate  # loaded while the session is open
        return found.id, found.candidate.label, found.assignment_id


def test_submit_mark_moderate_release_and_read_feedback(page, journey, tmp_path):
    app = journey["app"]

    # 1. The trainee writes, attaches a file, confirms it is their own work and submits.
    sign_in(page, TRAINEE[0], PASSWORD)
    page.get_by_role("link", name="Assignment", exact=True).click()
    page.wait_for_url("**/assignment")
    check_accessibility(page)
    page.get_by_role("link", name=re.compile(r"^Work on it\W+Accredited assignment")).click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Accredited assignment")
    check_accessibility(page)
    page.get_by_label("Your assignment").fill(ESSAY)
    expect(page.locator("#editor-word-count")).to_have_text(re.compile(rf"^{len(ESSAY.split())} words"))
    # The draft saves itself a few seconds after typing.
    expect(page.locator("#editor-autosave-status")).to_contain_text("Draft saved", timeout=20_000)
    essay = tmp_path / "my-essay.pdf"
    essay.write_bytes(PDF)
    page.get_by_label("Upload files").set_input_files(str(essay))
    page.get_by_label("I confirm this is my own work").check()
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url("**/receipt")
    assert "Your work has been submitted" in page.get_by_role("heading", level=1).inner_text()
    receipt = page.content()
    assert "my-essay.pdf" in receipt and "SHA-256 of everything submitted" in receipt
    check_accessibility(page)
    sign_out(page)
    submission_id, label, assignment_id = the_submission(app)

    # 2. The lead tutor allocates the script to themselves and marks it with the rubric.
    sign_in(page, TUTOR[0], PASSWORD)
    page.get_by_role("link", name="Marking", exact=True).click()
    page.wait_for_url("**/marking")
    check_accessibility(page)
    page.get_by_role("link", name="Accredited assignment").first.click()
    page.wait_for_url(f"**/marking/{assignment_id}")
    assert TRAINEE[1] not in page.content()  # anonymous marking
    check_accessibility(page)
    page.get_by_label(f"Choose {label}").check()
    page.get_by_label(TUTOR[1]).check()
    page.get_by_role("button", name="Allocate the chosen scripts evenly").click()
    page.get_by_role("link", name=label).click()
    page.wait_for_url(f"**/marking/scripts/{submission_id}")
    check_accessibility(page)
    for criterion, mark in (("understanding", 64), ("application", 62), ("reflection", 66), ("evidence", 55),
                            ("structure", 60)):
        band = "50" if mark < 60 else "60"
        page.locator(f"#band-{criterion}-{band}").check()
        page.locator(f"#mark-{criterion}").fill(str(mark))
        page.locator(f"#comment-{criterion}").fill("Clear and thoughtful.")
    feedback = page.get_by_label("Feedback for the trainee (Markdown)")
    # The language helper suggests recovery-focused wording while the marker types, privately.
    feedback.fill("You write honestly about the time you were a schizophrenic and what helped.")
    page.locator("#feedback-language").get_by_text("a person with a diagnosis of schizophrenia").wait_for()
    check_accessibility(page)
    feedback.fill("**What went well:** a warm, honest reflection.\n\n**Next steps:** use two more sources.")
    page.get_by_role("button", name="Complete first marking").click()
    assert "First marking completed." in page.get_by_role("status").inner_text()
    check_accessibility(page)

    # The lead tutor sends the script to second marking (the moderation sample).
    page.goto(f"/marking/{assignment_id}/moderation")
    check_accessibility(page)
    page.get_by_label(f"Include {label} in the sample").check()
    page.get_by_label(SECOND[1]).check()
    page.get_by_role("button", name="Send the sample to second marking").click()
    page.wait_for_url(f"**/marking/{assignment_id}")
    check_accessibility(page)
    sign_out(page)

    # 3. The second marker marks blind, then records the agreed mark.
    sign_in(page, SECOND[0], PASSWORD)
    page.get_by_role("link", name="Marking", exact=True).click()
    page.get_by_role("link", name="Accredited assignment").first.click()
    check_accessibility(page)
    page.get_by_role("link", name=label).click()
    assert "Blind second marking" in page.content()
    check_accessibility(page)
    page.get_by_label("Your mark").fill("64")
    page.get_by_label("Your comments for the marking team").fill("Agree with the first marker's bands.")
    page.get_by_role("button", name="Record my mark").click()
    page.get_by_label("Agreed mark").fill("63")
    page.get_by_label("How the mark was agreed").fill("Discussed and agreed 63.")
    check_accessibility(page)
    page.get_by_role("button", name="Record the agreed mark").click()
    assert "The agreed mark has been recorded." in page.get_by_role("status").inner_text()
    check_accessibility(page)
    sign_out(page)

    # 4. The exam board ratifies (another part of the LMS records this); an admin releases it.
    from lms.accounts.services import find_by_email
    from lms.coursework import marking
    from lms.extensions import db

    with app.app_context():
        assert marking.ratify_marks(find_by_email("admin@example.org"), journey["cohort_id"],
                                     submission_ids=[submission_id]) == 1
        db.session.commit()
    sign_in(page, "admin@example.org")
    page.goto(f"/marking/scripts/{submission_id}")
    check_accessibility(page)
    page.get_by_role("button", name="Release this mark and feedback").click()
    assert "released" in page.get_by_role("status").inner_text()
    check_accessibility(page)
    sign_out(page)

    # 5. The trainee reads their mark and feedback.
    sign_in(page, TRAINEE[0], PASSWORD)
    page.get_by_role("link", name="Assignment", exact=True).click()
    page.get_by_role("link", name="Read your feedback").click()
    assert page.get_by_role("heading", name="Your mark: 63").is_visible()
    assert "a warm, honest reflection" in page.content()
    check_accessibility(page)


def test_signed_out_while_writing_the_words_are_not_lost(page, journey):
    """The session ends while the trainee types: autosave says plainly that it did not save (not "saved"),
    and after signing in again the page offers the words back; they are then saved."""
    words = "My reflection on listening without fixing, written before my session ended."
    sign_in(page, WRITER[0], PASSWORD)
    page.get_by_role("link", name="Assignment", exact=True).click()
    page.get_by_role("link", name=re.compile(r"^Work on it\W+Accredited assignment")).click()
    page.context.clear_cookies()  # the session ends (as after a long time away)
    page.get_by_label("Your assignment").fill(words)
    status = page.locator("#editor-autosave-status")
    expect(status).to_contain_text("You have been signed out", timeout=20_000)
    assert "Draft saved" not in status.inner_text()
    check_accessibility(page)

    sign_in(page, WRITER[0], PASSWORD)
    page.get_by_role("link", name="Assignment", exact=True).click()
    page.get_by_role("link", name=re.compile(r"^Work on it\W+Accredited assignment")).click()
    editor = page.get_by_label("Your assignment")
    assert editor.input_value() == ""  # nothing reached the server
    put_back = page.get_by_role("button", name="Put back the text you typed before you were signed out")
    check_accessibility(page)
    put_back.click()
    assert editor.input_value() == words
    expect(status).to_contain_text("Draft saved", timeout=20_000)
    page.reload()
    assert page.get_by_label("Your assignment").input_value() == words
    expect(page.get_by_role("button", name="Put back the text you typed before you were signed out")).to_have_count(0)
