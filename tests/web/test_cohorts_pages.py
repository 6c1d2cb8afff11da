"""Admin pages for cohorts: details, schedule, optimistic locking, tutors and roles, enrolment."""

import re
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.accounts import services as accounts
from lms.accounts.models import RoleGrant, User
from lms.audit.models import AuditEvent
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, Enrolment
from lms.extensions import db
from lms.notify.models import Notification, OutboxEmail
from tests.conftest import csrf_token, sign_in


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    assert match, f"no hidden {name}"
    return match.group(1)


def cohort(slug="demo-running") -> Cohort:
    db.session.expire_all()
    return db.session.execute(select(Cohort).where(Cohort.slug == slug).options(selectinload(Cohort.days))).scalar_one()


def user(email) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def schedule_data(page: str, days: list[tuple[str, str, str, str]]) -> dict:
    data = {"csrf_token": hidden(page, "csrf_token"), "version": hidden(page, "version"),
            "snapshot": hidden(page, "snapshot")}
    for index, (day, starts, ends, venue) in enumerate(days):
        data.update({f"days-{index}-date": day, f"days-{index}-starts_at": starts, f"days-{index}-ends_at": ends,
                     f"days-{index}-venue": venue})
    return data


def current_days(slug="demo-running"):
    return [(d.date.isoformat(), d.starts_at.strftime("%H:%M"), d.ends_at.strftime("%H:%M"), d.venue)
            for d in cohort(slug).days]


def audit_actions(cohort_id=None):
    query = select(AuditEvent.action)
    if cohort_id:
        query = query.where(AuditEvent.cohort_id == cohort_id)
    return list(db.session.execute(query.order_by(AuditEvent.id)).scalars())


# Creating a cohort with its schedule ------------------------------------------------

