"""The credit-level rules engine, tested from a table of cases.

Each case names the rule and the side of the boundary it sits on. Dates are
chosen so the working-day arithmetic is easy to check by hand:

    February 2026: Mon 2, Tue 3, Wed 4, Thu 5, Fri 6, (Sat 7, Sun 8),
                   Mon 9, Tue 10, ..., Mon 16, Tue 17, ..., Mon 23, Tue 24.

A deadline of Monday 2 February 17:00 is 5 working days late on Monday 9
February and 6 on Tuesday 10. Ten working days after it is Monday 16.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone

import pytest

from lms.progress.rules import (
    AssessmentFacts,
    AssessmentRule,
    AssessmentState,
    Attempt,
    AttemptRules,
    AttendanceFacts,
    AttendanceRules,
    Award,
    CondonementRules,
    DiaryRules,
    Facts,
    Flag,
    LatenessRules,
    Rules,
    Status,
    add_working_days,
    evaluate,
    extended_deadline,
    outcome_to_dict,
    pass_mark_for_level,
    working_days_between,
    working_days_late,
)

SLUG = "accredited-assignment"
CHRISTMAS_CLOSURE = frozenset(
    date.fromisoformat(d)
    for d in ("2026-12-24", "2026-12-25", "2026-12-28", "2026-12-29",
              "2026-12-30", "2026-12-31", "2027-01-01")
)


def at(text: str) -> datetime:
    """'2026-02-02 17:00' as a UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


DUE = at("2026-02-02 17:00")          # Monday
DUE_FRIDAY = at("2026-02-06 17:00")   # Friday
DUE_SATURDAY = at("2026-02-07 23:59")
DUE_BEFORE_CHRISTMAS = at("2026-12-22 17:00")  # Tuesday
REFERRAL_DUE = at("2026-03-02 17:00")  # Monday
THIRD_DUE = at("2026-04-01 17:00")  # Wednesday
AFTER_EVERYTHING = at("2027-06-01 12:00")


def rules(**changes) -> Rules:
    """The peer support course's rules (as in the issue), with changes."""
    base = Rules(
        level=4,
        framework="FHEQ",
        credits=20,
        days=11,
        assessments=(AssessmentRule(slug=SLUG),),
    )
    return dataclasses.replace(base, **changes)


def attempt(mark=65, submitted="2026-02-02 12:00", due=DUE, extension=None, mc=False) -> Attempt:
    return Attempt(
        due=due,
        extension_until=at(extension) if extension else None,
        submitted_at=at(submitted) if submitted else None,
        mark=mark,
        mitigation_accepted=mc,
    )


def referral(mark=65, submitted="2026-03-02 12:00", due=REFERRAL_DUE, **kwargs) -> Attempt:
    return attempt(mark, submitted=submitted, due=due, **kwargs)


def facts(
    attempts=(attempt(),),
    attended=10,
    caught_up=0,
    remaining=0,
    planned=11,
    as_of=AFTER_EVERYTHING,
    opted_out=False,
    diary=0,
    ratified=False,
    extra_attempts=0,
    more_assessments=None,
) -> Facts:
    assessments = {SLUG: AssessmentFacts(attempts=tuple(attempts), extra_attempts_allowed=extra_attempts)}
    assessments.update(more_assessments or {})
    return Facts(
        as_of=as_of,
        attendance=AttendanceFacts(planned=planned, attended=attended, caught_up=caught_up, remaining=remaining),
        assessments=assessments,
        opted_out_of_assessment=opted_out,
        diary_entries=diary,
        ratified=ratified,
    )


CONDONEMENT_ON = CondonementRules(enabled=True, band=5)
NO_LATE_ZERO = LatenessRules(late_second_attempt_scores_zero=False)

