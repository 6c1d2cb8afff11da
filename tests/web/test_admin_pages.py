"""Admin pages: people (search, filters, deactivation), organisations and the audit log."""

import json

from sqlalchemy import func, select

from lms.accounts.models import Organisation, User, WebSession
from lms.audit.models import AuditEvent
from lms.cohorts.models import Enrolment
from lms.extensions import db
from tests.conftest import csrf_token, sign_in


def person(email) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def organisation(name) -> Organisation:
    db.session.expire_all()
    return db.session.execute(select(Organisation).where(Organisation.name == name)).scalar_one()


# People ------------------------------------------------------------------------------

def test_people_list_searches_filters_sorts_and_paginates(login_as):
    client = login_as("admin")
    page = client.get("/admin/people").get_data(as_text=True)
    assert "Showing 1 to 25 of 26 people" in page and "Page 1 of 2" in page
    assert "Trainee in Peer Support Worker Training" in page
    found = client.get("/admin/people?q=kowal").get_data(as_text=True)
    assert "David Kowalski" in found and "Showing 1 to 1 of 1" in found
    by_email = client.get("/admin/people?q=SUPERVISOR2@").get_data(as_text=True)
    assert "Aisha Rahman" in by_email and "1 of 1" in by_email
    harbour = organisation("Harbour Mind").id
    tutors = client.get("/admin/people?role=tutor").get_data(as_text=True)
    assert "Priya Shah" in tutors and "Dan Okafor" in tutors and "Amira Hassan" not in tutors
    staff = client.get(f"/admin/people?organisation={harbour}&role=personal_supervisor").get_data(as_text=True)
    assert "Aisha Rahman" in staff and "Showing 1 to 1 of 1" in staff
    by_name = client.get("/admin/people?sort=name").get_data(as_text=True)
    assert by_name.index("Aisha Rahman") < by_name.index("Amira Hassan") < by_name.index("Ben Carter")
    second = client.get("/admin/people?sort=name&page=2").get_data(as_text=True)
    assert "Showing 26 to 26 of 26 people" in second
    assert "No people found" in client.get("/admin/people?q=%25_").get_data(as_text=True)


def test_people_list_queries_do_not_grow_with_the_page(login_as, count_queries):
    client = login_as("admin")
    client.get("/admin/people?page=2")
    with count_queries() as small:
        client.get("/admin/people?page=2")  # one person on the page
    with count_queries() as full:
        client.get("/admin/people?page=1")  # 25 people
    assert len(full) == len(small)


def test_person_page_shows_roles_enrolments_and_recent_changes(login_as):
    client = login_as("admin")
    trainee = person("trainee1@example.org")
    page = client.get(f"/admin/people/{trainee.id}").get_data(as_text=True)
    assert "Amira Hassan" in page and "Trainee" in page and "(running)" in page and "Helen Marsh" in page
    supervisor = person("supervisor1@example.org")
    page = client.get(f"/admin/people/{supervisor.id}").get_data(as_text=True)
    assert "Supervises" in page and "personal supervisor" in page
    assert client.get("/admin/people/99999").status_code == 404


def test_deactivating_a_person_ends_their_sessions_and_keeps_their_records(app, login_as):
    admin = login_as("admin")
    trainee_client = app.test_client()
    assert sign_in(trainee_client, "trainee2@example.org").status_code == 302
    assert trainee_client.get("/home").status_code == 200
    trainee = person("trainee2@example.org")
    assert db.session.execute(select(func.count()).select_from(WebSession).where(
        WebSession.user_id == trainee.id)).scalar_one() == 1
    response = admin.post(f"/admin/people/{trainee.id}/deactivate", data={
        "csrf_token": csrf_token(admin, f"/admin/people/{trainee.id}"), "reason": "Left the course"})
    assert response.status_code == 302
    assert person("trainee2@example.org").active is False
    assert db.session.execute(select(func.count()).select_from(WebSession).where(
        WebSession.user_id == trainee.id)).scalar_one() == 0
    # Their open browser is signed out, and they cannot sign in again.
    assert "/sign-in" in trainee_client.get("/home").headers["Location"]
    assert sign_in(trainee_client, "trainee2@example.org").status_code == 200
    assert db.session.execute(select(func.count(Enrolment.id)).where(
        Enrolment.trainee_id == trainee.id)).scalar_one() == 1
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.deactivated")).scalar_one()
    assert json.loads(event.before) == {"active": True} and json.loads(event.after)["active"] is False
    assert event.reason == "Left the course" and event.subject_user_id == trainee.id
    admin.post(f"/admin/people/{trainee.id}/reactivate", data={"csrf_token": csrf_token(admin, "/home")})
    assert person("trainee2@example.org").active is True
    assert sign_in(trainee_client, "trainee2@example.org").status_code == 302


