"""Demo boards: a lively cohort board, a study group planning a reading session, the course
community board, the tutors' board, a post folded behind a content note, and a post reported
to the tutors (it shares someone else's story), waiting in their reports queue.

Idempotent: each thread is added only if a thread with its title is not on its board yet.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from lms.accounts.models import User
from lms.boards import moderation, rules, search
from lms.boards.models import AgreementAcceptance, Board, BoardMember, Post, StudyGroup, Subscription, Thread
from lms.boards.services import ensure_boards_for
from lms.cohorts.models import Cohort
from lms.extensions import db

DEMO_ORDER = 50

# (author email, days ago, hour, body, options) — options may hold content_note, display_mode, pseudonym, quote (index)
WELCOME = ("Welcome to our cohort board", "tutor1@example.org", True, [
    ("tutor1@example.org", 37, 18, """Hello everyone, and welcome. This board is ours: a place to keep learning together between course days.

A few things that help it work well:

- **Share your own story, not other people's.** What someone shares here or in the room stays with us.
- **Add a content note** when a post talks about something that may be hard to read. It folds the post until the reader chooses to open it.
- **You can post under your first name only, or a pseudonym**, on this board. Dan and I can always see who wrote a post, so that we can look after everyone.
- If something worries you, use **Report** under the post. Only the tutors see reports.

These boards are not for crisis help. If you or someone else is at risk, please use the *Need support now?* link at the top of every page.

Looking forward to learning with you all. Priya""", {}),
])

INTRODUCTIONS = ("Introductions: say hello", "trainee1@example.org", False, [
    ("trainee1@example.org", 36, 19, """Hi all, I'm Amira (she/her). I work at Northshire on an inpatient ward and I'm training to become a peer support worker there.

I'm here because a peer worker sat with me during a hard time a few years ago and it changed how I saw my own recovery. I'd love to be that person for someone else. Outside work I walk my dog and I am slowly learning to bake bread.""", {}),
    ("trainee2@example.org", 36, 20, """Hello! Ben (he/him), Harbour Mind. I've volunteered on a helpline for two years. Nervous and excited in equal measure. Amira, I'd love the bread tips.""", {}),
    ("trainee3@example.org", 35, 9, """Hi everyone, Chloe here (she/her). I'm joining from the community team. I find groups a bit daunting, so writing here first really helps. See you on day one.""", {}),
    ("trainee12@example.org", 35, 13, """Hello, I'm Lee (they/them). Chloe, same here, and thank you for saying it. I'm with Harbour Mind and I'm mostly looking forward to the role plays, which I never thought I would say.""", {}),
    ("tutor2@example.org", 34, 17, """Welcome, everyone. I'm Dan (he/him), co-facilitating with Priya. It's lovely to read these. There is no right way to introduce yourself, so share as much or as little as you like.""", {}),
])

STRENGTHS = ("What helped me on the strengths day", "trainee3@example.org", False, [
    ("trainee3@example.org", 22, 18, """The strengths-spotting exercise surprised me. When my partner listed what she heard in my story (persistence, humour, noticing other people) I had to sit with it for a moment. I usually only tell the story of what went wrong.

What helped me most was the question: "What got you through that week?" I'm going to keep it.""", {}),
    ("trainee6@example.org", 22, 20, """Same, Chloe. For me it was hearing that strengths can be small and ordinary. Making a cup of tea for my flatmate counted. I've written a list on my phone.""", {}),
    ("trainee7@example.org", 21, 8, """I found it hard to name my own strengths, easier to name other people's. Priya's tip to ask "what would a friend say?" really helped me.""", {}),
    ("trainee9@example.org", 21, 12, """Thank you for this. I'm going to try the same question with the people I support at work.""", {"quote": 0}),
])

