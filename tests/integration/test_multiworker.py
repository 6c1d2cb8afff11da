"""Two gunicorn workers on PostgreSQL and Redis: sessions, sign-in limits and jobs hold across workers.

Runs when LMS_TEST_DATABASE_URL points at PostgreSQL and Redis answers on
127.0.0.1:6379 (both are there in CI); skipped otherwise.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import postgres_url

REDIS_URL = "redis://127.0.0.1:6379/1"
ROOT = Path(__file__).resolve().parents[2]


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(postgres_url() is None or not redis_available(),
                                reason="needs PostgreSQL (LMS_TEST_DATABASE_URL) and Redis on 127.0.0.1:6379")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """A fresh PostgreSQL database with the demo, served by gunicorn with two workers."""
    instance = tmp_path_factory.mktemp("deploy")
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()  # Redis database 1 is this test's own: start it empty
    server = make_url(postgres_url())
    name = f"lms_workers_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update({
        "LMS_DATABASE_URL": server.set(database=name).render_as_string(hide_password=False),
        "LMS_REDIS_URL": REDIS_URL,
        "LMS_SECRET_KEY": "a-long-secret-key-for-the-multi-worker-test-0123456789",
        "LMS_DATA_KEY": "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLW9rISE=",
        "LMS_UPLOAD_DIR": str(instance / "uploads"),
        "LMS_QUEUE_NAME": f"lms-test-{uuid.uuid4().hex[:8]}",  # a queue of this run's own
        "PYTHONPATH": str(ROOT),
    })
    subprocess.run([sys.executable, "-m", "lms.cli", "quickstart", "--no-serve"], cwd=instance, env=env,
                   check=True, capture_output=True, timeout=300)
    port = free_port()
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "2", "--bind", f"127.0.0.1:{port}",
         "tests.integration.worker_app:app"], cwd=instance, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            build_opener().open(base + "/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        gunicorn.kill()
        pytest.fail("gunicorn did not start: " + gunicorn.stderr.read().decode()[-2000:])
    yield base, env, instance
    gunicorn.terminate()
    gunicorn.wait(timeout=20)
    gunicorn.stderr.close()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Browser:
    def __init__(self, base):
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def get(self, path):
        try:
            response = self.opener.open(self.base + path, timeout=10)
            return response.status, response.read().decode(), response.headers.get("X-Worker", "")
        except HTTPError as error:
            return error.code, error.read().decode(), ""

    def sign_in(self, email, password="peer-support-demo"):
        _, page, _ = self.get("/sign-in")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        try:
            response = self.opener.open(Request(self.base + "/sign-in", data=data), timeout=10)
            return response.status, response.read().decode()
        except HTTPError as error:
            return error.code, error.read().decode()


def test_a_session_works_on_every_worker(deployment):
    base, _, _ = deployment
    browser = Browser(base)
    status, page = browser.sign_in("tutor1@example.org")
    assert status == 200 and "Hello, Priya Shah" in page
    # Requests in parallel, so both workers answer some: every one sees the same signed-in person.
    from concurrent.futures import ThreadPoolExecutor

    workers = set()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(6):
            for status, page, worker in pool.map(lambda _: browser.get("/home"), range(16)):
                assert status == 200 and "Hello, Priya Shah" in page
                workers.add(worker)
            if len(workers) >= 2:
                break
    assert len(workers) == 2, workers


def test_sign_in_limits_are_shared_by_the_workers(deployment):
    base, _, _ = deployment
    email = f"trainee{uuid.uuid4().int % 12 + 1}@example.org"
    statuses = [Browser(base).sign_in(email, "wrong-password-here")[0] for _ in range(10)]
    assert statuses == [200] * 10
    # With per-process counting each worker would allow 10 failures; shared in Redis, the 11th is refused.
    status, page = Browser(base).sign_in(email, "peer-support-demo")
    assert status == 429 and "too many sign-in attempts" in page


def test_background_jobs_go_through_redis_to_a_worker(deployment):
    _, env, instance = deployment
    script = (
        "from lms.app import create_app\n"
        "from lms.extensions import db\n"
        "from lms.notify.services import send_email\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    message = send_email('trainee1@example.org', 'Multi-worker check', 'Sent through RQ.')\n"
        "    db.session.commit()\n"
        "    print(message.id)\n"
    )
    created = subprocess.run([sys.executable, "-c", script], cwd=instance, env=env, capture_output=True,
                             text=True, timeout=60, check=True)
    message_id = int(created.stdout.strip().splitlines()[-1])
    engine = create_engine(make_url(env["LMS_DATABASE_URL"]).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        sent = conn.execute(text("SELECT sent_at FROM outbox_emails WHERE id = :id"), {"id": message_id}).scalar()
    assert sent is None  # queued, not sent inside the web process
    # `lms worker` builds the app once and runs every waiting job (the demo's e-mails too) in one process.
    started = time.monotonic()
    ran = subprocess.run([sys.executable, "-m", "lms.cli", "worker", "--burst"], cwd=instance, env=env,
                         capture_output=True, text=True, timeout=240)
    assert ran.returncode == 0, ran.stderr[-2000:]
    print(f"lms worker --burst ran the queue in {time.monotonic() - started:.1f} s")
    with engine.connect() as conn:
        sent = conn.execute(text("SELECT sent_at FROM outbox_emails WHERE id = :id"), {"id": message_id}).scalar()
    engine.dispose()
    assert sent is not None