def test_an_admin_cannot_deactivate_themself(login_as):
    client = login_as("admin")
    me = person("admin@example.org")
    response = client.post(f"/admin/people/{me.id}/deactivate", data={"csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 400 and "cannot deactivate your own account" in response.get_data(as_text=True)
    assert person("admin@example.org").active


def test_changing_a_persons_details_is_audited_and_checks_supervision(login_as):
    client = login_as("admin")
    harbour = organisation("Harbour Mind").id
    supervisor = person("supervisor1@example.org")  # supervises Northshire trainees
    path = f"/admin/people/{supervisor.id}"
    refused = client.post(path, data={"csrf_token": csrf_token(client, path), "display_name": "Gareth Pryce",
                                      "organisation": str(harbour)})
    assert refused.status_code == 400 and "personal supervisor of 6 trainees" in refused.get_data(as_text=True)
    assert person("supervisor1@example.org").organisation.name.startswith("Northshire")
    tutor = person("tutor2@example.org")
    path = f"/admin/people/{tutor.id}"
    assert client.post(path, data={"csrf_token": csrf_token(client, path), "display_name": "  Dan  Okafor-Ellis ",
                                   "organisation": str(harbour)}).status_code == 302
    changed = person("tutor2@example.org")
    assert changed.display_name == "Dan Okafor-Ellis" and changed.organisation_id == harbour
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.updated")).scalar_one()
    assert json.loads(event.before)["display_name"] == "Dan Okafor" and json.loads(event.after)["organisation"] == "Harbour Mind"
    blank = client.post(path, data={"csrf_token": csrf_token(client, path), "display_name": " ", "organisation": ""})
    assert blank.status_code == 400 and 'id="display_name-error"' in blank.get_data(as_text=True)


# Organisations --------------------------------------------------------------------------

def new_organisation(client, **data):
    return client.post("/admin/organisations/new", data={"csrf_token": csrf_token(client, "/admin/organisations/new"), **data})


def test_admin_adds_and_changes_an_organisation(login_as):
    client = login_as("admin")
    response = new_organisation(client, name="  Eastvale   Community Mind ", kind="employer",
                                contact_email="Peer@Eastvale.example.org")
    assert response.status_code == 302
    added = organisation("Eastvale Community Mind")
    assert added.kind == "employer" and added.contact_email == "peer@eastvale.example.org"
    listing = client.get("/admin/organisations?q=eastvale").get_data(as_text=True)
    assert "Eastvale Community Mind" in listing and "Showing 1 to 1 of 1" in listing
    path = f"/admin/organisations/{added.id}"
    assert client.post(path, data={"csrf_token": csrf_token(client, path), "name": "Eastvale Mind",
                                   "kind": "partner", "contact_email": ""}).status_code == 302
    changed = organisation("Eastvale Mind")
    assert changed.kind == "partner" and changed.contact_email is None
    events = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "organisation")
                                .order_by(AuditEvent.id)).scalars().all()
    assert [e.action for e in events] == ["organisation.created", "organisation.updated"]
    assert json.loads(events[1].before) == {"name": "Eastvale Community Mind", "kind": "employer",
                                            "contact_email": "peer@eastvale.example.org"}
    providers = client.get("/admin/organisations?kind=provider").get_data(as_text=True)
    assert "Recovery College Training Team" in providers and "Harbour Mind" not in providers


def test_organisation_bad_input_saves_nothing(login_as):
    client = login_as("admin")
    before = db.session.execute(select(func.count(Organisation.id))).scalar_one()
    duplicate = new_organisation(client, name="harbour mind", kind="employer", contact_email="")
    assert duplicate.status_code == 400 and "already an organisation called" in duplicate.get_data(as_text=True)
    bad = new_organisation(client, name="", kind="club", contact_email="not an email")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert all(f'id="{field}-error"' in page for field in ("name", "kind", "contact_email"))
    assert db.session.execute(select(func.count(Organisation.id))).scalar_one() == before


