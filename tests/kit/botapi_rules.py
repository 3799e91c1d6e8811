"""Rules of the fake Bot API: validation, limits, getUpdates queue semantics, object shapes.

The HTML parser, the trimming and the length limits follow tdlib, which the Bot API server
runs on (``td/telegram/MessageEntity.cpp``: ``parse_html``, ``fix_formatted_text``;
``MessageContent.cpp``: the 4096 *characters* limit for bots, counted in code points).
Error strings are the Bot API server's (``telegram-bot-api/Client.cpp``), first letter
lower-cased after the ``Bad Request:`` prefix as the server does.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Any

Entity = dict[str, Any]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
# fmt: off
CHAT_ACTIONS = frozenset((
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "record_audio", "upload_audio", "upload_document", "choose_sticker", "find_location",
    "pick_up_location", "record_video_note", "upload_video_note", "cancel",
))
_SIMPLE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler",
}
# fmt: on
_TAGS = frozenset(_SIMPLE) | {"a", "span", "pre", "code", "blockquote", "tg-emoji", "tg-time"}
_SPACE = " \t\r\n\0\v"
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_AUTO = [
    (
        "bot_command",
        re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])"),
    ),
    (
        "email",
        re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    ),
    ("mention", re.compile(r"(?<!\w)@[A-Za-z0-9_]{2,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<!\w)#\w*[^\W\d]\w*")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")),
]
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        """Create the error; ``description`` is the full Telegram description string."""
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad(description: str) -> ApiError:
    """Return a 400 ``Bad Request: <description>`` error."""
    return ApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def load_json(value: Any, what: str) -> Any:
    """Decode a JSON-serialized parameter as Telegram does; native values pass through."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise bad(f"can't parse {what} JSON object") from None


def _decode_entity(src: str, pos: int) -> tuple[str | None, int]:
    """tdlib's ``decode_html_entity``: returns the character and the position after it."""
    n, end = len(src), pos + 1

    def at(k: int) -> str:
        return src[k] if k < n else "\0"

    if at(end) == "#":
        end += 1
        digits, base = "0123456789", 10
        if at(end) == "x":
            end, digits, base = end + 1, "0123456789abcdefABCDEF", 16
        start = end
        while at(end) in digits:
            end += 1
        code = int(src[start:end], base) if end > start else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char: str | None = chr(code)
    else:
        while at(end).isascii() and at(end).isalpha():
            end += 1
        char = _NAMED.get(src[pos + 1 : end])
        if char is None:
            return None, pos
    return char, end + 1 if at(end) == ";" else end


def _entity_error(message: str) -> ApiError:
    return bad(f"can't parse entities: {message}")


