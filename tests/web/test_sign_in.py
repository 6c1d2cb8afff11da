"""Signing in and out, server-side sessions, and their bad inputs."""

from datetime import timedelta

from sqlalchemy import select, update

from lms.accounts.models import WebSession
from lms.extensions import db
from tests.conftest import IsolatedClient, base_config, csrf_token, sign_in


def test_sign_in_and_out(client, demo):
    response = sign_in(client, "trainee1@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    page = client.get("/home").get_data(as_text=True)
    assert "Amira Hassan" in page and "Sign out" in page
    token = csrf_token(client, "/home")
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/home").status_code == 302  # back to sign-in


def test_session_id_changes_at_sign_in(client, demo):
    client.get("/sign-in")
    before = client.get_cookie("lms_session").value
    sign_in(client, "trainee1@example.org")
    after = client.get_cookie("lms_session").value
    assert before != after
    assert db.session.execute(select(WebSession).where(WebSession.user_id.is_not(None))).scalars().all()


def test_cookie_holds_only_a_random_id(client, demo):
    sign_in(client, "trainee1@example.org")
    value = client.get_cookie("lms_session").value
    assert "." not in value and "trainee" not in value and len(value) >= 40


def test_cookie_replayed_after_sign_out_is_signed_out(app, client, demo):
    sign_in(client, "trainee1@example.org")
    stolen = client.get_cookie("lms_session").value
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    replay = app.test_client()
    replay.set_cookie("lms_session", stolen)
    response = replay.get("/home")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def _age_sessions(**delta):
    with db.engine.begin() as conn:
        rows = conn.execute(select(WebSession.__table__)).all()
        for row in rows:
            changes = {}
            if "idle" in delta:
                changes["last_seen_at"] = row.last_seen_at - delta["idle"]
            if "absolute" in delta:
                changes["created_at"] = row.created_at - delta["absolute"]
                changes["last_seen_at"] = row.last_seen_at - timedelta(minutes=1)
            conn.execute(update(WebSession.__table__).where(WebSession.__table__.c.id == row.id).values(**changes))


def test_idle_timeout_signs_out(client, demo):
    sign_in(client, "trainee1@example.org")
    assert client.get("/home").status_code == 200
    _age_sessions(idle=timedelta(hours=2, minutes=1))
    assert client.get("/home").status_code == 302


def test_absolute_timeout_signs_out(client, demo):
    sign_in(client, "trainee1@example.org")
    _age_sessions(absolute=timedelta(hours=12, minutes=1))
    assert client.get("/home").status_code == 302


GENERIC = "The email or password is not right"


def test_wrong_password_gives_generic_message_and_keeps_email(client, demo):
    response = sign_in(client, "trainee1@example.org", "not-the-password")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert GENERIC in page and "There is a problem" in page
    assert 'value="trainee1@example.org"' in page
    assert "Traceback" not in page


def test_unknown_email_gives_the_same_message(client, demo):
    page = sign_in(client, "nobody@example.org", "whatever-password").get_data(as_text=True)
    assert GENERIC in page and 'value="nobody@example.org"' in page


def test_empty_fields_give_the_same_message(client, demo):
    response = client.post("/sign-in", data={"email": "", "password": "", "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    assert GENERIC in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused_plainly(client, demo):
    response = client.post("/sign-in", data={"email": "trainee1@example.org", "password": "peer-support-demo"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This form has expired or was not sent from this site" in page
    response = client.post("/sign-in", data={"email": "x@example.org", "password": "y", "csrf_token": "forged"})
    assert response.status_code == 400


def test_too_many_failures_lock_the_account_for_a_while(client, demo):
    for _ in range(10):
        assert sign_in(client, "trainee2@example.org", "wrong-password-x").status_code == 200
    response = sign_in(client, "trainee2@example.org", "peer-support-demo")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "too many sign-in attempts" in page and "minutes" in page
    # An unknown account gets exactly the same answer: nothing reveals who has an account.
    for _ in range(10):
        sign_in(client, "ghost@example.org", "wrong-password-x")
    ghost = sign_in(client, "ghost@example.org", "wrong-password-x")
    assert ghost.status_code == 429 and "too many sign-in attempts" in ghost.get_data(as_text=True)
    # Other accounts are unaffected.
    assert sign_in(client, "trainee3@example.org").status_code == 302


def test_next_redirects_only_within_the_site(client, demo):
    for target, expected in [("/support", "/support"), ("https://evil.example/", "/home"),
                             ("//evil.example/x", "/home"), ("/\\evil.example", "/home"),
                             ("javascript:alert(1)", "/home")]:
        token = csrf_token(client)
        response = client.post("/sign-in", data={"email": "tutor1@example.org", "password": "peer-support-demo",
                                                  "next": target, "csrf_token": token})
        assert response.headers["Location"] == expected, target
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})


def test_deactivated_person_cannot_sign_in(client, demo):
    from lms.accounts.services import find_by_email

    find_by_email("trainee4@example.org").active = False
    db.session.commit()
    assert GENERIC in sign_in(client, "trainee4@example.org").get_data(as_text=True)


def test_too_many_failures_from_one_address_pause_that_address_only(app, demo):
    # 50 failures from one network address, spread over many accounts (a password-spraying run).
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for number in range(50):
        assert sign_in(attacker, f"nobody{number}@example.org", "wrong-password-x").status_code == 200
    # Even a right password for an account with no failures is paused from that address...
    paused = sign_in(attacker, "trainee4@example.org")
    assert paused.status_code == 429 and "too many sign-in attempts" in paused.get_data(as_text=True)
    # ...while the same person signs in from another address.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert sign_in(elsewhere, "trainee4@example.org").status_code == 302


def spray(client, count=50):
    for number in range(count):
        assert sign_in(client, f"nobody{number}@example.org", "wrong-password-x").status_code == 200


def test_behind_a_trusted_proxy_the_visitors_own_address_is_limited_and_cannot_be_forged(app, demo, tmp_path):
    from lms.app import create_app

    config = base_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "proxied")
    config["LMS_TRUSTED_PROXIES"] = 1
    proxied = create_app(config)
    proxied.test_client_class = IsolatedClient

    def visitor(forwarded_for):
        client = proxied.test_client()
        # Every request reaches the app from the proxy; the proxy appends the visitor's address.
        client.environ_base.update(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)
        return client

    spray(visitor("203.0.113.9"))
    assert sign_in(visitor("203.0.113.9"), "trainee4@example.org").status_code == 429
    # A forged address written in front of the real one is not believed: only the proxy's hop is.
    assert sign_in(visitor("198.51.100.77, 203.0.113.9"), "trainee4@example.org").status_code == 429
    # Other visitors through the same proxy are not paused with the sprayer.
    assert sign_in(visitor("198.51.100.20"), "trainee4@example.org").status_code == 302


def test_without_a_trusted_proxy_a_forwarded_for_header_is_ignored(app, demo):
    attacker = app.test_client()
    attacker.environ_base.update(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    spray(attacker)
    attacker.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.2"
    assert sign_in(attacker, "trainee4@example.org").status_code == 429


def test_an_unexpected_error_shows_the_sites_own_page_without_details(app, client):
    from lms.authz.access import public

    @public
    def broken():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/test-broken", "test_broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/test-broken")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "<html" in page.lower() and 'href="/static/' in page, "the error page uses the site's layout"
    assert "secret internal detail" not in page and "Traceback" not in page
    assert response.headers["Content-Security-Policy"]