# Each case: id, rules, facts, and what the outcome must show.
# Keys of `expect`: award, status, credits, pass_mark; counted, met, reachable
# (attendance); mark, raw, flags, passed, used, left, state (the assignment);
# credit_ok, completion_ok (achievable); missing (a phrase one sentence holds),
# no_missing; note (a phrase one note holds).
CASES = [
    # --- pass mark derived from the level, unless set
    ("pass-mark/derived-40-at-level-4", rules(), facts(),
     dict(pass_mark=40, award=Award.CREDIT, credits=20)),
    ("pass-mark/derived-40-at-level-6", rules(level=6), facts(attempts=[attempt(40)]),
     dict(pass_mark=40, passed=True)),
    ("pass-mark/derived-50-at-level-7-so-45-fails", rules(level=7), facts(attempts=[attempt(45)]),
     dict(pass_mark=50, passed=False, award=None, left=1, credit_ok=True)),
    ("pass-mark/set-explicitly-overrides-level", rules(pass_mark_setting=50), facts(attempts=[attempt(49)]),
     dict(pass_mark=50, passed=False, left=1)),

    # --- attendance: 9 of 11, up to 2 caught-up days count
    ("attendance/9-of-11-met", rules(), facts(attended=9),
     dict(counted=9, met=True, award=Award.CREDIT, status=Status.PROVISIONAL)),
    ("attendance/8-of-11-with-catch-up-still-possible-is-undecided", rules(), facts(attended=8),
     dict(counted=8, met=False, reachable=True, award=None, status=Status.IN_PROGRESS,
          missing="Catch up on 1 missed course day with your tutor (9 of 11 are needed; you have 8")),
    ("attendance/8-counted-and-catch-up-cap-used-is-none", rules(), facts(attended=6, caught_up=2),
     dict(counted=8, met=False, reachable=False, award=Award.NONE, status=Status.PROVISIONAL,
          credits=0, credit_ok=False, completion_ok=False)),
    ("catch-up/2-caught-up-days-count", rules(), facts(attended=7, caught_up=2),
     dict(counted=9, met=True, award=Award.CREDIT)),
    ("catch-up/3rd-caught-up-day-not-counted", rules(), facts(attended=6, caught_up=3),
     dict(counted=8, met=False, reachable=False, award=Award.NONE)),
    ("catch-up/cap-0-means-catch-up-never-counts",
     rules(attendance=AttendanceRules(max_catch_up_days=0)), facts(attended=8, caught_up=1),
     dict(counted=8, reachable=False, award=Award.NONE)),
    ("attendance/brief-example-7-with-2-to-come", rules(), facts(attended=7, remaining=2),
     dict(counted=7, reachable=True, award=None, status=Status.IN_PROGRESS,
          missing="Attend 2 more course days (9 of 11 are needed; you have 7 and 2 are still to come).")),
    ("attendance/undecided-while-days-remain", rules(), facts(attended=5, remaining=4, attempts=[]),
     dict(award=None, status=Status.IN_PROGRESS, credit_ok=True, completion_ok=True,
          missing="Attend 4 more course days")),
    ("attendance/remaining-days-plus-catch-up", rules(), facts(attended=6, remaining=2),
     dict(reachable=True, award=None,
          missing="Attend the 2 remaining course days and catch up on 1 missed day with your tutor")),
    ("attendance/unreachable-while-days-remain-award-still-open", rules(),
     facts(attended=2, remaining=3),
     dict(reachable=False, award=None, status=Status.IN_PROGRESS, credit_ok=False,
          completion_ok=False, missing="can no longer be reached")),
    ("attendance/unreachable-all-held-is-none", rules(), facts(attended=5),
     dict(reachable=False, award=Award.NONE, status=Status.PROVISIONAL, credits=0)),
    ("attendance/met-with-days-to-come-credit-in-progress", rules(), facts(attended=9, remaining=2),
     dict(met=True, award=Award.CREDIT, status=Status.IN_PROGRESS, credits=20, no_missing=True)),

    # --- marks around the pass mark, attempts and referral
    ("mark/40-passes", rules(), facts(attempts=[attempt(40)]),
     dict(mark=40, raw=40, passed=True, flags=[], award=Award.CREDIT, used=1, left=0)),
    ("mark/39-first-attempt-leaves-a-referral", rules(), facts(attempts=[attempt(39)]),
     dict(mark=39, passed=False, used=1, left=1, award=None, status=Status.IN_PROGRESS,
          credit_ok=True, completion_ok=True, state=AssessmentState.AWAITING_NEW_DATE,
          missing="Submit your second attempt at the accredited assignment on a date your tutor will agree")),
    ("mark/39-at-both-attempts-is-completion", rules(), facts(attempts=[attempt(39), referral(39)]),
     dict(mark=39, passed=False, used=2, left=0, flags=[Flag.REFERRAL], award=Award.COMPLETION,
          status=Status.PROVISIONAL, credits=0, credit_ok=False, completion_ok=True,
          state=AssessmentState.NOT_PASSED, no_missing=True)),
    ("referral/pass-capped-at-40-with-R", rules(), facts(attempts=[attempt(30), referral(65)]),
     dict(raw=65, mark=40, flags=[Flag.REFERRAL], passed=True, award=Award.CREDIT, used=2, left=0)),
    ("referral/cap-off-keeps-the-mark",
     rules(attempts=AttemptRules(referral_cap=False)), facts(attempts=[attempt(30), referral(65)]),
     dict(mark=65, flags=[Flag.REFERRAL], award=Award.CREDIT)),
    ("referral/recorded-mark-is-best-of-attempts-after-caps", rules(),
     facts(attempts=[attempt(38), referral(36)]),
     dict(raw=38, mark=38, award=Award.COMPLETION)),
    ("attempts/third-attempt-beyond-the-2-allowed-not-counted", rules(),
     facts(attempts=[attempt(30), referral(30), referral(70, submitted="2026-04-01 12:00", due=THIRD_DUE)]),
     dict(mark=30, used=2, left=0, award=Award.COMPLETION, note="beyond the 2 attempts allowed")),
    ("attempts/extra-attempt-allowed-by-exam-board", rules(),
     facts(attempts=[attempt(30), referral(30), referral(70, submitted="2026-04-01 12:00", due=THIRD_DUE)],
           extra_attempts=1),
     dict(mark=40, used=3, left=0, flags=[Flag.REFERRAL], award=Award.CREDIT)),
    ("attempts/max-1-no-referral", rules(attempts=AttemptRules(max_attempts=1)),
     facts(attempts=[attempt(39)]),
     dict(used=1, left=0, award=Award.COMPLETION)),

    # --- lateness in working days
    ("late/5-working-days-capped-L", rules(), facts(attempts=[attempt(65, submitted="2026-02-09 12:00")]),
     dict(raw=65, mark=40, flags=[Flag.LATE], passed=True, award=Award.CREDIT)),
    ("late/6-working-days-non-submission-NS-0", rules(),
     facts(attempts=[attempt(65, submitted="2026-02-10 09:00")]),
     dict(raw=65, mark=0, flags=[Flag.NON_SUBMISSION], passed=False, used=1, left=1, award=None)),
    ("late/capped-mark-below-pass-stays", rules(), facts(attempts=[attempt(35, submitted="2026-02-04 12:00")]),
     dict(mark=35, flags=[Flag.LATE], passed=False)),
    ("late/minutes-after-deadline-counts-1-working-day", rules(),
     facts(attempts=[attempt(65, submitted="2026-02-02 17:01")]),
     dict(mark=40, flags=[Flag.LATE])),
    ("late/on-the-deadline-minute-is-on-time", rules(),
     facts(attempts=[attempt(65, submitted="2026-02-02 17:00")]),
     dict(mark=65, flags=[])),
    ("late/friday-deadline-saturday-submission-is-1-day", rules(),
     facts(attempts=[attempt(65, due=DUE_FRIDAY, submitted="2026-02-07 10:00")]),
     dict(mark=40, flags=[Flag.LATE])),
    ("late/friday-deadline-next-friday-is-5-days-capped", rules(),
     facts(attempts=[attempt(65, due=DUE_FRIDAY, submitted="2026-02-13 16:00")]),
     dict(mark=40, flags=[Flag.LATE])),
    ("late/friday-deadline-monday-after-next-is-6-days-NS", rules(),
     facts(attempts=[attempt(65, due=DUE_FRIDAY, submitted="2026-02-16 09:00")]),
     dict(mark=0, flags=[Flag.NON_SUBMISSION])),
    ("late/saturday-deadline-monday-is-1-day", rules(),
     facts(attempts=[attempt(65, due=DUE_SATURDAY, submitted="2026-02-09 09:00")]),
     dict(mark=40, flags=[Flag.LATE])),
    ("late/closure-dates-excluded-5-days-capped",
     rules(lateness=LatenessRules(closure_dates=CHRISTMAS_CLOSURE)),
     facts(attempts=[attempt(65, due=DUE_BEFORE_CHRISTMAS, submitted="2027-01-07 12:00")]),
     dict(mark=40, flags=[Flag.LATE], award=Award.CREDIT)),
    ("late/closure-dates-excluded-6-days-NS",
     rules(lateness=LatenessRules(closure_dates=CHRISTMAS_CLOSURE)),
     facts(attempts=[attempt(65, due=DUE_BEFORE_CHRISTMAS, submitted="2027-01-08 12:00")]),
     dict(mark=0, flags=[Flag.NON_SUBMISSION])),
    ("late/without-closure-dates-same-submission-is-NS", rules(),
     facts(attempts=[attempt(65, due=DUE_BEFORE_CHRISTMAS, submitted="2027-01-07 12:00")]),
     dict(mark=0, flags=[Flag.NON_SUBMISSION])),
    ("late/second-attempt-late-scores-0", rules(),
     facts(attempts=[attempt(30), referral(70, submitted="2026-03-03 09:00")]),
     dict(raw=30, mark=30, flags=[Flag.LATE, Flag.REFERRAL], used=2, left=0, award=Award.COMPLETION)),
    ("late/second-attempt-on-time-not-zero", rules(),
     facts(attempts=[attempt(30), referral(70, submitted="2026-03-02 16:59")]),
     dict(mark=40, flags=[Flag.REFERRAL], award=Award.CREDIT)),
    ("late/capped-late-referral-when-late-zero-off", rules(lateness=NO_LATE_ZERO),
     facts(attempts=[attempt(30), referral(70, submitted="2026-03-04 09:00")]),
     dict(raw=70, mark=40, flags=[Flag.LATE, Flag.REFERRAL], award=Award.CREDIT)),
    ("late/capped-late-first-attempt-then-capped-referral", rules(),
     facts(attempts=[attempt(35, submitted="2026-02-04 09:00"), referral(60)]),
     dict(raw=60, mark=40, flags=[Flag.LATE, Flag.REFERRAL], award=Award.CREDIT)),

    # --- extensions: up to 10 working days, lateness from the extended deadline
    ("extension/10-working-days-submitted-on-extended-date-on-time", rules(),
     facts(attempts=[attempt(65, extension="2026-02-16 17:00", submitted="2026-02-16 12:00")]),
     dict(mark=65, flags=[], award=Award.CREDIT)),
    ("extension/11-working-days-clamped-to-10-so-1-day-late", rules(),
     facts(attempts=[attempt(65, extension="2026-02-17 17:00", submitted="2026-02-17 12:00")]),
     dict(mark=40, flags=[Flag.LATE], note="longer than the 10 working days allowed")),
    ("extension/5-days-after-extended-deadline-capped", rules(),
     facts(attempts=[attempt(65, extension="2026-02-16 17:00", submitted="2026-02-23 12:00")]),
     dict(mark=40, flags=[Flag.LATE])),
    ("extension/6-days-after-extended-deadline-NS", rules(),
     facts(attempts=[attempt(65, extension="2026-02-16 17:00", submitted="2026-02-24 12:00")]),
     dict(mark=0, flags=[Flag.NON_SUBMISSION])),

    # --- mitigating circumstances
    ("mitigation/waives-late-cap-MC", rules(),
     facts(attempts=[attempt(65, submitted="2026-02-05 12:00", mc=True)]),
     dict(mark=65, flags=[Flag.MITIGATION], award=Award.CREDIT)),
    ("mitigation/waives-more-than-5-days-late", rules(),
     facts(attempts=[attempt(65, submitted="2026-02-12 12:00", mc=True)]),
     dict(mark=65, flags=[Flag.MITIGATION], award=Award.CREDIT)),
    ("mitigation/waives-late-second-attempt-zero-but-referral-cap-stays", rules(),
     facts(attempts=[attempt(30), referral(70, submitted="2026-03-04 09:00", mc=True)]),
     dict(mark=40, flags=[Flag.MITIGATION, Flag.REFERRAL], award=Award.CREDIT)),
    ("mitigation/non-submission-does-not-use-the-attempt", rules(),
     facts(attempts=[attempt(None, submitted=None, mc=True), referral(65)]),
     dict(raw=65, mark=65, flags=[Flag.NON_SUBMISSION, Flag.MITIGATION], used=1, award=Award.CREDIT)),
    ("mitigation/non-submission-without-it-uses-the-attempt", rules(),
     facts(attempts=[attempt(None, submitted=None), referral(65)]),
     dict(mark=40, flags=[Flag.NON_SUBMISSION, Flag.REFERRAL], used=2, award=Award.CREDIT)),
    ("mitigation/non-submission-waiting-for-a-new-date", rules(),
     facts(attempts=[attempt(None, submitted=None, mc=True)]),
     dict(mark=None, used=0, left=2, award=None, status=Status.IN_PROGRESS,
          state=AssessmentState.AWAITING_NEW_DATE, missing="new date")),

    # --- condonement (off by default)
    ("condonement/off-35-after-all-attempts-not-passed", rules(),
     facts(attempts=[attempt(30), referral(35)]),
     dict(mark=35, passed=False, award=Award.COMPLETION)),
    ("condonement/on-35-after-all-attempts-passes-CD", rules(condonement=CONDONEMENT_ON),
     facts(attempts=[attempt(30), referral(35)]),
     dict(mark=35, passed=True, flags=[Flag.REFERRAL, Flag.CONDONED], award=Award.CREDIT, credits=20)),
    ("condonement/on-39-after-all-attempts-passes-CD", rules(condonement=CONDONEMENT_ON),
     facts(attempts=[attempt(39), referral(20)]),
     dict(mark=39, passed=True, award=Award.CREDIT)),
    ("condonement/on-34-after-all-attempts-not-passed", rules(condonement=CONDONEMENT_ON),
     facts(attempts=[attempt(30), referral(34)]),
     dict(mark=34, passed=False, award=Award.COMPLETION)),
    ("condonement/on-35-with-an-attempt-left-not-condoned", rules(condonement=CONDONEMENT_ON),
     facts(attempts=[attempt(35)]),
     dict(mark=35, passed=False, left=1, flags=[], award=None)),

    # --- opting out of assessment
    ("opted-out/attendance-met-is-completion", rules(), facts(attempts=[], opted_out=True),
     dict(award=Award.COMPLETION, status=Status.PROVISIONAL, credits=0, credit_ok=False,
          completion_ok=True, no_missing=True)),
    ("opted-out/attendance-not-reachable-is-none", rules(), facts(attempts=[], attended=5, opted_out=True),
     dict(award=Award.NONE, credit_ok=False, completion_ok=False)),
    ("opted-out/days-to-come-no-assignment-sentence", rules(),
     facts(attempts=[], attended=7, remaining=4, opted_out=True),
     dict(award=None, credit_ok=False, completion_ok=True, missing="Attend 2 more course days")),

    # --- due dates: pending, overdue, awaiting marking
    ("due/not-yet-due-is-pending", rules(),
     facts(attempts=[attempt(None, submitted=None)], as_of=at("2026-01-20 09:00")),
     dict(mark=None, used=0, left=2, award=None, status=Status.IN_PROGRESS,
          state=AssessmentState.NOT_YET_DUE, missing="Submit the accredited assignment by 2 February 2026.")),
    ("due/extended-deadline-named-in-the-sentence", rules(),
     facts(attempts=[attempt(None, submitted=None, extension="2026-02-16 17:00")],
           as_of=at("2026-02-05 09:00")),
     dict(state=AssessmentState.NOT_YET_DUE, missing="by 16 February 2026 (your extended deadline)")),
    ("due/overdue-5-days-still-open-for-capped-submission", rules(),
     facts(attempts=[attempt(None, submitted=None)], as_of=at("2026-02-09 20:00")),
     dict(used=0, award=None, state=AssessmentState.OVERDUE, missing="by 9 February 2026")),
    ("due/overdue-6-days-is-non-submission", rules(),
     facts(attempts=[attempt(None, submitted=None)], as_of=at("2026-02-10 09:00")),
     dict(mark=0, used=1, left=1, flags=[Flag.NON_SUBMISSION], award=None,
          state=AssessmentState.AWAITING_NEW_DATE)),
    ("due/second-attempt-overdue-is-final-when-late-scores-0", rules(),
     facts(attempts=[attempt(30), referral(None, submitted=None)], as_of=at("2026-03-03 09:00")),
     dict(mark=30, used=2, left=0, award=Award.COMPLETION)),
    ("due/second-attempt-not-yet-due", rules(),
     facts(attempts=[attempt(30), referral(None, submitted=None)], as_of=at("2026-02-20 09:00")),
     dict(used=1, left=1, award=None, state=AssessmentState.NOT_YET_DUE,
          missing="Submit your second attempt at the accredited assignment by 2 March 2026")),
    ("due/submitted-awaiting-marking", rules(),
     facts(attempts=[attempt(None)], as_of=at("2026-02-03 09:00")),
     dict(mark=None, used=1, left=1, award=None, status=Status.IN_PROGRESS,
          state=AssessmentState.AWAITING_MARK, missing="waiting to be marked")),
    ("due/no-attempt-set-yet", rules(), facts(attempts=[]),
     dict(used=0, left=2, award=None, state=AssessmentState.AWAITING_NEW_DATE,
          missing="Submit the accredited assignment (the date is still to be set).")),

    # --- status
    ("status/provisional-when-all-evidence-is-in", rules(), facts(),
     dict(status=Status.PROVISIONAL, award=Award.CREDIT)),
    ("status/ratified-when-board-ratified-and-all-in", rules(), facts(ratified=True),
     dict(status=Status.RATIFIED, award=Award.CREDIT)),
    ("status/ratified-flag-with-days-to-come-stays-in-progress", rules(),
     facts(ratified=True, attended=9, remaining=2),
     dict(status=Status.IN_PROGRESS)),
    ("status/none-waits-for-marking-in-flight", rules(),
     facts(attended=5, attempts=[attempt(None)], as_of=at("2026-02-03 09:00")),
     dict(award=Award.NONE, status=Status.IN_PROGRESS)),

    # --- diary entries (count only)
    ("diary/2-of-4-entries-keeps-it-open", rules(diary=DiaryRules(entries_required=4)), facts(diary=2),
     dict(award=None, status=Status.IN_PROGRESS, credit_ok=True,
          missing="Write 2 more reflective diary entries (4 are needed; you have 2).")),
    ("diary/4-of-4-entries-credit", rules(diary=DiaryRules(entries_required=4)), facts(diary=4),
     dict(award=Award.CREDIT)),

    # --- which assessments count
    ("credit/non-credit-bearing-task-not-required",
     rules(assessments=(AssessmentRule(slug=SLUG), AssessmentRule(slug="practice-task", credit_bearing=False))),
     facts(),
     dict(award=Award.CREDIT, status=Status.PROVISIONAL)),
    ("credit/never-part-credits-for-completion", rules(), facts(attempts=[attempt(10), referral(10)]),
     dict(award=Award.COMPLETION, credits=0)),
    ("credit/unknown-assessment-in-facts-is-noted",
     rules(), facts(more_assessments={"essay": AssessmentFacts()}),
     dict(award=Award.CREDIT, note="essay")),
]


