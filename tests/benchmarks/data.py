"""Synthetic but realistic data at benchmark scale, inserted in bulk.

Full mode: 1,000 trainees in 40 cohorts, every one of the 11 registers of
every cohort taken, one accredited submission per trainee somewhere along
the marking chain (1,000), 50 diary entries per trainee (50,000) and 200
board posts per trainee (200,000). Quick mode asks for a tenth of the
trainees and cohorts, so every other figure is a tenth as well.

Rows go in with Core ``INSERT`` of many rows at a time (executemany), never
one ORM object at a time, but they are the rows the services would have
written: diary words are sealed with the deployment's data key exactly as
lms.diary.crypto does it (bound to their row id and owner), board posts are
put into the full-text index (FTS5 on SQLite, the GIN index on PostgreSQL),
thread counters agree with their posts, and assignments are set up by
lms.coursework.services.ensure_assignments from the course's assessments.

Shapes that the budgets name:
- one academic supervisor (``big_supervisor``) has a caseload of 500
  trainees across cohorts (in quick mode, all 100 trainees: the largest
  caseload quick mode has);
- the first cohort is the big one: 200 trainees (quick: 50), so its lead
  tutor's marking queue holds 200 scripts (quick: 50);
- the other cohorts share the remaining trainees.
"""

from __future__ import annotations

import json
import random
import types
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import func, insert, select, text

from lms.accounts import passwords
from lms.accounts.models import Organisation, RoleGrant, User
from lms.attendance.models import Register, RegisterMark
from lms.authz.roles import Role
from lms.boards import search
from lms.boards.models import AgreementAcceptance, Board, BoardMember, Post, Thread
from lms.boards.rules import AGREEMENT_VERSION
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.coursework import services as coursework
from lms.coursework.models import Assignment, Candidate, Mark, Submission
from lms.coursework.rules import band_for_mark, digest_of_text, rubric_mark, submission_digest
from lms.curriculum.models import CourseUnit, UnitProgress
from lms.database import utcnow
from lms.diary import crypto
from lms.diary.models import DiaryComment, DiaryEntry, DiaryEntryVersion, DiaryShare
from lms.extensions import db

PASSWORD = "benchmark-password"
COURSE = "peer-support-l4"
ACCREDITED = "accredited-assignment"
DIARY_PER_TRAINEE = 50
POSTS_PER_TRAINEE = 200
CHUNK = 5000

FIRST = ["Alex", "Sam", "Jo", "Priya", "Tom", "Aisha", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Hana",
         "Ivan", "Jade", "Kofi", "Lena", "Marek", "Nia", "Omar", "Paula", "Rhys", "Sofia", "Tariq", "Uma", "Will"]
LAST = ["Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fox", "Green", "Hughes", "Iqbal", "Jones", "Khan", "Lewis",
        "Morgan", "Nowak", "Owen", "Patel", "Quinn", "Roberts", "Smith", "Taylor", "Walsh", "Young"]

DIARY_TITLES = ["What I noticed today", "Listening without fixing", "A hard conversation", "Strengths I overlooked",
                "Boundaries at work", "Hope, and where it comes from", "My own wellness tools", "Supervision notes",
                "Sharing my story with purpose", "Something I want to try next"]
DIARY_SENTENCES = [
    "I noticed that I relaxed once other people started sharing, and nobody had to tell their whole story.",
    "When I stopped trying to solve the problem, the person I was supporting found her own next step.",
    "I used two of my wellness tools this week: a walk at lunchtime and texting my sister.",
    "It was hard to hear my partner name my strengths, and I want to understand why.",
    "Supervision helped me see that I was carrying someone else's worry home with me.",
    "I am learning to ask myself why I would share my experience before I share it.",
    "Today's session on recovery language made me rethink how I describe my own past.",
    "I felt nervous before the role play, then curious, then surprisingly calm.",
    "A small thing went well: I remembered to check in with myself before the shift.",
    "I want to bring this question to my academic supervisor: how do I stay mutual in a paid role?",
]
DIARY_TAGS = ["recovery", "boundaries", "strengths", "self-care", "work", "supervision", "listening", "hope"]
PROMPTS = ["What did you notice in yourself today?", "Which strength did you find hardest to accept?",
           "What would you do differently next time?", ""]

