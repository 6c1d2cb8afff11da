"""Setting up each cohort's assignments, and helpers the other coursework tests share."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.cohorts.models import Cohort, CourseDay
from lms.coursework import services
from lms.coursework.models import Assignment, Submission
from lms.extensions import db
from tests.conftest import csrf_token

LONDON = ZoneInfo("Europe/London")
ESSAY = "Peer support is a relationship of mutual respect. " * 20


def pdf_bytes(extra: bytes = b"") -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + extra + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def docx_bytes(text: str = "My reflective essay on peer support") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml",
                         '<w:document><w:body><w:p><w:r><w:t>' + text + '</w:t></w:r></w:p></w:body></w:document>')
    return out.getvalue()


def odt_bytes(text: str = "Strengths spotting practice") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", f"<office:document-content><text:p>{text}</text:p></office:document-content>")
    return out.getvalue()


def person(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def cohort(slug: str = "demo-running") -> Cohort:
    return db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one()


def assignment(slug: str = "demo-running", assessment: str = "accredited-assignment") -> Assignment:
    """The cohort's assignment, set up if needed (committed), with tutor1 as the demo's lead tutor."""
    from lms.cohorts import demo as cohorts_demo

    cohorts_demo.seed(date.today())
    found = cohort(slug)
    services.ensure_assignments({found.id})
    db.session.commit()
    return db.session.execute(select(Assignment).where(
        Assignment.cohort_id == found.id, Assignment.assessment_slug == assessment)).scalar_one()


def submit(email: str, assignment_id: int, text: str = ESSAY, now: datetime | None = None, files=()) -> Submission:
    """Submit through the service as a trainee (committed)."""
    submission = services.save_work(person(email), assignment_id, text=text, files=files, declaration=True,
                                    submit=True, now=now)
    db.session.commit()
    return submission


def fresh(model, key):
    db.session.expire_all()
    return db.session.get(model, key)


def post(client, path: str, data: dict | None = None, **kwargs):
    """POST with a CSRF token from the signed-in person's home page."""
    payload = {"csrf_token": csrf_token(client, "/home")}
    payload.update(data or {})
    return client.post(path, data=payload, **kwargs)


# --- tests of the setting up ---------------------------------------------------------------


def test_each_cohort_gets_its_assignments_with_the_due_date_rule(app, demo):
    found = cohort("demo-running")
    accredited = assignment("demo-running")
    practice = assignment("demo-running", "strengths-spotting-exercise")
    last_day = db.session.execute(select(func.max(CourseDay.date)).where(CourseDay.cohort_id == found.id)).scalar()
    due = accredited.due_at.astimezone(LONDON)
    assert due.date() == last_day + timedelta(weeks=4) and due.time() == time(17, 0)
    # The cut-off is 5 working days later, at the same time.
    cut_off = accredited.cut_off_at.astimezone(LONDON)
    assert cut_off.time() == time(17, 0) and cut_off > due
    assert sum(1 for n in range((cut_off.date() - due.date()).days)
               if (due.date() + timedelta(days=n + 1)).weekday() < 5) == 5
    assert accredited.credit_bearing and accredited.anonymous and accredited.pass_mark == 40
    assert [c["id"] for c in accredited.rubric] == ["understanding", "application", "reflection", "evidence",
                                                    "structure"]
    assert sum(c["weight"] for c in accredited.rubric) == 100
    assert "text" in accredited.submission_types and "file" in accredited.submission_types
    assert not practice.credit_bearing and not practice.anonymous and practice.rubric == []


def test_setting_up_twice_adds_nothing(app, demo):
    assignment("demo-running")
    services.ensure_assignments({cohort("demo-running").id, cohort("demo-finished").id})
    services.ensure_assignments({cohort("demo-running").id})
    db.session.commit()
    assert db.session.execute(select(func.count(Assignment.id))).scalar() == 4


def test_trainees_see_their_assignments(login_as):
    client = login_as("trainee")
    page = client.get("/assignment").get_data(as_text=True)
    assert "Accredited assignment" in page and "Practice task: strengths spotting" in page
    assert "You have not started yet" in page


def test_the_navigation_shows_assignment_to_trainees_and_marking_to_tutors(login_as, client):
    assert ">Assignment</a>" in login_as("trainee").get("/home").get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    page = login_as("tutor").get("/home").get_data(as_text=True)
    assert ">Marking</a>" in page and ">Assignment</a>" not in page


def test_times_are_shown_in_uk_time(app, demo):
    accredited = assignment()
    # 5pm in London is 16:00 or 17:00 UTC depending on the season, never anything else.
    assert accredited.due_at.astimezone(timezone.utc).time() in (time(16, 0), time(17, 0))
    assert isinstance(accredited.due_at.astimezone(LONDON).date(), date)


def test_an_admin_changes_the_due_date_and_settings(login_as):
    accredited = assignment()
    client = login_as("admin")
    page = client.get(f"/marking/{accredited.id}/settings").get_data(as_text=True)
    assert 'type="date"' in page and "Anonymous marking" in page
    form = {"version": str(accredited.version), "due_date": "2031-03-07", "due_time": "12:00",
            "cut_off_date": "2031-03-01", "cut_off_time": "17:00", "marks_due_date": "", "anonymous": "y",
            "tolerance": "ten"}
    refused = post(client, f"/marking/{accredited.id}/settings", form)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "on or after the due date" in text and "whole number of marks" in text
    assert fresh(Assignment, accredited.id).due_at == accredited.due_at
    form.update(cut_off_date="2031-03-14", tolerance="8", second_marker_sees_first_mark="y")
    assert post(client, f"/marking/{accredited.id}/settings", form).status_code == 302
    changed = fresh(Assignment, accredited.id)
    assert changed.due_at.astimezone(LONDON).isoformat() == "2031-03-07T12:00:00+00:00"
    assert changed.third_marker_tolerance == 8 and changed.second_marker_sees_first_mark
    stale = post(client, f"/marking/{accredited.id}/settings", form)
    assert stale.status_code == 409 and "Someone else changed these settings" in stale.get_data(as_text=True)


def test_only_admins_change_the_settings(login_as):
    accredited = assignment()
    assert login_as("tutor").get(f"/marking/{accredited.id}/settings").status_code == 403
