"""The lms command: quickstart, demo and users."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.extensions import db


def test_demo_is_idempotent(runner, app):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    count = db.session.execute(select(func.count(User.id))).scalar_one()
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "0 people" in second.output
    assert db.session.execute(select(func.count(User.id))).scalar_one() == count >= 26


def test_users_create_reads_password_file(runner, app, tmp_path):
    password_file = tmp_path / "pw"
    password_file.write_text("a long enough password\n")
    result = runner.invoke(args=["users", "create", "--email", "New.Admin@Example.org", "--name", "Sam Admin",
                                 "--role", "admin", "--password-file", str(password_file)])
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "new.admin@example.org")).scalar_one()
    assert user.password_hash.startswith("$argon2id$")


def test_users_create_refuses_a_short_password(runner, app, tmp_path):
    password_file = tmp_path / "pw"
    password_file.write_text("short\n")
    result = runner.invoke(args=["users", "create", "--email", "x@example.org", "--name", "X",
                                 "--role", "admin", "--password-file", str(password_file)])
    assert result.exit_code == 1 and "at least 10 characters" in result.output


ROOT = Path(__file__).resolve().parents[2]


def run_lms(args, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "lms.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)


def test_quickstart_twice_keeps_everything_and_creates_keys(tmp_path):
    first = run_lms(["quickstart", "--no-serve"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "peer-support-demo" in first.stdout and "http://127.0.0.1:5000" in first.stdout
    for name in ("secret_key", "data_key"):
        mode = stat.S_IMODE((tmp_path / "instance" / name).stat().st_mode)
        assert mode == 0o600
    key = (tmp_path / "instance" / "data_key").read_text()
    second = run_lms(["quickstart", "--no-serve"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "instance" / "data_key").read_text() == key


def test_quickstart_explains_an_unwritable_database(tmp_path):
    # A path under a regular file can never be written, even by root (CI runs as root).
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = run_lms(["quickstart", "--no-serve"], tmp_path,
                     {"LMS_DATABASE_URL": f"sqlite:///{blocker}/lms.sqlite3"})
    assert result.returncode != 0
    assert "could not open its database file" in result.stderr
    assert "Traceback" not in result.stderr


def test_quickstart_explains_postgres_down(tmp_path):
    result = run_lms(["quickstart", "--no-serve"], tmp_path,
                     {"LMS_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/lms"})
    assert result.returncode != 0
    assert "could not reach its database" in result.stderr and "PostgreSQL is running" in result.stderr
    assert "Traceback" not in result.stderr


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_quickstart_serves_the_lms_and_a_demo_account_signs_in(tmp_path):
    """The README's run command: it must still be serving after it has printed the sign-ins."""
    import re
    import time
    import urllib.error
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    log = tmp_path / "quickstart.log"
    with log.open("w") as output:
        server = subprocess.Popen([sys.executable, "-m", "lms.cli", "quickstart", "--port", str(port)],
                                  cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, f"quickstart stopped instead of serving:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    assert response.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "quickstart never answered on its port"
                time.sleep(0.5)
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        form = browser.open(f"{base}/sign-in", timeout=10).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode({"csrf_token": token, "email": "trainee1@example.org",
                                       "password": "peer-support-demo"}).encode()
        home = browser.open(f"{base}/sign-in", data=data, timeout=30).read().decode()
        assert "Sign out" in home
    finally:
        server.terminate()
        server.wait(timeout=30)
