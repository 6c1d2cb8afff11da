"""The marking chain of the accredited assignment, and the rules that go with it.

Pure: states, actions and marks in, states, samples, marks and messages out.
Also here, as pure helpers of the same assignment: word counts, deadlines
and lateness in working days, balanced allocation, receipt digests and safe
CSV cells.

The chain, per submission:

    submitted -> in marking -> first marked -> agreed -> ratified -> released
                                    |             ^
                                    v             |   (not sampled: straight to agreed)
                              second marking -----+
                                    |             ^
                                    v             |   (disagreement beyond tolerance)
                              third marking ------+

First marking can be reopened until the script is moderated or agreed. A
released mark never goes back: it changes only through a recorded correction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from fractions import Fraction
from hashlib import sha256
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from lms.progress.rules import add_working_days, working_days_late


class MarkingState(StrEnum):
    """Where a submission is in the marking chain."""

    SUBMITTED = "submitted"
    IN_MARKING = "in_marking"
    FIRST_MARKED = "first_marked"
    SECOND_MARKING = "second_marking"
    THIRD_MARKING = "third_marking"
    AGREED = "agreed"
    RATIFIED = "ratified"
    RELEASED = "released"

    @property
    def label(self) -> str:
        """The state in the words tutors use, e.g. 'in second marking'."""
        return _STATE_LABELS[self]


class Action(StrEnum):
    """Something a marker, moderator, exam board or admin does to a submission."""

    ALLOCATE = "allocate"
    START_MARKING = "start_marking"
    COMPLETE_FIRST_MARKING = "complete_first_marking"
    REOPEN_FIRST_MARKING = "reopen_first_marking"
    SELECT_FOR_MODERATION = "select_for_moderation"
    AGREE = "agree"
    REFER_TO_THIRD_MARKER = "refer_to_third_marker"
    RATIFY = "ratify"
    RELEASE = "release"

    @property
    def label(self) -> str:
        """The action in the words tutors use, e.g. 'record the agreed mark'."""
        return _ACTION_LABELS[self]


_STATE_LABELS = {
    MarkingState.SUBMITTED: "submitted",
    MarkingState.IN_MARKING: "in marking",
    MarkingState.FIRST_MARKED: "first marked",
    MarkingState.SECOND_MARKING: "in second marking",
    MarkingState.THIRD_MARKING: "with a third marker",
    MarkingState.AGREED: "agreed",
    MarkingState.RATIFIED: "ratified by the exam board",
    MarkingState.RELEASED: "released",
}

_ACTION_LABELS = {
    Action.ALLOCATE: "allocate a marker",
    Action.START_MARKING: "start marking",
    Action.COMPLETE_FIRST_MARKING: "complete first marking",
    Action.REOPEN_FIRST_MARKING: "reopen first marking",
    Action.SELECT_FOR_MODERATION: "select it for moderation",
    Action.AGREE: "record the agreed mark",
    Action.REFER_TO_THIRD_MARKER: "refer it to a third marker",
    Action.RATIFY: "ratify the mark",
    Action.RELEASE: "release the mark",
}

_S, _A = MarkingState, Action  # short names for the table below

# Every legal move. Anything not here is refused by `apply`.
TRANSITIONS: dict[tuple[MarkingState, Action], MarkingState] = {
    # Allocating (or re-allocating) a marker for the current stage keeps the state.
    (_S.SUBMITTED, _A.ALLOCATE): _S.SUBMITTED,
    (_S.SUBMITTED, _A.START_MARKING): _S.IN_MARKING,
    (_S.IN_MARKING, _A.ALLOCATE): _S.IN_MARKING,
    (_S.IN_MARKING, _A.COMPLETE_FIRST_MARKING): _S.FIRST_MARKED,
    (_S.FIRST_MARKED, _A.REOPEN_FIRST_MARKING): _S.IN_MARKING,
    (_S.FIRST_MARKED, _A.SELECT_FOR_MODERATION): _S.SECOND_MARKING,
    # Not in the moderation sample: the first mark becomes the agreed mark.
    (_S.FIRST_MARKED, _A.AGREE): _S.AGREED,
    (_S.SECOND_MARKING, _A.ALLOCATE): _S.SECOND_MARKING,
    (_S.SECOND_MARKING, _A.AGREE): _S.AGREED,
    (_S.SECOND_MARKING, _A.REFER_TO_THIRD_MARKER): _S.THIRD_MARKING,
    (_S.THIRD_MARKING, _A.ALLOCATE): _S.THIRD_MARKING,
    (_S.THIRD_MARKING, _A.AGREE): _S.AGREED,
    (_S.AGREED, _A.RATIFY): _S.RATIFIED,
    (_S.RATIFIED, _A.RELEASE): _S.RELEASED,
}


class IllegalTransition(Exception):
    """An action that the marking chain does not allow from the current state."""

    def __init__(self, state: MarkingState, action: Action, message: str) -> None:
        super().__init__(message)
        self.state = state
        self.action = action
        self.message = message


def next_actions(state: MarkingState) -> list[Action]:
    """The actions allowed from `state`, in the order of the Action enum."""
    return [action for action in Action if (state, action) in TRANSITIONS]


def _refusal(state: MarkingState, action: Action) -> str:
    if state is MarkingState.RELEASED:
        return "A released mark can't go back to marking. Record a correction instead."
    if state is MarkingState.RATIFIED:
        return (
            "This mark has been ratified by the exam board, so it can't change in the "
            "marking chain. Release it, then record a correction if it is wrong."
        )
    labels = [a.label for a in next_actions(state)]
    allowed = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"
    return (
        f"You can't {action.label} while the submission is {state.label}. "
        f"From here you can {allowed}."
    )


def apply(state: MarkingState, action: Action) -> MarkingState:
    """Return the state a submission moves to when `action` is taken in `state`.

    Raises IllegalTransition, with a message saying what can be done instead,
    for anything the TRANSITIONS table does not allow.
    """
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action, _refusal(state, action)) from None


# --- Moderation sample -----------------------------------------------------

# Mark bands of the rubric, as (lowest, highest, label).
MARK_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 29, "0–29"),
    (30, 39, "30–39"),
    (40, 49, "40–49"),
    (50, 59, "50–59"),
    (60, 69, "60–69"),
    (70, 100, "70+"),
)


def band_of(mark: int) -> str:
    """The label of the band a mark falls in, e.g. 57 -> '50–59'."""
    for lowest, highest, label in MARK_BANDS:
        if lowest <= mark <= highest:
            return label
    raise ValueError(f"{mark} is not a mark from 0 to 100.")


@dataclass(frozen=True)
class Script:
    """One marked submission, as the moderation sample sees it."""

    id: int | str
    marker_id: int | str
    mark: int


def sample_size(count: int) -> int:
    """How many scripts the spread part of the sample holds: max(⌈√n⌉, ⌈n/10⌉)."""
    if count <= 0:
        return 0
    return max(math.ceil(math.sqrt(count)), math.ceil(count / 10))


def moderation_sample(scripts: Sequence[Script], pass_mark: int) -> list[int | str]:
    """Propose the scripts for internal moderation; returns their ids in id order.

    The sample is every fail (mark below the pass mark, which includes every
    mark within 5 below it) plus `sample_size(n)` of the other scripts, spread
    across markers and mark bands: each pick goes to the marker with the
    smallest share of their scripts sampled so far, then to the band with the
    fewest picks, then to the lowest id. Every marker is therefore seen before
    any is seen twice, and larger allocations get proportionally more. If
    there are too few passing scripts, all of them are taken. The same
    scripts always give the same sample. Raises ValueError for a mark
    outside 0-100.
    """
    fails = [s for s in scripts if s.mark < pass_mark]
    candidates = sorted((s for s in scripts if s.mark >= pass_mark), key=lambda s: s.id)
    wanted = min(sample_size(len(scripts)), len(candidates))

    total_by_marker: dict[int | str, int] = {}
    for script in candidates:
        total_by_marker[script.marker_id] = total_by_marker.get(script.marker_id, 0) + 1
    picked_by_marker = dict.fromkeys(total_by_marker, 0)
    picked_by_band: dict[str, int] = {label: 0 for _, _, label in MARK_BANDS}
    picked: list[Script] = []
    for _ in range(wanted):
        # min() keeps the first of equals, and candidates are in id order.
        best = min(
            candidates,
            key=lambda s: (
                Fraction(picked_by_marker[s.marker_id], total_by_marker[s.marker_id]),
                picked_by_band[band_of(s.mark)],
            ),
        )
        candidates.remove(best)
        picked.append(best)
        picked_by_marker[best.marker_id] += 1
        picked_by_band[band_of(best.mark)] += 1
    return sorted(s.id for s in [*fails, *picked])


def needs_third_marker(first: int, second: int, tolerance: int = 10) -> bool:
    """True when the first and second marks differ by more than `tolerance`."""
    return abs(first - second) > tolerance


# --- Marks -----------------------------------------------------------------


def rubric_mark(weights: Mapping[str, float], marks: Mapping[str, int]) -> int:
    """The overall mark from the rubric: per-criterion marks weighted, rounded half up.

    `weights` maps each criterion id to its weight (normally summing to 100);
    `marks` maps each criterion id to the mark chosen for it. Raises ValueError
    if a criterion has no mark, a mark has no criterion, or the weights add
    up to nothing.
    """
    missing = [criterion for criterion in weights if criterion not in marks]
    if missing:
        raise ValueError(f"Choose a mark for every criterion. Still to mark: {', '.join(missing)}.")
    unknown = [criterion for criterion in marks if criterion not in weights]
    if unknown:
        raise ValueError(f"These criteria are not in the rubric: {', '.join(unknown)}.")
    # str() first so a weight of 12.5 or 0.1 from TOML is taken as written.
    exact = {criterion: Fraction(str(weight)) for criterion, weight in weights.items()}
    total = sum(exact.values())
    if total <= 0:
        raise ValueError("The rubric's weights add up to 0, so no mark can be worked out.")
    mark = sum(exact[criterion] * marks[criterion] for criterion in exact) / total
    # Exact fractions, so 57.5 really is a half and rounds up to 58.
    return math.floor(mark + Fraction(1, 2))


def validate_mark(value: object) -> str | None:
    """Check a mark: a whole number from 0 to 100 (or text holding one).

    Returns a plain message saying what to enter, or None if the mark is fine.
    """
    number = _whole_number(value)
    if number is None:
        return "Enter the mark as a whole number from 0 to 100, for example 58."
    if not 0 <= number <= 100:
        return f"{number} is not a mark. Enter a whole number from 0 to 100."
    return None


def _whole_number(value: object) -> int | None:
    """The whole number in `value` (an int, or text holding one), else None."""
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def validate_override(mark: object, computed: int, reason: str | None) -> str | None:
    """Check a marker's override of the mark the rubric worked out.

    Returns a plain message if the mark is not valid, or if it differs from
    `computed` without a reason; None if it is fine (an unchanged mark needs
    no reason).
    """
    problem = validate_mark(mark)
    if problem:
        return problem
    number = _whole_number(mark)
    if number != computed and not (reason or "").strip():
        return (
            f"You've changed the mark from the rubric's {computed} to {number}. "
            "Say why in the reason box, so the second marker and the exam board can follow it."
        )
    return None


def validate_second_marker(
    first_marker_id: int | str, second_marker_id: int | str | None
) -> str | None:
    """Check the chosen second marker: someone, and not the first marker.

    Returns a plain message or None.
    """
    if second_marker_id is None:
        return "Choose a second marker."
    if second_marker_id == first_marker_id:
        return (
            "The second marker must be someone other than the first marker. "
            "Choose another marker."
        )
    return None


# --- Dates, words, allocation and receipts -----------------------------------
# Still pure. The working-day arithmetic comes from the credit-level rules
# engine, so lateness is counted the same way everywhere.

DEADLINE_TIME = time(17, 0)
"""Deadlines fall at 5pm, local time, on their day."""


def count_words(text: str | None) -> int:
    """Words in a piece of writing: runs of non-space characters, as most word processors count."""
    return len((text or "").split())


def word_count_note(words: int, target: int | None, tolerance_percent: int) -> str | None:
    """A kind note when `words` is outside the brief's range, else None."""
    if not target:
        return None
    margin = target * tolerance_percent // 100
    low, high = target - margin, target + margin
    if low <= words <= high:
        return None
    return (f"Your text has {words:,} words. The brief asks for {target:,} words, "
            f"so between {low:,} and {high:,}.")


