"""Recording that a trainee opts out of assessment, and back in (issue 9 audit, gap 2)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from lms.cohorts.models import Enrolment
from lms.database import utcnow
from lms.extensions import db
from lms.progress import services
from lms.progress.facts import facts_for
from lms.progress.models import AssessmentOptOut
from tests.conftest import csrf_token, sign_in


def enrolment_of(email: str) -> Enrolment:
    trainee = db.session.execute(select(User).where(User.email == email)).scalar_one()
    return db.session.execute(select(Enrolment).options(*services.enrolment_options())
                              .where(Enrolment.trainee_id == trainee.id)).scalar_one()


def post_change(client, enrolment_id: int, **data):
    url = f"/progress/trainees/{enrolment_id}"
    return client.post(f"{url}/assessment-opt-out", data={"csrf_token": csrf_token(client, url), **data})


def opted_out(enrolment: Enrolment) -> bool:
    facts, _ = facts_for([enrolment], utcnow())
    return facts[enrolment.id].opted_out_of_assessment


def test_admin_records_an_opt_out_and_reverses_it(client, demo):
    enrolment = enrolment_of("trainee1@example.org")
    today = utcnow().date().isoformat()
    sign_in(client, "admin@example.org")
    assert b"Opting out of assessment" in client.get(f"/progress/trainees/{enrolment.id}").data

    response = post_change(client, enrolment.id, choice="out", effective_on=today,
                           reason="Chose to attend for learning only; not taking the assignment.")
    assert response.status_code == 302
    db.session.expire_all()
    assert opted_out(enrolment)
    page = client.get(f"/progress/trainees/{enrolment.id}").get_data(as_text=True)
    assert "has opted out of assessment" in page and "Chose to attend for learning only" in page
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "progress.assessment_opted_out")).scalar_one()
    assert event.subject_user_id == enrolment.trainee_id and json.loads(event.after)["opted_out_of_assessment"]

    # The engine reads it: nothing more is asked of the assignment, and credit is no longer possible.
    api = client.get("/api/v1/cohorts/demo-running/progress").get_json()
    outcome = next(t for t in api["trainees"] if t["enrolment_id"] == enrolment.id)["outcome"]
    assert outcome["achievable"]["credit"] is False
    assert not any("assignment" in sentence for sentence in outcome["missing"])

    # Reversed by a second recorded change; both are kept.
    response = post_change(client, enrolment.id, choice="in", effective_on=today,
                           reason="Decided to take the assignment after all.")
    assert response.status_code == 302
    db.session.expire_all()
    assert not opted_out(enrolment)
    assert db.session.scalar(select(func.count(AssessmentOptOut.id))) == 2
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "progress.assessment_opted_back_in")) == 1


def test_trainee_path_shows_the_opt_out(client, demo):
    enrolment = enrolment_of("trainee1@example.org")
    sign_in(client, "admin@example.org")
    assert post_change(client, enrolment.id, choice="out", effective_on=utcnow().date().isoformat(),
                       reason="Learning only.").status_code == 302
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    sign_in(client, "trainee1@example.org")
    page = client.get("/progress").get_data(as_text=True)
    assert "You chose not to be assessed" in page


def test_bad_opt_out_input_is_refused_and_nothing_saved(client, demo):
    enrolment = enrolment_of("trainee1@example.org")
    sign_in(client, "admin@example.org")
    response = post_change(client, enrolment.id, choice="maybe", effective_on="15/03/2027", reason="  ")
    assert response.status_code == 400
    for message in (b"Choose whether the trainee is opting out", b"Enter the date the trainee made this choice",
                    b"Give the reason"):
        assert message in response.data
    future = post_change(client, enrolment.id, choice="out", effective_on="2999-01-01", reason="Kept text")
    assert future.status_code == 400 and b"cannot be in the future" in future.data
    assert b"Kept text" in future.data  # what was typed is not lost
    nothing = post_change(client, enrolment.id, choice="in", effective_on=utcnow().date().isoformat(),
                          reason="Back in")
    assert nothing.status_code == 400 and b"nothing to reverse" in nothing.data
    assert db.session.scalar(select(func.count(AssessmentOptOut.id))) == 0


def test_only_admins_record_opt_outs(client, demo):
    enrolment = enrolment_of("trainee1@example.org")
    for email in ("academic1@example.org", "tutor1@example.org", "supervisor1@example.org", "trainee1@example.org"):
        sign_in(client, email)
        response = post_change(client, enrolment.id, choice="out", effective_on=utcnow().date().isoformat(),
                               reason="Not mine to record.") if email != "trainee1@example.org" else client.post(
            f"/progress/trainees/{enrolment.id}/assessment-opt-out",
            data={"csrf_token": csrf_token(client, "/progress"), "choice": "out"})
        assert response.status_code == 403, email
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    assert db.session.scalar(select(func.count(AssessmentOptOut.id))) == 0
    sign_in(client, "academic1@example.org")
    assert b"Record the change" not in client.get(f"/progress/trainees/{enrolment.id}").data
