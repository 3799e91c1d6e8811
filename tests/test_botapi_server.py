"""Tests of the fake Bot API server, driven through python-telegram-bot's real HTTP stack."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

try:
    from tests.kit.botapi import FakeBotApi
    from tests.kit.botapi_rules import png_bytes
except ImportError:  # textstat installs a top-level "tests" package that shadows ours
    from support.botapi import FakeBotApi  # type: ignore[no-redef,unused-ignore]
    from support.botapi_rules import png_bytes  # type: ignore[no-redef,unused-ignore]

USER = 4242


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    """A running fake server per test."""
    with FakeBotApi() as fake:
        yield fake


def make_bot(server: FakeBotApi, token: str | None = None) -> Bot:
    """A real PTB Bot pointed at the fake."""
    return Bot(token or server.token, base_url=server.base_url, base_file_url=server.base_file_url)


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """One row of callback buttons."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(d[:10] or "?", callback_data=d) for d in data]]
    )


@pytest.mark.asyncio
async def test_get_me_returns_the_bot_of_the_token(server: FakeBotApi) -> None:
    async with make_bot(server) as bot:
        me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "craftbot_test_bot"
    assert [method for method, _ in server.calls] == ["getMe", "getMe"]  # initialize + call


@pytest.mark.asyncio
async def test_sent_message_is_recorded_with_chat_ids_and_dates(server: FakeBotApi) -> None:
    server.inject_message(USER, "hi")  # the user's message takes message_id 1
    async with make_bot(server) as bot:
        first = await bot.send_message(USER, "Hello <b>there</b>", parse_mode="HTML")
        second = await bot.send_message(USER, "again")
    assert (first.message_id, second.message_id) == (2, 3)
    assert first.text == "Hello there"
    assert first.entities[0].type == "bold"
    assert first.from_user is not None and first.from_user.id == 123456
    sent = server.sent(USER)
    assert [m["text"] for m in sent] == ["Hello there", "again"]
    assert abs(sent[0]["date"] - time.time()) < 60
    assert [m["text"] for m in server.messages[USER]] == ["hi", "Hello there", "again"]
    assert server.errors == []


@pytest.mark.asyncio
async def test_text_longer_than_4096_characters_is_rejected(server: FakeBotApi) -> None:
    server.add_user(USER)
    async with make_bot(server) as bot:
        await bot.send_message(USER, "a" * 4096)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(USER, "a" * 4097)
        # the limit applies after entity parsing: tags and entities do not count
        await bot.send_message(USER, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(USER, "<b>" + "&lt;" * 4097 + "</b>", parse_mode="HTML")
    assert server.errors[-1]["description"] == "Bad Request: message is too long"
    assert len(server.sent(USER)) == 2


@pytest.mark.asyncio
async def test_length_counts_characters_after_trimming(server: FakeBotApi) -> None:
    # tdlib counts code points for bots (utf8_length in MessageContent.cpp) after trimming
    server.add_user(USER)
    async with make_bot(server) as bot:
        stored = await bot.send_message(USER, "\n  " + "😀" * 4096 + "  \n")
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(USER, "😀" * 4097)
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(USER, "")
        with pytest.raises(BadRequest, match="Text must be non-empty"):
            await bot.send_message(USER, " \n <b> </b>", parse_mode="HTML")
    assert stored.text == "😀" * 4096


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<p>para</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x </b>", "Unexpected end tag at byte offset 2"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("Tom & Jerry", 'unescaped "&" at byte offset 4'),
    ],
)
async def test_html_telegram_cannot_parse_is_rejected(
    server: FakeBotApi, html: str, error: str
) -> None:
    server.add_user(USER)
    async with make_bot(server) as bot:
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.send_message(USER, html, parse_mode="HTML")
    assert server.sent() == []
    # PTB re-capitalizes descriptions; the fake recorded Telegram's exact wording
    [recorded] = server.errors
    assert recorded["description"].startswith("Bad Request: can't parse entities: " + error)


@pytest.mark.asyncio
async def test_supported_html_becomes_entities(server: FakeBotApi) -> None:
    server.add_user(USER)
    html = (
        '<b>B</b> <a href="https://example.org/x">link</a> <tg-spoiler>s</tg-spoiler> '
        '<pre><code class="language-python">x = 1</code></pre> 1 &lt; 2 &amp; 😀 <i>i</i>'
    )
    async with make_bot(server) as bot:
        msg = await bot.send_message(USER, html, parse_mode="html")
    assert msg.text == "B link s x = 1 1 < 2 & 😀 i"
    kinds = [(e.type, e.offset, e.length) for e in msg.entities]
    assert kinds == [
        ("bold", 0, 1),
        ("text_link", 2, 4),
        ("spoiler", 7, 1),
        ("pre", 9, 5),
        ("italic", 26, 1),  # the emoji is 2 UTF-16 code units
    ]
    assert msg.entities[1].url == "https://example.org/x"
    assert msg.entities[3].language == "python"


