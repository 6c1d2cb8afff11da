"""The next attempt opens whenever the rules leave one: a trainee who never started is a non-submission
after the deadline; the exam board's deferral opens their referral; accepted mitigation on a missed
attempt gives it back uncapped; an extra attempt allowed by the board opens a third."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.cohorts.models import Enrolment
from lms.coursework import marking, services
from lms.coursework.models import Submission
from lms.database import utcnow
from lms.extensions import db
from lms.notify.models import Notification
from lms.progress import exam_boards
from lms.progress.rules import AssessmentRule, AssessmentState, AttemptState, Flag, evaluate_assessment
from tests.web.test_coursework_marking import ADMIN, TUTOR1, allocate, first_mark, submitted, to_agreed
from tests.web.test_coursework_support import assignment, fresh, person, submit

NEVER_STARTED = "trainee3@example.org"


def enrolment_of(email: str, accredited) -> Enrolment:
    return db.session.execute(select(Enrolment).where(
        Enrolment.cohort_id == accredited.cohort_id, Enrolment.trainee_id == person(email).id)).scalar_one()


def attempts_of(enrolment: Enrolment, accredited) -> list[Submission]:
    db.session.expire_all()
    return list(db.session.execute(select(Submission).where(
        Submission.enrolment_id == enrolment.id, Submission.assignment_id == accredited.id)
        .order_by(Submission.attempt)).scalars())


def outcome(enrolment: Enrolment, accredited, as_of):
    rules = services.rules_for(accredited.cohort.course_slug)
    facts = services.assessment_facts([enrolment.id])[enrolment.id][accredited.assessment_slug]
    return evaluate_assessment(rules, AssessmentRule(slug=accredited.assessment_slug), facts, as_of)


def told(email: str, subject_part: str) -> list[Notification]:
    return list(db.session.execute(select(Notification).where(
        Notification.user_id == person(email).id, Notification.subject.contains(subject_part))).scalars())


def open_board(accredited):
    board = exam_boards.open_board(person(ADMIN), accredited.cohort_id, "2027-03-15", "Chair\nExternal examiner", "")
    db.session.commit()
    return board


def test_a_trainee_who_never_started_is_a_non_submission_once_the_deadline_has_passed(app, demo):
    accredited = assignment()
    enrolment = enrolment_of(NEVER_STARTED, accredited)
    assert attempts_of(enrolment, accredited) == []
    before = outcome(enrolment, accredited, accredited.due_at - timedelta(days=1))
    assert before.state is AssessmentState.NOT_YET_DUE
    after = outcome(enrolment, accredited, accredited.cut_off_at + timedelta(days=30))
    [missed] = after.attempts
    assert missed.state is AttemptState.NOT_SUBMITTED and Flag.NON_SUBMISSION in missed.flags
    assert missed.recorded_mark == 0 and after.attempts_left == 1
    assert after.state is AssessmentState.AWAITING_NEW_DATE


def test_the_boards_deferral_of_a_non_submission_opens_the_referral_once(login_as, app):
    accredited = assignment()
    enrolment = enrolment_of(NEVER_STARTED, accredited)
    later = accredited.cut_off_at + timedelta(days=30)
    board = open_board(accredited)
    exam_boards.decide(person(ADMIN), board.id, enrolment.id, "defer", "Did not submit; a referral is offered.",
                       board.version, later)
    db.session.commit()
    first, referral = attempts_of(enrolment, accredited)
    assert (first.attempt, first.status, first.submitted_at) == (1, "draft", None)  # the missed attempt is kept
    assert referral.attempt == 2 and referral.due_at > later + timedelta(weeks=3)
    assert len(told(NEVER_STARTED, "Another attempt")) == 1
    # Nothing more opens however often it is asked.
    assert marking.open_next_attempts(person(ADMIN), enrolment.id, later) == []
    assert len(attempts_of(enrolment, accredited)) == 2
    judged = outcome(enrolment, accredited, later)
    assert judged.state is AssessmentState.NOT_YET_DUE and judged.attempts[1].counts_as == 2
    # The trainee can work on it.
    submitted_referral = submit(NEVER_STARTED, accredited.id)
    assert submitted_referral.id == referral.id and fresh(Submission, referral.id).status == "submitted"


def test_accepted_mitigation_on_a_missed_attempt_gives_it_back_uncapped(app, demo):
    accredited = assignment()
    enrolment = enrolment_of(NEVER_STARTED, accredited)
    later = accredited.cut_off_at + timedelta(days=30)
    claim = services.report_mitigation(person(NEVER_STARTED), accredited.id, category="illness",
                                       details="I was in hospital for the whole of the submission period.",
                                       now=later)
    db.session.commit()
    assert len(attempts_of(enrolment, accredited)) == 1  # the claim sits on the missed first attempt
    services.decide_claim(person(ADMIN), claim.id, decision="accept", now=later)
    db.session.commit()
    missed, again = attempts_of(enrolment, accredited)
    assert again.attempt == 2 and again.due_at > later
    judged = outcome(enrolment, accredited, later)
    assert judged.attempts[0].uses_attempt is False and Flag.MITIGATION in judged.attempts[0].flags
    assert judged.attempts[1].counts_as == 1  # treated as a first attempt: no referral cap
    assert judged.attempts_left == 2
    assert len(told(NEVER_STARTED, "Another attempt")) == 1


def test_a_rejected_claim_opens_nothing(app, demo):
    accredited = assignment()
    enrolment = enrolment_of(NEVER_STARTED, accredited)
    later = accredited.cut_off_at + timedelta(days=30)
    claim = services.report_mitigation(person(NEVER_STARTED), accredited.id, category="illness",
                                       details="Unwell.", now=later)
    services.decide_claim(person(ADMIN), claim.id, decision="reject", reason="No evidence was given.", now=later)
    db.session.commit()
    assert len(attempts_of(enrolment, accredited)) == 1 and told(NEVER_STARTED, "Another attempt") == []


def test_an_extra_attempt_allowed_by_the_board_opens_a_third_attempt(login_as, app):
    admin = person(ADMIN)
    [first_id] = submitted(1)
    to_agreed([first_id], {0: 35})
    accredited = assignment()
    enrolment = fresh(Submission, first_id).enrolment
    board = open_board(accredited)
    exam_boards.ratify_all(admin, board.id, board.version, utcnow())
    db.session.commit()
    marking.release(admin, accredited.id)  # a failed first attempt: the referral opens
    db.session.commit()
    referral = attempts_of(enrolment, accredited)[1]
    submit("trainee1@example.org", accredited.id)
    allocate([referral.id], TUTOR1)
    first_mark(referral.id, TUTOR1, 30)
    marking.confirm_sample(admin, accredited.id, sampled_ids=[], second_marker_ids=[])
    db.session.commit()
    board = fresh(type(board), board.id)
    exam_boards.ratify_since(admin, board.id, board.version, "Referral marked after the board.", utcnow())
    marking.release(admin, accredited.id, referral.id)
    db.session.commit()
    assert len(attempts_of(enrolment, accredited)) == 2  # both attempts used: nothing opens by itself
    assert outcome(enrolment, accredited, utcnow()).state is AssessmentState.NOT_PASSED

    board = fresh(type(board), board.id)
    exam_boards.correct(admin, board.id, enrolment.id, "extra_attempt", "", "Exceptional circumstances "
                        "came to light; the board allows a third attempt.", board.version, utcnow())
    db.session.commit()
    third = attempts_of(enrolment, accredited)[2]
    assert third.attempt == 3 and third.status == "draft" and third.due_at > utcnow()
    assert len(told("trainee1@example.org", "Another attempt")) == 1
    page = login_as("trainee").get(f"/assignment/{accredited.id}").get_data(as_text=True)
    assert "Your first attempt has been marked" in page and "Your second attempt has been marked" in page
    assert "Save draft" in page
