"""The course delivered: trainees read days and mark units done, tutors see facilitator notes and
the cohort's progress, supervisors see outlines and their own trainees, and nobody else sees anything."""

from __future__ import annotations

import io
import re
from datetime import time, timedelta
from functools import cache
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from flask import Blueprint
from markupsafe import escape as html_escape
from sqlalchemy import insert, select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.authz.access import requires
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.content import load_course
from lms.curriculum import sync
from lms.curriculum.models import CourseUnit, UnitProgress
from lms.curriculum.services import units_done
from lms.extensions import db
from tests.conftest import csrf_token, sign_in

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "unit" / "data" / "broken_courses" / "valid" / "courses" / "mini-course"


@cache
def loaded(path: Path):
    course, problems = load_course(path)
    assert not problems
    return course


def real_course():
    return loaded(ROOT / "courses" / "peer-support-l4")


@pytest.fixture
def course(app, demo):
    """The demo with the real course synced into the database."""
    sync.sync_course(real_course())
    db.session.commit()
    return real_course()


def cohort(slug: str) -> Cohort:
    return db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one()


def enrolment_for(email: str, slug: str = "demo-running") -> Enrolment:
    return db.session.execute(select(Enrolment).join(User, User.id == Enrolment.trainee_id).join(Cohort)
                              .where(User.email == email, Cohort.slug == slug)).scalar_one()


def text_of(response) -> str:
    return response.get_data(as_text=True)


def facilitator_fragments(course) -> list[str]:
    """A distinctive phrase from every facilitator note, absent from all trainee text."""
    trainee_text = " ".join([day.intro_markdown for day in course.days]
                            + [unit.body_markdown + unit.title for unit in course.units])
    fragments = []
    notes = [day.intro_facilitator_markdown for day in course.days] + [u.facilitator_markdown for u in course.units]
    for text in notes:
        for candidate in re.findall(r"[A-Za-z][A-Za-z ,]{35,}[A-Za-z]", text):
            if candidate not in trainee_text:
                fragments.append(candidate)
                break
    return fragments


def mark(client, slug: str, unit_id: str, done: bool, day_number: int):
    token = csrf_token(client, f"/cohorts/{slug}/course/days/{day_number}")
    return client.post(f"/cohorts/{slug}/course/units/{unit_id}/done",
                       data={"csrf_token": token, "done": "1" if done else "0"})


# ---------------------------------------------------------------------------
# Trainees
# ---------------------------------------------------------------------------

def test_course_redirects_a_trainee_to_their_only_cohort(course, login_as):
    client = login_as("trainee")
    response = client.get("/course")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cohorts/demo-running/course")


def test_course_page_lists_the_days_with_dates_progress_and_today(course, login_as, today):
    day_five = cohort("demo-running").days[4]
    day_five.date = today
    db.session.commit()
    client = login_as("trainee")

    page = text_of(client.get("/cohorts/demo-running/course"))

    for day in course.days:
        assert f"Day {day.number}: {day.title}" in page.replace("&#39;", "'")
    today_item = re.search(r'<li class="course-day course-day--today" id="day-(\d+)">(.*?)</li>\s*<li', page, re.S)
    assert today_item and today_item.group(1) == "5"
    assert '<span class="tag tag--today">Today</span>' in today_item.group(2)
    assert "0 of 63</strong> units done" in page
    assert '<progress class="unit-progress__bar" max="63" value="0"' in page
    assert "the full material opens on the day" in page  # days to come are an outline


def test_day_page_shows_content_notes_first_then_units_and_prompts(course, login_as):
    client = login_as("trainee")
    day = course.day(6)

    page = text_of(client.get("/cohorts/demo-running/course/days/6"))

    note = page.index("Before you start: content note")
    first_unit = page.index(f'id="{day.units[0].id}"')
    assert note < page.index('id="material"') < first_unit
    assert 'href="/support"' in page[note:first_unit]
    assert 'href="#material">Continue to the day\'s material' in page
    for unit in day.units:
        assert f'id="{unit.id}--title"' in page
    assert page.count(">Mark as done</button>") == len(day.units)
    for prompt in day.prompts:
        assert f'href="/diary/new?day=6&amp;prompt={quote_plus(prompt).replace("&", "&amp;")}"' in page
    assert "0 of " + str(len(day.units)) + "</strong> units done" in page
    assert "Facilitator notes" not in page


