"""Updates handled again after a kill: the rest of their reply sent, never the turn done twice.

The bot saves a person's turn before it sends the reply, and the update counts as handled
only after the reply is sent (polling confirms it to Telegram then, `bot.ptb.updater`; the
webhook's inbox marks it handled then, `bot.ptb.inbox`). If the process dies in between,
the update is handled again: Telegram delivers it again, or another instance takes it from
the inbox once the dead one's lease ran out. Its id is not newer than the saved
`Progress.last_update_id`, so the engine never sees it twice.

What the person must still get is in the store: the turn's transaction keeps its reply
(`state.store.replies`), and the door records each send Telegram accepts, then the reply
done. So an update handled again is answered with what was not yet accepted, from the first
such send: the one in flight at the kill may have reached the person and be shown twice
(one message at most); the others arrive once, in order. A reply that went out whole is
recorded done, so the update stays silent, whichever instance or process handles it again.
A crisis interrupt is kept like any reply and goes on with the same priority.

A repeat of an older update is ignored: a later one was handled after it. A turn saved
without a kept reply (by a version before migration 012) is answered as before: the
question the person is on shown again, or the whole interrupt if it was one.
"""

from __future__ import annotations

from state.contracts import Delivery, Progress, Reply
from state.engine.engine import Engine
from state.store.replies import Kept


def answer_again(engine: Engine, progress: Progress, update_id: int, kept: Kept | None,
                 now: float) -> Reply | None:
    """What to send for an update already handled: the rest of its reply, or nothing."""
    if kept is not None and kept.update_id >= update_id:
        if kept.update_id > update_id or kept.done:
            return None
        return Reply(messages=kept.messages, protect=kept.protect,
                     delivery=Delivery(update_id, kept.accepted, kept.crisis))
    if update_id != progress.last_update_id:
        return None
    return engine.answer_again(progress, now)  # a turn from before kept replies
