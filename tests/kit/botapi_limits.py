"""Telegram's flood limits and passing faults, for the fake Bot API server.

`Limits` answers as Telegram does when a bot sends too fast: about 30 messages a second
overall and about one a second to one chat, short bursts allowed, else 429 with
`retry_after`. Both are leaky buckets (`burst` messages at once, then `rate` a second);
Telegram documents only the rates, so the shape is an assumption, kept in one place.
`Faults` fails the next calls of a method with a status such as 502, as a proxy in front
of Telegram sometimes does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

SENDS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "editMessageText",
                   "editMessageReplyMarkup"})


@dataclass
class Bucket:
    """A leaky bucket: `burst` deep, draining `rate` a second."""

    burst: float
    rate: float
    level: float = 0.0
    at: float = 0.0

    def take(self, now: float) -> float:
        """Take one if it fits (0.0), else the seconds until one would."""
        self.level = max(0.0, self.level - (now - self.at) * self.rate)
        self.at = now
        if self.level + 1 <= self.burst:
            self.level += 1
            return 0.0
        return (self.level + 1 - self.burst) / self.rate


@dataclass
class Limits:
    """Telegram's limits on sends: overall and per chat; counts the 429s it answered."""

    now: Callable[[], float]
    overall: Bucket = field(default_factory=lambda: Bucket(30, 30))
    chat_burst: float = 5
    chat_rate: float = 1.0
    chats: dict[int, Bucket] = field(default_factory=dict)
    refused: int = 0
    refused_chats: dict[int, int] = field(default_factory=dict)

    def check(self, method: str, chat_id: int | None) -> int:
        """0 if this call may go now, else the whole seconds to retry after."""
        if method not in SENDS:
            return 0
        now = self.now()
        if chat_id is not None:
            bucket = self.chats.setdefault(chat_id, Bucket(self.chat_burst, self.chat_rate, at=now))
            wait = bucket.take(now)
            if wait:
                self.refused += 1
                self.refused_chats[chat_id] = self.refused_chats.get(chat_id, 0) + 1
                return max(1, math.ceil(wait))
        wait = self.overall.take(now)
        if wait:
            self.refused += 1
            return max(1, math.ceil(wait))
        return 0


@dataclass
class Faults:
    """Calls to fail: (method, chat or None for any) -> statuses to answer, in order."""

    planned: dict[tuple[str, int | None], list[int]] = field(default_factory=dict)

    def plan(self, method: str, chat_id: int | None, *statuses: int) -> None:
        """Answer the next calls of `method` (to `chat_id`) with these statuses."""
        self.planned.setdefault((method, chat_id), []).extend(statuses)

    def take(self, method: str, chat_id: int | None) -> int:
        """The status to fail this call with, or 0."""
        for key in ((method, chat_id), (method, None)):
            statuses = self.planned.get(key)
            if statuses:
                return statuses.pop(0)
        return 0