@pytest.mark.asyncio
async def test_callback_data_over_64_bytes_is_rejected(server: FakeBotApi) -> None:
    server.add_user(USER)
    async with make_bot(server) as bot:
        ok = await bot.send_message(USER, "ok", reply_markup=keyboard("x" * 64))
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(USER, "no", reply_markup=keyboard("x" * 65))
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(USER, "no", reply_markup=keyboard("é" * 33))  # 66 bytes
    assert ok.reply_markup is not None
    assert ok.reply_markup.inline_keyboard[0][0].callback_data == "x" * 64
    assert server.errors[-1]["description"] == "Bad Request: BUTTON_DATA_INVALID"
    assert len(server.sent()) == 1


@pytest.mark.asyncio
async def test_edit_message_text_changes_the_stored_message(server: FakeBotApi) -> None:
    server.add_user(USER)
    async with make_bot(server) as bot:
        msg = await bot.send_message(USER, "before", reply_markup=keyboard("a"))
        edited = await bot.edit_message_text(
            "after", chat_id=USER, message_id=msg.message_id, reply_markup=keyboard("a")
        )
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text(
                "after", chat_id=USER, message_id=msg.message_id, reply_markup=keyboard("a")
            )
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("x", chat_id=USER, message_id=999)
        # like Telegram, an edit without reply_markup removes the inline keyboard
        await bot.edit_message_text("final", chat_id=USER, message_id=msg.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "after" and edited.edit_date is not None
    [stored] = server.sent(USER)
    assert stored["text"] == "final"
    assert "reply_markup" not in stored
    with pytest.raises(ValueError, match="no button"):
        server.inject_callback(USER, msg.message_id, "a")


@pytest.mark.asyncio
async def test_delete_message_follows_the_48_hour_rule(server: FakeBotApi) -> None:
    server.add_user(USER)
    start = time.time()
    async with make_bot(server) as bot:
        old = await bot.send_message(USER, "old")
        young = await bot.send_message(USER, "young")
        server.now = lambda: start + 47 * 3600
        assert await bot.delete_message(USER, young.message_id)
        server.now = lambda: start + 49 * 3600
        with pytest.raises(BadRequest, match="Message can't be deleted for everyone"):
            await bot.delete_message(USER, old.message_id)
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await bot.delete_message(USER, young.message_id)
        later = await bot.send_message(USER, "later")
    assert server.deleted == [(USER, young.message_id)]
    assert [m["text"] for m in server.messages[USER]] == ["old", "later"]
    assert later.date.timestamp() >= start + 49 * 3600 - 1


@pytest.mark.asyncio
async def test_get_updates_receives_an_injected_update(server: FakeBotApi) -> None:
    injected = server.inject_message(USER, "/start ref_42", first_name="Ann", language_code="ru")
    async with make_bot(server) as bot:
        [update] = await bot.get_updates(timeout=5)
    assert update.update_id == injected["update_id"]
    assert update.message is not None and update.message.text == "/start ref_42"
    assert update.message.from_user is not None
    assert (update.message.from_user.first_name, update.message.from_user.language_code) == (
        "Ann",
        "ru",
    )
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [
        ("bot_command", 0, 6)
    ]


@pytest.mark.asyncio
async def test_long_poll_answers_as_soon_as_an_update_arrives(server: FakeBotApi) -> None:
    async with make_bot(server) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await asyncio.to_thread(server.wait_for, lambda s: s._poll_gen == 1)  # poll is waiting
        server.inject_message(USER, "late")
        updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates if u.message] == ["late"]


@pytest.mark.asyncio
async def test_offset_confirms_updates_and_duplicates_are_redelivered(server: FakeBotApi) -> None:
    first = server.inject_message(USER, "one")
    server.inject_message(USER, "two")
    server.inject_message(USER, "three")
    async with make_bot(server) as bot:
        assert [u.update_id for u in await bot.get_updates(limit=2)] == [
            first["update_id"],
            first["update_id"] + 1,
        ]
        assert len(await bot.get_updates()) == 3  # nothing confirmed yet
        assert await bot.get_updates(offset=first["update_id"] + 3) == ()
        assert await bot.get_updates() == ()  # confirmed updates are gone for good
        server.inject_duplicate(first)
        [again] = await bot.get_updates(offset=first["update_id"] + 3)
    assert again.update_id == first["update_id"]
    assert again.message is not None and again.message.text == "one"


