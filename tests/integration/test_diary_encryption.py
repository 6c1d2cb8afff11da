"""Encryption at rest: nothing in clear in the database, the start-up key check, and key rotation."""

import base64
import secrets
from datetime import date

import pytest
from sqlalchemy import select, text

from lms.accounts.services import find_by_email
from lms.app import create_app
from lms.diary import crypto, services
from lms.diary.models import SEALED_COLUMNS, DataKeyCanary, DiaryComment, DiaryEntry, WellnessPlanVersion
from lms.extensions import db
from tests.conftest import TEST_DATA_KEY, base_config

WORDS = ["Marmalade-sky-secret", "Heliotrope-feeling", "Quasar-tag", "Wombat-comment", "Lighthouse-plan",
         "Saffron-draft", "Tangerine-prompt"]


def person(name):
    return find_by_email(f"{name}@example.org")


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def write_everything():
    """Entries (saved, draft, unsaved changes), history, a comment and a plan, each with a marker word."""
    trainee = person("trainee1")
    fields = services.EntryFields(services.EntryContent(title=WORDS[0], body=WORDS[1], tags=(WORDS[2],), mood=2,
                                                        prompt=WORDS[6]), date.today(), 1)
    entry = services.create_entry(trainee, fields, draft=False)
    services.save_draft(trainee, entry, services.EntryFields(
        services.EntryContent(title=WORDS[0], body=WORDS[5]), date.today(), 1))
    services.save_draft(trainee, None, services.EntryFields(
        services.EntryContent(title="Draft", body=WORDS[5]), date.today(), None))
    comment = DiaryComment(entry_id=entry.id, trainee_id=trainee.id, author_id=person("academic1").id)
    db.session.add(comment)
    crypto.seal(comment, {"body": WORDS[3]})
    services.save_plan(trainee, {"daily_tools": WORDS[4], "crisis_people": WORDS[4]})
    db.session.commit()
    return entry.id


def every_row_as_text() -> str:
    chunks = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):
                chunks.append(" ".join(str(value) for value in row))
    return "\n".join(chunks)


def test_the_raw_database_holds_no_diary_or_wellness_text(app, demo):
    write_everything()
    dump = every_row_as_text()
    for word in WORDS:
        assert word not in dump
        assert word.lower() not in dump.lower()
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT sealed FROM diary_entries")).scalars().all()
    assert stored and all(value.startswith(f"v1:{crypto.key_id(crypto.parse_key(TEST_DATA_KEY))}:") for value in stored)


def test_a_value_copied_to_another_row_does_not_decrypt(app, demo):
    write_everything()
    first, second = db.session.execute(select(DiaryEntry).order_by(DiaryEntry.id)).scalars().all()
    second.sealed = first.sealed
    with pytest.raises(crypto.DataKeyError, match="copied from another row"):
        services.entry_content(second)
    db.session.rollback()


def test_keys_are_checked_and_named_without_revealing_them():
    key = crypto.parse_key(TEST_DATA_KEY)
    assert len(key) == 32 and len(crypto.key_id(key)) == 8
    assert crypto.parse_key(TEST_DATA_KEY.replace("-", "+").replace("_", "/")) == key
    for bad in ("", "   ", "short", "!!!!" * 11, base64.urlsafe_b64encode(b"x" * 16).decode()):
        with pytest.raises(crypto.DataKeyError):
            crypto.parse_key(bad)


def app_with(app, tmp_path, **overrides):
    config = base_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other-instance")
    config.update(overrides)
    return create_app(config)


def test_the_app_refuses_to_start_with_the_wrong_key(app, demo, tmp_path):
    write_everything()
    assert db.session.execute(select(DataKeyCanary)).scalars().all()
    with pytest.raises(RuntimeError, match=r"The data key \(LMS_DATA_KEY\) does not match"):
        app_with(app, tmp_path, LMS_DATA_KEY=new_key())
    # A missing key makes a fresh one in instance/: that is the wrong key too, and says so.
    with pytest.raises(RuntimeError, match="does not match the one this database was encrypted with"):
        app_with(app, tmp_path, LMS_DATA_KEY=None)
    # The right key starts, and so does the right key given as the previous one during a rotation.
    assert app_with(app, tmp_path, LMS_DATA_KEY=TEST_DATA_KEY)
    assert app_with(app, tmp_path, LMS_DATA_KEY=new_key(), LMS_DATA_KEY_PREVIOUS=TEST_DATA_KEY)


