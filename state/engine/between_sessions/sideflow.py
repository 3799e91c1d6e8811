"""A short conversation beside the curriculum: a check-in, a homework review, a setting.

Reminders, check-ins and `/reminders` talk to people without moving them in their module.
What they need to remember lives in `Progress.practice` (plain JSON):

    flow     the side conversation in progress: {"name", "token", "stage", ...}; its
             buttons carry the token (``k:<token>:<value>``), so an older one is recognised
    n        the last token given
    open     reminders shown whose own buttons still work: {"<reminder id>": kind}

What a turn asks the database to do (plan, cancel, keep a check-in) travels as typed
orders on the turn's `Reply` (`state.contracts`); the conversation service carries them out
in the same transaction.

`Aside` is the handle the practice modules use on one `Turn`.
"""

from __future__ import annotations

from typing import Any

from state.contracts import Button, Event, ReminderOrder
from state.engine.between_sessions.schedule import ReminderPrefs
from state.engine.discreet import outside_text
from state.engine.turn import Turn

MAX_OPEN = 12  # reminders whose buttons still work; older ones answer "from an earlier step"


class Aside:
    """The between-sessions view of one turn: its texts, buttons, side flow and orders."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.p = turn.p
        self.state = turn.p.practice
        self.now = turn.now

    @property
    def prefs(self) -> ReminderPrefs:
        """The person's reminder settings."""
        return ReminderPrefs.of(self.p.answers, self.turn.locale.defaults)

    def outside(self, kind: str, text: str) -> str:
        """A text that can show on a lock screen: neutral words in discreet mode (`state.engine.discreet`)."""
        return outside_text(self.p, kind, text, self.turn.locale)

    # -- words and buttons ---------------------------------------------------------------

    def text(self, key: str, **values: str) -> str:
        """One of the bot's own texts with its values filled in (answers are filled later)."""
        text = self.turn.ui[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return text

    def say(self, key: str, buttons: tuple[tuple[Button, ...], ...] = (), **values: str) -> None:
        """Add one of the bot's own texts as a message, with buttons under it."""
        self.turn.say(self.text(key, **values), buttons)

    def button(self, key: str, data: str) -> Button:
        """A button whose label is one of the bot's own texts."""
        return Button(self.turn.ui[key], data)

    def event(self, kind: str) -> None:
        """Count something that happened (never with text)."""
        self.turn.reply.events.append(Event(kind, self.p.module, self.p.step))

    # -- the side flow -------------------------------------------------------------------

    @property
    def flow(self) -> dict[str, Any] | None:
        """The side conversation in progress, if any."""
        flow = self.state.get("flow")
        return flow if isinstance(flow, dict) else None

    def start_flow(self, name: str, **data: Any) -> dict[str, Any]:
        """Begin a side conversation; its buttons carry a fresh token."""
        token = int(self.state.get("n", 0)) + 1
        self.state["n"] = token
        flow = {"name": name, "token": token, **data}
        self.state["flow"] = flow
        return flow

    def end_flow(self) -> None:
        """Leave the side conversation."""
        self.state.pop("flow", None)

    # -- reminders shown -------------------------------------------------------------------

    def opened(self, reminder_id: int, kind: str) -> None:
        """Remember that a reminder was shown, so its buttons work (the newest few only)."""
        shown = dict(self.state.get("open", {}))
        shown[str(reminder_id)] = kind
        self.state["open"] = dict(list(shown.items())[-MAX_OPEN:])

    def close(self, reminder_id: str) -> str | None:
        """The kind of a shown reminder whose buttons are used now; None if already used."""
        shown = dict(self.state.get("open", {}))
        kind = shown.pop(reminder_id, None)
        self.state["open"] = shown
        return str(kind) if kind is not None else None

    def close_kind(self, kind: str) -> None:
        """Retire the buttons of every shown reminder of one kind."""
        self.state["open"] = {k: v for k, v in self.state.get("open", {}).items() if v != kind}

    # -- orders ------------------------------------------------------------------------------

    def order(self, order: ReminderOrder) -> None:
        """Ask the conversation service to change the person's reminders with this turn."""
        self.turn.reply.orders.append(order)
