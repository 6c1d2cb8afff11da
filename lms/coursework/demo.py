"""The assignment part of the demo: submissions in every state of the marking chain.

`demo-running` (assignment not yet due) has trainees who have not started,
drafts, an extension waiting for a decision, mitigating circumstances
reported, and a few early submissions moving through marking (submitted,
in marking, first marked, in second marking, waiting for a third marker,
agreed). `demo-finished` has every assignment marked, moderated (one
disagreement settled by a third marker) and agreed at the marks its exam
board records (the certificates demo ratifies and releases them), including
one referral: a first attempt that did not pass, released, and a second
attempt now agreed. Everything goes through the services, so the audit log tells
the same story. Idempotent: a cohort that already has submissions is left
alone.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from lms.accounts.services import find_by_email
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, CourseDay
from lms.coursework import marking, services
from lms.coursework.models import Assignment, Submission
from lms.coursework.rules import band_for_mark, deadline_on
from lms.extensions import db

DEMO_ORDER = 30
ACCREDITED = "accredited-assignment"
PRACTICE = "strengths-spotting-exercise"
# The external examiner named in the exam board's record (lms/certificates/demo.py).
EXAMINER = ("examiner@example.org", "Dr Ruth Adeyemi", "she/her")

OPENINGS = [
    "When I started this course I was not sure my own experience had any place in a job.",
    "I came to peer support after a long time of being on the other side of services.",
    "Before the course I thought being a peer worker meant sharing my story as often as possible.",
    "Looking back over the eleven days, the thing that changed most for me was how I listen.",
    "I have worked as a volunteer on a ward for two years, and this course gave me words for what I do.",
    "Recovery, for me, has never been a straight line, and that is where I want to begin.",
    "I was nervous about writing this assignment, because writing about myself does not come easily.",
    "The principle that stayed with me most from the course was that peer support is mutual.",
    "My first week on the course I nearly did not come back, and I want to write honestly about why.",
    "In this assignment I reflect on what I learned about hope, boundaries and strengths.",
    "I chose to focus on one conversation from my placement that taught me a lot.",
    "Peer support has been part of my own recovery, so writing about it feels personal.",
    "On day one we were asked what recovery means to us. My answer has changed since then.",
    "I want to start with the moment on day five when boundaries finally made sense to me.",
    "This reflection draws on my volunteering with a carers' group and on the course days.",
    "Strengths spotting was the part of the course I found hardest, and the most useful.",
    "I have thought a lot about the difference between a friend and a peer worker.",
    "My experience of services has not always been positive, and I bring that with me.",
    "The course helped me see my lived experience as something I can use with purpose.",
    "This is a reflection on my learning, my practice and the person I want to be at work.",
]

BODY = """\
{opening}

In this assignment I reflect on what I have learned about peer support and personal recovery, how I will use \
strengths-based and recovery-focused approaches in practice, and what I have learned about sharing my own \
experience safely and with purpose. I draw on the course days, my reflective diary and my placement.

Understanding peer support. Peer support is a relationship between people who share some experience of mental \
distress. It is mutual and reciprocal: both people learn. It is not about fixing someone; it is about walking \
alongside them while they find their own way. The eight principles we discussed on day two, especially being \
mutual, progressive and strengths-based, describe something I recognise from the support I received myself.

Strengths and recovery in practice. On day three we practised strengths spotting. At first I found it hard to \
notice strengths rather than problems, because services had trained me to describe myself by what was wrong. \
In my placement I used active listening and open questions to help a person I support to name what had helped \
her before. She said she was good at keeping going, and we built on that in her wellness plan.

Boundaries and my own story. Sharing my experience is useful only when it serves the other person. I learned to \
ask myself why I am sharing, what I am sharing and whether it will help. Supervision has been important: when a \
conversation brought back difficult memories, I talked it through with my supervisor and used my own wellness \
plan.

What I will do next. I will keep a reflective diary, use supervision well and keep reading about recovery, \
including work on recovery colleges and peer roles in the NHS.
"""

FEEDBACK = {
    "high": """\