def test_admin_creates_a_cohort_with_its_eleven_days(login_as):
    client = login_as("admin")
    page = client.get("/admin/cohorts/new").get_data(as_text=True)
    assert "Peer Support Worker Training (11 days)" in page
    response = client.post("/admin/cohorts/new", data={
        "csrf_token": csrf_token(client, "/admin/cohorts/new"), "course_slug": "peer-support-l4",
        "name": "Peer Support Worker Training – March 2031", "slug": "march-2031", "start_date": "2031-03-03",
        "capacity": "14", "status": "planned"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/cohorts/march-2031/schedule")
    page = client.get("/admin/cohorts/march-2031/schedule").get_data(as_text=True)
    assert page.count('type="date"') == 11 and 'value="2031-03-03"' in page
    days = [((date(2031, 3, 3) + timedelta(weeks=n)).isoformat(), "10:00", "15:30", "Harbour Room") for n in range(11)]
    response = client.post("/admin/cohorts/march-2031/schedule", data=schedule_data(page, days))
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = cohort("march-2031")
    assert len(saved.days) == 11 and saved.days[10].date == date(2031, 5, 12) and saved.capacity == 14
    assert audit_actions(saved.id) == ["cohort.created", "cohort.schedule_set"]
    listing = client.get("/admin/cohorts?q=march-2031").get_data(as_text=True)
    assert "Peer Support Worker Training – March 2031" in listing and "0 of 14" in listing


def test_cohort_details_with_a_taken_short_name_are_refused(login_as):
    client = login_as("admin")
    response = client.post("/admin/cohorts/new", data={
        "csrf_token": csrf_token(client, "/admin/cohorts/new"), "course_slug": "peer-support-l4", "name": "Copy",
        "slug": "demo-running", "start_date": "2031-03-03", "capacity": "abc", "status": "planned"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="slug-error"' in page and "already uses the short name" in page
    assert 'id="capacity-error"' in page
    assert db.session.execute(select(func.count(Cohort.id))).scalar_one() == 2


def test_cohort_list_searches_sorts_and_paginates(login_as):
    client = login_as("admin")
    for n in range(30):
        db.session.add(Cohort(slug=f"extra-{n:02d}", name=f"Extra cohort {n:02d}", course_slug="peer-support-l4",
                              start_date=date(2030, 1, 1) + timedelta(days=n), status="planned"))
    db.session.commit()
    first = client.get("/admin/cohorts?sort=name").get_data(as_text=True)
    assert "Showing 1 to 25 of 32 cohorts" in first and "Page 1 of 2" in first
    second = client.get("/admin/cohorts?sort=name&page=2").get_data(as_text=True)
    assert "Peer Support Worker Training" in second and "Extra cohort 00" not in second
    finished = client.get("/admin/cohorts?status=finished").get_data(as_text=True)
    assert "1 of 1 cohorts" in finished.replace("Showing 1 to ", "") and "(finished)" in finished
    assert "Showing 1 to 1 of 1" in client.get("/admin/cohorts?q=extra-07").get_data(as_text=True)
    assert "No cohorts found" in client.get("/admin/cohorts?q=%25%25").get_data(as_text=True)


# Schedule validation: a message next to the field, nothing saved ------------------------

def test_schedule_with_fewer_days_than_the_course_is_refused(login_as):
    client = login_as("admin")
    before = current_days()
    page = client.get("/admin/cohorts/demo-running/schedule").get_data(as_text=True)
    response = client.post("/admin/cohorts/demo-running/schedule", data=schedule_data(page, before[:10]))
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="days-error"' in text and "The course has 11 days, but this schedule has 10" in text
    assert current_days() == before


def test_schedule_with_more_days_than_the_course_is_refused(login_as):
    client = login_as("admin")
    before = current_days()
    page = client.get("/admin/cohorts/demo-running/schedule").get_data(as_text=True)
    extra = before + [("2040-01-01", "09:30", "16:00", "Room")]
    response = client.post("/admin/cohorts/demo-running/schedule", data=schedule_data(page, extra))
    assert response.status_code == 400 and "this schedule has 12" in response.get_data(as_text=True)
    assert current_days() == before


def test_schedule_days_out_of_order_or_overlapping_are_refused(login_as):
    client = login_as("admin")
    before = current_days()
    page = client.get("/admin/cohorts/demo-running/schedule").get_data(as_text=True)
    days = list(before)
    days[6], days[7] = days[7], days[6]            # day 8 before day 7
    days[9] = (days[8][0], "13:00", "17:00", "Room")  # day 10 overlaps day 9
    response = client.post("/admin/cohorts/demo-running/schedule", data=schedule_data(page, days))
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="days-7-date-error"' in text and "Day 8 is before day 7" in text
    assert 'id="days-9-date-error"' in text and "Day 10 overlaps day 9" in text
    assert 'href="#days-7-date"' in text  # the error summary links to the field
    assert current_days() == before
    assert "cohort.schedule_changed" not in audit_actions()


def test_rescheduling_a_day_tells_everyone_enrolled_and_is_audited(login_as):
    client = login_as("admin")
    days = current_days()
    page = client.get("/admin/cohorts/demo-running/schedule").get_data(as_text=True)
    moved = (date.fromisoformat(days[7][0]) + timedelta(days=1)).isoformat()
    days[7] = (moved, "10:00", "15:00", "Online: https://meet.example.org/peer")
    response = client.post("/admin/cohorts/demo-running/schedule", data=schedule_data(page, days))
    assert response.status_code == 302
    running = cohort()
    assert running.days[7].date.isoformat() == moved and running.version == 2
    told = set(db.session.execute(
        select(User.email).join(Notification, Notification.user_id == User.id)
        .where(Notification.subject == "Course day 8 has changed")).scalars())
    expected = {f"trainee{n}@example.org" for n in range(1, 13)} | {"tutor1@example.org", "tutor2@example.org"}
    assert told == expected
    assert db.session.execute(select(func.count(OutboxEmail.id)).where(
        OutboxEmail.subject == "Course day 8 has changed")).scalar_one() == len(expected)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "cohort.schedule_changed")).scalar_one()
    assert "Day 8" in event.before and moved[:4] in event.after and event.cohort_id == running.id
    # Only the moved day changed: the others keep their rows (registers hang on them).
    assert len({d.id for d in running.days}) == 11


# Optimistic locking -------------------------------------------------------------------

def second_admin(app):
    other = accounts.create_user("admin2@example.org", "Robin Admin", "peer-support-demo")
    accounts.grant_role(other, Role.ADMIN)
    db.session.commit()
    client = app.test_client()
    assert sign_in(client, "admin2@example.org").status_code == 302
    return client


def edit_data(page: str, **changes) -> dict:
    values = {"course_slug": "peer-support-l4", "name": re.search(r'id="name" name="name" type="text" value="([^"]*)"', page).group(1),
              "slug": "demo-running", "start_date": re.search(r'name="start_date" type="date" value="([^"]*)"', page).group(1),
              "capacity": "16", "status": "running"}
    values.update(changes)
    return {"csrf_token": hidden(page, "csrf_token"), "version": hidden(page, "version"),
            "snapshot": hidden(page, "snapshot"), **values}


def test_two_admins_editing_a_cohort_the_second_save_is_refused_showing_what_changed(app, login_as):
    first = login_as("admin")
    second = second_admin(app)
    page_one = first.get("/admin/cohorts/demo-running/edit").get_data(as_text=True)
    page_two = second.get("/admin/cohorts/demo-running/edit").get_data(as_text=True)
    assert first.post("/admin/cohorts/demo-running/edit",
                      data=edit_data(page_one, name="Renamed by the first admin")).status_code == 302
    response = second.post("/admin/cohorts/demo-running/edit", data=edit_data(page_two, capacity="20"))
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else saved this cohort while you were editing" in text
    assert "Renamed by the first admin" in text and "(running)" in text  # then and now
    assert 'value="20"' in text  # the second admin's entry is kept in the form
    saved = cohort()
    assert saved.name == "Renamed by the first admin" and saved.capacity == 16 and saved.version == 2
    # Having seen the changes, the second admin saves knowingly (the form now carries the new version).
    again = second.post("/admin/cohorts/demo-running/edit",
                        data=edit_data(text, name="Renamed by the first admin", capacity="20"))
    assert again.status_code == 302
    assert cohort().capacity == 20 and cohort().name == "Renamed by the first admin"


def test_a_schedule_saved_from_an_older_version_is_refused(app, login_as):
    first = login_as("admin")
    second = second_admin(app)
    page_one = first.get("/admin/cohorts/demo-running/schedule").get_data(as_text=True)
    page_two = second.get("/admin/cohorts/demo-running/schedule").get_data(as_text=True)
    days = current_days()
    moved = list(days)
    moved[10] = ((date.fromisoformat(days[10][0]) + timedelta(days=2)).isoformat(), "09:30", "16:00", days[10][3])
    assert first.post("/admin/cohorts/demo-running/schedule", data=schedule_data(page_one, moved)).status_code == 302
    other = list(days)
    other[9] = (days[9][0], "11:00", "16:00", days[9][3])
    response = second.post("/admin/cohorts/demo-running/schedule", data=schedule_data(page_two, other))
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "Day 11" in text and "Day 10" not in text.split("Saved now")[1].split("</table>")[0]
    assert current_days() == moved


def test_a_save_racing_past_the_check_is_refused_too(app, login_as, monkeypatch):
    """If another save commits between our check and our write, the version counter catches it."""
    from lms.cohorts import services

    client = login_as("admin")
    page = client.get("/admin/cohorts/demo-running/edit").get_data(as_text=True)
    real_flush = services._flush_or_stale

    def someone_else_saves_first():
        with db.engine.begin() as conn:
            conn.execute(Cohort.__table__.update().where(Cohort.__table__.c.slug == "demo-running")
                         .values(name="Saved at the same moment", version=Cohort.__table__.c.version + 1))
        real_flush()

    monkeypatch.setattr(services, "_flush_or_stale", someone_else_saves_first)
    response = client.post("/admin/cohorts/demo-running/edit", data=edit_data(page, capacity="30"))
    assert response.status_code == 409 and "Saved at the same moment" in response.get_data(as_text=True)
    saved = cohort()
    assert saved.capacity == 16 and saved.name == "Saved at the same moment"


# Tutors and roles -----------------------------------------------------------------------

def grants(slug="demo-running", role="tutor"):
    running = cohort(slug)
    return {email: lead for email, lead in db.session.execute(
        select(User.email, RoleGrant.lead).join(RoleGrant).where(RoleGrant.cohort_id == running.id,
                                                                  RoleGrant.role == role)).all()}


def test_lead_tutor_and_co_facilitators(login_as):
    from lms.cohorts import demo as cohorts_demo

    client = login_as("admin")
    cohorts_demo.seed(date.today())
    db.session.commit()
    assert grants() == {"tutor1@example.org": True, "tutor2@example.org": False}
    page = client.get("/admin/cohorts/demo-running").get_data(as_text=True)
    assert "Lead tutor" in page and "Priya Shah" in page and "Co-facilitator" in page
    accounts.create_user("tutor3@example.org", "Sol Reyes", "peer-support-demo")
    db.session.commit()
    response = client.post("/admin/cohorts/demo-running/roles", data={
        "csrf_token": csrf_token(client, "/admin/cohorts/demo-running"), "email": "Tutor3@example.org",
        "role": "tutor", "lead": "y"})
    assert response.status_code == 302
    assert grants() == {"tutor1@example.org": False, "tutor2@example.org": False, "tutor3@example.org": True}
    tutor2 = db.session.execute(select(RoleGrant.id).join(User).where(
        User.email == "tutor2@example.org", RoleGrant.cohort_id == cohort().id)).scalar_one()
    client.post(f"/admin/cohorts/demo-running/roles/{tutor2}/lead", data={"csrf_token": csrf_token(client, "/home")})
    assert grants() == {"tutor1@example.org": False, "tutor2@example.org": True, "tutor3@example.org": False}
    client.post(f"/admin/cohorts/demo-running/roles/{tutor2}/revoke", data={"csrf_token": csrf_token(client, "/home")})
    assert "tutor2@example.org" not in grants()
    actions = audit_actions(cohort().id)
    assert actions.count("role.granted") == 1 and "role.revoked" in actions and "role.lead_changed" in actions


def test_co_production_records_which_tutors_co_deliver_from_lived_experience(login_as):
    client = login_as("admin")
    page = " ".join(client.get("/admin/cohorts/demo-running").get_data(as_text=True).split())
    # The demo's co-facilitator, Dan Okafor, is a peer trainer.
    assert "1 of 2 tutors is a peer trainer, co-delivering from their own lived experience" in page
    assert "Co-facilitator, peer trainer (co-delivers from lived experience)" in page
    dan = db.session.execute(select(RoleGrant).join(User).where(
        User.email == "tutor2@example.org", RoleGrant.cohort_id == cohort().id)).scalar_one()
    response = client.post(f"/admin/cohorts/demo-running/roles/{dan.id}/peer-trainer",
                           data={"csrf_token": csrf_token(client, "/home"), "peer_trainer": "no"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(RoleGrant, dan.id).peer_trainer is False
    page = " ".join(client.get("/admin/cohorts/demo-running").get_data(as_text=True).split())
    assert "No tutor is recorded as co-delivering from lived experience yet" in page
    assert "Dan Okafor is no longer recorded as a peer trainer" in page

    # A new tutor recorded as a peer trainer as they are given the role.
    accounts.create_user("tutor3@example.org", "Sol Reyes", "peer-support-demo")
    db.session.commit()
    token = csrf_token(client, "/admin/cohorts/demo-running")
    assert client.post("/admin/cohorts/demo-running/roles", data={
        "csrf_token": token, "email": "tutor3@example.org", "role": "tutor", "peer_trainer": "y"}).status_code == 302
    page = " ".join(client.get("/admin/cohorts/demo-running").get_data(as_text=True).split())
    assert "1 of 3 tutors is a peer trainer" in page

    # Only tutors co-deliver: the box ticked with another role is refused, next to it, and nothing is granted.
    accounts.create_user("examiner9@example.org", "Ines Ortega", "peer-support-demo")
    db.session.commit()
    refused = client.post("/admin/cohorts/demo-running/roles", data={
        "csrf_token": token, "email": "examiner9@example.org", "role": "external_examiner", "peer_trainer": "y"})
    assert refused.status_code == 400 and "Only tutors co-deliver the course" in refused.get_data(as_text=True)
    assert "examiner9@example.org" not in grants(role="external_examiner")
    # Not for a supervisor's role, and every change is audited.
    academic = db.session.execute(select(RoleGrant).where(
        RoleGrant.cohort_id == cohort().id, RoleGrant.role == "academic_supervisor")).scalars().first()
    assert client.post(f"/admin/cohorts/demo-running/roles/{academic.id}/peer-trainer",
                       data={"csrf_token": token, "peer_trainer": "yes"}).status_code == 404
    assert "role.peer_trainer_changed" in audit_actions(cohort().id)
    # Admins only: a tutor, even the peer trainer, cannot change it.
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    tutor = login_as("tutor")
    assert tutor.post(f"/admin/cohorts/demo-running/roles/{dan.id}/peer-trainer",
                      data={"csrf_token": csrf_token(tutor, "/home"), "peer_trainer": "yes"}).status_code == 403


def test_an_admin_adds_an_external_examiner_who_can_then_read_the_cohorts_work(app, login_as):
    accounts.create_user("ext.examiner@example.org", "Joan Baptiste", "a long examiner password")
    db.session.commit()
    client = login_as("admin")
    response = client.post("/admin/cohorts/demo-finished/roles", data={
        "csrf_token": csrf_token(client, "/admin/cohorts/demo-finished"), "email": "ext.examiner@example.org",
        "role": "external_examiner"})
    assert response.status_code == 302
    assert grants("demo-finished", "external_examiner") == {"ext.examiner@example.org": False}
    page = client.get("/admin/cohorts/demo-finished").get_data(as_text=True)
    assert "External examiners" in page and "Joan Baptiste" in page
    assert "role.granted" in audit_actions(cohort("demo-finished").id)
    examiner = app.test_client()
    assert sign_in(examiner, "ext.examiner@example.org", "a long examiner password").status_code == 302
    assert examiner.get("/external-examining").status_code == 200


def test_granting_roles_refuses_what_does_not_fit(login_as):
    client = login_as("admin")
    token = csrf_token(client, "/admin/cohorts/demo-running")
    cases = [
        ({"email": "nobody@example.org", "role": "tutor"}, "There is no account for nobody@example.org"),
        ({"email": "trainee1@example.org", "role": "tutor"}, "is a trainee in this cohort"),
        ({"email": "tutor1@example.org", "role": "tutor"}, "is already a tutor"),
        ({"email": "tutor1@example.org", "role": "admin"}, "Choose the role"),
    ]
    for data, message in cases:
        response = client.post("/admin/cohorts/demo-running/roles", data={"csrf_token": token, **data})
        assert response.status_code == 400 and message in response.get_data(as_text=True), message


def test_a_supervisor_with_trainees_cannot_be_removed(login_as):
    client = login_as("admin")
    grant = db.session.execute(select(RoleGrant.id).join(User).where(
        User.email == "academic1@example.org", RoleGrant.cohort_id == cohort().id)).scalar_one()
    response = client.post(f"/admin/cohorts/demo-running/roles/{grant}/revoke",
                           data={"csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 400 and "supervises 12 trainees" in response.get_data(as_text=True)
    assert db.session.get(RoleGrant, grant) is not None


# Enrolment -------------------------------------------------------------------------------

def enrol(client, **data):
    token = csrf_token(client, "/admin/cohorts/demo-running/enrol")
    return client.post("/admin/cohorts/demo-running/enrol", data={"csrf_token": token, **data})


def ids(*emails):
    return [str(user(email).id) for email in emails]


def enrolment_count():
    return db.session.execute(select(func.count(Enrolment.id))).scalar_one()


def organisation_id(name):
    from lms.accounts.models import Organisation

    return str(db.session.execute(select(Organisation.id).where(Organisation.name == name)).scalar_one())


def test_enrol_a_new_trainee_with_supervisors(login_as):
    client = login_as("admin")
    academic, personal = ids("academic1@example.org", "supervisor2@example.org")
    response = enrol(client, email="New.Person@example.org", name="Noor Khan", organisation=organisation_id("Harbour Mind"),
                     academic_supervisor=academic, personal_supervisor=personal, invite="y")
    assert response.status_code == 302, response.get_data(as_text=True)
    person = user("new.person@example.org")
    enrolment = db.session.execute(select(Enrolment).where(Enrolment.trainee_id == person.id)).scalar_one()
    assert enrolment.status == "active" and str(enrolment.personal_supervisor_id) == personal
    assert person.password_hash is None and person.has_role(Role.TRAINEE)
    actions = audit_actions(cohort().id)
    assert "enrolment.created" in actions


def test_enrolling_twice_is_refused(login_as):
    client = login_as("admin")
    before = enrolment_count()
    response = enrol(client, email="trainee3@example.org")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="email-error"' in text and "already enrolled in this cohort" in text
    assert enrolment_count() == before


def test_enrolling_someone_enrolled_in_another_cohort_is_refused(login_as):
    client = login_as("admin")
    db.session.add(Cohort(slug="later", name="Later cohort", course_slug="peer-support-l4",
                          start_date=date(2031, 1, 1), status="planned"))
    db.session.commit()
    token = csrf_token(client, "/admin/cohorts/later/enrol")
    response = client.post("/admin/cohorts/later/enrol", data={"csrf_token": token, "email": "trainee3@example.org"})
    assert response.status_code == 400 and "Transfer them" in response.get_data(as_text=True)


def test_a_personal_supervisor_from_another_organisation_is_refused(login_as):
    client = login_as("admin")
    before = enrolment_count()
    # supervisor1 works for Northshire; the new trainee works for Harbour Mind.
    response = enrol(client, email="new@example.org", name="New Person", organisation=organisation_id("Harbour Mind"),
                     personal_supervisor=ids("supervisor1@example.org")[0])
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="personal_supervisor-error"' in text
    assert "must be from the trainee&#39;s own organisation" in text
    assert enrolment_count() == before
    assert db.session.execute(select(User).where(User.email == "new@example.org")).scalar_one_or_none() is None


def test_changing_supervisors_checks_the_organisation(login_as):
    client = login_as("admin")
    trainee = user("trainee2@example.org")  # Harbour Mind
    enrolment = db.session.execute(select(Enrolment).where(Enrolment.trainee_id == trainee.id)).scalar_one()
    path = f"/admin/cohorts/demo-running/enrolments/{enrolment.id}"
    token = csrf_token(client, path)
    wrong = client.post(path, data={"csrf_token": token, "academic_supervisor": "",
                                    "personal_supervisor": ids("supervisor1@example.org")[0]})
    assert wrong.status_code == 400 and "works for Northshire" in wrong.get_data(as_text=True)
    right = client.post(path, data={"csrf_token": token, "academic_supervisor": "",
                                    "personal_supervisor": ids("supervisor2@example.org")[0]})
    assert right.status_code == 302
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).academic_supervisor_id is None


def test_a_full_cohort_refuses_another_trainee(login_as):
    client = login_as("admin")
    running = cohort()
    running.capacity = 12
    db.session.commit()
    response = enrol(client, email="new@example.org", name="New", organisation=organisation_id("Harbour Mind"))
    assert response.status_code == 400 and "The cohort is full" in response.get_data(as_text=True)


def status_change(client, enrolment_id, **data):
    path = f"/admin/cohorts/demo-running/enrolments/{enrolment_id}"
    return client.post(path + "/status", data={"csrf_token": csrf_token(client, path), **data})


def test_withdrawal_needs_a_reason_and_keeps_the_record(login_as):
    client = login_as("admin")
    enrolment_id = db.session.execute(select(Enrolment.id).where(
        Enrolment.trainee_id == user("trainee4@example.org").id)).scalar_one()
    refused = status_change(client, enrolment_id, action="withdraw", reason="", on_date="")
    assert refused.status_code == 400 and 'id="reason-error"' in refused.get_data(as_text=True)
    assert status_change(client, enrolment_id, action="withdraw", reason="Changed job",
                         on_date="2027-02-01").status_code == 302
    db.session.expire_all()
    enrolment = db.session.get(Enrolment, enrolment_id)
    assert (enrolment.status, enrolment.status_reason, enrolment.status_changed_on) == ("withdrawn", "Changed job", date(2027, 2, 1))
    assert "enrolment.withdraw" in audit_actions()


def test_transfer_keeps_the_old_enrolment_and_links_the_new_one(login_as):
    client = login_as("admin")
    db.session.add(Cohort(slug="september", name="September cohort", course_slug="peer-support-l4",
                          start_date=date(2031, 9, 1), status="planned"))
    db.session.commit()
    target = cohort("september")
    trainee = user("trainee5@example.org")
    old_id = db.session.execute(select(Enrolment.id).where(Enrolment.trainee_id == trainee.id)).scalar_one()
    # Records the trainee has before the move: a register mark, a unit done, a diary entry, a submission.
    from lms.attendance import demo as attendance_demo
    from lms.attendance.models import RegisterMark
    from lms.coursework.models import Submission
    from lms.curriculum.models import UnitProgress
    from lms.diary.models import DiaryEntry
    from lms.diary.services import EntryContent, EntryFields, create_entry
    from tests.web.test_coursework_support import assignment, submit

    attendance_demo.seed(date.today())
    create_entry(trainee, EntryFields(EntryContent(title="Before the move", body="Words."), date.today(), 2),
                 draft=False)
    submitted = submit("trainee5@example.org", assignment().id)
    from pathlib import Path

    from flask import current_app

    from lms.curriculum.services import set_unit_done, unit_rows
    from lms.curriculum.sync import sync_course_folder
    assert sync_course_folder(Path(current_app.config["LMS_COURSES_DIR"]) / "peer-support-l4").ok
    first_unit = min((r for r in unit_rows("peer-support-l4").values() if r.day_number == 1), key=lambda r: r.position)
    set_unit_done(trainee, "demo-running", first_unit.unit_key, True, date.today())
    db.session.commit()

    def records():
        db.session.expire_all()
        return (db.session.execute(select(func.count(RegisterMark.id)).where(
                    RegisterMark.trainee_id == trainee.id)).scalar_one(),
                db.session.execute(select(func.count(UnitProgress.id)).where(
                    UnitProgress.enrolment_id == old_id)).scalar_one(),
                db.session.execute(select(func.count(DiaryEntry.id)).where(
                    DiaryEntry.trainee_id == trainee.id)).scalar_one(),
                db.session.execute(select(Submission.status).where(Submission.id == submitted.id)).scalar_one())

    before = records()
    assert before[0] > 0 and before[1:] == (1, 1, "submitted")
    response = status_change(client, old_id, action="transfer", reason="Caring responsibilities this term",
                             on_date="2027-02-01", target_cohort=str(target.id))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    old = db.session.get(Enrolment, old_id)
    new = db.session.get(Enrolment, old.transferred_to_id)
    assert old.status == "transferred" and new.cohort_id == target.id and new.status == "active"
    assert new.academic_supervisor_id == old.academic_supervisor_id and new.personal_supervisor_id == old.personal_supervisor_id
    roles = {(g.role, g.cohort_id) for g in db.session.execute(select(RoleGrant).where(
        RoleGrant.cohort_id == target.id)).scalars()}
    assert ("trainee", target.id) in roles and ("academic_supervisor", target.id) in roles
    assert db.session.execute(select(func.count(Notification.id)).where(
        Notification.user_id == trainee.id, Notification.subject.like("You have moved%"))).scalar_one() == 1
    page = client.get("/admin/cohorts/demo-running").get_data(as_text=True)
    assert "to September cohort" in page
    # Nothing the trainee had is lost by the move.
    assert records() == before
    # A second transfer to the same cohort is impossible: it is already there.
    assert status_change(client, old_id, action="transfer", reason="x", on_date="2027-02-01",
                         target_cohort=str(target.id)).status_code == 400


def test_cohort_page_queries_stay_the_same_whatever_the_cohort_size(login_as, count_queries):
    client = login_as("admin")
    client.get("/admin/cohorts/demo-running")

    def measure():
        with count_queries() as statements:
            assert client.get("/admin/cohorts/demo-running").status_code == 200
        return len(statements)

    small = measure()
    running = cohort()
    for n in range(40):
        person = accounts.create_user(f"extra{n}@example.org", f"Extra {n}")
        db.session.add(Enrolment(cohort_id=running.id, trainee_id=person.id, status="active",
                                 academic_supervisor_id=user("academic1@example.org").id))
        accounts.grant_role(person, Role.TRAINEE, running.id)
    running.capacity = 100
    db.session.commit()
    assert measure() == small
