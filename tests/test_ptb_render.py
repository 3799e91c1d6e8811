"""The one Reply renderer, through python-telegram-bot's own HTTP stack and the fake Bot API:
long messages split with the buttons under the last part, what Telegram returns read back
whole, and what is remembered for /hide."""

from __future__ import annotations

import time
from pathlib import Path

from bot.ptb.render import Renderer
from state.contracts import Button, Message, Reply
from state.service.conversations import Conversations
from tests.kit.botapi import FakeBotApi
from tests.test_ptb_updater import running, settings_for

PERSON = 3001


async def test_a_long_message_is_split_and_comes_back_whole(server: FakeBotApi, tmp_path: Path) -> None:
    server.add_user(PERSON)
    async with running(settings_for(server, tmp_path)) as app:
        conversations: Conversations = app.bot_data["conversations"]
        renderer = Renderer(app.bot, conversations.privacy)
        long = Message("<b>First</b> " + "many words " * 500, ((Button("Yes", "y"), Button("No", "n")),))
        sent = await renderer.send(PERSON, long)
    assert len(sent) == 2 and [m["message_id"] for m in server.sent(PERSON)] == [m.message_id for m in sent]
    assert sent[0].text_html.startswith("<b>First</b> many words")  # the whole Message, text included
    assert sent[0].reply_markup is None
    assert sent[1].reply_markup is not None
    assert [b.text for b in sent[1].reply_markup.inline_keyboard[0]] == ["Yes", "No"]


async def test_what_the_bot_sent_is_remembered_for_hide_unless_the_data_was_erased(
        server: FakeBotApi, tmp_path: Path) -> None:
    server.add_user(PERSON)
    async with running(settings_for(server, tmp_path)) as app:
        conversations: Conversations = app.bot_data["conversations"]
        renderer = Renderer(app.bot, conversations.privacy)
        await renderer.render(PERSON, Reply(messages=[Message("Your data is erased.")], remember=False))
        assert await conversations.privacy.take_recent(PERSON, time.time()) == []
        sent = await renderer.render(PERSON, Reply(messages=[Message("One"), Message("Two")]))
        recent = await conversations.privacy.take_recent(PERSON, time.time())
    assert sorted(recent) == sorted(m.message_id for m in sent) and len(sent) == 2
