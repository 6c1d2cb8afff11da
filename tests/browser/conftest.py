"""Browser tests: the LMS served on a free local port, driven by Debian's Chromium.

Chromium comes from LMS_CHROMIUM (default /usr/bin/chromium); nothing is ever
downloaded. Without it the tests skip with a reason, unless LMS_REQUIRE_BROWSER=1
(as in CI), which turns a missing browser into a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from datetime import date
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from lms.app import create_app
from lms.extensions import db
from tests.conftest import base_config, migrate_to_head, postgres_url

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
SERIOUS = {"serious", "critical"}


def chromium_path() -> str | None:
    path = os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium")
    return path if Path(path).exists() or shutil.which(path) else None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if path is None:
        message = (f"No Chromium at {os.environ.get('LMS_CHROMIUM', '/usr/bin/chromium')}: "
                   "install Debian's chromium package or set LMS_CHROMIUM.")
        if os.environ.get("LMS_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The LMS with the demo, served from a thread on a free port: on a fresh SQLite file, or on a fresh
    PostgreSQL database of its own when LMS_TEST_DATABASE_URL is set (built by the migrations either way)."""
    instance = tmp_path_factory.mktemp("live")
    url, drop = fresh_database(instance)
    config = base_config(url, instance)
    config["TESTING"] = False
    app = create_app(config)
    migrate_to_head(app)
    with app.app_context():
        from lms import demo

        demo.seed(date.today())
        db.session.commit()
        sync_content(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    with app.app_context():
        db.engine.dispose()
    drop()


def fresh_database(instance: Path) -> tuple[str, callable]:
    """A new, empty database for one live server, and a function that removes it."""
    server = postgres_url()
    if server is None:
        return f"sqlite:///{instance / 'lms.sqlite3'}", lambda: None
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"lms_live_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server).set(database=name).render_as_string(hide_password=False), drop


def sync_content(app) -> None:
    """Load the course content, when the content loader is part of the app."""
    command = app.cli.commands.get("course")
    if command is None:
        return
    runner = app.test_cli_runner()
    result = runner.invoke(args=["course", "sync", app.config["LMS_COURSES_DIR"] + "/peer-support-l4"])
    assert result.exit_code == 0, result.output


class LiveServer:
    def __init__(self, url: str, app):
        self.url = url
        self.app = app


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


def check_accessibility(page) -> None:
    """Run axe on the page; fail on any serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    problems = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not problems, f"Accessibility problems on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in problems)


def sign_in(page, email: str, password: str = "peer-support-demo") -> None:
    page.goto("/sign-in")
    check_accessibility(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/home")


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
