"""The attendance part of the demo: registers taken for the days already held.

demo-running has its six past registers taken with a realistic mix (lateness,
leaving early, an authorised absence made up by a catch-up task, a catch-up
session arranged) and one trainee, trainee12, who can no longer reach the
threshold. demo-finished has all eleven registers taken, and everyone meets
the threshold. Idempotent: a register or catch-up already there is left alone.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from lms.accounts.services import find_by_email
from lms.attendance import services
from lms.attendance.models import AttendanceSettings, CatchUp, Register
from lms.cohorts.models import Cohort, Enrolment
from lms.database import utcnow
from lms.extensions import db

DEMO_ORDER = 20
TUTOR = "tutor1@example.org"
VENUE = "Meeting Room 2, Northshire Recovery College, 12 Mill Lane"

# (trainee number, day number) -> (status, minutes, reason, note); everyone else is present.
RUNNING_MARKS = {
    (2, 2): ("late", "15", "", "Bus delays"),
    (4, 5): ("left_early", "30", "", "Left for a shift at work"),
    (7, 3): ("authorised_absence", "", "Caring responsibilities", ""),
    (9, 5): ("absent", "", "", ""),
    (10, 6): ("late", "20", "", ""),
    (12, 2): ("absent", "", "", ""),
    (12, 3): ("absent", "", "", ""),
    (12, 4): ("authorised_absence", "", "Family commitment", ""),
    (12, 5): ("absent", "", "", ""),
    (12, 6): ("late", "90", "", "Arrived after lunch"),
}
FINISHED_MARKS = {
    (15, 4): ("authorised_absence", "", "Family commitment", ""),
    (16, 8): ("left_early", "45", "", ""),
    (18, 2): ("late", "20", "", ""),
    (20, 6): ("absent", "", "", ""),
    (20, 9): ("absent", "", "", ""),
}


def _take_registers(tutor, cohort: Cohort, marks: dict, held: list) -> int:
    enrolments = db.session.execute(select(Enrolment).where(Enrolment.cohort_id == cohort.id)).scalars().all()
    number_of = {e.trainee_id: int(e.trainee.email.removeprefix("trainee").split("@")[0]) for e in enrolments}
    taken = set(db.session.execute(select(Register.course_day_id).where(
        Register.course_day_id.in_([day.id for day in held]))).scalars())
    added = 0
    for day in held:
        if day.id in taken:
            continue
        submitted = {}
        for trainee_id, number in number_of.items():
            status, minutes, reason, note = marks.get((number, day.number), ("present", "", "", ""))
            submitted[trainee_id] = {"status": status, "minutes": minutes, "absence_reason": reason, "note": note}
        # Taken on the day, in the afternoon.
        services.save_register(tutor, cohort, day, submitted, 0, "", services.day_start(day) + timedelta(hours=5))
        added += 1
    return added


def _catch_up(tutor, cohort: Cohort, email: str, day_number: int, values: services.CatchUpValues) -> int:
    trainee = find_by_email(email)
    day = next((d for d in cohort.days if d.number == day_number), None)
    if trainee is None or day is None:
        return 0
    exists = db.session.execute(select(CatchUp.id).where(
        CatchUp.trainee_id == trainee.id, CatchUp.course_day_id == day.id)).scalar_one_or_none()
    if exists is not None:
        return 0
    services.save_catch_up(tutor, cohort, trainee.id, day, values, utcnow())
    return 1


def _units_done(cohort: Cohort, email: str, day_number: int, today: date) -> None:
    """The trainee marks every unit of a held day done (through the curriculum), as a catch-up task needs."""
    from lms.curriculum.services import set_unit_done, unit_rows

    trainee = find_by_email(email)
    if trainee is None:
        return
    for row in unit_rows(cohort.course_slug).values():
        if row.day_number == day_number:
            set_unit_done(trainee, cohort.slug, row.unit_key, True, today)


def _reflection(email: str, day_number: int, on: date) -> None:
    """The trainee's reflective diary entry about a missed day (a catch-up task needs one), if none yet."""
    from lms.diary import services as diary
    from lms.diary.models import DiaryEntry

    trainee = find_by_email(email)
    if trainee is None or db.session.execute(select(DiaryEntry.id).where(
            DiaryEntry.trainee_id == trainee.id, DiaryEntry.day_number == day_number)).first() is not None:
        return
    diary.create_entry(trainee, diary.EntryFields(diary.EntryContent(
        title=f"Catching up on day {day_number}",
        body="I worked through the day's units on my own. The part about noticing strengths in someone's "
             "story stayed with me: I want to practise asking what got someone through a hard week."),
        on, day_number), draft=False)


def seed(today: date) -> dict[str, int]:
    """Take the demo cohorts' registers for the days already held, and add their catch-ups."""
    tutor = find_by_email(TUTOR)
    added = {"registers": 0, "catch-ups": 0}
    if tutor is None:
        return added
    cohorts = {c.slug: c for c in db.session.execute(
        select(Cohort).where(Cohort.slug.in_(["demo-running", "demo-finished"]))).scalars()}
    running, finished = cohorts.get("demo-running"), cohorts.get("demo-finished")
    if running is not None:
        if db.session.get(AttendanceSettings, running.id) is None:
            services.save_settings(tutor, running, True, 60)
        held = [day for day in running.days if day.date < today]
        added["registers"] += _take_registers(tutor, running, RUNNING_MARKS, held)
        day3 = next(d for d in running.days if d.number == 3)
        if day3.date < today:
            # trainee7 made up day 3 by a task: its units done and a reflective entry written, then confirmed.
            _units_done(running, "trainee7@example.org", 3, today)
            _reflection("trainee7@example.org", 3, min(day3.date + timedelta(days=4), today))
        added["catch-ups"] += _catch_up(tutor, running, "trainee7@example.org", 3, services.CatchUpValues(
            kind="task", on_date=min(day3.date + timedelta(days=5), today), completed=True,
            note="Completed the day's units and a reflective diary entry on its prompts."))
        added["catch-ups"] += _catch_up(tutor, running, "trainee9@example.org", 5, services.CatchUpValues(
            kind="session", on_date=today + timedelta(days=2), starts_at=time(10, 0), ends_at=time(12, 0),
            venue=VENUE, note="One-to-one catch-up on the day's role plays."))
    if finished is not None:
        added["registers"] += _take_registers(tutor, finished, FINISHED_MARKS,
                                              [day for day in finished.days if day.date < today])
        day4 = next(d for d in finished.days if d.number == 4)
        added["catch-ups"] += _catch_up(tutor, finished, "trainee15@example.org", 4, services.CatchUpValues(
            kind="session", on_date=day4.date + timedelta(days=7), starts_at=time(10, 0), ends_at=time(12, 0),
            venue=VENUE, completed=True, note="Caught up on the day's listening practice."))
    db.session.flush()
    return added
