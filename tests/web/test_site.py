"""Headers, health check, error pages, the support page and role-aware home pages."""

from sqlalchemy import select

from lms.extensions import db
from lms.site.models import SiteSetting
from tests.conftest import csrf_token


def test_security_headers_on_every_page(client, demo):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain http on this machine
    set_cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie


def test_no_inline_script_in_pages(login_as):
    client = login_as("admin")
    page = client.get("/home").get_data(as_text=True)
    assert "<script>" not in page and "onclick=" not in page and "onload=" not in page


def test_pages_with_personal_data_are_not_stored(login_as):
    client = login_as("trainee")
    assert client.get("/home").headers["Cache-Control"] == "no-store"


def test_hsts_and_secure_cookies_over_https(app, demo):
    app.config["LMS_BASE_URL"] = "https://training.example.org"
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    response = client.get("/sign-in", base_url="https://training.example.org")
    assert "max-age" in response.headers["Strict-Transport-Security"]
    assert "Secure" in response.headers["Set-Cookie"]


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(app, tmp_path):
    from lms.app import create_app
    from tests.conftest import base_config

    broken = create_app(base_config("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path))
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"
    # The app stays up and answers other pages plainly.
    page = broken.test_client().get("/sign-in")
    assert page.status_code in (200, 503)


def test_not_found_page_is_plain(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_forbidden_page_is_plain(login_as):
    client = login_as("trainee")
    response = client.get("/admin/support")
    assert response.status_code == 403
    assert "You do not have access to this page" in response.get_data(as_text=True)


def test_support_page_is_public_and_has_crisis_contacts(client):
    page = client.get("/support").get_data(as_text=True)
    assert "Samaritans" in page and "116 123" in page and "999" in page


def test_admin_changes_the_support_page(login_as):
    client = login_as("admin")
    token = csrf_token(client, "/admin/support")
    text = "## Local crisis team\n\nCall **0800 000 0000**.\n\n<script>alert(1)</script>"
    response = client.post("/admin/support", data={"text": text, "csrf_token": token})
    assert response.status_code == 302
    page = client.get("/support").get_data(as_text=True)
    assert "Local crisis team" in page and "<strong>0800 000 0000</strong>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    from lms.audit.models import AuditEvent

    [event] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "support_page.updated")).scalars()
    assert "Samaritans" in str(event.before) and "0800 000 0000" in str(event.after)
    assert event.actor_id is not None


def test_empty_support_page_is_refused_and_old_text_kept(login_as):
    client = login_as("admin")
    client.post("/admin/support", data={"text": "Keep this text", "csrf_token": csrf_token(client, "/admin/support")})
    response = client.post("/admin/support", data={"text": "   ", "csrf_token": csrf_token(client, "/admin/support")})
    assert response.status_code == 400
    assert "Enter the support page text" in response.get_data(as_text=True)
    stored = db.session.execute(select(SiteSetting.value).where(SiteSetting.key == "support_page")).scalar_one()
    assert stored == "Keep this text"


def test_home_page_shows_each_role_its_own_sections(login_as):
    page = login_as("trainee").get("/home").get_data(as_text=True)
    assert "My course" in page and "Running the courses" not in page and "Cohorts I teach" not in page


def test_home_for_admin_and_supervisors(app, demo):
    from tests.conftest import sign_in

    for email, heading in [("admin@example.org", "Running the courses"), ("tutor1@example.org", "Cohorts I teach"),
                           ("academic1@example.org", "Trainees I supervise"),
                           ("supervisor2@example.org", "Staff I supervise")]:
        client = app.test_client()
        sign_in(client, email)
        assert heading in client.get("/home").get_data(as_text=True), email


def test_home_page_queries_are_bounded(app, demo, count_queries):
    """The supervisor's home issues the same number of queries however many trainees they have."""
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, "academic1@example.org")
    with count_queries() as statements:
        client.get("/home")
    assert len(statements) <= 8, statements
