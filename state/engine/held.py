"""Words a crisis interrupt held: kept whole, tied to where they were typed, offered back.

When words of crisis arrive where the person was answering (a free-text step, or a side
flow's question: a homework review, a check-in, a setting), they may be the answer too.
The interrupt keeps them in `Progress.pending["held"]` with what they were typed for:

    {"text": ..., "step": "<module>:<step>", "seq": <seq>}   a free-text step
    {"text": ..., "flow": <token>}                           a side flow's question

and the way back ("Back to where I was") offers them with one tap. A tap counts only
where they were typed: an old "Use what I wrote" button never saves them to another
question. Progress saved by older versions held a bare string for the step on screen.
"""

from __future__ import annotations

from typing import Any

from state.curriculum.schema import TextStep
from state.engine.turn import Turn

KEY = "held"


def hold(turn: Turn, text: str) -> None:
    """Keep the words for the question they were typed at, if there was one."""
    flow = turn.p.practice.get("flow")
    if isinstance(flow, dict) and "token" in flow:
        turn.p.pending[KEY] = {"text": text, "flow": flow["token"]}
    elif isinstance(turn.current(), TextStep):
        turn.p.pending[KEY] = {"text": text, "step": f"{turn.p.module}:{turn.p.step}", "seq": turn.p.seq}


def for_step(turn: Turn) -> str | None:
    """The held words if they were typed at the free-text step the person is on now."""
    found: Any = turn.p.pending.get(KEY)
    if not isinstance(turn.current(), TextStep) or not found:
        return None
    if isinstance(found, str):  # saved by an older version: it held words for the step on screen
        return found
    here = found.get("step") == f"{turn.p.module}:{turn.p.step}" and found.get("seq") == turn.p.seq
    return str(found["text"]) if here else None


def for_flow(turn: Turn) -> str | None:
    """The held words if they were typed for the side flow's question open now."""
    found: Any = turn.p.pending.get(KEY)
    flow = turn.p.practice.get("flow")
    if not isinstance(found, dict) or not isinstance(flow, dict) or "flow" not in found:
        return None
    return str(found["text"]) if found["flow"] == flow.get("token") else None


def take(turn: Turn) -> None:
    """The held words are used (or no longer apply): forget them."""
    turn.p.pending.pop(KEY, None)
