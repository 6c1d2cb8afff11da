"""lms check-deploy, and a backup restored elsewhere with nothing lost."""

import json
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from lms.accounts.models import User
from lms.app import create_app
from lms.extensions import db
from lms.operations import backup as backups
from tests.conftest import base_config, create_schema, migrate_to_head, postgres_url


def test_check_deploy_flags_unsafe_settings(app, runner):
    app.config.update(SECRET_KEY="dev", LMS_BASE_URL="http://training.example.org", LMS_SMTP_URL=None)
    migrate_needed = runner.invoke(args=["check-deploy", "--workers", "4"])
    assert migrate_needed.exit_code == 1
    output = migrate_needed.output
    assert "secret key is a default" in output
    assert "not HTTPS" in output
    assert "No Redis configured" in output
    assert "E-mail is not configured" in output
    if db.engine.dialect.name == "sqlite":
        assert "SQLite is the database but 4 workers" in output


def test_check_deploy_warns_about_proxies_and_a_signing_key_per_machine(app, runner, monkeypatch):
    monkeypatch.delenv("LMS_SIGNING_KEY", raising=False)
    app.config.update(LMS_BASE_URL="https://training.example.org", LMS_TRUSTED_PROXIES=0, LMS_SIGNING_KEY=None)
    output = runner.invoke(args=["check-deploy", "--workers", "4"]).output
    assert "LMS_TRUSTED_PROXIES is 0" in output and "set LMS_TRUSTED_PROXIES=1" in output
    assert "instance/signing_key.pem" in output and "set LMS_SIGNING_KEY" in output
    app.config.update(LMS_TRUSTED_PROXIES=1, LMS_SIGNING_KEY="-----BEGIN PRIVATE KEY-----")
    output = runner.invoke(args=["check-deploy", "--workers", "4"]).output
    assert "LMS_TRUSTED_PROXIES" not in output and "signing_key.pem" not in output


def test_a_bad_trusted_proxies_setting_gets_a_clear_message():
    from lms.config import trusted_proxies

    assert trusted_proxies(None) == 0 and trusted_proxies(" 2 ") == 2
    with pytest.raises(ValueError, match="whole number of reverse proxies"):
        trusted_proxies("yes")
    with pytest.raises(ValueError, match="between 0 and 5"):
        trusted_proxies("9")


def test_check_deploy_passes_a_sound_setup(tmp_path):
    url = postgres_url()
    if url is None:
        pytest.skip("needs PostgreSQL (LMS_TEST_DATABASE_URL) for a multi-worker setup")
    name = f"lms_deploy_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        config = base_config(make_url(url).set(database=name).render_as_string(hide_password=False), tmp_path)
        config.update(SECRET_KEY="x" * 64, LMS_SECRET_KEY_SOURCE="environment", LMS_DATA_KEY_SOURCE="environment",
                      LMS_BASE_URL="https://training.example.org", LMS_SMTP_URL="smtp://127.0.0.1:2525",
                      LMS_REDIS_URL="redis://127.0.0.1:6379/0", LMS_TRUSTED_PROXIES=1)
        app = create_app(config)
        migrate_to_head(app)
        result = app.test_cli_runner().invoke(args=["check-deploy", "--workers", "4"])
        assert result.exit_code == 0, result.output
        assert "No unsafe settings found" in result.output
        with app.app_context():
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def other_database(tmp_path):
    """A second, empty database of the same kind as the test's."""
    pg = postgres_url()
    if pg is None:
        return f"sqlite:///{tmp_path / 'restored' / 'lms.sqlite3'}", None
    name = f"lms_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(pg).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(pg).set(database=name).render_as_string(hide_password=False), (admin, name)


def write_diaries() -> None:
    from datetime import date

    from lms.diary import services as diary

    trainee = db.session.execute(select(User).where(User.email == "trainee1@example.org")).scalar_one()
    for number, body in enumerate(["Today I listened more than I spoke.", "A hard day; I used my wellness tools.",
                                   "What I noticed about boundaries."], start=1):
        fields, problems = diary.read_entry_form(title=f"Entry {number}", body=body, entry_date="", day_number=str(number),
                                                 prompt="", tags="reflection", mood="", today=date.today(), max_day=11,
                                                 saving=True)
        assert problems == []
        diary.create_entry(trainee, fields, draft=False)
    db.session.commit()


def diary_words() -> list[tuple[int, dict]]:
    from lms.diary.crypto import unseal
    from lms.diary.models import DiaryEntry

    entries = db.session.execute(select(DiaryEntry).where(DiaryEntry.sealed != "").order_by(DiaryEntry.id)).scalars()
    return [(entry.id, unseal(entry)) for entry in entries]


def test_backup_and_restore_lose_nothing(app, demo, tmp_path):
    migrate_revision = "0001_foundation"
    with db.engine.begin() as conn:  # the test database is built from the models: record a revision
        conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text(f"INSERT INTO alembic_version VALUES ('{migrate_revision}')"))
    write_diaries()
    uploads = tmp_path / "uploads"
    (uploads / "certificates").mkdir(parents=True)
    (uploads / "certificates" / "PSW-1.pdf").write_bytes(b"%PDF-1.7 pretend")
    folder = tmp_path / "backup"
    manifest = backups.create(folder)
    assert manifest["tables"]["users"]["rows"] == 26
    assert "uploads/certificates/PSW-1.pdf" in manifest["files"]
    assert not any("key" in name for name in manifest["files"])
    users_before = db.session.execute(select(User.email).order_by(User.id)).scalars().all()
    diaries_before = diary_words()
    assert len(diaries_before) >= 3
    written = b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())
    assert b"listened more than I spoke" not in written  # sealed in the backup too

    url, cleanup = other_database(tmp_path)
    try:
        target = create_app(base_config(url, tmp_path / "restored"))
        with target.app_context():
            restored = backups.restore(folder)
            assert restored["schema_revision"] == migrate_revision
            assert db.session.execute(select(User.email).order_by(User.id)).scalars().all() == users_before
            # Diaries come back sealed, and open with the data key kept outside the backup.
            assert diary_words() == diaries_before
            assert (tmp_path / "restored" / "uploads" / "certificates" / "PSW-1.pdf").read_bytes() == b"%PDF-1.7 pretend"
            with pytest.raises(backups.BackupError, match="not empty"):
                backups.restore(folder)
            db.session.remove()
            db.engine.dispose()
    finally:
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_restore_refuses_a_damaged_or_newer_backup(app, demo, tmp_path):
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('0001_foundation')"))
    folder = tmp_path / "backup"
    backups.create(folder)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["schema_revision"] = "9999_from_the_future"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(backups.BackupError, match="newer version"):
        backups.restore(folder)
    database_file = folder / manifest["database_file"]
    database_file.write_bytes(database_file.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(backups.BackupError, match="damaged"):
        backups.restore(folder)


def test_backup_refuses_a_folder_in_use(app, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("")
    with pytest.raises(backups.BackupError, match="not empty"):
        backups.create(tmp_path / "used")
