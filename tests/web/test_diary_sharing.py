"""Sharing diary entries with supervisors: who sees what, comments, withdrawal and bad input."""

from datetime import date

import pytest
from sqlalchemy import select, text

from lms.accounts.services import find_by_email
from lms.audit.models import AuditEvent
from lms.cohorts.models import Enrolment
from lms.diary import services
from lms.diary.models import DiaryComment, DiaryShare
from lms.extensions import db
from lms.notify.models import Notification, OutboxEmail
from tests.conftest import csrf_token, sign_in

SECRET_TITLE = "Quokka evening thoughts"
SECRET_BODY = "I felt the old panic rising on the bus, Quokka-private."


def person(email):
    return find_by_email(email if "@" in email else f"{email}@example.org")


def make_entry(email="trainee1", title=SECRET_TITLE, body=SECRET_BODY, *, draft=False, mood=2):
    trainee = person(email)
    fields = services.EntryFields(services.EntryContent(title=title, body=body, mood=mood),
                                  date.today(), 2)
    entry = services.create_entry(trainee, fields, draft=draft)
    db.session.commit()
    return entry.id


def share(client, entry_id, supervisor_email):
    return client.post(f"/diary/entries/{entry_id}/share",
                       data={"csrf_token": csrf_token(client, "/diary"), "supervisor_id": person(supervisor_email).id})


def as_person(app, email):
    client = app.test_client()
    assert sign_in(client, person(email).email).status_code == 302
    return client


def test_share_comment_notify_and_withdraw(app, login_as):
    entry_id = make_entry()
    trainee = login_as("trainee")
    page = trainee.get(f"/diary/entries/{entry_id}").get_data(as_text=True)
    assert "Share with Helen Marsh" in page and "Share with Gareth Pryce" in page
    assert share(trainee, entry_id, "academic1").status_code == 302

    academic = as_person(app, "academic1")
    listing = academic.get("/shared-with-me").get_data(as_text=True)
    assert SECRET_TITLE in listing and "Waiting for your comment" in listing
    shared = academic.get(f"/shared-with-me/diary/{entry_id}")
    assert shared.status_code == 200 and SECRET_BODY in shared.get_data(as_text=True)
    assert "Finding things difficult" not in shared.get_data(as_text=True)  # the check-in is the trainee's own
    assert shared.headers["Cache-Control"] == "no-store"
    comment = "Thank you, that took courage to write. Kangaroo-comment."
    response = academic.post(f"/shared-with-me/diary/{entry_id}/comments",
                             data={"csrf_token": csrf_token(academic, "/shared-with-me"), "body": comment})
    assert response.status_code == 302
    assert "Commented" in academic.get("/shared-with-me").get_data(as_text=True)

    # The trainee is told, without the words of the entry or the comment.
    note = db.session.execute(select(Notification).where(Notification.user_id == person("trainee1").id)
                              .order_by(Notification.id.desc())).scalars().first()
    assert note.subject == "New comment on your diary entry" and note.link == f"/diary/entries/{entry_id}"
    for message in db.session.execute(select(OutboxEmail)).scalars():
        for secret in (SECRET_TITLE, SECRET_BODY, comment):
            assert secret not in message.subject + message.body
    assert comment in trainee.get(f"/diary/entries/{entry_id}").get_data(as_text=True)

    # Withdrawn: the supervisor can no longer open it, list it or comment on it.
    response = trainee.post(f"/diary/entries/{entry_id}/withdraw",
                            data={"csrf_token": csrf_token(trainee, "/diary"), "supervisor_id": person("academic1").id})
    assert response.status_code == 302
    assert academic.get(f"/shared-with-me/diary/{entry_id}").status_code == 404
    assert SECRET_TITLE not in academic.get("/shared-with-me").get_data(as_text=True)
    again = academic.post(f"/shared-with-me/diary/{entry_id}/comments",
                          data={"csrf_token": csrf_token(academic, "/shared-with-me"), "body": "Still here?"})
    assert again.status_code == 404
    assert db.session.execute(select(DiaryComment)).scalars().all().__len__() == 1
    # The comment stays with the trainee.
    assert comment in trainee.get(f"/diary/entries/{entry_id}").get_data(as_text=True)


