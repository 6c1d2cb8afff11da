"""What each supervisor sees of a trainee's results (issue 9 audit, gap 1).

A personal supervisor sees attendance and progress; marks, pass or fail,
mark flags and the award forecast only if the trainee consents; and never
anything about mitigating circumstances, which only the trainee's academic
supervisor and admins see.
"""

from __future__ import annotations

import re

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.cohorts.models import Cohort, Enrolment
from lms.database import utcnow
from lms.extensions import db
from lms.progress import services
from tests.conftest import csrf_token, sign_in

coursework = pytest.importorskip("lms.coursework.models")


def user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def enrolment_of(email: str) -> Enrolment:
    return db.session.execute(select(Enrolment).where(Enrolment.trainee_id == user(email).id)).scalar_one()


def released_attempt(enrolment: Enrolment, mark: int, *, mitigation: str | None = None, late_days: int = 0) -> None:
    """A first attempt at the accredited assignment, submitted and released at `mark`, with an optional claim."""
    cohort = db.session.get(Cohort, enrolment.cohort_id)
    due = utcnow() - timedelta(days=30)
    assignment = db.session.execute(select(coursework.Assignment).where(
        coursework.Assignment.cohort_id == cohort.id)).scalar_one_or_none()
    if assignment is None:
        assignment = coursework.Assignment(cohort_id=cohort.id, assessment_slug="accredited-assignment",
                                           title="Accredited assignment", due_at=due, cut_off_at=due + timedelta(days=7))
        db.session.add(assignment)
        db.session.flush()
    candidate = coursework.Candidate(enrolment_id=enrolment.id, number=5000 + enrolment.id)
    db.session.add(candidate)
    db.session.flush()
    submitted = due + timedelta(days=late_days) if late_days else due - timedelta(days=1)
    submission = coursework.Submission(
        assignment_id=assignment.id, enrolment_id=enrolment.id, candidate_id=candidate.id, attempt=1,
        status="submitted", submitted_at=submitted, state="released", mark=mark, agreed_mark=mark,
        released_at=utcnow() - timedelta(days=2), updated_at=utcnow() - timedelta(days=2))
    db.session.add(submission)
    db.session.flush()
    if mitigation:
        db.session.add(coursework.MitigatingClaim(submission_id=submission.id, category="health",
                                                  details="Unwell in the week of the deadline.", status=mitigation))
    db.session.commit()


def consent(enrolment: Enrolment, client) -> None:
    sign_in(client, enrolment.trainee.email)
    response = client.post("/progress/consent", data={"csrf_token": csrf_token(client, "/progress"),
                                                      "enrolment_id": enrolment.id, "consented": "y"})
    assert response.status_code == 302
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})


def caseload_csv_row(client, name: str) -> dict:
    text = client.get("/progress/caseload.csv").get_data(as_text=True)
    return next(row for row in csv.DictReader(io.StringIO(text)) if row["Trainee"] == name)


def api_entry(client, enrolment: Enrolment) -> dict:
    response = client.get("/api/v1/cohorts/demo-running/progress")
    assert response.status_code == 200
    return next(t for t in response.get_json()["trainees"] if t["enrolment_id"] == enrolment.id)


@pytest.fixture
def passed_with_mitigation(demo):
    """trainee1 (personal supervisor: supervisor1) passed at 40 after a late submission with accepted mitigation."""
    enrolment = enrolment_of("trainee1@example.org")
    released_attempt(enrolment, 62, mitigation="accepted", late_days=3)
    return enrolment