@pytest.mark.asyncio
async def test_a_second_long_poll_terminates_the_first_with_conflict(server: FakeBotApi) -> None:
    async with make_bot(server) as one, make_bot(server) as two:
        first = asyncio.create_task(one.get_updates(timeout=20))
        await asyncio.to_thread(server.wait_for, lambda s: s._poll_gen == 1)
        second = asyncio.create_task(two.get_updates(timeout=20))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 5)
        server.inject_message(USER, "for the survivor")
        updates = await asyncio.wait_for(second, 5)
    assert len(updates) == 1
    assert [e["error_code"] for e in server.errors] == [409]


@pytest.mark.asyncio
async def test_blocked_user_gives_forbidden(server: FakeBotApi) -> None:
    server.inject_message(USER, "hi")
    server.block(USER)
    async with make_bot(server) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(USER, "are you there?")
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_chat_action(USER, "typing")
        server.unblock(USER)
        await bot.send_message(USER, "welcome back")
        server.inject_message(77, "only in a group", chat_type="group")
        with pytest.raises(Forbidden, match="can't initiate conversation"):
            await bot.send_message(77, "private hello")
    assert [m["text"] for m in server.sent(USER)] == ["welcome back"]


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own str()
async def test_flood_gives_retry_after_once(server: FakeBotApi) -> None:
    server.add_user(USER)
    server.flood(USER, 17)
    async with make_bot(server) as bot:
        with pytest.raises(RetryAfter, match="Retry in 17 seconds"):
            await bot.send_message(USER, "too fast")
        await bot.send_message(USER, "later")
    assert server.errors[0]["error_code"] == 429
    assert server.errors[0]["description"] == "Too Many Requests: retry after 17"
    assert [m["text"] for m in server.sent()] == ["later"]


@pytest.mark.asyncio
async def test_wrong_or_malformed_token_is_rejected(server: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(server, token="123456:WRONG-TOKEN"):
            pass
    with pytest.raises(InvalidToken):
        async with make_bot(server, token="not-a-token"):
            pass
    assert [(e["error_code"], e["description"]) for e in server.errors] == [
        (401, "Unauthorized"),
        (404, "Not Found"),
    ]


@pytest.mark.asyncio
async def test_unknown_method_is_not_found(server: FakeBotApi) -> None:
    async with make_bot(server) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": USER})
        assert await bot.do_api_request("GETME") is not None  # method names ignore case
    assert server.errors[0]["error_code"] == 404


@pytest.mark.asyncio
async def test_callback_query_carries_the_stored_message_and_answers_once(
    server: FakeBotApi,
) -> None:
    server.add_user(USER)
    async with make_bot(server) as bot:
        msg = await bot.send_message(USER, "Pick one", reply_markup=keyboard("pick:a", "pick:b"))
        await bot.edit_message_text(
            "Pick one, please",
            chat_id=USER,
            message_id=msg.message_id,
            reply_markup=keyboard("pick:b"),
        )
        with pytest.raises(ValueError, match="no button"):
            server.inject_callback(USER, msg.message_id, "pick:a")
        server.inject_callback(USER, msg.message_id, "pick:b")
        [update] = await bot.get_updates(timeout=5)
        query = update.callback_query
        assert query is not None and query.data == "pick:b"
        assert isinstance(query.message, Message)
        assert query.message.text == "Pick one, please"
        assert await bot.answer_callback_query(query.id, text="Got it")
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query(query.id)
    assert server.answered_callbacks == [
        {"callback_query_id": query.id, "data": "pick:b", "text": "Got it", "show_alert": False}
    ]


@pytest.mark.asyncio
async def test_documents_and_photos_are_uploaded_as_multipart(server: FakeBotApi) -> None:
    server.add_user(USER)
    async with make_bot(server) as bot:
        doc = await bot.send_document(
            USER, b"%PDF-1.4 plan", filename="plan.pdf", caption="<b>Plan</b>", parse_mode="HTML"
        )
        assert doc.document is not None
        photo = await bot.send_photo(USER, png_bytes(2000, 1000))
        with pytest.raises(BadRequest, match="File must be non-empty"):
            await bot.send_document(USER, b"", filename="empty.txt")
        with pytest.raises(BadRequest, match="Image_process_failed"):
            await bot.send_photo(USER, b"not an image")
        again = await bot.send_document(USER, doc.document.file_id)  # resend by file_id
        downloaded = await (await bot.get_file(doc.document.file_id)).download_as_bytearray()
    assert doc.caption == "Plan" and doc.caption_entities[0].type == "bold"
    assert doc.document.file_name == "plan.pdf"
    assert server.files[doc.document.file_id]["data"] == b"%PDF-1.4 plan"
    assert again.document is not None and again.document.file_id == doc.document.file_id
    assert bytes(downloaded) == b"%PDF-1.4 plan"
    assert [(p.width, p.height) for p in photo.photo][-1] == (1280, 640)
    assert dict(server.calls[1][1])["document"] == {"file_name": "plan.pdf", "size": 13}


@pytest.mark.asyncio
async def test_commands_chat_actions_menu_button_and_leave_chat(server: FakeBotApi) -> None:
    server.inject_message(USER, "hello group", chat_type="group")
    server.add_user(USER)
    group = -USER
    async with make_bot(server) as bot:
        assert await bot.set_my_commands([("start", "Begin"), ("help", "What I can do")])
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await bot.set_my_commands([("Start", "Begin")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        assert await bot.send_chat_action(USER, "typing")
        with pytest.raises(BadRequest, match="Wrong parameter action"):
            await bot.send_chat_action(USER, "dancing")
        assert await bot.set_chat_menu_button()
        with pytest.raises(BadRequest, match="Can't leave private chats"):
            await bot.leave_chat(USER)
        assert await bot.leave_chat(group)
        with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
            await bot.send_message(group, "still here?")
        assert await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()
    assert server.chat_actions == [(USER, "typing")]
    assert server.commands == []
    assert server.menu_buttons == {None: {"type": "default"}}


@pytest.mark.asyncio
async def test_application_polls_replies_and_stops_without_errors(server: FakeBotApi) -> None:
    async def shout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text.upper(), do_quote=True)

    app = ApplicationBuilder().token(server.token).base_url(server.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, shout))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=10)
        replies = await asyncio.to_thread(server.next_replies, USER, "hello")
        await asyncio.to_thread(server.wait_idle)
        await app.updater.stop()
        await app.stop()
    assert [r["text"] for r in replies] == ["HELLO"]
    assert replies[0]["reply_to_message"]["text"] == "hello"
    assert len(server.sent()) == 1
    assert server.errors == []  # in particular no 409 when PTB cancels its long poll