def test_a_units_content_note_comes_before_its_material_with_ways_to_step_out(course, login_as):
    assert course.day(9).unit("safety-talking-about-suicide").content_note.startswith(
        "This session talks directly about suicide and self-harm")
    client = login_as("trainee")
    day = course.day(6)
    noted = [unit for unit in day.units if unit.content_note]
    assert noted and len(noted) < len(day.units)  # only the units with emotive material
    page = text_of(client.get("/cohorts/demo-running/course/days/6"))
    for unit in day.units:
        start = page.index(f'id="{unit.id}--title"')
        end = page.index("</section>", start)
        if unit.content_note:
            note = page.index(f'id="{unit.id}--content-note"', start)
            body = page.index("</aside>", note)
            # The unit's own material follows the note.
            assert start < note < body < page.index('<div class="prose">', body) < end, unit.id
            assert 'href="/support"' in page[note:body]
            following = day.units.index(unit) + 1
            target = f"#{day.units[following].id}" if following < len(day.units) else "#diary-prompts"
            assert f'href="{target}">skip to the next part of the day' in page[note:body], unit.id
            assert " ".join(unit.content_note.split()[:6]) in " ".join(page[note:body].split())
        else:
            assert "Content note for this unit" not in page[start:end], unit.id
    response = client.get("/cohorts/demo-running/course/days/6/handout.pdf")
    handout = " ".join(handout_text(response).split())
    assert " ".join(noted[0].content_note.split()[:8]) in handout


def test_tutors_read_a_units_content_note_aloud_from_the_today_view(course, login_as):
    client = login_as("tutor")
    page = text_of(client.get("/cohorts/demo-running/today"))  # the next day is day 7
    assert [u for u in course.day(7).units if u.content_note]
    assert "Content note to read aloud before this unit" in page


def test_course_links_between_days_point_to_the_cohorts_day_pages(course, login_as):
    client = login_as("trainee")
    page = text_of(client.get("/cohorts/demo-running/course/days/3"))
    assert 'href="/cohorts/demo-running/course/days/4#attending-and-open-questions"' in page
    assert "day:0" not in page


def test_marking_a_unit_done_changes_progress_and_can_be_undone(course, login_as):
    client = login_as("trainee")
    unit = course.day(2).units[0]

    response = mark(client, "demo-running", unit.id, True, 2)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cohorts/demo-running/course/days/2#{unit.id}")
    page = text_of(client.get("/cohorts/demo-running/course/days/2"))
    assert f"1 of {len(course.day(2).units)}</strong> units done" in page
    assert "Done ✓ — mark as not done" in page and "is marked as done" in page
    assert "1 of 63</strong> units done" in text_of(client.get("/cohorts/demo-running/course"))
    enrolment = enrolment_for("trainee1@example.org")
    assert units_done([enrolment.id]) == {enrolment.id: frozenset({unit.id})}

    assert mark(client, "demo-running", unit.id, True, 2).status_code == 302  # twice: still once
    assert len(units_done([enrolment.id])[enrolment.id]) == 1
    assert mark(client, "demo-running", unit.id, False, 2).status_code == 302
    assert units_done([enrolment.id])[enrolment.id] == frozenset()


def test_a_withdrawn_trainee_reads_the_day_but_cannot_mark_units(course, login_as):
    client = login_as("trainee")
    enrolment = enrolment_for("trainee1@example.org")
    enrolment.status = "withdrawn"
    db.session.commit()
    unit = course.day(2).units[0]
    page = text_of(client.get("/cohorts/demo-running/course/days/2"))
    assert unit.title in page and "Mark as done" not in page
    assert "Your place on this course is withdrawn just now" in page
    assert mark(client, "demo-running", unit.id, True, 2).status_code == 404
    assert db.session.execute(select(UnitProgress)).first() is None


def test_marking_is_refused_without_a_csrf_token(course, login_as):
    client = login_as("trainee")
    unit = course.day(2).units[0]
    response = client.post(f"/cohorts/demo-running/course/units/{unit.id}/done", data={"done": "1"})
    assert response.status_code == 400
    assert db.session.execute(select(UnitProgress)).first() is None


@pytest.mark.parametrize("slug, unit_id, why", [
    ("demo-running", "no-such-unit", "unknown unit"),
    ("demo-running", None, "a day not reached yet"),
    ("demo-finished", None, "another cohort"),
])
def test_marking_what_a_trainee_may_not_mark_is_not_found(course, login_as, slug, unit_id, why):
    client = login_as("trainee")
    token = csrf_token(client, "/cohorts/demo-running/course/days/1")
    unit_id = unit_id or course.day(10).units[0].id
    response = client.post(f"/cohorts/{slug}/course/units/{unit_id}/done", data={"csrf_token": token, "done": "1"})
    assert response.status_code == 404, why
    assert db.session.execute(select(UnitProgress)).first() is None


