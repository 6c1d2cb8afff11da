"""The assignment's personal data: in the person's export, removed by erasure and by retention; marks stay."""

import io
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from lms.coursework import marking, services
from lms.coursework.models import Extension, MitigatingClaim, StoredFile, Submission
from lms.coursework.personal_data import erase_coursework, export_coursework, purge_old_work
from lms.extensions import db
from lms.privacy.registry import ERASERS, EXPORTERS, RETENTION_RULES, load_plugins
from tests.web.test_coursework_support import ESSAY, assignment, pdf_bytes, person


def kept_files(app) -> list[Path]:
    folder = Path(app.config["LMS_UPLOAD_DIR"]) / "coursework"
    return list(folder.iterdir()) if folder.exists() else []


def a_released_attempt():
    accredited = assignment()
    trainee, admin = person("trainee1@example.org"), person("admin@example.org")
    extension = services.request_extension(trainee, accredited.id, working_days="3", reason="Caring for my dad.",
                                           evidence=FileStorage(io.BytesIO(pdf_bytes()), "letter.pdf"))
    services.decide_extension(admin, extension.id, decision="approve")
    services.report_mitigation(trainee, accredited.id, category="illness", details="A hospital stay.")
    submission = services.save_work(trainee, accredited.id, text=ESSAY, declaration=True, submit=True,
                                    files=[FileStorage(io.BytesIO(pdf_bytes()), "essay.pdf")])
    marking.allocate(admin, accredited.id, [submission.id], [person("tutor1@example.org").id])
    entries = {c["id"]: marking.CriterionEntry(None, "62", "Good.") for c in accredited.rubric}
    marking.save_first_marking(person("tutor1@example.org"), submission.id, version=submission.version,
                               criteria=entries, overall="", override_reason="", feedback_text="Well done, Amira.",
                               complete=True)
    marking.confirm_sample(admin, accredited.id, sampled_ids=[], second_marker_ids=[])
    marking.ratify_marks(admin, accredited.cohort_id)
    marking.release(admin, accredited.id)
    db.session.commit()
    return submission.id


def test_the_assignment_plugs_into_export_erasure_and_retention(app):
    load_plugins()
    assert export_coursework in EXPORTERS and erase_coursework in ERASERS
    assert any(rule.key == "coursework_work" and rule.default_months is None for rule in RETENTION_RULES)


def test_the_export_holds_the_persons_own_work_and_released_feedback(app, demo):
    a_released_attempt()
    sections = {s.key: s for s in export_coursework(person("trainee1@example.org"))}
    work = sections["assignment_work"].records[0]
    assert work["text"] == ESSAY and work["mark"] == 62 and work["feedback"] == "Well done, Amira."
    assert work["files"][0]["name"] == "essay.pdf" and len(work["sha256"]) == 64
    assert sections["extension_requests"].records[0]["reason"] == "Caring for my dad."
    assert sections["mitigating_circumstances"].records[0]["details"] == "A hospital stay."
    assert export_coursework(person("trainee2@example.org"))[0].records == []


def test_erasure_removes_what_they_wrote_and_keeps_the_marks(app, demo):
    submission_id = a_released_attempt()
    assert len(kept_files(app)) == 2
    erase_coursework(person("trainee1@example.org"))
    db.session.commit()
    db.session.expire_all()
    submission = db.session.get(Submission, submission_id)
    assert submission.text == "" and submission.mark == 62 and submission.digest and submission.state == "released"
    assert db.session.execute(select(func.count(StoredFile.id))).scalar() == 0 and kept_files(app) == []
    assert "removed" in db.session.execute(select(Extension.reason)).scalar_one()
    assert "hospital" not in db.session.execute(select(MitigatingClaim.details)).scalar_one()
    assert "Amira" not in submission.marks[0].feedback


def test_retention_removes_old_work_only_when_applied(app, demo):
    submission_id = a_released_attempt()
    # The running cohort has not ended: nothing is old enough.
    assert purge_old_work(1, date.today(), apply=False) == 0
    later = date.today() + timedelta(days=365 * 2)
    assert purge_old_work(1, later, apply=False) == 1
    assert db.session.get(Submission, submission_id).text == ESSAY
    assert purge_old_work(1, later, apply=True) == 1
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(Submission, submission_id)
    assert kept.text == "" and kept.mark == 62 and kept_files(app) == []
