"""The trainee's reflective diary: writing, drafts, history, settings and bad input."""

import logging
import re

from sqlalchemy import func, select

from lms.diary import services
from lms.diary.models import DiaryEntry, DiaryEntryVersion, DiarySettings
from lms.extensions import db
from tests.conftest import csrf_token

PROMPT = "Which of your own strengths did you find hardest to accept today, and why might that be?"


def trainee1():
    from lms.accounts.services import find_by_email

    return find_by_email("trainee1@example.org")


def write(client, *, action="save", path="/diary/new", **fields):
    data = {"title": "", "entry_date": "", "day_number": "", "prompt": "", "body": "", "tags": "", "mood": "",
            "entry_id": "", "action": action, "csrf_token": csrf_token(client, "/diary/new")}
    data.update(fields)
    return client.post(path, data=data)


def entries_in_db():
    return list(db.session.execute(select(DiaryEntry).order_by(DiaryEntry.id)).scalars())


def test_a_day_prompt_opens_a_new_entry_prefilled(login_as):
    client = login_as("trainee")
    page = client.get("/diary/new", query_string={"day": 3, "prompt": PROMPT}).get_data(as_text=True)
    assert PROMPT in page and "Prompt from day 3" in page
    assert 'value="Day 3 reflection"' in page
    assert re.search(r'<option selected value="3">Day 3</option>|<option value="3" selected>Day 3</option>', page)
    assert 'data-autosave-url="/diary/autosave"' in page and "js/diary.js" in page


def test_a_trainee_writes_and_saves_an_entry(login_as):
    client = login_as("trainee")
    response = write(client, title="Strengths", day_number="3", prompt=PROMPT, body="I found *listening* hard to own.",
                     tags="strengths, Day 3, strengths", mood="4", entry_date="2026-03-05")
    assert response.status_code == 302
    entry = entries_in_db()[0]
    assert entry.status == "saved" and entry.day_number == 3 and str(entry.entry_date) == "2026-03-05"
    content = services.entry_content(entry)
    assert content.tags == ("strengths", "Day 3") and content.mood == 4 and content.prompt == PROMPT
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<em>listening</em>" in page and "4 of 5 – Doing okay" in page and PROMPT in page
    assert client.get(response.headers["Location"]).headers["Cache-Control"] == "no-store"
    listing = client.get("/diary").get_data(as_text=True)
    assert "Strengths" in listing and "Private" in listing
    assert services.entry_count(trainee1().id) == 1


def test_without_a_title_an_entry_is_named_for_its_day(login_as):
    client = login_as("trainee")
    write(client, day_number="2", body="Thoughts.")
    assert services.entry_content(entries_in_db()[0]).title == "Day 2 reflection"


def test_saving_needs_some_words_and_nothing_is_saved(login_as):
    client = login_as("trainee")
    response = write(client, title="Empty")
    assert response.status_code == 400
    assert "Write something in your entry before saving it" in response.get_data(as_text=True)
    assert entries_in_db() == []


def test_an_entry_far_over_the_limit_is_refused_and_the_words_kept(login_as):
    client = login_as("trainee")
    write(client, title="First", body="A saved entry.")
    saved = entries_in_db()[0]
    huge = "word " * 12_000  # 60,000 characters
    response = write(client, path=f"/diary/entries/{saved.id}/edit", title="First", body=huge)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="body-error"' in page and "Keep it under 50,000 characters" in page
    assert huge.strip() in page  # nothing the trainee wrote is lost
    db.session.expire_all()
    assert services.entry_content(entries_in_db()[0]).body == "A saved entry."
    assert db.session.execute(select(func.count(DiaryEntryVersion.id))).scalar_one() == 1


def test_bad_date_day_tags_and_mood_are_explained(login_as):
    client = login_as("trainee")
    response = write(client, body="Words", entry_date="31/02/2026", day_number="40",
                     tags=",".join(f"tag{n}" for n in range(12)), mood="9")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Enter the date of the entry as a real date", "Choose a course day from 1 to 11",
                    "Use up to 10 tags", "Choose how you are feeling from the list"):
        assert message in page
    assert entries_in_db() == []


