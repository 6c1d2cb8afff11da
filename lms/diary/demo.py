"""Demo diary entries and a wellness plan for trainee1 (Amira Hassan).

One entry is shared with her academic supervisor, who has commented; her
wellness plan is shared with her personal supervisor. Idempotent: nothing is
added for a trainee who already has entries or a plan.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from lms.accounts.services import find_by_email
from lms.cohorts.models import Enrolment
from lms.diary import services
from lms.diary.crypto import seal
from lms.diary.models import DiaryComment, DiaryEntry, DiaryShare, WellnessPlan
from lms.diary.policies import ACADEMIC
from lms.database import utcnow
from lms.extensions import db

DEMO_ORDER = 40
TRAINEE = "trainee1@example.org"

ENTRIES = [
    {
        "weeks": 0, "day": 1, "shared": True,
        "title": "Finding my feet on day one",
        "prompt": "What did you notice in yourself today as you thought about your own experience of recovery?",
        "tags": ("day 1", "recovery", "nerves"),
        "mood": 3,
        "body": (
            "I nearly didn't come in this morning. Walking into a room of people I didn't know, knowing we would "
            "be talking about our own experiences, brought back how I felt the first time I went to a support "
            "group.\n\n"
            "What I noticed was that I relaxed once people started sharing. Nobody had to tell their whole "
            "story. Priya said we only ever share what we choose to, and that helped.\n\n"
            "I think my own recovery started when someone treated me as the expert on my own life. I want to "
            "be able to do that for other people, without making it about me."
        ),
        "comment": (
            "Thank you for sharing this, Amira. Noticing how you relaxed once people began to share is a real "
            "insight into what makes peer support safe. Your last paragraph would make a strong starting point "
            "for your assignment reflection."
        ),
    },
    {
        "weeks": 2, "day": 3, "shared": False,
        "title": "Strengths I find hard to own",
        "prompt": "Which of your own strengths did you find hardest to accept today, and why might that be?",
        "tags": ("day 3", "strengths"),
        "mood": 4,
        "body": (
            "In the strengths exercise my partner said I was a good listener and that I noticed when she went "
            "quiet. I laughed it off.\n\n"
            "I think it's hard to accept because for years my listening came from being on edge, watching "
            "everyone's mood. Today I started to see it could be a strength I choose to use, not only something "
            "I learned to get by."
        ),
    },
    {
        "weeks": 5, "day": None, "shared": False,
        "title": "A tough week at work",
        "prompt": "",
        "tags": ("work", "self-care"),
        "mood": 2,
        "body": (
            "A hard week on the ward. I didn't sleep well and I noticed I was pulling away from people, which is "
            "one of my early warning signs.\n\n"
            "I used two of my wellness tools: a walk at lunchtime and texting my sister. I'm going to talk to "
            "Gareth in supervision about my shift pattern."
        ),
    },
]

PLAN = {
    "well": "Chatty and curious. I get up at a regular time, cook properly and look forward to seeing friends.",
    "daily_tools": "- A walk, even a short one\n- Eating breakfast\n- Ten minutes of music with no phone\n"
                   "- Texting my sister most days",
    "triggers": "Being talked over in meetings: I can ask to finish my point, or follow up in writing.\n"
                "Anniversaries in March: I plan something kind for myself and let my team know I might be quieter.",
    "early_warning": "Sleeping badly, skipping meals, not replying to messages. When I notice two of these I book "
                     "time with my supervisor and cut back on extra shifts.",
    "breaking_down": "Staying in bed, not answering the phone, feeling that nothing will change. I would like my "
                     "sister to come round and my GP to be told.",
    "crisis_people": "My sister Leila (she has the number), my GP surgery, and my care coordinator if I have one.",
    "crisis_helps": "Someone sitting with me, calm voices, being asked what I need, a cup of tea.",
    "crisis_does_not_help": "Being told to cheer up, lots of questions at once, people talking about me "
                            "instead of to me.",
    "after_crisis": "A gradual return to work with shorter shifts at first, and a check-in with Gareth each week.",
}


def seed(today: date) -> dict[str, int] | None:
    """Add trainee1's demo entries and wellness plan if she has none yet."""
    trainee = find_by_email(TRAINEE)
    if trainee is None:
        return None
    enrolment = db.session.execute(
        select(Enrolment).where(Enrolment.trainee_id == trainee.id).order_by(Enrolment.id)).scalars().first()
    if enrolment is None:
        return None
    start = enrolment.cohort.start_date if enrolment.cohort else today
    added = {"diary entries": 0, "wellness plans": 0}
    if db.session.execute(select(DiaryEntry.id).where(DiaryEntry.trainee_id == trainee.id)).first() is None:
        for item in ENTRIES:
            entry_date = min(start + timedelta(weeks=item["weeks"]), today)
            content = services.EntryContent(title=item["title"], body=item["body"], prompt=item["prompt"],
                                            tags=item["tags"], mood=item["mood"])
            entry = services.create_entry(trainee, services.EntryFields(content, entry_date, item["day"]),
                                          draft=False)
            added["diary entries"] += 1
            if item["shared"] and enrolment.academic_supervisor_id:
                shared_at = min(_evening(entry_date), utcnow())
                db.session.add(DiaryShare(entry_id=entry.id, trainee_id=trainee.id,
                                          supervisor_id=enrolment.academic_supervisor_id,
                                          relationship_to_trainee=ACADEMIC, shared_at=shared_at))
                comment = DiaryComment(entry_id=entry.id, trainee_id=trainee.id,
                                       author_id=enrolment.academic_supervisor_id,
                                       created_at=min(shared_at + timedelta(days=1), utcnow()))
                db.session.add(comment)
                seal(comment, {"body": item["comment"]})
    if db.session.execute(select(WellnessPlan.id).where(WellnessPlan.trainee_id == trainee.id)).first() is None:
        services.save_plan(trainee, PLAN)
        plan = services.own_plan(trainee)
        if enrolment.personal_supervisor_id:
            plan.shared_with_id = enrolment.personal_supervisor_id
            plan.shared_at = min(_evening(start + timedelta(weeks=6)), utcnow())
        added["wellness plans"] += 1
    db.session.flush()
    return added


def _evening(day: date) -> datetime:
    return datetime.combine(day, time(19, 30), tzinfo=timezone.utc)
