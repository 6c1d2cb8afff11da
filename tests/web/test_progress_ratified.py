"""Once an exam board has ratified a trainee's outcome, every page shows the board's locked outcome (gap 3)."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import date

from sqlalchemy import select

from lms.extensions import db
from lms.progress.models import BoardDecision, ExamBoard
from tests.conftest import csrf_token, sign_in
from tests.web.test_progress_visibility import enrolment_of, released_attempt

# What the board stored: not what the rules say today (trainee1 has not met the attendance yet).
PROPOSED = {"award": "credit", "status": "provisional", "credits": 20, "level": 4, "framework": "FHEQ",
            "pass_mark": 40, "attendance": {"counted": 10, "required": 9, "met": True, "reachable": True},
            "assessments": {"accredited-assignment": {"raw_mark": 62, "recorded_mark": 40, "flags": ["R"],
                                                      "passed": True, "attempts_used": 2, "attempts_left": 0}},
            "achievable": {"credit": True, "completion": False}, "missing": []}


def ratify(enrolment, *, award="credit", credits=20, mark=40, flags="R", board_status="ratified") -> BoardDecision:
    board = ExamBoard(cohort_id=enrolment.cohort_id, held_on=date(2027, 3, 15), members="Chair",
                      status=board_status)
    db.session.add(board)
    db.session.flush()
    decision = BoardDecision(board_id=board.id, enrolment_id=enrolment.id, decision="ratify", award=award,
                             credits=credits, recorded_mark=mark, flags=flags, outcome_json=json.dumps(PROPOSED))
    db.session.add(decision)
    db.session.commit()
    return decision


def api_outcome(client, enrolment) -> dict:
    body = client.get("/api/v1/cohorts/demo-running/progress").get_json()
    return next(t for t in body["trainees"] if t["enrolment_id"] == enrolment.id)["outcome"]


def test_pages_show_the_ratified_outcome(client, demo):
    enrolment = enrolment_of("trainee1@example.org")
    released_attempt(enrolment, 62)
    ratify(enrolment)

    sign_in(client, "trainee1@example.org")
    page = html.unescape(client.get("/progress").get_data(as_text=True))
    assert 'data-award="credit"' in page and 'data-status="ratified"' in page
    assert 'data-mark="40"' in page and "(R)" in page and "The exam board has confirmed it." in page
    assert "10 of the 9 course days needed" in page
    assert "What you still need to do" not in page
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})

    sign_in(client, "academic1@example.org")
    text = client.get("/progress/caseload.csv").get_data(as_text=True)
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["Trainee"] == enrolment.trainee.display_name)
    assert row["Mark"] == "40 R" and row["Status"] == "Confirmed by the exam board"
    assert row["Forecast"] == "Certificate with 20 credits" and row["Days counted"] == "10"
    outcome = api_outcome(client, enrolment)
    assert outcome["status"] == "ratified" and outcome["award"] == "credit" and outcome["credits"] == 20
    assert outcome["assessments"]["accredited-assignment"]["recorded_mark"] == 40
    assert outcome["assessments"]["accredited-assignment"]["flags"] == ["R"]
    assert outcome["missing"] == [] and outcome["achievable"] == {"credit": True, "completion": False}
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})

    sign_in(client, "tutor1@example.org")
    text = client.get("/progress/cohorts/demo-running/progress.csv").get_data(as_text=True)
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["Trainee"] == enrolment.trainee.display_name)
    assert row["Mark"] == "40 R" and row["Status"] == "Confirmed by the exam board"


def test_a_correction_changes_what_pages_show(client, demo):
    enrolment = enrolment_of("trainee1@example.org")
    released_attempt(enrolment, 62)
    first = ratify(enrolment)
    first.superseded = True
    db.session.add(BoardDecision(board_id=first.board_id, enrolment_id=enrolment.id, decision="ratify",
                                 award="completion", credits=0, recorded_mark=38, flags="", corrects_id=first.id,
                                 outcome_json=json.dumps(PROPOSED)))
    db.session.commit()
    sign_in(client, "admin@example.org")
    outcome = api_outcome(client, enrolment)
    assert outcome["award"] == "completion" and outcome["credits"] == 0
    assert outcome["assessments"]["accredited-assignment"]["recorded_mark"] == 38


def test_no_lock_before_ratification_or_after_a_deferral(client, demo):
    enrolment = enrolment_of("trainee1@example.org")
    released_attempt(enrolment, 62)
    ratify(enrolment, board_status="open")  # decided, but the board has not ratified yet
    sign_in(client, "admin@example.org")
    outcome = api_outcome(client, enrolment)
    assert outcome["status"] == "in_progress" and outcome["award"] is None
    assert outcome["assessments"]["accredited-assignment"]["recorded_mark"] == 62
    board = db.session.execute(select(ExamBoard)).scalar_one()
    board.status = "ratified"
    standing = db.session.execute(select(BoardDecision)).scalar_one()
    standing.superseded = True
    db.session.add(BoardDecision(board_id=board.id, enrolment_id=enrolment.id, decision="defer",
                                 reason="Waiting for a mark", corrects_id=standing.id))
    db.session.commit()
    assert api_outcome(client, enrolment)["status"] == "in_progress"


def test_a_mark_not_yet_released_stays_hidden_after_ratification(client, demo):
    enrolment = enrolment_of("trainee1@example.org")
    ratify(enrolment)  # no released mark for this trainee
    sign_in(client, "trainee1@example.org")
    page = client.get("/progress").get_data(as_text=True)
    assert 'data-status="ratified"' in page and "data-mark=" not in page