**What went well.** This is a thoughtful, honest and well-organised reflection. You explain the principles of \
peer support accurately and in your own words, and your example from placement shows strengths-based practice \
in action: the way you helped the person name what had helped her before is exactly what we mean by working \
alongside someone.

**Your use of lived experience** is purposeful and safe. You show clearly why you would share, and how you \
used supervision and your own wellness plan when a conversation was hard.

**Next steps (feed-forward).**
- Bring in one or two more sources beyond the course materials to support your points about mutuality.
- Keep exploring the tensions you raise, such as staying mutual in a paid role; they are the heart of the work.
""",
    "good": """\
**What went well.** You show a sound understanding of peer support and recovery, and you link the principles \
to your own practice with a relevant example. Your reflection moves from what happened to what it meant to you, \
which is what reflective writing asks for.

**To develop.** Some sections describe more than they reflect. Ask yourself "so what?" after each example: what \
did you learn, and what will you do differently?

**Next steps (feed-forward).**
- Use the Harvard style consistently in your reference list (author, year, title, publisher).
- Say a little more about boundaries and confidentiality in your example, and how supervision helped.
""",
    "pass": """\
**What went well.** You have met the learning outcomes at a basic level. You describe what peer support is and \
give an example of using active listening, and it is clear that the course has meant a lot to you.

**To develop.** The assignment is mostly descriptive. The next step is to explain why things happened and what \
you learned from them. The section on boundaries needs more detail: what would you share, what would you keep \
private, and why?

**Next steps (feed-forward).**
- Plan your next piece of writing around the marking criteria; your academic supervisor can help.
- Add at least two sources and reference them in the text as well as in the list at the end.
""",
    "fail": """\
Thank you for your work on this assignment. There is a lot here to build on: you write warmly about the people \
you support and about what the course has meant to you.

**Why this does not pass yet.** The assignment does not yet show enough understanding of the principles of peer \
support or enough reflection on your own practice to meet the learning outcomes. It is much shorter than the \
2,500 words asked for, and there are no references.

**Next steps for your second attempt.**
- Meet your academic supervisor to plan the resubmission; use the brief's headings as your structure.
- For each principle you discuss, give an example from practice and say what you learned from it.
- Use at least three sources, including the course materials, and reference them in Harvard style.