THREAD_TITLES = ["Reading for day {d}", "Questions about the assignment", "Placement experiences, week {d}",
                 "Self-care ideas that work for you", "Using recovery language at work", "Study group for day {d}",
                 "Boundaries when you know someone outside work", "Resources on peer support history",
                 "How are you finding the course so far?", "Tips for reflective writing"]
POST_SENTENCES = [
    "Thanks for sharing this, it really helped me think about my own practice.",
    "I found the **strengths exercise** useful too, especially naming what had helped before.",
    "Has anyone read the chapter on *recovery colleges*? I would love to talk about it.",
    "On my placement we use wellness plans a lot, and the trainee-led ones work best.",
    "I am still not sure where the line is between being a friend and being a peer worker.",
    "A tip that helped me: write the reflection first, then go back and add the theory.",
    "Our tutor said we only ever share what we choose to, and that stuck with me.",
    "I tried active listening with a colleague today and noticed how often I interrupt.",
    "Here is the link the tutor mentioned: [peer support principles](https://example.org/principles).",
    "- open questions\n- reflecting back\n- silence is fine\n\nThat list has kept me going this week.",
]
MARK_COMMENTS = ["Clear, accurate and well supported.", "Sound and relevant; add a little more depth.",
                 "Meets the outcome at a basic level; explain why as well as what.",
                 "Not yet enough here to meet the learning outcome."]
ESSAY = (
    "In this assignment I reflect on what I have learned about peer support and personal recovery, how I will "
    "use strengths-based and recovery-focused approaches in practice, and what I have learned about sharing my "
    "own experience safely and with purpose.\n\n"
    "Peer support is a relationship between people who share some experience of mental distress. It is mutual "
    "and reciprocal: both people learn. It is not about fixing someone; it is about walking alongside them while "
    "they find their own way.\n\n"
    "On day three we practised strengths spotting. At first I found it hard to notice strengths rather than "
    "problems, because services had trained me to describe myself by what was wrong.\n\n"
    "Sharing my experience is useful only when it serves the other person. Supervision has been important: when "
    "a conversation brought back difficult memories, I talked it through with my supervisor.\n"
)

# Where a script stands, and how often (the rest of the chain follows from the state).
STATES = [("submitted", 8), ("in_marking", 12), ("first_marked", 12), ("second_marking", 8),
          ("third_marking", 2), ("agreed", 18), ("ratified", 15), ("released", 25)]


@dataclass
class Built:
    """What was made, for choosing who signs in and which pages they visit (JSON-able)."""

    trainees: list[str] = field(default_factory=list)            # emails, in order
    trainee_cohort: list[str] = field(default_factory=list)      # each trainee's cohort slug, same order
    trainee_threads: list[int] = field(default_factory=list)     # a thread on each trainee's cohort board
    tutors: list[str] = field(default_factory=list)
    academic_supervisors: list[str] = field(default_factory=list)
    personal_supervisors: list[str] = field(default_factory=list)
    cohort_slugs: list[str] = field(default_factory=list)
    big_supervisor: str = ""          # the largest caseload (500 trainees; quick mode: every trainee)
    big_caseload: int = 0
    lead_tutor: str = ""              # lead tutor of the big cohort: sees its whole marking queue
    queue_assignment_id: int = 0      # the big cohort's accredited assignment
    queue_size: int = 0
    rows: dict = field(default_factory=dict)       # rows made per table
    seconds: float = 0.0


def _bulk(table, rows: list[dict]) -> int:
    """Insert rows with Core executemany, a chunk at a time."""
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(table.__table__), rows[start:start + CHUNK])
    return len(rows)


def _next_id(model) -> int:
    return (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1


def _at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.utc)