def test_serves_a_bot_running_in_another_process(server: FakeBotApi) -> None:
    server.add_user(USER)
    script = (
        "import asyncio, sys\n"
        "from telegram import Bot\n"
        "async def main():\n"
        "    async with Bot(sys.argv[1], base_url=sys.argv[2]) as bot:\n"
        "        await bot.send_message(int(sys.argv[3]), 'from the child process')\n"
        "asyncio.run(main())\n"
    )
    args = [sys.executable, "-c", script, server.token, server.base_url, str(USER)]
    subprocess.run(args, check=True, timeout=60, capture_output=True)
    [msg] = server.wait_for_sent(1, 0, chat_id=USER, timeout=5)
    assert msg["text"] == "from the child process"


def test_wait_for_times_out_with_a_readable_dump(server: FakeBotApi) -> None:
    server.inject_message(USER, "nobody polls")
    with pytest.raises(TimeoutError, match="undelivered updates: 1"):
        server.wait_idle(timeout=0.3)
    with pytest.raises(TimeoutError, match="condition not met"):
        server.wait_for(lambda s: s.sent(), timeout=0.05)


@pytest.mark.asyncio
async def test_injected_media_chat_types_and_edits_parse_in_ptb(server: FakeBotApi) -> None:
    text = server.inject_message(USER, "typo")
    server.inject_sticker(USER, "🙂")
    server.inject_photo(USER, "look")
    server.inject_voice(USER, 7)
    server.inject_edited_message(USER, text["message"]["message_id"], "fixed")
    server.inject_message(USER, "in a supergroup", chat_type="supergroup")
    server.inject_message(USER, "a post", chat_type="channel")
    server.inject_raw({"my_chat_member": {"chat": {"id": USER, "type": "private"}}})
    async with make_bot(server) as bot:
        updates = await bot.get_updates(
            allowed_updates=["message", "edited_message", "channel_post"]
        )
        assert len(updates) == 7  # my_chat_member was not allowed and is dropped
        by_id = {u.update_id: u for u in updates}
        photo = by_id[text["update_id"] + 2].message
        assert photo is not None and photo.caption == "look"
        file = await bot.get_file(photo.photo[-1].file_id)
    messages = [u.effective_message for u in updates]
    assert [m.message_id for m in messages if m is not None] == [1, 2, 3, 4, 1, 1, 1]
    assert messages[1] is not None and messages[1].sticker is not None
    assert messages[1].sticker.emoji == "🙂"
    assert messages[3] is not None and messages[3].voice is not None
    assert server.messages[USER][3]["voice"]["duration"] == 7
    assert updates[4].edited_message is not None
    assert updates[4].edited_message.text == "fixed"
    assert updates[5].effective_chat is not None and updates[5].effective_chat.type == "supergroup"
    assert updates[5].effective_chat.id < -1_000_000_000_000
    assert updates[6].channel_post is not None and updates[6].channel_post.sender_chat is not None
    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
    assert file.file_path is not None
    assert server.messages[USER][0]["text"] == "fixed"
