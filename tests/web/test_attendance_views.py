"""Who sees which attendance, the cohort grid (sorting, CSV, bounded queries), catch-ups, and the demo."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta, timezone

import pytest
from markupsafe import escape
from sqlalchemy import func, insert, select

from lms.accounts.models import RoleGrant, User
from lms.attendance import demo as attendance_demo
from lms.attendance.models import AttendanceAlert, CatchUp, Register, RegisterMark
from lms.audit.models import AuditEvent
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.extensions import db
from lms.notify.models import Notification
from tests.conftest import csrf_token, sign_in
from tests.web.test_attendance_register import cohort, day, user


@pytest.fixture
def seeded(demo, today):
    """The base demo plus the attendance demo."""
    attendance_demo.seed(today)
    db.session.commit()
    return demo


def enrolment_of(email: str, slug: str = "demo-running") -> Enrolment:
    return db.session.execute(select(Enrolment).where(
        Enrolment.trainee_id == user(email).id, Enrolment.cohort_id == cohort(slug).id)).scalar_one()


# --- the demo ------------------------------------------------------------------------


def test_the_demo_has_registers_a_mix_and_one_trainee_who_cannot_reach_the_threshold(seeded, today, runner):
    from lms.attendance.services import build_grid

    running = build_grid(cohort("demo-running"))
    by_email = {row.trainee.email: row for row in running.rows}
    past = [d for d in running.days if d.date < today]
    assert len(past) == 6
    assert db.session.execute(select(func.count(Register.id)).where(
        Register.course_day_id.in_([d.id for d in running.days]))).scalar_one() == 6
    unreachable = [email for email, row in by_email.items() if not row.figures.reachable]
    assert unreachable == ["trainee12@example.org"]
    statuses = {m.status for m in db.session.execute(select(RegisterMark)).scalars()}
    assert {"present", "late", "left_early", "absent", "authorised_absence"} <= statuses
    assert by_email["trainee7@example.org"].figures.caught_up_counted == 1
    # Staff were told about trainee12, once.
    assert db.session.get(AttendanceAlert, enrolment_of("trainee12").id) is not None
    assert db.session.execute(select(func.count(Notification.id)).where(
        Notification.subject.like("Attendance: Lee Murphy%"))).scalar_one() == 3

    finished = build_grid(cohort("demo-finished"))
    assert all(row.figures.remaining == 0 for row in finished.rows)
    assert all(row.figures.met for row in finished.rows)

    # Seeding again adds nothing.
    counts = (db.session.execute(select(func.count(RegisterMark.id))).scalar_one(),
              db.session.execute(select(func.count(CatchUp.id))).scalar_one(),
              db.session.execute(select(func.count(Notification.id))).scalar_one())
    assert attendance_demo.seed(today) == {"registers": 0, "catch-ups": 0}
    db.session.commit()
    assert counts == (db.session.execute(select(func.count(RegisterMark.id))).scalar_one(),
                      db.session.execute(select(func.count(CatchUp.id))).scalar_one(),
                      db.session.execute(select(func.count(Notification.id))).scalar_one())


# --- what each person sees -----------------------------------------------------------


def test_attendance_is_in_the_navigation_for_every_role(login_as):
    for role in ("trainee", "tutor", "academic_supervisor", "personal_supervisor", "admin"):
        client = login_as(role)
        page = client.get("/home").get_data(as_text=True)
        assert '<a href="/attendance"' in page, role
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})


def test_a_trainee_sees_their_own_attendance_across_all_eleven_days(seeded, login_as):
    page = login_as("trainee2@example.org").get("/attendance").get_data(as_text=True)
    assert "My attendance" in page
    assert page.count('<th scope="row">Day ') == 11
    assert "Day 3: Strengths spotting" in page
    assert "Late (15 minutes)" in page
    assert "6 of the 9 needed, out of 11 course days" in page
    assert "Not marked yet" in page  # the days to come
    assert "Your options from here" not in page


def test_the_trainee_who_can_no_longer_reach_it_sees_their_options(seeded, login_as):
    page = login_as("trainee12@example.org").get("/attendance").get_data(as_text=True)
    assert "Your options from here" in page
    # (This used to require "A catch-up" among the options: misleading, as no catch-up can help now.)
    assert "Deferring to another cohort" in page and "A catch-up" not in page
    assert "No: at most 8 now" in page


def test_staff_see_what_can_still_help_a_trainee_who_can_no_longer_reach_it(seeded, login_as):
    page = login_as("tutor").get(f"/attendance/cohorts/demo-running/trainees/{user('trainee12').id}"
                                 ).get_data(as_text=True)
    assert "can no longer reach the 9 days needed in this cohort</strong>, even if every catch-up" in page
    assert "Another catch-up will not change that." in page
    assert "Their options include a catch-up" not in page  # the old, misleading advice
    assert "deferring, or transferring to a later cohort" in page
    assert "their academic supervisor, Helen Marsh" in page and "mitigating circumstances to the exam board" in page


def test_a_trainee_cannot_see_anyone_elses_attendance(seeded, login_as):
    client = login_as("trainee")
    other = user("trainee2")
    assert client.get(f"/attendance/cohorts/demo-running/trainees/{other.id}").status_code == 403
    assert client.get("/attendance/cohorts/demo-running").status_code == 403


def test_the_academic_supervisor_sees_all_their_trainees(seeded, login_as):
    page = login_as("academic_supervisor").get("/attendance").get_data(as_text=True)
    assert "Trainees I supervise" in page
    for number in range(1, 21):
        assert escape(user(f"trainee{number}").display_name) in page
    assert "No: at most 8 now" in page


def test_the_personal_supervisor_sees_only_their_staff(seeded, login_as):
    client = login_as("personal_supervisor")  # Northshire: the odd-numbered trainees
    page = client.get("/attendance").get_data(as_text=True)
    assert "Amira Hassan" in page  # trainee1
    assert "Ben Carter" not in page  # trainee2, Harbour Mind
    mine = client.get(f"/attendance/cohorts/demo-running/trainees/{user('trainee1').id}")
    assert mine.status_code == 200 and "Days counted" in mine.get_data(as_text=True)
    assert "Arrange a catch-up" not in mine.get_data(as_text=True)  # not theirs to arrange
    assert client.get(f"/attendance/cohorts/demo-running/trainees/{user('trainee2').id}").status_code == 404


def test_a_tutor_sees_only_cohorts_they_teach(app, seeded):
    other = Cohort(slug="other-cohort", name="Another cohort", course_slug="peer-support-l4",
                   start_date=date(2026, 1, 5))
    db.session.add(other)
    db.session.commit()
    client = app.test_client()
    sign_in(client, "tutor1@example.org")
    assert client.get("/attendance/cohorts/other-cohort").status_code == 404
    assert client.get("/attendance/cohorts/other-cohort/attendance.csv").status_code == 404
    assert client.get("/attendance/cohorts/no-such-cohort").status_code == 404
    admin = app.test_client()
    sign_in(admin, "admin@example.org")
    assert admin.get("/attendance/cohorts/other-cohort").status_code == 200
    page = admin.get("/attendance").get_data(as_text=True)
    assert "All cohorts" in page and "Another cohort" in page


# --- the grid ------------------------------------------------------------------------


def test_the_grid_shows_statuses_as_words_and_symbols(seeded, login_as):
    page = login_as("tutor").get("/attendance/cohorts/demo-running").get_data(as_text=True)
    assert "<caption" in page and 'scope="col"' in page and 'scope="row"' in page
    assert '<span class="att-symbol" aria-hidden="true">✓</span> Present' in page
    assert "Late (15 minutes)" in page
    assert "Authorised absence, caught up" in page
    assert "Absent, catch-up arranged" in page
    assert "Caring responsibilities" not in page  # reasons stay off the grid
    assert "What the symbols mean" in page


def grid_names(client, query: str) -> list[str]:
    import re

    page = client.get("/attendance/cohorts/demo-running" + query).get_data(as_text=True)
    return re.findall(r'<th scope="row"><a href="/attendance/cohorts/demo-running/trainees/\d+">([^<]+)</a>', page)


def test_the_grid_sorts_by_name_counted_and_reachable(seeded, login_as):
    client = login_as("tutor")
    by_name = grid_names(client, "")
    assert by_name == sorted(by_name, key=str.casefold) and len(by_name) == 12
    assert grid_names(client, "?sort=name&order=desc") == list(reversed(by_name))
    counted = grid_names(client, "?sort=counted&order=desc")
    assert counted[-1] == "Lee Murphy"
    assert grid_names(client, "?sort=counted")[0] == "Lee Murphy"
    assert grid_names(client, "?sort=reachable")[0] == "Lee Murphy"  # needs attention first
    assert grid_names(client, "?sort=nonsense") == by_name
    page = client.get("/attendance/cohorts/demo-running?sort=counted&order=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in page


def test_the_grid_as_csv(seeded, login_as):
    response = login_as("tutor").get("/attendance/cohorts/demo-running/attendance.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header = rows[0]
    assert header[:2] == ["email", "name"]
    assert header[-4:] == ["counted", "missed", "remaining", "reachable"]
    assert len(header) == 2 + 11 + 4
    lee = next(row for row in rows if row[0] == "trainee12@example.org")
    assert lee[1] == "Lee Murphy"
    assert lee[2:8] == ["present", "absent", "absent", "authorised absence", "absent", "late (90 minutes)"]
    assert lee[8:13] == ["not marked yet"] * 5
    assert lee[-4:] == ["1", "5", "5", "no"]


def test_the_csv_is_safe_from_formula_injection(seeded, login_as, runner):
    person = user("trainee3")
    person.display_name = "=HYPERLINK(\"http://evil.example\",\"x\")"
    db.session.commit()
    text = login_as("tutor").get("/attendance/cohorts/demo-running/attendance.csv").get_data(as_text=True)
    row = next(r for r in csv.reader(io.StringIO(text)) if r[0] == "trainee3@example.org")
    assert row[1].startswith("'=")
    result = runner.invoke(args=["attendance", "export", "--cohort", "demo-running"])
    assert "'=HYPERLINK" in result.output


def test_lms_attendance_export_prints_the_csv(seeded, runner, login_as):
    result = runner.invoke(args=["attendance", "export", "--cohort", "demo-running"])
    assert result.exit_code == 0, result.output
    downloaded = login_as("tutor").get("/attendance/cohorts/demo-running/attendance.csv").get_data(as_text=True)
    assert result.output.splitlines() == downloaded.splitlines()
    rows = list(csv.reader(io.StringIO(result.output)))
    assert len(rows) == 13


def test_lms_attendance_export_for_an_unknown_cohort(app, runner):
    result = runner.invoke(args=["attendance", "export", "--cohort", "no-such-cohort"])
    assert result.exit_code == 1
    assert "There is no cohort with the slug 'no-such-cohort'" in result.output


def build_cohort(size: int, tutor: User) -> Cohort:
    """A running cohort of ``size`` trainees with six registers taken, inserted in bulk."""
    start = date.today() - timedelta(weeks=5, days=3)
    big = Cohort(slug=f"big-{size}", name=f"Big cohort of {size}", course_slug="peer-support-l4",
                 start_date=start, status="running", capacity=size)
    big.days = [CourseDay(number=n, date=start + timedelta(weeks=n - 1), starts_at=time(9, 30),
                          ends_at=time(16, 0), venue="Hall") for n in range(1, 12)]
    db.session.add(big)
    db.session.flush()
    db.session.add(RoleGrant(user_id=tutor.id, role="tutor", cohort_id=big.id))
    now = datetime.now(timezone.utc)
    ids = db.session.execute(insert(User).returning(User.id), [
        {"email": f"big{size}-{n}@example.org", "display_name": f"Trainee {n:03d}", "active": True,
         "created_at": now} for n in range(size)]).scalars().all()
    db.session.execute(insert(Enrolment), [
        {"cohort_id": big.id, "trainee_id": tid, "status": "active", "enrolled_at": now} for tid in ids])
    statuses = ["present", "late", "absent", "authorised_absence", "left_early", "present"]
    db.session.execute(insert(RegisterMark), [
        {"course_day_id": d.id, "trainee_id": tid, "status": statuses[(n + d.number) % 6],
         "minutes_missed": 20, "absence_reason": "", "note": "", "confirmed": True, "marked_at": now}
        for n, tid in enumerate(ids) for d in big.days[:6]])
    db.session.execute(insert(CatchUp), [
        {"course_day_id": big.days[2].id, "trainee_id": tid, "kind": "task", "on_date": date.today(),
         "venue": "", "note": "", "completed": True, "created_at": now} for tid in ids[::3]])
    db.session.commit()
    return big


def test_the_grid_makes_the_same_number_of_queries_for_20_and_200_trainees(login_as, count_queries):
    tutor_user = user("tutor1")
    small, large = build_cohort(20, tutor_user), build_cohort(200, tutor_user)
    client = login_as("tutor")
    counts = {}
    for big in (small, large):
        for path in (f"/attendance/cohorts/{big.slug}", f"/attendance/cohorts/{big.slug}/attendance.csv",
                     f"/attendance/cohorts/{big.slug}?sort=reachable",
                     f"/attendance/cohorts/{big.slug}/days/{big.days[3].id}/register"):
            with count_queries() as statements:
                response = client.get(path)
            assert response.status_code == 200
            counts.setdefault(path.replace(big.slug, "X").replace(str(big.days[3].id), "D"), []).append(
                len(statements))
    for path, (twenty, two_hundred) in counts.items():
        assert twenty == two_hundred, (path, twenty, two_hundred)
        assert twenty <= 15, (path, twenty)
    page = client.get(f"/attendance/cohorts/{large.slug}").get_data(as_text=True)
    assert page.count('<th scope="row">') == 200


# --- catch-ups -----------------------------------------------------------------------


def catch_up_url(email: str, number: int) -> str:
    return f"/attendance/cohorts/demo-running/trainees/{user(email).id}/days/{day(number).id}/catch-up"


def reflect(email: str, number: int) -> None:
    """The trainee writes a reflective diary entry about day `number` (a catch-up task needs one)."""
    from lms.diary.models import DiaryEntry
    from lms.diary.services import EntryContent, EntryFields, create_entry

    trainee = user(email)
    if db.session.execute(select(DiaryEntry.id).where(DiaryEntry.trainee_id == trainee.id,
                                                      DiaryEntry.day_number == number)).first() is None:
        create_entry(trainee, EntryFields(EntryContent(title="Catching up", body="My reflection."), date.today(),
                                          number), draft=False)
        db.session.commit()


def post_catch_up(client, email, number, **fields):
    if fields.get("kind", "task") == "task" and fields.get("completed", "done") == "done":
        reflect(email, number)  # these tests are about counting; tests/web/test_attendance_catch_up_task.py
        # shows a task is not done without the reflection
    url = catch_up_url(email, number)
    data = {"csrf_token": csrf_token(client, url), "kind": "task", "on_date": date.today().isoformat(),
            "completed": "done"}
    data.update(fields)
    return client.post(url, data=data)


def catch_ups():
    db.session.expire_all()
    return sorted(db.session.execute(select(CatchUp.trainee_id, CatchUp.course_day_id, CatchUp.kind,
                                            CatchUp.completed)).all())


def test_a_catch_up_for_a_day_the_trainee_attended_is_refused(seeded, login_as):
    client = login_as("tutor")
    before = catch_ups()
    response = post_catch_up(client, "trainee2", 2)  # late 15 minutes: the day counts
    assert response.status_code == 400
    assert "attended day 2 (marked late (15 minutes)), so there is nothing to catch up" in \
        response.get_data(as_text=True)
    assert post_catch_up(client, "trainee1", 1).status_code == 400  # present
    assert catch_ups() == before


def test_a_catch_up_for_a_day_not_held_yet_is_refused(seeded, login_as):
    client = login_as("tutor")
    before = catch_ups()
    response = post_catch_up(client, "trainee1", 8)
    assert response.status_code == 400 and "Take the register first" in response.get_data(as_text=True)
    assert catch_ups() == before


def test_confirming_a_catch_up_counts_it(seeded, login_as):
    client = login_as("tutor")
    # trainee12: five missed days; a confirmed catch-up brings one back, within the cap of 2.
    response = post_catch_up(client, "trainee12", 2, note="Units done, reflective entry written")
    assert response.status_code == 302
    page = client.get(f"/attendance/cohorts/demo-running/trainees/{user('trainee12').id}").get_data(as_text=True)
    assert "done, and counts" in page
    assert "2 of the 9 needed" in page
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "attendance.catch_up_added", AuditEvent.subject_user_id == user("trainee12").id)
    ).scalar_one()
    assert "Units done" in event.after


def test_a_catch_up_session_is_arranged_and_then_confirmed(seeded, login_as):
    client = login_as("tutor")
    future = (date.today() + timedelta(days=3)).isoformat()
    response = post_catch_up(client, "trainee12", 3, kind="session", on_date=future, starts_at="10:00",
                             ends_at="12:00", venue="Room 4", completed="arranged")
    assert response.status_code == 302
    saved = db.session.execute(select(CatchUp).where(CatchUp.trainee_id == user("trainee12").id)).scalar_one()
    assert (saved.kind, saved.starts_at, saved.venue, saved.completed) == ("session", time(10), "Room 4", False)
    # It can't be confirmed as done before its date.
    response = post_catch_up(client, "trainee12", 3, kind="session", on_date=future, starts_at="10:00",
                             ends_at="12:00", venue="Room 4", completed="done")
    assert response.status_code == 400 and "once its date has come" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CatchUp, saved.id).completed is False


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "party"}, "task or a session"),
    ({"on_date": ""}, "Enter the date of the catch-up"),
    ({"on_date": "31/02/2026"}, "as a real date"),
    ({"kind": "session", "completed": "arranged"}, "start and end times"),
    ({"kind": "session", "starts_at": "12:00", "ends_at": "10:00", "venue": "Room 1"}, "must end after it starts"),
    ({"kind": "session", "starts_at": "10:00", "ends_at": "12:00", "venue": " "}, "Enter where the session is"),
    ({"starts_at": "25:99"}, "start time as hours and minutes"),
])
def test_a_catch_up_that_cant_be_right_is_refused(seeded, login_as, fields, message):
    client = login_as("tutor")
    before = catch_ups()
    response = post_catch_up(client, "trainee12", 4, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert catch_ups() == before


def test_catch_ups_beyond_the_cap_do_not_count(seeded, login_as):
    client = login_as("tutor")
    for number in (2, 3, 5):
        assert post_catch_up(client, "trainee12", number).status_code == 302
    page = client.get(f"/attendance/cohorts/demo-running/trainees/{user('trainee12').id}").get_data(as_text=True)
    assert "3 of the 9 needed" in page  # 1 attended + 2 catch-ups
    assert "beyond the 2 that count" in page


def test_removing_a_catch_up(seeded, login_as):
    client = login_as("tutor")
    post_catch_up(client, "trainee12", 2)
    url = catch_up_url("trainee12", 2)
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "action": "remove"})
    assert response.status_code == 302
    assert db.session.execute(select(CatchUp).where(CatchUp.trainee_id == user("trainee12").id)).first() is None
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "attendance.catch_up_removed")).scalar_one() is not None


def test_a_catch_up_for_a_trainee_of_another_cohort_is_not_found(seeded, login_as):
    client = login_as("tutor")
    url = f"/attendance/cohorts/demo-running/trainees/{user('trainee13').id}/days/{day(2).id}/catch-up"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"csrf_token": csrf_token(client, "/home"), "kind": "task",
                                  "on_date": date.today().isoformat()}).status_code == 404
