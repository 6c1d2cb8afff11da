"""Sample URL arguments for the attendance pages (demo-running, a day already held, trainee1)."""

from sqlalchemy import select

from lms.accounts.models import User
from lms.cohorts.models import Cohort, CourseDay
from lms.extensions import db


def _running():
    return db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()


def _day():
    cohort = _running()
    return db.session.execute(select(CourseDay).where(CourseDay.cohort_id == cohort.id,
                                                      CourseDay.number == 2)).scalar_one()


def _trainee():
    return db.session.execute(select(User).where(User.email == "trainee1@example.org")).scalar_one()


def _cohort_args():
    return {"slug": "demo-running"}


def _day_args():
    return {"slug": "demo-running", "day_id": _day().id}


SAMPLE_ARGS = {
    "attendance.cohort_grid": _cohort_args,
    "attendance.cohort_csv": _cohort_args,
    "attendance.cohort_settings": _cohort_args,
    "attendance.register": _day_args,
    "attendance.check_in_code": _day_args,
    "attendance.new_check_in_code": _day_args,
    "attendance.trainee": lambda: {"slug": "demo-running", "trainee_id": _trainee().id},
    "attendance.catch_up": lambda: {"slug": "demo-running", "trainee_id": _trainee().id, "day_id": _day().id},
    "attendance.calendar_feed": {"token": "not-a-real-token"},
}
