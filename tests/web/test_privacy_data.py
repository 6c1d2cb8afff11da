"""Personal data: a person downloads all their data, asks for erasure, an admin decides; retention settings."""

import io
import json
import zipfile
from datetime import timedelta

from sqlalchemy import func, select

from lms.accounts.models import Invitation, RoleGrant, User, WebSession
from lms.audit.models import AuditEvent
from lms.cohorts.models import Enrolment
from lms.database import utcnow
from lms.extensions import db
from lms.notify.models import Notification, OutboxEmail
from lms.notify.services import notify
from lms.privacy import registry
from lms.privacy.models import ErasureRequest, RetentionSetting
from tests.conftest import csrf_token, sign_in


def person(email) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def download(client) -> zipfile.ZipFile:
    response = client.post("/my-data/download", data={"csrf_token": csrf_token(client, "/my-data")})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="my-data-')
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_a_trainee_downloads_all_their_data_as_json_and_readable_pages(login_as):
    trainee = person("trainee1@example.org")
    trainee.display_name = "Amira <script>alert(1)</script> Hassan"
    notify(trainee, "Welcome to the course", "Your first course day is soon.", email=True)
    db.session.commit()
    client = login_as("trainee")
    page = client.get("/my-data").get_data(as_text=True)
    assert "Download my data" in page and "Ask for my data to be erased" in page
    archive = download(client)
    names = set(archive.namelist())
    assert {"personal-data.json", "index.html", "account.html", "enrolments.html", "notifications.html"} <= names
    data = json.loads(archive.read("personal-data.json"))
    sections = data["sections"]
    assert sections["account"]["records"][0]["email"] == "trainee1@example.org"
    enrolment = sections["enrolments"]["records"][0]
    assert enrolment["academic_supervisor"] == "Helen Marsh" and len(enrolment["course_days"]) == 11
    assert sections["notifications"]["records"][0]["subject"] == "Welcome to the course"
    assert sections["emails"]["records"][0]["subject"] == "Welcome to the course"
    html = archive.read("account.html").decode()
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'href="enrolments.html"' in archive.read("index.html").decode()
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "personal_data.exported")).scalar_one()
    assert event.subject_user_id == trainee.id


def test_the_download_is_a_post_with_csrf(login_as):
    client = login_as("trainee")
    assert client.get("/my-data/download").status_code == 405
    assert client.post("/my-data/download", data={}).status_code in (302, 400)


def test_other_domains_plug_into_export_and_erasure(login_as, monkeypatch):
    calls = []
    registry.load_plugins()  # the core's own registrations go in the real lists first

    def export_diary(user):
        return [registry.ExportSection("diary", "My reflective diary", [{"entry": "A good day"}], order=40)]

    monkeypatch.setattr(registry, "EXPORTERS", registry.EXPORTERS + [export_diary])
    monkeypatch.setattr(registry, "ERASERS", registry.ERASERS + [lambda user: calls.append(user.email)])
    client = login_as("trainee")
    archive = download(client)
    assert json.loads(archive.read("personal-data.json"))["sections"]["diary"]["records"] == [{"entry": "A good day"}]
    assert "My reflective diary" in archive.read("index.html").decode()
    from lms.privacy.services import erase_person

    erase_person(None, person("trainee1@example.org"))
    assert calls == ["trainee1@example.org"]  # erasers run before the account is pseudonymised


def ask_for_erasure(client, **data):
    return client.post("/my-data/erasure", data={"csrf_token": csrf_token(client, "/my-data"), **data})


def test_asking_for_erasure_needs_confirmation_and_tells_admins(login_as):
    client = login_as("trainee")
    refused = ask_for_erasure(client, note="Please erase everything")
    assert refused.status_code == 400 and 'id="confirm-error"' in refused.get_data(as_text=True)
    assert db.session.execute(select(func.count(ErasureRequest.id))).scalar_one() == 0
    assert ask_for_erasure(client, note="Please erase everything", confirm="y").status_code == 302
    assert "You asked on" in client.get("/my-data").get_data(as_text=True)
    assert ask_for_erasure(client, confirm="y").status_code == 400  # one request at a time
    admin_notes = db.session.execute(select(Notification).join(User, Notification.user_id == User.id)
                                     .where(User.email == "admin@example.org")).scalars().all()
    assert len(admin_notes) == 1 and "Amira" not in admin_notes[0].body  # no personal details in the e-mail


