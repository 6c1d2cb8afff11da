"""Synthetic but realistic data at benchmark scale, inserted in bulk.

Full mode: 1,000 trainees in 40 cohorts; quick mode: a tenth. Each domain's
data (registers, submissions, diary entries, board posts) is added by a
function here when that domain's tables exist.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from sqlalchemy import insert, select

from lms.accounts import passwords
from lms.accounts.models import Organisation, RoleGrant, User
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.database import utcnow
from lms.extensions import db

PASSWORD = "benchmark-password"
FIRST = ["Alex", "Sam", "Jo", "Priya", "Tom", "Aisha", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Hana",
         "Ivan", "Jade", "Kofi", "Lena", "Marek", "Nia", "Omar", "Paula", "Rhys", "Sofia", "Tariq", "Uma", "Will"]
LAST = ["Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fox", "Green", "Hughes", "Iqbal", "Jones", "Khan", "Lewis",
        "Morgan", "Nowak", "Owen", "Patel", "Quinn", "Roberts", "Smith", "Taylor", "Walsh", "Young"]


@dataclass
class Built:
    """What was made, for choosing who signs in and which pages they visit."""

    trainees: list[str] = field(default_factory=list)          # emails
    tutors: list[str] = field(default_factory=list)
    academic_supervisors: list[str] = field(default_factory=list)
    cohort_slugs: list[str] = field(default_factory=list)
    big_supervisor: str = ""                                    # supervises 500 trainees (or all in quick mode)


def build(trainee_count: int, cohort_count: int, today: date, seed: int = 7) -> Built:
    """Insert organisations, people, cohorts with 11 days, enrolments and roles."""
    rng = random.Random(seed)
    built = Built()
    password_hash = passwords.hash_password(PASSWORD)  # one hash, shared: hashing 1,000 would take a minute
    now = utcnow()
    organisations = [Organisation(name=f"Bench Trust {n}", kind="employer") for n in range(4)]
    db.session.add_all(organisations)
    db.session.flush()

    def person(email, name, organisation):
        return {"email": email, "display_name": name, "password_hash": password_hash, "active": True,
                "organisation_id": organisation.id, "created_at": now}

    rows = []
    for n in range(trainee_count):
        rows.append(person(f"bench.trainee{n}@example.org",
                           f"{rng.choice(FIRST)} {rng.choice(LAST)}", organisations[n % 4]))
    tutor_count = max(2, cohort_count // 2)
    for n in range(tutor_count):
        rows.append(person(f"bench.tutor{n}@example.org", f"Tutor {rng.choice(LAST)}", organisations[0]))
    academic_count = max(2, trainee_count // 500 + 1)
    for n in range(academic_count):
        rows.append(person(f"bench.academic{n}@example.org", f"Dr {rng.choice(LAST)}", organisations[0]))
    for n in range(4):
        rows.append(person(f"bench.supervisor{n}@example.org", f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                           organisations[n]))
    db.session.execute(insert(User), rows)
    ids = dict(db.session.execute(select(User.email, User.id)).all())

    cohorts = []
    per_cohort = trainee_count // cohort_count
    for c in range(cohort_count):
        start = today - timedelta(weeks=rng.randint(4, 30))
        cohort = Cohort(slug=f"bench-{c}", name=f"Benchmark cohort {c}", course_slug="peer-support-l4",
                        start_date=start, status="running", capacity=per_cohort + 5)
        cohort.days = [CourseDay(number=d + 1, date=start + timedelta(weeks=d), starts_at=time(9, 30),
                                 ends_at=time(16, 0), venue="Room 1") for d in range(11)]
        cohorts.append(cohort)
    db.session.add_all(cohorts)
    db.session.flush()
    built.cohort_slugs = [cohort.slug for cohort in cohorts]

    enrolments, grants = [], []
    big = f"bench.academic0@example.org"
    for n in range(trainee_count):
        cohort = cohorts[n % cohort_count]
        trainee = ids[f"bench.trainee{n}@example.org"]
        # The first academic supervisor carries 500 trainees (all of them in quick mode).
        academic = ids[big] if n < 500 else ids[f"bench.academic{1 + n % (academic_count - 1)}@example.org"]
        enrolments.append({"cohort_id": cohort.id, "trainee_id": trainee, "academic_supervisor_id": academic,
                           "personal_supervisor_id": ids[f"bench.supervisor{n % 4}@example.org"],
                           "status": "active", "enrolled_at": now})
        grants.append({"user_id": trainee, "role": Role.TRAINEE.value, "cohort_id": cohort.id, "granted_at": now})
    for c, cohort in enumerate(cohorts):
        tutor = ids[f"bench.tutor{c % tutor_count}@example.org"]
        grants.append({"user_id": tutor, "role": Role.TUTOR.value, "cohort_id": cohort.id, "granted_at": now})
        for a in range(academic_count):
            grants.append({"user_id": ids[f"bench.academic{a}@example.org"], "role": Role.ACADEMIC_SUPERVISOR.value,
                           "cohort_id": cohort.id, "granted_at": now})
        for s in range(4):
            grants.append({"user_id": ids[f"bench.supervisor{s}@example.org"], "role": Role.PERSONAL_SUPERVISOR.value,
                           "cohort_id": cohort.id, "granted_at": now})
    db.session.execute(insert(Enrolment), enrolments)
    db.session.execute(insert(RoleGrant), grants)
    db.session.commit()
    built.trainees = [f"bench.trainee{n}@example.org" for n in range(trainee_count)]
    built.tutors = [f"bench.tutor{n}@example.org" for n in range(tutor_count)]
    built.academic_supervisors = [f"bench.academic{n}@example.org" for n in range(academic_count)]
    built.big_supervisor = big
    return built
