"""The wellness plan: versions, sharing with the personal supervisor, the PDF, and bad input."""

import io

from pypdf import PdfReader
from sqlalchemy import select

from lms.accounts.services import find_by_email
from lms.diary import printing, services
from lms.diary.models import WellnessPlan, WellnessPlanVersion
from lms.extensions import db
from tests.conftest import csrf_token, sign_in

DAILY = "A walk by the river with Pickle the dog"


def person(name):
    return find_by_email(f"{name}@example.org")


def save_plan(client, **sections):
    data = {key: "" for key in services.SECTION_KEYS}
    data.update(sections)
    data["csrf_token"] = csrf_token(client, "/wellness-plan/edit")
    return client.post("/wellness-plan/edit", data=data)


def versions():
    return list(db.session.execute(select(WellnessPlanVersion).order_by(WellnessPlanVersion.id)).scalars())


def test_each_save_is_a_new_dated_version(login_as):
    client = login_as("trainee")
    assert "Start my wellness plan" in client.get("/wellness-plan").get_data(as_text=True)
    assert save_plan(client, daily_tools=DAILY, crisis_people="My sister").status_code == 302
    assert save_plan(client, daily_tools=DAILY + "\nMusic", crisis_people="My sister").status_code == 302
    # Saving without a change makes no new version.
    save_plan(client, daily_tools=DAILY + "\nMusic", crisis_people="My sister")
    assert [v.number for v in versions()] == [1, 2]
    page = client.get("/wellness-plan").get_data(as_text=True)
    assert "Version 2, saved on" in page and "Music" in page and "People to contact" in page
    first = client.get(f"/wellness-plan/versions/{versions()[0].id}").get_data(as_text=True)
    assert DAILY in first and "Music" not in first
    edit = client.get("/wellness-plan/edit").get_data(as_text=True)
    assert "Music" in edit and "My crisis plan" in edit


def test_a_section_over_the_limit_is_refused_and_nothing_changes(login_as):
    client = login_as("trainee")
    save_plan(client, daily_tools=DAILY)
    long_text = "calm " * 2_100
    response = save_plan(client, daily_tools=DAILY, triggers=long_text)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="triggers-error"' in page and long_text.strip() in page
    assert len(versions()) == 1


def test_the_plan_prints_as_a_private_pdf(login_as):
    client = login_as("trainee")
    save_plan(client, daily_tools=DAILY, crisis_helps="Calm voices")
    response = client.get("/wellness-plan/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="wellness-plan-')
    assert response.headers["Cache-Control"] == "no-store"
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Pickle the dog" in text and "Amira Hassan" in text and "What helps" in text
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged for screen readers
    old = client.get(f"/wellness-plan/versions/{versions()[0].id}/pdf")
    assert old.status_code == 200 and old.mimetype == "application/pdf"


def test_no_plan_no_pdf(login_as):
    assert login_as("trainee").get("/wellness-plan/pdf").status_code == 404


def test_the_pdf_fetches_nothing_but_static_files(app):
    fetcher = printing.static_only_fetcher(app.static_folder)
    assert fetcher.fetch(printing.STATIC_BASE + "css/lms.css").status == 200
    for url in ("https://example.org/tracker.png", "file:///etc/passwd", printing.STATIC_BASE + "../lms/app.py",
                "http://lms.invalid/static/css/lms.css"):
        try:
            fetcher.fetch(url)
        except ValueError:
            continue
        raise AssertionError(f"fetched {url}")


def test_share_with_the_personal_supervisor_and_withdraw(app, login_as):
    trainee = login_as("trainee")
    save_plan(trainee, daily_tools=DAILY)
    page = trainee.get("/wellness-plan").get_data(as_text=True)
    assert "Share with Gareth Pryce, my personal supervisor" in page and "Helen Marsh" not in page
    response = trainee.post("/wellness-plan/share", data={"csrf_token": csrf_token(trainee, "/wellness-plan"),
                                                          "supervisor_id": person("supervisor1").id})
    assert response.status_code == 302
    plan = db.session.execute(select(WellnessPlan)).scalar_one()

    supervisor = app.test_client()
    sign_in(supervisor, "supervisor1@example.org")
    assert "Amira Hassan’s wellness plan" in supervisor.get("/shared-with-me").get_data(as_text=True)
    shared = supervisor.get(f"/shared-with-me/wellness-plans/{plan.id}")
    assert shared.status_code == 200 and DAILY in shared.get_data(as_text=True)
    pdf = supervisor.get(f"/shared-with-me/wellness-plans/{plan.id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["Cache-Control"] == "no-store"

    trainee.post("/wellness-plan/withdraw", data={"csrf_token": csrf_token(trainee, "/wellness-plan")})
    assert supervisor.get(f"/shared-with-me/wellness-plans/{plan.id}").status_code == 404
    assert supervisor.get(f"/shared-with-me/wellness-plans/{plan.id}/pdf").status_code == 404
    assert "Amira Hassan’s wellness plan" not in supervisor.get("/shared-with-me").get_data(as_text=True)


def test_a_plan_is_shared_only_with_the_personal_supervisor(login_as):
    trainee = login_as("trainee")
    save_plan(trainee, daily_tools=DAILY)
    for someone in ("academic1", "supervisor2", "tutor1"):
        response = trainee.post("/wellness-plan/share", data={"csrf_token": csrf_token(trainee, "/wellness-plan"),
                                                              "supervisor_id": person(someone).id})
        assert response.status_code == 400
        assert "only with your own personal supervisor" in response.get_data(as_text=True)
    assert db.session.execute(select(WellnessPlan)).scalar_one().shared_with_id is None
    stop = trainee.post("/wellness-plan/withdraw", data={"csrf_token": csrf_token(trainee, "/wellness-plan")})
    assert stop.status_code == 400 and "not shared with anyone" in stop.get_data(as_text=True)


def test_an_unsaved_plan_cannot_be_shared(login_as):
    trainee = login_as("trainee")
    response = trainee.post("/wellness-plan/share", data={"csrf_token": csrf_token(trainee, "/wellness-plan"),
                                                          "supervisor_id": person("supervisor1").id})
    assert response.status_code == 400 and "Save your wellness plan before sharing it" in response.get_data(as_text=True)


def test_nobody_else_reaches_a_plan_or_its_pdf(app, login_as):
    owner = login_as("trainee")
    save_plan(owner, daily_tools=DAILY)
    plan = db.session.execute(select(WellnessPlan)).scalar_one()
    version_id = versions()[0].id
    for email, expected in (("trainee2@example.org", 403), ("supervisor1@example.org", 404),
                            ("supervisor2@example.org", 404), ("tutor1@example.org", 403),
                            ("admin@example.org", 403), ("academic1@example.org", 403)):
        client = app.test_client()
        sign_in(client, email)
        for url in (f"/wellness-plan/versions/{version_id}", f"/wellness-plan/versions/{version_id}/pdf"):
            response = client.get(url)
            assert response.status_code in (403, 404) and DAILY not in response.get_data(as_text=True), (email, url)
        for url in (f"/shared-with-me/wellness-plans/{plan.id}", f"/shared-with-me/wellness-plans/{plan.id}/pdf"):
            response = client.get(url)
            assert response.status_code == expected, (email, url, response.status_code)
        if email.startswith("trainee2"):
            own = client.get("/wellness-plan").get_data(as_text=True)
            assert DAILY not in own and client.get("/wellness-plan/pdf").status_code == 404