def test_an_approved_erasure_removes_personal_data_and_keeps_the_record(app, login_as):
    trainee_client = login_as("trainee")
    trainee = person("trainee1@example.org")
    notify(trainee, "Course day 3 has changed", "Day 3 moved.")
    db.session.add(Invitation(user_id=trainee.id, email=trainee.email, token_hash="0" * 64,
                              expires_at=utcnow() + timedelta(days=7)))
    db.session.commit()
    ask_for_erasure(trainee_client, note="I have moved on, thank you", confirm="y")
    admin = app.test_client()
    assert sign_in(admin, "admin@example.org").status_code == 302
    page = admin.get("/admin/erasure-requests").get_data(as_text=True)
    assert "Amira Hassan" in page and "I have moved on" in page
    request_id = db.session.execute(select(ErasureRequest.id)).scalar_one()
    response = admin.post(f"/admin/erasure-requests/{request_id}", data={
        "csrf_token": csrf_token(admin, "/admin/erasure-requests"), "decision": "approve"})
    assert response.status_code == 302, response.get_data(as_text=True)

    erased = db.session.get(User, trainee.id)
    db.session.refresh(erased)
    assert erased.display_name == f"Erased person #{trainee.id}"
    assert erased.email == f"erased-{trainee.id}@erased.invalid"
    assert not erased.active and erased.password_hash is None and erased.pronouns is None
    # Sessions, notifications and e-mails are gone; the trainee's browser is signed out.
    assert db.session.execute(select(func.count()).select_from(WebSession).where(WebSession.user_id == trainee.id)).scalar_one() == 0
    assert db.session.execute(select(func.count(Notification.id)).where(Notification.user_id == trainee.id)).scalar_one() == 0
    assert db.session.execute(select(func.count(OutboxEmail.id)).where(
        OutboxEmail.to_address == "trainee1@example.org")).scalar_one() == 0
    assert "/sign-in" in trainee_client.get("/home").headers["Location"]
    assert db.session.execute(select(func.count(Invitation.id)).where(Invitation.user_id == trainee.id)).scalar_one() == 0
    # What accreditation needs stays: the enrolment, its status and supervisors, the role in the cohort.
    enrolment = db.session.execute(select(Enrolment).where(Enrolment.trainee_id == trainee.id)).scalar_one()
    assert enrolment.status == "active" and enrolment.academic_supervisor_id is not None
    assert db.session.execute(select(func.count(RoleGrant.id)).where(RoleGrant.user_id == trainee.id)).scalar_one() == 1
    # Nothing left in the audit log names them.
    texts = db.session.execute(select(AuditEvent.before, AuditEvent.after, AuditEvent.reason)).all()
    assert not any("trainee1@example.org" in (t or "") or "Amira Hassan" in (t or "") for row in texts for t in row)
    request = db.session.get(ErasureRequest, request_id)
    db.session.refresh(request)
    assert request.status == "approved" and request.note is None
    listing = admin.get("/admin/people?q=erased").get_data(as_text=True)
    assert f"Erased person #{trainee.id}" in listing


def test_declining_needs_a_reason_and_tells_the_person(login_as, app):
    ask_for_erasure(login_as("trainee"), confirm="y")
    admin = app.test_client()
    sign_in(admin, "admin@example.org")
    request_id = db.session.execute(select(ErasureRequest.id)).scalar_one()
    path = f"/admin/erasure-requests/{request_id}"
    token = csrf_token(admin, "/admin/erasure-requests")
    missing = admin.post(path, data={"csrf_token": token})
    assert missing.status_code == 400 and "Choose whether to erase" in missing.get_data(as_text=True)
    no_reason = admin.post(path, data={"csrf_token": token, "decision": "decline"})
    assert no_reason.status_code == 400 and 'id="note-error"' in no_reason.get_data(as_text=True)
    assert admin.post(path, data={"csrf_token": token, "decision": "decline",
                                  "note": "Your certificate is still being issued; ask again in May."}).status_code == 302
    trainee = person("trainee1@example.org")
    assert trainee.display_name == "Amira Hassan" and trainee.active
    told = db.session.execute(select(Notification).where(Notification.user_id == trainee.id)).scalar_one()
    assert "ask again in May" in told.body
    again = admin.post(path, data={"csrf_token": token, "decision": "approve"})
    assert again.status_code == 400 and "already been decided" in again.get_data(as_text=True)


