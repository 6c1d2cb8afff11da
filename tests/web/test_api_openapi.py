"""Real API answers checked against docs/api/openapi.yaml: every documented key present with its type, and no
key the document does not describe (the checker treats every object schema as closed)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from lms.accounts.models import User
from lms.extensions import db
from lms.progress import services
from sqlalchemy import select

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"


def closed(schema):
    """A copy in which every object schema with properties allows no other keys, unless it says otherwise."""
    if isinstance(schema, dict):
        schema = {key: closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


@pytest.fixture(scope="module")
def document():
    return yaml.safe_load(OPENAPI.read_text())


def check(document, path: str, method: str, response) -> None:
    """The response's JSON against the schema the document gives for this path and status."""
    operation = document["paths"][path][method]
    answer = operation["responses"].get(str(response.status_code))
    assert answer is not None, f"{path} answered {response.status_code}, which the document does not list"
    schema = answer["content"]["application/json"]["schema"]
    root = {"components": closed(copy.deepcopy(document["components"])), **closed(copy.deepcopy(schema))}
    errors = sorted(Draft202012Validator(root).iter_errors(response.get_json()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def token_for(email: str, scopes: str) -> dict:
    admin = db.session.execute(select(User).where(User.email == "admin@example.org")).scalar_one()
    token, errors = services.create_token(admin, "Integration", email, scopes)
    assert not errors
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_openapi_document_is_valid_and_lists_every_api_route(app, document):
    Draft202012Validator.check_schema(closed(document["components"]["schemas"]["Outcome"]))
    routes = {rule.rule.replace("<slug>", "{slug}") for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/")}
    assert routes == set(document["paths"]), "every API route is documented, and nothing else"


@pytest.mark.parametrize("email", ["admin@example.org", "academic1@example.org", "supervisor1@example.org"])
def test_progress_answers_match_the_document(client, demo, document, email):
    headers = token_for(email, "progress:read cohorts:read")
    for slug in ("demo-running", "demo-finished"):
        response = client.get(f"/api/v1/cohorts/{slug}/progress", headers=headers)
        assert response.status_code == 200
        assert response.get_json()["trainees"], "the check must see real trainees"
        check(document, "/api/v1/cohorts/{slug}/progress", "get", response)
    listed = client.get("/api/v1/cohorts", headers=headers)
    assert listed.status_code == 200 and listed.get_json()["cohorts"]
    check(document, "/api/v1/cohorts", "get", listed)


def test_refusals_match_the_document(client, demo, document):
    path = "/api/v1/cohorts/{slug}/progress"
    check(document, path, "get", client.get("/api/v1/cohorts/demo-running/progress"))
    only_list = token_for("admin@example.org", "cohorts:read")
    refused = client.get("/api/v1/cohorts/demo-running/progress", headers=only_list)
    assert refused.status_code == 403 and "progress:read" in refused.get_json()["error"]
    check(document, path, "get", refused)
    missing = client.get("/api/v1/cohorts/no-such-cohort/progress", headers=token_for("admin@example.org",
                                                                                        "progress:read"))
    assert missing.status_code == 404
    check(document, path, "get", missing)
    # A token with only progress:read cannot list cohorts.
    only_progress = token_for("admin@example.org", "progress:read")
    listing = client.get("/api/v1/cohorts", headers=only_progress)
    assert listing.status_code == 403 and "cohorts:read" in listing.get_json()["error"]
    check(document, "/api/v1/cohorts", "get", listing)


def test_a_token_with_two_scopes_uses_both_and_lists_only_a_supervisors_cohorts(client, demo):
    headers = token_for("supervisor1@example.org", "progress:read cohorts:read")
    slugs = {c["slug"] for c in client.get("/api/v1/cohorts", headers=headers).get_json()["cohorts"]}
    assert slugs == {"demo-running", "demo-finished"}
    assert client.get("/api/v1/cohorts/demo-running/progress", headers=headers).status_code == 200
    # Someone with no trainees sees no cohorts.
    nobody = token_for("tutor2@example.org", "cohorts:read")
    assert client.get("/api/v1/cohorts", headers=nobody).get_json() == {"cohorts": []}


def test_an_admin_creates_a_token_with_two_scopes_on_the_page(client, demo):
    from lms.progress.models import ApiToken
    from tests.conftest import csrf_token, sign_in

    sign_in(client, "admin@example.org")
    page = client.get("/progress/api-tokens").get_data(as_text=True)
    assert 'name="scopes" value="progress:read" checked' in page and 'value="cohorts:read"' in page
    none_chosen = client.post("/progress/api-tokens", data={
        "csrf_token": csrf_token(client, "/progress/api-tokens"), "name": "Reporting",
        "email": "academic1@example.org"})
    assert none_chosen.status_code == 400 and "Choose at least one scope" in none_chosen.get_data(as_text=True)
    assert db.session.execute(select(ApiToken)).first() is None
    made = client.post("/progress/api-tokens", data={
        "csrf_token": csrf_token(client, "/progress/api-tokens"), "name": "Reporting",
        "email": "academic1@example.org", "scopes": ["progress:read", "cohorts:read"]})
    assert made.status_code == 201
    stored = db.session.execute(select(ApiToken)).scalar_one()
    assert stored.scope_list == ["cohorts:read", "progress:read"]
    assert "cohorts:read, progress:read" in made.get_data(as_text=True)
