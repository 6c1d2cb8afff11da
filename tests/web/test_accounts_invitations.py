"""Invitations: an admin invites people; the e-mailed link sets a password once, within 7 days."""

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from lms.accounts import services
from lms.accounts.models import Invitation, User
from lms.accounts.rules import token_digest
from lms.audit.models import AuditEvent
from lms.authz.roles import Role
from lms.cohorts.models import Cohort
from lms.database import utcnow
from lms.extensions import db
from lms.notify.models import OutboxEmail
from tests.conftest import csrf_token, sign_in

NEW_PASSWORD = "my own long password"


def link_in(text: str, path: str) -> str:
    """The path of the first link to ``path`` in an e-mail body."""
    match = re.search(r"http://localhost(" + re.escape(path) + r"[A-Za-z0-9_\-]+)", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(1)


def invite_form(client, **fields):
    data = {"name": "", "email": "", "organisation": "", "role": "", "cohort": "",
            "csrf_token": csrf_token(client, "/admin/invitations/new")}
    data.update(fields)
    return client.post("/admin/invitations/new", data=data)


def set_password(client, path, password=NEW_PASSWORD, confirm=None):
    # The CSRF token belongs to the browser session, so any page's form gives it.
    return client.post(path, data={"password": password, "confirm": password if confirm is None else confirm,
                                   "csrf_token": csrf_token(client, "/forgot-password")})


def new_person(email="robin.new@example.org", name="Robin Fletcher"):
    user = services.create_user(email, name)
    db.session.commit()
    return user


def invite_directly(user, actor_email="admin@example.org", received=None):
    """Invite through the service, as the CSV import does; returns the link path from the outbox
    (or, with real e-mail, from the messages the SMTP server ``received``)."""
    admin = services.find_by_email(actor_email)
    services.invite(admin, user)
    db.session.commit()
    if received is not None:
        return link_in(received[-1].get_content(), "/invitation/")
    message = db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == user.email)
                                 .order_by(OutboxEmail.id.desc())).scalars().first()
    return link_in(message.body, "/invitation/")


def outbox_count() -> int:
    return db.session.execute(select(func.count(OutboxEmail.id))).scalar_one()


def test_admin_invites_a_person_who_sets_a_password_from_the_email(app, client, login_as, smtp_server):
    login_as("admin")
    northshire = db.session.execute(select(User.organisation_id).where(
        User.email == "supervisor1@example.org")).scalar_one()
    response = invite_form(client, name="Robin Fletcher", email=" Robin.Fletcher@Example.org ",
                           organisation=str(northshire))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/invitations"
    assert "An invitation has been sent to robin.fletcher@example.org" in client.get("/admin/invitations").text

    # The e-mail really arrived over SMTP, with a working link.
    assert len(smtp_server) == 1
    message = smtp_server[0]
    assert message["To"] == "robin.fletcher@example.org"
    assert "Set up your" in message["Subject"]
    body = message.get_content()
    assert "Hello Robin Fletcher" in body and "Morgan Ellis has invited you" in body and "7 days" in body
    path = link_in(body, "/invitation/")
    token = path.rsplit("/", 1)[1]

    # Only the token's SHA-256 is stored.
    invitation = db.session.execute(select(Invitation)).scalar_one()
    assert invitation.token_hash == token_digest(token) and token not in invitation.token_hash
    assert timedelta(days=6, hours=23) < invitation.expires_at - invitation.created_at <= timedelta(days=7)
    robin = services.find_by_email("robin.fletcher@example.org")
    assert robin.password_hash is None and robin.organisation_id == northshire

    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Set your password" in page.text and "Robin Fletcher" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    response = set_password(visitor, path)
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    home = visitor.get("/home")
    assert home.status_code == 200 and "Hello, Robin Fletcher" in home.text and "you are signed in" in home.text

    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).used_at is not None
    # The password works for signing in from now on.
    assert sign_in(app.test_client(), "robin.fletcher@example.org", NEW_PASSWORD).status_code == 302
    actions = set(db.session.execute(select(AuditEvent.action).where(
        AuditEvent.subject_user_id == robin.id)).scalars())
    assert {"user.created", "invitation.sent", "account.invitation_accepted"} <= actions


