"""The credit-level rules engine: a rule set and a trainee's facts in, an outcome out.

Pure: frozen dataclasses and enums, no Flask, no database, no I/O. The same
`evaluate` drives the trainee's path to the certificate, supervisors' grids,
the exam board and certificate issuing, so each of them tells the same story.

The rules themselves are data (`assessments/<slug>/rules.toml`, read by
`lms.progress.rules_file`); the defaults below are those of the peer support
course (issue 9).

How the facts are read, where the issue leaves a choice:

- Attendance is *reachable* while attended + caught-up (up to the cap) +
  days still to come + missed days that could still be caught up (up to the
  cap) reaches the days required. Award `none` needs it unreachable and every
  planned day held.
- An attempt not submitted is *not yet due* before its deadline, and
  *overdue* (still open) while a late submission could still earn a mark:
  up to `capped_up_to_working_days` working days late (none for a referral that
  would score 0 if late). After that it is a non-submission (NS, mark 0).
- Attempts are taken in order: those after a pass or after an attempt still
  open, and those beyond the attempts allowed, are not counted (and noted).
- An assessment's flags are every flag of its counted attempts, plus CD,
  in the order L, NS, MC, R, CD. R marks any counted referral submission.
- Status is `in_progress` until the award is decided, every planned day is
  held, and no credit-bearing attempt is due, overdue or awaiting a mark.
- Diary entries required are required for both awards; while short, the award
  stays open (an entry can always still be written).
- All datetimes must carry a UTC offset (the facts reader insists on it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

# --- the rules


def pass_mark_for_level(level: int) -> int:
    """The usual UK pass mark for a level: 40 at levels 3–6, 50 at levels 7–8.

    Raises ValueError for any other level, where a rule set must say its own.
    """
    if 3 <= level <= 6:
        return 40
    if 7 <= level <= 8:
        return 50
    raise ValueError(f"There is no standard pass mark for level {level}; set one in the rules.")


@dataclass(frozen=True)
class AttendanceRules:
    required_days: int = 9
    max_catch_up_days: int = 2
    # Read by the register (attendance domain), not here: a day with more
    # minutes missed than this is recorded as absent before it reaches us.
    absent_if_minutes_missed_over: int = 60


@dataclass(frozen=True)
class AttemptRules:
    max_attempts: int = 2
    referral_cap: bool = True


@dataclass(frozen=True)
class LatenessRules:
    capped_up_to_working_days: int = 5
    non_submission_after_working_days: int = 5
    late_second_attempt_scores_zero: bool = True
    closure_dates: frozenset[date] = frozenset()


@dataclass(frozen=True)
class ExtensionRules:
    max_working_days: int = 10


@dataclass(frozen=True)
class CondonementRules:
    enabled: bool = False
    band: int = 5


@dataclass(frozen=True)
class DiaryRules:
    entries_required: int = 0


@dataclass(frozen=True)
class AssessmentRule:
    slug: str
    credit_bearing: bool = True
    title: str = ""  # what to call it after "the" in sentences; the slug's words when empty

    @property
    def name(self) -> str:
        return self.title or self.slug.replace("-", " ")


@dataclass(frozen=True)
class Rules:
    """A course's credit-level rules.

    `pass_mark_setting` is the pass mark the rules file sets, if any; read
    `pass_mark`, which falls back to the level's usual pass mark.
    """

    level: int
    framework: str
    credits: int
    days: int
    assessments: tuple[AssessmentRule, ...]
    pass_mark_setting: int | None = None
    attendance: AttendanceRules = field(default_factory=AttendanceRules)
    attempts: AttemptRules = field(default_factory=AttemptRules)
    lateness: LatenessRules = field(default_factory=LatenessRules)
    extensions: ExtensionRules = field(default_factory=ExtensionRules)
    condonement: CondonementRules = field(default_factory=CondonementRules)
    diary: DiaryRules = field(default_factory=DiaryRules)

    @property
    def pass_mark(self) -> int:
        if self.pass_mark_setting is not None:
            return self.pass_mark_setting
        return pass_mark_for_level(self.level)

    @property
    def notional_hours(self) -> int:
        return self.credits * 10


# --- the facts about one trainee


@dataclass(frozen=True)
class AttendanceFacts:
    planned: int  # course days in the cohort's schedule
    attended: int  # days counted as attended (present, or late within the threshold)
    caught_up: int = 0  # missed days with a confirmed catch-up
    remaining: int = 0  # planned days not yet held


@dataclass(frozen=True)
class Attempt:
    due: datetime
    submitted_at: datetime | None = None  # None: not submitted
    mark: int | None = None  # None: not (yet) marked
    extension_until: datetime | None = None
    mitigation_accepted: bool = False


@dataclass(frozen=True)
class AssessmentFacts:
    attempts: tuple[Attempt, ...] = ()
    extra_attempts_allowed: int = 0  # granted by an exam board


@dataclass(frozen=True)
class Facts:
    as_of: datetime
    attendance: AttendanceFacts
    assessments: Mapping[str, AssessmentFacts] = field(default_factory=dict)
    opted_out_of_assessment: bool = False
    diary_entries: int = 0
    ratified: bool = False


# --- the outcome


class Award(StrEnum):
    CREDIT = "credit"
    COMPLETION = "completion"
    NONE = "none"


class Status(StrEnum):
    IN_PROGRESS = "in_progress"
    PROVISIONAL = "provisional"
    RATIFIED = "ratified"


class Flag(StrEnum):
    """Marks on a recorded mark, in the order they are listed."""

    LATE = "L"
    NON_SUBMISSION = "NS"
    MITIGATION = "MC"
    REFERRAL = "R"
    CONDONED = "CD"


_FLAG_ORDER = tuple(Flag)  # iterating an Enum is slow; the engine orders flags thousands of times a page


class AttemptState(StrEnum):
    NOT_YET_DUE = "not_yet_due"
    OVERDUE = "overdue"  # past the deadline, a late submission would still count
    AWAITING_MARK = "awaiting_mark"
    COUNTED = "counted"  # its mark is known, given by the marker or by a rule
    NOT_SUBMITTED = "not_submitted"


class AssessmentState(StrEnum):
    NOT_YET_DUE = "not_yet_due"
    OVERDUE = "overdue"
    AWAITING_MARK = "awaiting_mark"
    AWAITING_NEW_DATE = "awaiting_new_date"  # an attempt is left but none is set
    PASSED = "passed"
    NOT_PASSED = "not_passed"  # no attempt left


@dataclass(frozen=True)
class AttemptOutcome:
    position: int  # 1-based, in the order the facts list attempts
    counts_as: int  # 1 first attempt, 2 referral, ...; a mitigated non-submission leaves its number to the next
    state: AttemptState
    due: datetime
    deadline: datetime  # after any extension
    extension_cut_back: bool  # the extension was longer than allowed and was cut back
    submitted_at: datetime | None
    working_days_late: int
    raw_mark: int | None
    recorded_mark: int | None
    flags: tuple[Flag, ...]
    uses_attempt: bool
    mitigation_accepted: bool


@dataclass(frozen=True)
class AssessmentOutcome:
    slug: str
    name: str
    credit_bearing: bool
    state: AssessmentState
    raw_mark: int | None
    recorded_mark: int | None
    flags: tuple[Flag, ...]
    passed: bool
    attempts_used: int
    attempts_left: int
    attempts: tuple[AttemptOutcome, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class AttendanceOutcome:
    planned: int
    attended: int
    caught_up_counted: int
    remaining: int
    counted: int
    required: int
    met: bool
    reachable: bool
    catch_ups_still_possible: int


@dataclass(frozen=True)
class Achievable:
    credit: bool
    completion: bool


@dataclass(frozen=True)
class Outcome:
    award: Award | None  # None while undecided
    status: Status
    credits: int
    level: int
    framework: str
    pass_mark: int
    attendance: AttendanceOutcome
    assessments: Mapping[str, AssessmentOutcome]
    achievable: Achievable
    missing: tuple[str, ...]  # plain sentences: what is still needed
    notes: tuple[str, ...]  # why the engine read the facts as it did (clamped extensions, ignored attempts)
    diary_entries: int
    diary_entries_required: int


# --- working days


def is_working_day(day: date, closures: Iterable[date] = frozenset()) -> bool:
    """True for Monday to Friday, unless the day is a closure date."""
    return day.weekday() < 5 and day not in closures


def working_days_between(start: date, end: date, closures: Iterable[date] = frozenset()) -> int:
    """Working days after `start` up to and including `end`; 0 when end is not after start."""
    if end <= start:
        return 0
    weeks, extra = divmod((end - start).days, 7)
    # Every run of 7 days holds exactly 5 weekdays; count the rest one by one.
    count = weeks * 5
    tail_start = start + timedelta(days=weeks * 7)
    count += sum(1 for offset in range(1, extra + 1) if (tail_start + timedelta(days=offset)).weekday() < 5)
    count -= sum(1 for day in set(closures) if start < day <= end and day.weekday() < 5)
    return count


def add_working_days(start: date, days: int, closures: Iterable[date] = frozenset()) -> date:
    """The date `days` working days after `start` (`start` itself for 0)."""
    closed = frozenset(closures)
    day = start
    for _ in range(days):
        day += timedelta(days=1)
        while not is_working_day(day, closed):
            day += timedelta(days=1)
    return day


def working_days_late(deadline: datetime, submitted: datetime, closures: Iterable[date] = frozenset()) -> int:
    """0 if submitted by the deadline; otherwise the working days after the deadline's
    date up to and including the submission's date, and at least 1.

    Both dates are read on the deadline's own calendar (its UTC offset), so a
    submission at 00:30 in another offset is not a day later than it was.
    """
    if submitted <= deadline:
        return 0
    submitted_local = submitted.astimezone(deadline.tzinfo)
    return max(1, working_days_between(deadline.date(), submitted_local.date(), closures))


def extended_deadline(
    due: datetime,
    extension_until: datetime | None,
    max_working_days: int,
    closures: Iterable[date] = frozenset(),
) -> tuple[datetime, bool]:
    """The deadline that applies, and whether the extension was cut back to the maximum.

    An extension before the due date is ignored; one longer than
    `max_working_days` working days is cut back to the last allowed day, at the
    extension's time of day.
    """
    if extension_until is None or extension_until <= due:
        return due, False
    extension = extension_until.astimezone(due.tzinfo)
    if working_days_between(due.date(), extension.date(), closures) <= max_working_days:
        return extension_until, False
    last_day = add_working_days(due.date(), max_working_days, closures)
    return datetime.combine(last_day, extension.timetz()), True


# --- plain words

_MONTHS = ("January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def long_date(day: date | datetime) -> str:
    """'2 February 2026' (no leading zero, English month names whatever the locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _days(count: int, word: str = "course day") -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _ordinal(number: int) -> str:
    return _ORDINALS[number - 1] if 1 <= number <= len(_ORDINALS) else f"{number}th"


# --- attendance


def attendance_outcome(rules: Rules, attendance: AttendanceFacts) -> AttendanceOutcome:
    """Days counted towards the threshold, and whether the threshold is met or still reachable.

    Only `max_catch_up_days` caught-up days count. A missed day not yet caught
    up may still be, while the cap allows: it keeps the threshold reachable.
    """
    cap = rules.attendance.max_catch_up_days
    caught_up_counted = min(attendance.caught_up, cap)
    counted = attendance.attended + caught_up_counted
    missed_not_caught_up = max(
        0, attendance.planned - attendance.attended - attendance.remaining - attendance.caught_up
    )
    catch_ups_possible = max(0, min(cap - caught_up_counted, missed_not_caught_up))
    required = rules.attendance.required_days
    return AttendanceOutcome(
        planned=attendance.planned,
        attended=attendance.attended,
        caught_up_counted=caught_up_counted,
        remaining=attendance.remaining,
        counted=counted,
        required=required,
        met=counted >= required,
        reachable=counted + attendance.remaining + catch_ups_possible >= required,
        catch_ups_still_possible=catch_ups_possible,
    )


def _attendance_sentence(att: AttendanceOutcome, cap: int) -> str:
    short = att.required - att.counted
    needed = f"{att.required} of {att.planned} are needed"
    if not att.reachable:
        return (f"The {att.required} course days needed for a certificate can no longer be reached. "
                "Please talk to your tutor about what you can do next.")
    if att.remaining >= short:
        to_come = f"{att.remaining} is still to come" if att.remaining == 1 else f"{att.remaining} are still to come"
        days = "course day" if short == 1 else "course days"
        return f"Attend {short} more {days} ({needed}; you have {att.counted} and {to_come})."
    catch_up = short - att.remaining
    if att.remaining:
        remaining = "the remaining course day" if att.remaining == 1 else f"the {att.remaining} remaining course days"
        return (f"Attend {remaining} and catch up on {_days(catch_up, 'missed day')} with your tutor "
                f"({needed}; you have {att.counted}).")
    return (f"Catch up on {_days(catch_up, 'missed course day')} with your tutor "
            f"({needed}; you have {att.counted}, and up to {_days(cap, 'missed day')} can be caught up).")


# --- one attempt, one assessment


def _judge_attempt(rules: Rules, attempt: Attempt, position: int, counts_as: int, as_of: datetime) -> AttemptOutcome:
    """What one attempt counts for: its state, recorded mark and flags."""
    pass_mark = rules.pass_mark
    lateness = rules.lateness
    closures = lateness.closure_dates
    deadline, cut_back = extended_deadline(attempt.due, attempt.extension_until, rules.extensions.max_working_days,
                                           closures)
    referral = counts_as >= 2
    mitigated = attempt.mitigation_accepted
    late_scores_zero = referral and lateness.late_second_attempt_scores_zero and not mitigated
    flags: set[Flag] = {Flag.MITIGATION} if mitigated else set()

    def result(state, days_late, recorded, uses_attempt=True, raw=attempt.mark):
        return AttemptOutcome(
            position=position, counts_as=counts_as, state=state, due=attempt.due, deadline=deadline,
            extension_cut_back=cut_back, submitted_at=attempt.submitted_at, working_days_late=days_late,
            raw_mark=raw, recorded_mark=recorded, flags=tuple(f for f in _FLAG_ORDER if f in flags) if flags else (),
            uses_attempt=uses_attempt, mitigation_accepted=mitigated,
        )

    if attempt.submitted_at is None:
        if as_of <= deadline:
            return result(AttemptState.NOT_YET_DUE, 0, None, uses_attempt=False)
        late_so_far = working_days_late(deadline, as_of, closures)
        # While a late submission could still earn a mark, the attempt is open.
        if mitigated:
            still_open = lateness.non_submission_after_working_days
        else:
            still_open = 0 if late_scores_zero else lateness.capped_up_to_working_days
        if late_so_far <= still_open:
            return result(AttemptState.OVERDUE, late_so_far, None, uses_attempt=False)
        flags.add(Flag.NON_SUBMISSION)
        # Accepted mitigation: the missed attempt does not count against the trainee.
        return result(AttemptState.NOT_SUBMITTED, late_so_far, None if mitigated else 0,
                      uses_attempt=not mitigated, raw=None)

    days_late = working_days_late(deadline, attempt.submitted_at, closures)
    recorded = attempt.mark
    if days_late and not mitigated:
        if days_late > lateness.non_submission_after_working_days:
            flags.add(Flag.NON_SUBMISSION)
            return result(AttemptState.NOT_SUBMITTED, days_late, 0)
        flags.add(Flag.LATE)
        if late_scores_zero or days_late > lateness.capped_up_to_working_days:
            recorded = 0
        elif recorded is not None:
            recorded = min(recorded, pass_mark)
    if referral:
        flags.add(Flag.REFERRAL)
        if rules.attempts.referral_cap and recorded is not None:
            recorded = min(recorded, pass_mark)
    state = AttemptState.AWAITING_MARK if recorded is None else AttemptState.COUNTED
    return result(state, days_late, recorded)


_PENDING = {
    AttemptState.NOT_YET_DUE: AssessmentState.NOT_YET_DUE,
    AttemptState.OVERDUE: AssessmentState.OVERDUE,
    AttemptState.AWAITING_MARK: AssessmentState.AWAITING_MARK,
}


def evaluate_assessment(
    rules: Rules, rule: AssessmentRule, facts: AssessmentFacts, as_of: datetime
) -> AssessmentOutcome:
    """One assessment's recorded mark (the best of its attempts after caps), flags and state."""
    allowed = rules.attempts.max_attempts + facts.extra_attempts_allowed
    pass_mark = rules.pass_mark
    judged: list[AttemptOutcome] = []
    notes: list[str] = []
    used = 0
    pending: AttemptOutcome | None = None
    for position, attempt in enumerate(facts.attempts, start=1):
        if pending is not None or any(a.recorded_mark is not None and a.recorded_mark >= pass_mark for a in judged):
            notes.append(f"Attempt {position} at the {rule.name} was not counted: it comes after "
                         "an attempt that has passed or is still open.")
            continue
        if used >= allowed:
            notes.append(f"Attempt {position} at the {rule.name} was not counted: it is beyond "
                         f"the {allowed} attempts allowed.")
            continue
        outcome = _judge_attempt(rules, attempt, position, used + 1, as_of)
        if outcome.extension_cut_back:
            notes.append(f"The extension for attempt {position} at the {rule.name} to "
                         f"{long_date(attempt.extension_until.astimezone(attempt.due.tzinfo))} is longer than "
                         f"the {rules.extensions.max_working_days} working days allowed, so the deadline used is "
                         f"{long_date(outcome.deadline)}.")
        judged.append(outcome)
        used += outcome.uses_attempt
        if outcome.state in _PENDING:
            pending = outcome

    counted = [a for a in judged if a.recorded_mark is not None]
    # The best recorded mark; on a tie the later attempt, whose raw mark is the more recent.
    best = max(reversed(counted), key=lambda a: a.recorded_mark, default=None)
    recorded = best.recorded_mark if best else None
    flags = {f for a in judged for f in a.flags}
    passed = recorded is not None and recorded >= pass_mark
    left = max(0, allowed - used)
    condonement = rules.condonement
    if (not passed and pending is None and left == 0 and condonement.enabled and recorded is not None
            and pass_mark - condonement.band <= recorded < pass_mark):
        passed = True
        flags.add(Flag.CONDONED)

    if passed:
        state, left = AssessmentState.PASSED, 0
    elif pending is not None:
        state = _PENDING[pending.state]
    elif left:
        state = AssessmentState.AWAITING_NEW_DATE
    else:
        state = AssessmentState.NOT_PASSED
    return AssessmentOutcome(
        slug=rule.slug,
        name=rule.name,
        credit_bearing=rule.credit_bearing,
        state=state,
        raw_mark=best.raw_mark if best else None,
        recorded_mark=recorded,
        flags=tuple(f for f in Flag if f in flags),
        passed=passed,
        attempts_used=used,
        attempts_left=left,
        attempts=tuple(judged),
        notes=tuple(notes),
    )


def _assessment_sentence(rules: Rules, assessment: AssessmentOutcome) -> str | None:
    """What the trainee still has to do for one assessment, or None."""
    name = assessment.name
    pass_mark = rules.pass_mark
    current = assessment.attempts[-1] if assessment.attempts else None
    next_number = assessment.attempts_used + 1
    cap_note = (f" (a pass at a {_ordinal(next_number)} attempt is recorded at {pass_mark})"
                if next_number >= 2 and rules.attempts.referral_cap else "")
    what = f"the {name}" if next_number == 1 else f"your {_ordinal(next_number)} attempt at the {name}"
    state = assessment.state
    if state is AssessmentState.NOT_YET_DUE:
        extended = " (your extended deadline)" if current.deadline != current.due else ""
        return f"Submit {what} by {long_date(current.deadline)}{extended}{cap_note}."
    if state is AssessmentState.OVERDUE:
        if current.mitigation_accepted:
            return (f"Submit {what} as soon as you can: it was due on {long_date(current.deadline)}, "
                    "and as your mitigating circumstances were accepted, no late penalty applies.")
        last_day = add_working_days(current.deadline.date(), rules.lateness.capped_up_to_working_days,
                                    rules.lateness.closure_dates)
        return (f"Submit {what} as soon as you can: it was due on {long_date(current.deadline)}. "
                f"If you submit it by {long_date(last_day)}, it will still be marked, "
                f"with the mark capped at {pass_mark}.")
    if state is AssessmentState.AWAITING_MARK:
        return (f"Your {name} is waiting to be marked (submitted on {long_date(current.submitted_at)}); "
                "nothing more is needed from you for now.")
    if state is AssessmentState.AWAITING_NEW_DATE:
        if current is None:
            return f"Submit the {name} (the date is still to be set)."
        if current.state is AttemptState.NOT_SUBMITTED and current.mitigation_accepted:
            return (f"Submit {what} on a new date to be agreed with your tutor: your mitigating "
                    "circumstances were accepted, so the missed deadline does not count as an attempt.")
        return f"Submit {what} on a date your tutor will agree with you{cap_note}."
    return None


# --- the whole outcome


def evaluate(rules: Rules, facts: Facts) -> Outcome:
    """The award, status and reasons for one trainee, from the rules and their facts.

    award: credit | completion | none, or None while it can still change.
    status: in_progress while anything can still change, provisional when all
    the evidence is in, ratified once an exam board has ratified it.
    """
    attendance = attendance_outcome(rules, facts.attendance)
    assessments = {
        rule.slug: evaluate_assessment(rules, rule, facts.assessments.get(rule.slug, AssessmentFacts()), facts.as_of)
        for rule in rules.assessments
    }
    notes = [note for a in assessments.values() for note in a.notes]
    notes += [f"The facts include an assessment called '{slug}' that these rules do not list; it was not counted."
              for slug in facts.assessments if slug not in assessments]

    opted_out = facts.opted_out_of_assessment
    required = [] if opted_out else [a for a in assessments.values() if a.credit_bearing]
    diary_met = facts.diary_entries >= rules.diary.entries_required
    all_held = facts.attendance.remaining == 0
    can_still_pass = all(a.state is not AssessmentState.NOT_PASSED for a in required)

    award: Award | None = None
    if not attendance.reachable:
        credit_ok = completion_ok = False
        if all_held:
            award = Award.NONE
    else:
        credit_ok = not opted_out and can_still_pass
        if attendance.met and diary_met:
            if not opted_out and all(a.passed for a in required):
                award = Award.CREDIT
            elif not credit_ok:
                award = Award.COMPLETION
        completion_ok = award is not Award.CREDIT

    in_flight = any(a.state in _PENDING.values() for a in required)
    settled = award is not None and all_held and not in_flight
    if settled:
        status = Status.RATIFIED if facts.ratified else Status.PROVISIONAL
    else:
        status = Status.IN_PROGRESS

    missing: list[str] = []
    if award is None:
        if not attendance.met:
            missing.append(_attendance_sentence(attendance, rules.attendance.max_catch_up_days))
        if attendance.reachable:
            if credit_ok:
                missing += [s for a in required if not a.passed and (s := _assessment_sentence(rules, a))]
            if not diary_met:
                short = rules.diary.entries_required - facts.diary_entries
                entries = "1 more reflective diary entry" if short == 1 else f"{short} more reflective diary entries"
                missing.append(f"Write {entries} ({rules.diary.entries_required} are needed; "
                               f"you have {facts.diary_entries}).")

    return Outcome(
        award=award,
        status=status,
        credits=rules.credits if award is Award.CREDIT else 0,
        level=rules.level,
        framework=rules.framework,
        pass_mark=rules.pass_mark,
        attendance=attendance,
        assessments=assessments,
        achievable=Achievable(credit=credit_ok, completion=completion_ok),
        missing=tuple(missing),
        notes=tuple(notes),
        diary_entries=facts.diary_entries,
        diary_entries_required=rules.diary.entries_required,
    )


def outcome_to_dict(outcome: Outcome, *, with_notes: bool = False) -> dict:
    """The outcome as JSON-ready data, with exactly the keys of issue 9 (plus `notes` on request)."""
    result = {
        "award": outcome.award.value if outcome.award else None,
        "status": outcome.status.value,
        "credits": outcome.credits,
        "level": outcome.level,
        "framework": outcome.framework,
        "pass_mark": outcome.pass_mark,
        "attendance": {
            "counted": outcome.attendance.counted,
            "required": outcome.attendance.required,
            "met": outcome.attendance.met,
            "reachable": outcome.attendance.reachable,
        },
        "assessments": {
            slug: {
                "raw_mark": a.raw_mark,
                "recorded_mark": a.recorded_mark,
                "flags": [flag.value for flag in a.flags],
                "passed": a.passed,
                "attempts_used": a.attempts_used,
                "attempts_left": a.attempts_left,
            }
            for slug, a in outcome.assessments.items()
        },
        "achievable": {"credit": outcome.achievable.credit, "completion": outcome.achievable.completion},
        "missing": list(outcome.missing),
    }
    if with_notes:
        result["notes"] = list(outcome.notes)
    return result
