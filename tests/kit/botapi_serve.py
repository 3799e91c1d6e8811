"""The fake Bot API as a watched server: every bot reaction reported as it happens.

`WatchedBotApi` is `FakeBotApi` plus a listener told of each message the bot sends, each
edit, each answered button press and each chat action, in the server's own thread, at the
moment the request arrives. Benchmarks, the load test and the crash test use it to tell
when a reply has come, without polling the recordings (which copy everything they hold).
`trim()` forgets old recordings so that a long run keeps the server's memory flat.

Run on its own, it is a fake Telegram in a terminal, for trying the real bot by hand:

    .venv/bin/python -m tests.kit.botapi_serve     # prints the config lines the bot needs
    CRAFTBOT_TELEGRAM_TOKEN=123456:TEST-TOKEN craftbot run --config <a config with them>

then type messages; a number presses that button of the bot's latest keyboard.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.kit.botapi import FakeBotApi

Msg = dict[str, Any]
Listener = Callable[[str, int, Msg], None]
"""Called as listener(kind, chat_id, message) with kind "send", "edit", "answer" or "action"."""


class WatchedBotApi(FakeBotApi):
    """A fake Bot API server that reports the bot's reactions to a listener."""

    def __init__(self, token: str = "123456:TEST-TOKEN", *, listener: Listener | None = None,
                 strict_html: bool = True, delay: float = 0.0) -> None:
        """Create a stopped server; `listener` may also be set later.

        `delay` makes every call but getUpdates answer that many seconds late, as a distant
        Telegram does (its round trip is tens of milliseconds).
        """
        super().__init__(token, strict_html=strict_html)
        self.listener = listener
        self.delay = delay
        self.polls = 0

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.delay and not request.path.lower().endswith("/getupdates"):
            await asyncio.sleep(self.delay)
        return await super()._handle(request)

    def _notify(self, kind: str, chat_id: int, msg: Msg) -> None:
        if self.listener is not None:
            self.listener(kind, chat_id, msg)

    def _store(self, chat: dict[str, Any], sender: dict[str, Any], content: dict[str, Any], *,
               outgoing: bool) -> Msg:
        msg = super()._store(chat, sender, content, outgoing=outgoing)
        if outgoing:
            self._notify("send", chat["id"], msg)
        return msg

    def _set_markup(self, msg: Msg, markup: dict[str, Any] | None) -> Msg:
        result = super()._set_markup(msg, markup)
        self._notify("edit", msg["chat"]["id"], msg)
        return result

    def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        query = self._callbacks.get(str(params.get("callback_query_id", "")))
        answered = super()._m_answerCallbackQuery(params, files)
        if query is not None:
            self._notify("answer", int(query["from"]["id"]), query)
        return answered

    def _m_sendChatAction(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        done = super()._m_sendChatAction(params, files)
        self._notify("action", self._actions[-1][0], {})
        return done

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._cond:
            self.polls += 1
            self._cond.notify_all()
        return await super()._get_updates(params)

    def wait_for_poll(self, after: int, timeout: float = 30.0,
                      gave_up: Callable[[], bool] = lambda: False) -> None:
        """Wait until the bot has asked for updates more than `after` times (or `gave_up`)."""
        self.wait_for(lambda s: gave_up() or self.polls > after, timeout)

    def trim(self, keep: int = 12) -> None:
        """Forget recordings older than each chat's last `keep` messages (memory stays flat)."""
        with self._cond:
            self._calls.clear()
            self._sent.clear()
            self._answered.clear()
            self._actions.clear()
            self._deleted.clear()
            for chat_id, history in self._history.items():
                if len(history) > keep:
                    for message_id in list(history)[:-keep]:
                        del history[message_id]
                        self._outgoing.discard((chat_id, message_id))
            if len(self._callbacks) > 10_000:  # presses the bot never answered (duplicates)
                for query_id in list(self._callbacks)[:-1000]:
                    del self._callbacks[query_id]
            if len(self._files) > 1000:
                for file_id in list(self._files)[:-100]:
                    del self._files[file_id]

    def keyboard(self, chat_id: int) -> tuple[int, list[str]] | None:
        """The latest bot message in a chat that has buttons: (message id, callback data)."""
        with self._cond:
            history = self._history.get(chat_id, {})
            for message_id in reversed(history):
                msg = history[message_id]
                rows = (msg.get("reply_markup") or {}).get("inline_keyboard")
                if (chat_id, message_id) in self._outgoing and rows:
                    return message_id, [b["callback_data"] for row in rows for b in row
                                        if "callback_data" in b]
            return None


def show(kind: str, chat_id: int, msg: Msg) -> None:
    """Print what the bot did in a chat, buttons numbered (for the console below)."""
    if kind not in ("send", "edit") or not msg.get("text"):
        return
    rows = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
    labels = [b["text"] for row in rows for b in row]
    print(("\n(edited) " if kind == "edit" else "\nbot: ") + str(msg["text"]))
    for number, label in enumerate(labels, start=1):
        print(f"  [{number}] {label}")


def main(argv: list[str] | None = None) -> int:
    """Serve a fake Bot API and chat with the bot through it from this terminal."""
    parser = argparse.ArgumentParser(description="A local fake Telegram to try the bot by hand.")
    parser.add_argument("--token", default="123456:TEST-TOKEN", help="the token the server accepts")
    parser.add_argument("--user", type=int, default=1, help="the Telegram user id you play")
    args = parser.parse_args(argv)
    with WatchedBotApi(args.token, listener=show) as server:
        server.add_user(args.user)
        print(f"Fake Telegram at {server.base_url}. Start the bot with, in its config:\n"
              f"  telegram:\n    base_url: {server.base_url}\n    base_file_url: {server.base_file_url}\n"
              f"and CRAFTBOT_TELEGRAM_TOKEN={server.token}.\n"
              "Then type messages here; a number presses that button; Ctrl-D ends.", flush=True)
        for line in sys.stdin:
            text = line.strip()
            keyboard = server.keyboard(args.user)
            try:
                if text.isdigit() and keyboard and 1 <= int(text) <= len(keyboard[1]):
                    server.inject_callback(args.user, keyboard[0], keyboard[1][int(text) - 1])
                elif text:
                    server.inject_message(args.user, text)
            except ValueError as exc:
                print(f"(not sent: {exc})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
