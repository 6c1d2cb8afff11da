"""Issue 200 certificates and print how long it took: `python -m tests.benchmarks.bench_certificates`.

Builds its own SQLite database (or PostgreSQL with ``--database URL``) in a
temporary folder: one cohort of 200 trainees, each with a ratified outcome,
then times one issuing run exactly as the background job does it (a row, an
audit event, a notification and a stored PDF for each trainee, committed one
at a time) and, separately, PDF rendering alone. Prints one JSON document,
with CPU times beside wall times (the fairer figure when other work shares
the cores).
Options: ``--count N`` (default 200), ``--render-workers N`` (also render the
PDFs in N processes at once, to see what more cores give).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from lms.accounts.models import User  # noqa: E402
from lms.app import create_app  # noqa: E402
from lms.cohorts.models import Cohort, CourseDay, Enrolment  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.progress.models import BoardDecision, ExamBoard  # noqa: E402


def config(url: str, instance: Path) -> dict:
    return {"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
            "LMS_DATA_KEY": "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLW9rISE=", "LMS_UPLOAD_DIR": str(instance / "up"),
            "LMS_REDIS_URL": None, "LMS_SMTP_URL": None, "RATELIMIT_STORAGE_URI": "memory://"}


def build(count: int) -> int:
    """One finished cohort of ``count`` trainees with a ratified exam board; returns the cohort id."""
    start = date.today() - timedelta(weeks=30)
    cohort = Cohort(slug="bench-finished", name="Benchmark cohort", course_slug="peer-support-l4",
                    start_date=start, status="finished")
    cohort.days = [CourseDay(number=n, date=start + timedelta(weeks=n - 1), starts_at=clock(9, 30),
                             ends_at=clock(16)) for n in range(1, 12)]
    db.session.add(cohort)
    db.session.flush()
    db.session.execute(insert(User), [{"email": f"bench{n}@example.org", "display_name": f"Trainee {n:03d} Example"}
                                      for n in range(count)])
    ids = db.session.execute(select(User.id).where(User.email.like("bench%"))).scalars().all()
    db.session.execute(insert(Enrolment), [{"cohort_id": cohort.id, "trainee_id": i, "status": "completed"}
                                           for i in ids])
    board = ExamBoard(cohort_id=cohort.id, held_on=start + timedelta(weeks=16), status="ratified",
                      ratified_at=datetime.now(timezone.utc))
    db.session.add(board)
    db.session.flush()
    enrolments = db.session.execute(select(Enrolment.id).where(Enrolment.cohort_id == cohort.id)).scalars().all()
    db.session.execute(insert(BoardDecision), [
        {"board_id": board.id, "enrolment_id": e, "decision": "ratify", "award": "credit" if n % 10 else "completion",
         "credits": 20 if n % 10 else 0, "recorded_mark": 40 + n % 33, "flags": ""}
        for n, e in enumerate(enrolments)])
    db.session.commit()
    return cohort.id


def render_share(arguments) -> int:
    """In a worker process: render the PDFs of some certificates (not stored)."""
    url, instance, ids = arguments
    from lms.certificates import rendering
    from lms.certificates.models import Certificate

    app = create_app(config(url, Path(instance)))
    with app.app_context():
        for certificate in db.session.execute(select(Certificate).where(Certificate.id.in_(ids))).scalars():
            rendering.certificate_pdf(certificate)
    return len(ids)


def measure(count: int = 200, database: str | None = None, render_workers: int = 0,
            render_count: int | None = None) -> dict:
    """Issue ``count`` certificates in a fresh database and time it; returns the figures.

    PDF rendering alone is then timed over ``render_count`` of them (default: all).
    """
    options = argparse.Namespace(count=count, database=database, render_workers=render_workers)
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        url = options.database or f"sqlite:///{instance / 'bench.sqlite3'}"
        from lms.config import database_url

        url = database_url(url)
        app = create_app(config(url, instance))
        figures: dict = {"certificates": options.count, "database": url.split(":", 1)[0], "cpus": os.cpu_count()}
        with app.app_context():
            db.create_all()
            cohort_id = build(options.count)

            from lms.certificates import rendering, services
            from lms.certificates.models import Certificate

            started = time.perf_counter()
            warm = time.perf_counter()
            rendering.font_configuration()  # what a worker does once, at its first certificate
            figures["warm_up_seconds"] = round(time.perf_counter() - warm, 2)
            began, cpu = time.perf_counter(), time.process_time()
            report = services.issue_cohort(cohort_id, None)
            issuing = time.perf_counter() - began
            # CPU time this process used: close to the wall time on an idle machine, and
            # a fairer figure than wall time when other work shares the cores.
            figures["issue_run_cpu_seconds"] = round(time.process_time() - cpu, 2)
            assert len(report.issued) == options.count, report
            figures["issue_run_seconds"] = round(issuing, 2)
            figures["issue_run_seconds_with_warm_up"] = round(time.perf_counter() - started, 2)
            figures["certificates_issued_per_second"] = round(options.count / issuing, 1)

            certificates = db.session.execute(select(Certificate)).scalars().all()
            certificates = certificates[:render_count] if render_count is not None else certificates
            began, cpu = time.perf_counter(), time.process_time()
            for certificate in certificates:
                rendering.certificate_pdf(certificate)
            rendering_only = time.perf_counter() - began
            if certificates:
                figures["cpu_ms_per_pdf"] = round(1000 * (time.process_time() - cpu) / len(certificates), 1)
                figures["pdfs_per_second_one_process"] = round(len(certificates) / rendering_only, 1)
                figures["ms_per_pdf"] = round(1000 * rendering_only / len(certificates), 1)
            ids = [c.id for c in certificates]
            db.session.remove()

        if options.render_workers > 1:
            workers = options.render_workers
            shares = [(url, str(instance), ids[n::workers]) for n in range(workers)]
            with ProcessPoolExecutor(workers) as pool:
                list(pool.map(render_share, [(url, str(instance), ids[:2])] * workers))  # warm each worker
                began = time.perf_counter()
                done = sum(pool.map(render_share, shares))
                elapsed = time.perf_counter() - began
            figures[f"pdfs_per_second_{workers}_processes"] = round(done / elapsed, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--database", help="a PostgreSQL URL (an empty database); SQLite in a temporary folder otherwise")
    parser.add_argument("--render-workers", type=int, default=0)
    options = parser.parse_args()
    print(json.dumps(measure(options.count, options.database, options.render_workers), indent=2))


if __name__ == "__main__":
    main()