def parse_html(src: str, strict: bool = False) -> tuple[str, list[Entity]]:
    """Parse Bot API HTML into plain text and entities, failing exactly where tdlib fails.

    With ``strict`` a bare ``&`` that does not start an entity is also rejected: the Bot API
    documentation requires ``&amp;``, although tdlib itself keeps such an ``&`` literally.
    """
    n = len(src)

    def at(k: int) -> str:
        return src[k] if k < n else "\0"

    def off(k: int) -> int:
        return len(src[:k].encode())

    out: list[str] = []
    u16, i = 0, 0
    stack: list[tuple[str, str, int, int]] = []
    entities: list[Entity] = []
    while i < n:
        c = src[i]
        if c == "&":
            char, j = _decode_entity(src, i)
            if char is not None:
                if 0xD800 <= ord(char) <= 0xDFFF:
                    raise _entity_error(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                out.append(char)
                u16, i = u16 + utf16_len(char), j
                continue
            if strict:
                raise _entity_error(
                    f'unescaped "&" at byte offset {off(i)} (strict mode of the fake; '
                    "escape it as &amp;)"
                )
        if c != "<":
            out.append(c)
            u16, i = u16 + utf16_len(c), i + 1
            continue
        begin, i = i, i + 1
        if at(i) == "/":
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {off(begin)}")
            while at(i) not in _SPACE and at(i) != ">":
                i += 1
            end_tag = src[begin + 2 : i].lower()
            while i < n and src[i] in _SPACE:
                i += 1
            if at(i) != ">":
                raise _entity_error(f"Unclosed end tag at byte offset {off(begin)}")
            tag, arg, start, out_start = stack[-1]
            if end_tag and end_tag != tag:
                raise _entity_error(
                    f'Unmatched end tag at byte offset {off(begin)}, expected "</{tag}>", '
                    f'found "</{end_tag}>"'
                )
            stack.pop()
            i += 1
            if u16 > start:
                _close_tag(tag, arg, start, u16 - start, "".join(out[out_start:]), entities)
            continue
        while at(i) not in _SPACE and at(i) != ">":
            i += 1
        if i >= n:
            raise _entity_error(f"Unclosed start tag at byte offset {off(begin)}")
        tag = src[begin + 1 : i].lower()
        if tag not in _TAGS:
            raise _entity_error(f'Unsupported start tag "{tag}" at byte offset {off(begin)}')
        arg = ""
        while at(i) != ">":
            while i < n and src[i] in _SPACE:
                i += 1
            if at(i) == ">":
                break
            name_start = i
            while at(i) not in _SPACE and at(i) not in "=>/\"'":
                i += 1
            name = src[name_start:i]
            if not name:
                raise _entity_error(
                    f'Empty attribute name in the tag "{tag}" at byte offset {off(begin)}'
                )
            while i < n and src[i] in _SPACE:
                i += 1
            if at(i) != "=":
                if i >= n:
                    raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {off(begin)}')
                if tag == "blockquote" and name == "expandable":
                    arg = "1"
                continue
            i += 1
            while i < n and src[i] in _SPACE:
                i += 1
            if i >= n:
                raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {off(begin)}')
            if src[i] not in "'\"":
                token_start = i
                while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                    i += 1
                value = src[token_start:i].lower()
                if at(i) not in _SPACE and at(i) != ">":
                    raise _entity_error(
                        f"Unexpected end of name token at byte offset {off(token_start)}"
                    )
            else:
                quote, i, chars = src[i], i + 1, []
                while i < n and src[i] != quote:
                    char, j = _decode_entity(src, i) if src[i] == "&" else (None, i)
                    chars.append(char if char is not None else src[i])
                    i = j if char is not None else i + 1
                i += 1 if i < n else 0
                value = "".join(chars)
            if i >= n:
                raise _entity_error(f"Unclosed start tag at byte offset {off(begin)}")
            if tag == "a" and name == "href":
                arg = value
            elif tag == "code" and name == "class" and value.startswith("language-"):
                arg = value[9:]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                arg = value[3:]
            elif tag == "tg-emoji" and name == "emoji-id":
                arg = value
            elif tag == "blockquote" and name == "expandable":
                arg = "1"
        if tag == "span" and arg != "spoiler":
            raise _entity_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {off(begin)}'
            )
        stack.append((tag, arg, u16, len(out)))
        i += 1
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        entity.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_tag(tag: str, arg: str, offset: int, length: int, inner: str, out: list[Entity]) -> None:
    """Turn a closed tag into its entity, merging ``<pre><code class=...>`` like tdlib."""
    span: Entity = {"offset": offset, "length": length}
    last = out[-1] if out else None
    same = last is not None and (last["offset"], last["length"]) == (offset, length)
    if tag in _SIMPLE or tag == "span":
        out.append({"type": _SIMPLE.get(tag, "spoiler"), **span})
    elif tag == "blockquote":
        out.append({"type": "expandable_blockquote" if arg else "blockquote", **span})
    elif tag == "tg-emoji":
        if not arg.isdigit() or int(arg) == 0:
            raise _entity_error("Invalid custom emoji identifier specified")
        out.append({"type": "custom_emoji", **span, "custom_emoji_id": arg})
    elif tag == "a":
        url = (arg or inner).strip()
        if url and not re.search(r"\s", url):
            if not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", url):
                url = "http://" + url
            out.append({"type": "text_link", **span, "url": url})
    elif tag == "pre":
        if same and last is not None and last["type"] == "code" and last.get("_language"):
            last.update(type="pre", language=last.pop("_language"))
        else:
            out.append({"type": "pre", **span})
    elif tag == "code":
        if same and last is not None and last["type"] == "pre" and arg:
            last["language"] = arg
        else:
            out.append({"type": "code", **span, **({"_language": arg} if arg else {})})


def _given_entities(value: Any) -> list[Entity]:
    entities = load_json(value, "entities") if value not in (None, "") else []
    if not isinstance(entities, list):
        raise bad("can't parse entities JSON object")
    result = []
    for entity in entities:
        if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
            raise bad("can't parse MessageEntity: Object expected as MessageEntity")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise bad('can\'t parse MessageEntity: Field "offset" must be of type Number')
        if length:
            result.append(dict(entity))
    return result