def _assignment(result: dict) -> dict:
    return result["assessments"][SLUG]


CHECKS = {
    "award": lambda o, d: d["award"],
    "status": lambda o, d: d["status"],
    "credits": lambda o, d: d["credits"],
    "pass_mark": lambda o, d: d["pass_mark"],
    "counted": lambda o, d: d["attendance"]["counted"],
    "met": lambda o, d: d["attendance"]["met"],
    "reachable": lambda o, d: d["attendance"]["reachable"],
    "mark": lambda o, d: _assignment(d)["recorded_mark"],
    "raw": lambda o, d: _assignment(d)["raw_mark"],
    "flags": lambda o, d: _assignment(d)["flags"],
    "passed": lambda o, d: _assignment(d)["passed"],
    "used": lambda o, d: _assignment(d)["attempts_used"],
    "left": lambda o, d: _assignment(d)["attempts_left"],
    "state": lambda o, d: o.assessments[SLUG].state,
    "credit_ok": lambda o, d: d["achievable"]["credit"],
    "completion_ok": lambda o, d: d["achievable"]["completion"],
}


def _expected(key, value):
    """Enums in the table, plain JSON values in the output."""
    if key == "flags":
        return [str(flag) for flag in value]
    if key in ("award", "status") and value is not None:
        return value.value
    return value