def test_personal_supervisor_without_consent_sees_no_results(client, passed_with_mitigation):
    enrolment = passed_with_mitigation
    name = enrolment.trainee.display_name
    sign_in(client, "supervisor1@example.org")

    page = client.get(f"/progress/trainees/{enrolment.id}").get_data(as_text=True)
    assert "Submitted" in page
    for leak in ("data-mark=", "Passed", "Done: the", "Forecast", "Mitigation", "mitigating", "MC",
                 services.AWARD_TEXT[None]):
        assert leak not in page, leak
    # The mark itself, anywhere a person reads it (not inside a random nonce or token).
    readable = re.sub(r'(nonce|value|content|href|src|integrity)="[^"]*"', "", page)
    assert not re.search(r"\b62\b", readable)
    assert "not chosen to share their marks" in page

    grid = client.get("/progress/overview").get_data(as_text=True)
    for leak in ("Passed", "Mitigation", " MC"):
        assert leak not in grid, leak

    row = caseload_csv_row(client, name)
    assert row["Assignment"] == "Submitted" and row["Mark"] == ""
    assert row["Extension or mitigation"] == "" and row["Forecast"] == services.NOT_SHARED

    entry = api_entry(client, enrolment)
    assert entry["results_visible"] is False
    outcome = entry["outcome"]
    assert outcome["award"] is None and outcome["credits"] is None
    assert outcome["achievable"] == {"credit": None, "completion": None}
    assessment = outcome["assessments"]["accredited-assignment"]
    assert assessment == {"raw_mark": None, "recorded_mark": None, "flags": [], "passed": None,
                          "attempts_used": None, "attempts_left": None}
    assert not any("mitigating" in sentence for sentence in outcome["missing"])


def test_personal_supervisor_with_consent_sees_marks_but_never_mitigation(client, passed_with_mitigation):
    enrolment = passed_with_mitigation
    consent(enrolment, client)
    sign_in(client, "supervisor1@example.org")

    page = client.get(f"/progress/trainees/{enrolment.id}").get_data(as_text=True)
    assert 'data-mark="62"' in page and "Done: the" in page and "Forecast" in page
    for leak in ("Mitigation", "mitigating", "MC"):
        assert leak not in page, leak

    row = caseload_csv_row(client, enrolment.trainee.display_name)
    assert row["Assignment"] == "Passed" and row["Mark"] == "62"
    assert row["Extension or mitigation"] == ""

    entry = api_entry(client, enrolment)
    assert entry["results_visible"] is True
    assessment = entry["outcome"]["assessments"]["accredited-assignment"]
    assert assessment["recorded_mark"] == 62 and assessment["passed"] is True
    assert "MC" not in assessment["flags"]


def test_academic_supervisor_and_admin_see_mitigation(client, passed_with_mitigation):
    enrolment = passed_with_mitigation
    sign_in(client, "academic1@example.org")
    page = client.get(f"/progress/trainees/{enrolment.id}").get_data(as_text=True)
    assert "Mitigation accepted" in page and 'data-mark="62"' in page and "(MC)" in page
    assert caseload_csv_row(client, enrolment.trainee.display_name)["Mark"] == "62 MC"
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    sign_in(client, "admin@example.org")
    entry = api_entry(client, enrolment)
    assert entry["outcome"]["assessments"]["accredited-assignment"]["flags"] == ["MC"]


def test_tutor_grid_leaves_out_mitigation(client, passed_with_mitigation):
    sign_in(client, "tutor1@example.org")
    text = client.get("/progress/cohorts/demo-running/progress.csv").get_data(as_text=True)
    row = next(r for r in csv.DictReader(io.StringIO(text))
               if r["Trainee"] == passed_with_mitigation.trainee.display_name)
    assert row["Mark"] == "62" and row["Extension or mitigation"] == ""


def test_no_consent_hides_a_referral(client, demo):
    """A failed first attempt: without consent the personal supervisor cannot tell it from a pass."""
    enrolment = enrolment_of("trainee3@example.org")
    released_attempt(enrolment, 31)
    sign_in(client, "supervisor1@example.org")
    page = client.get(f"/progress/trainees/{enrolment.id}").get_data(as_text=True)
    for leak in ("31", "second attempt", "Not passed", "Waiting for a new date", "attempts used"):
        assert leak not in page, leak
    row = caseload_csv_row(client, enrolment.trainee.display_name)
    assert row["Assignment"] == "Submitted" and row["Mark"] == "" and "overdue" not in row["Flags"].lower()
