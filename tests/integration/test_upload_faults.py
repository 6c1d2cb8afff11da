"""Uploads survive faults: a full disk, and a worker killed before or after its commit.

The disk really fills (writes go to /dev/full, so the kernel answers "no space
left on device"); the worker is really killed (SIGKILL, in a process of its
own, at the moment named), then `lms coursework sweep-uploads` tidies up.
"""

from __future__ import annotations

import builtins
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.coursework import uploads
from lms.coursework.models import StoredFile, Submission
from lms.extensions import db
from tests.web.test_coursework_support import assignment, pdf_bytes, post
from tests.web.test_coursework_submission import my_submission, stored_files, upload

ROOT = Path(__file__).resolve().parents[2]

# Saves trainee1's draft with one file, then dies by SIGKILL: before the commit,
# or after it, at the moment the file would take its final name.
WORKER = textwrap.dedent("""
    import io, os, signal, sys
    from pathlib import Path
    from werkzeug.datastructures import FileStorage
    from tests.conftest import base_config
    from lms.app import create_app
    from lms.coursework import services
    from lms.extensions import db
    from tests.web.test_coursework_support import pdf_bytes, person

    url, instance, assignment_id, moment = sys.argv[1:]
    app = create_app(base_config(url, Path(instance)))

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    with app.app_context():
        essay = FileStorage(io.BytesIO(pdf_bytes(b"written before the crash")), filename="essay.pdf")
        submitting = moment.startswith("submit-")
        if moment == "submit-after-commit":
            # The receipt e-mail is sent straight after the commit: die there instead.
            import lms.notify.services
            lms.notify.services.deliver = die
        services.save_work(person("trainee1@example.org"), int(assignment_id), text="Draft.", files=[essay],
                           declaration=submitting or None, submit=submitting)
        if moment.endswith("before-commit"):
            die()
        if not submitting:
            os.replace = die  # the rename into place comes straight after the commit
        db.session.commit()
    print("not killed")
""")