STORIES = ("Noticing my own feelings after the personal stories day", "trainee8@example.org", False, [
    ("trainee8@example.org", 8, 19, """I wanted to share how the day went for me, in case anyone else felt the same.

When we practised telling our stories, I talked about my time in hospital a few years ago and the months of low mood before it. I thought I was ready, and mostly I was, but I felt wobbly on the train home.

What helped: I looked at my wellness plan, texted a friend, and went for a walk. Today I feel more settled, and honestly quite proud that I said it out loud.""",
     {"content_note": "talks about a hospital stay and low mood"}),
    ("tutor1@example.org", 8, 21, """Thank you for sharing this, Harry, and for the content note. Feeling wobbly after telling your story is very common, and what you did (your plan, a friend, a walk) is exactly the kind of self-care we talk about. If you'd like a chat before the next course day, just let me know.""", {}),
    ("trainee11@example.org", 7, 10, """I felt the same after day 6. Thank you for putting it into words. I'm going to add "go for a walk after a heavy day" to my plan too.""", {}),
    ("trainee10@example.org", 7, 18, """Reading this helped me. I didn't tell my whole story on the day and I'm glad that was OK. Choosing what to share is part of it, isn't it.""",
     {"display_mode": "pseudonym", "pseudonym": "Sunflower"}),
])

PLACEMENT = ("Nerves before my first shift on placement", "trainee11@example.org", False, [
    ("trainee11@example.org", 4, 19, """My first shift on placement is next week and I'm more nervous than I expected. Has anyone started theirs? What helped on the first day?""", {}),
    ("trainee6@example.org", 4, 21, """I started last week. What helped me: arriving early, asking who I could go to with questions, and remembering I don't have to fix anything. Mostly I listened, and that was enough.""", {}),
    ("trainee9@example.org", 3, 9, """Good luck, Kirsty! On my second shift I sat with a man on the ward, Gary, who told me all about his divorce and his time in prison. It made me think about how much people carry.""", {}),
    ("trainee12@example.org", 3, 13, """Kirsty, you'll be great. I wrote my boundaries on a card and kept it in my pocket, which sounds silly but it really helped.""", {}),
])
# A post on the placement thread shares someone else's story with their name; a trainee has reported it, so
# the tutors' reports queue has something in it. (post index, reporter, reason)
PLACEMENT_REPORT = (2, "trainee12@example.org",
                    "This shares the story of someone on the ward, with his name. I don't think he agreed to that, "
                    "and our agreement says we only share our own stories.")

BUDDIES_PURPOSE = ("Reading together and keeping each other going on the accredited assignment. "
                   "We meet on Thursday evenings, online or at the library.")
BUDDIES = ("Reading session on Thursday", "trainee5@example.org", False, [
    ("trainee5@example.org", 3, 18, """Shall we meet on Thursday at 6pm in the library study room? I thought we could each read one of the recommended chapters on recovery and talk about what we'd use in the assignment.

I can bring the printed handouts from day 4.""", {}),
    ("trainee4@example.org", 3, 19, """Thursday works for me. I'll take the chapter on hope and recovery. Could we also make a plan for the word count? I always write too much.""", {}),
    ("trainee10@example.org", 2, 8, """I can join online, not in person this week. Happy to take the chapter on boundaries.""", {}),
    ("trainee11@example.org", 2, 12, """I'll be there. Ella, could you share the room booking? And a reminder to be kind to ourselves: it is a lot of reading on top of work.""", {}),
])

BUDDIES_WORDS = ("Word count worries", "trainee4@example.org", False, [
    ("trainee4@example.org", 6, 20, """I'm at 3,100 words and the brief says 2,500 give or take 10%. I don't know what to cut. Everything feels important.""", {}),
    ("trainee11@example.org", 6, 21, """Same here last week. What helped me was reading each paragraph and asking "which learning outcome is this for?" If I couldn't answer, it went into a notes file, not the bin.""", {}),
    ("trainee5@example.org", 5, 9, """Helen said in supervision that one well-explained example beats three rushed ones. I cut two examples and it reads better.""", {}),
])

CHECK_INS_PURPOSE = "A small, invite-only group to check in with each other about our wellness plans each week."
CHECK_INS = ("Monday check-in", "trainee7@example.org", False, [
    ("trainee7@example.org", 2, 19, """How is everyone doing this week? For me, the early-warning signs part of my plan has been useful: I noticed I was skipping lunch again and went back to what works.""", {}),
    ("trainee9@example.org", 2, 21, """Thanks for starting this, Grace. A steady week for me. I've added "ask for a lift to the course day" to my plan, because the bus journey drains me before we even start.""", {}),
])

