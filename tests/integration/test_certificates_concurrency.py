"""Two issuing runs at the same moment issue each certificate once (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from lms.certificates import services
from lms.certificates.models import Certificate
from lms.extensions import db
from tests.web.certificates_fixtures import ready, user  # noqa: F401 (fixtures)


def test_two_runs_at_the_same_time_issue_no_duplicates(app, ready):
    cohort_id, admin_id = ready.id, user("admin@example.org").id
    db.session.remove()  # each run below has a session (and connection) of its own
    start = threading.Barrier(2)
    reports, errors = [], []

    def run():
        with app.app_context():
            try:
                start.wait(timeout=30)
                reports.append(services.issue_cohort(cohort_id, admin_id, render=False))
            except Exception as error:  # reported below, so a failure is visible
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(reports) == 2
    # Both runs saw eight to issue; between them each was issued exactly once.
    assert sum(len(report.issued) for report in reports) == 8
    assert sum(len(report.issued) + report.skipped for report in reports) <= 16
    assert not any(report.failed for report in reports)
    count = db.session.execute(select(func.count(Certificate.id))).scalar()
    distinct = db.session.execute(select(func.count(func.distinct(Certificate.enrolment_id)))).scalar()
    assert count == distinct == 8


def test_two_runs_with_pdfs_overlap_and_still_issue_each_once(app, ready):
    """With PDF rendering each insert holds its transaction longer, so the runs truly collide."""
    cohort_id = ready.id
    db.session.remove()
    start = threading.Barrier(2)
    reports, errors = [], []

    def run():
        with app.app_context():
            try:
                start.wait(timeout=30)
                reports.append(services.issue_cohort(cohort_id, None))
            except Exception as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors
    assert sum(len(report.issued) for report in reports) == 8
    assert db.session.execute(select(func.count(Certificate.id))).scalar() == 8