You can do this. Many people pass at the second attempt with this kind of plan.
""",
}

CRITERION_COMMENTS = {
    "high": "Clear, accurate and well supported; you show real insight here.",
    "good": "Sound and relevant; add a little more depth or evidence to reach the next band.",
    "pass": "Meets the outcome at a basic level; explain why as well as what.",
    "fail": "Not yet enough here to meet the learning outcome; see the feed-forward.",
}


def _level(mark: int) -> str:
    return "high" if mark >= 65 else "good" if mark >= 55 else "pass" if mark >= 40 else "fail"


def pdf_bytes(title: str) -> bytes:
    """A small, valid one-page PDF holding `title` (the demo's uploaded essays)."""
    safe = title.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 14 Tf 72 770 Td ({safe}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _pdf(name: str, title: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(pdf_bytes(title)), filename=name, content_type="application/pdf")


def _text(number: int) -> str:
    return BODY.format(opening=OPENINGS[(number - 1) % len(OPENINGS)])


def _criteria(assignment: Assignment, overall: int, number: int) -> dict[str, marking.CriterionEntry]:
    """Per-criterion bands and marks around `overall`, each inside its band, with a comment."""
    entries = {}
    for index, criterion in enumerate(assignment.rubric):
        mark = max(0, min(100, overall + ((number + index) % 5) - 2))
        bands = [(b["low"], b["high"]) for b in criterion["bands"]]
        low, high = band_for_mark(bands, mark)
        entries[criterion["id"]] = marking.CriterionEntry(f"{low}-{high}", str(mark),
                                                           CRITERION_COMMENTS[_level(mark)])
    return entries


def _at(day: date, hour: int = 12) -> datetime:
    """`hour` o'clock local time on `day`, in UTC."""
    return deadline_on(day, services.zone(), time(hour, 0))


def _version(submission_id: int) -> int:
    return db.session.execute(select(Submission.version).where(Submission.id == submission_id)).scalar_one()


def _first_mark(tutor, submission_id: int, assignment: Assignment, overall: int, number: int, when: datetime,
                complete: bool = True) -> None:
    marking.save_first_marking(
        tutor, submission_id, version=_version(submission_id), criteria=_criteria(assignment, overall, number)
        if assignment.rubric else {}, overall=None, override_reason="", feedback_text=FEEDBACK[_level(overall)],
        complete=complete, now=when)


def _submit(trainee, assignment: Assignment, number: int, when: datetime, with_file: bool = True) -> Submission:
    files = [_pdf(f"assignment-{trainee.display_name.split()[0].lower()}.pdf", f"{assignment.title}: full essay")] \
        if with_file and "file" in assignment.submission_types else []
    return services.save_work(trainee, assignment.id, text=_text(number), files=files, declaration=True, submit=True,
                              now=when)


def _people() -> dict[str, object]:
    people = {key: find_by_email(f"{key}@example.org") for key in ("admin", "tutor1", "tutor2", "academic1")}
    for number in range(1, 21):
        people[f"trainee{number}"] = find_by_email(f"trainee{number}@example.org")
    return people


def _assignments(cohort: Cohort) -> dict[str, Assignment]:
    services.ensure_assignments({cohort.id})
    db.session.flush()
    return {a.assessment_slug: a for a in db.session.execute(
        select(Assignment).where(Assignment.cohort_id == cohort.id)).scalars()}


def _has_submissions(assignment: Assignment) -> bool:
    return db.session.execute(select(Submission.id).where(Submission.assignment_id == assignment.id).limit(1)
                              ).first() is not None


def _ensure_examiner(cohort: Cohort) -> bool:
    from lms.accounts import services as accounts
    from lms.demo import DEMO_PASSWORD

    email, name, pronouns = EXAMINER
    user = accounts.find_by_email(email)
    added = user is None
    if added:
        user = accounts.create_user(email, name, DEMO_PASSWORD, None, pronouns)
    accounts.grant_role(user, Role.EXTERNAL_EXAMINER, cohort.id)
    return added


def _practice_task(people, cohort: Cohort, assignment: Assignment, numbers: range, released: int) -> int:
    """The formative strengths-spotting task: due before day 4; some feedback given, some still with tutors."""
    day4 = db.session.execute(select(CourseDay.date).where(CourseDay.cohort_id == cohort.id,
                                                           CourseDay.number == 4)).scalar_one()
    services.update_settings(
        people["admin"], assignment.id, version=assignment.version, due_date=day4.isoformat(), due_time="09:30",
        cut_off_date=day4.isoformat(), cut_off_time="09:30",
        marks_due_date=(day4 + timedelta(days=7)).isoformat(), anonymous=False,
        second_marker_sees_first_mark=False, tolerance="10")
    count = 0
    for position, number in enumerate(numbers):
        trainee = people[f"trainee{number}"]
        submission = services.save_work(
            trainee, assignment.id, text=_text(number).split("\n\n")[3], declaration=True, submit=True,
            now=_at(day4 - timedelta(days=2 + position % 2), 20))
        tutor = people["tutor1"] if position % 2 == 0 else people["tutor2"]
        marking.allocate_script(people["admin"], submission.id, stage="first", marker_id=tutor.id)
        if position < released:
            _first_mark(tutor, submission.id, assignment, 60, number, _at(day4 + timedelta(days=3)))
        count += 1
    return count


def _seed_running(people, cohort: Cohort, today: date) -> int:
    assignments = _assignments(cohort)
    assignment, practice = assignments.get(ACCREDITED), assignments.get(PRACTICE)
    if assignment is None or _has_submissions(assignment):
        return 0
    admin, tutor1, tutor2, academic = people["admin"], people["tutor1"], people["tutor2"], people["academic1"]
    count = 0
    if practice is not None and not _has_submissions(practice):
        count += _practice_task(people, cohort, practice, range(1, 11), released=7)
    now = _at(today, 10)
    # trainee1 has not started: the page to try submitting on.
    for number in (2, 3, 12):
        services.autosave(people[f"trainee{number}"], assignment.id,
                          _text(number).split("\n\n", 3)[0] + "\n\n" + _text(number).split("\n\n")[1],
                          now=now - timedelta(days=number))
        count += 1
    services.save_work(people["trainee3"], assignment.id, text=None,
                       files=[_pdf("plan-and-notes.pdf", "Assignment plan and notes")], now=now - timedelta(days=1))
    # trainee4 asks for more time (waiting); trainee12 has an extension approved.
    services.autosave(people["trainee4"], assignment.id, _text(4).split("\n\n")[0], now=now - timedelta(days=6))
    services.request_extension(people["trainee4"], assignment.id, working_days="5",
                               reason="My mum is going into hospital for an operation next month and I will be "
                                      "caring for her for the first week after.", now=now - timedelta(days=2))
    extension = services.request_extension(
        people["trainee12"], assignment.id, working_days="10",
        reason="I have been unwell and missed two weeks of writing time.", now=now - timedelta(days=9))
    services.decide_extension(academic, extension.id, decision="shorten", working_days="7",
                              message="I hope you are feeling better. Seven working days should give you the time "
                                      "you lost; let's meet next week to plan the rest.", now=now - timedelta(days=8))
    # trainee11 reports mitigating circumstances (waiting for a decision).
    services.autosave(people["trainee11"], assignment.id, _text(11).split("\n\n")[0], now=now - timedelta(days=5))
    services.report_mitigation(people["trainee11"], assignment.id, category="bereavement",
                               details="My grandad died last week and I am finding it hard to concentrate on "
                                       "writing.", now=now - timedelta(days=3))
    count += 4
    # Early submissions moving through marking.
    early = {number: _submit(people[f"trainee{number}"], assignment, number, now - timedelta(days=12 - number))
             for number in (5, 6, 7, 8, 9, 10)}
    count += len(early)
    marking.allocate(admin, assignment.id, [early[n].id for n in (6, 7, 9, 10)], [tutor1.id])
    marking.allocate(admin, assignment.id, [early[8].id], [tutor2.id])
    # trainee7: first marking started (a saved draft). trainee6, trainee9, trainee10: first marked, then
    # the sample: trainee9 goes to second marking with the academic supervisor; trainee10's second marker
    # (the other tutor) reads it 12 marks higher, so it waits for a third marker; trainee6 was not
    # sampled, so its first mark is agreed.
    _first_mark(tutor1, early[7].id, assignment, 58, 7, now - timedelta(days=1), complete=False)
    _first_mark(tutor1, early[6].id, assignment, 60, 6, now - timedelta(days=4))
    _first_mark(tutor1, early[9].id, assignment, 62, 9, now - timedelta(days=3))
    _first_mark(tutor1, early[10].id, assignment, 55, 10, now - timedelta(days=3))
    marking.confirm_sample(admin, assignment.id, sampled_ids=[early[9].id, early[10].id],
                           second_marker_ids=[academic.id, tutor2.id], now=now - timedelta(days=2))
    second_marker = db.session.get(Submission, early[10].id).second_marker_id
    marking.save_moderation_mark(
        tutor2 if second_marker == tutor2.id else academic, early[10].id, stage="second",
        version=_version(early[10].id), mark="67",
        comment="I read the reflection on boundaries as stronger than the first mark suggests; I would put it "
                "in the 60s.", now=now - timedelta(days=1))
    third = academic if second_marker == tutor2.id else tutor2
    marking.allocate_script(admin, early[10].id, stage="third", marker_id=third.id)
    # trainee8: first marked after the sample was taken, waiting for the next one.
    _first_mark(tutor2, early[8].id, assignment, 66, 8, now - timedelta(hours=20))
    return count


# The agreed marks of demo-finished, trainee13 ... trainee20, as the exam board and certificates demo
# record them. trainee17 did not pass the first attempt (31) and was referred; the second attempt is 34.
FINISHED_MARKS = {13: 58, 14: 64, 15: 49, 16: 71, 17: 31, 18: 45, 19: 66, 20: 52}
REFERRED, REFERRAL_MARK = 17, 34
# The script whose second marker disagreed by more than the tolerance: a third marker settled it.
DISAGREEMENT = 14


def _moderate(people, assignment: Assignment, script_ids: list[int], targets: dict[int, int], when: date) -> None:
    """Second mark the sampled scripts and agree each at its target mark (one via a third marker)."""
    admin, tutor1, tutor2, academic = people["admin"], people["tutor1"], people["tutor2"], people["academic1"]
    staff = {person.id: person for person in (tutor1, tutor2, academic)}
    for submission_id in script_ids:
        target = targets[submission_id]
        script = db.session.execute(select(Submission).where(Submission.id == submission_id)).scalar_one()
        second_marker = staff[script.second_marker_id]
        disagree = script.first_mark < target - 5
        second = target + 6 if disagree else target + (1 if submission_id % 2 else -2)
        marking.save_moderation_mark(
            second_marker, submission_id, stage="second", version=_version(submission_id), mark=str(second),
            comment=("I read this as stronger on reflection than the first marker did: the discussion of "
                     "boundaries is subtle and well evidenced." if disagree else
                     "I agree with the first marker's judgement and feedback; the bands chosen for each "
                     "criterion are fair."), now=_at(when))
        if disagree:
            third = next(m for m in (academic, tutor1, tutor2)
                         if m.id not in (script.first_marker_id, script.second_marker_id))
            marking.allocate_script(admin, submission_id, stage="third", marker_id=third.id)
            marking.save_moderation_mark(third, submission_id, stage="third", version=_version(submission_id),
                                         mark=str(target), comment="Between the two: the reflection is strong; "
                                         "the use of evidence keeps it in the middle of the band.",
                                         now=_at(when + timedelta(days=3)))
            marking.agree_mark(third, submission_id, version=_version(submission_id), mark=str(target),
                               rationale="The third marker's judgement, after reading both marks and comments.",
                               now=_at(when + timedelta(days=3)))
        else:
            marking.agree_mark(second_marker, submission_id, version=_version(submission_id), mark=str(target),
                               rationale="Agreed in discussion between the first and second markers: the first "
                                         "mark stands.", now=_at(when + timedelta(days=1)))


def _seed_finished(people, cohort: Cohort) -> int:
    assignments = _assignments(cohort)
    assignment, practice = assignments.get(ACCREDITED), assignments.get(PRACTICE)
    if assignment is None or _has_submissions(assignment):
        return 0
    admin, tutor1, tutor2, academic = people["admin"], people["tutor1"], people["tutor2"], people["academic1"]
    count = 0
    if practice is not None and not _has_submissions(practice):
        count += _practice_task(people, cohort, practice, range(13, 21), released=8)
    due = services.local(assignment.due_at).date()
    # An extension before the deadline; the work came in inside it, so it is not late.
    extension = services.request_extension(people["trainee16"], assignment.id, working_days="5",
                                           reason="A family emergency took me away for a week.",
                                           now=_at(due - timedelta(days=10)))
    services.decide_extension(academic, extension.id, decision="approve",
                              message="Of course. Take care of yourself and your family.",
                              now=_at(due - timedelta(days=9)))
    submitted = {}
    for number in FINISHED_MARKS:
        when = _at(due + timedelta(days=3), 11) if number == 16 else _at(due - timedelta(days=number % 3), 15)
        submitted[number] = _submit(people[f"trainee{number}"], assignment, number, when)
        count += 1
    # A claim made after submitting: the trainee was fit to sit, so it was not accepted (kindly, with support).
    claim = services.report_mitigation(people["trainee18"], assignment.id, category="caring",
                                       details="My son was unwell in the week before the deadline and I was "
                                               "up most nights.", now=_at(due + timedelta(days=2)))
    services.decide_claim(admin, claim.id, decision="reject", reason=(
        "Thank you for telling us. You submitted on time, which means you were taken as fit to sit, and nothing "
        "suggests you could not have told us before. Your academic supervisor can talk with you about support."),
        now=_at(due + timedelta(days=6)))
    # First marking, shared evenly between the two tutors.
    allocation = marking.allocate(admin, assignment.id, [s.id for s in submitted.values()], [tutor1.id, tutor2.id])
    markers = {tutor1.id: tutor1, tutor2.id: tutor2}
    for number, submission in submitted.items():
        first = FINISHED_MARKS[number] - (6 if number == DISAGREEMENT else 0)
        _first_mark(markers[allocation[submission.id]], submission.id, assignment, first, number,
                    _at(due + timedelta(days=8 + number % 5)))
    # The proposed moderation sample (with the script the lead tutor asked to add), second marked by the
    # academic supervisor and the other tutor.
    proposal = marking.moderation(admin, assignment.id)
    sampled = sorted(proposal.proposed | {submitted[DISAGREEMENT].id})
    marking.confirm_sample(admin, assignment.id, sampled_ids=sampled,
                           second_marker_ids=[academic.id, tutor1.id, tutor2.id], now=_at(due + timedelta(days=16)))
    targets = {s.id: FINISHED_MARKS[n] for n, s in submitted.items()}
    _moderate(people, assignment, sampled, targets, due + timedelta(days=18))
    # The referral: the first attempt that did not pass was ratified and released early, so the trainee
    # could resubmit; the second attempt is marked, moderated and agreed, ready for the exam board.
    failed = submitted[REFERRED]
    marking.ratify_marks(admin, cohort, submission_ids=[failed.id], now=_at(due + timedelta(days=30)))
    marking.release(admin, assignment.id, failed.id, now=_at(due + timedelta(days=35)))
    referral = db.session.execute(select(Submission).where(
        Submission.assignment_id == assignment.id, Submission.enrolment_id == failed.enrolment_id,
        Submission.attempt == 2)).scalar_one()
    referral_due = services.local(referral.due_at).date()
    second = services.save_work(people[f"trainee{REFERRED}"], assignment.id,
                                text=_text(REFERRED) + "\n\n" + _text(3),
                                files=[_pdf("resubmission.pdf", "Resubmission: full essay")], declaration=True,
                                submit=True, now=_at(referral_due - timedelta(days=3), 14))
    marking.allocate(admin, assignment.id, [second.id], [tutor2.id])
    _first_mark(tutor2, second.id, assignment, REFERRAL_MARK, REFERRED, _at(referral_due + timedelta(days=7)))
    marking.confirm_sample(admin, assignment.id, sampled_ids=[second.id], second_marker_ids=[academic.id],
                           now=_at(referral_due + timedelta(days=9)))
    _moderate(people, assignment, [second.id], {second.id: REFERRAL_MARK}, referral_due + timedelta(days=10))
    return count + 1


def seed(today: date) -> dict | None:
    """Add the assignment demo to the two demo cohorts (idempotent)."""
    cohorts = {c.slug: c for c in db.session.execute(
        select(Cohort).where(Cohort.slug.in_(["demo-running", "demo-finished"]))).scalars()}
    if len(cohorts) < 2:
        return None
    people = _people()
    if any(person is None for person in people.values()):
        return None
    examiner_added = _ensure_examiner(cohorts["demo-finished"])
    added = _seed_running(people, cohorts["demo-running"], today)
    added += _seed_finished(people, cohorts["demo-finished"])
    db.session.flush()
    return {"assignment submissions": added, "external examiners": int(examiner_added)}
