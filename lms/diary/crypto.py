"""Encryption at rest for diary entries, comments and wellness plans.

Every sensitive value is AES-256-GCM encrypted with the deployment's data key
(``LMS_DATA_KEY``: 32 random bytes in URL-safe base64) and stored as text:

    v1:<key id>:<base64 of nonce + ciphertext>

The key id is the first 8 hex characters of the key's SHA-256, so each value
says which key it needs: during a key rotation the LMS also accepts the old key
as ``LMS_DATA_KEY_PREVIOUS`` and decrypts with whichever key matches.

The associated data binds a value to its row (table, column, row id and owner),
so a ciphertext copied into another row, or another trainee's row, fails to
decrypt instead of showing the wrong person's words.

A canary value (``DataKeyCanary``) is written the first time the key is used.
``check_data_key(app)`` decrypts it when the app starts, so a wrong or missing
key stops the LMS with a clear message instead of showing garbage or writing
new data under a key that nothing else was written with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
CANARY_TEXT = "lms-data-key-canary"
_CANARY_SEEN = "lms_data_key_canary_seen"

WRONG_KEY = (
    "The data key (LMS_DATA_KEY) does not match the one this database was encrypted with. "
    "The LMS will not start, so that nothing is shown garbled or saved under the wrong key. "
    "Set LMS_DATA_KEY to the key this database was first used with (a first run keeps it in "
    "instance/data_key). If you have just rotated the key with `lms keys rotate-data-key`, set "
    "LMS_DATA_KEY to the new key and LMS_DATA_KEY_PREVIOUS to the old one."
)


class DataKeyError(RuntimeError):
    """The data key is malformed, missing, or not the one a value was encrypted with."""


@dataclass(frozen=True)
class Keyring:
    """The current data key (used to encrypt) and any others accepted for decrypting."""

    current_id: str
    keys: dict[str, bytes]

    def encrypt(self, plaintext: bytes, context: bytes) -> str:
        """Encrypt ``plaintext`` under the current key, bound to ``context``."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current_id]).encrypt(nonce, plaintext, context)
        return f"{VERSION}:{self.current_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, context: bytes) -> bytes:
        """Decrypt a stored value with whichever known key it names."""
        version, key_id, payload = split_token(token)
        key = self.keys.get(key_id)
        if key is None:
            raise DataKeyError(
                f"A stored value was encrypted with data key {key_id}, which this server does not have. "
                "Finish the key rotation (lms keys rotate-data-key) or set LMS_DATA_KEY_PREVIOUS.")
        try:
            raw = base64.urlsafe_b64decode(payload.encode("ascii"))
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
        except (InvalidTag, binascii.Error, ValueError) as error:
            raise DataKeyError("A stored value could not be decrypted: it was changed, or copied from "
                               "another row.") from error

    def with_key(self, key: bytes, *, current: bool = False) -> Keyring:
        """This keyring plus ``key`` (made the encrypting key when ``current``)."""
        new_id = key_id(key)
        return Keyring(new_id if current else self.current_id, {**self.keys, new_id: key})


def split_token(token: str) -> tuple[str, str, str]:
    """(version, key id, payload) of a stored value; DataKeyError when it is not one."""
    parts = (token or "").split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION or len(parts[1]) != 8:
        raise DataKeyError("A stored value is not in the LMS's encrypted format.")
    return parts[0], parts[1], parts[2]