def test_withdrawing_a_share_that_does_not_stand_is_explained(login_as):
    entry_id = make_entry()
    trainee = login_as("trainee")
    response = trainee.post(f"/diary/entries/{entry_id}/withdraw",
                            data={"csrf_token": csrf_token(trainee, "/diary"), "supervisor_id": person("academic1").id})
    assert response.status_code == 400
    assert "not shared with that person" in response.get_data(as_text=True)


def test_sharing_with_someone_who_is_not_the_trainees_supervisor_is_refused(login_as):
    entry_id = make_entry()
    trainee = login_as("trainee")
    for stranger in ("tutor1", "supervisor2", "trainee2", "admin"):
        response = share(trainee, entry_id, stranger)
        assert response.status_code == 400
        assert "only with your own academic supervisor or personal supervisor" in response.get_data(as_text=True)
    response = trainee.post(f"/diary/entries/{entry_id}/share",
                            data={"csrf_token": csrf_token(trainee, "/diary"), "supervisor_id": "not a number"})
    assert response.status_code == 400
    assert db.session.execute(select(DiaryShare)).scalars().all() == []


def test_a_draft_cannot_be_shared(login_as):
    entry_id = make_entry(draft=True)
    trainee = login_as("trainee")
    response = share(trainee, entry_id, "academic1")
    assert response.status_code == 400 and "Save this entry before sharing it" in response.get_data(as_text=True)
    assert db.session.execute(select(DiaryShare)).scalars().all() == []


def test_a_supervisor_no_longer_linked_loses_access(app, login_as):
    entry_id = make_entry()
    trainee = login_as("trainee")
    share(trainee, entry_id, "academic1")
    academic = as_person(app, "academic1")
    assert academic.get(f"/shared-with-me/diary/{entry_id}").status_code == 200
    enrolment = db.session.execute(select(Enrolment).where(Enrolment.trainee_id == person("trainee1").id)).scalar_one()
    enrolment.academic_supervisor_id = person("tutor2").id
    db.session.commit()
    assert academic.get(f"/shared-with-me/diary/{entry_id}").status_code == 404
    assert SECRET_TITLE not in academic.get("/shared-with-me").get_data(as_text=True)


def test_a_supervisor_not_linked_to_the_trainee_gets_404(app, login_as):
    entry_id = make_entry("trainee1")
    trainee = login_as("trainee")
    share(trainee, entry_id, "supervisor1")
    other = as_person(app, "supervisor2")  # personal supervisor of the even-numbered trainees only
    assert other.get(f"/shared-with-me/diary/{entry_id}").status_code == 404
    assert other.post(f"/shared-with-me/diary/{entry_id}/comments",
                      data={"csrf_token": csrf_token(other, "/shared-with-me"), "body": "Hi"}).status_code == 404
    assert SECRET_TITLE not in other.get("/shared-with-me").get_data(as_text=True)


TRAINEE_ROUTES = [
    ("get", "/diary/entries/{id}"), ("get", "/diary/entries/{id}/edit"), ("post", "/diary/entries/{id}/edit"),
    ("post", "/diary/entries/{id}/share"), ("post", "/diary/entries/{id}/withdraw"),
    ("get", "/diary/entries/{id}/history"), ("get", "/diary/entries/{id}/history/{version}"),
    ("get", "/diary/entries/{id}/delete"), ("post", "/diary/entries/{id}/delete"),
]