def run_worker(app, assignment_id: int, moment: str) -> subprocess.CompletedProcess:
    instance = Path(app.config["LMS_UPLOAD_DIR"]).parent
    result = subprocess.run([sys.executable, "-c", WORKER, app.config["SQLALCHEMY_DATABASE_URI"], str(instance),
                             str(assignment_id), moment], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stdout + result.stderr
    db.session.expire_all()
    return result


def file_rows() -> list[StoredFile]:
    db.session.expire_all()
    return list(db.session.execute(select(StoredFile)).scalars())


def downloaded(client, row: StoredFile) -> tuple[int, bool]:
    response = client.get(f"/coursework/files/{row.id}")
    try:
        return response.status_code, b"written before the crash" in response.data
    finally:
        response.close()


def age(path: Path, hours: float) -> None:
    """Make a file look `hours` old, as the sweep would find it the next day."""
    when = path.stat().st_mtime - hours * 3600
    os.utime(path, (when, when))


def test_a_worker_killed_after_its_commit_keeps_the_file_and_the_sweep_finishes_the_rename(login_as, app, runner):
    client = login_as("trainee")
    accredited = assignment()
    run_worker(app, accredited.id, "after-commit")
    [row] = file_rows()
    assert my_submission(assignment_id=accredited.id).text == "Draft."
    # The row committed; the file still has its temporary name, and is found there.
    assert stored_files(app) == [uploads.staged_path(row.stored_name)]
    assert downloaded(client, row) == (200, True)
    # A file this new is left alone: its request might still be running.
    result = runner.invoke(args=["coursework", "sweep-uploads"])
    assert result.exit_code == 0 and "0 saved file(s) given their final name" in result.output
    age(uploads.staged_path(row.stored_name), 25)
    dry = runner.invoke(args=["coursework", "sweep-uploads", "--dry-run"])
    assert "1 saved file(s) would be given their final name" in dry.output
    assert stored_files(app) == [uploads.staged_path(row.stored_name)]
    result = runner.invoke(args=["coursework", "sweep-uploads"])
    assert result.exit_code == 0 and "1 saved file(s) given their final name" in result.output, result.output
    assert stored_files(app) == [uploads.upload_dir() / row.stored_name]
    assert downloaded(client, row) == (200, True)


def test_a_worker_killed_before_its_commit_leaves_no_row_and_the_sweep_removes_its_file(login_as, app, runner):
    login_as("trainee")
    accredited = assignment()
    before = my_submission(assignment_id=accredited.id)
    run_worker(app, accredited.id, "before-commit")
    assert file_rows() == []
    after = my_submission(assignment_id=accredited.id)
    assert (after.text if after else None) == (before.text if before else None)  # nothing half-saved
    [leftover] = stored_files(app)
    assert leftover.name.endswith(".part")
    age(leftover, 25)
    result = runner.invoke(args=["coursework", "sweep-uploads"])
    assert result.exit_code == 0 and "1 unfinished upload(s) removed" in result.output, result.output
    assert stored_files(app) == []


def test_a_worker_killed_while_a_trainee_submits_leaves_all_or_nothing(login_as, app, runner):
    """Killed before the commit: still a draft, no receipt, nothing to send. Killed just after it, before
    the receipt e-mail went: submitted with its receipt page, and `lms mail retry` sends the e-mail."""
    from lms.notify.models import Notification, OutboxEmail

    def receipts():
        db.session.expire_all()
        return (db.session.execute(select(func.count(Notification.id)).where(
                    Notification.subject.like("Receipt:%"))).scalar_one(),
                db.session.execute(select(OutboxEmail).where(OutboxEmail.subject.like("Receipt:%"))).scalars().all())

    client = login_as("trainee")
    accredited = assignment()
    run_worker(app, accredited.id, "submit-before-commit")
    before = my_submission(assignment_id=accredited.id)
    assert before is None or (before.status == "draft" and before.digest is None)
    assert receipts() == (0, []) and file_rows() == []

    run_worker(app, accredited.id, "submit-after-commit")
    submitted = my_submission(assignment_id=accredited.id)
    assert submitted.status == "submitted" and submitted.state == "submitted" and submitted.digest
    [row] = file_rows()
    assert downloaded(client, row) == (200, True)
    page = client.get(f"/submissions/{submitted.id}/receipt")
    assert page.status_code == 200 and submitted.digest in page.get_data(as_text=True)
    count, [email] = receipts()
    assert count == 1 and email.sent_at is None  # the worker died before the e-mail went
    result = runner.invoke(args=["mail", "retry", "--older-than", "0"])
    assert result.exit_code == 0 and "1 e-mail(s) sent" in result.output, result.output
    assert receipts()[1][0].sent_at is not None
    again = runner.invoke(args=["mail", "retry", "--older-than", "0"])
    assert "0 e-mail(s) sent" in again.output


def test_the_sweep_lists_files_no_row_names_and_removes_them_only_when_asked(app, demo, runner):
    folder = uploads.upload_dir()
    stray = folder / ("ab" * 16)
    stray.write_bytes(b"left by an older version")
    age(stray, 48)
    result = runner.invoke(args=["coursework", "sweep-uploads"])
    assert "1 file(s) that no record names were left in place" in result.output and stray.exists()
    result = runner.invoke(args=["coursework", "sweep-uploads", "--remove-unreferenced"])
    assert "1 file(s) that no record names were removed" in result.output and not stray.exists()
    bad = runner.invoke(args=["coursework", "sweep-uploads", "--older-than-hours", "-1"])
    assert bad.exit_code == 1 and "cannot be negative" in bad.output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full to fill the disk")
def test_a_full_disk_refuses_the_file_plainly_and_nothing_is_saved_or_left_behind(login_as, app, monkeypatch,
                                                                                  caplog):
    client = login_as("trainee")
    accredited = assignment()
    post(client, f"/assignment/{accredited.id}", {"text": "Saved before.", "action": "save"})

    def full_disk(path, mode="r", *args, **kwargs):
        if mode != "xb":
            return builtins.open(path, mode, *args, **kwargs)
        builtins.open(path, "xb").close()  # the file is made; every write to it fails as on a full disk
        return builtins.open("/dev/full", "wb")

    monkeypatch.setattr(uploads, "open", full_disk, raising=False)
    caplog.set_level(logging.INFO)
    response = upload(client, accredited.id, "my-story.pdf", pdf_bytes(b"0" * 200_000), text="Typed now.",
                      action="submit", declaration=True)
    assert response.status_code == 507
    page = response.get_data(as_text=True)
    assert "could not be saved because the server is out of space, so nothing was changed" in page
    assert "Typed now." in page and 'class="error-summary"' in page and 'href="#files"' in page
    draft = my_submission(assignment_id=accredited.id)
    assert draft.text == "Saved before." and draft.status == "draft"
    assert db.session.execute(select(func.count(StoredFile.id))).scalar() == 0
    assert db.session.execute(select(func.count(Submission.id))).scalar() == 1
    assert stored_files(app) == []
    assert "ENOSPC" in caplog.text and "my-story" not in caplog.text  # the fault is logged, the file's name is not
