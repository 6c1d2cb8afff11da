"""``lms keys rotate-data-key``: re-encrypt every diary and wellness-plan value under a new data key.

The work is done in batches, each committed, and every value names the key it
is encrypted with, so a run that is interrupted (power cut, Ctrl+C) is simply
run again: it carries on with the values still under an older key and loses
nothing. While it runs, the LMS reads values under either key: servers sharing
the instance folder pick up instance/data_key.new (and, after the swap,
instance/data_key and data_key.previous-<id>) by themselves, without a restart
(see ``crypto.rotation_keys``); servers on other machines need both keys in
their settings (``LMS_DATA_KEY`` and ``LMS_DATA_KEY_PREVIOUS``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.config import new_data_key
from lms.diary.crypto import DataKeyError, Keyring, context_for, current_keyring, key_id, parse_key
from lms.diary.models import SEALED_COLUMNS
from lms.extensions import db

INTERRUPTED_EXIT = 3


class Interrupted(Exception):
    """Raised by --stop-after to behave like a run cut off halfway (for tests and rehearsals)."""


def fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def read_or_make_key(path: Path, *, make: bool) -> tuple[bytes, bool]:
    """The new key from ``path``; with ``make``, created there (mode 0600) when it does not exist yet."""
    if path.exists():
        try:
            return parse_key(path.read_text(), f"The key in {path}"), False
        except DataKeyError as error:
            fail(str(error))
    if not make:
        fail(f"There is no key file at {path}. Give the path of a file holding the new key "
             "(32 random bytes in URL-safe base64), or leave out --new-key-file to have one made.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(new_data_key() + "\n")
    return parse_key(path.read_text()), True


def rotate(keyring: Keyring, batch_size: int, stop_after: int | None = None) -> int:
    """Re-encrypt every value not yet under ``keyring``'s current key, committing each batch.

    Returns how many values were re-encrypted.
    """
    done = 0
    prefix = f"v1:{keyring.current_id}:"
    for model, column_name in SEALED_COLUMNS:
        column = getattr(model, column_name)
        last_id = 0
        while True:
            rows = list(db.session.execute(
                select(model).where(model.id > last_id, column.is_not(None), column != "",
                                    ~column.startswith(prefix, autoescape=True))
                .order_by(model.id).limit(batch_size)).scalars())
            if not rows:
                break
            for row in rows:
                context = context_for(row, column_name)
                setattr(row, column_name, keyring.encrypt(keyring.decrypt(getattr(row, column_name), context), context))
                done += 1
                if stop_after is not None and done >= stop_after:
                    # Like a crash: the batch in progress is never committed.
                    db.session.rollback()
                    raise Interrupted(done)
            last_id = rows[-1].id
            db.session.commit()
    return done


def swap_instance_key_files(instance: Path, new_path: Path, old_key_id: str) -> Path | None:
    """When the key lives in instance/data_key, put the new one there and keep the old one beside it."""
    current = instance / "data_key"
    if new_path != instance / "data_key.new" or not current.exists():
        return None
    try:
        if key_id(parse_key(current.read_text())) != old_key_id:
            return None  # the LMS is not using this file's key: leave the files alone
    except DataKeyError:
        return None
    kept = instance / f"data_key.previous-{old_key_id}"
    current.rename(kept)
    new_path.rename(current)
    return kept


@click.group("keys")
def keys():
    """Manage the data key that encrypts diaries, comments and wellness plans."""


@keys.command("rotate-data-key")
@click.option("--new-key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file holding the new key. Without it, a key is made in instance/data_key.new "
                   "(or the one already there is used, to finish an interrupted run).")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 10_000),
              help="How many values to re-encrypt before each commit.")
@click.option("--stop-after", type=click.IntRange(1), hidden=True,
              help="Stop after this many values without committing the batch in progress (rehearsal).")
@with_appcontext
def rotate_data_key(new_key_file, batch_size, stop_after):
    """Re-encrypt every diary entry, comment and wellness plan under a new data key.

    Safe to run again: an interrupted run carries on where it stopped. When it
    has finished, set LMS_DATA_KEY to the new key (and, until every worker has
    restarted, LMS_DATA_KEY_PREVIOUS to the old one). Keep the old key with any
    backups made before the rotation: they still need it.
    """
    try:
        keyring = current_keyring()
    except DataKeyError as error:
        fail(str(error))
    instance = Path(current_app.instance_path)
    path = new_key_file or instance / "data_key.new"
    new_key, made = read_or_make_key(path, make=new_key_file is None)
    full = keyring.with_key(new_key, current=True)
    if made:
        click.echo(f"Made a new data key (id {full.current_id}) and wrote it to {path} (readable only by you).")
    else:
        click.echo(f"Using the new data key (id {full.current_id}) in {path}.")
    try:
        done = rotate(full, batch_size, stop_after)
    except Interrupted as stopped:
        click.secho(f"Stopped after {stopped.args[0]} values, as asked. Values already committed are under the "
                    "new key; run the command again to finish.", fg="yellow", err=True)
        sys.exit(INTERRUPTED_EXIT)
    except DataKeyError as error:
        db.session.rollback()
        fail(f"{error} Nothing in the batch in progress was changed; values already re-encrypted are safe.")
    click.secho(f"Done: {done} values re-encrypted; every value is now under key {full.current_id}.", fg="green")
    kept = None
    if current_app.config.get("LMS_DATA_KEY_SOURCE") == "instance":
        kept = swap_instance_key_files(instance, path, keyring.current_id)
    if kept is not None:
        click.echo(f"{instance / 'data_key'} now holds the new key; the old key is kept in {kept} for backups made "
                   "before today. Restart the LMS.")
    else:
        click.echo(f"Now set LMS_DATA_KEY to the key in {path} and restart the LMS. Until every worker has "
                   f"restarted, also set LMS_DATA_KEY_PREVIOUS to the old key (id {keyring.current_id}). Keep the "
                   "old key with backups made before today: they still need it.")


COMMANDS = [keys]