def _trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """tdlib's trimming: drop trailing spaces/newlines, and leading ones before any entity."""
    end = len(text)
    while end and text[end - 1] in " \n":
        end -= 1
    if not end:
        raise bad("text must be non-empty")
    text = text[:end]
    end16 = utf16_len(text)
    kept = [e for e in entities if e["offset"] < end16]
    for entity in kept:
        entity["length"] = min(entity["length"], end16 - entity["offset"])
    first = min((e["offset"] for e in kept), default=end16)
    lead = 0
    while lead < first and text[lead] in " \n":
        lead += 1
    for entity in kept:
        entity["offset"] -= lead
    return text[lead:], kept


def auto_entities(text: str, existing: list[Entity]) -> list[Entity]:
    """Entities Telegram detects by itself: commands, mentions, hashtags, URLs, e-mails."""
    found: list[Entity] = []
    taken = [(e["offset"], e["offset"] + e["length"]) for e in existing]
    for kind, pattern in _AUTO:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            stop = start + utf16_len(match.group())
            if all(stop <= a or start >= b for a, b in taken):
                found.append({"type": kind, "offset": start, "length": stop - start})
                taken.append((start, stop))
    return found


def format_text(
    text: Any, parse_mode: Any, entities: Any, *, strict: bool, caption: bool = False
) -> tuple[str, list[Entity]]:
    """Validate a message text (or caption) like the Bot API; return the stored text/entities."""
    raw = "" if text is None else str(text)
    if not raw:
        if caption:
            return "", []
        raise bad("message text is empty")
    if len(raw.encode()) > 1 << 15:
        raise bad("text is too long")
    mode = str(parse_mode or "").lower()
    if mode and mode != "none":
        if mode in ("markdown", "markdownv2"):
            raise bad(
                f"can't parse entities: parse_mode {parse_mode} is not implemented by the fake"
            )
        if mode != "html":
            raise bad("unsupported parse_mode")
        plain, found = parse_html(raw, strict)
    else:
        plain, found = raw, _given_entities(entities)
    try:
        plain, found = _trim(plain, found)
    except ApiError:
        if caption:
            return "", []
        raise
    blocks = [e for e in found if e["type"] in ("code", "pre")]
    found = [
        e
        for e in found
        if not any(
            b is not e
            and b["offset"] <= e["offset"]
            and e["offset"] + e["length"] <= b["offset"] + b["length"]
            for b in blocks
        )
    ]
    found = sorted(found + auto_entities(plain, found), key=lambda e: (e["offset"], -e["length"]))
    if len(plain) > (CAPTION_LIMIT if caption else TEXT_LIMIT):
        raise bad("message caption is too long" if caption else "message is too long")
    return plain, found


