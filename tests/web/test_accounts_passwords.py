"""Password reset by e-mail (single use, 1 hour) and changing a password when signed in."""

import html
import re
from datetime import timedelta

from sqlalchemy import func, select, update

from lms.accounts import services
from lms.accounts.models import PasswordReset, User, WebSession
from lms.accounts.passwords import verify_password
from lms.accounts.rules import token_digest
from lms.database import utcnow
from lms.extensions import db
from lms.notify.models import OutboxEmail
from tests.conftest import DEMO_PASSWORD, csrf_token, sign_in

SAME_ANSWER = "If an account exists for that address, we have sent a link"
NEW_PASSWORD = "a fresh start for me"


def ask_for_reset(client, email):
    return client.post("/forgot-password", data={"email": email, "csrf_token": csrf_token(client, "/forgot-password")})


def reset_path_from_outbox(email="trainee1@example.org") -> str:
    body = db.session.execute(select(OutboxEmail.body).where(OutboxEmail.to_address == email)
                              .order_by(OutboxEmail.id.desc())).scalars().first()
    return re.search(r"http://localhost(/reset-password/[A-Za-z0-9_\-]+)", body).group(1)


def set_password(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(path, data={"password": password, "confirm": password if confirm is None else confirm,
                                   "csrf_token": csrf_token(client, "/forgot-password")})


def password_hash(email="trainee1@example.org") -> str:
    db.session.expire_all()
    return db.session.execute(select(User.password_hash).where(User.email == email)).scalar_one()


def test_sign_in_page_offers_a_reset(client, demo):
    page = client.get("/sign-in").text
    assert 'href="/forgot-password"' in page and "Forgotten your password?" in page
    assert client.get("/forgot-password").status_code == 200


def test_reset_by_email_ends_every_other_session_and_signs_in(app, client, demo, smtp_server):
    elsewhere = app.test_client()
    assert sign_in(elsewhere, "trainee1@example.org").status_code == 302
    assert elsewhere.get("/home").status_code == 200

    response = ask_for_reset(client, "Trainee1@Example.org ")
    assert response.status_code == 200 and SAME_ANSWER in response.text

    assert len(smtp_server) == 1
    message = smtp_server[0]
    assert message["To"] == "trainee1@example.org" and "Reset your" in message["Subject"]
    body = message.get_content()
    assert "Hello Amira Hassan" in body and "1 hour" in body
    path = re.search(r"http://localhost(/reset-password/[A-Za-z0-9_\-]+)", body).group(1)
    reset = db.session.execute(select(PasswordReset)).scalar_one()
    assert reset.token_hash == token_digest(path.rsplit("/", 1)[1])
    assert timedelta(minutes=59) < reset.expires_at - reset.created_at <= timedelta(hours=1)

    page = client.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.text
    response = set_password(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    home = client.get("/home")
    assert home.status_code == 200 and "Hello, Amira Hassan" in home.text
    assert "signed out" in home.text

    # The other browser was signed out; only the fresh session remains.
    response = elsewhere.get("/home")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    user_id = services.find_by_email("trainee1@example.org").id
    assert db.session.execute(select(func.count()).select_from(WebSession).where(
        WebSession.user_id == user_id)).scalar_one() == 1
    assert verify_password(password_hash(), NEW_PASSWORD)
    assert sign_in(app.test_client(), "trainee1@example.org").status_code == 200  # old password fails
    # A second e-mail tells the person their password changed.
    assert len(smtp_server) == 2 and "password has changed" in smtp_server[1]["Subject"]


def test_unknown_email_gets_the_same_answer_and_no_email(client, demo, smtp_server):
    for email in ("nobody@example.org", "not an email"):
        response = ask_for_reset(client, email)
        assert response.status_code == 200 and SAME_ANSWER in response.text
    assert smtp_server == []
    assert db.session.execute(select(func.count(OutboxEmail.id))).scalar_one() == 0
    assert db.session.execute(select(func.count(PasswordReset.id))).scalar_one() == 0


def test_deactivated_account_gets_no_email(client, demo):
    db.session.execute(update(User).where(User.email == "trainee2@example.org").values(active=False))
    db.session.commit()
    assert SAME_ANSWER in ask_for_reset(client, "trainee2@example.org").text
    assert db.session.execute(select(func.count(OutboxEmail.id))).scalar_one() == 0


def test_empty_email_is_asked_for(client, demo):
    response = ask_for_reset(client, "  ")
    assert response.status_code == 400 and 'id="email-error"' in response.text


def test_reused_reset_link(app, client, demo):
    ask_for_reset(client, "trainee1@example.org")
    path = reset_path_from_outbox()
    assert set_password(client, path).status_code == 302
    changed = password_hash()
    other = app.test_client()
    for response in (other.get(path), set_password(other, path, "yet another password")):
        assert response.status_code == 410 and "already been used" in response.text
        assert "Ask for a new password reset link" in response.text
    assert password_hash() == changed


def test_expired_reset_link(client, demo):
    ask_for_reset(client, "trainee1@example.org")
    path = reset_path_from_outbox()
    db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    before = password_hash()
    for response in (client.get(path), set_password(client, path)):
        assert response.status_code == 410 and "has expired" in response.text
        assert "Ask for a new link" in response.text
    assert password_hash() == before


def test_tampered_reset_link(client, demo):
    ask_for_reset(client, "trainee1@example.org")
    path = reset_path_from_outbox()
    tampered = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    before = password_hash()
    for response in (client.get(tampered), set_password(client, tampered)):
        assert response.status_code == 400 and "This password reset link is not right" in response.text
    assert password_hash() == before


def test_reset_passwords_that_do_not_match_or_are_too_short(client, demo):
    ask_for_reset(client, "trainee1@example.org")
    path = reset_path_from_outbox()
    before = password_hash()
    response = set_password(client, path, NEW_PASSWORD, NEW_PASSWORD.upper())
    assert response.status_code == 400 and 'id="confirm-error"' in response.text
    response = set_password(client, path, "tiny")
    assert response.status_code == 400 and 'id="password-error"' in response.text
    assert password_hash() == before
    assert db.session.execute(select(PasswordReset.used_at)).scalar_one() is None


def test_a_reset_stops_older_reset_links(app, client, demo):
    ask_for_reset(client, "trainee1@example.org")
    first = reset_path_from_outbox()
    ask_for_reset(client, "trainee1@example.org")
    second = reset_path_from_outbox()
    assert first != second
    assert set_password(client, second).status_code == 302
    response = app.test_client().get(first)
    assert response.status_code == 410 and "no longer works" in response.text


def test_at_most_three_emails_per_account_per_hour(client, demo):
    for _ in range(4):
        assert SAME_ANSWER in ask_for_reset(client, "trainee1@example.org").text
    assert db.session.execute(select(func.count(OutboxEmail.id))).scalar_one() == 3


def test_reset_requests_are_rate_limited_per_address(client, demo):
    for number in range(5):
        assert ask_for_reset(client, f"someone{number}@example.org").status_code == 200
    response = ask_for_reset(client, "someone5@example.org")
    assert response.status_code == 429
    assert "paused them for a while" in response.text and "Traceback" not in response.text
    assert client.get("/forgot-password").status_code == 200  # only asking is limited


# Changing a password when signed in

def change(client, current, new, confirm=None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm_password": new if confirm is None else confirm,
        "csrf_token": csrf_token(client, "/account/password")})


def test_change_password_signs_out_everywhere_else(app, client, login_as, smtp_server):
    elsewhere = app.test_client()
    assert sign_in(elsewhere, "trainee1@example.org").status_code == 302
    login_as("trainee")
    response = change(client, DEMO_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    page = client.get("/profile")
    assert page.status_code == 200  # still signed in here
    assert "You have been signed out on every other device and browser" in page.text
    response = elsewhere.get("/home")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert verify_password(password_hash(), NEW_PASSWORD)
    assert [message["Subject"] for message in smtp_server] == ["Your Peer Support Training password has changed"]


def test_wrong_current_password_changes_nothing(app, client, login_as):
    elsewhere = app.test_client()
    assert sign_in(elsewhere, "trainee1@example.org").status_code == 302
    login_as("trainee")
    before = password_hash()
    response = change(client, "not my password", NEW_PASSWORD)
    assert response.status_code == 400
    assert 'id="current_password-error"' in response.text and "current password is not right" in response.text
    assert password_hash() == before
    assert elsewhere.get("/home").status_code == 200  # the other session is still alive
    assert db.session.execute(select(func.count(OutboxEmail.id))).scalar_one() == 0


def test_new_passwords_that_do_not_match_or_are_too_short(app, client, login_as):
    elsewhere = app.test_client()
    assert sign_in(elsewhere, "trainee1@example.org").status_code == 302
    login_as("trainee")
    before = password_hash()
    response = change(client, DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert response.status_code == 400 and 'id="confirm_password-error"' in response.text
    response = change(client, DEMO_PASSWORD, "short")
    assert response.status_code == 400 and 'id="new_password-error"' in response.text
    response = change(client, DEMO_PASSWORD, DEMO_PASSWORD)
    assert response.status_code == 400 and "different from your current one" in html.unescape(response.text)
    assert password_hash() == before
    assert elsewhere.get("/home").status_code == 200


def test_a_delivered_reset_link_is_readable_only_by_its_recipient(app, client, demo, smtp_server):
    """With real e-mail, neither the outbox page nor a copy of the database holds the link."""
    ask_for_reset(client, "tutor1@example.org")
    [message] = smtp_server
    assert "/reset-password/" in message.get_content()
    stored = db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == "tutor1@example.org")).scalar_one()
    db.session.refresh(stored)
    assert stored.sent_at is not None and stored.body == ""
    admin = app.test_client()
    assert sign_in(admin, "admin@example.org").status_code == 302
    page = admin.get("/admin/outbox").text
    assert "Reset your" in page and "/reset-password/" not in page and "is not kept once it has been delivered" in page
