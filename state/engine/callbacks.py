"""Callback data: what every button sends back, as `<prefix>:<fields>`, in one table.

The values are on people's phones (old messages keep their buttons), so they never
change; Telegram allows 64 bytes. Each prefix belongs to one part of the engine:

    prefix  owner                               fields
    v       the turn: views                     here | menu | keep
    m       the turn: the menu                  <module id>
    o       a choice, quiz or scale step        <seq>:<option index>
    t       a checklist step: tick or untick    <seq>:<item index>
    d       a checklist step: done              <seq>
    c       a message step's button             <seq>
    s       safety (state.engine.safety.flow)   <action>:<pathways>
    p       data rights (/delete)               d1:<issued> | d2:<issued> | keep
    r       a reminder's own buttons            <reminder id>:<action>
    k       a side flow (check-in, review)      <token>:<value>
    w       /reminders settings                 <action>[:<value>]

`<seq>` is `Progress.seq` when the buttons were shown: a press on an older message is
recognised and never moves anyone.
"""

from __future__ import annotations

VIEW = "v"
MODULE = "m"
OPTION = "o"
TOGGLE = "t"
DONE = "d"
CONTINUE = "c"
SAFETY = "s"
PRIVACY = "p"
REMINDER = "r"
SIDE_FLOW = "k"
SETTINGS = "w"

STEP_PREFIXES = frozenset({OPTION, TOGGLE, DONE, CONTINUE})  # answers to the step on screen
LIMIT = 64  # bytes of callback data Telegram allows

HERE = f"{VIEW}:here"  # back to the step the person is on
MENU = f"{VIEW}:menu"
KEEP_HELD = f"{VIEW}:keep"  # keep the words a crisis interrupt held as the answer


def callback(prefix: str, *fields: object) -> str:
    """The callback data for a button: the prefix and its fields joined by `:`."""
    return ":".join((prefix, *map(str, fields)))


def parse(data: str) -> tuple[str, str]:
    """(prefix, the rest) of a button's callback data."""
    prefix, _, rest = data.partition(":")
    return prefix, rest
