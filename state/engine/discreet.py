"""Discreet mode: for people whose phone may be read by someone else, maybe someone who hurts them.

Discreet mode is on when the user turned it on with /discreet, or, until they choose, when
onboarding learned that someone else might read the phone (`shared_phone: yes`) or the risk
profile shows any concern (`state.engine.risk`). It is never switched on silently: the turn
in which an answer switches it on says so, and how to change it (`Turn.advance`). Then:

- whatever can show outside the open chat (reminders, notification previews) uses the
  locale's neutral words (`discreet.neutral` in `locale.yaml`): call `outside_text` or
  `neutral_text` for every such text;
- placeholders of answers that a `text` step marked `sensitive: true` show the locale's
  `discreet.hidden` stand-in instead of the answer, so the bot never echoes them unasked.

Everything here is a pure function of the user's progress and the locale: the engine, the
reminder sender and the tests all call the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from state.contracts import Progress
from state.curriculum.schema import Locale, Module, TextStep
from state.engine.risk import concern


def is_discreet(progress: Progress) -> bool:
    """Whether discreet mode is on for this user (their own choice wins over the default)."""
    if progress.discreet is not None:
        return progress.discreet
    return progress.answers.get("shared_phone") == "yes" or concern(progress.answers)


def neutral_text(kind: str, locale: Locale) -> str:
    """The neutral wording of a notification of `kind` ("reminder", "check_in" ...).

    Falls back to the locale's `default` neutral text for a kind it does not list.
    """
    neutral = locale.discreet.neutral
    return neutral.get(kind, neutral["default"])


def outside_text(progress: Progress, kind: str, text: str, locale: Locale) -> str:
    """What a text that can show outside the open chat may say for this user.

    `text` itself normally; the neutral text of `kind` when discreet mode is on.
    """
    return neutral_text(kind, locale) if is_discreet(progress) else text


def sensitive_keys(modules: Iterable[Module]) -> frozenset[str]:
    """The answer keys that `text` steps marked `sensitive: true` save."""
    return frozenset(step.save for module in modules for step in module.steps
                     if isinstance(step, TextStep) and step.sensitive)


def shown_answers(progress: Progress, sensitive: frozenset[str], hidden: str) -> Mapping[str, Any]:
    """The answers placeholders may show: in discreet mode, private ones read `hidden`."""
    if not sensitive or not is_discreet(progress):
        return progress.answers
    return {key: (hidden if key in sensitive and value not in (None, "", []) else value)
            for key, value in progress.answers.items()}
