"""The self-check rule: from the red flags a person ticked, what they should do and how soon.

One rule, deliberately small: the most pressing action level among the ticks wins. The rule
and its wording are versioned; every report and request records RULES_VERSION so any past
outcome can be reproduced. Change the rule or the wording → raise the version.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .models import ActionLevel

# -1: first wording. -2: the urgent advice defers to whom the sheet names for each sign (a
# hospital or cancer team for some); the emergency advice no longer says "show them this
# list" on pages that show none; the emergency timeframe no longer speaks of our email.
# -3: the urgent timeframe allows for signs whose sheet says "straight away" (a fever with
# back pain, or raised calcium with myeloma): "Today." alone read as leave to wait until later.
# -4: when a ticked urgent sign's own words on the sheet say "straight away", the outcome says
# so too ("Get medical advice straight away") instead of leaving the person to remember it.
RULES_VERSION = "self-check-2026-11-4"

NONE = "none"
# An outcome, not a level: urgent, and a ticked sign says to get help straight away. Stored
# records keep the level ("urgent"); each checklist item keeps whether its sign said so.
URGENT_STRAIGHT_AWAY = "urgent-straight-away"

# Most pressing first.
PRIORITY = [ActionLevel.EMERGENCY, ActionLevel.URGENT, ActionLevel.SOON]


@dataclass(frozen=True)
class Outcome:
    level: str
    headline: str
    timeframe: str
    advice: str
    key: str = ""  # the level, or URGENT_STRAIGHT_AWAY: which of OUTCOMES this is

    def __post_init__(self):
        if not self.key:
            object.__setattr__(self, "key", self.level)

    @property
    def is_emergency(self) -> bool:
        return self.level == ActionLevel.EMERGENCY

    @property
    def in_a_sentence(self) -> str:
        """The headline to follow a colon: "get medical advice today"."""
        return self.headline[:1].lower() + self.headline[1:]


OUTCOMES = {
    ActionLevel.EMERGENCY: Outcome(
        level=ActionLevel.EMERGENCY,
        headline="Call 999 or go to A&E now",
        timeframe="Now. Do not wait.",
        advice=(
            "You ticked a warning sign that needs emergency care. Call 999 or go to your "
            "nearest A&E now."
        ),
    ),
    ActionLevel.URGENT: Outcome(
        level=ActionLevel.URGENT,
        headline="Get medical advice today",
        timeframe="Today, or straight away if the sheet says so for that sign.",
        # Each urgent sign on a sheet says whom to contact: for some it is the person's
        # hospital, cancer or healthcare team, not their GP. The advice defers to that.
        advice=(
            "You ticked a warning sign that needs checking today. Do what the fact sheet "
            "says for that sign: if it says to contact your hospital, cancer or healthcare "
            "team, contact them; otherwise ask your GP surgery for an urgent appointment, "
            "or call NHS 111."
        ),
    ),
    URGENT_STRAIGHT_AWAY: Outcome(
        level=ActionLevel.URGENT,
        key=URGENT_STRAIGHT_AWAY,
        headline="Get medical advice straight away",
        timeframe="Straight away. Do not wait until later today.",
        advice=(
            "You ticked a warning sign that the fact sheet says needs checking straight away. "
            "Do what it says for that sign: if it says to contact your hospital, cancer or "
            "healthcare team, contact them now; otherwise ask your GP surgery for an urgent "
            "appointment, or call NHS 111."
        ),
    ),
    ActionLevel.SOON: Outcome(
        level=ActionLevel.SOON,
        headline="See a GP within the next few days",
        timeframe="Within days.",
        advice="You ticked a sign that a GP should look at. Book an appointment with your GP.",
    ),
    NONE: Outcome(
        level=NONE,
        headline="You did not tick any warning signs",
        timeframe="No set time.",
        advice=(
            "This does not rule anything out. If you are worried, or your symptoms change, "
            "speak to your GP or call NHS 111."
        ),
    ),
}


def highest_level(levels: Iterable[str]) -> str:
    ticked = set(levels)
    return next((level.value for level in PRIORITY if level in ticked), NONE)


# How a sign's words can ask for help sooner than "today" (the shipped sheets say "straight
# away"; an editor in admin might write another of these).
STRAIGHT_AWAY = re.compile(r"\bstraight\s*away\b|\bright away\b|\bimmediately\b|\bat once\b")


def says_straight_away(text: str) -> bool:
    """Whether a warning sign's own words on its sheet ask for help straight away."""
    return bool(STRAIGHT_AWAY.search(" ".join(text.lower().split())))


def assess(levels: Iterable[str], *, straight_away: bool = False) -> Outcome:
    """The outcome of the signs ticked, at these levels; ``straight_away`` when an urgent one
    among them says, on its sheet, to get help straight away."""
    level = highest_level(levels)
    if level == ActionLevel.URGENT and straight_away:
        return OUTCOMES[URGENT_STRAIGHT_AWAY]
    return OUTCOMES[level]


def recorded_outcome(urgency: str, ticked: Iterable[dict]) -> Outcome:
    """What a stored self-check told the person: its level, and whether a ticked urgent sign
    said "straight away" then (each checklist item records that; older ones did not)."""
    return assess(
        [urgency],
        straight_away=any(
            item.get("straight_away") for item in ticked if item["level"] == ActionLevel.URGENT
        ),
    )