class _Sealer:
    """Seal values the way lms.diary.crypto.seal does, without an ORM object per row."""

    def __init__(self):
        self.keyring = crypto.keyring_for(current_app.config)
        crypto.ensure_canary(self.keyring)  # what the first real seal() of a deployment does

    def __call__(self, model, column: str, row_id: int, owner: int, content: dict) -> str:
        row = types.SimpleNamespace(__tablename__=model.__tablename__, __sealed_owner__=model.__sealed_owner__,
                                    id=row_id, **{model.__sealed_owner__: owner})
        plaintext = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
        return self.keyring.encrypt(plaintext, crypto.context_for(row, column))


def cohort_sizes(trainee_count: int, cohort_count: int) -> list[int]:
    """The big cohort first (200 trainees; quick: half of them), the rest shared out evenly."""
    big = min(200, trainee_count // 2)
    rest = trainee_count - big
    others = cohort_count - 1
    return [big] + [rest // others + (1 if n < rest % others else 0) for n in range(others)]


def build(trainee_count: int, cohort_count: int, today: date, seed: int = 7) -> Built:
    """Fill an empty, migrated database (with the course synced); returns what was made."""
    import time as clock

    started = clock.perf_counter()
    rng = random.Random(seed)
    built = Built()
    counts = built.rows
    password_hash = passwords.hash_password(PASSWORD)  # one hash, shared: hashing 1,000 would take a minute
    now = utcnow()

    # --- people -------------------------------------------------------------------------
    organisations = [Organisation(name=f"Bench Trust {n}", kind="employer") for n in range(4)]
    db.session.add_all(organisations)
    db.session.flush()

    def person(email, name, organisation):
        return {"email": email, "display_name": name, "password_hash": password_hash, "active": True,
                "organisation_id": organisation.id, "created_at": now}

    tutor_count = max(2, cohort_count // 2)
    academic_count = max(2, trainee_count // 500 + 1)
    rows = [person(f"bench.trainee{n}@example.org", f"{rng.choice(FIRST)} {rng.choice(LAST)}", organisations[n % 4])
            for n in range(trainee_count)]
    rows += [person(f"bench.tutor{n}@example.org", f"{rng.choice(FIRST)} {rng.choice(LAST)}", organisations[0])
             for n in range(tutor_count)]
    rows += [person(f"bench.academic{n}@example.org", f"Dr {rng.choice(FIRST)} {rng.choice(LAST)}",
                    organisations[0]) for n in range(academic_count)]
    rows += [person(f"bench.supervisor{n}@example.org", f"{rng.choice(FIRST)} {rng.choice(LAST)}", organisations[n])
             for n in range(4)]
    counts["users"] = _bulk(User, rows)
    ids = dict(db.session.execute(select(User.email, User.id)).all())
    trainee_ids = [ids[f"bench.trainee{n}@example.org"] for n in range(trainee_count)]
    tutor_ids = [ids[f"bench.tutor{n}@example.org"] for n in range(tutor_count)]
    academic_ids = [ids[f"bench.academic{n}@example.org"] for n in range(academic_count)]
    supervisor_ids = [ids[f"bench.supervisor{n}@example.org"] for n in range(4)]

    # --- cohorts: every course day held (all 11 registers taken), the assignment past due --
    sizes = cohort_sizes(trainee_count, cohort_count)
    cohorts = []
    for c in range(cohort_count):
        # 16-32 weeks ago: the last day (week 11) is past, and so is the due date 4 weeks later.
        start = today - timedelta(weeks=16 + (c * 7) % 17, days=rng.randint(0, 4))
        cohort = Cohort(slug=f"bench-{c}", name=f"Benchmark cohort {c}", course_slug=COURSE, start_date=start,
                        status="running", capacity=sizes[c] + 5)
        cohort.days = [CourseDay(number=d + 1, date=start + timedelta(weeks=d), starts_at=time(9, 30),
                                 ends_at=time(16, 0), venue="Room 1") for d in range(11)]
        cohorts.append(cohort)
    db.session.add_all(cohorts)
    db.session.flush()
    counts["cohorts"], counts["course_days"] = len(cohorts), 11 * len(cohorts)
    built.cohort_slugs = [cohort.slug for cohort in cohorts]

    members: list[list[int]] = [[] for _ in cohorts]   # trainee indexes per cohort
    cohort_of: list[int] = []
    n = 0
    for c, size in enumerate(sizes):
        for _ in range(size):
            members[c].append(n)
            cohort_of.append(c)
            n += 1

    # --- enrolments and roles ---------------------------------------------------------
    big_caseload = min(500, trainee_count)
    enrolment_rows, grants = [], []
    academic_of, personal_of = [], []
    for t in range(trainee_count):
        academic = academic_ids[0] if t < big_caseload else academic_ids[1 + t % (academic_count - 1)]
        personal = supervisor_ids[t % 4]
        academic_of.append(academic)
        personal_of.append(personal)
        cohort = cohorts[cohort_of[t]]
        enrolment_rows.append({"cohort_id": cohort.id, "trainee_id": trainee_ids[t], "academic_supervisor_id": academic,
                               "personal_supervisor_id": personal, "status": "active",
                               "enrolled_at": _at(cohort.start_date - timedelta(days=14))})
        grants.append({"user_id": trainee_ids[t], "role": Role.TRAINEE.value, "cohort_id": cohort.id,
                       "granted_at": now, "lead": False})
    tutors_of: list[list[int]] = []
    for c, cohort in enumerate(cohorts):
        lead, second = tutor_ids[c % tutor_count], tutor_ids[(c + 1) % tutor_count]
        tutors_of.append([lead, second])
        grants.append({"user_id": lead, "role": Role.TUTOR.value, "cohort_id": cohort.id, "granted_at": now,
                       "lead": True})
        grants.append({"user_id": second, "role": Role.TUTOR.value, "cohort_id": cohort.id, "granted_at": now,
                       "lead": False})
        for academic in academic_ids:
            grants.append({"user_id": academic, "role": Role.ACADEMIC_SUPERVISOR.value, "cohort_id": cohort.id,
                           "granted_at": now, "lead": False})
        for supervisor in supervisor_ids:
            grants.append({"user_id": supervisor, "role": Role.PERSONAL_SUPERVISOR.value, "cohort_id": cohort.id,
                           "granted_at": now, "lead": False})
    counts["enrolments"] = _bulk(Enrolment, enrolment_rows)
    counts["role_grants"] = _bulk(RoleGrant, grants)
    enrolment_of = dict(db.session.execute(select(Enrolment.trainee_id, Enrolment.id)).all())
    enrolment_ids = [enrolment_of[trainee_ids[t]] for t in range(trainee_count)]

    _registers(cohorts, members, trainee_ids, tutors_of, rng, counts)
    _unit_progress(cohorts, members, enrolment_ids, rng, counts)
    queue = _coursework(cohorts, members, enrolment_ids, tutors_of, academic_ids, rng, today, counts)
    _diary(cohorts, cohort_of, trainee_ids, academic_of, rng, today, counts)
    threads = _boards(cohorts, members, trainee_ids, tutors_of, rng, today, counts)
    db.session.commit()
    _fix_sequences()
    db.session.commit()
    _analyse()

    built.trainees = [f"bench.trainee{t}@example.org" for t in range(trainee_count)]
    built.trainee_cohort = [cohorts[cohort_of[t]].slug for t in range(trainee_count)]
    built.trainee_threads = [rng.choice(threads[cohort_of[t]]) for t in range(trainee_count)]
    built.tutors = [f"bench.tutor{n}@example.org" for n in range(tutor_count)]
    built.academic_supervisors = [f"bench.academic{n}@example.org" for n in range(academic_count)]
    built.personal_supervisors = [f"bench.supervisor{n}@example.org" for n in range(4)]
    built.big_supervisor, built.big_caseload = "bench.academic0@example.org", big_caseload
    built.lead_tutor = f"bench.tutor{0 % tutor_count}@example.org"
    built.queue_assignment_id, built.queue_size = queue
    built.seconds = round(clock.perf_counter() - started, 1)
    return built


def _registers(cohorts, members, trainee_ids, tutors_of, rng, counts) -> None:
    """Every course day's register taken, with a realistic spread of marks."""
    registers, marks = [], []
    for c, cohort in enumerate(cohorts):
        tutor = tutors_of[c][0]
        for day in cohort.days:
            taken = _at(day.date, 10)
            registers.append({"course_day_id": day.id, "taken_at": taken, "taken_by_id": tutor, "updated_at": taken,
                              "updated_by_id": tutor, "version": 1})
            for t in members[c]:
                roll = rng.random()
                status, missed, reason = ("present", 0, "")
                if roll > 0.97:
                    status, reason = "absent", ""
                elif roll > 0.94:
                    status, reason = "authorised_absence", "Hospital appointment"
                elif roll > 0.90:
                    status, missed = "late", rng.choice([10, 20, 45])
                elif roll > 0.88:
                    status, missed = "left_early", rng.choice([30, 60, 90])
                marks.append({"course_day_id": day.id, "trainee_id": trainee_ids[t], "status": status,
                              "minutes_missed": missed, "absence_reason": reason, "note": "", "checked_in_at": None,
                              "confirmed": True, "marked_at": taken, "marked_by_id": tutor})
    counts["attendance_registers"] = _bulk(Register, registers)
    counts["attendance_marks"] = _bulk(RegisterMark, marks)


def _unit_progress(cohorts, members, enrolment_ids, rng, counts) -> None:
    """Trainees have marked most units of the course done."""
    units = db.session.execute(select(CourseUnit.id, CourseUnit.day_number).where(
        CourseUnit.course_slug == COURSE, CourseUnit.archived_at.is_(None))).all()
    rows = []
    for c, cohort in enumerate(cohorts):
        dates = {day.number: day.date for day in cohort.days}
        for t in members[c]:
            for unit_id, day_number in units:
                if rng.random() < 0.85:
                    rows.append({"enrolment_id": enrolment_ids[t], "unit_id": unit_id,
                                 "completed_at": _at(dates.get(day_number, cohort.start_date), 15)})
    counts["unit_progress"] = _bulk(UnitProgress, rows)


def _criteria(rubric: list[dict], overall: int, rng) -> tuple[dict, int | None]:
    chosen, marks = {}, {}
    for criterion in rubric:
        mark = max(0, min(100, overall + rng.randint(-4, 4)))
        bands = [(b["low"], b["high"]) for b in criterion["bands"]]
        low, high = band_for_mark(bands, mark)
        chosen[criterion["id"]] = {"band": f"{low}-{high}", "mark": mark, "comment": rng.choice(MARK_COMMENTS)}
        marks[criterion["id"]] = mark
    weights = {criterion["id"]: criterion["weight"] for criterion in rubric}
    return chosen, rubric_mark(weights, marks) if rubric else None


def _coursework(cohorts, members, enrolment_ids, tutors_of, academic_ids, rng, today, counts) -> tuple[int, int]:
    """One accredited submission per trainee, spread along the marking chain; returns the big queue."""
    coursework.ensure_assignments([cohort.id for cohort in cohorts])
    db.session.flush()
    assignments = {a.cohort_id: a for a in db.session.execute(
        select(Assignment).where(Assignment.assessment_slug == ACCREDITED)).scalars()}
    candidates, number = [], 1000
    for c in range(len(cohorts)):
        for t in members[c]:
            candidates.append({"enrolment_id": enrolment_ids[t], "number": number + t})
    _bulk(Candidate, candidates)
    candidate_of = dict(db.session.execute(select(Candidate.enrolment_id, Candidate.id)).all())

    states = [state for state, weight in STATES for _ in range(weight)]
    submission_id, mark_id = _next_id(Submission), _next_id(Mark)
    submissions, marks = [], []
    words = len(ESSAY.split())
    for c, cohort in enumerate(cohorts):
        assignment = assignments[cohort.id]
        first_markers = tutors_of[c] + academic_ids[:1]
        for i, t in enumerate(members[c]):
            state = rng.choice(states)
            submitted = assignment.due_at - timedelta(days=rng.randint(0, 6), hours=rng.randint(0, 8))
            text_body = ESSAY + f"\nCandidate reflection {t}.\n"
            row = {"id": submission_id, "assignment_id": assignment.id, "enrolment_id": enrolment_ids[t],
                   "candidate_id": candidate_of[enrolment_ids[t]], "attempt": 1, "due_at": None, "cut_off_at": None,
                   "status": "submitted", "text": text_body, "text_saved_at": submitted, "declaration": True,
                   "submitted_at": submitted, "word_count": words, "text_digest": digest_of_text(text_body),
                   "digest": submission_digest(text_body, []), "deadline_applied": assignment.due_at,
                   "working_days_late": 0, "state": state, "first_marker_id": None, "second_marker_id": None,
                   "third_marker_id": None, "sampled": False, "first_mark": None, "second_mark": None,
                   "third_mark": None, "agreed_mark": None, "agreed_rationale": None, "agreed_by_id": None,
                   "agreed_at": None, "mark": None, "ratified_at": None, "released_at": None,
                   "created_at": submitted - timedelta(days=10), "updated_at": submitted, "version": 1}
            order = [s for s, _ in STATES]
            stage = order.index(state)
            if state != "submitted" or i % 2:
                row["first_marker_id"] = first_markers[i % len(first_markers)]
            overall = max(25, min(85, int(rng.gauss(58, 10))))
            marked_at = submitted + timedelta(days=7)
            if row["first_marker_id"] is not None and stage >= order.index("in_marking"):
                criteria, computed = _criteria(assignment.rubric, overall, rng)
                complete = stage >= order.index("first_marked")
                marks.append({"id": mark_id, "submission_id": submission_id, "stage": "first",
                              "marker_id": row["first_marker_id"], "criteria": criteria, "computed_mark": computed,
                              "mark": computed, "override_reason": None,
                              "feedback": "**What went well.** A thoughtful reflection.\n\n**Next steps.** Add sources.",
                              "feedback_file_id": None, "completed_at": marked_at if complete else None,
                              "updated_at": marked_at})
                mark_id += 1
                if complete:
                    row["first_mark"] = computed
            sampled = state in ("second_marking", "third_marking") or (
                stage >= order.index("agreed") and i % 5 == 0)
            if sampled and row["first_mark"] is not None:
                row["sampled"] = True
                row["second_marker_id"] = academic_ids[(i + 1) % len(academic_ids)]
                if state != "second_marking":
                    second = max(0, min(100, row["first_mark"] + (14 if state == "third_marking" else
                                                                  rng.randint(-5, 5))))
                    row["second_mark"] = second
                    marks.append({"id": mark_id, "submission_id": submission_id, "stage": "second",
                                  "marker_id": row["second_marker_id"], "criteria": {}, "computed_mark": None,
                                  "mark": second, "override_reason": None, "feedback": "Agree with the bands.",
                                  "feedback_file_id": None, "completed_at": marked_at + timedelta(days=3),
                                  "updated_at": marked_at + timedelta(days=3)})
                    mark_id += 1
                if state == "third_marking":
                    row["third_marker_id"] = tutors_of[(c + 1) % len(tutors_of)][0]
            if stage >= order.index("agreed"):
                row["agreed_mark"] = row["first_mark"]
                row["agreed_by_id"] = tutors_of[c][0]
                row["agreed_at"] = marked_at + timedelta(days=5)
                row["agreed_rationale"] = "First mark confirmed." if row["sampled"] else None
                row["mark"] = row["agreed_mark"]
            if stage >= order.index("ratified"):
                row["ratified_at"] = marked_at + timedelta(days=12)
            if stage >= order.index("released"):
                row["released_at"] = marked_at + timedelta(days=13)
            submissions.append(row)
            submission_id += 1
    counts["coursework_submissions"] = _bulk(Submission, submissions)
    counts["coursework_marks"] = _bulk(Mark, marks)
    return assignments[cohorts[0].id].id, len(members[0])


def _diary(cohorts, cohort_of, trainee_ids, academic_of, rng, today, counts) -> None:
    """Fifty saved entries per trainee, each with its first version; a few shared, some with a comment."""
    seal = _Sealer()
    entry_id, version_id = _next_id(DiaryEntry), _next_id(DiaryEntryVersion)
    comment_id = _next_id(DiaryComment)
    entries, versions, shares, comments = [], [], [], []
    for t, trainee in enumerate(trainee_ids):
        start = cohorts[cohort_of[t]].start_date
        span = max(1, (today - start).days)
        for k in range(DIARY_PER_TRAINEE):
            when = start + timedelta(days=(k * span) // DIARY_PER_TRAINEE)
            day_number = (when - start).days // 7 + 1 if (when - start).days % 7 == 0 and (when - start).days < 77 \
                else None
            content = {"title": rng.choice(DIARY_TITLES),
                       "body": "\n\n".join(rng.sample(DIARY_SENTENCES, 3)),
                       "prompt": rng.choice(PROMPTS), "tags": rng.sample(DIARY_TAGS, rng.randint(0, 3)),
                       "mood": rng.choice([None, 2, 3, 3, 4, 4, 5])}
            saved = _at(when, 20)
            entries.append({"id": entry_id, "trainee_id": trainee, "status": "saved", "entry_date": when,
                            "day_number": day_number, "draft_sealed": None, "draft_saved_at": None,
                            "created_at": saved, "saved_at": saved,
                            "sealed": seal(DiaryEntry, "sealed", entry_id, trainee, content)})
            snapshot = {"content": content, "entry_date": when.isoformat(), "day_number": day_number}
            versions.append({"id": version_id, "entry_id": entry_id, "trainee_id": trainee, "saved_at": saved,
                             "sealed": seal(DiaryEntryVersion, "sealed", version_id, trainee, snapshot)})
            version_id += 1
            if k % 12 == 3:
                shares.append({"entry_id": entry_id, "trainee_id": trainee, "supervisor_id": academic_of[t],
                               "relationship_to_trainee": "academic_supervisor", "shared_at": saved,
                               "withdrawn_at": None})
                if k % 24 == 3:
                    comments.append({"id": comment_id, "entry_id": entry_id, "trainee_id": trainee,
                                     "author_id": academic_of[t], "created_at": saved + timedelta(days=1),
                                     "sealed": seal(DiaryComment, "sealed", comment_id, trainee,
                                                    {"body": "Thank you for sharing this; a good insight."})})
                    comment_id += 1
            entry_id += 1
    counts["diary_entries"] = _bulk(DiaryEntry, entries)
    counts["diary_entry_versions"] = _bulk(DiaryEntryVersion, versions)
    counts["diary_shares"] = _bulk(DiaryShare, shares)
    counts["diary_comments"] = _bulk(DiaryComment, comments)


def _boards(cohorts, members, trainee_ids, tutors_of, rng, today, counts) -> list[list[int]]:
    """Each cohort's board (and the course board) with threads of varied length: 200 posts per trainee.

    Returns, per cohort, the ids of threads of one to two pages that trainees read.
    """
    boards = [Board(key=f"cohort:{cohort.id}", kind="cohort", name=cohort.name, cohort_id=cohort.id,
                    description="For the trainees and tutors of this cohort.") for cohort in cohorts]
    course_board = Board(key=f"course:{COURSE}", kind="course", name="Course community: trainees and alumni",
                         course_slug=COURSE, description="For everyone who is taking or has taken the course.")
    db.session.add_all([*boards, course_board])
    db.session.flush()
    thread_id, post_id = _next_id(Thread), _next_id(Post)
    threads, posts, readable = [], [], []
    everyone = [t for group in members for t in group]
    plan = [(boards[c], cohorts[c], members[c], tutors_of[c]) for c in range(len(cohorts))]
    plan.append((course_board, cohorts[-1], everyone, tutors_of[0]))
    for b, (board, cohort, people, tutors) in enumerate(plan):
        share = 0.1 if board is course_board else 0.9
        budget = int(POSTS_PER_TRAINEE * len(people) * share)
        start = _at(cohort.start_date, 9)
        span = max(60.0, (datetime.now(timezone.utc) - start).total_seconds())
        chosen = []
        while budget > 0:
            length = min(budget, max(1, int(rng.expovariate(1 / 25))))
            budget -= length
            authors = [trainee_ids[rng.choice(people)] for _ in range(length)]
            if rng.random() < 0.3:
                authors[rng.randrange(length)] = rng.choice(tutors)
            first_at = start + timedelta(seconds=rng.uniform(0, span * 0.9))
            first_post = post_id
            created = first_at
            for p in range(length):
                created = created + timedelta(minutes=rng.randint(5, 600))
                roll = rng.random()
                status = "hidden" if roll < 0.004 else "removed" if roll < 0.01 else "published"
                posts.append({"id": post_id, "thread_id": thread_id, "board_id": board.id, "author_id": authors[p],
                              "body": " ".join(rng.sample(POST_SENTENCES, rng.randint(1, 3))),
                              "content_note": None, "display_mode": "name", "pseudonym": None,
                              "quoted_post_id": rng.randrange(first_post, post_id) if p and rng.random() < 0.1
                              else None, "status": status, "created_at": created, "edited_at": None,
                              "approved_by_id": None, "approved_at": None,
                              "hidden_by_id": tutors[0] if status == "hidden" else None,
                              "hidden_at": created + timedelta(hours=2) if status == "hidden" else None,
                              "hidden_reason": "Shares someone else's details." if status == "hidden" else None,
                              "removed_at": created + timedelta(hours=1) if status == "removed" else None})
                post_id += 1
            threads.append({"id": thread_id, "board_id": board.id,
                            "title": rng.choice(THREAD_TITLES).format(d=rng.randint(1, 11)),
                            "author_id": authors[0], "author_display_mode": "name", "author_pseudonym": None,
                            "approved": True, "pinned": rng.random() < 0.01, "locked": False, "post_count": length,
                            "last_post_id": post_id - 1, "created_at": first_at, "last_post_at": created})
            if board is not course_board and 15 <= length <= 60:
                chosen.append(thread_id)
            thread_id += 1
        if board is not course_board:
            readable.append(chosen or [thread_id - 1])
    counts["board_threads"] = _bulk(Thread, threads)
    counts["board_posts"] = _bulk(Post, posts)
    posters = sorted({row["author_id"] for row in posts})
    _bulk(AgreementAcceptance, [{"user_id": u, "version": AGREEMENT_VERSION, "accepted_at": utcnow()}
                                for u in posters])
    _bulk(BoardMember, [{"board_id": course_board.id, "user_id": trainee_ids[t], "status": "member",
                         "invited_by_id": None, "created_at": utcnow()} for t in everyone[::3]])
    db.session.flush()
    search.rebuild_index()  # SQLite: the FTS5 table filled from the published posts; PostgreSQL: the GIN index
    return readable


def _analyse() -> None:
    """Tidy up after the bulk load as a deployment's database would be by then. PostgreSQL: VACUUM ANALYZE,
    which autovacuum would otherwise run a minute or so later, during the measurement, on two cores the server
    shares (and till then the planner has no statistics and plans for empty tables). SQLite: ANALYZE."""
    bind = db.session.get_bind()
    statement = "VACUUM ANALYZE" if bind.dialect.name == "postgresql" else "ANALYZE"
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(statement)


def _fix_sequences() -> None:
    """PostgreSQL: move each id sequence past the ids given explicitly above."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (Submission, Mark, DiaryEntry, DiaryEntryVersion, DiaryComment, Thread, Post):
        table = model.__tablename__
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
