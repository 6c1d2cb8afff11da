"""The profile page: name, pronouns, e-mail preferences, and accessibility preferences the interface honours."""

import html

from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from lms.extensions import db
from tests.conftest import csrf_token, sign_in


def save_profile(client, **fields):
    data = {"display_name": "Amira Hassan", "pronouns": "she/her", "notification_email": "immediately",
            "csrf_token": csrf_token(client, "/profile")}
    data.update(fields)
    return client.post("/profile", data={key: value for key, value in data.items() if value is not None})


def trainee1() -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == "trainee1@example.org")).scalar_one()


def test_profile_shows_current_values_and_is_in_the_navigation(client, login_as):
    login_as("trainee")
    home = client.get("/home").text
    assert 'href="/profile"' in home and ">Profile</a>" in home
    page = client.get("/profile")
    assert page.status_code == 200
    text = page.text
    assert 'value="Amira Hassan"' in text and 'value="she/her"' in text
    assert 'id="notification_email-immediately" value="immediately" checked' in text
    assert '<html lang="en-GB">' in text  # no preferences yet
    assert 'href="/account/password"' in text


def test_saving_the_profile_and_preferences(client, login_as):
    login_as("trainee")
    response = save_profile(client, display_name="  Amira H. ", pronouns="", notification_email="daily",
                            larger_text="y", reduced_motion="y")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    page = client.get("/profile").text
    assert "Your profile has been saved" in page
    assert '<html lang="en-GB" class="larger-text reduced-motion">' in page
    # Every page honours the preferences, not only the profile.
    assert 'class="larger-text reduced-motion"' in client.get("/home").text
    user = trainee1()
    assert (user.display_name, user.pronouns, user.notification_email) == ("Amira H.", None, "daily")
    assert user.prefers_larger_text and user.prefers_reduced_motion
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "profile.changed")).scalar_one()
    assert "Amira H." in event.after and "larger" not in (event.after or "")

    response = save_profile(client, notification_email="never", larger_text="y")
    assert response.status_code == 302
    assert '<html lang="en-GB" class="larger-text">' in client.get("/home").text
    user = trainee1()
    assert user.notification_email == "never" and not user.prefers_reduced_motion


def test_preferences_belong_to_the_person(app, client, login_as):
    login_as("trainee")
    save_profile(client, larger_text="y")
    other = app.test_client()
    sign_in(other, "trainee2@example.org")
    assert '<html lang="en-GB">' in other.get("/home").text
    assert '<html lang="en-GB">' in app.test_client().get("/sign-in").text


def test_bad_profile_input_changes_nothing(client, login_as):
    login_as("trainee")
    cases = [
        ({"display_name": "   "}, "display_name", "Enter the name you would like people to see"),
        ({"display_name": "x" * 121}, "display_name", "120 characters or fewer"),
        ({"pronouns": "p" * 41}, "pronouns", "40 characters or fewer"),
        ({"notification_email": "hourly"}, "notification_email", "Choose when you would like e-mails"),
        ({"notification_email": None}, "notification_email", "Choose when you would like e-mails"),
    ]
    for fields, field, message in cases:
        response = save_profile(client, larger_text="y", **fields)
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 400, fields
        assert f'id="{field}-error"' in page and message in page, fields
        assert "There is a problem" in page and f'href="#{field}"' in page
        user = trainee1()
        assert (user.display_name, user.pronouns, user.notification_email, user.prefers_larger_text) == (
            "Amira Hassan", "she/her", "immediately", False)
    assert db.session.execute(select(AuditEvent)).first() is None


def test_a_tutor_says_themselves_whether_they_co_deliver_from_lived_experience(client, login_as):
    from lms.accounts.models import RoleGrant

    def dans_grants():
        db.session.expire_all()
        return db.session.execute(select(RoleGrant).join(User).where(
            User.email == "tutor2@example.org", RoleGrant.role == "tutor")).scalars().all()

    grant = dans_grants()[0]
    assert grant.peer_trainer  # the demo's Dan Okafor co-delivers
    dan = login_as("tutor2@example.org")
    page = " ".join(dan.get("/profile").get_data(as_text=True).split())
    assert "Co-delivering the course" in page and "Whether you say so is your choice" in page
    assert "Staff see that you co-deliver this cohort from your own lived experience." in page
    response = dan.post("/profile/co-delivery", data={"csrf_token": csrf_token(dan, "/profile"),
                                                     "grant_id": str(grant.id), "peer_trainer": "no"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile#co-delivery")
    assert [g.peer_trainer for g in dans_grants() if g.id == grant.id] == [False]
    assert "no longer shows you as co-delivering" in dan.get("/profile").get_data(as_text=True)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "role.peer_trainer_changed")
                               .order_by(AuditEvent.id.desc())).scalars().first()
    assert event.actor_id == event.subject_user_id
    # Without a CSRF token nothing changes.
    assert dan.post("/profile/co-delivery", data={"grant_id": str(grant.id), "peer_trainer": "yes"}
                    ).status_code == 400
    assert [g.peer_trainer for g in dans_grants() if g.id == grant.id] == [False]
    dan.post("/sign-out", data={"csrf_token": csrf_token(dan, "/home")})

    # Another tutor cannot say it for Dan (not their grant: 404), and a trainee has no such page (403).
    priya = login_as("tutor")
    assert "Co-delivering the course" in priya.get("/profile").get_data(as_text=True)
    token = csrf_token(priya, "/profile")
    assert priya.post("/profile/co-delivery", data={"csrf_token": token, "grant_id": str(grant.id),
                                                   "peer_trainer": "yes"}).status_code == 404
    assert priya.post("/profile/co-delivery", data={"csrf_token": token, "grant_id": "nonsense",
                                                   "peer_trainer": "yes"}).status_code == 404
    assert [g.peer_trainer for g in dans_grants() if g.id == grant.id] == [False]
    priya.post("/sign-out", data={"csrf_token": csrf_token(priya, "/home")})
    trainee = login_as("trainee")
    assert "Co-delivering the course" not in trainee.get("/profile").get_data(as_text=True)
    assert trainee.post("/profile/co-delivery", data={"csrf_token": csrf_token(trainee, "/profile"),
                                                     "grant_id": str(grant.id), "peer_trainer": "yes"}
                        ).status_code == 403
