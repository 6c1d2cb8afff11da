"""Progress pages for every role, the API and the exam board (issue 9)."""

from __future__ import annotations

import html
import json
from datetime import timedelta, time

from sqlalchemy import func, insert, select

from lms.accounts.models import RoleGrant, User
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.database import utcnow
from lms.extensions import db
from lms.progress import services
from lms.progress.facts import facts_for, facts_to_dict
from lms.progress.models import ApiToken, BoardDecision, ExamBoard, SupervisionNote
from tests.conftest import csrf_token, sign_in


def user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def cohort(slug: str) -> Cohort:
    return db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one()


def enrolment_of(email: str, slug: str = "demo-running") -> Enrolment:
    return db.session.execute(select(Enrolment).where(
        Enrolment.trainee_id == user(email).id, Enrolment.cohort_id == cohort(slug).id)).scalar_one()


# --- the trainee's path matches `lms rules check` ---------------------------------------------


def test_trainee_path_matches_the_rules_check_command(app, client, demo, runner, tmp_path):
    sign_in(client, "trainee1@example.org")
    response = client.get("/progress")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))

    enrolment = db.session.execute(select(Enrolment).options(*services.enrolment_options())
                                   .where(Enrolment.id == enrolment_of("trainee1@example.org").id)).scalar_one()
    facts, _ = facts_for([enrolment], utcnow(), released_only=True)
    facts_file = tmp_path / "facts.json"
    facts_file.write_text(json.dumps(facts_to_dict(facts[enrolment.id])))
    rules_file = f"{app.config['LMS_ASSESSMENTS_DIR']}/{enrolment.cohort.course_slug}/rules.toml"
    result = runner.invoke(args=["rules", "check", "--rules", rules_file, "--facts", str(facts_file)])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)

    assert f'data-award="{outcome["award"] or ""}"' in page
    assert f'data-status="{outcome["status"]}"' in page
    assert f'data-counted="{outcome["attendance"]["counted"]}"' in page
    assert f'{outcome["attendance"]["counted"]} of the {outcome["attendance"]["required"]} course days needed' in page
    assert outcome["missing"], "a running cohort still has something to do"
    for sentence in outcome["missing"]:
        assert sentence in page
    for assessment in outcome["assessments"].values():
        if assessment["recorded_mark"] is None:
            assert "data-mark=" not in page


def test_trainee_sets_mark_sharing_consent(client, demo):
    sign_in(client, "trainee1@example.org")
    enrolment_id = enrolment_of("trainee1@example.org").id
    response = client.post("/progress/consent", data={"csrf_token": csrf_token(client, "/progress"),
                                                      "enrolment_id": enrolment_id, "consented": "y"})
    assert response.status_code == 302
    assert services._consents([enrolment_id]) == {enrolment_id}
    # Someone else's enrolment looks like one that does not exist, and nothing changes.
    other = enrolment_of("trainee2@example.org").id
    response = client.post("/progress/consent", data={"csrf_token": csrf_token(client, "/progress"),
                                                      "enrolment_id": other, "consented": "y"})
    assert response.status_code == 404
    assert services._consents([other]) == set()


# --- supervisors ---------------------------------------------------------------------------


