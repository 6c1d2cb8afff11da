"""The benchmark's data builder and query probe, on a tiny data set: they must keep working as the LMS changes,
and the rows they write must be rows the app can read (a sealed diary entry opens with the data key)."""

from sqlalchemy import func, select

from lms.app import count_queries_per_request
from lms.curriculum.cli import sync_all_courses
from lms.diary import crypto
from lms.diary.models import DiaryEntry
from lms.extensions import db
from tests.benchmarks import data
from tests.benchmarks.__main__ import SCENARIOS, probe_in_process


def test_benchmark_data_builds_readable_rows_and_every_page_answers(app, today):
    count_queries_per_request(app)  # what LMS_COUNT_QUERIES turns on for the benchmark's server
    sync_all_courses(echo=lambda *args, **kwargs: None)
    built = data.build(6, 2, today)
    db.session.commit()
    assert built.rows["enrolments"] == 6
    assert built.rows["diary_entries"] > 0 and built.rows["board_posts"] > 0
    assert built.rows["coursework_submissions"] == 6

    entry = db.session.execute(select(DiaryEntry).limit(1)).scalar_one()
    assert crypto.unseal(entry) is not None, "a benchmark diary entry must open with the deployment's data key"
    assert db.session.execute(select(func.count(DiaryEntry.id))).scalar_one() == built.rows["diary_entries"]

    counts = probe_in_process(app, built.__dict__)
    # Every scenario answered 2xx with a query count for someone (a page that redirected or failed has none).
    assert set(counts) == set(SCENARIOS), f"pages without a successful answer: {set(SCENARIOS) - set(counts)}"
