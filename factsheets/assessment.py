"""The self-check rule: from the red flags a person ticked, what they should do and how soon.

One rule, deliberately small: the most pressing action level among the ticks wins. The rule
and its wording are versioned; every report and request records RULES_VERSION so any past
outcome can be reproduced. Change the rule or the wording → raise the version.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from .models import ActionLevel

# -1: first wording. -2: the urgent advice defers to whom the sheet names for each sign (a
# hospital or cancer team for some); the emergency advice no longer says "show them this
# list" on pages that show none; the emergency timeframe no longer speaks of our email.
# -3: the urgent timeframe allows for signs whose sheet says "straight away" (a fever with
# back pain, or raised calcium with myeloma): "Today." alone read as leave to wait until later.
RULES_VERSION = "self-check-2026-11-3"

NONE = "none"

# Most pressing first.
PRIORITY = [ActionLevel.EMERGENCY, ActionLevel.URGENT, ActionLevel.SOON]


@dataclass(frozen=True)
class Outcome:
    level: str
    headline: str
    timeframe: str
    advice: str

    @property
    def is_emergency(self) -> bool:
        return self.level == ActionLevel.EMERGENCY


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


def assess(levels: Iterable[str]) -> Outcome:
    return OUTCOMES[highest_level(levels)]