def test_a_day_not_yet_reached_is_an_outline(course, login_as):
    client = login_as("trainee")
    day = course.day(10)

    page = text_of(client.get("/cohorts/demo-running/course/days/10"))

    assert "The full material for this day opens on" in page
    for unit in day.units:
        assert unit.title.replace("'", "&#39;") in page
    assert "Mark as done" not in page and "handout" not in page
    assert "### Activities" not in page and "Activities</h3>" not in page
    assert client.get("/cohorts/demo-running/course/days/10/handout.pdf").status_code == 404


def test_other_cohorts_and_missing_days_are_not_found(course, login_as):
    client = login_as("trainee")
    assert client.get("/cohorts/demo-finished/course").status_code == 404
    assert client.get("/cohorts/demo-finished/course/days/1").status_code == 404
    assert client.get("/cohorts/no-such-cohort/course").status_code == 404
    assert client.get("/cohorts/demo-running/course/days/12").status_code == 404
    assert client.get("/cohorts/demo-running/course/progress").status_code == 403
    assert client.get("/cohorts/demo-running/today").status_code == 403


def test_a_course_not_loaded_yet_is_explained(app, demo, login_as):
    client = login_as("trainee")
    response = client.get("/cohorts/demo-running/course")
    assert response.status_code == 200 and "has not been loaded yet" in text_of(response)
    assert client.get("/cohorts/demo-running/course/days/1").status_code == 404


# ---------------------------------------------------------------------------
# Facilitator notes never reach trainees
# ---------------------------------------------------------------------------

def test_tutors_see_facilitator_notes_and_trainees_never_do(course, client):
    fragments = facilitator_fragments(course)
    assert len(fragments) > 50
    sign_in(client, "tutor1@example.org")
    tutor_pages = "".join(text_of(client.get(f"/cohorts/demo-running/course/days/{n}")) for n in range(1, 12))
    assert tutor_pages.count("Facilitator notes — tutors only") >= len(course.units)
    shown = [fragment for fragment in fragments if fragment in tutor_pages]
    assert len(shown) > len(fragments) * 0.9

    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    sign_in(client, "trainee13@example.org")  # finished cohort: every day is open in full
    trainee_pages = [text_of(client.get(f"/cohorts/demo-finished/course/days/{n}")) for n in range(1, 12)]
    trainee_pages.append(text_of(client.get("/cohorts/demo-finished/course")))
    everything = "".join(trainee_pages)
    assert "Facilitator notes" not in everything
    assert [fragment for fragment in fragments if fragment in everything] == []


def test_every_id_on_a_day_page_is_unique(course, login_as):
    client = login_as("tutor")
    for number in range(1, 12):
        ids = re.findall(r'\sid="([^"]+)"', text_of(client.get(f"/cohorts/demo-running/course/days/{number}")))
        duplicates = {found for found in ids if ids.count(found) > 1}
        assert not duplicates, (number, duplicates)


def a_word_only_in_facilitator_notes(course) -> str:
    trainee = " ".join([d.title + d.intro_markdown + " ".join(d.topics) for d in course.days]
                       + [u.title + u.body_markdown for u in course.units]).lower()
    notes = " ".join([d.intro_facilitator_markdown for d in course.days]
                     + [u.facilitator_markdown for u in course.units])
    words = sorted({w for w in re.findall(r"[a-z]{9,}", notes.lower()) if w not in trainee})
    assert words
    return words[0]


def test_search_finds_facilitator_notes_for_tutors_only(course, client):
    word = a_word_only_in_facilitator_notes(course)
    sign_in(client, "trainee13@example.org")
    page = text_of(client.get(f"/cohorts/demo-finished/course/search?q={word}"))
    assert f"No results for “{word}”" in page and "Facilitator notes" not in page

    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    sign_in(client, "tutor1@example.org")
    page = text_of(client.get(f"/cohorts/demo-finished/course/search?q={word.upper()}"))
    assert "Facilitator notes — tutors only" in page and "<mark>" in page


