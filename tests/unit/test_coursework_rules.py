"""The marking chain, the moderation sample and the rules for marks."""

import itertools
import math
import random
from collections import Counter

import pytest

from lms.coursework.rules import (
    TRANSITIONS,
    Action,
    IllegalTransition,
    MarkingState,
    Script,
    apply,
    band_of,
    moderation_sample,
    needs_third_marker,
    next_actions,
    rubric_mark,
    sample_size,
    validate_mark,
    validate_override,
    validate_second_marker,
)

S, A = MarkingState, Action

# --- The marking chain -----------------------------------------------------


@pytest.mark.parametrize(("state", "action"), list(itertools.product(S, A)))
def test_every_state_and_action(state, action):
    if (state, action) in TRANSITIONS:
        assert apply(state, action) is TRANSITIONS[(state, action)]
    else:
        with pytest.raises(IllegalTransition) as refused:
            apply(state, action)
        assert refused.value.state is state
        assert refused.value.action is action
        assert str(refused.value) == refused.value.message
        assert refused.value.message.endswith(".")


def test_the_table_holds_exactly_the_chain():
    assert TRANSITIONS == {
        (S.SUBMITTED, A.ALLOCATE): S.SUBMITTED,
        (S.SUBMITTED, A.START_MARKING): S.IN_MARKING,
        (S.IN_MARKING, A.ALLOCATE): S.IN_MARKING,
        (S.IN_MARKING, A.COMPLETE_FIRST_MARKING): S.FIRST_MARKED,
        (S.FIRST_MARKED, A.REOPEN_FIRST_MARKING): S.IN_MARKING,
        (S.FIRST_MARKED, A.SELECT_FOR_MODERATION): S.SECOND_MARKING,
        (S.FIRST_MARKED, A.AGREE): S.AGREED,
        (S.SECOND_MARKING, A.ALLOCATE): S.SECOND_MARKING,
        (S.SECOND_MARKING, A.AGREE): S.AGREED,
        (S.SECOND_MARKING, A.REFER_TO_THIRD_MARKER): S.THIRD_MARKING,
        (S.THIRD_MARKING, A.ALLOCATE): S.THIRD_MARKING,
        (S.THIRD_MARKING, A.AGREE): S.AGREED,
        (S.AGREED, A.RATIFY): S.RATIFIED,
        (S.RATIFIED, A.RELEASE): S.RELEASED,
    }


def walk(*actions, start=S.SUBMITTED):
    state = start
    for action in actions:
        state = apply(state, action)
    return state


def test_a_script_not_sampled_goes_straight_to_agreed():
    assert (
        walk(
            A.ALLOCATE,
            A.START_MARKING,
            A.COMPLETE_FIRST_MARKING,
            A.AGREE,
            A.RATIFY,
            A.RELEASE,
        )
        is S.RELEASED
    )


def test_a_sampled_script_is_second_marked():
    assert (
        walk(
            A.START_MARKING,
            A.COMPLETE_FIRST_MARKING,
            A.SELECT_FOR_MODERATION,
            A.ALLOCATE,
            A.AGREE,
        )
        is S.AGREED
    )


def test_a_disagreement_goes_to_a_third_marker():
    assert (
        walk(
            A.START_MARKING,
            A.COMPLETE_FIRST_MARKING,
            A.SELECT_FOR_MODERATION,
            A.REFER_TO_THIRD_MARKER,
            A.ALLOCATE,
            A.AGREE,
        )
        is S.AGREED
    )


def test_first_marking_can_be_reopened_only_before_moderation():
    assert walk(A.START_MARKING, A.COMPLETE_FIRST_MARKING, A.REOPEN_FIRST_MARKING) is S.IN_MARKING
    for state in (S.SECOND_MARKING, S.THIRD_MARKING, S.AGREED, S.RATIFIED, S.RELEASED):
        with pytest.raises(IllegalTransition):
            apply(state, A.REOPEN_FIRST_MARKING)


def test_a_released_mark_never_goes_back():
    assert next_actions(S.RELEASED) == []
    for action in A:
        with pytest.raises(IllegalTransition) as refused:
            apply(S.RELEASED, action)
        assert refused.value.message == (
            "A released mark can't go back to marking. Record a correction instead."
        )


def test_a_ratified_mark_can_only_be_released():
    assert next_actions(S.RATIFIED) == [A.RELEASE]
    with pytest.raises(IllegalTransition, match="ratified by the exam board"):
        apply(S.RATIFIED, A.AGREE)


