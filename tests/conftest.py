"""Fixtures: a fresh app and database per test, demo data, and signing in as a role.

Tests run on SQLite by default and on PostgreSQL when LMS_TEST_DATABASE_URL is
set (each run, and each xdist worker, in a fresh database of its own).
"""

from __future__ import annotations

import contextvars
import os
import shutil
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from lms.accounts import passwords
from lms.app import create_app
from lms.config import database_url
from lms.extensions import db

TEST_SECRET = "test-secret-key-not-for-production"
TEST_DATA_KEY = "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLW9rISE="
DEMO_PASSWORD = "peer-support-demo"

# Argon2id still, at the cheapest cost, so that seeding people in every test is quick.
passwords.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def postgres_url() -> str | None:
    raw = os.environ.get("LMS_TEST_DATABASE_URL")
    return database_url(raw) if raw else None


@contextmanager
def app_context_for(url: str, instance: Path):
    app = create_app(base_config(url, instance))
    with app.app_context():
        yield app


def base_config(url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": TEST_SECRET,
        "LMS_DATA_KEY": TEST_DATA_KEY,
        "LMS_BASE_URL": "http://localhost",
        "LMS_UPLOAD_DIR": str(instance / "uploads"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "LMS_REDIS_URL": None,
        "LMS_SMTP_URL": None,
        "LMS_RAISE_ON_LAZY_LOAD": True,
        "SERVER_NAME": None,
    }


def migrate_to_head(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()


def create_schema(app) -> None:
    """Create every table from the models (tests/integration/test_migrations.py
    checks that the migrations build exactly the same schema)."""
    with app.app_context():
        db.create_all()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory, worker_id):
    """A migrated database made once per test process: a SQLite file to copy, or a PostgreSQL database."""
    base = tmp_path_factory.mktemp("db-template")
    pg = postgres_url()
    if pg is None:
        url = f"sqlite:///{base / 'template.sqlite3'}"
        create_schema(create_app(base_config(url, base)))
        yield ("sqlite", base / "template.sqlite3")
        return
    server = make_url(pg)
    name = f"lms_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin_engine = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    create_schema(create_app(base_config(url, base)))
    yield ("postgresql", url)
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose requests run in a context of their own.

    Each request gets a fresh app context (its own ``g`` and database
    session), as in production, even though the test holds one open.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(database_template, tmp_path):
    kind, template = database_template
    if kind == "sqlite":
        target = tmp_path / "lms.sqlite3"
        shutil.copyfile(template, target)
        url = f"sqlite:///{target}"
    else:
        url = template
    application = create_app(base_config(url, tmp_path))
    application.test_client_class = IsolatedClient
    with application.app_context():
        yield application
        db.session.remove()
        if kind == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def today():
    return date.today()


@pytest.fixture
def demo(app, today):
    """The demo seeded into this test's database."""
    from lms import demo as demo_module

    demo_module.seed(today)
    db.session.commit()
    return demo_module


ROLE_ACCOUNTS = {
    "admin": "admin@example.org",
    "tutor": "tutor1@example.org",
    "academic_supervisor": "academic1@example.org",
    "personal_supervisor": "supervisor1@example.org",
    "trainee": "trainee1@example.org",
    "finished_trainee": "trainee13@example.org",
}


def csrf_token(client, path="/sign-in") -> str:
    """Fetch a page and read its CSRF token from the first form."""
    import re

    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, email: str, password: str = DEMO_PASSWORD):
    token = csrf_token(client)
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def login_as(client, demo):
    """Sign the test client in as the demo account for a role; returns the client."""

    def login(role: str):
        response = sign_in(client, ROLE_ACCOUNTS.get(role, role))
        assert response.status_code == 302, f"could not sign in as {role}"
        return client

    return login


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside a ``with count_queries() as counted:`` block."""

    @contextmanager
    def counter():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counter


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on a free local port, used by the app for this test.

    Yields the list of messages it has received, each an ``email.message.EmailMessage``.
    """
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    received = []

    class Collect:
        async def handle_DATA(self, server, session, envelope):
            received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config["LMS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        yield received
    finally:
        controller.stop()
        app.config["LMS_SMTP_URL"] = None