def test_search_gives_linked_results_with_excerpts(course, login_as):
    client = login_as("trainee")
    page = text_of(client.get("/cohorts/demo-running/course/search?q=Open+Questions"))
    assert 'href="/cohorts/demo-running/course/days/4#attending-and-open-questions"' in page
    assert re.search(r"<mark>open</mark> <mark>questions</mark>", page, re.I)
    assert "result" in page
    empty = client.get("/cohorts/demo-running/course/search")
    assert empty.status_code == 200 and "Words to look for" in text_of(empty) and "result" not in text_of(empty)


def test_search_of_days_to_come_stays_within_the_outline(course, login_as):
    client = login_as("trainee")
    day = course.day(10)
    unit = day.units[1]
    body_only = next(w for w in re.findall(r"[a-z]{8,}", unit.body_markdown.lower())
                     if w not in " ".join(u.body_markdown + u.title for d in course.days if d.number <= 6
                                          for u in d.units).lower()
                     and w not in " ".join(d.title + " ".join(d.topics) for d in course.days).lower()
                     and w not in unit.title.lower()
                     and w not in re.sub(r"(?s).*### Aims(.*?)###.*", r"\1", unit.body_markdown).lower()
                     and w not in " ".join(d.intro_markdown for d in course.days).lower())
    assert "No results" in text_of(client.get(f"/cohorts/demo-running/course/search?q={body_only}"))
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    sign_in(client, "tutor1@example.org")
    assert "No results" not in text_of(client.get(f"/cohorts/demo-running/course/search?q={body_only}"))


def handout_text(response) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def test_the_handout_is_a_tagged_pdf_attachment_without_facilitator_notes(app, demo, client, today):
    """A cohort on the small test course, whose facilitator notes all say TUTOR-ONLY."""
    mini = loaded(MINI)
    sync.sync_course(mini)
    small = Cohort(slug="mini-cohort", name="Mini cohort", course_slug="mini-course", start_date=today)
    small.days = [CourseDay(number=n, date=today - timedelta(days=3 - n), starts_at=time(9, 30),
                            ends_at=time(16), venue="Room 1") for n in (1, 2)]
    db.session.add(small)
    db.session.flush()
    tutor = accounts.find_by_email("tutor1@example.org")
    accounts.grant_role(tutor, Role.TUTOR, small.id)
    trainee = accounts.find_by_email("trainee2@example.org")
    accounts.grant_role(trainee, Role.TRAINEE, small.id)
    db.session.add(Enrolment(cohort=small, trainee=trainee))
    db.session.commit()

    sign_in(client, "tutor1@example.org")
    assert "TUTOR-ONLY-WELCOME" in text_of(client.get("/cohorts/mini-cohort/course/days/1"))
    tutor_handout = client.get("/cohorts/mini-cohort/course/days/1/handout.pdf")
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    sign_in(client, "trainee2@example.org")
    for url in ["/cohorts/mini-cohort/course", "/cohorts/mini-cohort/course/days/1",
                "/cohorts/mini-cohort/course/days/2", "/cohorts/mini-cohort/course/search?q=tutor"]:
        assert "TUTOR-ONLY" not in text_of(client.get(url)), url
    response = client.get("/cohorts/mini-cohort/course/days/1/handout.pdf")

    for pdf in (response, tutor_handout):
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        assert pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.headers["Content-Disposition"].startswith("attachment;")
        assert pdf.headers["Cache-Control"] == "no-store"
        text = handout_text(pdf)
        assert "Getting to know each other" in text and "What recovery means" in text
        assert "TUTOR-ONLY" not in text and "Facilitator" not in text
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.data))
    assert "/StructTreeRoot" in reader.trailer["/Root"] and "/Lang" in reader.trailer["/Root"]
    assert reader.metadata.title == "Day 1: Welcome to peer support – handout"


def test_the_real_handout_leaves_facilitator_notes_out(course, login_as):
    client = login_as("trainee")
    response = client.get("/cohorts/demo-running/course/days/6/handout.pdf")
    assert response.status_code == 200
    text = " ".join(handout_text(response).split())
    assert course.day(6).units[0].title in text
    assert "Facilitator notes" not in text and "Timing:" not in text


def test_the_handout_fetcher_serves_only_static_files(app, tmp_path):
    from lms.curriculum.handouts import static_only_fetcher

    fetcher = static_only_fetcher(app.static_folder)
    css = Path(app.static_folder, "css", "lms.css").resolve()
    assert fetcher.fetch(css.as_uri()).read().startswith(b"/*")
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    for url in [secret.as_uri(), "http://169.254.169.254/latest/meta-data", "https://example.org/x.css",
                Path(app.static_folder, "..", "pyproject.toml").resolve().as_uri()]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)


