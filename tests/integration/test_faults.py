"""Faults survived: the database going away and coming back, Redis going away."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from lms.app import create_app
from lms import ratelimits
from lms.accounts.models import User
from lms.database import utcnow
from lms.extensions import db
from lms.notify.models import OutboxEmail
from tests.conftest import IsolatedClient, base_config, postgres_url, sign_in


class TcpProxy:
    """A TCP proxy in a thread that can be cut and restored, to make the database 'go away'."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.writers: set = set()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    async def _pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        self.writers |= {client_writer, server_writer}
        await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer))

    async def _start(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _stop(self):
        self.server.close()
        await self.server.wait_closed()
        for writer in list(self.writers):
            writer.close()
        self.writers.clear()

    def start(self):
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)

    def stop(self):
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(5)


@pytest.mark.skipif(postgres_url() is None, reason="needs PostgreSQL (LMS_TEST_DATABASE_URL) to cut the connection")
# Connections cut mid-stream are dropped by the pool without a polite close; psycopg warns about that.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_database_goes_away_and_comes_back(database_template, tmp_path):
    _, url = database_template
    real = make_url(url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    proxy.start()
    app = create_app(base_config(real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
                                 tmp_path))
    app.test_client_class = IsolatedClient
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        from lms import demo

        demo.seed(__import__("datetime").date.today())
        db.session.commit()
    client = app.test_client()
    try:
        assert sign_in(client, "tutor1@example.org").status_code == 302
        assert client.get("/home").status_code == 200
        proxy.stop()
        page = client.get("/home")
        assert page.status_code == 503 and "cannot reach our database" in page.get_data(as_text=True)
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["database"] == "unavailable"
        support = client.get("/support")
        assert support.status_code == 503
        assert "cannot reach our database" in support.get_data(as_text=True)
        proxy.start()
        assert client.get("/healthz").status_code == 200
        assert client.get("/home").status_code == 200  # still signed in: nothing was lost
    finally:
        proxy.stop()
        with app.app_context():
            db.engine.dispose()
        # The test database is shared by this worker: clear what this test wrote.
        cleanup = create_app(base_config(url, tmp_path))
        with cleanup.app_context():
            from sqlalchemy import text

            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.engine.dispose()
        gc.collect()  # let the cut connections' warnings surface here, where they are expected


def test_redis_away_limits_still_hold_and_jobs_still_run(app, demo, tmp_path):
    away = "redis://127.0.0.1:1/0"  # nothing listens there
    config = base_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    config.update(LMS_REDIS_URL=away, RATELIMIT_STORAGE_URI=away)
    broken = create_app(config)
    broken.test_client_class = IsolatedClient
    client = broken.test_client()
    for _ in range(10):
        assert sign_in(client, "trainee5@example.org", "wrong-password-here").status_code == 200
    assert sign_in(client, "trainee5@example.org").status_code == 429
    from lms.attendance import services as attendance
    from lms.boards import services as boards
    from lms.notify.services import send_email

    with broken.app_context():
        # The check-in code guesses and the board's flood limit count on too (in this worker's memory).
        trainee = db.session.execute(select(User).where(User.email == "trainee5@example.org")).scalar_one()
        statuses = []
        for _ in range(6):
            with pytest.raises(attendance.CheckInRefused) as refused:
                attendance.check_in(trainee, "WRONG1", utcnow())
            statuses.append(refused.value.status)
        assert statuses == [400] * 5 + [429]
        for _ in range(boards.POST_LIMIT.amount):
            ratelimits.hit(boards.POST_LIMIT, boards._flood_key(trainee))
        assert boards._flood_problem(trainee) is not None
        message = send_email("trainee5@example.org", "Still delivered", "Redis is away; this runs inline.")
        db.session.commit()
        sent = db.session.execute(select(OutboxEmail.sent_at).where(OutboxEmail.id == message.id)).scalar()
    assert sent is not None
