"""Attendance figures: what each course day counts for, and whether the threshold is still reachable.

Pure: register marks and the course's attendance rules in, figures out. The
figures are always measured against every planned day of the course, not only
the days held so far, so a trainee and their supervisors can see early whether
the threshold can still be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Sequence

# The longest a course day runs, in minutes; more minutes missed than this
# cannot be right.
LONGEST_DAY_MINUTES = 480


class Status(StrEnum):
    """What the register says about one trainee on one course day."""

    UNMARKED = "unmarked"
    PRESENT = "present"
    LATE = "late"
    LEFT_EARLY = "left_early"
    # Both on one day: minutes_missed is the total of the two.
    LATE_AND_LEFT_EARLY = "late_and_left_early"
    ABSENT = "absent"
    AUTHORISED_ABSENCE = "authorised_absence"


class Outcome(StrEnum):
    """What a course day counts for once the rules are applied."""

    COUNTED = "counted"
    MISSED = "missed"
    CAUGHT_UP = "caught_up"
    PENDING = "pending"  # not held yet, or the register is not taken yet


@dataclass(frozen=True)
class Mark:
    """One trainee's register entry for one day, with any catch-up confirmed by a tutor."""

    status: Status
    minutes_missed: int = 0
    caught_up: bool = False


@dataclass(frozen=True)
class AttendanceRules:
    """The attendance part of the course's rules file."""

    planned_days: int = 11
    required_days: int = 9
    max_catch_up_days: int = 2
    absent_if_minutes_missed_over: int = 60


@dataclass(frozen=True)
class Figures:
    """A trainee's attendance against all planned days.

    counted: days that count (attended, or caught up within the cap).
    missed: days that do not count and have not been made up within the cap.
    caught_up_counted / caught_up_beyond_cap: confirmed catch-ups that count,
    and those that don't because the cap was already used.
    remaining: days still to come (0 for a withdrawn trainee).
    best_possible: the most days that could still count.
    met: the threshold is reached. reachable: it is reached or can still be.
    days_short: how many more counted days are needed (0 once met).
    per_day: the outcome of each planned day, in order.
    """

    counted: int
    missed: int
    caught_up_counted: int
    caught_up_beyond_cap: int
    remaining: int
    required: int
    planned: int
    best_possible: int
    met: bool
    reachable: bool
    days_short: int
    per_day: tuple[Outcome, ...]


_MISSED_STATUSES = {Status.ABSENT, Status.AUTHORISED_ABSENCE}
PART_DAY_STATUSES = frozenset({Status.LATE, Status.LEFT_EARLY, Status.LATE_AND_LEFT_EARLY})


def effective(mark: Mark | None, rules: AttendanceRules) -> Outcome:
    """What one day counts for, before the catch-up cap is applied.

    Late or leaving early counts as attended up to the threshold (exactly 60
    minutes missed still counts by default) and as missed beyond it. A missed
    day with a confirmed catch-up is CAUGHT_UP; whether it counts depends on
    the cap, which `figures` applies. No mark, or unmarked, is PENDING.
    """
    if mark is None or mark.status is Status.UNMARKED:
        return Outcome.PENDING
    if mark.status is Status.PRESENT:
        return Outcome.COUNTED
    if (
        mark.status in PART_DAY_STATUSES
        and mark.minutes_missed <= rules.absent_if_minutes_missed_over
    ):
        return Outcome.COUNTED
    # Absent, authorised absence, or too much of the day missed.
    return Outcome.CAUGHT_UP if mark.caught_up else Outcome.MISSED


def figures(
    marks: Sequence[Mark | None], rules: AttendanceRules, withdrawn: bool = False
) -> Figures:
    """Work out a trainee's attendance figures.

    `marks` holds one entry per planned course day, in order; None or an
    unmarked entry means the day is not held or not recorded yet, and a
    shorter sequence leaves the later days pending. Catch-ups count in day
    order until `max_catch_up_days` is used. A withdrawn trainee has no days
    remaining and is never reachable. Raises ValueError if there are more
    marks than planned days.
    """
    if len(marks) > rules.planned_days:
        raise ValueError(
            f"There are {len(marks)} register marks but only {rules.planned_days} planned days."
        )
    padded = list(marks) + [None] * (rules.planned_days - len(marks))
    per_day: list[Outcome] = []
    caught_up_counted = caught_up_beyond_cap = 0
    for mark in padded:
        outcome = effective(mark, rules)
        if outcome is Outcome.CAUGHT_UP:
            if caught_up_counted < rules.max_catch_up_days:
                caught_up_counted += 1
            else:
                caught_up_beyond_cap += 1
                outcome = Outcome.MISSED
        per_day.append(outcome)

    counted = per_day.count(Outcome.COUNTED) + caught_up_counted
    missed = per_day.count(Outcome.MISSED)
    remaining = 0 if withdrawn else per_day.count(Outcome.PENDING)
    # Each day to come may still be attended, and each missed day may still be
    # made up while catch-ups are left. (A day caught up beyond the cap is
    # missed, but then no catch-ups are left, so it is never counted twice.)
    catch_ups_left = rules.max_catch_up_days - caught_up_counted
    best_possible = counted if withdrawn else counted + remaining + min(catch_ups_left, missed)
    met = counted >= rules.required_days
    return Figures(
        counted=counted,
        missed=missed,
        caught_up_counted=caught_up_counted,
        caught_up_beyond_cap=caught_up_beyond_cap,
        remaining=remaining,
        required=rules.required_days,
        planned=rules.planned_days,
        best_possible=best_possible,
        met=met,
        # A withdrawn trainee is no longer on the course, whatever they attended.
        reachable=not withdrawn and best_possible >= rules.required_days,
        days_short=max(0, rules.required_days - counted),
        per_day=tuple(per_day),
    )


def check_minutes(value: object) -> str | None:
    """Check the minutes a trainee missed by arriving late or leaving early.

    Takes what was entered (a whole number, or text holding one); returns a
    plain message if it can't be right, or None if it is fine.
    """
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            return "Enter the minutes missed as a whole number, for example 15."
    if isinstance(value, bool) or not isinstance(value, int):
        return "Enter the minutes missed as a whole number, for example 15."
    if value < 0:
        return "Minutes missed can't be less than 0. Enter 0 or more."
    if value > LONGEST_DAY_MINUTES:
        return (
            f"A course day is at most {LONGEST_DAY_MINUTES} minutes long, so {value} minutes "
            "missed can't be right. If the trainee missed the whole day, mark them absent."
        )
    return None
