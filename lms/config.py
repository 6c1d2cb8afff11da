"""Settings from LMS_* environment variables, with safe defaults for a laptop.

With no settings at all the LMS runs on SQLite under ``instance/`` and keeps a
generated secret key and data key there (file mode 0600).
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def database_url(raw: str) -> str:
    """Normalise a database URL so PostgreSQL always uses the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def keep_secret(path: Path, make) -> str:
    """Read a secret kept in a file, creating it (mode 0600) on first start."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def new_data_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def is_local_http(base_url: str) -> bool:
    parts = urlsplit(base_url)
    return parts.scheme == "http" and (parts.hostname or "") in LOCAL_HOSTS


def upload_megabytes(raw: str | None) -> float:
    """LMS_MAX_UPLOAD_MB as a number of megabytes (default 20); a clear error for anything else."""
    if raw is None or not str(raw).strip():
        return 20.0
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ValueError(f"LMS_MAX_UPLOAD_MB must be a number of megabytes, for example 20 (it is {raw!r}).") from None
    if not 0 < value <= 1024:
        raise ValueError(f"LMS_MAX_UPLOAD_MB must be between 1 and 1024 megabytes (it is {raw!r}).")
    return value


def trusted_proxies(raw: str | None) -> int:
    """LMS_TRUSTED_PROXIES: how many reverse proxies stand in front of the app (default 0); a clear error otherwise."""
    if raw is None or not str(raw).strip():
        return 0
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValueError("LMS_TRUSTED_PROXIES must be a whole number of reverse proxies in front of the app, "
                         f"for example 1 (it is {raw!r}).") from None
    if not 0 <= value <= 5:
        raise ValueError(f"LMS_TRUSTED_PROXIES must be between 0 and 5 (it is {raw!r}).")
    return value


def gc_threshold(raw: str | None) -> int:
    """LMS_GC_THRESHOLD: allocations between the garbage collector's youngest-generation runs (default 50,000;
    0 keeps Python's own 700). Pages over hundreds of trainees make hundreds of thousands of small objects, and
    at 700 the collector ran often enough to add about a third to their time (measured: the caseload dashboard
    over 500 trainees, 197 ms median at 700, 147 ms at 50,000)."""
    if raw is None or not str(raw).strip():
        return 50_000
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"LMS_GC_THRESHOLD must be a whole number, for example 50000 (it is {raw!r}).") from None
    if not 0 <= value <= 10_000_000:
        raise ValueError(f"LMS_GC_THRESHOLD must be between 0 and 10000000 (it is {raw!r}).")
    return value


def settings_from_env(instance_path: Path, env=os.environ) -> dict:
    """Return Flask config values read from ``env`` (normally os.environ)."""
    instance_path = Path(instance_path)
    db_url = env.get("LMS_DATABASE_URL") or f"sqlite:///{instance_path / 'lms.sqlite3'}"
    base_url = env.get("LMS_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    redis_url = env.get("LMS_REDIS_URL") or None
    secret_key = env.get("LMS_SECRET_KEY")
    data_key = env.get("LMS_DATA_KEY")
    upload_mb = upload_megabytes(env.get("LMS_MAX_UPLOAD_MB"))
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url(db_url),
        "SECRET_KEY": secret_key,
        "LMS_DATA_KEY": data_key,
        "LMS_DATA_KEY_PREVIOUS": env.get("LMS_DATA_KEY_PREVIOUS") or None,
        "LMS_SECRET_KEY_SOURCE": "environment" if secret_key else "instance",
        "LMS_DATA_KEY_SOURCE": "environment" if data_key else "instance",
        "LMS_REDIS_URL": redis_url,
        "LMS_SMTP_URL": env.get("LMS_SMTP_URL") or None,
        "LMS_UPLOAD_DIR": env.get("LMS_UPLOAD_DIR") or str(instance_path / "uploads"),
        "LMS_BASE_URL": base_url,
        "LMS_TIMEZONE": env.get("LMS_TIMEZONE", "Europe/London"),
        "LMS_SESSION_IDLE_MINUTES": int(env.get("LMS_SESSION_IDLE_MINUTES", "120")),
        "LMS_SESSION_ABSOLUTE_HOURS": int(env.get("LMS_SESSION_ABSOLUTE_HOURS", "12")),
        "LMS_QUEUE_NAME": env.get("LMS_QUEUE_NAME", "lms"),
        "LMS_COUNT_QUERIES": env.get("LMS_COUNT_QUERIES") == "1",
        "LMS_TRUSTED_PROXIES": trusted_proxies(env.get("LMS_TRUSTED_PROXIES")),
        "LMS_GC_THRESHOLD": gc_threshold(env.get("LMS_GC_THRESHOLD")),
        "LMS_MAIL_FROM": env.get("LMS_MAIL_FROM", "Peer Support Training <no-reply@example.org>"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": False,
        # If Redis goes away, limits keep counting in each worker's memory (see lms/ratelimits.py).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5} if redis_url else {},
        "SESSION_COOKIE_NAME": "lms_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not is_local_http(base_url),
        "REMEMBER_COOKIE_DURATION": 0,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the server-side session
        "LMS_MAX_UPLOAD_MB": upload_mb,
        # A whole request may carry one file at the limit plus the form around it.
        "MAX_CONTENT_LENGTH": int((upload_mb + 5) * 1024 * 1024),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
    return settings


def load_instance_secrets(settings: dict, instance_path: Path) -> None:
    """Fill in the secret key and data key from instance/ when not set."""
    instance_path = Path(instance_path)
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = keep_secret(instance_path / "secret_key", lambda: secrets.token_hex(32))
    if not settings.get("LMS_DATA_KEY"):
        settings["LMS_DATA_KEY"] = keep_secret(instance_path / "data_key", new_data_key)
