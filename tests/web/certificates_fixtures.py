"""Shared setup for the certificate tests: the finished demo cohort ready for certificates, and boards made to order."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.certificates import demo as certificates_demo
from lms.certificates import services
from lms.certificates.models import Certificate
from lms.cohorts.models import Cohort, Enrolment
from lms.extensions import db
from lms.progress.models import BoardDecision, ExamBoard


def cohort(slug: str = "demo-finished") -> Cohort:
    return db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one()


def user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def enrolment_of(email: str) -> Enrolment:
    return db.session.execute(select(Enrolment).join(User, Enrolment.trainee_id == User.id)
                              .where(User.email == email)).scalar_one()


def certificates(**where) -> list[Certificate]:
    query = select(Certificate).order_by(Certificate.id)
    for name, value in where.items():
        query = query.where(getattr(Certificate, name) == value)
    return list(db.session.execute(query).scalars())


def certificate_of(email: str, status: str = "valid") -> Certificate:
    return db.session.execute(select(Certificate).join(User, Certificate.trainee_id == User.id)
                              .where(User.email == email, Certificate.status == status)).scalar_one()


def make_board(slug: str, decisions: dict[str, tuple[str, str | None]], *, status: str = "ratified",
               held_on: date = date(2026, 3, 12)) -> ExamBoard:
    """A board for cohort ``slug`` with ``{email: (decision, award)}``."""
    board = ExamBoard(cohort_id=cohort(slug).id, held_on=held_on, status=status, members="Test board",
                      ratified_at=datetime(2026, 3, 12, 16, tzinfo=timezone.utc) if status == "ratified" else None)
    db.session.add(board)
    db.session.flush()
    for email, (decision, award) in decisions.items():
        db.session.add(BoardDecision(board_id=board.id, enrolment_id=enrolment_of(email).id, decision=decision,
                                     award=award, credits=20 if award == "credit" else 0,
                                     recorded_mark=62 if award == "credit" else 30, flags=""))
    db.session.commit()
    return board


@pytest.fixture
def ready(app, demo, today):
    """demo-finished with its ratified exam board (the certificates demo), nothing issued yet."""
    certificates_demo.seed(today)
    db.session.commit()
    return cohort()


@pytest.fixture
def issued(ready):
    """demo-finished with its certificates issued (PDFs rendered on first download)."""
    report = services.issue_cohort(ready.id, user("admin@example.org").id, render=False)
    assert len(report.issued) == 8
    return report
