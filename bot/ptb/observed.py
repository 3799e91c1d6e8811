"""The Bot API transport, watched: every call's failures counted, every answer to getUpdates noted.

`ObservedRequest` wraps the bot's HTTP transport (PTB's `HTTPXRequest`, or any other
`BaseRequest`) and passes each call through unchanged. What it sees it counts in
`bot.ops.metrics` (network errors, 4xx, 5xx, and 429 "retry after"), whichever part of the
bot made the call: replies, reminders, the update loop. The getUpdates transport also
reports each long poll asked (`on_ask`) and answered (`on_answer`), which is how `/healthz`
knows the update loop is alive without reaching into it.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot.ops.metrics import count_telegram_answer


class ObservedRequest(BaseRequest):
    """A `BaseRequest` that counts failures and reports successful answers, then passes them on."""

    def __init__(self, inner: BaseRequest, on_answer: Callable[[], None] | None = None,
                 on_ask: Callable[[], None] | None = None) -> None:
        self.inner = inner
        self.on_answer = on_answer
        self.on_ask = on_ask

    @property
    def read_timeout(self) -> float | None:
        """The wrapped transport's read timeout (PTB adds the long-poll timeout to it)."""
        return self.inner.read_timeout

    async def initialize(self) -> None:
        """Set up the wrapped transport."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Close the wrapped transport."""
        await self.inner.shutdown()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: ODVInput[float] = DEFAULT_NONE,
                         write_timeout: ODVInput[float] = DEFAULT_NONE,
                         connect_timeout: ODVInput[float] = DEFAULT_NONE,
                         pool_timeout: ODVInput[float] = DEFAULT_NONE) -> tuple[int, bytes]:
        """Make the call through the wrapped transport, counting how it went."""
        if self.on_ask is not None:
            self.on_ask()
        try:
            code, payload = await self.inner.do_request(
                url, method, request_data, read_timeout=read_timeout, write_timeout=write_timeout,
                connect_timeout=connect_timeout, pool_timeout=pool_timeout)
        except Exception:
            count_telegram_answer(None)
            raise
        if 200 <= code <= 299:
            if self.on_answer is not None:
                self.on_answer()
        else:
            count_telegram_answer(code)
        return code, payload