FINISHED = ("Where are you now?", "trainee13@example.org", False, [
    ("trainee13@example.org", 60, 18, """It's been a while since our last course day. I started in my peer support role three weeks ago. Some days I still feel like a trainee, but I keep coming back to the principles we learned. How is everyone getting on?""", {}),
    ("trainee18@example.org", 59, 9, """Lovely to hear, Maya. I'm still waiting for my start date, so I volunteer on Saturdays meanwhile. Our reflective diaries have been really useful to look back on.""", {}),
])

COURSE = ("Questions about starting in a peer role", "trainee13@example.org", False, [
    ("trainee13@example.org", 20, 19, """For anyone still on the course: happy to answer questions about the first weeks in a peer support role. What would you like to know?""", {}),
    ("trainee1@example.org", 19, 8, """Thank you, Maya! How did you talk about your own experience with the team at the start? I'm unsure how much to share.""", {}),
    ("trainee13@example.org", 19, 18, """I shared a little at first and more as I got to know people. My supervisor helped me think about what was useful to share and why. There's no rush.""", {"quote": 1}),
])

TUTORS = ("Planning day 7: wellness planning", "tutor2@example.org", False, [
    ("tutor2@example.org", 5, 16, """I've updated the day 7 slides and added a quieter activity for anyone who would rather plan on their own. Could you look before Friday?""", {}),
    ("tutor1@example.org", 5, 19, """Looks great. Let's remind everyone that their plan stays private unless they choose to share it.""", {}),
])


def _when(today: date, days_ago: int, hour: int) -> datetime:
    return datetime.combine(today - timedelta(days=days_ago), time(hour, 0), tzinfo=timezone.utc)


def _people(emails) -> dict[str, User]:
    return {u.email: u for u in db.session.execute(select(User).where(User.email.in_(list(emails)))).scalars()}


def _add_thread(board: Board, spec, people: dict[str, User], today: date) -> bool:
    title, starter, pinned, posts = spec
    if db.session.execute(select(Thread.id).where(Thread.board_id == board.id, Thread.title == title)).first():
        return False
    first_options = posts[0][4]
    thread = Thread(board_id=board.id, title=title, author_id=people[starter].id, pinned=pinned,
                    author_display_mode=first_options.get("display_mode", "name"),
                    author_pseudonym=first_options.get("pseudonym"),
                    created_at=_when(today, posts[0][1], posts[0][2]), last_post_at=_when(today, posts[0][1], posts[0][2]))
    db.session.add(thread)
    db.session.flush()
    made: list[tuple[Post, str]] = []
    for email, days_ago, hour, body, options in posts:
        quoted, quoted_email = made[options["quote"]] if "quote" in options else (None, "")
        if quoted is not None:
            label = rules.peer_display(people[quoted_email].display_name, quoted.display_mode, quoted.pseudonym)
            body = rules.quote_markdown(label, quoted.body.split("\n\n")[0], quoted.id) + body
        post = Post(thread_id=thread.id, board_id=board.id, author_id=people[email].id, body=body,
                    content_note=options.get("content_note"), display_mode=options.get("display_mode", "name"),
                    pseudonym=options.get("pseudonym"), quoted_post_id=quoted.id if quoted else None,
                    status=rules.PostStatus.PUBLISHED.value, created_at=_when(today, days_ago, hour))
        db.session.add(post)
        db.session.flush()
        search.index_post(post.id, post.body)
        made.append((post, email))
        thread.post_count += 1
        thread.last_post_id = post.id
        thread.last_post_at = post.created_at
        if not db.session.execute(select(Subscription.id).where(
                Subscription.user_id == post.author_id, Subscription.thread_id == thread.id)).first():
            db.session.add(Subscription(user_id=post.author_id, thread_id=thread.id))
        db.session.flush()
    return True


def _accept(people: dict[str, User]) -> None:
    """Everyone who writes in the demo has accepted the community agreement; the others meet it first."""
    posters = {email for spec in (WELCOME, INTRODUCTIONS, STRENGTHS, STORIES, PLACEMENT, BUDDIES, BUDDIES_WORDS,
                                  CHECK_INS, FINISHED, COURSE, TUTORS)
               for email, *_ in spec[3]}
    accepted = set(db.session.execute(select(AgreementAcceptance.user_id).where(
        AgreementAcceptance.version == rules.AGREEMENT_VERSION)).scalars())
    for email in sorted(posters):
        user = people[email]
        if user.id not in accepted:
            db.session.add(AgreementAcceptance(user_id=user.id, version=rules.AGREEMENT_VERSION))


