"""Bulk import of people from CSV: `lms users import` and the upload form; every bad file is a test."""

import io
import time

from sqlalchemy import func, select

from lms.accounts.models import RoleGrant, User
from lms.audit.models import AuditEvent
from lms.cohorts.models import Cohort, Enrolment
from lms.extensions import db
from tests.conftest import csrf_token

HEADER = "email,name,role,organisation,academic_supervisor_email,personal_supervisor_email"
GOOD = "\r\n".join([
    HEADER,
    "pat.supervisor@example.org,Pat Morgan,personal_supervisor,Harbour Mind,,",
    "ali.academic@example.org,Ali Jones,academic_supervisor,,,",
    "sol.tutor@example.org,Sol Reyes,tutor,Recovery College Training Team,,",
    "new1@example.org,Rowan Ash,trainee,Harbour Mind,ali.academic@example.org,pat.supervisor@example.org",
    "new2@example.org,Zoë Brontë,trainee,Harbour Mind,academic1@example.org,supervisor2@example.org",
    "new3@example.org,Kai Lee,trainee,Northshire Mental Health NHS Foundation Trust,,supervisor1@example.org",
]) + "\r\n"


def counts():
    db.session.expire_all()
    return tuple(db.session.execute(select(func.count(model.id))).scalar_one() for model in (User, Enrolment, RoleGrant))


def run_import(runner, tmp_path, content, *args, name="people.csv", cohort="demo-running"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else ("\ufeff" + content).encode("utf-8"))
    return runner.invoke(args=["users", "import", str(path), "--cohort", cohort, *args])


