"""Attendance figures: every status, the thresholds, catch-ups and reachability."""

import pytest

from lms.attendance.rules import (
    AttendanceRules,
    Mark,
    Outcome,
    Status,
    check_minutes,
    effective,
    figures,
)

RULES = AttendanceRules()  # 11 planned, 9 required, 2 catch-ups, over 60 minutes = absent

PRESENT = Mark(Status.PRESENT)
ABSENT = Mark(Status.ABSENT)
CAUGHT_UP = Mark(Status.ABSENT, caught_up=True)


def course(*marks):
    """The given marks for the first days, the rest not held yet."""
    return list(marks) + [None] * (RULES.planned_days - len(marks))


# --- One day ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("mark", "outcome"),
    [
        (None, Outcome.PENDING),
        (Mark(Status.UNMARKED), Outcome.PENDING),
        (Mark(Status.PRESENT), Outcome.COUNTED),
        (Mark(Status.LATE, 15), Outcome.COUNTED),
        (Mark(Status.LEFT_EARLY, 30), Outcome.COUNTED),
        (Mark(Status.ABSENT), Outcome.MISSED),
        (Mark(Status.AUTHORISED_ABSENCE), Outcome.MISSED),
        (Mark(Status.ABSENT, caught_up=True), Outcome.CAUGHT_UP),
        (Mark(Status.AUTHORISED_ABSENCE, caught_up=True), Outcome.CAUGHT_UP),
        # A catch-up on a day attended changes nothing.
        (Mark(Status.PRESENT, caught_up=True), Outcome.COUNTED),
        (Mark(Status.UNMARKED, caught_up=True), Outcome.PENDING),
    ],
)
def test_every_status(mark, outcome):
    assert effective(mark, RULES) is outcome


def test_every_status_is_covered():
    assert {status.value for status in Status} == {
        "unmarked",
        "present",
        "late",
        "left_early",
        "late_and_left_early",
        "absent",
        "authorised_absence",
    }


@pytest.mark.parametrize("status", [Status.LATE, Status.LEFT_EARLY, Status.LATE_AND_LEFT_EARLY])
@pytest.mark.parametrize(
    ("minutes", "outcome"),
    [(0, Outcome.COUNTED), (59, Outcome.COUNTED), (60, Outcome.COUNTED), (61, Outcome.MISSED)],
)
def test_part_days_count_up_to_the_threshold(status, minutes, outcome):
    assert effective(Mark(status, minutes), RULES) is outcome


@pytest.mark.parametrize("status", [Status.LATE, Status.LEFT_EARLY])
def test_a_part_day_beyond_the_threshold_can_be_caught_up(status):
    assert effective(Mark(status, 200, caught_up=True), RULES) is Outcome.CAUGHT_UP


def test_a_part_day_within_the_threshold_is_not_a_catch_up():
    assert effective(Mark(Status.LATE, 10, caught_up=True), RULES) is Outcome.COUNTED


def test_the_threshold_comes_from_the_rules():
    strict = AttendanceRules(absent_if_minutes_missed_over=30)
    assert effective(Mark(Status.LATE, 30), strict) is Outcome.COUNTED
    assert effective(Mark(Status.LATE, 31), strict) is Outcome.MISSED


def test_minutes_are_ignored_for_present_and_absent():
    assert effective(Mark(Status.PRESENT, 400), RULES) is Outcome.COUNTED
    assert effective(Mark(Status.ABSENT, 0), RULES) is Outcome.MISSED


# --- The course ------------------------------------------------------------


def test_all_pending():
    result = figures([None] * 11, RULES)
    assert result.counted == 0
    assert result.missed == 0
    assert result.remaining == 11
    assert result.best_possible == 11
    assert result.days_short == 9
    assert result.required == 9
    assert result.planned == 11
    assert not result.met
    assert result.reachable
    assert result.per_day == (Outcome.PENDING,) * 11


def test_no_marks_at_all_is_all_pending():
    assert figures([], RULES) == figures([None] * 11, RULES)
    assert figures([Mark(Status.UNMARKED)] * 11, RULES) == figures([], RULES)


def test_figures_are_against_all_planned_days_not_only_those_held():
    # Three days held, all attended: 100% of the days held, but 3 of the 9 needed.
    result = figures(course(PRESENT, PRESENT, PRESENT), RULES)
    assert result.counted == 3
    assert result.remaining == 8
    assert result.days_short == 6
    assert not result.met
    assert result.reachable


def test_all_present():
    result = figures([PRESENT] * 11, RULES)
    assert (result.counted, result.missed, result.remaining) == (11, 0, 0)
    assert result.met and result.reachable
    assert result.days_short == 0


def test_met_exactly_at_the_required_days():
    result = figures([PRESENT] * 9 + [ABSENT] * 2, RULES)
    assert result.counted == 9
    assert result.met
    assert result.reachable
    assert result.days_short == 0


def test_every_status_in_one_course():
    marks = [
        PRESENT,
        Mark(Status.LATE, 60),
        Mark(Status.LATE, 61),
        Mark(Status.LEFT_EARLY, 45),
        Mark(Status.LEFT_EARLY, 90),
        ABSENT,
        Mark(Status.AUTHORISED_ABSENCE),
        Mark(Status.UNMARKED),
        None,
        None,
        None,
    ]
    result = figures(marks, RULES)
    assert result.per_day == (
        Outcome.COUNTED,
        Outcome.COUNTED,
        Outcome.MISSED,
        Outcome.COUNTED,
        Outcome.MISSED,
        Outcome.MISSED,
        Outcome.MISSED,
        Outcome.PENDING,
        Outcome.PENDING,
        Outcome.PENDING,
        Outcome.PENDING,
    )
    assert (result.counted, result.missed, result.remaining) == (3, 4, 4)
    # 3 counted + 4 to come + 2 catch-ups = 9: only just reachable.
    assert result.best_possible == 9
    assert result.reachable


