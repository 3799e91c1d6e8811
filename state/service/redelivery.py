"""Updates delivered again after a crash: answered once more, never processed twice.

The bot saves a person's answer before it sends the reply, and confirms the update to
Telegram only after the reply is sent (`bot.ptb.updater`). If the process dies in between,
Telegram delivers the update again. Its id is not newer than the saved
`Progress.last_update_id`, so the engine never sees it twice; but the reply may not have
reached the person, who would then wait for a question that never comes.

So a repeated update that is the person's latest saved one is answered with the question
they are on, shown again (its last message, with its buttons): at worst they see that one
message twice. A repeat of an older update is ignored: a later one was handled after its
reply had gone out. And while this process is running it knows which replies it finished
sending, so an update delivered twice without a crash stays silent.
"""

from __future__ import annotations

from collections import OrderedDict

from state.contracts import Progress, Reply
from state.engine.engine import Engine


class Deliveries:
    """The newest update of each recent user whose reply this process finished sending.

    A person's updates are answered in order, so every older one's reply went out too.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._sent: OrderedDict[int, int] = OrderedDict()

    def sent(self, user_id: int, update_id: int) -> None:
        """The reply to this update has gone out completely."""
        self._sent[user_id] = max(update_id, self._sent.get(user_id, 0))
        self._sent.move_to_end(user_id)
        if len(self._sent) > self.size:
            self._sent.popitem(last=False)

    def answer_again(self, engine: Engine, progress: Progress, update_id: int, now: float) -> Reply | None:
        """What to send for an update already handled: the current question again, or nothing."""
        if update_id != progress.last_update_id or self._sent.get(progress.user_id, 0) >= update_id:
            return None
        return engine.answer_again(progress, now)