def test_a_malformed_key_stops_the_app_with_a_plain_message(app, tmp_path):
    with pytest.raises(RuntimeError, match="LMS_DATA_KEY is not a valid data key: it must be 32 random bytes"):
        app_with(app, tmp_path, LMS_DATA_KEY="not-a-key")
    with pytest.raises(RuntimeError, match="LMS_DATA_KEY_PREVIOUS is not a valid data key"):
        app_with(app, tmp_path, LMS_DATA_KEY_PREVIOUS="also not a key")


def test_a_key_never_used_or_a_database_not_made_yet_is_fine(app, tmp_path):
    assert db.session.execute(select(DataKeyCanary)).scalars().all() == []
    assert app_with(app, tmp_path, LMS_DATA_KEY=new_key())
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert create_app(base_config(f"sqlite:///{fresh / 'none-yet.sqlite3'}", fresh))
    assert not (fresh / "none-yet.sqlite3").exists()  # checking the key never creates the database


def sealed_values():
    values = []
    with db.engine.connect() as conn:
        for model, column in SEALED_COLUMNS:
            values += [v for v in conn.execute(text(f"SELECT {column} FROM {model.__tablename__}")).scalars() if v]
    return values


def test_rotation_interrupted_halfway_then_resumed_loses_nothing(app, demo, runner, tmp_path):
    write_everything()
    for number in range(2, 6):
        services.create_entry(person(f"trainee{number}"), services.EntryFields(
            services.EntryContent(title=f"Entry {number}", body=f"Words of trainee {number}"),
            date.today(), None), draft=False)
    db.session.commit()
    before = {
        entry.id: services.entry_content(entry) for entry in db.session.execute(select(DiaryEntry)).scalars()}
    total = len(sealed_values())
    old_id = crypto.key_id(crypto.parse_key(TEST_DATA_KEY))
    key_file = tmp_path / "new.key"
    key = new_key()
    key_file.write_text(key + "\n")
    new_id = crypto.key_id(crypto.parse_key(key))

    stopped = runner.invoke(args=["keys", "rotate-data-key", "--new-key-file", str(key_file), "--batch-size", "3",
                                  "--stop-after", str(total // 2)])
    assert stopped.exit_code == 3, stopped.output
    assert "run the command again" in stopped.output
    halfway = sealed_values()
    assert len(halfway) == total
    assert 0 < sum(v.startswith(f"v1:{new_id}:") for v in halfway) < total

    # While rotating, a server knowing both keys reads everything.
    app.config["LMS_DATA_KEY"], app.config["LMS_DATA_KEY_PREVIOUS"] = key, TEST_DATA_KEY
    db.session.expire_all()
    assert {e.id: services.entry_content(e) for e in db.session.execute(select(DiaryEntry)).scalars()} == before
    app.config["LMS_DATA_KEY"], app.config["LMS_DATA_KEY_PREVIOUS"] = TEST_DATA_KEY, None

    finished = runner.invoke(args=["keys", "rotate-data-key", "--new-key-file", str(key_file), "--batch-size", "3"])
    assert finished.exit_code == 0, finished.output
    assert "set LMS_DATA_KEY to the key in" in finished.output
    after = sealed_values()
    assert len(after) == total
    assert all(v.startswith(f"v1:{new_id}:") for v in after)
    assert not any(f":{old_id}:" in v for v in after)

    app.config["LMS_DATA_KEY"] = key
    db.session.expire_all()
    assert {e.id: services.entry_content(e) for e in db.session.execute(select(DiaryEntry)).scalars()} == before
    plan_version = db.session.execute(select(WellnessPlanVersion)).scalar_one()
    assert services.plan_sections(plan_version)["daily_tools"] == WORDS[4]
    # The old key alone no longer opens the database; the new one does.
    with pytest.raises(RuntimeError, match="does not match"):
        app_with(app, tmp_path, LMS_DATA_KEY=TEST_DATA_KEY)
    assert app_with(app, tmp_path, LMS_DATA_KEY=key)


def test_rotation_with_the_instance_key_makes_and_installs_a_new_key(app, demo, runner):
    instance = app.instance_path
    from pathlib import Path

    (Path(instance) / "data_key").write_text(TEST_DATA_KEY + "\n")
    write_everything()
    result = runner.invoke(args=["keys", "rotate-data-key"])
    assert result.exit_code == 0, result.output
    assert "Made a new data key" in result.output
    installed = (Path(instance) / "data_key").read_text().strip()
    assert installed != TEST_DATA_KEY
    kept = list(Path(instance).glob("data_key.previous-*"))
    assert len(kept) == 1 and kept[0].read_text().strip() == TEST_DATA_KEY
    assert all(v.startswith(f"v1:{crypto.key_id(crypto.parse_key(installed))}:") for v in sealed_values())


def test_a_running_server_reads_every_entry_during_and_after_an_instance_key_rotation(app, demo, runner):
    """The server keeps its settings (the old key) while the command runs beside it, and until it restarts."""
    from pathlib import Path

    instance = Path(app.instance_path)
    (instance / "data_key").write_text(TEST_DATA_KEY + "\n")
    app.config["LMS_DATA_KEY_SOURCE"] = "instance"
    entry_id = write_everything()
    before = services.entry_content(db.session.get(DiaryEntry, entry_id))
    total = len(sealed_values())

    stopped = runner.invoke(args=["keys", "rotate-data-key", "--batch-size", "2", "--stop-after", str(total // 2)])
    assert stopped.exit_code == 3, stopped.output
    new_key = (instance / "data_key.new").read_text().strip()
    new_id = crypto.key_id(crypto.parse_key(new_key))
    assert any(v.startswith(f"v1:{new_id}:") for v in sealed_values())
    crypto._rotation_cache.clear()  # what two seconds do for a real server
    db.session.expire_all()
    # Halfway: no LMS_DATA_KEY_PREVIOUS set, and still every value opens.
    assert app.config["LMS_DATA_KEY_PREVIOUS"] is None
    assert services.entry_content(db.session.get(DiaryEntry, entry_id)) == before
    for model, column in SEALED_COLUMNS:
        for row in db.session.execute(select(model)).scalars():
            if getattr(row, column):
                crypto.unseal(row, column)

    finished = runner.invoke(args=["keys", "rotate-data-key"])
    assert finished.exit_code == 0, finished.output
    assert (instance / "data_key").read_text().strip() == new_key
    crypto._rotation_cache.clear()
    db.session.expire_all()
    # After the swap, the server (still on the old key in its settings) reads the new values...
    assert app.config["LMS_DATA_KEY"] == TEST_DATA_KEY
    assert services.entry_content(db.session.get(DiaryEntry, entry_id)) == before
    # ...and what it writes before its restart (under the old key) opens after the restart too.
    written = services.create_entry(person("trainee2"), services.EntryFields(
        services.EntryContent(title="Written during the swap", body="Still readable"), date.today(), None),
        draft=False)
    db.session.commit()
    app.config["LMS_DATA_KEY"] = new_key  # the restart: settings from instance/data_key
    crypto._rotation_cache.clear()
    db.session.expire_all()
    assert services.entry_content(db.session.get(DiaryEntry, written.id)).body == "Still readable"


def test_rotation_refuses_a_bad_new_key_file(app, runner, tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("nonsense")
    result = runner.invoke(args=["keys", "rotate-data-key", "--new-key-file", str(bad)])
    assert result.exit_code == 1 and "is not a valid data key" in result.output
    missing = runner.invoke(args=["keys", "rotate-data-key", "--new-key-file", str(tmp_path / "nope.key")])
    assert missing.exit_code == 1 and "There is no key file" in missing.output