def test_catch_ups_count_up_to_the_cap():
    result = figures(course(CAUGHT_UP, CAUGHT_UP, PRESENT), RULES)
    assert result.counted == 3
    assert result.caught_up_counted == 2
    assert result.caught_up_beyond_cap == 0
    assert result.missed == 0
    assert result.per_day[:3] == (Outcome.CAUGHT_UP, Outcome.CAUGHT_UP, Outcome.COUNTED)


def test_catch_ups_beyond_the_cap_do_not_count():
    result = figures(course(CAUGHT_UP, PRESENT, CAUGHT_UP, CAUGHT_UP), RULES)
    assert result.counted == 3
    assert result.caught_up_counted == 2
    assert result.caught_up_beyond_cap == 1
    assert result.missed == 1
    # The earliest catch-ups are the ones that count.
    assert result.per_day[:4] == (
        Outcome.CAUGHT_UP,
        Outcome.COUNTED,
        Outcome.CAUGHT_UP,
        Outcome.MISSED,
    )
    # No catch-ups left: 3 counted + 7 to come.
    assert result.best_possible == 10


def test_a_course_without_catch_ups():
    rules = AttendanceRules(max_catch_up_days=0)
    result = figures(course(CAUGHT_UP, ABSENT), rules)
    assert result.counted == 0
    assert result.caught_up_beyond_cap == 1
    assert result.missed == 2
    assert result.best_possible == 9
    assert result.reachable


def test_missed_days_are_reachable_only_while_catch_ups_are_left():
    # Two days missed and not yet caught up, both catch-ups still available.
    result = figures(course(ABSENT, ABSENT), RULES)
    assert result.best_possible == 11
    # One caught up: one catch-up is left for the other.
    result = figures(course(CAUGHT_UP, ABSENT), RULES)
    assert result.best_possible == 11
    # Three missed: only two can be made up.
    result = figures(course(ABSENT, ABSENT, ABSENT), RULES)
    assert result.best_possible == 10


@pytest.mark.parametrize(
    ("absences", "reachable"),
    [(0, True), (1, True), (2, True), (3, True), (4, True), (5, False), (6, False)],
)
def test_reachable_with_default_rules(absences, reachable):
    # Two absences can be made up, so the threshold goes at the fifth absence:
    # the third that cannot be recovered.
    result = figures(course(*[ABSENT] * absences), RULES)
    assert result.reachable is reachable
    assert result.best_possible == 11 - absences + min(2, absences)


def test_reachable_flips_at_the_third_unrecoverable_absence():
    both_caught_up = [CAUGHT_UP, CAUGHT_UP]
    assert figures(course(*both_caught_up), RULES).reachable
    assert figures(course(*both_caught_up, ABSENT), RULES).reachable
    two = figures(course(*both_caught_up, ABSENT, ABSENT), RULES)
    assert two.reachable
    assert two.best_possible == 9
    three = figures(course(*both_caught_up, ABSENT, ABSENT, ABSENT), RULES)
    assert not three.reachable
    assert three.best_possible == 8
    assert three.days_short == 7


def test_a_late_arrival_beyond_the_threshold_can_cost_the_threshold():
    long_late = Mark(Status.LATE, 61)
    assert figures(course(*[long_late] * 4), RULES).reachable
    assert not figures(course(*[long_late] * 5), RULES).reachable
    assert figures(course(*[Mark(Status.LATE, 60)] * 11), RULES).met


def test_a_withdrawn_trainee_is_never_reachable():
    result = figures(course(PRESENT, PRESENT), RULES, withdrawn=True)
    assert result.counted == 2
    assert result.remaining == 0
    assert result.best_possible == 2
    assert not result.reachable
    assert not result.met
    assert result.days_short == 7


def test_a_withdrawn_trainee_is_not_reachable_even_after_meeting_the_threshold():
    result = figures([PRESENT] * 10 + [None], RULES, withdrawn=True)
    assert result.met
    assert not result.reachable
    assert result.remaining == 0


def test_the_rules_can_change_the_course_length():
    rules = AttendanceRules(planned_days=5, required_days=4, max_catch_up_days=1)
    result = figures([PRESENT, ABSENT, ABSENT], rules)
    assert result.per_day == (
        Outcome.COUNTED,
        Outcome.MISSED,
        Outcome.MISSED,
        Outcome.PENDING,
        Outcome.PENDING,
    )
    assert result.best_possible == 4
    assert result.reachable


def test_more_marks_than_planned_days_is_refused():
    with pytest.raises(ValueError, match="12 register marks but only 11 planned days"):
        figures([PRESENT] * 12, RULES)


# --- Minutes entered in the register ---------------------------------------


@pytest.mark.parametrize("value", [0, 1, 60, 61, 480, "15", " 45 "])
def test_sensible_minutes_are_accepted(value):
    assert check_minutes(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "can't be less than 0"),
        ("-5", "can't be less than 0"),
        (481, "at most 480 minutes long"),
        (10_000, "mark them absent"),
        ("", "whole number"),
        ("ten", "whole number"),
        ("1.5", "whole number"),
        (1.5, "whole number"),
        (None, "whole number"),
        (True, "whole number"),
    ],
)
def test_negative_or_absurd_minutes_get_a_plain_message(value, message):
    assert message in check_minutes(value)
