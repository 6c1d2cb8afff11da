"""Pure rules for invitation and reset links, new passwords and interface preferences."""

from datetime import datetime, timedelta, timezone

import pytest

from lms.accounts.rules import (
    LinkState, link_state, new_password_problems, new_token, preference_classes, token_digest,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def test_new_token_is_random_and_only_its_digest_is_kept():
    token, digest = new_token()
    other, _ = new_token()
    assert token != other and len(token) >= 40
    assert digest == token_digest(token) and len(digest) == 64 and token not in digest


@pytest.mark.parametrize(("used", "revoked", "expires", "state"), [
    (None, None, NOW + timedelta(seconds=1), LinkState.VALID),
    (None, None, NOW, LinkState.EXPIRED),
    (None, None, NOW - timedelta(days=1), LinkState.EXPIRED),
    (NOW - timedelta(minutes=5), None, NOW + timedelta(days=1), LinkState.USED),
    (None, NOW - timedelta(minutes=5), NOW + timedelta(days=1), LinkState.REPLACED),
    # Used beats replaced beats expired: the page tells the most useful story.
    (NOW - timedelta(days=2), NOW - timedelta(days=1), NOW - timedelta(hours=1), LinkState.USED),
    (None, NOW - timedelta(days=1), NOW - timedelta(hours=1), LinkState.REPLACED),
])
def test_link_state(used, revoked, expires, state):
    assert link_state(used_at=used, revoked_at=revoked, expires_at=expires, now=NOW) is state


def test_new_password_problems():
    assert new_password_problems("a good long phrase", "a good long phrase") == []
    assert new_password_problems("", "")[0][0] == "password"
    field, message = new_password_problems("short", "short")[0]
    assert field == "password" and "at least 10 characters" in message
    field, message = new_password_problems("a good long phrase", "a good long phrasE")[0]
    assert field == "confirm" and "do not match" in message
    assert new_password_problems("          ", "          ")[0][0] == "password"
    assert new_password_problems("x", "y", field="new_password")[0][0] == "new_password"


def test_preference_classes():
    assert preference_classes(larger_text=False, reduced_motion=False) == ""
    assert preference_classes(larger_text=True, reduced_motion=False) == "larger-text"
    assert preference_classes(larger_text=True, reduced_motion=True) == "larger-text reduced-motion"
    assert preference_classes(larger_text=False, reduced_motion=True) == "reduced-motion"
