"""Measure the LMS under load: `python -m tests.benchmarks [--quick] [--database sqlite|postgresql|both]`.

For each database it builds its own data (full: 1,000 trainees in 40
cohorts, all 11 registers of each taken, 1,000 submissions along the marking
chain, 50,000 diary entries, 200,000 board posts; quick: a tenth of each; see
data.py), serves the app with gunicorn (2 workers, 8 threads each) and drives
it from this process (a separate one from the server) with its own asyncio
client:

1. 50 simulated people sign in: trainees, the academic supervisor with the
   largest caseload and the lead tutor of the largest cohort, each with the
   pages of their role. Each opens each page once (the warm-up).
2. The ceiling: a trivial endpoint (a static file served by the same app)
   requested back to back over 50 connections.
3. The load: the 50 people use their pages in turn, pausing about a second
   between pages as a reader does. Latency percentiles and the budgets come
   from this phase.
4. Throughput: each page alone, back to back over 50 connections, as the
   ceiling was; ``rps`` and ``ratio_to_ceiling`` come from this phase.
5. Query counts: each page's steady-state SQL statement count (X-Query-Count,
   third request in a row) for a trainee of the big cohort, one of another,
   the supervisor and the lead tutor; read again, through the app's test
   client, on a second data set a fifth the size (built alongside the first).
   A page whose count grows with the data fails its budget.

It prints one JSON document per database (a list when there are two). Any
response other than 2xx is an error, redirects to the sign-in page included.
Exit status 0 when every budget was met, 1 otherwise.
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
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "benchmark-password"
CONCURRENCY = 50
# Who the 50 are: trainees, and a few sessions each of the supervisor with the largest caseload and of the
# lead tutor of the largest cohort (staff are about one person in eight).
STAFF_SESSIONS = 3
# gunicorn threads per worker (2 workers): on 2 cores, CPU-bound Python pages queue better in gunicorn than
# fighting over the GIL (measured: p50 about half, p95 lower than with 4 or 8 threads).
THREADS = 2
# Connections for the throughput phases (the ceiling and each page alone): as many as the server has threads.
SATURATING_CONNECTIONS = 16
THINK_SECONDS = 1.0       # mean pause between one person's pages (varied by ±50%)
CEILING_PATH = "/static/js/lms.js"

# Budgets (p95 under load, milliseconds) on a 2-core machine with 50 simulated people.
TRAINEE_BUDGET, SUPERVISOR_BUDGET, MARKING_BUDGET = 150, 400, 300
SCENARIOS = {
    "trainee_home": TRAINEE_BUDGET,
    "course_day": TRAINEE_BUDGET,
    "my_progress": TRAINEE_BUDGET,
    "diary_list": TRAINEE_BUDGET,
    "thread": TRAINEE_BUDGET,
    "supervisor_dashboard": SUPERVISOR_BUDGET,
    "supervisor_home": SUPERVISOR_BUDGET,
    "marking_queue": MARKING_BUDGET,
}
CERTIFICATE_COUNT = 200
CERTIFICATE_BUDGET_SECONDS = 30  # for 200 certificates, each with its stored PDF

# (quick, full)
TIMINGS = {"load_s": (15, 45), "saturate_s": (2, 5), "ceiling_s": (2, 5)}


def log(kind: str, message: str) -> None:
    print(f"[{kind} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def prepare_database(kind: str, folder: Path, name: str) -> tuple[str, callable]:
    """A new, empty database of the given kind; returns its URL and a function that drops it."""
    if kind == "sqlite":
        return f"sqlite:///{folder / (name + '.sqlite3')}", lambda: None
    server = make_url(os.environ.get("LMS_TEST_DATABASE_URL", PG_DEFAULT)).set(drivername="postgresql+psycopg")
    database = f"lms_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=database).render_as_string(hide_password=False), drop


BUILD_SCRIPT = """\
import json, sys
from datetime import date
from flask_migrate import upgrade
from lms.app import create_app
from lms.curriculum.cli import sync_all_courses
from tests.benchmarks import data
from tests.benchmarks.__main__ import probe_in_process
app = create_app()
with app.app_context():
    upgrade(directory=app.extensions['migrate'].directory)
    sync_all_courses(echo=lambda *args, **kwargs: None)
    built = data.build({trainees}, {cohorts}, date.today())
