"""Publishing across instances: one instance publishes, the others serve it, nobody is bounced.

Two instances are two `Conversations` with their own `Reloader` and their own store on one
database, in this process, as two `craftbot run` processes would be: on a SQLite file (where
one instance serves, and the table still records what it published) and on a real PostgreSQL
server (tests/kit/postgres.py), where the second hears the first's NOTIFY.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from state.contracts import Command, Press, Reply, TextIn
from state.curriculum.loader import load_curriculum
from state.curriculum.markup import to_plain
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.service.reload import Reloader
from state.store.progress import ProgressStore
from tests.kit.postgres import Backend, query

SAMPLE = Path(__file__).parent / "curriculum"
USER = 7101
STRESS = "How stressed are you today?"


class Clock:
    """A clock that moves a minute per reading."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        self.now += 60
        return self.now


class Instance:
    """One bot instance: its store on the shared database, its conversations, its reloader."""

    def __init__(self, backend: Backend, folder: Path, clock: Clock) -> None:
        self.store = ProgressStore(backend.url, keys_url=backend.keys_url)
        self.conversations = Conversations(Engine(load_curriculum(folder)), self.store, clock=clock)
        self.reloader = Reloader(self.conversations, folder, clock=clock, poll_every=3600.0)
        self.picked_up = asyncio.Event()

        async def picked(engine: Engine) -> None:
            self.picked_up.set()

        self.reloader.followed.append(picked)

    async def start(self, *, watch: bool = False) -> Instance:
        await self.store.open()
        await self.reloader.start()
        if watch:
            self.reloader.watch()
        return self

    async def stop(self) -> None:
        await self.reloader.stop()
        await self.store.close()

    def send(self, message: Command | Press | TextIn) -> Awaitable[Reply | None]:
        return self.conversations.handle(USER, message)


def copy_sample(to: Path) -> Path:
    shutil.copytree(SAMPLE, to)
    return to


def edit(folder: Path, old: str, new: str) -> None:
    path = folder / "en" / "basics.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def said(reply: Reply | None) -> str:
    assert reply is not None
    return "\n".join(to_plain(m.html) for m in reply.messages)


def buttons(reply: Reply | None) -> dict[str, str]:
    assert reply is not None
    return {b.label: b.data for m in reply.messages for row in m.buttons for b in row}


async def onboard(send: Callable[[Command | Press | TextIn], Awaitable[Reply | None]],
                  store: ProgressStore) -> Reply | None:
    await send(Command("start"))
    progress = await store.load(USER)
    assert progress is not None
    await send(Press(f"o:{progress.seq}:0"))  # Yes, let's start
    reply = await send(TextIn("Sam"))
    for label in ("My partner", "Alcohol", "No", "No", "No"):
        reply = await send(Press(buttons(reply)[label]))
    assert "“Getting started”" in said(reply)
    return reply


def publications(backend: Backend) -> list[tuple[object, ...]]:
    return query(backend.url, "SELECT version, instance, how FROM curriculum_published ORDER BY seq")


@pytest.fixture
async def pair(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[Instance, Instance, Path]]:
    """Two instances on one database and one curriculum folder; the first started first."""
    folder, clock = copy_sample(tmp_path / "curriculum"), Clock()
    first = await Instance(backend, folder, clock).start()
    second = await Instance(backend, folder, clock).start(watch=backend.shared)
    yield first, second, folder
    await second.stop()
    await first.stop()


async def test_a_version_published_on_one_instance_is_served_by_the_other(
        pair: tuple[Instance, Instance, Path], backend: Backend) -> None:
    first, second, folder = pair
    old = first.reloader.served
    assert publications(backend) == [(old, first.store.owner, "start")]  # the first start published it
    assert second.reloader.status().line() == f"curriculum: serving {old}, published {old}"
    if backend.shared:
        listener = second.reloader.listener
        assert listener is not None
        await asyncio.wait_for(listener.listening.wait(), 10)

    edit(folder, STRESS, "How stressed do you feel today?")
    outcome = await first.reloader.publish("reload")
    assert outcome.ok and outcome.new_version != old
    new = outcome.new_version
    assert publications(backend)[-1] == (new, first.store.owner, "reload")

    if backend.shared:  # NOTIFY: picked up without anyone asking
        await asyncio.wait_for(second.picked_up.wait(), 10)
    else:  # one instance per SQLite file: the poll is what would see it
        assert await second.reloader.check()
    assert second.reloader.served == new
    assert second.reloader.status().line() == f"curriculum: serving {new}, published {new}"


async def test_a_person_is_never_taken_back_to_an_older_version(
        pair: tuple[Instance, Instance, Path], backend: Backend) -> None:
    first, second, folder = pair
    reply = await onboard(first.send, first.store)
    if second.reloader.listener is not None:  # here the second must lag: it hears nothing
        await second.reloader.stop()
    edit(folder, STRESS, "How stressed do you feel today?")
    assert (await first.reloader.publish("reload")).ok
    new = first.reloader.served

    reply = await first.send(Press(buttons(reply)["Next: Basics"]))  # served by the new version
    progress = await first.store.load(USER)
    assert progress is not None and progress.version == new
    assert second.reloader.served != new  # it has not looked yet

    reply = await second.send(Press(buttons(reply)["Ready"]))  # their next turn lands on the other
    assert "How stressed do you feel today?" in said(reply)  # the new wording, not the old
    assert second.reloader.served == new
    progress = await second.store.load(USER)
    assert progress is not None and progress.version == new and progress.step == "mood"