def test_invite_with_a_role_in_a_cohort(client, login_as):
    login_as("admin")
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    response = invite_form(client, name="Sam Rivers", email="sam.rivers@example.org", role="tutor",
                           cohort=str(cohort.id))
    assert response.status_code == 302
    sam = services.find_by_email("sam.rivers@example.org")
    assert db.session.get(User, sam.id).cohort_ids_for(Role.TUTOR) == {cohort.id}
    assert outbox_count() == 1


def test_bad_invitations_are_refused_next_to_the_field_and_nothing_saved(client, login_as):
    login_as("admin")
    people = db.session.execute(select(func.count(User.id))).scalar_one()
    cohort_id = db.session.execute(select(Cohort.id).where(Cohort.slug == "demo-running")).scalar_one()
    cases = [
        ({"name": "Robin", "email": "not-an-email"}, "email", "right format"),
        ({"name": "Robin", "email": ""}, "email", "Enter the person"),
        ({"name": "", "email": "robin@example.org"}, "name", "Enter the person's name"),
        ({"name": "Robin", "email": "robin@example.org", "role": "tutor"}, "cohort", "Choose the cohort"),
        ({"name": "Robin", "email": "robin@example.org", "cohort": str(cohort_id)}, "role", "Choose the person's role"),
        ({"name": "Robin", "email": "robin@example.org", "role": "wizard"}, "role", "Choose a role from the list"),
        ({"name": "Robin", "email": "robin@example.org", "organisation": "99999"}, "organisation", "from the list"),
        ({"name": "Robin", "email": "robin@example.org", "role": "trainee", "cohort": str(cohort_id)},
         "organisation", "Choose the organisation that employs this trainee"),
        ({"name": "Amira", "email": "trainee1@example.org"}, "email", "already set a password"),
    ]
    for fields, field, message in cases:
        response = invite_form(client, **fields)
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 400, fields
        assert f'id="{field}-error"' in page and message in page, (fields, page[:3000])
        assert 'aria-invalid="true"' in page and "There is a problem" in page
    assert db.session.execute(select(func.count(User.id))).scalar_one() == people
    assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 0
    assert outbox_count() == 0


def test_reused_link_says_what_happened_and_what_to_do(app, demo):
    path = invite_directly(new_person())
    client = app.test_client()
    assert set_password(client, path).status_code == 302
    again = app.test_client()
    for response in (again.get(path), set_password(again, path, "another long password")):
        assert response.status_code == 410
        assert "already been used" in response.text and "Forgotten your password?" in response.text
        assert "Traceback" not in response.text
    # The second attempt changed nothing: the first password still works.
    assert sign_in(app.test_client(), "robin.new@example.org", NEW_PASSWORD).status_code == 302


def test_expired_link_asks_for_a_new_invitation(app, client, demo):
    user = new_person()
    path = invite_directly(user)
    db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    for response in (client.get(path), set_password(client, path)):
        assert response.status_code == 410
        assert "expired" in response.text
        assert "ask your course admin to send you a new invitation" in response.text.lower()
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash is None


def test_tampered_link_is_not_right(app, client, demo):
    user = new_person()
    path = invite_directly(user)
    tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    for target in (tampered, path + "x", "/invitation/" + "x" * 300):
        response = client.get(target)
        assert response.status_code == 400, target
        assert "This invitation link is not right" in response.text
        assert "ask your course admin to send you a new invitation" in response.text
    assert set_password(client, tampered).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash is None
    assert client.get(path).status_code == 200  # the real link still works


def test_passwords_that_do_not_match_or_are_too_short(app, client, demo):
    user = new_person()
    path = invite_directly(user)
    response = set_password(client, path, NEW_PASSWORD, "my own long passwort")
    assert response.status_code == 400
    assert 'id="confirm-error"' in response.text and "do not match" in response.text
    response = set_password(client, path, "short")
    assert response.status_code == 400
    assert 'id="password-error"' in response.text and "at least 10 characters" in response.text
    assert 'value="short"' not in response.text  # passwords are never echoed back
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash is None
    assert db.session.execute(select(Invitation.used_at)).scalar_one() is None
    assert set_password(client, path).status_code == 302  # the link still works afterwards


