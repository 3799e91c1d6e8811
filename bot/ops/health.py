"""`GET /healthz` and `GET /metrics`, served by the bot's own event loop on `metrics.listen`.

Healthy means two things, checked in this order, and an unhealthy answer names the first
that fails in one word:

- `polling`: the update loop is running and has fetched updates from Telegram within the
  last poll window (the long-poll timeout, plus `STALE_AFTER` for the loop's longest pause
  between retries); until its first long poll is answered, asking counts. A loop that
  stopped, hangs, or cannot reach Telegram fails it;
- `database`: the database accepts a write: one tiny write transaction through the store's
  own API (the expired /hide records are dropped, as the hourly retention round does),
  within `PROBE_TIMEOUT`. A database that is closed, read-only, or held by another writer
  fails it.

A healthy answer also names the curriculum: `curriculum: serving <v>, published <p>`, and
why not, when this instance cannot serve the published one (its folder holds another
version): that is not unhealthy, since the bot still answers everyone (crisis help first),
but it is said, and `craftbot_curriculum_behind` in /metrics is 1.

In webhook mode (`telegram.webhook.url`) there is no fetching: the first check is `webhook`
(the webhook server is up), and a third follows, `inbox`: no update has waited in the inbox
longer than `INBOX_STALE`. A healthy answer then has a second line, `inbox: <n> queued,
oldest <s> s`, which the inbox gauges in /metrics also carry.

Why an asyncio server on the bot's loop, not a thread: the database probe is the store's
async API, which must be awaited on the loop that owns the store; a thread would have to
hand every probe back to that loop anyway. And a loop that is stuck cannot answer, which is
itself the right answer: the probe times out and the container or systemd sees a sick bot.
The server reads one request line and its headers and answers with `Connection: close`;
the Prometheus text comes from prometheus-client's own exposition (`bot.ops.metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.ops.metrics import INBOX_OLDEST_SECONDS, INBOX_QUEUED, PROBE_SECONDS, SINCE_FETCH, exposition

log = logging.getLogger("craftbot.health")

STALE_AFTER = 40.0  # seconds beyond the poll timeout: the loop's longest retry pause (30 s) and then some
PROBE_TIMEOUT = 2.0  # seconds a database probe may take before the database counts as unhealthy
PROBE_EVERY = 1.0  # a probe's answer is reused for this long, however often /healthz is asked
READ_TIMEOUT = 5.0  # seconds a client may take to send its request
MAX_HEADERS = 64
INBOX_STALE = 300.0  # seconds the oldest inbox update may wait before the bot counts as stuck
Backlog = Callable[[], Awaitable[tuple[int, float]]]  # (updates waiting, the oldest one's age)


def parse_listen(listen: str) -> tuple[str | None, int] | None:
    """`host:port` (`[::1]:9464` for IPv6; `:9464` for every address) as (host, port); None if empty."""
    if not listen.strip():
        return None
    host, _, port = listen.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    return (host or None), int(port)


class Liveness:
    """What /healthz and the systemd watchdog ask: is the bot polling, does the database write."""

    def __init__(self, window: float, polling: Callable[[], bool],
                 probe: Callable[[], Awaitable[object]], clock: Callable[[], float] = time.monotonic,
                 backlog: Backlog | None = None, curriculum: Callable[[], str] | None = None) -> None:
        self.window = window
        self.curriculum = curriculum  # the line naming the served and published versions
        self.polling = polling
        self.probe = probe
        self.clock = clock
        self.backlog = backlog  # webhook mode: the inbox's (`bot.ptb.webhook`)
        self.inbox: tuple[int, float] | None = None  # as last checked
        self.last_fetch: float | None = None
        self.first_ask: float | None = None
        self._checked: tuple[float, str | None] | None = None
        self._probing: asyncio.Task[str | None] | None = None
        SINCE_FETCH.set_function(self.since_fetch)

    def asked(self) -> None:
        """The update loop is asking for updates (the first long poll counts until it is answered)."""
        if self.first_ask is None:
            self.first_ask = self.clock()

    def fetched(self) -> None:
        """The update loop has just had an answer to getUpdates."""
        self.last_fetch = self.clock()

    def since_fetch(self) -> float:
        """Seconds since the last fetch (-1 before the first)."""
        return -1.0 if self.last_fetch is None else self.clock() - self.last_fetch

    async def check(self) -> str | None:
        """None when healthy; else the one word for what is not: `polling` (`webhook`), `database`
        or `inbox`."""
        now = self.clock()
        if self.backlog is not None:
            if not self.polling():
                return "webhook"
        else:
            last = self.last_fetch if self.last_fetch is not None else self.first_ask
            if not self.polling() or last is None or now - last > self.window:
                return "polling"
        if self._checked is None or now - self._checked[0] >= PROBE_EVERY:
            if self._probing is None or self._probing.done():  # one probe at a time, shared
                self._probing = asyncio.create_task(self._probe(), name="craftbot-health-probe")
            await asyncio.shield(self._probing)
        assert self._checked is not None
        return self._checked[1]

    def summary(self) -> str:
        """The lines a healthy answer adds: the curriculum's, and the inbox's in webhook mode."""
        inbox = "" if self.inbox is None else f"inbox: {self.inbox[0]} queued, oldest {self.inbox[1]:.1f} s\n"
        return inbox + (f"{self.curriculum()}\n" if self.curriculum is not None else "")

    async def _probe(self) -> str | None:
        started = self.clock()
        try:
            await asyncio.wait_for(self.probe(), PROBE_TIMEOUT)
            answer = None
        except Exception as exc:  # closed, read-only, locked, timed out: all "database"
            log.warning("health: the database did not take a write: %s", type(exc).__name__)
            answer = "database"
        PROBE_SECONDS.set(self.clock() - started)
        if answer is None and self.backlog is not None:
            answer = await self._look_at_inbox()
        self._checked = (self.clock(), answer)
        return answer

    async def _look_at_inbox(self) -> str | None:
        assert self.backlog is not None
        try:
            queued, oldest = self.inbox = await asyncio.wait_for(self.backlog(), PROBE_TIMEOUT)
        except Exception as exc:
            log.warning("health: the inbox could not be read: %s", type(exc).__name__)
            return "database"
        INBOX_QUEUED.set(queued)
        INBOX_OLDEST_SECONDS.set(oldest)
        return "inbox" if oldest > INBOX_STALE else None


class HealthServer:
    """The HTTP server for /healthz and /metrics (started and stopped with the bot)."""

    def __init__(self, host: str | None, port: int, liveness: Liveness) -> None:
        self.host, self.port = host, port
        self.liveness = liveness
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen; raises OSError when the address cannot be had."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        log.info("health and metrics on %s:%d (/healthz, /metrics)", self.host or "*", self.port)

    @property
    def address(self) -> tuple[str, int]:
        """The address listened on (the port the system chose when 0 was asked)."""
        assert self._server is not None and self._server.sockets
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def stop(self) -> None:
        """Stop listening and close the server."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, path = await asyncio.wait_for(_read_request(reader), READ_TIMEOUT)
            status, body, kind = await self.answer(method, path)
            head = (f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                    "Cache-Control: no-store\r\nConnection: close\r\n\r\n")
            writer.write(head.encode("ascii") + (b"" if method == "HEAD" else body))
            await writer.drain()
        except (TimeoutError, ConnectionError, ValueError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):
            pass  # a client that went away or sent nonsense: nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def answer(self, method: str, path: str) -> tuple[str, bytes, str]:
        """(status line, body, content type) for a request."""
        text = "text/plain; charset=utf-8"
        if method not in ("GET", "HEAD"):
            return "405 Method Not Allowed", b"method not allowed\n", text
        route = path.split("?", 1)[0]
        if route == "/healthz":
            reason = await self.liveness.check()
            return ("200 OK", f"ok\n{self.liveness.summary()}".encode(), text) if reason is None else (
                "503 Service Unavailable", f"{reason}\n".encode(), text)
        if route == "/metrics":
            body, kind = exposition()
            return "200 OK", body, kind
        return "404 Not Found", b"not found\n", text


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    """(method, path) of an HTTP request; its headers are read and dropped."""
    line = (await reader.readline()).decode("latin-1").split()
    if len(line) < 2:
        raise ValueError("not an HTTP request")
    for _ in range(MAX_HEADERS):
        if (await reader.readline()).strip() == b"":
            break
    return line[0].upper(), line[1]