def _group(cohort: Cohort, name: str, purpose: str, is_open: bool, creator: User,
           members: list[User]) -> Board:
    group = db.session.execute(select(StudyGroup).where(StudyGroup.cohort_id == cohort.id,
                                                        StudyGroup.name == name)).scalar_one_or_none()
    if group is None:
        group = StudyGroup(cohort_id=cohort.id, name=name, purpose=purpose, open=is_open, created_by_id=creator.id)
        db.session.add(group)
        db.session.flush()
        db.session.add(Board(key=f"group:{group.id}", kind=rules.BoardKind.GROUP.value, name=name,
                             description=purpose, cohort_id=cohort.id, study_group_id=group.id))
        db.session.flush()
    board = db.session.execute(select(Board).where(Board.study_group_id == group.id)).scalar_one()
    existing = set(db.session.execute(select(BoardMember.user_id).where(BoardMember.board_id == board.id)).scalars())
    for member in [creator] + members:
        if member.id not in existing:
            db.session.add(BoardMember(board_id=board.id, user_id=member.id, status="member"))
            existing.add(member.id)
    db.session.flush()
    return board


def seed(today: date) -> dict | None:
    """Add the demo boards' threads and posts that are missing."""
    cohorts = {c.slug: c for c in db.session.execute(
        select(Cohort).where(Cohort.slug.in_(["demo-running", "demo-finished"]))).scalars()}
    if len(cohorts) < 2:
        return None
    emails = ([f"trainee{n}@example.org" for n in range(1, 21)]
              + ["tutor1@example.org", "tutor2@example.org", "admin@example.org"])
    people = _people(emails)
    if len(people) < len(emails):
        return None
    for email in ("tutor1@example.org", "admin@example.org"):
        ensure_boards_for(people[email])
    boards = {b.key: b for b in db.session.execute(select(Board)).scalars()}
    running = boards[f"cohort:{cohorts['demo-running'].id}"]
    finished = boards[f"cohort:{cohorts['demo-finished'].id}"]
    course = boards[f"course:{cohorts['demo-running'].course_slug}"]
    running.allow_pseudonyms = True
    _accept(people)
    for email in ("trainee1@example.org", "trainee13@example.org", "trainee18@example.org"):
        if not db.session.execute(select(BoardMember.id).where(
                BoardMember.board_id == course.id, BoardMember.user_id == people[email].id)).first():
            db.session.add(BoardMember(board_id=course.id, user_id=people[email].id, status="member"))
    buddies = _group(cohorts["demo-running"], "Assignment buddies", BUDDIES_PURPOSE, True,
                     people["trainee5@example.org"],
                     [people[f"trainee{n}@example.org"] for n in (4, 10, 11)])
    check_ins = _group(cohorts["demo-running"], "Wellness plan check-ins", CHECK_INS_PURPOSE, False,
                       people["trainee7@example.org"], [people["trainee9@example.org"]])
    added = 0
    for board, spec in [(running, WELCOME), (running, INTRODUCTIONS), (running, STRENGTHS), (running, STORIES),
                        (buddies, BUDDIES), (buddies, BUDDIES_WORDS), (check_ins, CHECK_INS), (finished, FINISHED),
                        (course, COURSE), (boards["tutors"], TUTORS)]:
        added += _add_thread(board, spec, people, today)
    reports = 0
    if _add_thread(running, PLACEMENT, people, today):
        added += 1
        index, reporter, reason = PLACEMENT_REPORT
        thread = db.session.execute(select(Thread).where(Thread.board_id == running.id,
                                                         Thread.title == PLACEMENT[0])).scalar_one()
        post = db.session.execute(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)
                                  .offset(index).limit(1)).scalar_one()
        reports += bool(moderation.report_post(people[reporter], post.id, reason).ok)
    db.session.flush()
    return {"board threads": added, "board reports": reports}