def parse_key(text: str | None, name: str = "LMS_DATA_KEY") -> bytes:
    """Read a data key: 32 bytes in URL-safe (or standard) base64. Raises DataKeyError."""
    if not text or not str(text).strip():
        raise DataKeyError(
            f"{name} is not set. The LMS needs its data key to read diaries and wellness plans. "
            "Set it to the key this database was first used with.")
    cleaned = str(text).strip().replace("+", "-").replace("/", "_")
    try:
        raw = base64.b64decode(cleaned.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise DataKeyError(
            f"{name} is not a valid data key: it must be {KEY_BYTES} random bytes written in URL-safe "
            "base64 (44 characters ending in '='), as in the instance/data_key file a first run makes. "
            'Make a new one with: python -c "import base64, secrets; '
            'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"')
    return raw


def key_id(key: bytes) -> str:
    """The first 8 hex characters of the key's SHA-256: names a key without revealing it."""
    return hashlib.sha256(key).hexdigest()[:8]


@lru_cache(maxsize=8)
def _keyring(current: str | None, previous: str | None) -> Keyring:
    current_key = parse_key(current)
    keys = {key_id(current_key): current_key}
    if previous and previous.strip():
        previous_key = parse_key(previous, "LMS_DATA_KEY_PREVIOUS")
        keys[key_id(previous_key)] = previous_key
    return Keyring(key_id(current_key), keys)


def keyring_for(config) -> Keyring:
    """The keyring a Flask config describes (LMS_DATA_KEY and LMS_DATA_KEY_PREVIOUS)."""
    return _keyring(config.get("LMS_DATA_KEY"), config.get("LMS_DATA_KEY_PREVIOUS"))


# Key files a rotation leaves in instance/: the new key while it runs (data_key.new), the new key once
# installed (data_key, for a server that started with the old one) and the old ones after.
_ROTATION_FILES = ("data_key", "data_key.new", "data_key.previous-*")
_RESCAN_SECONDS = 2.0
_rotation_cache: dict[str, tuple[float, tuple, tuple[bytes, ...]]] = {}


def rotation_keys(instance_path: str | os.PathLike) -> tuple[bytes, ...]:
    """Keys from a key rotation's files in ``instance_path`` (for decrypting only).

    A server that started before `lms keys rotate-data-key` cannot know the new
    key from its settings, yet values the command has already committed are
    under it; after the command swaps instance/data_key, values this server
    wrote meanwhile are under the old key, kept in data_key.previous-<id>.
    Reading these files (looked at again at most every two seconds) keeps
    every entry readable throughout, without a restart. A file that is not a
    valid key is ignored here; the command itself reports it.
    """
    import time

    folder = Path(instance_path)
    now = time.monotonic()
    cached = _rotation_cache.get(str(folder))
    if cached is not None and now - cached[0] < _RESCAN_SECONDS:
        return cached[2]
    files = sorted(path for pattern in _ROTATION_FILES for path in folder.glob(pattern) if path.is_file())
    signature = tuple((path.name, path.stat().st_mtime_ns) for path in files)
    if cached is not None and cached[1] == signature:
        _rotation_cache[str(folder)] = (now, signature, cached[2])
        return cached[2]
    found = []
    for path in files:
        try:
            found.append(parse_key(path.read_text(), path.name))
        except (DataKeyError, OSError):
            continue
    _rotation_cache[str(folder)] = (now, signature, tuple(found))
    return tuple(found)


def current_keyring() -> Keyring:
    """The configured keyring, plus (for decrypting) any keys a rotation left in instance/."""
    ring = keyring_for(current_app.config)
    for key in rotation_keys(current_app.instance_path):
        if key_id(key) not in ring.keys:
            ring = ring.with_key(key)
    return ring


# -- values bound to their rows ------------------------------------------------

def context_for(row, column: str) -> bytes:
    """The associated data of one encrypted column of one row: table, column, id and owner."""
    owner_attribute = getattr(row, "__sealed_owner__", None)
    owner = getattr(row, owner_attribute) if owner_attribute else "-"
    return f"lms/{row.__tablename__}/{column}/{row.id}/{owner}".encode()


def seal(row, content: dict, column: str = "sealed", keyring: Keyring | None = None) -> None:
    """Encrypt ``content`` (a JSON-able dict) into ``row.<column>``.

    The row is flushed first if it has no id yet, because the id is part of
    what the value is bound to.
    """
    from lms.extensions import db

    if row.id is None:
        db.session.add(row)
        db.session.flush()
    keyring = keyring or current_keyring()
    if not isinstance(row, _canary_model()):
        ensure_canary(keyring)
    plaintext = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    setattr(row, column, keyring.encrypt(plaintext, context_for(row, column)))


def unseal(row, column: str = "sealed", keyring: Keyring | None = None) -> dict | None:
    """Decrypt ``row.<column>`` back into its dict (None when the column is empty)."""
    token = getattr(row, column)
    if not token:
        return None
    keyring = keyring or current_keyring()
    return json.loads(keyring.decrypt(token, context_for(row, column)).decode())


def _canary_model():
    from lms.diary.models import DataKeyCanary

    return DataKeyCanary


def ensure_canary(keyring: Keyring) -> None:
    """Write the canary the first time the data key is used (once per process after that)."""
    from sqlalchemy import select

    from lms.extensions import db

    if current_app.extensions.get(_CANARY_SEEN):
        return
    canary_model = _canary_model()
    if db.session.execute(select(canary_model.id).limit(1)).first() is not None:
        # Only a canary already in the database counts: one added in this
        # request could still be rolled back.
        current_app.extensions[_CANARY_SEEN] = True
        return
    if any(isinstance(item, canary_model) for item in db.session.new):
        return
    canary = canary_model()
    db.session.add(canary)
    seal(canary, {"canary": CANARY_TEXT}, keyring=keyring)


# -- start-up check --------------------------------------------------------------

def _database_missing(engine) -> bool:
    """True for a SQLite file that does not exist yet (checking must not create it)."""
    if engine.url.get_backend_name() != "sqlite":
        return False
    database = engine.url.database
    return bool(database) and database != ":memory:" and not Path(database).exists()


def check_data_key(app) -> None:
    """Refuse to start when the data key is malformed or not the database's key.

    Does nothing on a database without the diary tables yet (before ``lms db
    upgrade``), when the key has never been used, or when the database cannot
    be reached (the CLI and /healthz explain that). Raises RuntimeError
    (DataKeyError) with a plain message otherwise.
    """
    from sqlalchemy import inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    from lms.extensions import db

    keyring = keyring_for(app.config)  # a malformed key fails here, before any database work
    canary_model = _canary_model()
    with app.app_context():
        try:
            if _database_missing(db.engine) or not inspect(db.engine).has_table(canary_model.__tablename__):
                return
            canaries = list(db.session.execute(select(canary_model)).scalars())
        except SQLAlchemyError:
            db.session.rollback()
            return
        for canary in canaries:
            try:
                unseal(canary, keyring=keyring)
            except DataKeyError as error:
                raise DataKeyError(WRONG_KEY) from error
        if canaries:
            app.extensions[_CANARY_SEEN] = True
