import itertools

import pytest

from factsheets.assessment import OUTCOMES, RULES_VERSION, assess, highest_level

LEVELS = ["emergency", "urgent", "soon"]


def test_no_ticks_gives_no_red_flags_outcome_that_still_safety_nets():
    outcome = assess([])

    assert outcome.level == "none"
    assert "NHS 111" in outcome.advice
    assert "does not rule anything out" in outcome.advice


@pytest.mark.parametrize(
    ("ticked", "expected"),
    [
        (["soon"], "soon"),
        (["urgent"], "urgent"),
        (["emergency"], "emergency"),
        (["soon", "soon"], "soon"),
        (["soon", "urgent"], "urgent"),
        (["urgent", "soon"], "urgent"),
        (["urgent", "emergency"], "emergency"),
        (["soon", "emergency"], "emergency"),
        (["soon", "urgent", "emergency"], "emergency"),
        (["emergency", "emergency"], "emergency"),
    ],
)
def test_the_most_pressing_tick_wins(ticked, expected):
    assert assess(ticked).level == expected


def test_every_combination_is_decided_by_its_most_pressing_member():
    for size in range(1, 4):
        for combination in itertools.combinations_with_replacement(LEVELS, size):
            expected = min(combination, key=LEVELS.index)
            assert highest_level(combination) == expected, combination


def test_emergency_outcome_says_999_now_and_not_to_wait():
    outcome = assess(["emergency"])

    assert outcome.is_emergency
    assert outcome.headline == "Call 999 or go to A&E now"
    assert "Do not wait" in outcome.timeframe


def test_urgent_outcome_is_same_day():
    outcome = assess(["urgent"])

    # Some urgent signs say "straight away" (a fever with back pain): not "later today".
    assert outcome.timeframe == "Today, or straight away if the sheet says so for that sign."
    assert "NHS 111" in outcome.advice


def test_unknown_levels_are_ignored_rather_than_raising():
    assert assess(["made-up"]).level == "none"


def test_no_outcome_claims_a_diagnosis_and_the_rules_are_versioned():
    assert RULES_VERSION
    for outcome in OUTCOMES.values():
        assert "diagnos" not in (outcome.headline + outcome.advice).lower()