def _inline_button(button: Any) -> dict[str, Any]:
    def fail(why: str) -> ApiError:
        return bad(f"can't parse inline keyboard button: {why}")

    if not isinstance(button, dict):
        raise fail("InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise fail('Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise fail('Field "text" must be of type String')
    if not button["text"].strip():
        raise bad("BUTTON_TEXT_INVALID")
    kinds = (
        "callback_game",
        "pay",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "login_url",
        "web_app",
        "copy_text",
    )
    if button.get("url"):
        if re.search(r"\s", str(button["url"])):
            raise bad("BUTTON_URL_INVALID")
    elif button.get("callback_data"):
        if len(str(button["callback_data"]).encode()) > CALLBACK_DATA_LIMIT:
            raise bad("BUTTON_DATA_INVALID")
    elif not any(kind in button for kind in kinds):
        raise fail("Text buttons are unallowed in the inline keyboard")
    return {k: v for k, v in button.items() if v is not None}


def check_markup(value: Any) -> dict[str, Any] | None:
    """Validate ``reply_markup``; return what Telegram echoes in Message (inline keyboards)."""
    if value in (None, ""):
        return None
    markup = load_json(value, "reply keyboard markup")
    if not isinstance(markup, dict):
        raise bad("object expected as reply markup")
    if markup.get("keyboard") is not None:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad('field "keyboard" must be an Array of Arrays')
        for button in (b for row in rows for b in row):
            if not isinstance(button, str | dict) or (
                isinstance(button, dict) and not isinstance(button.get("text"), str)
            ):
                raise bad(
                    "can't parse keyboard button: KeyboardButton must be a String or an Object"
                )
        return None
    rows = markup.get("inline_keyboard")
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    checked = [[_inline_button(b) for b in row] for row in rows]
    return {"inline_keyboard": checked} if any(checked) else None


def check_commands(value: Any) -> list[dict[str, str]]:
    """Validate ``setMyCommands`` commands like tdlib plus the server's BOT_COMMAND_INVALID."""
    commands = load_json(value, "commands") if value not in (None, "") else []
    if not isinstance(commands, list):
        raise bad("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad("too many commands specified")
    result = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad("can't parse BotCommand: Object expected as BotCommand")
        command = str(item.get("command", "")).strip().removeprefix("/")
        description = str(item.get("description", "")).strip()
        if not command:
            raise bad("command must be non-empty")
        if len(command) > 32:
            raise bad("command length must not exceed 32")
        if not description:
            raise bad("command description must be non-empty")
        if len(description) > 256:
            raise bad("command description length must not exceed 256")
        if not _COMMAND_RE.fullmatch(command):
            raise bad("BOT_COMMAND_INVALID")
        result.append({"command": command, "description": description})
    return result


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, JPEG or GIF; anything else fails like Telegram does."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 <= len(data) and data[i] == 0xFF:
            marker, size = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + size
    raise bad("IMAGE_PROCESS_FAILED")


def photo_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes Telegram generates for a photo: 90, 320, 800 and 1280 px boxes."""
    sizes: list[tuple[int, int]] = []
    for box in (90, 320, 800, 1280):
        scale = min(1.0, box / max(width, height, 1))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if size not in sizes:
            sizes.append(size)
        if scale == 1.0:
            break
    return sizes


# ----- parameters, updates and object shapes ---------------------------------------------------
JSON_FIELDS = (
    "reply_markup",
    "entities",
    "caption_entities",
    "commands",
    "scope",
    "menu_button",
    "allowed_updates",
    "reply_parameters",
    "link_preview_options",
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def int_arg(value: Any, default: int = 0) -> int:
    """An integer parameter; like the Bot API, unparsable values count as absent."""
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def flag(value: Any) -> bool:
    """A Boolean parameter as the Bot API reads it (``true``/``1`` in form data)."""
    return value is True or str(value).lower() in ("true", "1")


def describe(params: dict[str, Any], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Request parameters for the recordings: JSON fields decoded, files as name and size."""
    out = dict(params)
    for key in JSON_FIELDS:
        if isinstance(out.get(key), str):
            try:
                out[key] = json.loads(out[key])
            except ValueError:
                continue
    for key, upload in files.items():
        out[key] = {"file_name": upload["file_name"], "size": len(upload["data"])}
    return out


def png_bytes(width: int = 640, height: int = 480) -> bytes:
    """A PNG signature and header of the given size (all Telegram's sizing reads)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + crc


def update_kind(update: dict[str, Any]) -> str:
    """The update's type: its one key besides ``update_id``."""
    return next((key for key in update if key != "update_id"), "")


@dataclass
class Pending:
    """An update in the queue; ``forced`` ones (re-deliveries) ignore the confirmed offset."""

    update: dict[str, Any]
    forced: bool = False
    delivered: bool = False


def select_updates(queue: list[Pending], offset: int, allowed: list[str]) -> list[Pending]:
    """getUpdates' queue rules: an offset confirms (drops) older updates, a negative one keeps
    only the last -offset; updates of types not allowed are dropped. Returns the new queue."""
    queue = [p for p in queue if not (p.forced and p.delivered)]
    if offset < 0:
        regular = [id(p) for p in queue if not p.forced]
        dropped = set(regular[: max(0, len(regular) + offset)])
        queue = [p for p in queue if id(p) not in dropped]
    elif offset > 0:
        queue = [p for p in queue if p.forced or p.update["update_id"] >= offset]
    wanted = set(allowed)
    return [
        p
        for p in queue
        if (
            update_kind(p.update) in wanted
            if wanted
            else update_kind(p.update) not in NOT_DEFAULT_UPDATES
        )
    ]


def file_fields(record: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The ``file_id``/``file_unique_id``/``file_size`` fields of a stored file, plus ``keys``."""
    return {k: record[k] for k in ("file_id", "file_unique_id", "file_size", *keys)}