def test_a_refusal_says_what_can_be_done_instead():
    with pytest.raises(IllegalTransition) as refused:
        apply(S.FIRST_MARKED, A.RATIFY)
    assert refused.value.message == (
        "You can't ratify the mark while the submission is first marked. From here you "
        "can reopen first marking, select it for moderation or record the agreed mark."
    )
    with pytest.raises(IllegalTransition) as refused:
        apply(S.AGREED, A.RELEASE)
    assert refused.value.message == (
        "You can't release the mark while the submission is agreed. "
        "From here you can ratify the mark."
    )


def test_every_state_can_be_reached_and_every_state_but_released_can_move_on():
    reached = {S.SUBMITTED}
    frontier = [S.SUBMITTED]
    while frontier:
        state = frontier.pop()
        for action in next_actions(state):
            following = apply(state, action)
            if following not in reached:
                reached.add(following)
                frontier.append(following)
    assert reached == set(S)
    assert [state for state in S if not next_actions(state)] == [S.RELEASED]


def test_every_state_and_action_has_a_label():
    assert all(state.label for state in S)
    assert all(action.label for action in A)


# --- The moderation sample -------------------------------------------------


@pytest.mark.parametrize(
    ("count", "size"),
    [(0, 0), (1, 1), (2, 2), (4, 2), (5, 3), (10, 4), (99, 10), (100, 10), (101, 11), (200, 20)],
)
def test_sample_size(count, size):
    assert sample_size(count) == size
    if count:
        assert size == max(math.ceil(math.sqrt(count)), math.ceil(count / 10))


def test_band_of():
    assert [band_of(m) for m in (0, 29, 30, 39, 40, 49, 50, 59, 60, 69, 70, 100)] == [
        "0–29",
        "0–29",
        "30–39",
        "30–39",
        "40–49",
        "40–49",
        "50–59",
        "50–59",
        "60–69",
        "60–69",
        "70+",
        "70+",
    ]
    for mark in (-1, 101):
        with pytest.raises(ValueError):
            band_of(mark)


def test_no_scripts_no_sample():
    assert moderation_sample([], pass_mark=40) == []


def test_every_fail_is_sampled_as_well_as_the_spread():
    scripts = [Script(n, "tutor1", mark) for n, mark in enumerate([12, 35, 39, 40, 41, 55, 62, 75])]
    sample = moderation_sample(scripts, pass_mark=40)
    fails = {0, 1, 2}
    assert fails <= set(sample)
    # The spread part holds max(⌈√8⌉, ⌈8/10⌉) = 3 of the passing scripts.
    assert len(set(sample) - fails) == 3


def test_a_mark_exactly_at_the_pass_mark_is_not_a_fail():
    scripts = [Script(n, "tutor1", 40) for n in range(100)]
    assert moderation_sample(scripts, pass_mark=40) == list(range(10))


def test_marks_within_5_below_the_pass_mark_are_always_sampled():
    scripts = [Script(n, "tutor1", 60) for n in range(50)]
    scripts += [Script(100 + n, "tutor1", mark) for n, mark in enumerate(range(45, 50))]
    sample = moderation_sample(scripts, pass_mark=50)
    assert {100, 101, 102, 103, 104} <= set(sample)


def test_the_sample_is_in_id_order_and_does_not_depend_on_input_order():
    randomness = random.Random(3)
    scripts = [
        Script(n, f"tutor{n % 4}", randomness.randint(20, 85)) for n in range(1, 121)
    ]
    sample = moderation_sample(scripts, pass_mark=40)
    assert sample == sorted(sample)
    assert len(sample) == len(set(sample))
    shuffled = scripts[:]
    randomness.shuffle(shuffled)
    assert moderation_sample(shuffled, pass_mark=40) == sample


def test_the_spread_reaches_every_marker_and_every_band():
    # 3 markers, 20 passing scripts each, marks across the passing bands.
    scripts = []
    for marker in ("tutor1", "tutor2", "tutor3"):
        for n in range(20):
            scripts.append(Script(f"{marker}-{n:02}", marker, 40 + (n * 7) % 55))
    sample = moderation_sample(scripts, pass_mark=40)
    assert len(sample) == sample_size(60) == 8
    picked = [s for s in scripts if s.id in sample]
    assert {s.marker_id for s in picked} == {"tutor1", "tutor2", "tutor3"}
    assert {band_of(s.mark) for s in picked} == {"40–49", "50–59", "60–69", "70+"}


def test_markers_with_more_scripts_get_more_of_the_sample():
    scripts = [Script(n, "busy", 55) for n in range(90)]
    scripts += [Script(100 + n, "light", 55) for n in range(10)]
    sample = moderation_sample(scripts, pass_mark=40)
    by_marker = Counter("busy" if script_id < 100 else "light" for script_id in sample)
    assert by_marker == {"busy": 9, "light": 1}