@pytest.mark.parametrize(("the_rules", "the_facts", "expect"),
                         [pytest.param(r, f, e, id=case_id) for case_id, r, f, e in CASES])
def test_case(the_rules, the_facts, expect):
    outcome = evaluate(the_rules, the_facts)
    result = outcome_to_dict(outcome)
    for key, value in expect.items():
        if key == "missing":
            assert any(value in sentence for sentence in result["missing"]), result["missing"]
        elif key == "no_missing":
            assert result["missing"] == []
        elif key == "note":
            assert any(value in note for note in outcome.notes), outcome.notes
        else:
            assert CHECKS[key](outcome, result) == _expected(key, value), key


def test_the_table_is_big_enough_and_ids_are_unique():
    ids = [case[0] for case in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


# --- the output shape


def test_outcome_to_dict_has_exactly_the_issue_keys():
    result = outcome_to_dict(evaluate(rules(), facts()))
    assert list(result) == ["award", "status", "credits", "level", "framework", "pass_mark",
                            "attendance", "assessments", "achievable", "missing"]
    assert result["attendance"] == {"counted": 10, "required": 9, "met": True, "reachable": True}
    assert result["assessments"] == {SLUG: {"raw_mark": 65, "recorded_mark": 65, "flags": [],
                                            "passed": True, "attempts_used": 1, "attempts_left": 0}}
    assert result["achievable"] == {"credit": True, "completion": False}
    assert (result["award"], result["status"], result["credits"]) == ("credit", "provisional", 20)
    assert (result["level"], result["framework"], result["pass_mark"]) == (4, "FHEQ", 40)


def test_undecided_award_is_json_null():
    result = outcome_to_dict(evaluate(rules(), facts(attended=3, remaining=8)))
    assert result["award"] is None
    assert result["credits"] == 0


def test_notes_can_be_included_on_request():
    the_facts = facts(attempts=[attempt(65, extension="2026-02-17 17:00", submitted="2026-02-17 12:00")])
    result = outcome_to_dict(evaluate(rules(), the_facts), with_notes=True)
    assert "16 February 2026" in result["notes"][0]


def test_per_attempt_detail_explains_the_recorded_mark():
    outcome = evaluate(rules(), facts(attempts=[attempt(35, submitted="2026-02-04 09:00"), referral(60)]))
    first, second = outcome.assessments[SLUG].attempts
    assert (first.counts_as, first.working_days_late, first.recorded_mark) == (1, 2, 35)
    assert (second.counts_as, second.working_days_late, second.recorded_mark) == (2, 0, 40)


def test_notional_hours_are_ten_per_credit():
    assert rules().notional_hours == 200


def test_evaluate_is_a_pure_function_of_its_inputs():
    the_rules, the_facts = rules(), facts(attended=7, remaining=2)
    assert evaluate(the_rules, the_facts) == evaluate(the_rules, the_facts)


def test_submission_in_another_offset_is_judged_on_the_deadline_calendar():
    # 00:30 on Saturday in +02:00 is still Friday 22:30 UTC: 1 working day late, not 0 or 2.
    late = Attempt(due=DUE_FRIDAY, submitted_at=datetime.fromisoformat("2026-02-07T00:30:00+02:00"), mark=65)
    outcome = evaluate(rules(), facts(attempts=[late]))
    assert outcome.assessments[SLUG].attempts[0].working_days_late == 1


# --- pass mark derivation


@pytest.mark.parametrize(("level", "mark"), [(3, 40), (4, 40), (5, 40), (6, 40), (7, 50), (8, 50)])
def test_pass_mark_for_level(level, mark):
    assert pass_mark_for_level(level) == mark


@pytest.mark.parametrize("level", [1, 2, 9])
def test_pass_mark_has_no_default_outside_levels_3_to_8(level):
    with pytest.raises(ValueError, match="pass mark"):
        pass_mark_for_level(level)


# --- working-day arithmetic


@pytest.mark.parametrize(
    ("start", "end", "closures", "expected"),
    [
        pytest.param("2026-02-02", "2026-02-02", (), 0, id="same-day-is-0"),
        pytest.param("2026-02-02", "2026-02-01", (), 0, id="end-before-start-is-0"),
        pytest.param("2026-02-02", "2026-02-03", (), 1, id="monday-to-tuesday-1"),
        pytest.param("2026-02-02", "2026-02-09", (), 5, id="monday-to-next-monday-5"),
        pytest.param("2026-02-02", "2026-02-10", (), 6, id="monday-to-next-tuesday-6"),
        pytest.param("2026-02-06", "2026-02-08", (), 0, id="friday-to-sunday-0"),
        pytest.param("2026-02-07", "2026-02-09", (), 1, id="saturday-to-monday-1"),
        pytest.param("2026-02-02", "2026-03-02", (), 20, id="four-weeks-20"),
        pytest.param("2026-02-02", "2027-02-01", (), 260, id="a-year-260"),
        pytest.param("2026-02-02", "2026-02-09", ("2026-02-04",), 4, id="weekday-closure-excluded"),
        pytest.param("2026-02-02", "2026-02-09", ("2026-02-07",), 5, id="weekend-closure-ignored"),
        pytest.param("2026-02-02", "2026-02-09", ("2026-02-02",), 5, id="closure-on-start-ignored"),
        pytest.param("2026-02-02", "2026-02-09", ("2026-02-09",), 4, id="closure-on-end-excluded"),
        pytest.param("2026-12-22", "2027-01-07", tuple(str(d) for d in CHRISTMAS_CLOSURE), 5,
                     id="christmas-closure"),
    ],
)
def test_working_days_between(start, end, closures, expected):
    closed = frozenset(date.fromisoformat(d) for d in closures)
    assert working_days_between(date.fromisoformat(start), date.fromisoformat(end), closed) == expected


@pytest.mark.parametrize(
    ("start", "days", "closures", "expected"),
    [
        pytest.param("2026-02-02", 0, (), "2026-02-02", id="0-is-the-same-day"),
        pytest.param("2026-02-02", 5, (), "2026-02-09", id="5-from-monday"),
        pytest.param("2026-02-02", 10, (), "2026-02-16", id="10-from-monday"),
        pytest.param("2026-02-06", 1, (), "2026-02-09", id="1-from-friday-is-monday"),
        pytest.param("2026-02-07", 1, (), "2026-02-09", id="1-from-saturday-is-monday"),
        pytest.param("2026-02-02", 1, ("2026-02-03",), "2026-02-04", id="skips-a-closure"),
        pytest.param("2026-12-22", 5, tuple(str(d) for d in CHRISTMAS_CLOSURE), "2027-01-07",
                     id="christmas-closure"),
    ],
)
def test_add_working_days(start, days, closures, expected):
    closed = frozenset(date.fromisoformat(d) for d in closures)
    assert add_working_days(date.fromisoformat(start), days, closed) == date.fromisoformat(expected)


def test_add_then_count_round_trip():
    start = date(2026, 1, 1)
    for days in range(0, 40):
        assert working_days_between(start, add_working_days(start, days, CHRISTMAS_CLOSURE), CHRISTMAS_CLOSURE) == days


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        pytest.param("2026-02-02 16:59", 0, id="before"),
        pytest.param("2026-02-02 17:00", 0, id="on-the-minute"),
        pytest.param("2026-02-02 23:00", 1, id="same-evening-at-least-1"),
        pytest.param("2026-02-03 09:00", 1, id="next-day"),
        pytest.param("2026-02-09 23:59", 5, id="5"),
        pytest.param("2026-02-10 00:00", 6, id="6"),
    ],
)
def test_working_days_late(submitted, expected):
    assert working_days_late(DUE, at(submitted)) == expected


@pytest.mark.parametrize(
    ("extension", "expected", "clamped"),
    [
        pytest.param(None, "2026-02-02 17:00", False, id="none"),
        pytest.param("2026-02-16 17:00", "2026-02-16 17:00", False, id="10-days-kept"),
        pytest.param("2026-02-17 12:00", "2026-02-16 12:00", True, id="11-days-clamped"),
        pytest.param("2026-02-01 12:00", "2026-02-02 17:00", False, id="before-due-ignored"),
    ],
)
def test_extended_deadline(extension, expected, clamped):
    deadline, was_clamped = extended_deadline(DUE, at(extension) if extension else None, 10)
    assert (deadline, was_clamped) == (at(expected), clamped)


def test_outcome_dict_is_json():
    import json

    the_facts = facts(attempts=[attempt(30), referral(65)], attended=7, remaining=2)
    assert json.loads(json.dumps(outcome_to_dict(evaluate(rules(), the_facts), with_notes=True)))


def test_engine_and_reader_import_neither_flask_nor_sqlalchemy():
    import subprocess
    import sys

    code = ("import sys, lms.progress.rules, lms.progress.rules_file; "
            "sys.exit(any(m.split('.')[0] in ('flask', 'sqlalchemy') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
