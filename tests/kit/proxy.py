"""A round-robin HTTP proxy in front of several webhook instances, as a load balancer would be.

`RoundRobinProxy` serves on a port of its own, in a thread of its own, and forwards each
request (method, path, headers, body) to the next of its backends in turn, answering with the
backend's status and body. A backend that refuses the connection or does not answer is
passed over for the next one (nginx's `proxy_next_upstream error timeout`), so an instance
killed mid-run costs no more than one retry; when every backend fails the proxy answers 502
and Telegram (the fake Bot API) sends the update again later. A request a backend did
answer is never sent to another: the answer, whatever it is, goes back to Telegram.

`forwarded` counts the requests each backend answered (by its index), `failed` those that
reached no backend.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import aiohttp
from aiohttp import web

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


class RoundRobinProxy:
    """Forwards requests to backends (`http://host:port`) in turn; see the module's text."""

    def __init__(self, backends: list[str], timeout: float = 30.0) -> None:
        self.backends = list(backends)
        self.timeout = timeout
        self.forwarded: Counter[int] = Counter()
        self.failed = 0
        self.port = 0
        self._next = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RoundRobinProxy:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="proxy", daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the proxy did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def _order(self) -> list[int]:
        """The backends to try for one request: the next in turn first, then the others."""
        with self._lock:
            first = self._next % len(self.backends)
            self._next += 1
        return [(first + i) % len(self.backends) for i in range(len(self.backends))]

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        timeout = aiohttp.ClientTimeout(total=self.timeout, sock_connect=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async def forward(request: web.Request) -> web.StreamResponse:
                body = await request.read()
                headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
                for index in self._order():
                    try:
                        async with session.request(request.method, self.backends[index] + request.path_qs,
                                                   data=body, headers=headers) as answer:
                            data = await answer.read()
                            self.forwarded[index] += 1
                            return web.Response(status=answer.status, body=data,
                                                content_type=answer.content_type)
                    except (aiohttp.ClientError, TimeoutError, OSError):
                        continue  # a dead instance: the next one
                self.failed += 1
                return web.Response(status=502)

            app = web.Application(client_max_size=1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", forward)
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = int(runner.addresses[0][1])
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()