# ---------------------------------------------------------------------------
# Tutors and supervisors
# ---------------------------------------------------------------------------

def test_tutors_see_how_many_trainees_marked_each_unit(course, login_as):
    unit = course.day(1).units[0]
    for email in ("trainee1@example.org", "trainee2@example.org"):
        row = db.session.execute(select(CourseUnit).where(CourseUnit.unit_key == unit.id)).scalar_one()
        db.session.add(UnitProgress(enrolment_id=enrolment_for(email).id, unit_id=row.id))
    db.session.commit()
    client = login_as("tutor")
    page = text_of(client.get("/cohorts/demo-running/course/days/1"))
    assert "2 of 12 trainees have marked this unit done." in page
    assert "(2 of 12 marked done)" in text_of(client.get("/cohorts/demo-running/course"))


def test_the_today_view_shows_the_next_day_with_its_notes(course, login_as, today):
    client = login_as("tutor")
    page = text_of(client.get("/cohorts/demo-running/today"))
    next_day = course.day(7)
    assert f"Next course day: day 7, {next_day.title}" in page
    assert "Facilitator notes — tutors only" in page
    assert 'href="/cohorts/demo-running/course/days/7"' in page
    assert "Take the register" not in page or "attendance" in page

    cohort("demo-running").days[6].date = today
    db.session.commit()
    assert f"Today: day 7, {next_day.title}" in text_of(client.get("/cohorts/demo-running/today"))
    assert "All the course days of this cohort have been held" in text_of(client.get("/cohorts/demo-finished/today"))


def test_the_today_view_links_to_the_register_when_there_is_one(app, course):
    if "attendance.register" not in app.view_functions:
        if "attendance" in app.blueprints:
            pytest.skip("the attendance pages have no register endpoint")
        fake = Blueprint("attendance", __name__)

        @fake.route("/cohorts/<slug>/days/<int:number>/register")
        @requires(Role.TUTOR)
        def register(slug, number):
            return "register"

        app.register_blueprint(fake)
    client = app.test_client()
    sign_in(client, "tutor1@example.org")
    page = text_of(client.get("/cohorts/demo-running/today"))
    assert "Take the register" in page


def test_today_lists_the_cohorts_a_tutor_teaches(course, login_as):
    client = login_as("tutor")
    page = text_of(client.get("/today"))
    assert "/cohorts/demo-running/today" in page and "/cohorts/demo-finished/today" in page


def test_supervisors_see_outlines_and_only_their_own_trainees(course, login_as):
    enrolment = enrolment_for("trainee1@example.org")  # Northshire: supervisor1's trainee
    unit = db.session.execute(select(CourseUnit).where(CourseUnit.day_number == 1)).scalars().first()
    db.session.add(UnitProgress(enrolment_id=enrolment.id, unit_id=unit.id))
    db.session.commit()
    client = login_as("personal_supervisor")

    page = text_of(client.get("/cohorts/demo-running/course/progress"))

    assert "Amira Hassan" in page and "Ben Carter" not in page  # trainee2 is at Harbour Mind
    assert '<caption id="progress-caption">' in page
    assert '<th scope="col">Trainee</th>' in page and '<th scope="row">' in page
    assert "1 of 63" in page
    # Unit by unit: the one unit done shows as done, the others as not yet.
    assert "Amira Hassan: 1 of 63 units done" in page
    assert f"<li>{html_escape(unit.title)}: <strong>done ✓</strong></li>" in page
    assert page.count("<strong>done ✓</strong>") == 1 and "not yet</li>" in page
    day = text_of(client.get("/cohorts/demo-running/course/days/1"))
    assert "you see an outline" in day and "Mark as done" not in day and "Facilitator notes" not in day
    assert client.get("/cohorts/demo-running/course/days/1/handout.pdf").status_code == 404


def test_tutors_see_every_trainees_progress(course, login_as):
    page = text_of(login_as("tutor").get("/cohorts/demo-running/course/progress"))
    for name in ("Amira Hassan", "Ben Carter", "Lee Murphy"):
        assert name in page