result = built.__dict__
if {probe}:
    result["probes"] = probe_in_process(app, result)
print(json.dumps(result))
"""


def start_build(env: dict, trainees: int, cohorts: int, probe: bool = False) -> subprocess.Popen:
    """Migrate, load the course and fill the database in a child process (it needs its own app);
    with ``probe``, the child then reads each page's query count through the app's test client."""
    script = BUILD_SCRIPT.format(trainees=trainees, cohorts=cohorts, probe=probe)
    return subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish_build(child: subprocess.Popen) -> dict:
    out, err = child.communicate(timeout=3600)
    if child.returncode != 0:
        raise SystemExit("Building benchmark data failed:\n" + err[-4000:])
    return json.loads(out.strip().splitlines()[-1])


def probe_in_process(app, built: dict) -> dict[str, int]:
    """Each page's steady-state query count (X-Query-Count of the third request in a row) through the test
    client: the same app and hooks as under gunicorn, for the same four people as ``probe_counts``."""
    from tests.benchmarks.load import CSRF

    counts: dict[str, int] = {}
    for email, scenarios in probe_people(built):
        client = app.test_client()
        token = CSRF.search(client.get("/sign-in").data)
        response = client.post("/sign-in", data={"email": email, "password": PASSWORD,
                                                 "csrf_token": token.group(1).decode()})
        if response.status_code != 302:
            raise SystemExit(f"{email} could not sign in on the small data set")
        for name, path in scenarios:
            for _ in range(3):
                response = client.get(path)
            queries = response.headers.get("X-Query-Count")
            if 200 <= response.status_code < 300 and queries is not None:
                counts[name] = max(counts.get(name, 0), int(queries))
    return counts


def start_server(env: dict, port: int, threads: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
         "--keep-alive", "30", "--timeout", "120", "--log-level", "warning", "lms.app:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start:\n" + server.stderr.read().decode()[-3000:])


def stop_server(server: subprocess.Popen) -> str:
    """Stop gunicorn; returns the end of what it wrote to stderr (tracebacks of errors, if any)."""
    server.terminate()
    try:
        _, err = server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        _, err = server.communicate()
    return (err or b"").decode(errors="replace")[-3000:]


def pages(built: dict, trainee: int) -> dict[str, str]:
    """Every scenario's path for the people of this data set (trainee pages for trainee number ``trainee``)."""
    day = 1 + trainee % 11
    return {
        "trainee_home": "/home",
        "course_day": f"/cohorts/{built['trainee_cohort'][trainee]}/course/days/{day}",
        "my_progress": "/progress",
        "diary_list": "/diary",
        "thread": f"/boards/threads/{built['trainee_threads'][trainee]}",
        "supervisor_dashboard": "/progress/overview",
        "supervisor_home": "/home",
        "marking_queue": f"/marking/{built['queue_assignment_id']}",
    }


TRAINEE_PAGES = ["trainee_home", "course_day", "my_progress", "diary_list", "thread"]
SUPERVISOR_PAGES = ["supervisor_dashboard", "supervisor_home"]