def test_when_few_scripts_pass_all_of_them_are_taken():
    scripts = [Script(n, "tutor1", 20) for n in range(20)] + [Script(99, "tutor2", 80)]
    assert moderation_sample(scripts, pass_mark=40) == list(range(20)) + [99]


def test_a_mark_outside_the_range_is_refused_in_the_sample():
    with pytest.raises(ValueError):
        moderation_sample([Script(1, "tutor1", 140)], pass_mark=40)


@pytest.mark.parametrize(
    ("first", "second", "third_marker"),
    [(50, 60, False), (60, 50, False), (50, 61, True), (61, 50, True), (55, 55, False)],
)
def test_needs_third_marker(first, second, third_marker):
    assert needs_third_marker(first, second) is third_marker


def test_needs_third_marker_with_another_tolerance():
    assert not needs_third_marker(50, 55, tolerance=5)
    assert needs_third_marker(50, 56, tolerance=5)


# --- Marks -----------------------------------------------------------------

WEIGHTS = {"understanding": 25, "practice": 25, "reflection": 20, "evidence": 15, "structure": 15}


def test_rubric_mark_weights_each_criterion():
    marks = {"understanding": 60, "practice": 60, "reflection": 60, "evidence": 60, "structure": 60}
    assert rubric_mark(WEIGHTS, marks) == 60
    marks = {"understanding": 70, "practice": 50, "reflection": 40, "evidence": 80, "structure": 30}
    # (1750 + 1250 + 800 + 1200 + 450) / 100 = 54.5, rounded half up.
    assert rubric_mark(WEIGHTS, marks) == 55


@pytest.mark.parametrize(("a", "b", "overall"), [(57, 58, 58), (56, 57, 57), (0, 1, 1), (99, 100, 100)])
def test_rubric_mark_rounds_half_up(a, b, overall):
    assert rubric_mark({"a": 50, "b": 50}, {"a": a, "b": b}) == overall


def test_rubric_mark_below_a_half_rounds_down():
    # 57.4 exactly.
    assert rubric_mark({"a": 60, "b": 40}, {"a": 59, "b": 55}) == 57


def test_rubric_mark_with_fractional_weights():
    weights = {"a": 12.5, "b": 87.5}
    assert rubric_mark(weights, {"a": 100, "b": 0}) == 13  # 12.5 rounds up
    assert rubric_mark({"a": 0.1, "b": 0.1}, {"a": 57, "b": 58}) == 58


def test_rubric_mark_with_weights_not_summing_to_100():
    assert rubric_mark({"a": 1, "b": 3}, {"a": 40, "b": 80}) == 70


def test_rubric_mark_needs_every_criterion():
    with pytest.raises(ValueError, match="Still to mark: evidence, structure"):
        rubric_mark(WEIGHTS, {"understanding": 60, "practice": 60, "reflection": 60})


def test_rubric_mark_refuses_an_unknown_criterion():
    with pytest.raises(ValueError, match="not in the rubric: spelling"):
        rubric_mark({"a": 100}, {"a": 60, "spelling": 40})


def test_rubric_mark_refuses_weights_adding_up_to_nothing():
    with pytest.raises(ValueError, match="add up to 0"):
        rubric_mark({"a": 0}, {"a": 60})


@pytest.mark.parametrize("value", [0, 1, 39, 40, 100, "58", " 72 "])
def test_valid_marks(value):
    assert validate_mark(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "-1 is not a mark"),
        (101, "101 is not a mark"),
        ("250", "250 is not a mark"),
        (58.5, "whole number"),
        ("58.5", "whole number"),
        ("", "whole number"),
        ("sixty", "whole number"),
        (None, "whole number"),
        (True, "whole number"),
    ],
)
def test_invalid_marks_get_a_plain_message(value, message):
    problem = validate_mark(value)
    assert message in problem
    assert "0 to 100" in problem


def test_an_unchanged_mark_needs_no_reason():
    assert validate_override(62, computed=62, reason="") is None
    assert validate_override("62", computed=62, reason=None) is None


def test_an_override_needs_a_reason():
    for reason in ("", "   ", None):
        problem = validate_override(65, computed=62, reason=reason)
        assert problem.startswith("You've changed the mark from the rubric's 62 to 65.")
    assert validate_override(65, computed=62, reason="Strong reflection not captured by the rubric.") is None


def test_an_override_must_be_a_mark():
    assert "not a mark" in validate_override(120, computed=62, reason="Because.")
    assert "whole number" in validate_override("abc", computed=62, reason="Because.")


def test_the_second_marker_is_never_the_first():
    assert validate_second_marker(7, 8) is None
    assert "someone other than the first marker" in validate_second_marker(7, 7)
    assert validate_second_marker(7, None) == "Choose a second marker."