def test_staff_of_other_cohorts_get_not_found(course, client, today):
    other = Cohort(slug="other", name="Other", course_slug="peer-support-l4", start_date=today)
    db.session.add(other)
    db.session.flush()
    outsider = accounts.create_user("outsider@example.org", "Sam Outsider", "peer-support-demo")
    accounts.grant_role(outsider, Role.TUTOR, other.id)
    accounts.grant_role(outsider, Role.ACADEMIC_SUPERVISOR, other.id)
    db.session.commit()
    sign_in(client, "outsider@example.org")
    for url in ["/cohorts/demo-running/course", "/cohorts/demo-running/course/days/1",
                "/cohorts/demo-running/course/search?q=listening", "/cohorts/demo-running/course/progress",
                "/cohorts/demo-running/today", "/cohorts/demo-running/course/days/1/handout.pdf"]:
        assert client.get(url).status_code == 404, url


# ---------------------------------------------------------------------------
# Bounded queries
# ---------------------------------------------------------------------------

def add_trainees(cohort_id: int, count: int, done_units: list[int]) -> None:
    """Bulk-insert ``count`` trainees into a cohort, each having marked ``done_units``."""
    start = db.session.execute(select(User.id).order_by(User.id.desc()).limit(1)).scalar_one() + 1
    db.session.execute(insert(User), [{"email": f"bulk{start + n}@example.org", "display_name": f"Bulk {n}"}
                                      for n in range(count)])
    ids = db.session.execute(select(User.id).where(User.email.like("bulk%@example.org"),
                                                   User.id >= start)).scalars().all()
    db.session.execute(insert(Enrolment), [{"cohort_id": cohort_id, "trainee_id": i, "status": "active"}
                                           for i in ids])
    enrolments = db.session.execute(select(Enrolment.id).where(Enrolment.trainee_id.in_(ids))).scalars().all()
    if done_units:
        db.session.execute(insert(UnitProgress), [{"enrolment_id": e, "unit_id": u}
                                                  for e in enrolments for u in done_units])
    db.session.commit()


def queries_for(client, count_queries, urls) -> list[int]:
    counts = []
    for url in urls:
        with count_queries() as statements:
            assert client.get(url).status_code == 200, url
        counts.append(len(statements))
    return counts


@pytest.mark.parametrize("email", ["trainee1@example.org", "tutor1@example.org", "supervisor1@example.org"])
def test_course_pages_make_the_same_number_of_queries_whatever_the_cohort_size(
        course, client, count_queries, email):
    running = cohort("demo-running")
    unit_ids = db.session.execute(select(CourseUnit.id).where(CourseUnit.day_number <= 3)).scalars().all()
    sign_in(client, email)
    urls = ["/cohorts/demo-running/course", "/cohorts/demo-running/course/days/2",
            "/cohorts/demo-running/course/search?q=listening"]
    if email != "trainee1@example.org":
        urls.append("/cohorts/demo-running/course/progress")
    if email == "tutor1@example.org":
        urls.append("/cohorts/demo-running/today")
    queries_for(client, count_queries, urls)  # warm: the course is parsed once per process

    small = queries_for(client, count_queries, urls)
    add_trainees(running.id, 5, unit_ids[:4])
    medium = queries_for(client, count_queries, urls)
    add_trainees(running.id, 60, unit_ids)
    large = queries_for(client, count_queries, urls)

    assert small == medium == large, (small, medium, large)
    assert max(large) <= 12, large


def test_course_pages_make_the_same_number_of_queries_whatever_the_number_of_units(
        course, client, count_queries, today):
    mini = loaded(MINI)
    sync.sync_course(mini)
    small = Cohort(slug="mini-cohort", name="Mini cohort", course_slug="mini-course", start_date=today)
    small.days = [CourseDay(number=n, date=today - timedelta(days=3 - n), starts_at=time(9, 30),
                            ends_at=time(16), venue="Room 1") for n in (1, 2)]
    db.session.add(small)
    db.session.flush()
    trainee = accounts.find_by_email("trainee1@example.org")
    accounts.grant_role(trainee, Role.TRAINEE, small.id)
    db.session.add(Enrolment(cohort=small, trainee=trainee))
    db.session.commit()
    sign_in(client, "trainee1@example.org")
    urls = {slug: [f"/cohorts/{slug}/course", f"/cohorts/{slug}/course/days/2"]
            for slug in ("mini-cohort", "demo-running")}
    queries_for(client, count_queries, urls["mini-cohort"] + urls["demo-running"])

    assert queries_for(client, count_queries, urls["mini-cohort"]) == \
        queries_for(client, count_queries, urls["demo-running"])
    assert len(mini.units) < len(real_course().units)