# The audit log -----------------------------------------------------------------------------

def test_audit_log_filters_by_person_and_cohort_and_shows_before_and_after(login_as):
    client = login_as("admin")
    tutor = person("tutor2@example.org")
    path = f"/admin/people/{tutor.id}"
    client.post(path, data={"csrf_token": csrf_token(client, path), "display_name": "Daniel Okafor", "organisation": ""})
    new_organisation(client, name="Westfield Trust", kind="employer", contact_email="")
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert "Organisation added" in everything and "Person&#39;s details changed" in everything
    about_tutor = client.get("/admin/audit?person=tutor2@example.org").get_data(as_text=True)
    assert "Person&#39;s details changed" in about_tutor and "Organisation added" not in about_tutor
    assert "Dan Okafor" in about_tutor and "Daniel Okafor" in about_tutor and "Morgan Ellis" in about_tutor
    unknown = client.get("/admin/audit?person=nobody@example.org")
    assert unknown.status_code == 400 and "There is nobody with the email" in unknown.get_data(as_text=True)
    in_cohort = client.get("/admin/audit?cohort=demo-running").get_data(as_text=True)
    assert "No changes recorded for this choice" in in_cohort
    # A change recorded against a cohort shows under that cohort, and only there.
    from lms.audit import services as audit
    from lms.cohorts.models import Cohort

    running = db.session.execute(select(Cohort).where(Cohort.slug == "demo-running")).scalar_one()
    audit.record(person("admin@example.org"), "cohort.updated", "cohort", running.id, cohort_id=running.id,
                 before={"capacity": 16}, after={"capacity": 18})
    db.session.commit()
    in_cohort = client.get("/admin/audit?cohort=demo-running").get_data(as_text=True)
    assert "No changes recorded for this choice" not in in_cohort and "Organisation added" not in in_cohort
    assert "18" in in_cohort
    assert "No changes recorded for this choice" in client.get("/admin/audit?cohort=demo-finished").get_data(
        as_text=True)


def test_audit_log_pages(login_as):
    from lms.audit import services as audit

    client = login_as("admin")
    admin = person("admin@example.org")
    for n in range(55):
        audit.record(admin, "organisation.updated", "organisation", 1, before={"name": f"Old {n}"}, after={"name": f"New {n}"})
    db.session.commit()
    first = client.get("/admin/audit").get_data(as_text=True)
    assert "New 54" in first and "Older changes" in first and "New 4<" not in first
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "New 4" in second and "Newer changes" in second and "Older changes" not in second


def test_non_admins_cannot_use_the_admin_pages(login_as):
    client = login_as("tutor")
    for path in ("/admin/people", "/admin/organisations", "/admin/audit", "/admin/cohorts",
                 "/admin/cohorts/demo-running", "/admin/erasure-requests", "/admin/retention"):
        assert client.get(path).status_code == 403, path


def test_organisations_sort_and_page(login_as):
    client = login_as("admin")
    for n in range(30):
        db.session.add(Organisation(name=f"Zz Trust {n:02d}", kind="employer"))
    db.session.commit()
    first = client.get("/admin/organisations?sort=name").get_data(as_text=True)
    total = db.session.execute(select(func.count(Organisation.id))).scalar_one()
    assert f"Showing 1 to 25 of {total}" in first
    assert first.index("Harbour Mind") < first.index("Recovery College Training Team")
    second = client.get("/admin/organisations?sort=name&page=2").get_data(as_text=True)
    assert f"Showing 26 to {total} of {total}" in second and "Zz Trust 29" in second and "Harbour Mind" not in second
    newest = client.get("/admin/organisations?sort=newest").get_data(as_text=True)
    assert "Zz Trust 29" in newest and "Harbour Mind" not in newest  # the 30 new ones fill the first page
    by_kind = client.get("/admin/organisations?sort=kind").get_data(as_text=True)
    assert "Zz Trust 00" in by_kind and "Recovery College Training Team" not in by_kind  # employers first
    assert "Recovery College Training Team" in client.get("/admin/organisations?sort=kind&page=2").get_data(
        as_text=True)
    # A page number past the end, or nonsense, answers calmly.
    assert client.get("/admin/organisations?page=999").status_code == 200
    assert client.get("/admin/organisations?page=x&sort=nonsense").status_code == 200