def test_supervisor_grid_filters_and_opens_a_trainee(client, demo):
    sign_in(client, "academic1@example.org")
    response = client.get("/progress/overview")
    assert response.status_code == 200
    assert b"Trainees you supervise" in response.data
    at_risk = client.get("/progress/overview?filter=at-risk&sort=flags&order=desc")
    assert at_risk.status_code == 200
    assert client.get("/progress/overview?filter=nonsense&sort=bogus").status_code == 200
    enrolment = enrolment_of("trainee1@example.org")
    assert client.get(f"/progress/trainees/{enrolment.id}").status_code == 200
    csv_response = client.get("/progress/caseload.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"


def test_supervision_notes_are_for_staff_only(client, demo):
    enrolment_id = enrolment_of("trainee1@example.org").id
    sign_in(client, "academic1@example.org")
    token = csrf_token(client, f"/progress/trainees/{enrolment_id}")
    empty = client.post(f"/progress/trainees/{enrolment_id}/notes", data={"csrf_token": token, "text": "  "})
    assert empty.status_code == 400 and b"Write the note before saving it." in empty.data
    assert db.session.scalar(select(func.count(SupervisionNote.id))) == 0
    saved = client.post(f"/progress/trainees/{enrolment_id}/notes",
                        data={"csrf_token": token, "text": "Talked about the assignment plan."})
    assert saved.status_code == 302
    assert b"Talked about the assignment plan." in client.get(f"/progress/trainees/{enrolment_id}").data
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    sign_in(client, "trainee1@example.org")
    assert client.get(f"/progress/trainees/{enrolment_id}").status_code == 403
    assert b"Talked about" not in client.get("/progress").data


def test_cohort_grid_csv_is_safe_from_formulas(client, demo):
    trainee = user("trainee1@example.org")
    trainee.display_name = "=HYPERLINK(\"http://x\")"
    db.session.commit()
    sign_in(client, "tutor1@example.org")
    page = client.get("/progress/cohorts/demo-running")
    assert page.status_code == 200 and b"<svg" in page.data and b"<figcaption>" in page.data
    text = client.get("/progress/cohorts/demo-running/progress.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text
    assert "\n=" not in text


def _bulk_cohort(size: int, supervisor_id: int, tag: str) -> None:
    """A cohort of `size` trainees supervised by one person, with registers for six days."""
    start = utcnow().date() - timedelta(days=20)
    new = Cohort(slug=f"bulk-{tag}", name=f"Bulk {tag}", course_slug="peer-support-l4", start_date=start,
                 status="running")
    db.session.add(new)
    db.session.flush()
    days = [CourseDay(cohort_id=new.id, number=n, date=start + timedelta(days=2 * (n - 1)), starts_at=time(9, 30),
                      ends_at=time(16, 0)) for n in range(1, 12)]
    db.session.add_all(days)
    db.session.flush()
    db.session.execute(insert(User), [{"email": f"bulk-{tag}-{i}@example.org", "display_name": f"Bulk {tag} {i}"}
                                      for i in range(size)])
    ids = db.session.execute(select(User.id).where(User.email.like(f"bulk-{tag}-%"))).scalars().all()
    db.session.execute(insert(Enrolment), [{"cohort_id": new.id, "trainee_id": i,
                                            "academic_supervisor_id": supervisor_id} for i in ids])
    try:
        from lms.attendance.models import RegisterMark
    except ImportError:
        return
    marks = [{"course_day_id": day.id, "trainee_id": trainee_id, "status": "present" if k % 5 else "absent"}
             for k, trainee_id in enumerate(ids) for day in days[:6]]
    db.session.execute(insert(RegisterMark), marks)


def test_supervisor_dashboard_queries_do_not_grow_with_trainees(client, demo, count_queries):
    supervisor = User(email="bulk-supervisor@example.org", display_name="Bulk Supervisor")
    from lms.accounts.passwords import hash_password
    supervisor.password_hash = hash_password("peer-support-demo")
    db.session.add(supervisor)
    db.session.flush()
    db.session.add(RoleGrant(user_id=supervisor.id, role=Role.ACADEMIC_SUPERVISOR.value,
                             cohort_id=cohort("demo-running").id))
    _bulk_cohort(50, supervisor.id, "small")
    db.session.commit()
    sign_in(client, "bulk-supervisor@example.org")
    with count_queries() as small:
        response = client.get("/progress/overview")
    assert response.status_code == 200 and response.data.count(b"<th scope=\"row\">") == 50
    _bulk_cohort(450, supervisor.id, "large")
    db.session.commit()
    with count_queries() as large:
        response = client.get("/progress/overview")
    # 500 trainees: the first 50 (by name) show, with the way to the rest.
    page = " ".join(response.get_data(as_text=True).split())
    assert response.status_code == 200 and response.data.count(b"<th scope=\"row\">") == 50
    assert "Showing 1 to 50 of 500 trainees." in page and "Page 1 of 10" in page and 'rel="next"' in page
    assert len(large) == len(small), (len(small), len(large))
    print(f"progress overview: {len(small)} queries for 50 trainees, {len(large)} for 500")

    last = " ".join(client.get("/progress/overview?page=10&sort=name&order=desc").get_data(as_text=True).split())
    assert "Showing 451 to 500 of 500 trainees." in last and "Page 10 of 10" in last and 'rel="next"' not in last
    assert "page=9" in last and "order=desc" in last  # the way back keeps the order
    beyond = " ".join(client.get("/progress/overview?page=999").get_data(as_text=True).split())
    assert "Page 10 of 10" in beyond  # past the end: the last page, not an empty one
    assert "Page 1 of 10" in " ".join(client.get("/progress/overview?page=nonsense").get_data(as_text=True).split())
    # One in five was absent on each of six days: 100 may need support, two pages of them.
    at_risk = " ".join(client.get("/progress/overview?filter=at-risk").get_data(as_text=True).split())
    assert "of the 100 who may need support, of 500 trainees you supervise" in at_risk
    assert "Page 1 of 2" in at_risk and "filter=at-risk" in at_risk
    # A page worked out alone holds the same trainees, with the same figures, as the whole caseload arranged.
    from lms.progress import services as progress

    supervisor_row = db.session.get(User, supervisor.id)
    everyone = progress.caseload(supervisor_row, utcnow())
    for sort, descending in (("name", False), ("name", True), ("cohort", True), ("attendance", False)):
        page, total = progress.caseload_page(supervisor_row, utcnow(), "all", sort, descending, 3)
        expected = progress.arrange(everyone, "all", sort, descending)[100:150]
        assert total == 500 and page.total == 500 and page.page == 3
        assert [(r.enrolment.id, r.outcome.attendance.counted, r.flags) for r in page.items] == [
            (r.enrolment.id, r.outcome.attendance.counted, r.flags) for r in expected], sort
    # The download holds everyone, not one page.
    rows = client.get("/progress/caseload.csv").get_data(as_text=True).strip().splitlines()
    assert len(rows) == 1 + 500


# --- the API -------------------------------------------------------------------------------


def _token(admin: User, email: str, scopes: str = "progress:read") -> str:
    token, errors = services.create_token(admin, "Reporting", email, scopes)
    assert not errors
    db.session.commit()
    return token


def test_api_with_a_token_returns_outcomes(app, client, demo):
    token = _token(user("admin@example.org"), "admin@example.org")
    stored = db.session.execute(select(ApiToken)).scalar_one()
    assert token not in (stored.digest, stored.name) and len(stored.digest) == 64
    response = client.get("/api/v1/cohorts/demo-running/progress", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["cohort"] == "demo-running" and len(body["trainees"]) == 12
    outcome = body["trainees"][0]["outcome"]
    assert set(outcome) == {"award", "status", "credits", "level", "framework", "pass_mark", "attendance",
                            "assessments", "achievable", "missing"}


def test_api_missing_revoked_and_out_of_scope_tokens(app, client, demo):
    admin = user("admin@example.org")
    url = "/api/v1/cohorts/demo-running/progress"
    missing = client.get(url)
    assert missing.status_code == 401 and missing.is_json and "Location" not in missing.headers
    assert client.get(url, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get(url, headers={"Authorization": "Basic abc"}).status_code == 401
    token = _token(admin, "admin@example.org")
    stored = db.session.execute(select(ApiToken)).scalar_one()
    services.revoke_token(admin, stored.id)
    db.session.commit()
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    other = "lms_out-of-scope"
    db.session.add(ApiToken(name="Other", digest=services.digest_of(other), scopes="boards:read", user_id=admin.id))
    db.session.commit()
    refused = client.get(url, headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 403 and "progress:read" in refused.get_json()["error"]


def test_api_supervisor_sees_own_trainees_and_404_elsewhere(app, client, demo):
    token = _token(user("admin@example.org"), "academic1@example.org")
    headers = {"Authorization": f"Bearer {token}"}
    mine = client.get("/api/v1/cohorts/demo-running/progress", headers=headers)
    assert mine.status_code == 200
    linked = {e.id for e in db.session.execute(select(Enrolment).where(
        Enrolment.academic_supervisor_id == user("academic1@example.org").id,
        Enrolment.cohort_id == cohort("demo-running").id)).scalars()}
    assert {t["enrolment_id"] for t in mine.get_json()["trainees"]} == linked
    empty = Cohort(slug="empty-cohort", name="Empty", course_slug="peer-support-l4", start_date=utcnow().date())
    db.session.add(empty)
    db.session.commit()
    assert client.get("/api/v1/cohorts/empty-cohort/progress", headers=headers).status_code == 404
    assert client.get("/api/v1/cohorts/no-such-cohort/progress", headers=headers).status_code == 404
    # With the session too: a tutor is neither admin nor supervisor here.
    sign_in(client, "tutor1@example.org")
    assert client.get("/api/v1/cohorts/demo-running/progress").status_code == 404


def test_only_admins_create_tokens(client, demo):
    sign_in(client, "tutor1@example.org")
    response = client.post("/progress/api-tokens", data={"csrf_token": csrf_token(client, "/home"), "name": "x",
                                                         "email": "tutor1@example.org", "scopes": "progress:read"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_admin_token_form_problems(client, demo):
    sign_in(client, "admin@example.org")
    token = csrf_token(client, "/progress/api-tokens")
    bad = client.post("/progress/api-tokens", data={"csrf_token": token, "name": "", "email": "nobody@example.org",
                                                    "scopes": "everything"})
    assert bad.status_code == 400
    for message in (b"Give the token a name", b"There is no account with that email address",
                    b"Choose from these scopes"):
        assert message in bad.data
    good = client.post("/progress/api-tokens", data={"csrf_token": token, "name": "Reporting",
                                                     "email": "admin@example.org", "scopes": "progress:read"})
    assert good.status_code == 201 and b"lms_" in good.data


# --- the exam board --------------------------------------------------------------------------


def _open_board(client, slug="demo-running") -> ExamBoard:
    response = client.post("/exam-boards", data={
        "csrf_token": csrf_token(client, "/exam-boards"), "cohort_id": cohort(slug).id,
        "held_on": "2027-03-15", "members": "Helen Marsh (chair)\nPriya Shah", "comments": "Fair marking."})
    assert response.status_code == 302, response.data
    return db.session.execute(select(ExamBoard).where(ExamBoard.cohort_id == cohort(slug).id)).scalar_one()


def test_non_admin_cannot_open_a_board(client, demo):
    sign_in(client, "tutor1@example.org")
    response = client.post("/exam-boards", data={"csrf_token": csrf_token(client, "/home"),
                                                 "cohort_id": cohort("demo-running").id, "held_on": "2027-03-15",
                                                 "members": "Someone"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(ExamBoard.id))) == 0


def test_open_board_problems(client, demo):
    sign_in(client, "admin@example.org")
    response = client.post("/exam-boards", data={"csrf_token": csrf_token(client, "/exam-boards"),
                                                 "cohort_id": "", "held_on": "15/03/2027", "members": ""})
    assert response.status_code == 400
    for message in (b"Choose the cohort", b"Enter the date the board meets", b"List the board"):
        assert message in response.data
    assert db.session.scalar(select(func.count(ExamBoard.id))) == 0


def test_ratify_then_correct_with_a_reason(client, demo):
    sign_in(client, "admin@example.org")
    board = _open_board(client)
    page = client.get(f"/exam-boards/{board.id}")
    assert page.status_code == 200 and b"Ratify all proposed outcomes" in page.data
    # A stale version is refused and nothing changes.
    stale = client.post(f"/exam-boards/{board.id}/ratify", data={"csrf_token": csrf_token(client, "/exam-boards"),
                                                                 "version": board.version + 5})
    assert stale.status_code == 409 and b"Someone else changed this exam board" in stale.data
    db.session.refresh(board)
    assert board.status == "open"
    # An extra attempt needs a reason.
    enrolment_id = enrolment_of("trainee1@example.org").id
    no_reason = client.post(f"/exam-boards/{board.id}/decisions", data={
        "csrf_token": csrf_token(client, "/exam-boards"), "version": board.version, "enrolment_id": enrolment_id,
        "decision": "extra_attempt", "reason": ""})
    assert no_reason.status_code == 400 and b"Give the reason" in no_reason.data
    assert db.session.scalar(select(func.count(BoardDecision.id))) == 0
    ok = client.post(f"/exam-boards/{board.id}/decisions", data={
        "csrf_token": csrf_token(client, "/exam-boards"), "version": board.version, "enrolment_id": enrolment_id,
        "decision": "extra_attempt", "reason": "Illness during the referral period."})
    assert ok.status_code == 302
    db.session.refresh(board)
    ratified = client.post(f"/exam-boards/{board.id}/ratify", data={
        "csrf_token": csrf_token(client, "/exam-boards"), "version": board.version})
    assert ratified.status_code == 302
    db.session.expire_all()
    board = db.session.get(ExamBoard, board.id)
    assert board.status == "ratified" and board.ratified_at is not None
    decisions = db.session.execute(select(BoardDecision).where(BoardDecision.board_id == board.id)).scalars().all()
    assert len(decisions) == 12
    mine = next(d for d in decisions if d.enrolment_id == enrolment_id)
    assert mine.decision == "extra_attempt"
    # After ratification a decision must be a correction, with a reason.
    locked = client.post(f"/exam-boards/{board.id}/decisions", data={
        "csrf_token": csrf_token(client, "/exam-boards"), "version": board.version, "enrolment_id": enrolment_id,
        "decision": "defer", "reason": "x"})
    assert locked.status_code == 400
    no_reason = client.post(f"/exam-boards/{board.id}/corrections", data={
        "csrf_token": csrf_token(client, "/exam-boards"), "version": board.version, "enrolment_id": enrolment_id,
        "decision": "ratify", "award": "completion", "reason": ""})
    assert no_reason.status_code == 400 and b"Give the reason for the correction" in no_reason.data
    db.session.expire_all()
    assert db.session.scalar(select(func.count(BoardDecision.id))) == 12
    corrected = client.post(f"/exam-boards/{board.id}/corrections", data={
        "csrf_token": csrf_token(client, "/exam-boards"), "version": board.version, "enrolment_id": enrolment_id,
        "decision": "ratify", "award": "completion", "reason": "The trainee chose not to resubmit."})
    assert corrected.status_code == 302
    db.session.expire_all()
    old = db.session.get(BoardDecision, mine.id)
    new = db.session.execute(select(BoardDecision).where(BoardDecision.corrects_id == mine.id)).scalar_one()
    assert old.superseded and not new.superseded
    assert new.award == "completion" and new.reason == "The trainee chose not to resubmit."


def test_board_decisions_are_admin_only(client, demo):
    sign_in(client, "admin@example.org")
    board = _open_board(client)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    sign_in(client, "tutor1@example.org")
    response = client.post(f"/exam-boards/{board.id}/ratify", data={"csrf_token": csrf_token(client, "/home"),
                                                                     "version": board.version})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(ExamBoard, board.id).status == "open"


def test_a_missing_domain_contributes_nothing(app, client, demo, monkeypatch):
    import sys

    # Importing a module set to None in sys.modules raises ImportError, as if the domain were not installed.
    for module in ("lms.diary.models", "lms.curriculum.services", "lms.coursework.services", "lms.coursework.models"):
        monkeypatch.setitem(sys.modules, module, None)
    sign_in(client, "trainee1@example.org")
    response = client.get("/progress")
    assert response.status_code == 200 and b"My path to the certificate" in response.data


# --- the grid's flags --------------------------------------------------------------------------


def flags_of(email: str, as_of=None) -> list[str]:
    enrolment = db.session.execute(select(Enrolment).options(*services.enrolment_options())
                                   .where(Enrolment.id == enrolment_of(email).id)).scalar_one()
    [row] = services.build_rows([enrolment], as_of or utcnow(), released_only=False)
    return row.flags


def test_no_activity_for_14_days_is_flagged_until_the_trainee_does_something(app, demo):
    from lms.diary.services import EntryContent, EntryFields, create_entry

    # Course days began weeks ago and nothing has happened since: quiet.
    assert services.FLAG_QUIET in flags_of("trainee2@example.org")
    # A reflective diary entry saved today is activity: the flag goes.
    create_entry(user("trainee2@example.org"), EntryFields(EntryContent(title="Day 6", body="Thoughts."),
                                                           utcnow().date(), 6), draft=False)
    db.session.commit()
    assert services.FLAG_QUIET not in flags_of("trainee2@example.org")
    # Fifteen days on, with nothing new, it is back.
    assert services.FLAG_QUIET in flags_of("trainee2@example.org", utcnow() + timedelta(days=15))
    # A withdrawn trainee is not flagged at all.
    enrolment_of("trainee2@example.org").status = "withdrawn"
    db.session.commit()
    assert flags_of("trainee2@example.org", utcnow() + timedelta(days=15)) == []


def test_an_assignment_past_its_deadline_and_not_submitted_is_flagged(app, demo):
    from tests.web.test_coursework_support import assignment, submit

    accredited = assignment()
    assert services.FLAG_OVERDUE not in flags_of("trainee3@example.org")
    late = accredited.due_at + timedelta(days=1)
    assert services.FLAG_OVERDUE in flags_of("trainee3@example.org", late)
    # Once submitted (late), it is no longer overdue.
    submit("trainee3@example.org", accredited.id, now=late)
    assert services.FLAG_OVERDUE not in flags_of("trainee3@example.org", late + timedelta(hours=1))
    # Someone else who has not submitted still is.
    assert services.FLAG_OVERDUE in flags_of("trainee4@example.org", late)


def test_the_caseload_shows_shared_diary_entries_waiting_for_the_supervisors_comment(app, demo, login_as, today):
    from lms.diary import demo as diary_demo
    from lms.diary.models import DiaryEntry, DiaryShare
    from lms.diary.services import share_entry

    diary_demo.seed(today)  # trainee1 shared one entry with academic1, who has commented on it
    db.session.commit()
    client = login_as("academic_supervisor")
    page = " ".join(client.get("/progress/overview").get_data(as_text=True).split())
    assert "(1 shared with you)" in page and "waiting for your comment" not in page
    trainee = user("trainee1@example.org")
    shared = set(db.session.execute(select(DiaryShare.entry_id)).scalars())
    another = db.session.execute(select(DiaryEntry).where(DiaryEntry.trainee_id == trainee.id,
                                                          DiaryEntry.id.not_in(shared))).scalars().first()
    with app.test_request_context():  # sharing tells the supervisor, with a link
        assert share_entry(trainee, another, user("academic1@example.org").id) is None
        db.session.commit()
    page = " ".join(client.get("/progress/overview").get_data(as_text=True).split())
    assert "(2 shared with you, 1 waiting for your comment)" in page
