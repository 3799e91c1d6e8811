"""The pacer keeps to Telegram's limits in simulated time: overall rate, per chat, retry after."""

from __future__ import annotations

import asyncio

from state.service.pacing import Pacer, SimulatedTime


def most_in_a_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0 - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_overall_rate_and_one_a_second_per_chat() -> None:
    time = SimulatedTime(1000.0)
    pacer = Pacer(25, 1.0, now=time.now, sleep=time.sleep)
    sent: list[tuple[float, int]] = []
    chats = [c for c in range(5) for _ in range(2)] + [c for _ in range(2) for c in range(5, 200)]

    async def worker(queue: list[int]) -> None:
        while queue:
            chat = queue.pop(0)
            sent.append((await pacer.wait(chat), chat))

    queue = list(chats)
    await asyncio.gather(*(worker(queue) for _ in range(8)))
    assert len(sent) == 400
    assert most_in_a_second([t for t, _ in sent]) <= 25
    for chat in range(200):
        first, second = sorted(t for t, c in sent if c == chat)
        assert second - first >= 1.0
    elapsed = time.now() - 1000.0
    assert elapsed < 400 / 25 + 6  # a chat's spacing costs at most its own second


def test_a_persons_second_reminder_comes_after_everyones_first() -> None:
    from bot.ptb.reminders import spread
    from state.store.reminders import Reminder

    batch = [Reminder(i, user, "checkin", 0.0) for i, user in enumerate([1, 1, 2, 3, 3, 3, 4])]
    assert [r.user_id for r in spread(batch)] == [1, 2, 3, 4, 1, 3, 3]


async def test_a_pause_stops_every_chat() -> None:
    time = SimulatedTime(0.0)
    pacer = Pacer(25, 1.0, now=time.now, sleep=time.sleep)
    await pacer.wait(1)
    pacer.pause(30)
    assert await pacer.wait(2) >= 30.0
    assert await pacer.wait(3) >= 30.0
