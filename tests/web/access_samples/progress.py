"""URL arguments for the progress and exam board endpoints in the access-matrix walk."""

from sqlalchemy import select

from lms.cohorts.models import Cohort, Enrolment
from lms.extensions import db


def _board():
    from lms.progress.models import ExamBoard

    board_id = db.session.execute(select(ExamBoard.id).order_by(ExamBoard.id)).scalars().first()
    return {"board_id": board_id or 1}


def _enrolment():
    cohort_id = db.session.execute(select(Cohort.id).where(Cohort.slug == "demo-running")).scalar_one()
    enrolment_id = db.session.execute(select(Enrolment.id).where(Enrolment.cohort_id == cohort_id)
                                      .order_by(Enrolment.id)).scalars().first()
    return {"enrolment_id": enrolment_id}


SAMPLE_ARGS = {
    "progress.trainee": _enrolment,
    "progress.add_note": _enrolment,
    "progress.record_opt_out": _enrolment,
    "progress.cohort": {"slug": "demo-running"},
    "progress.cohort_csv": {"slug": "demo-running"},
    "progress.revoke_token": {"token_id": 1},
    "progress.api_cohort_progress": {"slug": "demo-running"},
    "progress.board": _board,
    "progress.ratify_all": _board,
    "progress.ratify_since": _board,
    "progress.release_marks": _board,
    "progress.decide": _board,
    "progress.correct": _board,
}
