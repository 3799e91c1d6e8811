"""python-telegram-bot's requests over aiohttp: the bot's former HTTP transport, kept for comparison.

The bot now uses PTB's own `HTTPXRequest`: bench/transport.py runs both at Telegram's
limit and saturated, and at the limit the difference is not one a person would notice
(docs/performance.md). This file is what that benchmark compares against; the bot does
not import it. What it was written for:

PTB's default transport (httpx) spends about 0.7 ms of CPU on even the smallest Bot API call
on the reference machine, and more when several calls are in flight (connection-pool
bookkeeping). A bot that sends three or four calls per update spends most of its CPU
there. `AiohttpRequest` implements PTB's documented `BaseRequest` extension point with
aiohttp's client, which does the same work for about a third of that (measured in
docs/performance.md). Two more savings, both on paths PTB leaves open to a transport:

- parameters go as a JSON body (one of the Bot API's documented ways), multipart only when
  files are attached; Python's form encoding costs far more than `json.dumps`;
- with `lean_results`, a message Telegram returns (after a send or an edit) is parsed with
  only its id, date and chat: the bot only ever keeps those, and parsing the whole message
  into PTB objects cost more than the HTTP call itself. Code that needs a sent message's
  text or buttons back must use a transport without `lean_results`.

Timeouts (read, connect, pool) and errors (`TimedOut`, `NetworkError`) are PTB's, for its
retry logic and for the bot's error handler.
"""

from __future__ import annotations

import urllib.request
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


def _seconds(value: Any, default: float | None) -> float | None:
    """A timeout PTB passed, or our default when it passed its 'use the default' marker."""
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` on one aiohttp client session (keep-alive pool).

    Timeouts default to PTB's (`HTTPXRequest`): 5 s to read, 5 s to connect, 1 s to get a
    pooled connection. aiohttp has no write timeout of its own; a stalled upload is ended
    by the read timeout. Proxies come from the usual environment variables (HTTPS_PROXY,
    NO_PROXY), read once per host: aiohttp's own `trust_env` would look them (and ~/.netrc)
    up on a thread for every single request.
    """

    def __init__(self, connections: int = 32, *, read_timeout: float = 5.0,
                 connect_timeout: float = 5.0, pool_timeout: float = 1.0,
                 lean_results: bool = True) -> None:
        self.connections = connections
        self.lean_results = lean_results
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        """The default read timeout (PTB adds the long-poll time to it for getUpdates)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session; PTB calls this from `Bot.initialize` inside the running loop."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.connections, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT})

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        """Telegram's answer; with `lean_results`, a returned message keeps its id, date and chat."""
        data = BaseRequest.parse_json_payload(payload)
        result = data.get("result")
        if self.lean_results and isinstance(result, dict) and "message_id" in result \
                and isinstance(result.get("chat"), dict):
            chat = result["chat"]
            data["result"] = {"message_id": result["message_id"], "date": result.get("date", 0),
                              "chat": {"id": chat.get("id"), "type": chat.get("type")}}
        return data

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one HTTP request; return its status code and body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None, sock_read=_seconds(read_timeout, self._read_timeout), sock_connect=connect,
            connect=None if connect is None or pool is None else connect + pool)
        try:
            async with self._session.request(method, url, data=_body(request_data), timeout=timeout,
                                             headers=_JSON if _is_json(request_data) else None,
                                             proxy=_proxy(*_scheme_host(url))) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


_JSON = {"Content-Type": "application/json"}


def _is_json(request_data: RequestData | None) -> bool:
    return request_data is not None and not request_data.contains_files


def _scheme_host(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


@lru_cache(maxsize=64)
def _proxy(scheme: str, host: str) -> str | None:
    """The proxy the environment asks for to reach this host, if any."""
    if urllib.request.proxy_bypass(host.split(":")[0]):
        return None
    return urllib.request.getproxies().get(scheme)


def _body(request_data: RequestData | None) -> bytes | aiohttp.FormData | None:
    """The request's parameters as JSON; multipart when files are attached."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_payload
    fields = request_data.json_parameters
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