def deadline_on(day: date, zone: str = "Europe/London", at: time = DEADLINE_TIME) -> datetime:
    """5pm (or `at`) on `day` in `zone`, as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def default_due_date(last_course_day: date, weeks_after: int) -> date:
    """The default due date: `weeks_after` weeks after the cohort's last course day."""
    return last_course_day + timedelta(weeks=weeks_after)


def cut_off_after(deadline: datetime, working_days: int, zone: str = "Europe/London",
                  closures=frozenset()) -> datetime:
    """The time `working_days` working days after `deadline`, at the deadline's local time of day."""
    local = deadline.astimezone(ZoneInfo(zone))
    day = add_working_days(local.date(), working_days, closures)
    return datetime.combine(day, local.timetz().replace(tzinfo=None),
                            tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def effective_deadline(due: datetime, extension_until: datetime | None) -> datetime:
    """The deadline lateness counts from: the extended date when an extension moves it later."""
    if extension_until is not None and extension_until > due:
        return extension_until
    return due


def closing_time(due: datetime, cut_off: datetime, extension_until: datetime | None,
                 cut_off_working_days: int, zone: str = "Europe/London", closures=frozenset()) -> datetime:
    """When submitting closes: the cut-off, or later when an extension reaches past it.

    An extension keeps the same window for late work after the extended date
    as the cohort has after the due date.
    """
    deadline = effective_deadline(due, extension_until)
    if deadline == due:
        return cut_off
    return max(cut_off, cut_off_after(deadline, cut_off_working_days, zone, closures))


def days_late(deadline: datetime, submitted: datetime, zone: str = "Europe/London",
              closures=frozenset()) -> int:
    """Working days late (0 when on time), counted on the local calendar."""
    return working_days_late(deadline.astimezone(ZoneInfo(zone)), submitted, closures)


def extension_until(due: datetime, working_days: int, zone: str = "Europe/London",
                    closures=frozenset()) -> datetime:
    """The new deadline `working_days` working days after `due`, at the same time of day."""
    return cut_off_after(due, working_days, zone, closures)


def allocate_balanced(
    script_ids: Sequence[int | str],
    marker_ids: Sequence[int | str],
    current_loads: Mapping[int | str, int] | None = None,
    exclude: Mapping[int | str, set] | None = None,
) -> dict[int | str, int | str]:
    """Share scripts among markers so everyone ends with as even a load as possible.

    Each script, in the order given, goes to the allowed marker with the
    fewest scripts so far (counting `current_loads`), the first listed among
    equals. `exclude` maps a script to markers it must not go to (its first
    marker, say). Returns {script: marker}; a script no marker may take is
    left out.
    """
    loads = {marker: (current_loads or {}).get(marker, 0) for marker in marker_ids}
    order = {marker: position for position, marker in enumerate(marker_ids)}
    allocation: dict[int | str, int | str] = {}
    for script in script_ids:
        barred = (exclude or {}).get(script, set())
        allowed = [marker for marker in marker_ids if marker not in barred]
        if not allowed:
            continue
        chosen = min(allowed, key=lambda marker: (loads[marker], order[marker]))
        allocation[script] = chosen
        loads[chosen] += 1
    return allocation


def digest_of_text(text: str | None) -> str:
    """SHA-256 of the submitted text, as UTF-8 with Unix line endings."""
    normalised = (text or "").replace("\r\n", "\n")
    return sha256(normalised.encode("utf-8")).hexdigest()


def submission_digest(text: str | None, files: Sequence[tuple[str, str]]) -> str:
    """One SHA-256 for everything submitted: the text's digest and each file's (name, digest).

    The receipt shows it; anyone holding the same text and files can work it
    out again from the per-item digests listed on the receipt.
    """
    lines = [f"text {digest_of_text(text)}"]
    lines += [f"file {file_digest} {name}" for name, file_digest in sorted(files, key=lambda f: (f[1], f[0]))]
    return sha256("\n".join(lines).encode("utf-8")).hexdigest()


def format_candidate_number(number: int) -> str:
    """How a candidate number is shown: 4821 -> 'C-4821'."""
    return f"C-{number:04d}"


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula: risky text gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def band_for_mark(bands: Sequence[tuple[int, int]], mark: int) -> tuple[int, int] | None:
    """The (low, high) band holding `mark`, or None."""
    return next(((low, high) for low, high in bands if low <= mark <= high), None)


def criterion_problem(bands: Sequence[tuple[int, int]], band: str | None, mark: object) -> str | None:
    """Check one rubric criterion: a band chosen and a mark inside it. Returns a message or None."""
    problem = validate_mark(mark)
    if problem:
        return problem
    number = _whole_number(mark)
    if not band:
        return "Choose the band this criterion falls in."
    chosen = next(((low, high) for low, high in bands if f"{low}-{high}" == band), None)
    if chosen is None:
        return "Choose one of the bands shown."
    low, high = chosen
    if not low <= number <= high:
        return (f"{number} is not in the band {low}–{high} you chose. "
                f"Enter a mark from {low} to {high}, or choose the band {number} falls in.")
    return None