def test_another_trainee_gets_404_on_every_route(app, login_as):
    entry_id = make_entry("trainee1")
    version = db.session.execute(text("SELECT id FROM diary_entry_versions")).scalar_one()
    other = login_as("trainee2@example.org")
    token = csrf_token(other, "/diary")
    for method, path in TRAINEE_ROUTES:
        url = path.format(id=entry_id, version=version)
        data = {"csrf_token": token, "supervisor_id": person("academic1").id, "body": "x", "action": "save"}
        response = other.get(url) if method == "get" else other.post(url, data=data)
        assert response.status_code == 404, (method, url, response.status_code)
        assert SECRET_TITLE not in response.get_data(as_text=True)
    autosave = other.post("/diary/autosave", data={"csrf_token": token, "entry_id": entry_id, "body": "hijack"})
    assert autosave.status_code == 404
    assert SECRET_TITLE not in other.get("/diary").get_data(as_text=True)
    assert other.get(f"/shared-with-me/diary/{entry_id}").status_code == 403
    db.session.expire_all()
    assert services.entry_content(db.session.get(services.DiaryEntry, entry_id)).body == SECRET_BODY


@pytest.mark.parametrize("role", ["tutor", "admin", "personal_supervisor", "academic_supervisor"])
def test_staff_never_see_an_unshared_entry(app, login_as, role):
    entry_id = make_entry("trainee1")
    client = login_as(role)
    # Pages, search, the audit log and the e-mail outbox (absent pages answer 404, which is fine too).
    for url in (f"/diary/entries/{entry_id}", f"/shared-with-me/diary/{entry_id}", "/shared-with-me", "/home",
                "/notifications", "/admin/outbox", "/diary", "/admin/audit?person=trainee1%40example.org",
                "/boards/search?q=Quokka", "/cohorts/demo-running/course/search?q=Quokka", "/my-data"):
        response = client.get(url)
        assert response.status_code in (200, 400, 403, 404), (role, url)
        page = response.get_data(as_text=True)
        assert SECRET_TITLE not in page and SECRET_BODY not in page, (role, url)


def test_audit_log_records_sharing_without_the_words(login_as):
    entry_id = make_entry()
    trainee = login_as("trainee")
    share(trainee, entry_id, "academic1")
    events = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "diary_entry")).scalars().all()
    assert [event.action for event in events] == ["diary_entry.shared"]
    for event in events:
        assert SECRET_TITLE not in (event.after or "") and SECRET_BODY not in (event.after or "")


def test_an_empty_or_overlong_comment_is_explained(app, login_as):
    entry_id = make_entry()
    share(login_as("trainee"), entry_id, "academic1")
    academic = as_person(app, "academic1")
    token = csrf_token(academic, "/shared-with-me")
    empty = academic.post(f"/shared-with-me/diary/{entry_id}/comments", data={"csrf_token": token, "body": "  "})
    assert empty.status_code == 400 and "Write your comment" in empty.get_data(as_text=True)
    long_comment = "kind words " * 600
    too_long = academic.post(f"/shared-with-me/diary/{entry_id}/comments",
                             data={"csrf_token": token, "body": long_comment})
    assert too_long.status_code == 400 and long_comment.strip() in too_long.get_data(as_text=True)
    assert db.session.execute(select(DiaryComment)).scalars().all() == []


def test_waiting_for_comment_comes_first(app, login_as):
    first = make_entry(title="Older entry")
    second = make_entry(title="Newer entry")
    trainee = login_as("trainee")
    share(trainee, first, "academic1")
    share(trainee, second, "academic1")
    academic = as_person(app, "academic1")
    academic.post(f"/shared-with-me/diary/{second}/comments",
                  data={"csrf_token": csrf_token(academic, "/shared-with-me"), "body": "Thanks"})
    page = academic.get("/shared-with-me").get_data(as_text=True)
    assert page.index("Older entry") < page.index("Newer entry")


def test_shared_with_me_makes_a_bounded_number_of_queries(app, login_as, count_queries):
    def share_from(numbers):
        for number in numbers:
            entry_id = make_entry(f"trainee{number}", title=f"Entry of trainee {number}")
            client = as_person(app, f"trainee{number}")
            assert share(client, entry_id, "academic1").status_code == 302

    login_as("academic_supervisor")
    share_from([1, 2])
    academic = as_person(app, "academic1")
    with count_queries() as few:
        assert academic.get("/shared-with-me").status_code == 200
    share_from(range(3, 11))
    with count_queries() as many:
        page = academic.get("/shared-with-me")
    assert page.get_data(as_text=True).count("Entry of trainee") == 10
    assert len(many) == len(few)
