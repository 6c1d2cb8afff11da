"""The demo: two organisations, two cohorts of the peer support course, and people.

Seeding is idempotent: running it again finds what exists and adds only what
is missing, so quickstart can run it on every start without losing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Organisation, User
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.extensions import db

DEMO_PASSWORD = "peer-support-demo"
COURSE_SLUG = "peer-support-l4"
DAYS = 11

ORGANISATIONS = [
    ("Northshire Mental Health NHS Foundation Trust", "employer", "peer.work@northshire.example.org"),
    ("Harbour Mind", "employer", "hello@harbourmind.example.org"),
    ("Recovery College Training Team", "provider", "training@recoverycollege.example.org"),
]
NORTHSHIRE, HARBOUR, PROVIDER = (name for name, _, _ in ORGANISATIONS)


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    pronouns: str | None = None
    organisation: str | None = None


STAFF = {
    "admin": Person("admin@example.org", "Morgan Ellis", "they/them", PROVIDER),
    "tutor1": Person("tutor1@example.org", "Priya Shah", "she/her", PROVIDER),
    "tutor2": Person("tutor2@example.org", "Dan Okafor", "he/him", PROVIDER),
    "academic1": Person("academic1@example.org", "Helen Marsh", "she/her", PROVIDER),
    "supervisor1": Person("supervisor1@example.org", "Gareth Pryce", "he/him", NORTHSHIRE),
    "supervisor2": Person("supervisor2@example.org", "Aisha Rahman", "she/her", HARBOUR),
}

RUNNING_TRAINEES = [
    ("Amira Hassan", "she/her"), ("Ben Carter", "he/him"), ("Chloe Nguyen", "she/her"),
    ("David Kowalski", "he/him"), ("Ella Brown", "she/her"), ("Farhan Ali", "he/him"),
    ("Grace O'Neill", "she/her"), ("Harry Evans", "he/him"), ("Isla Campbell", "she/her"),
    ("Jamal Williams", "he/him"), ("Kirsty Reid", "she/her"), ("Lee Murphy", "they/them"),
]
FINISHED_TRAINEES = [
    ("Maya Patel", "she/her"), ("Noah Thompson", "he/him"), ("Olivia Hughes", "she/her"),
    ("Patrick Doyle", "he/him"), ("Rosa Martins", "she/her"), ("Sam Taylor", "they/them"),
    ("Tomasz Nowak", "he/him"), ("Yasmin Begum", "she/her"),
]


def trainees() -> list[Person]:
    """trainee1..trainee12 in the running cohort, trainee13..20 in the finished one."""
    people = []
    for number, (name, pronouns) in enumerate(RUNNING_TRAINEES + FINISHED_TRAINEES, start=1):
        organisation = NORTHSHIRE if number % 2 else HARBOUR
        people.append(Person(f"trainee{number}@example.org", name, pronouns, organisation))
    return people


def schedule(first_day: date) -> list[date]:
    """Weekly course days from ``first_day``."""
    return [first_day + timedelta(weeks=week) for week in range(DAYS)]


def seed(today: date) -> dict[str, int]:
    """Create whatever part of the demo is missing. Returns counts of what was added."""
    added = {"organisations": 0, "people": 0, "cohorts": 0, "enrolments": 0}
    organisations = {}
    for name, kind, contact in ORGANISATIONS:
        organisation = db.session.execute(
            select(Organisation).where(Organisation.name == name)).scalar_one_or_none()
        if organisation is None:
            organisation = Organisation(name=name, kind=kind, contact_email=contact)
            db.session.add(organisation)
            added["organisations"] += 1
        organisations[name] = organisation
    db.session.flush()

    people: dict[str, User] = {}
    for person in list(STAFF.values()) + trainees():
        user = accounts.find_by_email(person.email)
        if user is None:
            user = accounts.create_user(person.email, person.name, DEMO_PASSWORD,
                                        organisations[person.organisation], person.pronouns)
            added["people"] += 1
        people[person.email] = user

    # demo-running: six course days held, five to come.
    running_start = today - timedelta(weeks=5, days=3)
    finished_start = today - timedelta(weeks=DAYS + 16)
    cohorts = {
        "demo-running": (f"Peer Support Worker Training – {running_start:%B %Y} (running)", running_start, "running",
                         [people[f"trainee{n}@example.org"] for n in range(1, 13)]),
        "demo-finished": (f"Peer Support Worker Training – {finished_start:%B %Y} (finished)", finished_start, "finished",
                          [people[f"trainee{n}@example.org"] for n in range(13, 21)]),
    }
    for slug, (name, start, status, enrolled) in cohorts.items():
        cohort = db.session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one_or_none()
        if cohort is None:
            cohort = Cohort(slug=slug, name=name, course_slug=COURSE_SLUG, start_date=start,
                            status=status, capacity=16)
            venue = "Community Room, Northshire Recovery College, 12 Mill Lane"
            cohort.days = [CourseDay(number=n, date=day, starts_at=time(9, 30), ends_at=time(16, 0), venue=venue)
                           for n, day in enumerate(schedule(start), start=1)]
            db.session.add(cohort)
            db.session.flush()
            added["cohorts"] += 1
        for key in ("tutor1", "tutor2"):
            grant = accounts.grant_role(people[STAFF[key].email], Role.TUTOR, cohort.id)
            if key == "tutor2":
                grant.peer_trainer = True  # co-production: Dan co-delivers from his own lived experience
        accounts.grant_role(people[STAFF["academic1"].email], Role.ACADEMIC_SUPERVISOR, cohort.id)
        for key in ("supervisor1", "supervisor2"):
            accounts.grant_role(people[STAFF[key].email], Role.PERSONAL_SUPERVISOR, cohort.id)
        existing = set(db.session.execute(
            select(Enrolment.trainee_id).where(Enrolment.cohort_id == cohort.id)).scalars())
        for trainee in enrolled:
            accounts.grant_role(trainee, Role.TRAINEE, cohort.id)
            if trainee.id in existing:
                continue
            supervisor_key = "supervisor1" if trainee.organisation.name == NORTHSHIRE else "supervisor2"
            db.session.add(Enrolment(
                cohort=cohort, trainee=trainee, academic_supervisor=people[STAFF["academic1"].email],
                personal_supervisor=people[STAFF[supervisor_key].email],
                status="completed" if status == "finished" else "active",
            ))
            added["enrolments"] += 1
    accounts.grant_role(people[STAFF["admin"].email], Role.ADMIN)
    db.session.flush()
    return added


def sign_ins() -> list[tuple[str, str]]:
    """(email, what they can try) for the quickstart banner."""
    return [
        ("admin@example.org", "admin: people, cohorts, exam board, certificates"),
        ("tutor1@example.org", "lead tutor of both demo cohorts"),
        ("tutor2@example.org", "co-facilitating tutor and peer trainer (co-delivers from lived experience)"),
        ("academic1@example.org", "academic supervisor"),
        ("supervisor1@example.org", "personal supervisor at Northshire"),
        ("supervisor2@example.org", "personal supervisor at Harbour Mind"),
        ("trainee1@example.org … trainee12@example.org", "trainees in demo-running"),
        ("trainee13@example.org … trainee20@example.org", "trainees in demo-finished"),
    ]
