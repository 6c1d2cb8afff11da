"""`lms check-deploy`: misconfiguration found before it hurts anyone.

Each finding is either a warning (worth fixing) or unsafe (the command exits
non-zero): a default or weak secret key, SQLite under several workers, no
HTTPS, an upload folder the app cannot write to, a database behind its
migrations.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import text

from lms.config import LOCAL_HOSTS
from lms.extensions import db

UNSAFE = "unsafe"
WARNING = "warning"
WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "test-secret-key-not-for-production"}


@dataclass(frozen=True)
class Finding:
    level: str  # unsafe or warning
    message: str


def check(app: Flask, workers: int) -> list[Finding]:
    """Everything wrong with this deployment's configuration, unsafe first."""
    config = app.config
    findings: list[Finding] = []

    def unsafe(message):
        findings.append(Finding(UNSAFE, message))

    def warn(message):
        findings.append(Finding(WARNING, message))

    secret = config.get("SECRET_KEY") or ""
    if secret in WEAK_SECRETS or len(secret) < 32:
        unsafe("The secret key is a default or shorter than 32 characters. Set LMS_SECRET_KEY to a long "
               "random value, e.g. python -c \"import secrets; print(secrets.token_hex(32))\".")
    elif config.get("LMS_SECRET_KEY_SOURCE") != "environment" and workers > 1:
        warn("The secret key is read from instance/secret_key. With several machines, set LMS_SECRET_KEY "
             "so that every worker uses the same one.")
    if config.get("LMS_DATA_KEY_SOURCE") != "environment":
        warn("The data key (which encrypts diaries and wellness plans) lives only in instance/data_key. "
             "Back it up somewhere safe and separate from the database backups: without it those entries "
             "cannot be read. Setting LMS_DATA_KEY from your secrets store is better.")
    backend = db.engine.url.get_backend_name()
    if backend == "sqlite" and workers > 1:
        unsafe(f"SQLite is the database but {workers} workers are planned. Use PostgreSQL "
               "(LMS_DATABASE_URL=postgresql://...) for more than one worker.")
    if workers > 1 and not config.get("LMS_REDIS_URL"):
        unsafe("No Redis configured (LMS_REDIS_URL) with several workers: sign-in limits would be counted "
               "per worker, and background jobs would run inside web requests.")
    base = urlsplit(config.get("LMS_BASE_URL", ""))
    if base.scheme != "https":
        if (base.hostname or "") in LOCAL_HOSTS:
            warn("LMS_BASE_URL is a local http address: fine on this machine, not for real users.")
        else:
            unsafe(f"LMS_BASE_URL ({config.get('LMS_BASE_URL')}) is not HTTPS. Serve the LMS over HTTPS "
                   "and set LMS_BASE_URL=https://...; sign-in cookies must not travel unencrypted.")
    if base.scheme == "https" and not config.get("LMS_TRUSTED_PROXIES"):
        warn("LMS_TRUSTED_PROXIES is 0, so the app believes no reverse proxy. If HTTPS ends at a proxy in "
             "front of the app (the usual set-up), set LMS_TRUSTED_PROXIES=1: otherwise every visitor seems to "
             "come from the proxy's address, and one person's failed sign-ins slow everyone's.")
    signing_from_instance = not (config.get("LMS_SIGNING_KEY") or os.environ.get("LMS_SIGNING_KEY"))
    if signing_from_instance and workers > 1:
        warn("The key that signs Open Badges credentials lives only in instance/signing_key.pem. With several "
             "machines, set LMS_SIGNING_KEY (the PEM from a first run) on all of them, or each machine signs with "
             "a key of its own and credentials from the others fail verification. Back it up like the data key.")
    if not config.get("LMS_SMTP_URL"):
        warn("E-mail is not configured (LMS_SMTP_URL): invitations, password resets and notifications "
             "are only written to the log and the admin outbox.")
    upload_dir = Path(config["LMS_UPLOAD_DIR"])
    if not _writable(upload_dir):
        unsafe(f"The upload folder {upload_dir} does not exist or cannot be written to. Create it and give "
               "the app's user write access (with several machines, a shared folder).")
    problem = _database_problem(app)
    if problem:
        unsafe(problem)
    return sorted(findings, key=lambda finding: finding.level != UNSAFE)


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _database_problem(app) -> str | None:
    from alembic.script import ScriptDirectory

    try:
        with db.engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception as error:  # unreachable, or no schema yet
        return (f"The database is unreachable or not set up ({type(error).__name__}). "
                "Check LMS_DATABASE_URL, then run `lms db upgrade`.")
    migrations = app.extensions["migrate"]
    script = ScriptDirectory(migrations.directory)
    heads = set(script.get_heads())
    if set(current) != heads:
        return "The database is behind the code's migrations. Run `lms db upgrade`."
    return None


def planned_workers(option: int | None) -> int:
    if option is not None:
        return option
    return int(os.environ.get("WEB_CONCURRENCY", "1") or "1")