def test_raw_html_and_javascript_links_are_rendered_harmless(login_as):
    client = login_as("trainee")
    body = ('<script>alert("x")</script> <img src=x onerror=alert(1)>\n\n[click me](javascript:alert(1)) '
            '[ok](https://example.org)')
    write(client, title="<b>Bold title</b>", body=body)
    entry = entries_in_db()[0]
    page = client.get(f"/diary/entries/{entry.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and 'href="javascript' not in page.lower()
    assert "&lt;script&gt;" in page and "click me" in page
    assert "&lt;b&gt;Bold title&lt;/b&gt;" in page
    assert 'href="https://example.org"' in page


def test_save_draft_then_save_keeps_one_entry_and_history(login_as):
    client = login_as("trainee")
    response = write(client, action="draft", title="Draft", body="Half a thought")
    assert response.status_code == 302 and "/edit" in response.headers["Location"]
    entry = entries_in_db()[0]
    assert entry.status == "draft" and services.entry_count(trainee1().id) == 0
    assert "Draft" in client.get("/diary").get_data(as_text=True)
    write(client, path=f"/diary/entries/{entry.id}/edit", title="Draft", body="A whole thought")
    write(client, path=f"/diary/entries/{entry.id}/edit", title="Draft", body="A whole thought, revised")
    db.session.expire_all()
    assert len(entries_in_db()) == 1 and entries_in_db()[0].status == "saved"
    history = client.get(f"/diary/entries/{entry.id}/history").get_data(as_text=True)
    assert history.count("/history/") == 2
    versions = db.session.execute(select(DiaryEntryVersion).order_by(DiaryEntryVersion.id)).scalars().all()
    first = client.get(f"/diary/entries/{entry.id}/history/{versions[0].id}").get_data(as_text=True)
    assert "A whole thought" in first and "revised" not in first


def test_autosave_creates_a_draft_then_updates_it(login_as):
    client = login_as("trainee")
    token = csrf_token(client, "/diary/new")
    first = client.post("/diary/autosave", data={"csrf_token": token, "title": "", "body": "Typing...",
                                                 "entry_id": ""})
    assert first.status_code == 200 and first.get_json()["saved"]
    entry_id = first.get_json()["entry_id"]
    assert first.get_json()["edit_url"] == f"/diary/entries/{entry_id}/edit"
    second = client.post("/diary/autosave", data={"csrf_token": token, "body": "Typing more", "entry_id": entry_id})
    assert second.get_json()["entry_id"] == entry_id
    db.session.expire_all()
    assert len(entries_in_db()) == 1
    assert services.entry_content(entries_in_db()[0]).body == "Typing more"
    # Nothing typed yet: nothing is made.
    empty = client.post("/diary/autosave", data={"csrf_token": token, "body": "", "entry_id": ""})
    assert empty.get_json()["saved"] is False and len(entries_in_db()) == 1


def test_autosave_of_a_saved_entry_keeps_the_saved_words_until_saved(login_as):
    client = login_as("trainee")
    write(client, title="Kept", body="Saved words")
    entry = entries_in_db()[0]
    token = csrf_token(client, "/diary/new")
    client.post("/diary/autosave", data={"csrf_token": token, "title": "Kept", "body": "Unsaved words",
                                         "entry_id": entry.id})
    db.session.expire_all()
    entry = entries_in_db()[0]
    assert services.entry_content(entry).body == "Saved words"
    assert services.unsaved_changes(entry).content.body == "Unsaved words"
    page = client.get(f"/diary/entries/{entry.id}/edit").get_data(as_text=True)
    assert "Unsaved words" in page and "We kept the changes you were making" in page
    client.post(f"/diary/entries/{entry.id}/edit", data={"csrf_token": token, "action": "discard", "body": "x"})
    db.session.expire_all()
    assert entries_in_db()[0].draft_sealed is None


def test_an_autosave_matching_the_saved_entry_leaves_no_unsaved_changes(login_as):
    client = login_as("trainee")
    write(client, title="Same", body="Same words", entry_date="2026-03-05")
    entry = entries_in_db()[0]
    response = client.post("/diary/autosave", data={"csrf_token": csrf_token(client, "/diary/new"), "title": "Same",
                                                    "body": "Same words", "entry_date": "2026-03-05",
                                                    "entry_id": entry.id})
    assert response.status_code == 200 and "Nothing has changed" in response.get_json()["message"]
    db.session.expire_all()
    assert entries_in_db()[0].draft_sealed is None


def test_autosave_refuses_an_entry_over_the_limit(login_as):
    client = login_as("trainee")
    response = client.post("/diary/autosave", data={"csrf_token": csrf_token(client, "/diary/new"),
                                                    "body": "x" * 50_001, "entry_id": ""})
    assert response.status_code == 400 and "50,000" in response.get_json()["error"]
    assert entries_in_db() == []


def test_check_my_language_without_javascript(login_as):
    client = login_as("trainee")
    response = write(client, action="check", title="T", body="He committed suicide last year.")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "died by suicide" in page and "He committed suicide last year." in page
    assert entries_in_db() == []  # checking never saves


def test_the_wellbeing_check_in_can_be_switched_off(login_as):
    client = login_as("trainee")
    assert "How are you feeling?" in client.get("/diary/new").get_data(as_text=True)
    client.post("/diary/settings", data={"csrf_token": csrf_token(client, "/diary/settings")})
    assert db.session.get(DiarySettings, trainee1().id).mood_check_in is False
    assert "How are you feeling?" not in client.get("/diary/new").get_data(as_text=True)
    write(client, title="No mood", body="Words", mood="2")
    assert services.entry_content(entries_in_db()[0]).mood is None


def test_search_and_tag_filter_only_the_trainees_own_entries(login_as):
    client = login_as("trainee")
    write(client, title="About boundaries", body="Saying no kindly.", tags="boundaries")
    write(client, title="About listening", body="Silence is fine.", tags="listening")
    token = csrf_token(client, "/diary")
    by_tag = client.post("/diary", data={"tag": "boundaries", "csrf_token": token}).get_data(as_text=True)
    assert "About boundaries" in by_tag and "About listening" not in by_tag
    by_words = client.post("/diary", data={"q": "silence", "csrf_token": token}).get_data(as_text=True)
    assert "About listening" in by_words and "About boundaries" not in by_words
    # The words searched for never go in an address (servers and proxies log addresses).
    assert 'method="post" action="/diary"' in client.get("/diary").get_data(as_text=True)
    assert "About boundaries" in client.get("/diary?q=silence").get_data(as_text=True)  # ignored in a URL
    assert client.post("/diary", data={"q": "silence"}).status_code == 400  # no token, no search


def test_deleting_an_entry_removes_its_history(login_as):
    client = login_as("trainee")
    write(client, title="Gone", body="Soon gone")
    entry = entries_in_db()[0]
    assert "Delete “Gone”?" in client.get(f"/diary/entries/{entry.id}/delete").get_data(as_text=True)
    response = client.post(f"/diary/entries/{entry.id}/delete", data={"csrf_token": csrf_token(client, "/diary")})
    assert response.status_code == 302
    assert entries_in_db() == [] and db.session.execute(select(func.count(DiaryEntryVersion.id))).scalar_one() == 0


def test_what_a_trainee_writes_never_reaches_the_log(login_as, caplog):
    client = login_as("trainee")
    secret = "Zanzibar-confidential-feelings"
    with caplog.at_level(logging.DEBUG):
        write(client, title=f"Title {secret}", body=f"Body {secret}")
        entry = entries_in_db()[0]
        client.get(f"/diary/entries/{entry.id}")
        client.post("/diary/autosave", data={"csrf_token": csrf_token(client, "/diary/new"),
                                             "body": f"More {secret}", "entry_id": entry.id})
        write(client, action="save", path=f"/diary/entries/{entry.id}/edit", body="x" * 50_001 + secret)
        client.post("/language/check", json={"text": f"{secret} committed suicide"},
                    headers={"X-CSRFToken": csrf_token(client, "/diary/new")})
    assert caplog.records  # the requests were logged at all
    assert secret not in caplog.text


def test_navigation_shows_diary_links_by_role(app, login_as):
    from tests.conftest import sign_in

    trainee = login_as("trainee").get("/home").get_data(as_text=True)
    assert ">My diary<" in trainee and ">Wellness plan<" in trainee and ">Language practice<" in trainee
    assert ">Shared with me<" not in trainee
    for email in ("academic1@example.org", "supervisor1@example.org", "tutor1@example.org"):
        client = app.test_client()
        sign_in(client, email)
        page = client.get("/home").get_data(as_text=True)
        assert ">My diary<" not in page and ">Language practice<" in page
        assert (">Shared with me<" in page) == (not email.startswith("tutor"))


def test_the_diary_list_makes_a_bounded_number_of_queries(login_as, count_queries):
    client = login_as("trainee")
    write(client, title="One", body="One", tags="a")
    with count_queries() as few:
        assert client.get("/diary").status_code == 200
    for number in range(15):
        write(client, title=f"Entry {number}", body="Words", tags=f"t{number}")
    with count_queries() as many:
        assert client.get("/diary").status_code == 200
    assert len(many) == len(few)