def plan(built: dict, people: int = CONCURRENCY) -> list[tuple[str, list[tuple[str, str]]]]:
    """Who signs in and which pages they use: trainees spread over every cohort, each using the five trainee
    pages in turn, and STAFF_SESSIONS sessions each of the supervisor with the largest caseload (dashboard and
    home) and of the lead tutor of the largest cohort (the marking queue)."""
    trainee_count = people - 2 * STAFF_SESSIONS
    total = len(built["trainees"])
    result = []
    for n in range(trainee_count):
        t = (n * total // trainee_count) % total
        paths = pages(built, t)
        result.append((built["trainees"][t], [(name, paths[name]) for name in TRAINEE_PAGES]))
    paths = pages(built, 0)
    for _ in range(STAFF_SESSIONS):
        result.append((built["big_supervisor"], [(name, paths[name]) for name in SUPERVISOR_PAGES]))
    for _ in range(STAFF_SESSIONS):
        result.append((built["lead_tutor"], [("marking_queue", paths["marking_queue"])]))
    return result


def probe_people(built: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """One person per role for the query-count probe: the first trainee of the big cohort and of another."""
    first_other = next((t for t, slug in enumerate(built["trainee_cohort"]) if slug != built["trainee_cohort"][0]), 0)
    result = []
    for t in (0, first_other):
        paths = pages(built, t)
        result.append((built["trainees"][t], [(name, paths[name]) for name in TRAINEE_PAGES]))
    paths = pages(built, 0)
    result.append((built["big_supervisor"], [(name, paths[name]) for name in SUPERVISOR_PAGES]))
    result.append((built["lead_tutor"], [("marking_queue", paths["marking_queue"])]))
    return result


async def measure_server(kind: str, base: str, built: dict, quick: bool) -> dict:
    """Phases 1-5 (the query probe on this data set) against one running server."""
    from tests.benchmarks import load

    pick = 0 if quick else 1
    log(kind, f"signing in {CONCURRENCY} people")
    people, failed = await load.sign_in_all(base, plan(built), PASSWORD)
    warm = await load.warm_up(people)
    log(kind, f"ceiling: {CEILING_PATH} over {SATURATING_CONNECTIONS} connections for {TIMINGS['ceiling_s'][pick]}s")
    ceiling = await load.saturate(base, [({}, CEILING_PATH)], "ceiling", TIMINGS["ceiling_s"][pick],
                                  SATURATING_CONNECTIONS)
    log(kind, f"load: {len(people)} signed-in people for {TIMINGS['load_s'][pick]}s, ~{THINK_SECONDS}s between pages")
    under_load = await load.load(people, TIMINGS["load_s"][pick], THINK_SECONDS)
    saturated = {}
    log(kind, f"throughput: each page alone over {SATURATING_CONNECTIONS} connections for "
              f"{TIMINGS['saturate_s'][pick]}s")
    for name in SCENARIOS:
        sessions = [(person.cookies, dict(scenarios)[name]) for person, scenarios in people
                    if name in dict(scenarios)]
        if sessions:
            saturated[name] = await load.saturate(base, sessions, name, TIMINGS["saturate_s"][pick],
                                                  SATURATING_CONNECTIONS)
    probes = await probe_counts(base, built, people)
    load.close(people)
    return {"failed": failed, "warm": warm, "ceiling": ceiling, "load": under_load,
            "saturated": saturated, "probes": probes, "load_seconds": TIMINGS["load_s"][pick]}


async def probe_counts(base: str, built: dict, people=None) -> dict[str, int | None]:
    """Steady-state query count of each page: the largest over one trainee of the big cohort, one of another
    cohort, the big supervisor and the lead tutor. ``people`` already signed in are used when given."""
    from tests.benchmarks import load

    wanted = probe_people(built)
    signed_in = {tuple(scenarios): person for person, scenarios in people or []}
    missing = [(email, scenarios) for email, scenarios in wanted if tuple(scenarios) not in signed_in]
    fresh, _ = await load.sign_in_all(base, missing, PASSWORD) if missing else ([], 0)
    people = [(signed_in[tuple(scenarios)], scenarios) for _, scenarios in wanted
              if tuple(scenarios) in signed_in] + fresh
    counts: dict[str, int | None] = {}
    for person, scenarios in people:
        for name, path in scenarios:
            sample = await load.probe(person, name, path)
            if sample.queries is not None and not sample.error:
                counts[name] = max(counts.get(name) or 0, sample.queries)
    load.close(fresh)
    return counts


def errors_of(samples) -> Counter:
    return Counter(sample.error for sample in samples if sample.error)


def figures_for(name: str, budget: int | None, under_load, saturated, elapsed, warm, ceiling_rps: float | None) -> dict:
    latencies = [s.ms for s in under_load if not s.error]
    queries = [s.queries for s in under_load if s.queries is not None]
    rps = len([s for s in saturated if not s.error]) / elapsed if elapsed else 0.0
    errors = errors_of(list(under_load) + list(saturated) + list(warm))
    figures = {
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "rps": round(rps, 1),
        "errors": sum(errors.values()),
        "queries_per_request": round(statistics.mean(queries), 1) if queries else None,
        "budget_p95_ms": budget,
        "ratio_to_ceiling": round(rps / ceiling_rps, 3) if ceiling_rps else None,
        "requests_under_load": len(under_load),
        "saturated_p50_ms": round(percentile([s.ms for s in saturated], 50), 1),
        "saturated_p95_ms": round(percentile([s.ms for s in saturated], 95), 1),
    }
    if errors:
        figures["error_kinds"] = dict(errors)
    return figures


def run_one(kind: str, quick: bool, shared: dict, threads: int) -> dict:
    trainees, cohorts = (100, 4) if quick else (1000, 40)
    small_trainees, small_cohorts = trainees // 5, max(2, cohorts // 5)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        url, drop = prepare_database(kind, folder, "main")
        small_url, drop_small = prepare_database(kind, folder, "small")
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
            env.update({"LMS_DATABASE_URL": url, "LMS_SECRET_KEY": "benchmark-secret-key-" + "x" * 40,
                        "LMS_DATA_KEY": "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLW9rISE=",
                        "LMS_UPLOAD_DIR": str(folder / "uploads"), "LMS_COUNT_QUERIES": "1",
                        "LMS_BASE_URL": "http://127.0.0.1:5000", "PYTHONPATH": str(ROOT)})
            small_env = dict(env, LMS_DATABASE_URL=small_url)
            log(kind, f"building data: {trainees} trainees in {cohorts} cohorts, and a fifth of that "
                      f"({small_trainees} in {small_cohorts}) for the query counts")
            small_child = start_build(small_env, small_trainees, small_cohorts, probe=True)
            try:
                built = finish_build(start_build(env, trainees, cohorts))
                small_built = finish_build(small_child)
            finally:
                if small_child.poll() is None:
                    small_child.kill()
                    small_child.wait()
            small_probes = small_built["probes"]
            log(kind, f"built in {built['seconds']}s: {built['rows']}")
            port = free_port()
            server = start_server(env, port, threads)
            try:
                measured = asyncio.run(measure_server(kind, f"http://127.0.0.1:{port}", built, quick))
            finally:
                server_log = stop_server(server)
        finally:
            drop()
            drop_small()

    ceiling_samples, ceiling_elapsed = measured["ceiling"]  # noqa: F841
    ceiling = figures_for("ceiling", None, ceiling_samples, ceiling_samples, ceiling_elapsed, [], None)
    ceiling["ratio_to_ceiling"] = 1.0
    ceiling_rps = ceiling["rps"] or None
    scenarios = {"ceiling": ceiling}
    missed = []
    if measured["failed"]:
        missed.append(f"{measured['failed']} simulated people could not sign in")
    for name, budget in SCENARIOS.items():
        under_load = [s for s in measured["load"] if s.scenario == name]
        saturated, elapsed = measured["saturated"].get(name, ([], 0))
        warm = [s for s in measured["warm"] if s.scenario == name]
        figures = figures_for(name, budget, under_load, saturated, elapsed, warm, ceiling_rps)
        figures["queries_probe"] = measured["probes"].get(name)
        figures["queries_probe_at_fifth_size"] = small_probes.get(name)
        big, small = figures["queries_probe"], figures["queries_probe_at_fifth_size"]
        figures["queries_constant"] = big is not None and small is not None and big <= small
        figures["budget_met"] = (not figures["errors"] and figures["queries_constant"] and bool(under_load)
                                 and figures["p95_ms"] <= budget)
        if not under_load:
            missed.append(f"{name}: no requests measured")
        if figures["errors"]:
            missed.append(f"{name}: {figures['errors']} errors ({figures.get('error_kinds')})")
        if figures["p95_ms"] > budget:
            missed.append(f"{name}: p95 {figures['p95_ms']} ms, budget {budget} ms "
                          f"(+{round(figures['p95_ms'] - budget, 1)} ms, {round(figures['p95_ms'] / budget, 2)}x)")
        if not figures["queries_constant"]:
            missed.append(f"{name}: {big} queries per request, {small} at a fifth of the data")
        scenarios[name] = figures
    certificates = shared["certificates"]
    if certificates["seconds_for_200"] > CERTIFICATE_BUDGET_SECONDS:
        missed.append(f"certificates: {certificates['seconds_for_200']} s for 200, budget "
                      f"{CERTIFICATE_BUDGET_SECONDS} s")
    document = {
        "mode": "quick" if quick else "full",
        "database": kind,
        "data": {"trainees": trainees, "cohorts": cohorts, "rows": built["rows"], "build_seconds": built["seconds"],
                 "supervisor_caseload": built["big_caseload"], "marking_queue_scripts": built["queue_size"],
                 "fifth_size": {"trainees": small_trainees, "cohorts": small_cohorts,
                                "supervisor_caseload": small_built["big_caseload"],
                                "marking_queue_scripts": small_built["queue_size"]}},
        "server": {"workers": 2, "threads": threads},
        "concurrency": CONCURRENCY,
        "people": {"trainees": CONCURRENCY - 2 * STAFF_SESSIONS, "supervisor_sessions": STAFF_SESSIONS,
                   "lead_tutor_sessions": STAFF_SESSIONS},
        "think_time_s": THINK_SECONDS,
        "load_seconds": measured["load_seconds"],
        "failed_sign_ins": measured["failed"],
        "scenarios": scenarios,
        "certificates_per_second": certificates["certificates_per_second"],
        "certificate_issue_run": certificates,
        "evaluations_per_second": shared["evaluations_per_second"],
        "budgets_met": not missed,
        "budgets_missed": missed,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if any(figures.get("errors") for figures in scenarios.values()):
        document["server_log_tail"] = (server_log or "")[-1500:]
    return document


def evaluations_per_second(seconds: float = 2) -> float:
    """Rules-engine evaluations of one trainee's facts per second, in this process."""
    from lms.progress.rules import evaluate
    from lms.progress.rules_file import load_facts_path, load_rules_path

    rules, _ = load_rules_path(ROOT / "assessments/peer-support-l4/rules.toml")
    facts, _ = load_facts_path(ROOT / "tests/unit/data/facts/example.json")
    started = time.perf_counter()
    count = 0
    while time.perf_counter() - started < seconds:
        for _ in range(500):
            evaluate(rules, facts)
        count += 500
    return round(count / (time.perf_counter() - started), 1)


def certificates_figures(quick: bool, database: str | None = None) -> dict:
    """An issuing run of 200 certificates as the background job does it (a row, an audit event, a notification
    and a stored PDF each), in a database of its own (SQLite unless ``database`` is given)."""
    from tests.benchmarks import bench_certificates

    figures = bench_certificates.measure(CERTIFICATE_COUNT, database, render_count=0 if quick else None)
    rate = figures["certificates_issued_per_second"]
    return {"count": CERTIFICATE_COUNT, "database": figures["database"], "seconds": figures["issue_run_seconds"],
            "certificates_per_second": rate, "seconds_for_200": round(CERTIFICATE_COUNT / rate, 1),
            "budget_seconds_for_200": CERTIFICATE_BUDGET_SECONDS,
            "pdfs_per_second_rendering_only": figures.get("pdfs_per_second_one_process")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data and shorter runs (under 3 minutes)")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default=None,
                        help="default: both when PostgreSQL answers, else sqlite")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help=f"gunicorn threads per worker (2 workers; default {THREADS})")
    args = parser.parse_args(argv)
    kinds = [args.database] if args.database and args.database != "both" else ["sqlite", "postgresql"]
    if args.database is None and not postgres_answers():
        kinds = ["sqlite"]
    started = time.perf_counter()
    shared = {"evaluations_per_second": evaluations_per_second(1 if args.quick else 3)}
    if args.quick:
        # Quick mode issues the 200 certificates once, on SQLite, for every document.
        log("certificates", f"issuing {CERTIFICATE_COUNT} certificates")
        shared["certificates"] = certificates_figures(True)
    documents = []
    for kind in kinds:
        if not args.quick:
            log(kind, f"issuing {CERTIFICATE_COUNT} certificates")
            if kind == "sqlite":
                shared["certificates"] = certificates_figures(False)
            else:
                url, drop = prepare_database(kind, Path(tempfile.gettempdir()), "certificates")
                try:
                    shared["certificates"] = certificates_figures(False, url)
                finally:
                    drop()
        documents.append(run_one(kind, args.quick, shared, args.threads))
    print(json.dumps(documents if len(documents) > 1 else documents[0], indent=2))
    log("done", f"in {round(time.perf_counter() - started, 1)}s")
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
