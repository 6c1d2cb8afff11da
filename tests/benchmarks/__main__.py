"""Measure the LMS under load: `python -m tests.benchmarks [--quick] [--database sqlite|postgresql|both]`.

For each database it builds its own data (full: 1,000 trainees in 40 cohorts;
quick: a tenth), serves the app with gunicorn (2 workers, threads), drives it
from this process with 50 simulated people signed in as trainees, supervisors
and tutors (each pausing about a second between pages, as a reader does),
and prints one JSON document per database: p50/p95/p99 latency,
requests per second, errors and SQL queries per request for each page, each
page's throughput as a ratio to a trivial endpoint served by the same server
in the same run (the ceiling), engine evaluations per second and whether
every budget was met. Query counts are also measured on a second, smaller
data set: a page whose count grows with the data is a failed budget.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
CONCURRENCY = 50
# Each simulated person pauses about this long between pages, as people reading a page do.
THINK_SECONDS = 1.0

# Budgets (p95, milliseconds) on a 2-core machine with 50 simulated people.
BUDGETS = {"trainee_home": 150, "supervisor_home": 400, "ceiling": None}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def prepare_database(kind: str, folder: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite3'}", lambda: None
    server = make_url(os.environ.get("LMS_TEST_DATABASE_URL", PG_DEFAULT))
    name = f"lms_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def build_data(env: dict, trainees: int, cohorts: int) -> dict:
    """Migrate and fill the database in a child process (it needs its own app); returns what was built."""
    script = (
        "import json, sys\n"
        "from datetime import date\n"
        "from lms.app import create_app\n"
        "from lms.extensions import db\n"
        "from tests.benchmarks import data\n"
        "from flask_migrate import upgrade\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    upgrade(directory=app.extensions['migrate'].directory)\n"
        f"    built = data.build({trainees}, {cohorts}, date.today())\n"
        "    print(json.dumps(built.__dict__))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=1800)
    if result.returncode != 0:
        raise SystemExit("Building benchmark data failed:\n" + result.stderr[-4000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def start_server(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "8", "--bind", f"127.0.0.1:{port}",
         "--keep-alive", "30", "--log-level", "warning", "lms.app:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start:\n" + server.stderr.read().decode()[-3000:])


def plan(built: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """Who signs in and which pages they use: mostly trainees, some supervisors."""
    people = []
    for email in built["trainees"][:40]:
        people.append((email, [("trainee_home", "/home")]))
    people.append((built["big_supervisor"], [("supervisor_home", "/home")]))
    for email in built["academic_supervisors"][1:5] or [built["big_supervisor"]]:
        people.append((email, [("supervisor_home", "/home")]))
    while len(people) < CONCURRENCY:
        people.append((built["big_supervisor"], [("supervisor_home", "/home")]))
    return people[:CONCURRENCY]


def summarise(samples, duration: float) -> dict:
    by_scenario: dict[str, list] = {}
    for sample in samples:
        by_scenario.setdefault(sample.scenario, []).append(sample)
    result = {}
    for name, items in sorted(by_scenario.items()):
        latencies = [s.ms for s in items]
        queries = [s.queries for s in items if s.queries is not None]
        result[name] = {
            "requests": len(items),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(percentile(latencies, 95), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
            "rps": round(len(items) / duration, 1),
            "errors": sum(1 for s in items if s.status >= 400),
            "queries_per_request": round(statistics.mean(queries), 1) if queries else None,
            "budget_p95_ms": BUDGETS.get(name),
        }
    return result


def evaluations_per_second() -> float:
    from lms.progress.rules import evaluate
    from lms.progress.rules_file import load_facts_path, load_rules_path

    rules, _ = load_rules_path(ROOT / "assessments/peer-support-l4/rules.toml")
    facts, _ = load_facts_path(ROOT / "tests/unit/data/facts/example.json")
    started = time.perf_counter()
    count = 0
    while time.perf_counter() - started < 2:
        for _ in range(500):
            evaluate(rules, facts)
        count += 500
    return round(count / (time.perf_counter() - started), 1)


def run_one(kind: str, quick: bool) -> dict:
    trainees, cohorts = (100, 4) if quick else (1000, 40)
    duration = 15 if quick else 45
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        url, drop = prepare_database(kind, folder)
        small_url, drop_small = prepare_database(kind, folder / "small") if kind != "sqlite" else (
            f"sqlite:///{folder / 'small.sqlite3'}", lambda: None)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
            env.update({"LMS_DATABASE_URL": url, "LMS_SECRET_KEY": "benchmark-secret-key-" + "x" * 40,
                        "LMS_DATA_KEY": "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLW9rISE=",
                        "LMS_UPLOAD_DIR": str(folder / "uploads"), "LMS_COUNT_QUERIES": "1",
                        "PYTHONPATH": str(ROOT)})
            print(f"[{kind}] building data: {trainees} trainees in {cohorts} cohorts", file=sys.stderr)
            built = build_data(env, trainees, cohorts)
            port = free_port()
            server = start_server(env, port)
            base = f"http://127.0.0.1:{port}"
            try:
                from tests.benchmarks.load import drive

                print(f"[{kind}] ceiling: {CONCURRENCY} people for {duration}s", file=sys.stderr)
                ceiling_people = [("", [("ceiling", "/static/js/lms.js")])] * CONCURRENCY
                ceiling_samples, _ = asyncio.run(drive(base, ceiling_people, "", duration, CONCURRENCY))
                print(f"[{kind}] pages: {CONCURRENCY} signed-in people for {duration}s", file=sys.stderr)
                samples, failed = asyncio.run(drive(base, plan(built), "benchmark-password", duration, CONCURRENCY,
                                                    THINK_SECONDS))
            finally:
                server.terminate()
                server.wait(timeout=30)
                server.stderr.close()
            scenarios = summarise(samples + ceiling_samples, duration)
            # Query counts on a fifth of the data: a page whose count grows with the data fails its budget.
            small_env = dict(env, LMS_DATABASE_URL=small_url)
            small_built = build_data(small_env, max(20, trainees // 5), max(2, cohorts // 5))
            small_port = free_port()
            small_server = start_server(small_env, small_port)
            try:
                people = plan(small_built)
                sample_people = people[:5] + people[40:45]  # some of each role
                small_samples, _ = asyncio.run(drive(f"http://127.0.0.1:{small_port}", sample_people,
                                                     "benchmark-password", 3, len(sample_people)))
            finally:
                small_server.terminate()
                small_server.wait(timeout=30)
                small_server.stderr.close()
            small = summarise(small_samples, 3)
        finally:
            drop()
            drop_small()
    ceiling_rps = scenarios.get("ceiling", {}).get("rps") or 1
    budgets_met = failed == 0
    for name, figures in scenarios.items():
        figures["ratio_to_ceiling"] = round(figures["rps"] / ceiling_rps, 3)
        smaller = small.get(name, {}).get("queries_per_request")
        figures["queries_at_fifth_size"] = smaller
        constant = smaller is None or figures["queries_per_request"] is None or \
            figures["queries_per_request"] <= smaller + 0.5
        figures["queries_constant"] = constant
        budget = figures["budget_p95_ms"]
        if figures["errors"] or not constant or (budget is not None and figures["p95_ms"] > budget):
            budgets_met = False
    certificates = certificates_figures(quick)
    if certificates["seconds_for_200"] > CERTIFICATE_BUDGET_SECONDS:
        budgets_met = False
    return {
        "mode": "quick" if quick else "full",
        "database": kind,
        "trainees": trainees,
        "cohorts": cohorts,
        "concurrency": CONCURRENCY,
        "think_time_s": THINK_SECONDS,
        "duration_s": duration,
        "failed_sign_ins": failed,
        "scenarios": scenarios,
        "certificates_per_second": certificates["certificates_per_second"],
        "certificate_issue_run": certificates,
        "evaluations_per_second": evaluations_per_second(),
        "budgets_met": budgets_met,
    }


CERTIFICATE_BUDGET_SECONDS = 30  # for 200 certificates, each with its stored PDF


def certificates_figures(quick: bool) -> dict:
    """An issuing run as the background job does it (40 certificates in quick mode, 200 in full mode)."""
    from tests.benchmarks import bench_certificates

    count = 40 if quick else 200
    figures = bench_certificates.measure(count)
    rate = figures["certificates_issued_per_second"]
    return {"count": count, "seconds": figures["issue_run_seconds"], "certificates_per_second": rate,
            "seconds_for_200": round(200 / rate, 1), "budget_seconds_for_200": CERTIFICATE_BUDGET_SECONDS,
            "pdfs_per_second_rendering_only": figures["pdfs_per_second_one_process"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data and shorter runs (under 3 minutes)")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default=None,
                        help="default: both when PostgreSQL answers, else sqlite")
    args = parser.parse_args(argv)
    kinds = [args.database] if args.database and args.database != "both" else ["sqlite", "postgresql"]
    if args.database is None and not postgres_answers():
        kinds = ["sqlite"]
    documents = [run_one(kind, args.quick) for kind in kinds]
    print(json.dumps(documents if len(documents) > 1 else documents[0], indent=2))
    return 0 if all(d["budgets_met"] for d in documents) else 1


def postgres_answers() -> bool:
    try:
        engine = create_engine(make_url(os.environ.get("LMS_TEST_DATABASE_URL", PG_DEFAULT)).set(
            drivername="postgresql+psycopg"), connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


if __name__ == "__main__":
    sys.exit(main())