def test_sending_again_replaces_the_old_link(app, client, login_as):
    user = new_person()
    old_path = invite_directly(user)
    login_as("admin")
    page = client.get("/admin/invitations").text
    assert "Robin Fletcher" in page and "the link works until" in page
    response = client.post(f"/admin/invitations/{user.id}/send",
                           data={"csrf_token": csrf_token(client, "/admin/invitations")})
    assert response.status_code == 302
    assert "A new invitation has been sent" in client.get("/admin/invitations").text
    new_message = db.session.execute(select(OutboxEmail).order_by(OutboxEmail.id.desc())).scalars().first()
    new_path = link_in(new_message.body, "/invitation/")
    visitor = app.test_client()
    response = visitor.get(old_path)
    assert response.status_code == 410 and "has been replaced" in response.text
    assert visitor.get(new_path).status_code == 200


def test_sending_to_someone_with_a_password_is_refused(client, login_as):
    login_as("admin")
    trainee = services.find_by_email("trainee3@example.org")
    response = client.post(f"/admin/invitations/{trainee.id}/send",
                           data={"csrf_token": csrf_token(client, "/admin/invitations")}, follow_redirects=True)
    assert "already set a password" in response.text
    assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 0
    assert client.post("/admin/invitations/999999/send",
                       data={"csrf_token": csrf_token(client, "/admin/invitations")}).status_code == 404


def test_deactivated_person_cannot_use_their_link(app, client, demo):
    user = new_person()
    path = invite_directly(user)
    db.session.execute(update(User).where(User.id == user.id).values(active=False))
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 410 and "not active" in response.text


def test_invite_everyone_without_a_password_in_a_cohort(app, client, login_as, smtp_server):
    cohort = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    newcomers = []
    for number in range(3):
        user = services.create_user(f"new{number}@example.org", f"Newcomer {number}")
        services.grant_role(user, Role.TRAINEE, cohort.id)
        newcomers.append(user)
    services.create_user("elsewhere@example.org", "Not In The Cohort")
    db.session.commit()
    invite_directly(newcomers[0], received=smtp_server)
    del smtp_server[:]
    login_as("admin")

    def invite_cohort(**extra):
        data = {"cohort": str(cohort.id), "csrf_token": csrf_token(client, "/admin/invitations/cohort")}
        data.update(extra)
        return client.post("/admin/invitations/cohort", data=data)

    response = invite_cohort()
    assert response.status_code == 302
    flash = client.get("/admin/invitations").text
    assert "Invitations sent to 2 people" in flash and "1 already had an invitation" in flash
    assert sorted(message["To"] for message in smtp_server) == ["new1@example.org", "new2@example.org"]
    # Nobody with a password, and nobody outside the cohort, was e-mailed.
    assert all(message["To"].startswith("new") for message in smtp_server)

    response = invite_cohort(include_already_invited="y")
    assert response.status_code == 302
    assert len(smtp_server) == 5
    live = db.session.execute(select(func.count(Invitation.id)).where(
        Invitation.revoked_at.is_(None), Invitation.used_at.is_(None))).scalar_one()
    assert live == 3  # one working link per person

    response = client.post("/admin/invitations/cohort", data={
        "cohort": "", "csrf_token": csrf_token(client, "/admin/invitations/cohort")})
    assert response.status_code == 400 and 'id="cohort-error"' in response.text


def test_invitations_page_queries_are_bounded(client, login_as, count_queries):
    login_as("admin")
    admin = services.find_by_email("admin@example.org")

    def add_people(start, count):
        users = [services.create_user(f"p{n}@example.org", f"Person {n}") for n in range(start, start + count)]
        services.invite_many(admin, users)
        db.session.commit()

    add_people(0, 2)
    client.get("/admin/invitations")
    with count_queries() as small:
        assert client.get("/admin/invitations").status_code == 200
    add_people(2, 20)
    with count_queries() as large:
        page = client.get("/admin/invitations")
    assert page.status_code == 200 and "Person 21" in page.text
    assert len(large) == len(small)


def test_email_in_the_outbox_when_smtp_is_not_configured(app, demo):
    user = new_person()
    path = invite_directly(user)
    message = db.session.execute(select(OutboxEmail)).scalar_one()
    assert message.sent_at is not None and message.error is None
    assert urlsplit("http://localhost" + path).path.startswith("/invitation/")
