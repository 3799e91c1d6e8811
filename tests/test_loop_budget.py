"""The outgoing budget (`bot.ptb.outbox.Budget`) on its own: priorities and holds.

Calls are real coroutines recording the order they ran in; the rate is real (aiolimiter on
the event loop's clock), kept small so the queue forms at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.ptb.outbox import CRISIS, REMINDER, REPLY, Budget


async def test_crisis_help_goes_before_waiting_reminders_and_replies() -> None:
    budget = Budget(per_second=4, chat_burst=0)
    ran: list[str] = []

    async def call(name: str) -> bool:
        ran.append(name)
        return True

    async def send(name: str, chat: int, priority: int) -> Any:
        return await budget.process_request(call, (name,), {}, "sendMessage", {"chat_id": chat},
                                            priority)

    burst = [asyncio.create_task(send(f"burst{i}", 100 + i, REMINDER)) for i in range(4)]
    await asyncio.gather(*burst)  # the bucket is now full: the next calls queue
    waiting = [asyncio.create_task(send(f"reminder{i}", 200 + i, REMINDER)) for i in range(3)]
    waiting.append(asyncio.create_task(send("reply", 300, REPLY)))
    waiting.append(asyncio.create_task(send("crisis", 400, CRISIS)))
    await asyncio.gather(*waiting)
    assert ran[4:] == ["crisis", "reply", "reminder0", "reminder1", "reminder2"]


async def test_a_hold_for_one_chat_leaves_the_others_free() -> None:
    now = [0.0]
    budget = Budget(per_second=0, now=lambda: now[0])
    budget.hold(1, 30.0)
    assert budget.held(1) == 30.0 and budget.held(2) == 0.0
    await asyncio.wait_for(budget.turn(2, REPLY), 1)  # another chat goes at once
    budget.hold(None, 5.0)  # a 429 with no chat: everyone waits
    assert budget.held(2) == 5.0
    now[0] = 31.0
    assert budget.held(1) == 0.0 and budget.held(2) == 0.0


async def test_two_chats_refused_together_hold_everyone() -> None:
    now = [0.0]
    budget = Budget(per_second=0, now=lambda: now[0])
    budget.hold(1, 2.0)
    now[0] = 0.5
    budget.hold(2, 2.0)  # a second chat within a second: the bot's overall limit
    assert budget.held(3) == 2.0
    now[0] = 10.0
    budget.hold(4, 2.0)  # alone again: that chat only
    assert budget.held(4) == 2.0 and budget.held(5) == 0.0


async def test_a_reply_waits_for_its_chat_rather_than_meet_telegrams_limit() -> None:
    budget = Budget(per_second=1000, chat_burst=2)
    for _ in range(2):  # two at once to one chat...
        await budget.turn(7, REPLY)
    third = asyncio.create_task(budget.turn(7, REPLY))  # ...the third waits for its bucket
    await budget.turn(8, REPLY)  # while another chat goes at once
    assert not third.done()
    await third


async def test_a_first_message_goes_ahead_of_the_rest_of_someone_elses_reply() -> None:
    budget = Budget(per_second=4, chat_burst=0)
    ran: list[str] = []

    async def call(name: str) -> bool:
        ran.append(name)
        return True

    async def send(name: str, chat: int) -> Any:
        return await budget.process_request(call, (name,), {}, "sendMessage", {"chat_id": chat}, REPLY)

    await asyncio.gather(*(send(f"long reply {i}", 500) for i in range(2)))  # the burst is spent
    rest = [asyncio.create_task(send(f"long reply {i}", 500)) for i in range(2, 5)]
    await asyncio.sleep(0)  # queued first...
    first = asyncio.create_task(send("first message", 600))  # ...yet this one goes next
    await asyncio.gather(*rest, first)
    assert ran[2:] == ["first message", "long reply 2", "long reply 3", "long reply 4"]
