"""The language practice page, the JSON endpoint for suggestions, and the course lexicon."""

import logging

from lms.language import services
from tests.conftest import csrf_token


def test_the_course_lexicon_loads_once_with_every_term(app):
    lexicon = services.course_lexicon()
    assert len(lexicon) > 50
    assert any(term.term == "committed suicide" and "commit suicide" in term.variants for term in lexicon)
    assert services.course_lexicon() is lexicon  # read from disk once per process


def test_a_missing_lexicon_turns_suggestions_off_quietly(app, tmp_path, caplog):
    app.config["LMS_LEXICON_PATH"] = str(tmp_path / "missing.toml")
    with caplog.at_level(logging.WARNING):
        assert services.suggestions_for("He committed suicide") == []
    assert "Language suggestions are off" in caplog.text


def test_marked_text_keeps_every_character(app):
    text = "She was suffering from anxiety and he committed suicide."
    findings = services.suggestions_for(text)
    segments = services.marked_text(text, findings)
    assert "".join(segment.text for segment in segments) == text
    assert [s.number for s in segments if s.finding] == [1, 2]


def test_practice_page_shows_suggestions_with_reasons_without_javascript(login_as):
    client = login_as("tutor")
    page = client.get("/language/practice").get_data(as_text=True)
    assert "Recovery-focused language practice" in page and 'aria-live="polite"' in page
    response = client.post("/language/practice", data={
        "csrf_token": csrf_token(client, "/language/practice"),
        "text": "My cousin committed suicide. She was a victim of abuse.\nWe talked about the doughnuts."})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "died by suicide" in page and "Why:" in page and "suggests a crime" in page
    assert "<mark>committed suicide" in page and "2 suggestions about wording" in page
    assert "doughnuts" in page and "nuts</mark>" not in page


def test_practice_page_with_nothing_to_find(login_as):
    client = login_as("trainee")
    response = client.post("/language/practice", data={"csrf_token": csrf_token(client, "/language/practice"),
                                                       "text": "We listened and stayed alongside."})
    assert "No suggestions about wording" in response.get_data(as_text=True)


def test_practice_page_explains_empty_and_overlong_text(login_as):
    client = login_as("trainee")
    token = csrf_token(client, "/language/practice")
    empty = client.post("/language/practice", data={"csrf_token": token, "text": "   "})
    assert empty.status_code == 400 and "Write or paste some text to check" in empty.get_data(as_text=True)
    long_text = "calm " * 10_001
    too_long = client.post("/language/practice", data={"csrf_token": token, "text": long_text})
    page = too_long.get_data(as_text=True)
    assert too_long.status_code == 400 and "Check up to 50,000 characters at a time" in page
    assert long_text.strip() in page


def test_the_check_endpoint_answers_json_and_html(login_as):
    client = login_as("personal_supervisor")
    token = csrf_token(client, "/language/practice")
    response = client.post("/language/check", json={"text": "a self harmer, suffering\nfrom it"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200
    data = response.get_json()
    assert [f["term"] for f in data["findings"]] == ["self-harmer", "suffering from"]
    assert data["findings"][1]["matched_text"] == "suffering\nfrom"
    assert "a person who self-harms" in data["html"] and "<li" in data["html"]
    assert response.headers["Cache-Control"] == "no-store"
    form = client.post("/language/check", data={"csrf_token": token, "text": "He is a psycho"})
    assert form.get_json()["findings"][0]["term"] == "psycho"


def test_the_check_endpoint_refuses_bad_requests(login_as, client):
    anonymous = client.post("/language/check", json={"text": "x"})
    assert anonymous.status_code in (302, 400)
    client = login_as("trainee")
    token = csrf_token(client, "/language/practice")
    assert client.post("/language/check", json={"text": "committed suicide"}).status_code == 400  # no CSRF token
    wrong = client.post("/language/check", json={"text": ["a", "list"]}, headers={"X-CSRFToken": token})
    assert wrong.status_code == 400
    huge = client.post("/language/check", json={"text": "x" * 50_001}, headers={"X-CSRFToken": token})
    assert huge.status_code == 400 and "50,000" in huge.get_json()["error"]


def test_the_partial_is_reusable_on_its_own(app):
    from flask import get_template_attribute

    findings = services.suggestions_for("It was a cry for help.")
    with app.test_request_context():
        panel = str(get_template_attribute("language/_suggestions.html", "language_panel")(
            "feedback-language", findings, True))
    assert 'id="feedback-language"' in panel and 'data-check-url="/language/check"' in panel
    assert "a sign the person is in distress" in panel
