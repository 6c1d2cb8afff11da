"""Backups and restores: the database, uploaded files and stored certificates.

A backup folder holds the database (SQLite's online backup API, or `pg_dump`
for PostgreSQL), a copy of the upload folder (which also holds rendered
certificates) and ``manifest.json``: the schema revision, row counts and
checksums per table, and a checksum per file. Keys are never included: the
data key and secret key are backed up separately, on purpose.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from datetime import date, datetime, time
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from lms.database import utcnow
from lms.extensions import db

MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


def _libpq_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _value(item):
    if isinstance(item, (datetime, date, time)):
        return item.isoformat()
    if isinstance(item, (bytes, memoryview)):
        return hashlib.sha256(bytes(item)).hexdigest()
    return item


def table_fingerprints() -> dict[str, dict]:
    """Row count and a checksum of every row, per table, in primary-key order."""
    fingerprints = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            count = 0
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(json.dumps([_value(v) for v in row], default=str, sort_keys=True).encode())
                count += 1
            fingerprints[table.name] = {"rows": count, "sha256": digest.hexdigest()}
    return fingerprints


def schema_revision() -> str | None:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def create(folder: Path) -> dict:
    """Write a backup into ``folder`` (which must be empty or new). Returns the manifest."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty. Choose a new folder for each backup.")
    folder.mkdir(parents=True, exist_ok=True)
    url = db.engine.url
    kind = url.get_backend_name()
    if kind == "sqlite":
        target = folder / "database.sqlite3"
        source = sqlite3.connect(url.database)
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)
        source.close()
        copy.close()
        database_file = target.name
    elif kind == "postgresql":
        target = folder / "database.dump"
        result = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), _libpq_url(url)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        database_file = target.name
    else:
        raise BackupError(f"Backups of {kind} databases are not supported.")
    uploads = Path(current_app.config["LMS_UPLOAD_DIR"])
    files = {}
    if uploads.is_dir():
        shutil.copytree(uploads, folder / "uploads")
        for path in sorted((folder / "uploads").rglob("*")):
            if path.is_file():
                files[str(path.relative_to(folder))] = _sha256_file(path)
    files[database_file] = _sha256_file(folder / database_file)
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "database": kind,
        "database_file": database_file,
        "schema_revision": schema_revision(),
        "tables": table_fingerprints(),
        "files": files,
        "keys": "not included: back up LMS_SECRET_KEY and LMS_DATA_KEY separately",
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise BackupError(f"{folder} has no {MANIFEST}: it is not a backup made by `lms backup create`.")
    try:
        manifest = json.loads(path.read_text())
    except ValueError as error:
        raise BackupError(f"{path} is not readable JSON ({error}).") from None
    for name, expected in manifest.get("files", {}).items():
        file = Path(folder) / name
        if not file.exists():
            raise BackupError(f"The backup is incomplete: {name} is missing.")
        if _sha256_file(file) != expected:
            raise BackupError(f"The backup is damaged: {name} does not match its checksum.")
    return manifest


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    return {revision.revision for revision in script.walk_revisions()}


def database_is_empty() -> bool:
    inspector_tables = set(db.inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in inspector_tables and conn.execute(select(func.count()).select_from(table)).scalar():
                return False
    return True


def restore(folder: Path) -> dict:
    """Restore a backup into this deployment's empty database and upload folder."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    revision = manifest.get("schema_revision")
    if revision not in known_revisions():
        raise BackupError(f"This backup was made by a newer version of the LMS (schema {revision}). "
                          "Upgrade the LMS first, then restore.")
    url = db.engine.url
    kind = url.get_backend_name()
    if kind != manifest.get("database"):
        raise BackupError(f"This backup is of a {manifest.get('database')} database; this deployment uses {kind}.")
    if kind == "sqlite":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    if not database_is_empty():
        raise BackupError("The database is not empty. Restore only into a new, empty database, "
                          "so that nothing there is overwritten.")
    db.session.remove()
    if kind == "sqlite":
        db.engine.dispose()
        target = Path(url.database)
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(folder / manifest["database_file"])
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)
        source.close()
        copy.close()
    else:
        db.engine.dispose()
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.engine.dispose()
        result = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", _libpq_url(url),
                                 str(folder / manifest["database_file"])], capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    uploads_backup = folder / "uploads"
    if uploads_backup.is_dir():
        shutil.copytree(uploads_backup, Path(current_app.config["LMS_UPLOAD_DIR"]), dirs_exist_ok=True)
    db.engine.dispose()
    restored = table_fingerprints()
    different = [name for name, fingerprint in manifest["tables"].items() if restored.get(name) != fingerprint]
    if different:
        raise BackupError(f"The restored data does not match the backup in: {', '.join(different)}.")
    return manifest