def test_clean_import_creates_people_enrols_and_is_idempotent(runner, demo, tmp_path):
    before = counts()
    result = run_import(runner, tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    assert "6 new accounts, 3 enrolments" in result.output and "invitations sent" in result.output
    after = counts()
    assert after[0] == before[0] + 6 and after[1] == before[1] + 3
    zoe = db.session.execute(select(User).where(User.email == "new2@example.org")).scalar_one()
    assert zoe.display_name == "Zoë Brontë" and zoe.password_hash is None and zoe.organisation.name == "Harbour Mind"
    enrolment = db.session.execute(select(Enrolment).where(Enrolment.trainee_id == zoe.id)).scalar_one()
    assert enrolment.personal_supervisor.email == "supervisor2@example.org" and enrolment.status == "active"
    rowan = db.session.execute(select(User).where(User.email == "new1@example.org")).scalar_one()
    assert {g.role for g in rowan.role_grants} == {"trainee"}
    actions = db.session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all()
    assert dict(actions)["enrolment.created"] == 3 and dict(actions)["cohort.import"] == 1
    # The same file again changes nothing, and says so.
    again = run_import(runner, tmp_path, GOOD)
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert counts() == after


def test_dry_run_shows_what_would_happen_and_imports_nothing(runner, demo, tmp_path):
    before = counts()
    result = run_import(runner, tmp_path, GOOD, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "nothing has been imported yet" in result.output
    assert "Row 5: new account for Rowan Ash <new1@example.org>; enrol as a trainee" in result.output
    assert counts() == before


def assert_refused(result, *messages):
    assert result.exit_code == 1, result.output
    assert "Nothing was imported" in result.output
    for message in messages:
        assert message in result.output, result.output


def test_wrong_encoding(runner, demo, tmp_path):
    before = counts()
    content = (HEADER + "\r\nzoe@example.org,Zoë Brontë,trainee,Harbour Mind,,\r\n").encode("cp1252")
    assert_refused(run_import(runner, tmp_path, content), "Row 2", "not saved as UTF-8", "CSV UTF-8 (Comma delimited)")
    assert counts() == before


def test_missing_header(runner, demo, tmp_path):
    assert_refused(run_import(runner, tmp_path, "zoe@example.org,Zoe,trainee,Harbour Mind,,\r\n"),
                   "Row 1", "must be the header")


def test_extra_column(runner, demo, tmp_path):
    before = counts()
    content = HEADER + ",phone\r\nzoe@example.org,Zoe,trainee,Harbour Mind,,,0123\r\n"
    assert_refused(run_import(runner, tmp_path, content), "Row 1, column phone", "not one the import uses")
    assert counts() == before


def test_empty_file(runner, demo, tmp_path):
    assert_refused(run_import(runner, tmp_path, b""), "The file is empty")


def test_every_problem_is_reported_and_nothing_is_imported(runner, demo, tmp_path):
    before = counts()
    content = "\r\n".join([
        HEADER,
        "fine@example.org,Fine Person,trainee,Harbour Mind,,",                     # row 2: fine on its own
        "broken-email,Someone,trainee,Harbour Mind,,",                              # row 3
        "x@example.org,X,wizard,Harbour Mind,,",                                    # row 4
        "y@example.org,Y,trainee,Nowhere Trust,,",                                  # row 5
        "z@example.org,Z,trainee,Harbour Mind,ghost@example.org,supervisor1@example.org",  # row 6
        "fine@example.org,Twice,trainee,Harbour Mind,,",                            # row 7
        "trainee13@example.org,Maya,trainee,Harbour Mind,,",                        # row 8: other org, finished cohort
        "trainee3@example.org,Chloe,trainee,Northshire Mental Health NHS Foundation Trust,academic1@example.org,supervisor1@example.org",  # 9: already here
    ]) + "\r\n"
    result = run_import(runner, tmp_path, content)
    assert_refused(result,
                   "Row 3, column email:", "Row 4, column role:", "Row 5, column organisation:",
                   "Row 6, column academic_supervisor_email: There is no account for ghost@example.org",
                   "Row 6, column personal_supervisor_email: supervisor1@example.org works for Northshire",
                   "Row 7, column email: fine@example.org is in this file more than once (first in row 2)",
                   "Row 8, column organisation: trainee13@example.org's account belongs to Northshire")
    # Already enrolled here with the same supervisors: unchanged, not an error.
    assert "Row 9" not in result.output
    assert counts() == before


def test_a_new_trainee_or_personal_supervisor_needs_their_organisation(runner, demo, tmp_path):
    before = counts()
    content = "\r\n".join([
        HEADER,
        "new-trainee@example.org,New Trainee,trainee,,,",                # row 2
        "new-supervisor@example.org,New Supervisor,personal_supervisor,,,",  # row 3
        "new-tutor@example.org,New Tutor,tutor,,,",                       # row 4: a tutor need not have one
    ]) + "\r\n"
    result = run_import(runner, tmp_path, content)
    assert_refused(result, "Row 2, column organisation: Enter the organisation a trainee works for",
                   "Row 3, column organisation: Enter the organisation a personal supervisor works for")
    assert "Row 4" not in result.output
    assert counts() == before
    # Someone whose account already has an organisation may leave it out: theirs is kept.
    content = HEADER + "\r\nsupervisor1@example.org,Supervisor One,personal_supervisor,,,\r\n"
    result = run_import(runner, tmp_path, content, cohort="demo-running")
    assert result.exit_code == 0 and "column organisation" not in result.output, result.output


def test_someone_enrolled_in_another_cohort_is_refused(runner, demo, tmp_path):
    db.session.add(Cohort(slug="later", name="Later cohort", course_slug="peer-support-l4",
                          start_date=__import__("datetime").date(2031, 1, 1), status="planned"))
    db.session.commit()
    content = HEADER + "\r\ntrainee1@example.org,Amira Hassan,trainee,Northshire Mental Health NHS Foundation Trust,,\r\n"
    assert_refused(run_import(runner, tmp_path, content, cohort="later"),
                   "Row 2, column email: trainee1@example.org is already enrolled in Peer Support Worker Training")


def test_formula_cells_are_stored_as_text_and_escaped_in_the_export(runner, login_as, tmp_path):
    content = HEADER + "\r\nevil@example.org,=cmd|' /C calc'!A0,trainee,Harbour Mind,,\r\n" \
                       "plus@example.org,+44 Plus,tutor,,,\r\n"
    result = run_import(runner, tmp_path, content)
    assert result.exit_code == 0, result.output
    evil = db.session.execute(select(User).where(User.email == "evil@example.org")).scalar_one()
    assert evil.display_name == "=cmd|' /C calc'!A0"
    client = login_as("admin")
    response = client.get("/admin/cohorts/demo-running/people.csv")
    text = response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/csv") and "attachment" in response.headers["Content-Disposition"]
    assert "evil@example.org,'=cmd|' /C calc'!A0,trainee,Harbour Mind,," in text
    assert "plus@example.org,'+44 Plus,tutor" in text
    assert ",=cmd" not in text and ",+44" not in text
    # The export is in the import's own format: importing it again changes nothing.
    again = run_import(runner, tmp_path, response.data, name="export.csv")
    assert again.exit_code == 0 and "nothing changed" in again.output, again.output


def test_ten_thousand_rows_finish_and_report_in_under_a_minute(runner, demo, tmp_path, count_queries):
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    cohort.capacity = 20_000
    db.session.commit()
    lines = [HEADER, "bulk.academic@example.org,Bulk Academic,academic_supervisor,,,"]
    lines += [f"bulk{n}@example.org,Bulk Trainee {n},trainee,{'Harbour Mind' if n % 2 else 'Northshire Mental Health NHS Foundation Trust'},"
              f"bulk.academic@example.org,{'supervisor2' if n % 2 else 'supervisor1'}@example.org" for n in range(9_999)]
    content = "\r\n".join(lines) + "\r\n"
    # A dry run with one bad row reports it among 10,000.
    bad = content.replace("bulk5000@example.org,", "bulk5000-at-example.org,")
    started = time.perf_counter()
    refused = run_import(runner, tmp_path, bad, "--dry-run", name="bad.csv")
    assert time.perf_counter() - started < 60
    assert refused.exit_code == 1 and "Row 5003, column email" in refused.output
    started = time.perf_counter()
    with count_queries() as statements:
        result = run_import(runner, tmp_path, content, "--no-invite")
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output[-2000:]
    assert "10000 new accounts, 9999 enrolments" in result.output
    assert elapsed < 60, f"import took {elapsed:.1f}s"
    # Set-based: a few statements per 500 people, never one per row.
    assert len(statements) < 400, len(statements)
    print(f"\n10,000-row import: {elapsed:.1f}s, {len(statements)} statements")
    assert db.session.execute(select(func.count(Enrolment.id)).where(
        Enrolment.cohort_id == cohort.id)).scalar_one() == 12 + 9_999


def test_unknown_cohort_or_file(runner, demo, tmp_path):
    result = runner.invoke(args=["users", "import", str(tmp_path / "missing.csv"), "--cohort", "demo-running"])
    assert result.exit_code == 1 and "There is no file" in result.output
    result = run_import(runner, tmp_path, GOOD, cohort="no-such-cohort")
    assert result.exit_code == 1 and "no cohort with the short name" in result.output


# The upload form ----------------------------------------------------------------------

def upload(client, content: bytes, action: str, invite=True):
    token = csrf_token(client, "/admin/cohorts/demo-running/import")
    data = {"csrf_token": token, "action": action, "file": (io.BytesIO(content), "people.csv")}
    if invite:
        data["invite"] = "y"
    return client.post("/admin/cohorts/demo-running/import", data=data, content_type="multipart/form-data")


def test_upload_form_checks_then_imports(login_as):
    client = login_as("admin")
    before = counts()
    checked = upload(client, GOOD.encode("utf-8"), "check")
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "The file is ready to import" in page and counts() == before
    imported = upload(client, GOOD.encode("utf-8"), "import")
    assert imported.status_code == 302
    assert counts()[1] == before[1] + 3
    page = client.get("/admin/cohorts/demo-running").get_data(as_text=True)
    assert "Imported into" in page and "Rowan Ash" in page and "6 invitations sent" in page


def test_upload_form_lists_every_problem_next_to_the_file(login_as):
    client = login_as("admin")
    before = counts()
    content = (HEADER + "\r\nbad,Someone,trainee,Harbour Mind,,\r\nok@example.org,,trainee,Harbour Mind,,\r\n").encode()
    response = upload(client, content, "import")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="file-error"' in page
    assert "Row 2, column email:" in page and "Row 3, column name:" in page
    assert counts() == before
    missing = client.post("/admin/cohorts/demo-running/import", data={
        "csrf_token": csrf_token(client, "/admin/cohorts/demo-running/import"), "action": "import"})
    assert missing.status_code == 400 and "Choose the CSV file" in missing.get_data(as_text=True)
