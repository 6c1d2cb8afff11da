"""The data-key keyring: authenticated encryption bound to its row, key ids, and key parsing."""

import base64
import secrets

import pytest

from lms.diary.crypto import DataKeyError, Keyring, key_id, parse_key, split_token


def keyring() -> Keyring:
    key = secrets.token_bytes(32)
    return Keyring(key_id(key), {key_id(key): key})


def test_a_value_round_trips_and_names_its_key():
    ring = keyring()
    token = ring.encrypt("Feeling steadier today".encode(), b"lms/diary_entries/sealed/1/7")
    version, kid, payload = split_token(token)
    assert version == "v1" and kid == ring.current_id and "steadier" not in token
    assert ring.decrypt(token, b"lms/diary_entries/sealed/1/7") == "Feeling steadier today".encode()


def test_the_same_words_encrypt_differently_each_time():
    ring = keyring()
    assert ring.encrypt(b"same", b"ctx") != ring.encrypt(b"same", b"ctx")


def test_a_value_moved_to_another_row_or_owner_fails():
    ring = keyring()
    token = ring.encrypt(b"private", b"lms/diary_entries/sealed/1/7")
    for other in (b"lms/diary_entries/sealed/2/7", b"lms/diary_entries/sealed/1/8", b"lms/diary_comments/sealed/1/7"):
        with pytest.raises(DataKeyError, match="copied from another row"):
            ring.decrypt(token, other)


def test_a_tampered_value_fails():
    ring = keyring()
    token = ring.encrypt(b"private", b"ctx")
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises(DataKeyError):
        ring.decrypt(flipped, b"ctx")
    with pytest.raises(DataKeyError, match="not in the LMS's encrypted format"):
        ring.decrypt("plain text", b"ctx")


def test_an_unknown_key_is_named_and_a_second_key_decrypts():
    old, new = keyring(), keyring()
    token = old.encrypt(b"kept", b"ctx")
    with pytest.raises(DataKeyError, match=f"data key {old.current_id}"):
        new.decrypt(token, b"ctx")
    both = new.with_key(old.keys[old.current_id])
    assert both.current_id == new.current_id and both.decrypt(token, b"ctx") == b"kept"


def test_keys_are_32_bytes_in_base64():
    raw = secrets.token_bytes(32)
    assert parse_key(base64.urlsafe_b64encode(raw).decode()) == raw
    assert parse_key(base64.b64encode(raw).decode() + "\n") == raw
    with pytest.raises(DataKeyError, match="LMS_DATA_KEY is not set"):
        parse_key(None)
    with pytest.raises(DataKeyError, match="must be 32 random bytes"):
        parse_key(base64.urlsafe_b64encode(raw[:31]).decode())
