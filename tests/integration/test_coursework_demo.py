"""The assignment demo: every state of the marking chain, and idempotent."""

import csv
import io
from sqlalchemy import func, select

from lms.cohorts.models import Cohort
from lms.coursework import demo as coursework_demo
from lms.coursework.models import Assignment, Extension, MitigatingClaim, Submission
from lms.coursework.rules import MarkingState
from lms.extensions import db


def states(slug: str, assessment: str = "accredited-assignment") -> list[tuple[int, str | None, str]]:
    return db.session.execute(
        select(Submission.attempt, Submission.state, Submission.status).join(Submission.assignment)
        .join(Assignment.cohort).where(Cohort.slug == slug, Assignment.assessment_slug == assessment)).all()


def test_the_demo_shows_every_state_of_the_chain_and_runs_twice(app, demo, today):
    added = coursework_demo.seed(today)
    db.session.commit()
    assert added["assignment submissions"] > 30 and added["external examiners"] == 1

    running = states("demo-running")
    seen = {state for _, state, _ in running}
    assert {None, "submitted", "in_marking", "first_marked", "second_marking", "third_marking", "agreed"} <= seen
    assert sum(1 for _, state, status in running if status == "draft") >= 4

    finished = states("demo-finished")
    # Every trainee's latest attempt is agreed, ready for the exam board; one first attempt was
    # released as a fail and referred.
    assert sum(1 for attempt, state, _ in finished if attempt == 1) == 8
    assert [(a, s) for a, s, _ in finished if a == 2] == [(2, "agreed")]
    assert sorted(s for a, s, _ in finished if a == 1) == ["agreed"] * 7 + ["released"]
    referred = db.session.execute(select(Submission).join(Submission.assignment).where(
        Submission.attempt == 1, Submission.state == "released",
        Assignment.assessment_slug == "accredited-assignment")).scalar_one()
    assert referred.mark < 40 and referred.enrolment.trainee.email == "trainee17@example.org"
    # The agreed marks are those the exam board demo records for trainee13 ... trainee20.
    agreed = dict(db.session.execute(
        select(Submission.enrolment_id, Submission.agreed_mark).join(Submission.assignment).join(Assignment.cohort)
        .where(Cohort.slug == "demo-finished", Assignment.assessment_slug == "accredited-assignment",
               Submission.state == "agreed")).all())
    assert sorted(agreed.values()) == sorted([58, 64, 49, 71, 34, 45, 66, 52])
    assert db.session.execute(select(func.count()).where(Submission.third_marker_id.is_not(None))).scalar() >= 1
    assert db.session.execute(select(func.count()).where(Submission.sampled.is_(True))).scalar() >= 4
    assert {e.status for e in db.session.execute(select(Extension)).scalars()} >= {"requested", "approved",
                                                                                   "shortened"}
    assert {c.status for c in db.session.execute(select(MitigatingClaim)).scalars()} == {"reported", "rejected"}
    # Feedback text is real Markdown feedback, not a placeholder.
    assert "feed-forward" in referred.marks[0].feedback or "Next steps" in referred.marks[0].feedback
    all_states = {s for s in db.session.execute(select(Submission.state)).scalars() if s}
    assert all_states >= {s.value for s in MarkingState} - {"ratified"}

    before = db.session.execute(select(func.count(Submission.id))).scalar()
    again = coursework_demo.seed(today)
    db.session.commit()
    assert again == {"assignment submissions": 0, "external examiners": 0}
    assert db.session.execute(select(func.count(Submission.id))).scalar() == before


def test_with_the_exam_board_the_demo_has_every_state_and_the_finished_marks_are_released(app, demo, today):
    """The certificates demo ratifies demo-finished's agreed marks with its board and releases them, all but
    the last attempt of the trainee who did not pass, held back for their academic supervisor."""
    from lms.certificates import demo as certificates_demo
    from lms.notify.models import Notification

    coursework_demo.seed(today)
    added = certificates_demo.seed(today)
    db.session.commit()
    assert added["marks released"] == 7
    assert {s for s in db.session.execute(select(Submission.state)).scalars() if s} >= {s.value for s in MarkingState}
    finished = states("demo-finished")
    assert sorted(s for a, s, _ in finished if a == 1) == ["released"] * 8
    assert [(a, s) for a, s, _ in finished if a == 2] == [(2, "ratified")]
    # Releasing told the trainees; a released pass opens no referral, and no third attempt was opened.
    told = db.session.execute(select(func.count()).select_from(Notification)
                              .where(Notification.subject.like("Feedback ready%"))).scalar()
    assert told >= 7
    assert not [a for a, _, _ in finished if a > 2]
    # Running the certificates demo again changes nothing.
    again = certificates_demo.seed(today)
    db.session.commit()
    assert not again.get("marks released") and states("demo-finished") == finished


def test_demo_pages_render_for_each_role(app, demo, today, client):
    from tests.conftest import sign_in

    coursework_demo.seed(today)
    db.session.commit()
    for email, paths in {
        "trainee13@example.org": ["/assignment"],
        "trainee19@example.org": ["/assignment"],
        "tutor1@example.org": ["/marking"],
        "academic1@example.org": ["/marking", "/extensions-and-circumstances"],
        "examiner@example.org": ["/external-examining"],
    }.items():
        assert sign_in(client, email).status_code == 302
        for path in paths:
            assert client.get(path).status_code == 200, (email, path)
        client.post("/sign-out", data={"csrf_token": __import__("tests.conftest").conftest.csrf_token(client, "/home")})


def test_the_command_line_sets_up_and_exports(app, demo, today, runner):
    coursework_demo.seed(today)
    db.session.commit()
    result = runner.invoke(args=["coursework", "setup", "--cohort", "demo-running"])
    assert result.exit_code == 0 and "accredited-assignment: due" in result.output
    result = runner.invoke(args=["coursework", "export", "--cohort", "demo-finished"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("candidate,trainee,attempt") and len(lines) == 1 + 9
    rows = list(csv.DictReader(io.StringIO(result.output)))
    second_attempts = [row for row in rows if row["attempt"] == "2"]
    assert second_attempts and "R" in " ".join(second_attempts[0].values())
    missing = runner.invoke(args=["coursework", "export", "--cohort", "nowhere"])
    assert missing.exit_code == 1 and "no cohort" in missing.output
