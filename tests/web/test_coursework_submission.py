"""Trainees submitting the assignment: drafts, autosave, files, the receipt and every bad input."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.coursework import services
from lms.coursework.models import StoredFile, Submission
from lms.coursework.rules import digest_of_text, submission_digest
from lms.extensions import db
from lms.notify.models import OutboxEmail
from tests.conftest import csrf_token
from tests.web.test_coursework_support import (
    ESSAY,
    assignment,
    docx_bytes,
    fresh,
    odt_bytes,
    pdf_bytes,
    person,
    post,
    submit,
)


def stored_files(app) -> list[Path]:
    folder = Path(app.config["LMS_UPLOAD_DIR"]) / "coursework"
    return sorted(folder.iterdir()) if folder.exists() else []


def counts():
    db.session.expire_all()
    return (db.session.execute(select(func.count(Submission.id))).scalar(),
            db.session.execute(select(func.count(StoredFile.id))).scalar())


def upload(client, assignment_id, name, data, text="", action="save", declaration=False):
    form = {"text": text, "action": action, "files": (io.BytesIO(data), name)}
    if declaration:
        form["declaration"] = "y"
    return post(client, f"/assignment/{assignment_id}", form, content_type="multipart/form-data")


def my_submission(email="trainee1@example.org", assignment_id=None):
    db.session.expire_all()
    return db.session.execute(select(Submission).join(Submission.enrolment)
                              .where(Submission.assignment_id == assignment_id)
                              .where(Submission.enrolment.has(trainee_id=person(email).id))).scalar_one_or_none()


def test_the_page_shows_the_brief_dates_and_the_editor(login_as):
    client = login_as("trainee")
    accredited = assignment()
    page = client.get(f"/assignment/{accredited.id}").get_data(as_text=True)
    assert "Read the brief" in page and "How it is marked" in page
    assert "Submission closes" in page and "Save draft" in page and ">Submit</button>" in page
    assert 'src="/static/js/coursework.js"' in page and "<script>" not in page
    assert 'name="declaration"' in page and 'id="editor-word-count"' in page


def test_a_draft_is_saved_without_the_declaration_and_kept(login_as):
    client = login_as("trainee")
    accredited = assignment()
    response = post(client, f"/assignment/{accredited.id}", {"text": "My first paragraph.", "action": "save"})
    assert response.status_code == 302
    draft = my_submission(assignment_id=accredited.id)
    assert draft.status == "draft" and draft.text == "My first paragraph." and draft.state is None
    page = client.get(f"/assignment/{accredited.id}").get_data(as_text=True)
    assert "My first paragraph." in page and "Draft last saved" in page


def test_autosave_keeps_the_text_and_answers_json(login_as):
    client = login_as("trainee")
    accredited = assignment()
    response = post(client, f"/assignment/{accredited.id}/autosave", {"text": "one two three"})
    assert response.status_code == 200
    assert response.get_json()["words"] == 3 and response.get_json()["saved_at"]
    assert my_submission(assignment_id=accredited.id).text == "one two three"


def test_a_failed_autosave_loses_nothing_already_saved(login_as):
    client = login_as("trainee")
    accredited = assignment()
    post(client, f"/assignment/{accredited.id}/autosave", {"text": "Saved words."})
    response = post(client, f"/assignment/{accredited.id}/autosave", {"text": "x" * 100_001})
    assert response.status_code == 400 and "upload it as a file" in response.get_json()["error"]
    assert my_submission(assignment_id=accredited.id).text == "Saved words."


def test_autosave_after_the_session_ended_says_so_in_json_and_saves_nothing(login_as, client):
    signed_in = login_as("trainee")
    accredited = assignment()
    post(signed_in, f"/assignment/{accredited.id}/autosave", {"text": "Saved words."})
    json_only = {"Accept": "application/json"}
    # Signed out (no session at all): 401 in JSON, never the sign-in page that a script would take for success.
    anonymous = client.application.test_client()
    for data in ({"text": "Newer words."}, {"text": "Newer words.", "csrf_token": "stale"}):
        response = anonymous.post(f"/assignment/{accredited.id}/autosave", data=data, headers=json_only)
        assert response.status_code == 401 and response.get_json()["signed_out"] is True
        assert "You have been signed out" in response.get_json()["error"]
    # Still signed in but with a stale page: 400 in JSON.
    stale = signed_in.post(f"/assignment/{accredited.id}/autosave", data={"text": "x", "csrf_token": "stale"},
                           headers=json_only)
    assert stale.status_code == 400 and "This page has expired" in stale.get_json()["error"]
    # A browser asking for a page is still sent to sign in.
    page = anonymous.get(f"/assignment/{accredited.id}")
    assert page.status_code == 302 and "/sign-in" in page.headers["Location"]
    assert my_submission(assignment_id=accredited.id).text == "Saved words."


def test_submitting_text_and_a_file_gives_a_receipt_page_and_email(login_as, app):
    client = login_as("trainee")
    accredited = assignment()
    data = pdf_bytes()
    response = upload(client, accredited.id, "my-essay.pdf", data, text=ESSAY, action="submit", declaration=True)
    assert response.status_code == 302 and "/receipt" in response.headers["Location"]
    submission = my_submission(assignment_id=accredited.id)
    assert submission.status == "submitted" and submission.state == "submitted"
    file_digest = hashlib.sha256(data).hexdigest()
    assert submission.digest == submission_digest(ESSAY, [("my-essay.pdf", file_digest)])
    assert submission.text_digest == digest_of_text(ESSAY)
    assert submission.word_count == len(ESSAY.split()) and submission.working_days_late == 0
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    for expected in (submission.digest, file_digest, "my-essay.pdf", f"{submission.word_count:,}", "Submitted"):
        assert expected in receipt
    email = db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == "trainee1@example.org")
                               .order_by(OutboxEmail.id.desc())).scalars().first()
    assert email.subject.startswith("Receipt") and submission.digest in email.body and "Word count" in email.body
    # The file is kept under a random name outside static/.
    kept = stored_files(app)
    assert len(kept) == 1 and kept[0].name != "my-essay.pdf" and re.fullmatch(r"[0-9a-f]{32}", kept[0].name)
    assert "static" not in str(kept[0])
    # Once submitted, the work can't change.
    again = post(client, f"/assignment/{accredited.id}", {"text": "Changed", "action": "save"})
    assert again.status_code == 409 and "already submitted" in again.get_data(as_text=True)
    assert fresh(Submission, submission.id).text == ESSAY


def test_word_documents_are_counted_on_the_receipt(login_as):
    client = login_as("trainee")
    accredited = assignment()
    upload(client, accredited.id, "essay.docx", docx_bytes("one two three four"), text="five six",
           action="submit", declaration=True)
    assert my_submission(assignment_id=accredited.id).word_count == 6


def test_a_pdf_only_submission_says_its_words_are_not_counted_rather_than_zero(login_as):
    client = login_as("trainee")
    accredited = assignment()
    response = upload(client, accredited.id, "essay.pdf", pdf_bytes(), text="", action="submit", declaration=True)
    assert response.status_code == 302
    receipt = " ".join(client.get(response.headers["Location"]).get_data(as_text=True).split())
    assert "Not counted: words in a PDF file cannot be counted here" in receipt
    assert "<dd>0" not in receipt
    email = db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == "trainee1@example.org")
                               .order_by(OutboxEmail.id.desc())).scalars().first()
    assert "Word count: not counted" in email.body


def test_submitting_needs_the_declaration_and_keeps_what_was_saved(login_as, app):
    client = login_as("trainee")
    accredited = assignment()
    post(client, f"/assignment/{accredited.id}", {"text": "Saved draft.", "action": "save"})
    response = upload(client, accredited.id, "essay.pdf", pdf_bytes(), text="New text", action="submit")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Tick the box to confirm this is your own work" in page and "New text" in page
    draft = my_submission(assignment_id=accredited.id)
    assert draft.status == "draft" and draft.text == "Saved draft."
    assert counts()[1] == 0 and stored_files(app) == []


def test_submitting_nothing_is_refused(login_as):
    client = login_as("trainee")
    accredited = assignment()
    response = post(client, f"/assignment/{accredited.id}", {"text": "  ", "action": "submit", "declaration": "y"})
    assert response.status_code == 400 and "nothing to submit" in response.get_data(as_text=True)


def test_a_late_submission_is_labelled_with_working_days(app, demo, login_as):
    from lms.coursework.rules import days_late

    accredited = assignment()
    due = accredited.due_at
    late = due + timedelta(days=3, hours=1)
    expected = days_late(due, late, services.zone(), services.closures_for(accredited.cohort.course_slug))
    assert expected >= 1
    submitted = submit("trainee1@example.org", accredited.id, now=late)
    assert submitted.working_days_late == expected and submitted.deadline_applied == due
    label = f"{expected} working day{'s' if expected != 1 else ''} late"
    # The label is on the trainee's receipt and in the lead tutor's marking queue.
    trainee = login_as("trainee")
    assert label in trainee.get(f"/submissions/{submitted.id}/receipt").get_data(as_text=True)
    trainee.post("/sign-out", data={"csrf_token": csrf_token(trainee, "/home")})
    tutor = login_as("tutor")
    assert label in tutor.get(f"/marking/{accredited.id}").get_data(as_text=True)


def test_after_the_cut_off_submitting_is_closed(login_as, app):
    client = login_as("trainee")
    accredited = assignment()
    accredited.cut_off_at = accredited.due_at = accredited.due_at.replace(year=2020)
    db.session.commit()
    post(client, f"/assignment/{accredited.id}", {"text": "x", "action": "save"})
    response = post(client, f"/assignment/{accredited.id}", {"text": ESSAY, "action": "submit", "declaration": "y"})
    assert response.status_code == 409
    assert "Submission closed on" in response.get_data(as_text=True)
    assert my_submission(assignment_id=accredited.id) is None
    page = client.get(f"/assignment/{accredited.id}").get_data(as_text=True)
    assert "Submission closed on" in page and ">Submit</button>" not in page


def test_submitting_for_another_trainee_is_not_possible(login_as, app):
    accredited = assignment()  # demo-running; trainee13 is in demo-finished
    client = login_as("finished_trainee")
    response = post(client, f"/assignment/{accredited.id}", {"text": ESSAY, "action": "submit", "declaration": "y"})
    assert response.status_code == 404
    assert client.get(f"/assignment/{accredited.id}").status_code == 404
    assert post(client, f"/assignment/{accredited.id}/autosave", {"text": "x"}).status_code == 404
    assert counts() == (0, 0)


def test_a_trainee_cannot_remove_or_download_another_trainees_file(login_as, client, app):
    accredited = assignment()
    owner = login_as("trainee")
    upload(owner, accredited.id, "mine.pdf", pdf_bytes())
    file_id = db.session.execute(select(StoredFile.id)).scalar_one()
    owner.post("/sign-out", data={"csrf_token": __import__("tests.conftest").conftest.csrf_token(owner, "/home")})
    other = login_as("trainee2@example.org")
    assert post(other, f"/assignment/{accredited.id}/files/{file_id}/remove").status_code == 404
    assert other.get(f"/coursework/files/{file_id}").status_code == 404
    assert counts()[1] == 1 and len(stored_files(app)) == 1


def test_the_owner_downloads_as_an_attachment_with_nosniff(login_as):
    client = login_as("trainee")
    accredited = assignment()
    upload(client, accredited.id, "mine.pdf", pdf_bytes())
    file_id = db.session.execute(select(StoredFile.id)).scalar_one()
    response = client.get(f"/coursework/files/{file_id}")
    body = response.get_data()
    response.close()
    assert response.status_code == 200 and body == pdf_bytes()
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "mine.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"


def test_a_draft_file_can_be_removed(login_as, app):
    client = login_as("trainee")
    accredited = assignment()
    upload(client, accredited.id, "notes.odt", odt_bytes())
    file_id = db.session.execute(select(StoredFile.id)).scalar_one()
    assert post(client, f"/assignment/{accredited.id}/files/{file_id}/remove").status_code == 302
    assert counts()[1] == 0 and stored_files(app) == []


# --- bad files: each refused with a clear message, nothing half-saved ------------------------------

BAD_FILES = [
    ("essay.pdf", docx_bytes(), "named as a PDF file, but what is inside is not a PDF"),
    ("essay.docx", pdf_bytes(), "named as a Word (.docx) file, but what is inside is not"),
    ("essay.odt", docx_bytes(), "named as a OpenDocument (.odt) file"),
    ("page.html", b"<html><script>alert(1)</script></html>", "web page or SVG image"),
    ("picture.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "web page or SVG image"),
    ("sneaky.pdf", b"<!DOCTYPE html><html><body>hi</body></html>", "web page or SVG image"),
    ("empty.pdf", b"", "is empty (0 bytes)"),
    ("../../etc/passwd.pdf", pdf_bytes(), "characters we can't accept"),
    ("bad\x07name.pdf", pdf_bytes(), "characters we can't accept"),
    ("notes.txt", b"plain words", "is not a PDF, Word (.docx) or OpenDocument (.odt) file"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=[b[0].encode("unicode_escape").decode()
                                                                      for b in BAD_FILES])
def test_a_bad_file_is_refused_and_nothing_is_saved(login_as, app, name, data, message):
    client = login_as("trainee")
    accredited = assignment()
    post(client, f"/assignment/{accredited.id}", {"text": "Saved before.", "action": "save"})
    response = upload(client, accredited.id, name, data, text="Typed now.")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page.replace("&#39;", "'"), page
    assert "Typed now." in page  # what they typed is still on the page
    assert 'class="error-summary"' in page and 'href="#files"' in page
    draft = my_submission(assignment_id=accredited.id)
    assert draft.text == "Saved before." and counts()[1] == 0
    assert stored_files(app) == []


def test_an_oversized_file_gets_413_and_nothing_is_half_saved(login_as, app):
    # A quarter of a megabyte keeps the request under 500 KB, so the test client holds it in memory.
    app.config["LMS_MAX_UPLOAD_MB"] = 0.25
    client = login_as("trainee")
    accredited = assignment()
    post(client, f"/assignment/{accredited.id}", {"text": "Saved before.", "action": "save"})
    big = pdf_bytes(b"0" * (256 * 1024 + 10))
    response = upload(client, accredited.id, "big.pdf", big, text="Typed now.", action="submit", declaration=True)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "too large" in page and "up to 256 KB each" in page and "Typed now." in page
    draft = my_submission(assignment_id=accredited.id)
    assert draft.text == "Saved before." and draft.status == "draft" and counts()[1] == 0
    assert stored_files(app) == []


def test_a_request_over_the_site_limit_gets_413_with_a_clear_message(login_as, app):
    # Under 500 KB, so the test client keeps the body in memory (it is never read).
    app.config["MAX_CONTENT_LENGTH"] = 200 * 1024
    client = login_as("trainee")
    accredited = assignment()
    response = upload(client, accredited.id, "huge.pdf", pdf_bytes(b"0" * 300 * 1024), action="submit",
                      declaration=True)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "That file is too large" in page and "Nothing from this form was saved" in page
    assert counts() == (0, 0) and stored_files(app) == []


def test_a_second_file_refused_leaves_the_first_unsaved_too(login_as, app):
    client = login_as("trainee")
    accredited = assignment()
    form = {"text": "", "action": "save",
            "files": [(io.BytesIO(pdf_bytes()), "good.pdf"), (io.BytesIO(b""), "empty.docx")]}
    response = post(client, f"/assignment/{accredited.id}", form, content_type="multipart/form-data")
    assert response.status_code == 400 and "empty.docx" in response.get_data(as_text=True)
    assert counts() == (0, 0) and stored_files(app) == []


def test_a_failure_after_the_flush_removes_the_kept_file(app, demo, monkeypatch):
    """If the request's transaction rolls back after the files were named, the files go too."""
    from werkzeug.datastructures import FileStorage

    accredited = assignment()
    services_file = FileStorage(stream=io.BytesIO(pdf_bytes()), filename="essay.pdf")
    from lms.coursework import services

    services.save_work(person("trainee1@example.org"), accredited.id, text="x", files=[services_file])
    assert len(stored_files(app)) == 1
    db.session.rollback()
    assert stored_files(app) == [] and counts() == (0, 0)
