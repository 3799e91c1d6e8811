"""The risk profile: what a person has told the bot about danger at home, as a level and flags.

The profile is derived from the saved safety answers (onboarding's screen, the Safety at
home module's screen and the safety gates before withdrawing rewards, natural consequences
and the invitation) and kept in the person's answers under `risk_level` and `risk_flags`,
so it travels with their progress: stored encrypted, shown by /mydata, erased by /delete.
`refresh` runs before every move, so a new answer updates it at once.

It remembers: a screen answered in onboarding and again in the module counts if either
says so, and a gate's "No" is a separate answer that lowers nothing. Levels:

- high: strangulation; threats to kill or badly hurt; a child threatened or hurt; or a
  weapon, or the loved one's suicide threats, together with violence, fear or threats
  (the strongest risk factors for lethal violence: Campbell et al. 2003, Am J Public
  Health 93(7); Glass et al. 2008, J Emerg Med 35(3));
- some: any other "yes" or "not sure" on the screen or at a gate (a weapon alone, fear,
  past violence, suicide threats alone, an unsure answer);
- none: nothing disclosed.

`phone_read` is a flag but no risk: it says someone else may read the phone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from state.curriculum.schema import RISK_FLAGS, RISK_FLAGS_KEY, RISK_LEVEL_KEY, RISK_LEVELS

YES, UNSURE = "yes", "unsure"
CONCERN = frozenset({YES, UNSURE})
GUN = "gun"
WEAPON_VALUES = frozenset({YES, GUN, "other"})  # "yes": the older question, before guns were asked apart

# answer key -> the flag a "yes" raises (a "not sure" raises it too where it is in CONCERN_FLAGS)
SCREEN: dict[str, str] = {
    "safety_fear": "fear",              # onboarding: hurt, threatened or made you afraid
    "safety_afraid": "fear",            # Safety at home
    "safety_past_violence": "past_violence",
    "safety_threats": "threats",
    "safety_strangled": "strangulation",  # onboarding
    "safety_choking": "strangulation",
    "safety_child_threat": "children",
    "safety_suicide_threats": "suicide_threats",
}
CONCERN_FLAGS = frozenset({"fear", "past_violence"})  # "not sure" is itself a sign of these
WEAPON_KEYS = ("safety_has_weapon", "safety_weapons")  # the module's and the older onboarding's
GATE_KEYS = ("withdrawing_safety", "withdrawing_reaction_risk", "consequences_safety",
             "invitation_safety")
# Every answer the profile reads: a "yes" or "not sure" to any of them is a concern.
SCREEN_KEYS = (*SCREEN, *WEAPON_KEYS, *GATE_KEYS)
SEVERE = frozenset({"strangulation", "threats", "children"})
DANGER_WITH = frozenset({"past_violence", "fear", "threats"})  # what makes a weapon severe


@dataclass(frozen=True)
class RiskProfile:
    """A person's risk level (none / some / high) and the named flags behind it."""

    level: str = "none"
    flags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        assert self.level in RISK_LEVELS, self.level
        assert self.flags <= frozenset(RISK_FLAGS), sorted(self.flags - frozenset(RISK_FLAGS))


def flags_of(answers: Mapping[str, Any]) -> frozenset[str]:
    """The flags the saved answers raise."""
    flags: set[str] = set()
    for key, flag in SCREEN.items():
        value = answers.get(key)
        if value == YES or (value == UNSURE and flag in CONCERN_FLAGS):
            flags.add(flag)
    for key in WEAPON_KEYS:
        if answers.get(key) in WEAPON_VALUES:
            flags.add("weapon")
        if answers.get(key) == GUN:
            flags.add("firearm")
    if any(answers.get(key) in CONCERN for key in GATE_KEYS):
        flags.add("reaction_risk")
    if answers.get("shared_phone") == YES:
        flags.add("phone_read")
    return frozenset(flags)


def level_of(flags: frozenset[str], answers: Mapping[str, Any]) -> str:
    """How serious the flags are together (see the module's docstring)."""
    if flags & SEVERE:
        return "high"
    if flags & {"weapon", "suicide_threats"} and flags & DANGER_WITH:
        return "high"
    unsure = any(answers.get(key) == UNSURE for key in SCREEN_KEYS)
    return "some" if (flags - {"phone_read"}) or unsure else "none"


def profile_of(answers: Mapping[str, Any]) -> RiskProfile:
    """The risk profile the saved answers show."""
    flags = flags_of(answers)
    return RiskProfile(level_of(flags, answers), flags)


def refresh(answers: dict[str, Any]) -> RiskProfile:
    """Derive the profile again and keep it in the answers (left out when there is nothing)."""
    profile = profile_of(answers)
    if profile.level == "none" and not profile.flags:
        answers.pop(RISK_LEVEL_KEY, None)
        answers.pop(RISK_FLAGS_KEY, None)
    else:
        answers[RISK_LEVEL_KEY] = profile.level
        answers[RISK_FLAGS_KEY] = sorted(profile.flags)
    return profile


def concern(answers: Mapping[str, Any]) -> bool:
    """Whether anything disclosed is a concern for safety (a level above none)."""
    return profile_of(answers).level != "none"