def test_an_admin_cannot_approve_their_own_request(login_as):
    client = login_as("admin")
    ask_for_erasure(client, confirm="y")
    request_id = db.session.execute(select(ErasureRequest.id)).scalar_one()
    response = client.post(f"/admin/erasure-requests/{request_id}", data={
        "csrf_token": csrf_token(client, "/admin/erasure-requests"), "decision": "approve"})
    assert response.status_code == 400 and "Another admin must decide" in response.get_data(as_text=True)
    assert person("admin@example.org").active


def test_retention_settings_are_saved_checked_and_applied(login_as, runner):
    client = login_as("admin")
    page = client.get("/admin/retention").get_data(as_text=True)
    assert "In-app notifications: months kept" in page and 'value="24"' in page
    token = csrf_token(client, "/admin/retention")
    bad = client.post("/admin/retention", data={"csrf_token": token, "months-notifications": "-3",
                                                "months-email_outbox": "lots"})
    assert bad.status_code == 400 and 'id="months-notifications-error"' in bad.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(RetentionSetting)).scalar_one() == 0
    assert client.post("/admin/retention", data={"csrf_token": token, "months-notifications": "6",
                                                 "months-email_outbox": ""}).status_code == 302
    settings = {s.data_type: s.months for s in db.session.execute(select(RetentionSetting)).scalars()}
    assert settings == {"notifications": 6, "email_outbox": None}
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "retention.changed")).scalar_one()
    assert json.loads(event.before) == {"notifications": 24, "email_outbox": 12}
    trainee = person("trainee1@example.org")
    old = notify(trainee, "Old news", "From long ago", email=False)
    old.created_at = utcnow() - timedelta(days=400)
    notify(trainee, "Recent news", "This week", email=False)
    db.session.commit()
    dry = runner.invoke(args=["retention", "apply", "--dry-run"])
    assert dry.exit_code == 0 and "In-app notifications (kept 6 months): 1 would be deleted" in dry.output
    assert "Copies of e-mails" not in dry.output  # blank: kept
    result = runner.invoke(args=["retention", "apply"])
    assert result.exit_code == 0 and "1 deleted" in result.output
    db.session.expire_all()
    subjects = set(db.session.execute(select(Notification.subject).where(Notification.user_id == trainee.id)).scalars())
    assert subjects == {"Recent news"}


def test_diary_retention_removes_diaries_only_of_trainees_whose_course_has_ended(login_as, runner):
    from datetime import date

    from lms.diary import services as diary
    from lms.diary.models import DiaryEntry

    finished = person("trainee13@example.org")
    fields, problems = diary.read_entry_form(title="After the course", body="What I take with me.",
                                             entry_date=date.today().isoformat(), day_number="", prompt="",
                                             tags="", mood="", today=date.today(), max_day=11, saving=True)
    assert not problems
    diary.create_entry(finished, fields, draft=False)
    running = person("trainee1@example.org")
    diary.create_entry(running, fields, draft=False)
    db.session.commit()
    running_entries = diary.entry_count(running.id)

    client = login_as("admin")
    assert "Reflective diaries and wellness plans: months kept" in client.get("/admin/retention").get_data(as_text=True)
    token = csrf_token(client, "/admin/retention")
    assert client.post("/admin/retention", data={"csrf_token": token, "months-notifications": "24",
                                                 "months-email_outbox": "12", "months-diaries": "1"}).status_code == 302
    dry = runner.invoke(args=["retention", "apply", "--dry-run"])
    assert "Reflective diaries and wellness plans (kept 1 months): 1 would be deleted" in dry.output
    assert diary.entry_count(finished.id) == 1
    result = runner.invoke(args=["retention", "apply"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.execute(select(func.count(DiaryEntry.id)).where(DiaryEntry.trainee_id == finished.id)).scalar_one() == 0
    assert diary.entry_count(running.id) == running_entries


def test_retention_run_removes_ended_sign_in_sessions(app, client, runner):
    client.get("/sign-in")  # an anonymous visit keeps a session row for its CSRF token
    assert db.session.execute(select(func.count()).select_from(WebSession)).scalar_one() == 1
    fresh = app.test_client()
    fresh.get("/sign-in")
    db.session.execute(WebSession.__table__.update().where(WebSession.id == db.session.execute(
        select(WebSession.id).order_by(WebSession.created_at).limit(1)).scalar_one())
        .values(last_seen_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    result = runner.invoke(args=["retention", "apply"])
    assert result.exit_code == 0 and "Ended sign-in sessions removed: 1." in result.output
    assert db.session.execute(select(func.count()).select_from(WebSession)).scalar_one() == 1
