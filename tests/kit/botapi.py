"""A local, faithful fake of Telegram's Bot HTTP API for tests and benchmarks.

``FakeBotApi`` serves ``/bot<token>/<method>`` on 127.0.0.1 from a background thread with its
own asyncio loop, so python-telegram-bot (in this process or in a subprocess) talks to it
through its real httpx stack via ``ApplicationBuilder().base_url(server.base_url)``.
Validation, limits and error wording follow the real Bot API server; see ``botapi_rules``.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from aiohttp import web

from .botapi_limits import Faults, Limits
from .botapi_rules import (
    CHAT_ACTIONS,
    CONFLICT,
    NOT_MODIFIED,
    TEXT_LIMIT,
    ApiError,
    Pending,
    auto_entities,
    bad,
    check_commands,
    check_markup,
    describe,
    file_fields,
    flag,
    format_text,
    image_size,
    int_arg,
    load_json,
    photo_sizes,
    png_bytes,
    select_updates,
)

T = TypeVar("T")
Msg = dict[str, Any]
Params = dict[str, Any]
# fmt: off
METHODS = {name.lower(): name for name in (
    "getMe", "deleteWebhook", "getUpdates", "sendMessage", "editMessageText",
    "editMessageReplyMarkup", "answerCallbackQuery", "setMyCommands", "getMyCommands",
    "deleteMyCommands", "sendChatAction", "deleteMessage", "sendDocument", "sendPhoto",
    "leaveChat", "setChatMenuButton", "close", "logOut", "getFile",
    "setWebhook", "getWebhookInfo",  # served by botapi_webhook.WebhookBotApi
)}
# fmt: on
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_REVOKE_LIMIT = 48 * 3600  # bots may delete messages for everyone for 48 hours
_DEFAULT_SCOPE = ('{"type": "default"}', "")


class _Snapshot(Generic[T]):
    """Read-only attribute: a deep copy of a private field, taken under the server lock."""

    def __init__(self, field: str) -> None:
        self.field = field

    def __get__(self, server: Any, owner: type | None = None) -> T:
        with server._cond:
            return copy.deepcopy(getattr(server, self.field))  # type: ignore[no-any-return]


class FakeBotApi:
    """The fake server. Use as a context manager or via ``start()``/``stop()``.

    Every public method is synchronous and thread-safe; every request and injection notifies
    one ``threading.Condition`` that ``wait_for`` and ``wait_idle`` wait on.
    """

    calls: _Snapshot[list[tuple[str, Params]]] = _Snapshot("_calls")
    """Every request as (method, params): JSON fields decoded, files as name and size."""
    errors: _Snapshot[list[dict[str, Any]]] = _Snapshot("_errors")
    """Every 4xx answer given: method, error_code, description, params."""
    deleted: _Snapshot[list[tuple[int, int]]] = _Snapshot("_deleted")
    """(chat_id, message_id) of every deleted message, in order."""
    answered_callbacks: _Snapshot[list[dict[str, Any]]] = _Snapshot("_answered")
    """Answered callback queries: callback_query_id, data, text, show_alert."""
    all_commands: _Snapshot[dict[tuple[str, str], list[dict[str, str]]]] = _Snapshot("_commands")
    """Bot commands per (scope as sorted JSON, language_code)."""
    chat_actions: _Snapshot[list[tuple[int, str]]] = _Snapshot("_actions")
    """(chat_id, action) of every sendChatAction."""
    files: _Snapshot[dict[str, dict[str, Any]]] = _Snapshot("_files")
    """Known files by file_id (uploads and injected media), with their bytes under ``data``."""

    def __init__(self, token: str = "123456:TEST-TOKEN", *, strict_html: bool = True) -> None:
        """Create a stopped server for ``token``; ``strict_html`` also rejects a bare ``&``."""
        self._token, self.strict_html = token, strict_html
        self.now: Callable[[], float] = time.time
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "CraftBot",
            "username": "craftbot_test_bot",
        }
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._calls: list[tuple[str, Params]] = []
        self._errors: list[dict[str, Any]] = []
        self._queue: list[Pending] = []
        self._allowed: list[str] = []
        self._ids = itertools.count(725_000_001)
        self._query_ids = itertools.count(4_382_000_000_000_000_001)
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._history: dict[int, dict[int, Msg]] = {}
        self._last_id: dict[int, int] = {}
        self._outgoing: set[tuple[int, int]] = set()
        self._sent: list[Msg] = []
        self._deleted: list[tuple[int, int]] = []
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._answered: list[dict[str, Any]] = []
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._blocked: set[int] = set()
        self._left: set[int] = set()
        self._flood: dict[int, int] = {}
        self.limits: Limits | None = None  # Telegram's flood limits, when `enforce_limits()`
        self._faults = Faults()
        self._files: dict[str, dict[str, Any]] = {}
        self._actions: list[tuple[int, str]] = []
        self._poll_gen = self._in_flight = self._port = 0
        self._last_activity = time.monotonic()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._event: asyncio.Event | None = None

    # ----- lifecycle -------------------------------------------------------------------------
    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve from a daemon thread."""
        if self._thread is not None:
            return self
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        loop = self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def serve() -> None:
            self._event = asyncio.Event()
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            # handler_cancellation: a client that hangs up (PTB cancelling its long poll,
            # a killed bot process) ends its request here too, as on Telegram's side.
            self._runner = web.AppRunner(
                app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
            )
            await self._runner.setup()
            await web.SockSite(self._runner, sock).start()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve())
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="FakeBotApi", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("FakeBotApi did not start")
        return self

    def stop(self) -> None:
        """Answer pending long polls, shut the server down and join its thread."""
        if self._thread is None or self._loop is None:
            return
        loop, runner = self._loop, self._runner

        async def shutdown() -> None:
            self._closing = True
            self._wake()
            if runner is not None:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        loop.close()
        self._thread = self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    @property
    def token(self) -> str:
        """The only token the server accepts."""
        return self._token

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url``: PTB appends ``<token>/<method>``."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url``."""
        return f"http://127.0.0.1:{self._port}/file/bot"

    # ----- HTTP ------------------------------------------------------------------------------
    def _wake(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return self._download(path[len("/file/bot") :])
        token, _, name = path[4:].partition("/") if path.startswith("/bot") else ("", "", "")
        method = METHODS.get(name.lower(), name or "?")
        counted = method != "getUpdates"  # long polls do not make the bot busy
        params: Params = {}
        files: dict[str, dict[str, Any]] = {}
        with self._cond:
            self._in_flight += counted
        try:
            params, files = await self._read(request)
            with self._cond:
                self._calls.append((method, describe(params, files)))
                self._cond.notify_all()
            if not _TOKEN_RE.fullmatch(token) or not name:
                raise ApiError(404, "Not Found")
            if token != self._token:
                raise ApiError(401, "Unauthorized")
            if name.lower() not in METHODS:
                raise ApiError(404, "Not Found")
            if method == "getUpdates":
                result: Any = await self._get_updates(params)
            elif status := self._fault(method, params):
                raise ApiError(status, "Bad Gateway" if status == 502 else "Internal Server Error")
            else:
                with self._cond:
                    result = getattr(self, f"_m_{method}")(params, files)
            return web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            body |= {"parameters": exc.parameters} if exc.parameters else {}
            with self._cond:
                self._errors.append(
                    {
                        "method": method,
                        "error_code": exc.code,
                        "description": exc.description,
                        "params": describe(params, files),
                    }
                )
            return web.json_response(body, status=exc.code)
        finally:
            with self._cond:
                self._in_flight -= counted
                self._last_activity = time.monotonic()
                self._cond.notify_all()

    async def _read(self, request: web.Request) -> tuple[Params, dict[str, Any]]:
        params: Params = dict(request.query)
        files: dict[str, dict[str, Any]] = {}
        if request.body_exists and request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise bad("can't parse JSON encoded request")
            params.update(body)
        elif request.body_exists:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = {
                        "file_name": value.filename,
                        "mime_type": value.content_type,
                        "data": value.file.read(),
                    }
                else:
                    params[key] = value
        return params, files

    def _download(self, rest: str) -> web.StreamResponse:
        token, _, file_path = rest.partition("/")
        with self._cond:
            found = [f["data"] for f in self._files.values() if f["file_path"] == file_path]
        if token != self._token or not found:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return web.json_response(body, status=404)
        return web.Response(body=found[0], content_type="application/octet-stream")

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        offset = int_arg(params.get("offset"))
        limit = min(max(int_arg(params.get("limit"), 100), 1), 100)
        timeout = min(max(int_arg(params.get("timeout")), 0), 50)
        with self._cond:
            allowed = load_json(params.get("allowed_updates"), "allowed updates")
            if isinstance(allowed, list):  # remembered until the next getUpdates that has it
                self._allowed = [str(kind) for kind in allowed]
            batch = self._take(offset, limit)
            if batch or timeout == 0 or self._closing:
                return batch
            self._poll_gen += 1
            generation = self._poll_gen
        self._wake()  # an older long poll, if any, now answers 409 Conflict
        deadline = time.monotonic() + timeout
        while True:
            assert self._event is not None
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), max(deadline - time.monotonic(), 0))
            except TimeoutError:
                return []
            with self._cond:
                if generation != self._poll_gen:
                    raise ApiError(409, CONFLICT)
                batch = self._take(max(offset, 0), limit)
                if batch or self._closing:
                    return batch

    def _take(self, offset: int, limit: int) -> list[dict[str, Any]]:
        self._queue = select_updates(self._queue, offset, self._allowed)
        for pending in self._queue[:limit]:
            pending.delivered = True
        return [copy.deepcopy(p.update) for p in self._queue[:limit]]

    # ----- Bot API methods (called with the lock held) ---------------------------------------
    def _m_getMe(self, params: Params, files: Params) -> dict[str, Any]:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "has_main_web_app": False,
            "can_connect_to_business": False,
        }

    def _m_deleteWebhook(self, params: Params, files: Params) -> bool:
        if flag(params.get("drop_pending_updates")):
            self._queue.clear()
        return True

    def _m_close(self, params: Params, files: Params) -> bool:
        return True

    _m_logOut = _m_close

    def _m_sendMessage(self, params: Params, files: Params) -> Msg:
        return self._send(params, self._text(params, caption=False))

    def _m_sendDocument(self, params: Params, files: Params) -> Msg:
        content = self._text(params, caption=True)
        record = self._input_file(params, files, "document")
        return self._send(
            params, {"document": file_fields(record, "file_name", "mime_type")} | content
        )

    def _m_sendPhoto(self, params: Params, files: Params) -> Msg:
        content = self._text(params, caption=True)
        record = self._input_file(params, files, "photo")
        width, height = image_size(record["data"])
        return self._send(params, {"photo": self._photo_sizes(record, width, height)} | content)

    def _m_editMessageText(self, params: Params, files: Params) -> Msg:
        content = self._text(params, caption=False)
        markup = check_markup(params.get("reply_markup"))
        msg = self._editable(params)
        if "text" not in msg:
            raise bad("there is no text in the message to edit")
        old = (msg["text"], msg.get("entities", []), msg.get("reply_markup"))
        if old == (content["text"], content.get("entities", []), markup):
            raise bad(NOT_MODIFIED)
        msg.pop("entities", None)
        msg.update(content)
        return self._set_markup(msg, markup)  # no reply_markup removes the keyboard, as on TG

    def _m_editMessageReplyMarkup(self, params: Params, files: Params) -> Msg:
        markup = check_markup(params.get("reply_markup"))
        msg = self._editable(params)
        if msg.get("reply_markup") == markup:
            raise bad(NOT_MODIFIED)
        return self._set_markup(msg, markup)

    def _m_deleteMessage(self, params: Params, files: Params) -> bool:
        if params.get("chat_id") in (None, ""):
            raise bad("chat identifier is not specified")
        message_id = int_arg(params.get("message_id"))
        if not message_id:
            raise bad("message identifier is not specified")
        chat = self._chat(params, writing=False)
        msg = self._history.get(chat["id"], {}).get(message_id)
        if msg is None:
            raise bad("message to delete not found")
        outgoing = (chat["id"], message_id) in self._outgoing
        if chat["type"] in ("supergroup", "channel") and not outgoing:
            raise bad("message can't be deleted")  # the fake bot is never an admin
        too_old = int(self.now()) - msg["date"] > _REVOKE_LIMIT
        if too_old or (chat["type"] == "group" and not outgoing):
            raise bad("message can't be deleted for everyone")
        del self._history[chat["id"]][message_id]
        self._deleted.append((chat["id"], message_id))
        return True

    def _m_answerCallbackQuery(self, params: Params, files: Params) -> bool:
        query = self._callbacks.pop(str(params.get("callback_query_id", "")), None)
        if query is None:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        self._answered.append(
            {
                "callback_query_id": query["id"],
                "data": query.get("data"),
                "text": params.get("text"),
                "show_alert": flag(params.get("show_alert")),
            }
        )
        return True

    def _scope_key(self, params: Params) -> tuple[str, str]:
        scope = load_json(params.get("scope"), "BotCommandScope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _m_setMyCommands(self, params: Params, files: Params) -> bool:
        self._commands[self._scope_key(params)] = check_commands(params.get("commands"))
        return True

    def _m_getMyCommands(self, params: Params, files: Params) -> list[Any]:
        return copy.deepcopy(self._commands.get(self._scope_key(params), []))

    def _m_deleteMyCommands(self, params: Params, files: Params) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True

    def _m_sendChatAction(self, params: Params, files: Params) -> bool:
        action = str(params.get("action", ""))
        if action not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        self._actions.append((self._chat(params)["id"], action))
        return True

    def _m_leaveChat(self, params: Params, files: Params) -> bool:
        chat = self._chat(params, writing=False)
        if chat["type"] == "private":
            raise bad("can't leave private chats")
        self._left.add(chat["id"])
        return True

    def _m_setChatMenuButton(self, params: Params, files: Params) -> bool:
        button = load_json(params.get("menu_button"), "menu button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in {
            "default",
            "commands",
            "web_app",
        }:
            raise bad("can't parse menu button: MenuButton must be an Object")
        chat = self._chat(params) if params.get("chat_id") not in (None, "") else None
        self.menu_buttons[chat["id"] if chat else None] = button
        return True

    def _m_getFile(self, params: Params, files: Params) -> dict[str, Any]:
        record = self._files.get(str(params.get("file_id", "")))
        if record is None:
            raise bad("invalid file_id")
        return file_fields(record, "file_path")

    # ----- helpers for methods ---------------------------------------------------------------
    def _text(self, params: Params, *, caption: bool) -> dict[str, Any]:
        key, ents_key = ("caption", "caption_entities") if caption else ("text", "entities")
        text, entities = format_text(
            params.get(key),
            params.get("parse_mode"),
            params.get(ents_key),
            strict=self.strict_html,
            caption=caption,
        )
        return ({key: text} if text else {}) | ({ents_key: entities} if entities else {})

    def _chat(self, params: Params, *, writing: bool = True) -> dict[str, Any]:
        raw = params.get("chat_id")
        if raw in (None, ""):
            raise bad("chat_id is empty")
        chat = self._chats.get(int_arg(raw))
        if chat is None and int_arg(raw) in self._users:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat is None:
            raise bad("chat not found")
        if chat["id"] in self._left:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat['type']} chat")
        if writing and chat["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _check_flood(self, chat_id: int) -> None:
        if chat_id in self._flood:
            seconds = self._flood.pop(chat_id)
            raise ApiError(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )

    def _send(self, params: Params, content: dict[str, Any]) -> Msg:
        markup = check_markup(params.get("reply_markup"))
        chat = self._chat(params)
        self._check_flood(chat["id"])
        reply = load_json(params.get("reply_parameters"), "reply parameters") or {}
        reply_id = int_arg(reply.get("message_id") if reply else params.get("reply_to_message_id"))
        if reply_id:
            target = self._history.get(chat["id"], {}).get(reply_id)
            if target is not None:
                content["reply_to_message"] = copy.deepcopy(target)
                content["reply_to_message"].pop("reply_to_message", None)
            elif not flag(
                reply.get("allow_sending_without_reply")
                or params.get("allow_sending_without_reply")
            ):
                raise bad("message to be replied not found")
        content |= {"reply_markup": markup} if markup else {}
        return copy.deepcopy(self._store(chat, self.bot_user, content, outgoing=True))

    def _editable(self, params: Params) -> Msg:
        if params.get("inline_message_id"):
            raise bad("MESSAGE_ID_INVALID")  # inline messages are not modelled
        chat = self._chat(params)
        message_id = int_arg(params.get("message_id"))
        msg = self._history.get(chat["id"], {}).get(message_id)
        if msg is None:
            raise bad("message to edit not found")
        if (chat["id"], message_id) not in self._outgoing:
            raise bad("message can't be edited")
        self._check_flood(chat["id"])
        return msg

    def _set_markup(self, msg: Msg, markup: dict[str, Any] | None) -> Msg:
        msg.pop("reply_markup", None)
        msg.update({"edit_date": int(self.now())} | ({"reply_markup": markup} if markup else {}))
        return copy.deepcopy(msg)

    def _input_file(self, params: Params, files: Params, field: str) -> dict[str, Any]:
        value, upload = params.get(field), files.get(field)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
        if upload is None:
            if not value:
                raise bad(f"there is no {field} in the request")
            if str(value) in self._files:
                return self._files[str(value)]
            if re.match(r"https?://", str(value)):
                raise bad("failed to get HTTP URL content")  # no network from the fake
            raise bad("wrong file identifier/HTTP URL specified")
        if not upload["data"]:
            raise bad("file must be non-empty")
        return self._register_file(
            upload["data"],
            upload["file_name"] or field,
            upload["mime_type"] or "application/octet-stream",
        )

    def _register_file(self, data: bytes, file_name: str, mime_type: str) -> dict[str, Any]:
        number = len(self._files) + 1
        record: dict[str, Any] = {
            "file_id": f"BQACAgIAAxkBAAI{number:06d}{_content_tag(data)}",
            "file_unique_id": f"AgAD{number:06d}",
            "file_size": len(data),
            "file_path": f"documents/file_{number}_{file_name}",
            "file_name": file_name,
            "mime_type": mime_type,
            "data": data,
        }
        self._files[record["file_id"]] = record
        return record

    def _photo_sizes(self, record: dict[str, Any], width: int, height: int) -> list[Any]:
        return [
            file_fields(self._register_file(record["data"], record["file_name"], "image/jpeg"))
            | {"width": w, "height": h}
            for w, h in photo_sizes(width, height)
        ]

    def _store(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        outgoing: bool,
    ) -> Msg:
        chat_id = chat["id"]
        message_id = self._last_id[chat_id] = self._last_id.get(chat_id, 0) + 1
        who = {"sender_chat": dict(chat)} if chat["type"] == "channel" else {"from": dict(sender)}
        msg = {
            "message_id": message_id,
            **who,
            "chat": dict(chat),
            "date": int(self.now()),
            **content,
        }
        self._history.setdefault(chat_id, {})[message_id] = msg
        if outgoing:
            self._outgoing.add((chat_id, message_id))
            self._sent.append(msg)
        return msg

    # ----- test-side API: injecting updates ------------------------------------------------
    def _push(self, update: dict[str, Any], *, forced: bool = False) -> dict[str, Any]:
        update = update if forced else {"update_id": next(self._ids), **update}
        self._queue.append(Pending(copy.deepcopy(update), forced=forced))
        self._cond.notify_all()
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._wake)
        return copy.deepcopy(update)

    def _user(
        self, user_id: int, first_name: str | None = None, language_code: str | None = None
    ) -> dict[str, Any]:
        user = self._users.setdefault(
            user_id, {"id": user_id, "is_bot": False, "first_name": "Test", "language_code": "en"}
        )
        user.update({"first_name": first_name} if first_name else {})
        user.update({"language_code": language_code} if language_code else {})
        return user

    @staticmethod
    def _chat_id(user_id: int, chat_id: int | None, chat_type: str) -> int:
        if chat_id is not None:
            return chat_id
        defaults = {"private": user_id, "group": -user_id, "channel": -1_000_500_000_000 - user_id}
        return defaults.get(chat_type, -1_000_000_000_000 - user_id)  # supergroup: -100...

    def _chat_for(self, user: dict[str, Any], chat_id: int | None, chat_type: str) -> Msg:
        chat_id = self._chat_id(user["id"], chat_id, chat_type)
        if chat_type == "private" and chat_id != user["id"]:
            raise ValueError("a private chat's id is the user's id")
        if chat_type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat_type {chat_type!r}")
        names = (
            {"first_name": user["first_name"]}
            if chat_type == "private"
            else {"title": f"Test {chat_type}"}
        )
        chat = self._chats.setdefault(chat_id, {"id": chat_id, "type": chat_type, **names})
        if chat["type"] != chat_type or chat_id in self._left:
            raise ValueError(f"chat {chat_id} is a {chat['type']} chat or the bot left it")
        return chat

    def _inject(
        self,
        user_id: int,
        content: dict[str, Any],
        chat_id: int | None,
        chat_type: str,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        with self._cond:
            user = self._user(user_id, first_name, language_code)
            chat = self._chat_for(user, chat_id, chat_type)
            msg = self._store(chat, user, content, outgoing=False)
            kind = "channel_post" if chat_type == "channel" else "message"
            return self._push({kind: copy.deepcopy(msg)})

    def add_user(
        self, user_id: int, *, first_name: str = "Test", language_code: str = "en"
    ) -> dict[str, Any]:
        """Register a user who has started the bot (their private chat exists), no update."""
        with self._cond:
            user = self._user(user_id, first_name, language_code)
            self._chat_for(user, None, "private")
            return dict(user)

    def inject_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Test",
        language_code: str = "en",
    ) -> dict[str, Any]:
        """Queue a user's text message with the entities Telegram detects (``bot_command``...)."""
        return self._inject(
            user_id, _user_text(text), chat_id, chat_type, first_name, language_code
        )

    def inject_callback(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Queue a button press on a bot message; that button must be on the stored message."""
        with self._cond:
            chat_id = user_id if chat_id is None else chat_id
            msg = self._history.get(chat_id, {}).get(message_id)
            if msg is None or (chat_id, message_id) not in self._outgoing:
                raise ValueError(f"no bot message {message_id} in chat {chat_id}")
            rows = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
            on_buttons = [button.get("callback_data") for row in rows for button in row]
            if data not in on_buttons:
                raise ValueError(f"message {message_id} has no button {data!r}: {on_buttons}")
            query: dict[str, Any] = {
                "id": str(next(self._query_ids)),
                "from": dict(self._user(user_id)),
                "message": copy.deepcopy(msg),
                "data": data,
                "chat_instance": str(abs(chat_id * 2654435761) % 10**19),
            }
            self._callbacks[query["id"]] = query
            return self._push({"callback_query": query})

    def inject_sticker(
        self,
        user_id: int,
        emoji: str = "👍",
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> dict[str, Any]:
        """Queue a sticker message from a user."""
        with self._cond:
            record = self._register_file(b"RIFF\0\0\0\0WEBPVP8 ", "sticker.webp", "image/webp")
            sticker = file_fields(record) | {
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": emoji,
            }
            return self._inject(user_id, {"sticker": sticker}, chat_id, chat_type)

    def inject_photo(
        self,
        user_id: int,
        caption: str | None = None,
        *,
        data: bytes | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> dict[str, Any]:
        """Queue a photo message (PNG/JPEG/GIF bytes; a 640x480 PNG by default)."""
        data = data or png_bytes()
        try:
            width, height = image_size(data)
        except ApiError as exc:
            raise ValueError(exc.description) from None
        with self._cond:
            record = self._register_file(data, "photo.jpg", "image/jpeg")
            content: dict[str, Any] = {"photo": self._photo_sizes(record, width, height)}
            content |= {"caption": caption} if caption else {}
            return self._inject(user_id, content, chat_id, chat_type)

    def inject_voice(
        self,
        user_id: int,
        duration: int = 3,
        *,
        data: bytes = b"OggS\0voice",
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> dict[str, Any]:
        """Queue a voice message."""
        with self._cond:
            record = self._register_file(data, "voice.ogg", "audio/ogg")
            voice = file_fields(record) | {"duration": duration, "mime_type": "audio/ogg"}
            return self._inject(user_id, {"voice": voice}, chat_id, chat_type)

    def inject_edited_message(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Edit a text message the user sent and queue the ``edited_message`` update."""
        content = _user_text(text)
        with self._cond:
            chat_id = user_id if chat_id is None else chat_id
            msg = self._history.get(chat_id, {}).get(message_id)
            if msg is None or (chat_id, message_id) in self._outgoing or "text" not in msg:
                raise ValueError(f"no text message {message_id} from the user in chat {chat_id}")
            msg.pop("entities", None)
            msg.update(content, edit_date=int(self.now()))
            kind = "edited_channel_post" if msg["chat"]["type"] == "channel" else "edited_message"
            return self._push({kind: copy.deepcopy(msg)})

    def inject_raw(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an arbitrary update given without ``update_id`` (the next id is assigned)."""
        if "update_id" in update:
            raise ValueError("inject_raw assigns update_id itself; see inject_duplicate")
        with self._cond:
            query = update.get("callback_query")
            if isinstance(query, dict) and "id" in query:
                # Telegram accepts an answer to any query it delivered, forged data or not.
                self._callbacks[str(query["id"])] = copy.deepcopy(query)
            return self._push(copy.deepcopy(update))

    def inject_duplicate(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver ``update`` again with the SAME update_id, as Telegram does after a crash."""
        with self._cond:
            return self._push(copy.deepcopy(update), forced=True)

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends, edits and chat actions to them answer 403."""
        with self._cond:
            self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot."""
        with self._cond:
            self._blocked.discard(user_id)

    def enforce_limits(self, overall: float = 30, chat_burst: float = 5, chat_rate: float = 1.0,
                       ) -> Limits:
        """From now on answer sends beyond Telegram's limits with 429 (tests/kit/botapi_limits.py)."""
        with self._cond:
            self.limits = Limits(time.monotonic, chat_burst=chat_burst, chat_rate=chat_rate)
            self.limits.overall.burst = self.limits.overall.rate = overall
            return self.limits

    def fail(self, method: str, chat_id: int | None, *statuses: int) -> None:
        """The next calls of ``method`` (to ``chat_id``; None: any chat) answer these statuses."""
        with self._cond:
            self._faults.plan(method, chat_id, *statuses)

    def clear_faults(self) -> None:
        """Forget the failures planned with `fail` that have not happened yet."""
        with self._cond:
            self._faults.planned.clear()

    def _fault(self, method: str, params: Params) -> int:
        """A planned failure (a 5xx status) or a 429 beyond the limits for this call; 0 if none."""
        raw = params.get("chat_id")
        chat = int_arg(raw) if raw not in (None, "") else None
        with self._cond:
            status = self._faults.take(method, chat)
            if status or self.limits is None:
                return status
            retry_after = self.limits.check(method, chat)
        if retry_after:
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}",
                           {"retry_after": retry_after})
        return 0

    def flood(self, chat_id: int, retry_after: int) -> None:
        """The next send or edit in ``chat_id`` fails: 429 with ``retry_after`` seconds."""
        with self._cond:
            self._flood[chat_id] = retry_after

    # ----- test-side API: recordings and waiting -------------------------------------------
    @property
    def messages(self) -> dict[int, list[Msg]]:
        """Each chat's current history: user and bot messages, edits applied, deleted gone."""
        with self._cond:
            return {cid: copy.deepcopy(list(h.values())) for cid, h in self._history.items()}

    @property
    def commands(self) -> list[dict[str, str]]:
        """Commands set for the default scope and no language_code."""
        with self._cond:
            return copy.deepcopy(self._commands.get(_DEFAULT_SCOPE, []))

    def sent(self, chat_id: int | None = None) -> list[Msg]:
        """Messages the bot sent, in order, edits applied (deleted ones stay listed)."""
        with self._cond:
            return [
                copy.deepcopy(m)
                for m in self._sent
                if chat_id is None or m["chat"]["id"] == chat_id
            ]

    def sent_count(self, chat_id: int | None = None) -> int:
        """How many messages the bot has sent (to ``chat_id``): the mark for ``wait_for_sent``."""
        with self._cond:
            return sum(1 for m in self._sent if chat_id is None or m["chat"]["id"] == chat_id)

    def notify(self) -> None:
        """Wake every `wait_for`, to re-check its predicate (something outside the server changed)."""
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[FakeBotApi], T], timeout: float = 10.0) -> T:
        """Return the predicate's first truthy value, re-checked on every state change."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (value := predicate(self)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._dump(f"condition not met within {timeout}s"))
                self._cond.wait(remaining)
            return value

    def wait_for_sent(
        self, n_new: int = 1, since: int = 0, *, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[Msg]:
        """Wait until the bot sent ``n_new`` messages after mark ``since``; return them all."""
        self.wait_for(lambda s: s.sent_count(chat_id) >= since + n_new, timeout)
        return self.sent(chat_id)[since:]

    def next_replies(
        self, user_id: int, text: str, n: int = 1, *, timeout: float = 10.0, **inject: Any
    ) -> list[Msg]:
        """Inject a message and wait for ``n`` new bot messages in that chat; return them."""
        chat_id = self._chat_id(user_id, inject.get("chat_id"), inject.get("chat_type", "private"))
        since = self.sent_count(chat_id)
        self.inject_message(user_id, text, **inject)
        return self.wait_for_sent(n, since, chat_id=chat_id, timeout=timeout)

    def wait_idle(self, quiet: float = 0.2, timeout: float = 10.0) -> None:
        """Wait until every queued update was fetched and no request ran for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                busy = self._in_flight > 0 or any(not p.delivered for p in self._queue)
                if not busy and now - self._last_activity >= quiet:
                    return
                if now >= deadline:
                    raise TimeoutError(self._dump(f"not idle within {timeout}s"))
                wait = quiet if busy else quiet - (now - self._last_activity)
                self._cond.wait(min(deadline - now, max(wait, 0.01)))

    def _dump(self, headline: str) -> str:
        lines = [headline, f"undelivered updates: {sum(not p.delivered for p in self._queue)}"]
        lines += [
            f"  {method} {json.dumps(params, ensure_ascii=False, default=str)[:300]}"
            for method, params in self._calls[-15:]
        ]
        lines += [f"  ERROR {e['method']}: {e['description']}" for e in self._errors[-5:]]
        return "\n".join(lines)


def _content_tag(data: bytes) -> str:
    """Six hex digits derived from file content, to make file ids look distinct."""
    return f"{zlib.crc32(data) & 0xFFFFFF:06x}"


def _user_text(text: str) -> dict[str, Any]:
    """A user's message text as a client sends it: trimmed, 1-4096 characters, entities."""
    text = text.strip(" \n")
    if not text or len(text) > TEXT_LIMIT:
        raise ValueError("Telegram clients send 1-4096 characters per message")
    entities = auto_entities(text, [])
    return {"text": text} | ({"entities": entities} if entities else {})
