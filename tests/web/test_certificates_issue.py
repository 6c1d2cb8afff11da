"""Issuing certificates: the preview, confirmation, the background batch, bad input, the name to print."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.audit.models import AuditEvent
from lms.certificates import services
from lms.certificates.models import Certificate, CertificateBatch, CertificateName
from lms.extensions import db
from lms.notify.models import Notification
from lms.progress.models import BoardDecision
from tests.conftest import csrf_token, sign_in
from tests.web.certificates_fixtures import (  # noqa: F401 (fixtures)
    certificate_of, certificates, cohort, enrolment_of, issued, make_board, ready, user,
)

PREVIEW = "/admin/certificates/cohorts/demo-finished"


def issue_form(client, path=PREVIEW, names="all"):
    """The issue form the admin would press: with unconfirmed names, the one for `names` ("all", "confirmed")."""
    page = client.get(path).get_data(as_text=True)
    choice = re.search(r'name="expected" value="(\d+)">\s*<input type="hidden" name="names" value="' + names + '"',
                       page)
    if choice:
        return {"csrf_token": csrf_token(client, path), "expected": choice.group(1), "names": names}
    expected = re.search(r'name="expected" type="hidden" value="(\d+)"', page) or \
        re.search(r'id="expected" name="expected" type="hidden" value="(\d+)"', page)
    return {"csrf_token": csrf_token(client, path), "expected": expected.group(1) if expected else ""}


def test_the_preview_shows_who_gets_what_and_issues_nothing(login_as, ready):
    client = login_as("admin")
    page = client.get(PREVIEW)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ready to issue (8)" in text and "Issue all 8, printing the LMS name for 2 not confirmed" in text
    assert "Issue 6 certificates with confirmed names" in text
    assert "Noah James Thompson" in text  # the name he confirmed, not his LMS name
    assert "Certificate of completion" in text and "20 credits at Level 4 (FHEQ)" in text
    assert text.count("Not confirmed by the trainee yet") == 2
    assert certificates() == []


def test_an_admin_issues_the_cohort_after_confirming(login_as, ready, app):
    client = login_as("admin")
    response = client.post(f"{PREVIEW}/issue", data=issue_form(client))
    assert response.status_code == 302 and "/admin/certificates/batches/" in response.headers["Location"]
    issued_now = certificates()
    assert len(issued_now) == 8 and {c.status for c in issued_now} == {"valid"}
    assert sorted(c.award for c in issued_now).count("completion") == 1
    assert all(re.fullmatch(r"PSW-\d{4}-\d{6}", c.serial) for c in issued_now)
    maya = certificate_of("trainee13@example.org")
    assert (maya.holder_name, maya.credits, maya.level, maya.framework) == ("Maya Patel", 20, 4, "FHEQ")
    assert maya.title == "Certificate in Peer Support Work" and maya.course_title == "Peer Support Worker Training"
    assert maya.awarding_body == "The Open University" and maya.provider == "Recovery College Training Team"
    assert maya.recorded_mark == 58
    rosa = certificate_of("trainee17@example.org")
    assert rosa.title == "Certificate of Completion" and rosa.credits == 0 and rosa.flags == "R"
    # Rendered once and stored, with its SHA-256.
    folder = Path(app.config["LMS_UPLOAD_DIR"]) / "certificates"
    import hashlib
    for certificate in issued_now:
        assert hashlib.sha256((folder / certificate.pdf_file).read_bytes()).hexdigest() == certificate.pdf_sha256
    # The batch finished (inline here), trainees were told, and every issue is in the register's history.
    batch = db.session.execute(select(CertificateBatch)).scalar_one()
    assert (batch.status, batch.total, batch.done) == ("finished", 8, 8)
    progress = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Finished: 8 certificates issued." in progress and 'http-equiv="refresh"' not in progress
    told = db.session.execute(select(func.count(Notification.id)).where(
        Notification.subject == "Your certificate is ready")).scalar()
    assert told == 8
    assert db.session.execute(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "certificate.issued")).scalar() == 8


def test_nothing_is_issued_when_the_list_changed_since_the_preview(login_as, ready):
    client = login_as("admin")
    form = issue_form(client)
    form["expected"] = "7"
    response = client.post(f"{PREVIEW}/issue", data=form)
    assert response.status_code == 400
    assert "The list has changed since you looked at it: 8 certificates are now ready" in response.get_data(as_text=True)
    assert certificates() == [] and db.session.execute(select(CertificateBatch)).first() is None


def test_nothing_is_issued_without_the_form_token(login_as, ready):
    client = login_as("admin")
    response = client.post(f"{PREVIEW}/issue", data={"expected": "8"})
    assert response.status_code == 400 and certificates() == []


def test_only_admins_issue(login_as, ready):
    client = login_as("tutor")
    assert client.get(PREVIEW).status_code == 403
    assert client.post(f"{PREVIEW}/issue", data={"csrf_token": csrf_token(client, "/home"),
                                                 "expected": "8"}).status_code == 403
    assert certificates() == []


def test_bad_input_unratified_outcome_award_of_none_and_revoked_certificate(login_as, demo):
    # demo-running: trainee1's outcome is on a board not yet ratified, trainee2 was ratified with no
    # award, trainee3 was ratified with credit, issued, then revoked.
    make_board("demo-running", {"trainee1@example.org": ("ratify", "credit")}, status="open")
    make_board("demo-running", {"trainee2@example.org": ("ratify", "none"),
                                "trainee3@example.org": ("ratify", "credit")}, held_on=date(2026, 3, 19))
    running = cohort("demo-running")
    services.issue_cohort(running.id, None, render=False)
    assert [c.trainee_id for c in certificates()] == [user("trainee3@example.org").id]
    assert services.revoke(None, certificates()[0], "Awarded in error: wrong cohort.") == []
    db.session.commit()
    revoked_before = certificates()[0].status_changed_at

    client = login_as("admin")
    page = client.get("/admin/certificates/cohorts/demo-running").get_data(as_text=True)
    assert "Ready to issue (0)" in page
    assert "has not ratified its decisions yet" in page
    assert "The ratified outcome has no award, so there is no certificate." in page
    assert "was revoked on" in page and "A revoked certificate is not issued again." in page
    assert "There is no exam board decision" in page
    response = client.post("/admin/certificates/cohorts/demo-running/issue",
                           data={"csrf_token": csrf_token(client, "/admin/certificates/cohorts/demo-running"),
                                 "expected": "0"})
    assert response.status_code == 400
    assert "There is no certificate to issue for this cohort." in response.get_data(as_text=True)
    report = services.issue_cohort(running.id, None, render=False)
    assert report.total == 0
    after = certificates()
    assert len(after) == 1 and after[0].status == "revoked" and after[0].status_changed_at == revoked_before


def test_an_ineligible_row_cannot_be_issued_directly(demo):
    make_board("demo-running", {"trainee2@example.org": ("ratify", "none")})
    row = next(r for r in services.preview(cohort("demo-running")).rows
               if r.enrolment.trainee.email == "trainee2@example.org")
    with pytest.raises(ValueError):
        services.IssueItem.from_row(row)


def test_issuing_again_issues_nothing_new(ready, issued):
    again = services.issue_cohort(ready.id, None, render=False)
    assert again.total == 0 and again.issued == []
    assert len(certificates()) == 8


def test_the_progress_page_refreshes_itself_while_issuing_and_can_be_told_to_stop(login_as, ready):
    client = login_as("admin")
    batch = CertificateBatch(cohort_id=ready.id, status="running", total=200, done=57)
    db.session.add(batch)
    db.session.commit()
    page = client.get(f"/admin/certificates/batches/{batch.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "57 of 200 certificates issued so far." in page and '<progress max="200" value="57"' in page
    assert "Stop updating this page" in page and "<script>" not in page
    quiet = client.get(f"/admin/certificates/batches/{batch.id}?refresh=off").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in quiet and "Check progress again" in quiet
    assert client.get("/admin/certificates/batches/999").status_code == 404


def test_the_preview_makes_the_same_number_of_queries_for_a_bigger_cohort(login_as, ready, count_queries):
    client = login_as("admin")
    client.get(PREVIEW)
    with count_queries() as small:
        assert client.get(PREVIEW).status_code == 200
    # Move six running trainees into the finished cohort, each with a ratified outcome.
    board = db.session.execute(select(BoardDecision)).scalars().first().board
    for number in range(1, 7):
        enrolment = enrolment_of(f"trainee{number}@example.org")
        enrolment.cohort_id = ready.id
        db.session.add(BoardDecision(board_id=board.id, enrolment_id=enrolment.id, decision="ratify",
                                     award="credit", credits=20, recorded_mark=60))
    db.session.commit()
    with count_queries() as big:
        page = client.get(PREVIEW).get_data(as_text=True)
    assert "Ready to issue (14)" in page
    assert len(big) == len(small)


# --- the name on the certificate


def test_a_trainee_confirms_the_name_for_their_certificate(client, ready):
    sign_in(client, "trainee15@example.org")  # Olivia Hughes has not confirmed yet
    page = client.get("/certificates/name").get_data(as_text=True)
    assert 'value="Olivia Hughes"' in page
    response = client.post("/certificates/name", data={"csrf_token": csrf_token(client, "/certificates/name"),
                                                       "name": "  Olivia   Grace Hughes "})
    assert response.status_code == 302
    assert db.session.execute(select(CertificateName.name).where(
        CertificateName.user_id == user("trainee15@example.org").id)).scalar() == "Olivia Grace Hughes"
    services.issue_cohort(ready.id, None, render=False)
    assert certificate_of("trainee15@example.org").holder_name == "Olivia Grace Hughes"


@pytest.mark.parametrize("name, message", [
    ("   ", "Enter your name as you would like it on your certificate."),
    ("x" * 121, "Your name must be 120 characters or fewer."),
    ("Maya\u0007Patel", "Your name contains a character that cannot be printed."),
])
def test_a_name_that_cannot_be_printed_is_refused_and_nothing_changes(client, ready, name, message):
    sign_in(client, "trainee13@example.org")
    response = client.post("/certificates/name", data={"csrf_token": csrf_token(client, "/certificates/name"),
                                                       "name": name})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.execute(select(CertificateName.name).where(
        CertificateName.user_id == user("trainee13@example.org").id)).scalar() == "Maya Patel"


def test_changing_the_name_after_issue_tells_the_admins_and_keeps_the_certificate(client, ready, issued):
    sign_in(client, "trainee13@example.org")
    client.post("/certificates/name", data={"csrf_token": csrf_token(client, "/certificates/name"),
                                            "name": "Maya R. Patel"})
    assert certificate_of("trainee13@example.org").holder_name == "Maya Patel"
    admin = user("admin@example.org")
    assert db.session.execute(select(Notification).where(
        Notification.user_id == admin.id, Notification.subject == "A certificate may need reissuing")).first()
    # The certificate's own history shows the request, beside its issue.
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    sign_in(client, "admin@example.org")
    page = client.get(f"/certificates/{certificate_of('trainee13@example.org').serial}").get_data(as_text=True)
    history = page[page.index("<h2>History</h2>"):]
    assert "The holder asked for the name “Maya R. Patel” on their certificates" in history
    assert "until it is reissued" in history and "Issued" in history


def test_only_trainees_have_a_name_page(login_as, ready):
    assert login_as("academic_supervisor").get("/certificates/name").status_code == 403


# --- revoking and reissuing from the web


def test_revoking_needs_a_reason_and_then_changes_the_status(login_as, ready, issued):
    client = login_as("admin")
    certificate = certificate_of("trainee13@example.org")
    path = f"/certificates/{certificate.serial}/revoke"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "wrong"})
    assert response.status_code == 400
    assert "Give the reason for revoking it in a sentence" in response.get_data(as_text=True)
    assert certificate_of("trainee13@example.org").status == "valid"
    response = client.post(path, data={"csrf_token": csrf_token(client, path),
                                       "reason": "Issued by mistake before the board's correction."})
    assert response.status_code == 302
    revoked = db.session.get(Certificate, certificate.id)
    db.session.refresh(revoked)
    assert revoked.status == "revoked" and revoked.live_key is None
    assert revoked.status_reason == "Issued by mistake before the board's correction."
    again = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "Second time of asking."})
    assert again.status_code == 400 and "already revoked" in again.get_data(as_text=True)
    history = client.get(f"/certificates/{certificate.serial}").get_data(as_text=True)
    assert "Revoked" in history and "Issued by mistake" in history


def test_reissuing_after_a_name_change_replaces_the_certificate(login_as, ready, issued):
    client = login_as("admin")
    old = certificate_of("trainee13@example.org")
    path = f"/certificates/{old.serial}/reissue"
    assert client.post(path, data={"csrf_token": csrf_token(client, path), "name": "",
                                   "reason": "Name changed by deed poll."}).status_code == 400
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "name": "Maya Rose Patel",
                                       "reason": "Name changed by deed poll."})
    assert response.status_code == 302
    new = certificate_of("trainee13@example.org")
    old = db.session.get(Certificate, old.id)
    db.session.refresh(old)
    assert new.holder_name == "Maya Rose Patel" and new.serial != old.serial and new.code != old.code
    assert old.status == "reissued" and old.replaced_by_id == new.id
    assert new.pdf_sha256  # rendered by the job after the request
    revoked_path = f"/certificates/{old.serial}/reissue"
    refused = client.post(revoked_path, data={"csrf_token": csrf_token(client, revoked_path),
                                              "name": "Someone Else", "reason": "Trying it a second time."})
    assert refused.status_code == 400 and "already been replaced" in refused.get_data(as_text=True)
    assert len(certificates(trainee_id=new.trainee_id)) == 2


# --- who sees which certificate


def test_trainees_see_their_own_certificates_and_nobody_else_s(client, ready, issued):
    sign_in(client, "trainee13@example.org")
    page = client.get("/certificates").get_data(as_text=True)
    mine = certificate_of("trainee13@example.org")
    assert mine.serial in page and "Download my certificate" in page and "digital credential" in page
    other = certificate_of("trainee14@example.org")
    assert other.serial not in page
    for suffix in ("", "/certificate.pdf", "/transcript.pdf", "/credential.jwt"):
        assert client.get(f"/certificates/{other.serial}{suffix}").status_code == 404


def test_supervisors_see_their_trainees_certificates(client, ready, issued):
    sign_in(client, "supervisor1@example.org")  # Northshire: the odd-numbered trainees
    page = client.get("/certificates").get_data(as_text=True)
    northshire = certificate_of("trainee13@example.org")
    harbour = certificate_of("trainee14@example.org")
    assert northshire.serial in page and harbour.serial not in page
    assert client.get(f"/certificates/{northshire.serial}").status_code == 200
    assert client.get(f"/certificates/{harbour.serial}").status_code == 404


def test_the_certificates_page_makes_the_same_number_of_queries_for_more_certificates(
        login_as, ready, count_queries):
    client = login_as("academic_supervisor")
    services.issue_cohort(ready.id, None, render=False)
    with count_queries() as few:
        assert client.get("/certificates").status_code == 200
    running = cohort("demo-running")
    make_board("demo-running", {f"trainee{n}@example.org": ("ratify", "credit") for n in range(1, 13)})
    services.issue_cohort(running.id, None, render=False)
    with count_queries() as many:
        page = client.get("/certificates").get_data(as_text=True)
    assert page.count("PSW-") >= 20
    assert len(many) == len(few)


def test_without_a_choice_nothing_is_issued_while_names_are_unconfirmed(login_as, ready):
    client = login_as("admin")
    form = issue_form(client)
    del form["names"]
    response = client.post(f"{PREVIEW}/issue", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose whether to wait for the 2 trainees who have not confirmed their name" in page
    assert 'href="#names"' in page and certificates() == []


def test_issuing_with_confirmed_names_only_waits_for_the_others_and_asks_them(login_as, ready):
    client = login_as("admin")
    response = client.post(f"{PREVIEW}/issue", data=issue_form(client, names="confirmed"))
    assert response.status_code == 302
    issued_now = certificates()
    assert len(issued_now) == 6
    confirmed = {name.user_id for name in db.session.execute(select(CertificateName)).scalars()}
    assert {c.trainee_id for c in issued_now} <= confirmed
    asked = db.session.execute(select(Notification).where(
        Notification.subject == "Please confirm the name for your certificate")).scalars().all()
    assert len(asked) == 2 and all(n.link == "/certificates/name" for n in asked)
    assert {n.user_id for n in asked}.isdisjoint(confirmed)
    batch = db.session.execute(select(CertificateBatch)).scalar_one()
    assert (batch.total, batch.done, batch.include_unconfirmed) == (6, 6, False)
    # Both of them confirm; the next look lists them alone, with a plain "issue" button.
    for note in asked:
        trainee = db.session.get(type(user("admin@example.org")), note.user_id)
        assert services.confirm_name(trainee, trainee.display_name) == []
    db.session.commit()
    page = client.get(PREVIEW).get_data(as_text=True)
    assert "Ready to issue (2)" in page and "Issue 2 certificates" in page and "not confirmed" not in page
    assert client.post(f"{PREVIEW}/issue", data=issue_form(client)).status_code == 302
    assert len(certificates()) == 8


def test_the_admin_asks_for_names_before_issuing_and_nothing_is_issued(login_as, ready):
    client = login_as("admin")
    page = client.get(PREVIEW).get_data(as_text=True)
    assert "Ask them to confirm their names, without issuing" in page and "last asked" not in page
    response = client.post(f"{PREVIEW}/ask-names", data={"csrf_token": csrf_token(client, PREVIEW)})
    assert response.status_code == 302
    assert certificates() == [] and db.session.execute(select(CertificateBatch)).first() is None
    asked = db.session.execute(select(Notification).where(
        Notification.subject == "Please confirm the name for your certificate")).scalars().all()
    assert len(asked) == 2
    page = client.get(PREVIEW).get_data(as_text=True)
    assert "2 trainees were asked to confirm the name" in page and "They were last asked to confirm on" in page
    # A form without its token asks nobody.
    assert client.post(f"{PREVIEW}/ask-names", data={}).status_code in (302, 400)
    assert len(db.session.execute(select(Notification).where(
        Notification.subject == "Please confirm the name for your certificate")).scalars().all()) == 2
    # Once everyone has confirmed there is nobody to ask.
    for note in asked:
        trainee = db.session.get(type(user("admin@example.org")), note.user_id)
        assert services.confirm_name(trainee, trainee.display_name) == []
    db.session.commit()
    client.post(f"{PREVIEW}/ask-names", data={"csrf_token": csrf_token(client, PREVIEW)})
    assert "nobody needed asking" in client.get(PREVIEW).get_data(as_text=True)


# --- the command line


def test_cli_dry_run_lists_and_issues_nothing(runner, ready):
    result = runner.invoke(args=["certificates", "issue", "--cohort", "demo-finished", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "8 to issue, 0 already issued, 0 with no certificate." in result.output and "Dry run: nothing was issued." in result.output
    assert "Noah James Thompson: Credit certificate" in result.output
    assert certificates() == []


def test_cli_issues_after_confirmation_with_a_progress_bar(runner, ready):
    unchosen = runner.invoke(args=["certificates", "issue", "--cohort", "demo-finished"], input="y\n")
    assert unchosen.exit_code == 2 and "2 trainees have not confirmed" in unchosen.output and certificates() == []
    refused = runner.invoke(args=["certificates", "issue", "--cohort", "demo-finished", "--names", "all"],
                            input="n\n")
    assert refused.exit_code == 1 and certificates() == []
    result = runner.invoke(args=["certificates", "issue", "--cohort", "demo-finished", "--names", "all"],
                           input="y\n")
    assert result.exit_code == 0, result.output
    assert "Issuing certificates" in result.output and "Issued 8 certificates." in result.output
    assert len(certificates()) == 8
    again = runner.invoke(args=["certificates", "issue", "--cohort", "demo-finished", "--yes"])
    assert again.exit_code == 0 and "Nothing to issue." in again.output and len(certificates()) == 8


def test_cli_unknown_cohort(runner, demo):
    result = runner.invoke(args=["certificates", "issue", "--cohort", "nope"])
    assert result.exit_code == 2 and "There is no cohort with the slug 'nope'." in result.output


def test_cli_lists_a_cohort_as_json(runner, ready, issued):
    import json

    result = runner.invoke(args=["certificates", "list", "--cohort", "demo-finished", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 8
    assert set(rows[0]) == {"serial", "code", "holder_name", "award", "credits", "level", "status", "issued_at"}
    assert {row["award"] for row in rows} == {"credit", "completion"}


def test_cli_revokes_by_code_with_a_reason(runner, ready, issued):
    certificate = certificate_of("trainee14@example.org")
    from lms.certificates.codes import format_code

    short = runner.invoke(args=["certificates", "revoke", format_code(certificate.code), "--reason", "no"])
    assert short.exit_code == 1 and "Nothing was revoked." in short.output
    assert certificate_of("trainee14@example.org").status == "valid"
    unknown = runner.invoke(args=["certificates", "revoke", "K7QM-3XRT-9PDH-W2CZ-8N", "--reason", "A good reason."])
    assert unknown.exit_code == 2
    result = runner.invoke(args=["certificates", "revoke", format_code(certificate.code).lower(),
                                 "--reason", "Awarded in error: outcome corrected."])
    assert result.exit_code == 0, result.output
    assert certificate_of("trainee14@example.org", status="revoked").status_reason.startswith("Awarded in error")


# --- the demo


def test_the_demo_makes_the_finished_cohort_ready_once(demo, today):
    from lms.certificates import demo as certificates_demo
    from lms.progress.models import ExamBoard

    first = certificates_demo.seed(today)
    db.session.commit()
    assert first == {"exam boards": 1, "board decisions": 8, "certificate names": 6, "marks released": 0}
    board = db.session.execute(select(ExamBoard)).scalar_one()
    assert board.status == "ratified" and "External examiner: Dr Ruth Adeyemi" in board.members
    last_day = max(day.date for day in cohort().days)
    assert (board.held_on - last_day).days == 42
    decisions = db.session.execute(select(BoardDecision)).scalars().all()
    assert sorted(d.award for d in decisions) == ["completion"] + ["credit"] * 7
    assert all(45 <= d.recorded_mark <= 72 and d.credits == 20 for d in decisions if d.award == "credit")
    assert certificates() == []
    again = certificates_demo.seed(today)
    db.session.commit()
    assert again == {"exam boards": 0, "board decisions": 0, "certificate names": 0}
    assert len(db.session.execute(select(BoardDecision)).scalars().all()) == 8


def test_the_demo_leaves_an_existing_board_alone(demo, today):
    from lms.certificates import demo as certificates_demo
    from lms.progress.models import ExamBoard

    make_board("demo-finished", {"trainee13@example.org": ("defer", None)}, status="open")
    certificates_demo.seed(today)
    db.session.commit()
    board = db.session.execute(select(ExamBoard)).scalar_one()
    assert board.status == "open" and len(db.session.execute(select(BoardDecision)).scalars().all()) == 1


def test_a_stalled_run_does_not_block_a_new_one(login_as, ready):
    from datetime import datetime, timedelta, timezone

    db.session.add(CertificateBatch(cohort_id=ready.id, status="running", total=8,
                                    created_at=datetime.now(timezone.utc) - timedelta(hours=3)))
    db.session.commit()
    client = login_as("admin")
    response = client.post(f"{PREVIEW}/issue", data=issue_form(client))
    assert response.status_code == 302 and len(certificates()) == 8


def test_with_redis_configured_the_run_goes_to_the_queue(login_as, ready, app, monkeypatch):
    import importlib

    from lms import jobs

    queued = []

    class FakeQueue:
        def enqueue(self, function, target, args, kwargs):
            queued.append((function, target, args, kwargs))

    monkeypatch.setattr(jobs, "queue", lambda url, name=jobs.QUEUE_NAME: FakeQueue())
    app.config["LMS_REDIS_URL"] = "redis://127.0.0.1:6379/15"
    client = login_as("admin")
    response = client.post(f"{PREVIEW}/issue", data=issue_form(client))
    batch_path = response.headers["Location"]
    # Nothing issued yet: the page follows the queued run and refreshes itself.
    assert certificates() == []
    page = client.get(batch_path).get_data(as_text=True)
    assert "0 of 8 certificates issued so far." in page and 'http-equiv="refresh"' in page
    [(function, target, args, kwargs)] = [item for item in queued if "certificates" in item[1]]
    assert function is jobs.run_in_app and target == "lms.certificates.services:run_batch"
    # What the worker does: import the job by name and run it.
    module, _, name = target.partition(":")
    getattr(importlib.import_module(module), name)(*args, **kwargs)
    assert len(certificates()) == 8
    assert "Finished: 8 certificates issued." in client.get(batch_path).get_data(as_text=True)


def test_a_queued_run_issues_only_what_the_admin_confirmed(login_as, ready, app, monkeypatch):
    """Between the admin's confirmation and the worker's run, two more trainees confirm their names: the run
    still issues the six the admin saw; the other two wait for the admin's next look."""
    import importlib
    import json

    from lms import jobs

    queued = []

    class FakeQueue:
        def enqueue(self, function, target, args, kwargs):
            queued.append((target, args, kwargs))

    monkeypatch.setattr(jobs, "queue", lambda url, name=jobs.QUEUE_NAME: FakeQueue())
    app.config["LMS_REDIS_URL"] = "redis://127.0.0.1:6379/15"
    client = login_as("admin")
    assert client.post(f"{PREVIEW}/issue", data=issue_form(client, names="confirmed")).status_code == 302
    batch = db.session.execute(select(CertificateBatch)).scalar_one()
    assert len(json.loads(batch.enrolment_ids)) == 6
    asked = db.session.execute(select(Notification).where(
        Notification.subject == "Please confirm the name for your certificate")).scalars().all()
    for note in asked:  # they answer before the worker gets to the run
        trainee = db.session.get(type(user("admin@example.org")), note.user_id)
        assert services.confirm_name(trainee, trainee.display_name) == []
    db.session.commit()
    [(target, args, kwargs)] = [item for item in queued if "certificates" in item[0]]
    module, _, name = target.partition(":")
    getattr(importlib.import_module(module), name)(*args, **kwargs)
    assert len(certificates()) == 6
    assert {c.trainee_id for c in certificates()}.isdisjoint({n.user_id for n in asked})
    page = client.get(PREVIEW).get_data(as_text=True)
    assert "Ready to issue (2)" in page
