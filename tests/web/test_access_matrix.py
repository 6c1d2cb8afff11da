"""Default-deny: every endpoint declares access, and the declarations hold for every role."""

import pytest
from flask import Blueprint

from lms.authz.access import PUBLIC, SIGNED_IN, declared_access
from lms.authz.matrix import access_matrix
from lms.authz.roles import Role
from tests.conftest import ROLE_ACCOUNTS, csrf_token, sign_in
from tests.web.access_samples import all_samples


ROLES = ["anonymous", "admin", "tutor", "academic_supervisor", "personal_supervisor", "trainee"]


def declared(app) -> dict[str, object]:
    return {rule.endpoint: declared_access(app.view_functions[rule.endpoint]) for rule in app.url_map.iter_rules()}


def test_every_endpoint_declares_access(app):
    undeclared = sorted(endpoint for endpoint, access in declared(app).items() if access is None)
    assert not undeclared, f"Endpoints without @public or @requires: {undeclared}"


def test_declarations_match_the_access_matrix(app):
    actual = declared(app)
    assert set(actual) == set(access_matrix()), (
        f"Not in the matrix: {sorted(set(actual) - set(access_matrix()))}; "
        f"in the matrix but not routed: {sorted(set(access_matrix()) - set(actual))}")
    for endpoint, access in actual.items():
        assert access == access_matrix()[endpoint], endpoint


def test_an_undeclared_endpoint_is_refused_and_detected(app, client):
    bp = Blueprint("forgotten", __name__)

    @bp.route("/forgotten")
    def forgotten():
        return "secret"

    app.register_blueprint(bp)
    response = client.get("/forgotten")
    assert response.status_code == 403 and b"secret" not in response.data
    assert declared(app)["forgotten.forgotten"] is None


def expected_outcome(access, role: str) -> str:
    if access == PUBLIC:
        return "allowed"
    if role == "anonymous":
        return "sign-in"
    if access == SIGNED_IN or Role(role) in access:
        return "allowed"
    return "forbidden"


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_for_every_role(app, client, demo, role):
    if role != "anonymous":
        assert sign_in(client, ROLE_ACCOUNTS[role]).status_code == 302
    samples = all_samples()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if rule.endpoint == "accounts.sign_out":
            continue  # signing out would end this walk; covered in test_sign_in
        args = samples.get(rule.endpoint, {})
        args = args() if callable(args) else args
        missing = set(rule.arguments) - set(args)
        assert not missing, f"Add sample arguments for {rule.endpoint}: {missing}"
        with app.test_request_context():
            from flask import url_for
            url = url_for(rule.endpoint, **args)
        if "GET" in rule.methods:
            response = client.get(url)
            response.close()  # static files are streamed
        else:
            response = client.post(url, data={"csrf_token": csrf_token(client, "/sign-in" if role == "anonymous" else "/home")})
        outcome = expected_outcome(access_matrix()[rule.endpoint], role)
        if outcome == "allowed" and role == "anonymous" and response.status_code == 401 and response.is_json:
            continue  # an API that authenticates itself (bearer token or session) answers 401 in JSON
        if outcome == "allowed":
            # 404 is allowed: an object this person may not see looks like one that does not exist.
            assert response.status_code not in (401, 403), (role, rule.endpoint, response.status_code)
            assert "/sign-in" not in response.headers.get("Location", "") or rule.endpoint == "site.index" \
                or rule.endpoint == "accounts.sign_in", (role, rule.endpoint)
        elif outcome == "sign-in":
            assert response.status_code == 302 and "/sign-in?next=" in response.headers["Location"], rule.endpoint
        else:
            assert response.status_code == 403, (role, rule.endpoint, response.status_code)
            assert b"You do not have access to this page" in response.data