async def test_an_instance_without_the_published_content_keeps_serving_and_says_so(
        backend: Backend, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    first = await Instance(backend, copy_sample(tmp_path / "a"), clock).start()
    second = await Instance(backend, copy_sample(tmp_path / "b"), clock).start()  # an older image
    try:
        old = second.reloader.served
        edit(tmp_path / "a", STRESS, "How stressed do you feel today?")
        assert (await first.reloader.publish("hangup")).ok
        new = first.reloader.served
        with caplog.at_level(logging.WARNING, "craftbot.publish"):
            assert not await second.reloader.check()
        assert second.reloader.served == old
        line = second.reloader.status().line()
        assert line == (f"curriculum: serving {old}, published {new}"
                        f" (cannot serve {new}: its curriculum folder holds {old})")
        assert f"curriculum {new} is published" in caplog.text
        reply = await onboard(second.send, second.store)  # it still answers everyone
        assert "“Getting started”" in said(reply)
    finally:
        await second.stop()
        await first.stop()


async def test_a_broken_curriculum_is_not_published(
        pair: tuple[Instance, Instance, Path], backend: Backend) -> None:
    first, _, folder = pair
    before = publications(backend)
    edit(folder, "  - id: mood", "  - id: Mood!")
    outcome = await first.reloader.publish("reload")
    assert not outcome.ok and outcome.errors
    assert publications(backend) == before


async def test_a_restart_publishes_a_new_version_but_never_takes_everyone_back(
        backend: Backend, tmp_path: Path) -> None:
    folder, clock = copy_sample(tmp_path / "curriculum"), Clock()
    old_image = copy_sample(tmp_path / "old")
    first = await Instance(backend, folder, clock).start()
    old = first.reloader.served
    await first.stop()
    edit(folder, STRESS, "How stressed do you feel today?")
    first = await Instance(backend, folder, clock).start()  # a new version at start-up: published
    new = first.reloader.served
    assert [(v, how) for v, _, how in publications(backend)] == [(old, "start"), (new, "start")]
    again = await Instance(backend, old_image, clock).start()  # the old version starts again
    try:
        if backend.shared:  # another instance may serve the new one: the old is not published again
            assert publications(backend)[-1][0] == new
            assert again.reloader.status().lacking is not None
        else:  # one instance per SQLite file: what it serves is what is published
            assert publications(backend)[-1][0] == old
            assert again.reloader.status().lacking is None
    finally:
        await again.stop()
        await first.stop()


async def test_an_instance_listens_again_after_its_connection_was_lost(
        pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    backend, folder, clock = Backend(pg_url), copy_sample(tmp_path / "curriculum"), Clock()
    first = await Instance(backend, folder, clock).start()
    second = Instance(backend, folder, clock)
    second.reloader.listen_retry = 0.05
    await second.start(watch=True)
    try:
        listener = second.reloader.listener
        assert listener is not None
        await asyncio.wait_for(listener.listening.wait(), 10)
        with caplog.at_level(logging.WARNING, "craftbot.publish"):  # a failover, say
            listener.listening.clear()  # set again only by a new connection's LISTEN
            query(pg_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE application_name = 'craftbot-publish'")
            await asyncio.wait_for(listener.listening.wait(), 10)  # it listens again
        assert "not hearing curriculum publications (polling meanwhile)" in caplog.text
        edit(folder, STRESS, "How stressed do you feel today?")
        assert (await first.reloader.publish("reload")).ok
        await asyncio.wait_for(second.picked_up.wait(), 10)
        assert second.reloader.served == first.reloader.served
    finally:
        await second.stop()
        await first.stop()



async def test_a_person_on_a_version_this_instance_cannot_load_is_still_answered(
        backend: Backend, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    first = await Instance(backend, copy_sample(tmp_path / "a"), clock).start()
    second = await Instance(backend, copy_sample(tmp_path / "b"), clock).start()
    try:
        edit(tmp_path / "a", STRESS, "How stressed do you feel today?")
        assert (await first.reloader.publish("reload")).ok
        reply = await onboard(first.send, first.store)  # on the new version
        shutil.rmtree(tmp_path / "b")  # the second's folder is gone (an unmounted volume, say)
        with caplog.at_level(logging.WARNING, "craftbot.publish"):
            reply = await second.send(Press(buttons(reply)["Next: Basics"]))
        assert "Ready" in buttons(reply)  # answered, with the version it has
        assert "a person on curriculum" in caplog.text  # and said so
        assert second.reloader.status().lacking is not None
    finally:
        await second.stop()
        await first.stop()
