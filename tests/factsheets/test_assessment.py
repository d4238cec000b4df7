import itertools

import pytest

from factsheets.assessment import (
    OUTCOMES,
    RULES_VERSION,
    assess,
    highest_level,
    recorded_outcome,
    says_straight_away,
)

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


def test_an_urgent_sign_that_says_straight_away_makes_the_outcome_say_so():
    outcome = assess(["urgent", "soon"], straight_away=True)

    assert outcome.level == "urgent"  # stored and triaged as urgent
    assert outcome.key == "urgent-straight-away"
    assert outcome.headline == "Get medical advice straight away"
    assert outcome.timeframe.startswith("Straight away.")
    assert "today" not in outcome.headline + outcome.advice
    assert outcome.in_a_sentence == "get medical advice straight away"


def test_straight_away_changes_nothing_but_an_urgent_outcome():
    assert assess(["emergency", "urgent"], straight_away=True).key == "emergency"
    assert assess(["soon"], straight_away=True).key == "soon"
    assert assess([], straight_away=True).key == "none"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See a doctor straight away: ask for an urgent GP appointment or call NHS 111.", True),
        ("Contact your hospital team Straight away.", True),
        ("See a doctor straightaway.", True),
        ("See a doctor straight\u00a0away.", True),
        ("Contact your hospital team immediately.", True),
        ("Call them right away, or at once if worse.", True),
        ("Get it checked today by your GP or NHS 111.", False),
        ("Straightforward back pain that eases in a day.", False),
        ("Get it checked urgently: ask for an urgent GP appointment or call NHS 111.", False),
    ],
)
def test_the_sign_s_own_words_decide_straight_away(text, expected):
    assert says_straight_away(text) is expected


def test_a_record_made_before_signs_said_straight_away_shows_what_it_showed_then():
    """Records from rules -3 and before have no "straight_away" in their checklist."""
    old = [{"flag_id": 1, "symptom": "Fever", "level": "urgent", "ticked": True}]
    assert recorded_outcome("urgent", old).key == "urgent"
    new = [old[0] | {"straight_away": True}]
    assert recorded_outcome("urgent", new).key == "urgent-straight-away"
    # Only an urgent sign counts, and the stored level decides.
    assert recorded_outcome("emergency", new).key == "emergency"
    soon = [{"flag_id": 2, "symptom": "x", "level": "soon", "ticked": True, "straight_away": True}]
    assert recorded_outcome("soon", soon).key == "soon"
