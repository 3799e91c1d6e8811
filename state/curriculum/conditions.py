"""Branch conditions: a test on one saved answer, or on the person's risk profile.

`Condition` is what a `branch` case's `when:` and a module's `open_when:` hold. The risk
vocabulary (levels and flags) lives here too: the engine derives the profile
(`state.engine.risk`), validation checks the names (`state.curriculum.crossref`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Base for every curriculum object: unknown fields are errors, objects are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# The person's risk profile, derived by the engine from the safety answers
# (`state.engine.risk`) and kept in their answers under these two keys.
RISK_LEVEL_KEY = "risk_level"
RISK_FLAGS_KEY = "risk_flags"
RISK_LEVELS = ("none", "some", "high")
RISK_FLAGS = (
    "fear",             # afraid of the loved one, or not sure
    "past_violence",    # hurt, pushed or hit someone at home, or not sure
    "threats",          # threatened to kill or badly hurt someone
    "strangulation",    # choked or strangled someone, even once
    "weapon",           # has a weapon, or easy access to one (a gun included)
    "firearm",          # has a gun, or easy access to one
    "children",         # threatened or hurt a child
    "suicide_threats",  # the loved one has threatened to kill themself
    "reaction_risk",    # a safety gate was answered "yes" or "not sure"
    "phone_read",       # someone else may read the messages on this phone
)
TESTS = ("equals", "in_", "not_in", "at_least", "at_most", "is_set", "contains")


class Condition(Strict):
    """A test on one saved answer, or on the person's risk profile; used by `branch` steps.

    Either a `key` with exactly one test (`equals`, `in`, `not_in`, `at_least`, `at_most`,
    `is_set`, or `contains` for checklist answers, which are lists), or one risk test:
    `risk: high` (or a list of levels) holds when the risk level is one of them;
    `risk_flag: firearm` holds when that flag is raised. A risk test is read as a test on
    the answers the engine keeps (`risk_level`, `risk_flags`), so it is drawn and
    described like any other; validation checks its levels and flags by name.
    """

    key: str
    equals: str | int | bool | None = None
    in_: list[str | int] | None = Field(default=None, alias="in")
    not_in: list[str | int] | None = None
    at_least: float | None = None
    at_most: float | None = None
    is_set: bool | None = None
    contains: str | None = None
    risk: list[str] | None = None
    risk_flag: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _risk_as_answers(cls, data: Any) -> Any:
        """`risk:` / `risk_flag:` become tests on the profile's saved keys."""
        if not isinstance(data, dict) or not ({"risk", "risk_flag"} & set(data)):
            return data
        if "key" in data or len({"risk", "risk_flag"} & set(data)) > 1:
            raise ValueError("a risk test stands alone: write `risk: LEVEL` or `risk_flag: FLAG`,"
                             " without `key:` or another test")
        data = dict(data)
        if "risk_flag" in data:
            data.update(key=RISK_FLAGS_KEY, contains=data["risk_flag"])
            return data
        levels = data["risk"] if isinstance(data["risk"], list) else [data["risk"]]
        data["risk"] = [str(level) for level in levels]
        data["key"] = RISK_LEVEL_KEY
        if "none" in data["risk"]:  # nothing saved means no risk
            data["not_in"] = [lv for lv in RISK_LEVELS if lv not in data["risk"]] or ["-"]
        else:
            data["in"] = data["risk"]
        return data

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        given = [name for name in TESTS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "a condition needs exactly one test: equals, in, not_in, at_least, at_most,"
                f" is_set or contains (found {len(given)}), or a risk test alone"
            )
        return self

    def holds(self, answers: dict[str, Any]) -> bool:
        """Whether this condition is true for a user's saved answers."""
        value = answers.get(self.key)
        if self.is_set is not None:
            return (value not in (None, "", [])) == self.is_set
        if self.equals is not None:
            return value == self.equals
        if self.in_ is not None:
            return value in self.in_
        if self.not_in is not None:
            return value not in self.not_in
        if self.contains is not None:
            return isinstance(value, list) and self.contains in value
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        if self.at_least is not None:
            return value >= self.at_least
        return self.at_most is not None and value <= self.at_most
