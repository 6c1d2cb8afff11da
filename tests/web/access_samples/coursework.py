"""URL arguments for the coursework endpoints in the access-matrix walk.

The walk signs in as each demo role; these point at the running cohort's
accredited assignment (set up here if the role's pages have not done it yet),
so every role gets either the page or a 404 for something not theirs.
"""

from sqlalchemy import select

from lms.cohorts.models import Cohort
from lms.extensions import db


def _assignment_id():
    from lms.coursework import services
    from lms.coursework.models import Assignment

    cohort = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    services.ensure_assignments({cohort.id})
    db.session.commit()
    return db.session.execute(select(Assignment.id).where(Assignment.cohort_id == cohort.id)
                              .order_by(Assignment.id)).scalars().first()


def _assignment():
    return {"assignment_id": _assignment_id()}


SAMPLE_ARGS = {
    "coursework.submission": _assignment,
    "coursework.autosave": _assignment,
    "coursework.request_extension": _assignment,
    "coursework.report_mitigation": _assignment,
    "coursework.remove_file": lambda: {"assignment_id": _assignment_id(), "file_id": 1},
    "coursework.receipt": {"submission_id": 1},
    "coursework.feedback": {"submission_id": 1},
    "coursework.download": {"file_id": 1},
    "coursework.decide_extension": {"extension_id": 1},
    "coursework.claim": {"claim_id": 1},
    "coursework.queue": _assignment,
    "coursework.allocate": _assignment,
    "coursework.allocate_script": {"submission_id": 1},
    "coursework.script": {"submission_id": 1},
    "coursework.reopen": {"submission_id": 1},
    "coursework.agree": {"submission_id": 1},
    "coursework.moderation": _assignment,
    "coursework.settings": _assignment,
    "coursework.attempt_dates": {"submission_id": 1},
    "coursework.release": _assignment,
    "coursework.release_script": {"submission_id": 1},
    "coursework.correct": {"submission_id": 1},
    "coursework.export": _assignment,
    "coursework.examiner_sample": _assignment,
}
