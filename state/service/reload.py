"""Publishing a new curriculum to a running bot, and checking beforehand whom it moves.

`Reloader.reload` reads and validates the curriculum folder again. An invalid curriculum
changes nothing: the old one keeps serving and the outcome carries the errors. A valid
one is swapped in with a single assignment (`Conversations.engine = new`) on the event
loop, between two updates, so every update is answered wholly by one version. Users on
steps that changed or vanished are brought up to date lazily, by `state.curriculum.versions`.

`compare` answers "if I publish this, who is affected?" from the database: how many users
stand on steps that are unchanged, changed, or gone (and where moves.yaml sends them).
It is what `craftbot validate --against DB` prints, and what an admin is told after a
reload.

Publishing across instances. The published version lives in the database
(`state.store.published`): `publish` (an admin's /reload, SIGHUP) reloads this instance
and records its version there; every other instance on the database picks it up in
`check`, by reading the same curriculum folder (or image) again and swapping it in when it
holds the published version. They hear of it by PostgreSQL's NOTIFY at once, and poll every
`POLL_EVERY` seconds as well, since a notification sent while a listener was reconnecting
is never heard. An instance whose folder does not hold the published version (an older
image, a folder edited since) keeps serving what it has, logs it, and says so in `status`
(/healthz, /metrics): it never stops answering.

A person is never bounced between versions: their progress records the version it was
last served by, and `pin`, called by the conversation service inside their turn, brings a
lagging instance up to the published version before it answers someone already on it, so
no instance takes them back to an older one (unless it lacks the newer content: then it
serves what it has, as above, and says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from state.contracts import Fingerprints
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.loader import read_curriculum
from state.curriculum.model import Curriculum
from state.curriculum.versions import Destination, curriculum_fingerprints, resolve
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.storage import Store
from state.store.published import Publication, Publications
from state.store.reports import Placement

if TYPE_CHECKING:
    from state.store.pglisten import Listener

log = logging.getLogger("craftbot.publish")
POLL_EVERY = 30.0  # seconds between two looks at the published version, NOTIFY or not
LISTEN_RETRY = 5.0  # seconds before listening again after the listening connection was lost


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: swapped in `new_version`, or kept `old_version` because of errors."""

    ok: bool
    old_version: str
    new_version: str
    root: Path
    problems: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        """The problems that stopped the reload."""
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        """Problems that did not stop it."""
        return [p for p in self.problems if not p.is_error]

    def problem_lines(self, *, errors_only: bool = False) -> list[str]:
        """Each problem as `file:line:col: severity: message`, files relative to the folder."""
        chosen = self.errors if errors_only else self.problems
        return [str(_relative(p, self.root)) for p in chosen]


def _relative(problem: Diagnostic, root: Path) -> Diagnostic:
    try:
        name = str(Path(problem.file).resolve().relative_to(root.resolve()))
    except ValueError:
        name = problem.file
    return Diagnostic(name, problem.line, problem.col, problem.severity, problem.message)


@dataclass(frozen=True)
class PublishStatus:
    """What an instance serves against what is published, for /healthz and /metrics."""

    served: str
    published: str | None  # None before anything was published
    lacking: str | None = None  # why this instance does not serve the published version

    def line(self) -> str:
        """One line for /healthz."""
        text = f"curriculum: serving {self.served}, published {self.published or 'none'}"
        return f"{text} ({self.lacking})" if self.lacking else text


class Reloader:
    """Reloads and publishes the curriculum of one running `Conversations`, one reload at a time."""

    def __init__(self, conversations: Conversations, root: Path, default_locale: str = "en",
                 build: Callable[[Curriculum], Engine] = Engine, clock: Callable[[], float] = time.time,
                 poll_every: float = POLL_EVERY) -> None:
        """`build` makes the engine for a new curriculum the way the first one was made
        (with the configured crisis lines, for instance)."""
        self.conversations = conversations
        self.root = root
        self.default_locale = default_locale
        self.build = build
        self.clock = clock
        self.poll_every = poll_every
        self.listen_retry = LISTEN_RETRY
        self.publications = Publications(conversations.store)
        self.published: Publication | None = None  # the newest publication this instance knows
        self.order: dict[str, int] = {}  # each published version's latest seq
        self.served_seq = 0  # the seq of the served version's latest publication (0: none)
        self.lacking: str | None = None  # why the published version is not served here
        self._tried: int | None = None  # the publication a failed pick-up was for
        self.followed: list[Callable[[Engine], Awaitable[None]]] = []  # told of each pick-up
        self.listener: Listener | None = None  # on PostgreSQL, once watching
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._told: set[asyncio.Task[None]] = set()
        self._loading: tuple[int, asyncio.Future[tuple[Engine | None, str]]] | None = None

    @property
    def served(self) -> str:
        """The version this instance serves."""
        return self.conversations.engine.version

    def status(self) -> PublishStatus:
        """What this instance serves, what is published, and why they differ (if they do)."""
        published = self.published.version if self.published else None
        return PublishStatus(self.served, published, self.lacking if published != self.served else None)

    async def reload(self) -> ReloadOutcome:
        """Validate the folder again; swap the new curriculum in only if it has no error."""
        async with self._lock:
            return await self._reload()

    async def _reload(self) -> ReloadOutcome:
        old = self.conversations.engine
        curriculum, problems = await asyncio.to_thread(read_curriculum, self.root, self.default_locale)
        if any(p.is_error for p in problems):
            return ReloadOutcome(False, old.version, curriculum.version, self.root, problems)
        engine = await asyncio.to_thread(self.build, curriculum)
        await record_curriculum(self.conversations.store, curriculum)
        self._swap(engine)
        return ReloadOutcome(True, old.version, engine.version, self.root, problems)

    def _swap(self, engine: Engine) -> None:
        old = self.conversations.engine
        if engine.version == old.version:
            return
        engine.earlier = {**old.earlier, old.version: curriculum_fingerprints(old.curriculum)}
        self.conversations.use(engine)  # the swap: the next update meets the new one

    async def publish(self, how: str = "reload") -> ReloadOutcome:
        """Reload, and publish the version now served to every instance on the database."""
        async with self._lock:
            outcome = await self._reload()
            if outcome.ok:
                await self._learn()
                if self.published is None or self.published.version != self.served:
                    await self._record(how)
                self.served_seq, self.lacking = self.order.get(self.served, 0), None
            return outcome

    async def _record(self, how: str) -> None:
        self.published = await self.publications.publish(self.served, self.clock(), how)
        self.order[self.served] = self.published.seq
        log.info("curriculum %s published (%s, publication %d)", self.served, how, self.published.seq)

    async def _learn(self, *, inside: bool = False) -> None:
        self.published = await self.publications.latest(inside=inside)
        self.order = await self.publications.order(inside=inside)

    async def start(self) -> None:
        """At start-up: record the served version's steps and learn earlier ones; publish it if
        it is new (on SQLite, the one instance, always when it differs); from then on, each
        person's turn on a version published later picks that one up first (`pin`).

        On a shared database a version published before and since replaced is not published
        again by a start-up (an old instance restarting during a deploy must not take everyone
        back): an admin's /reload or SIGHUP does that, deliberately.
        """
        await record_served(self.conversations)
        shared = self.conversations.store.dialect.shared
        async with self._lock:
            await self._learn()
            published = self.published.version if self.published else None
            if published != self.served and (not shared or self.served not in self.order):
                await self._record("start")
            self.served_seq = self.order.get(self.served, 0)
            if self.published is not None and self.published.version != self.served:
                self._lacks(self.published, f"its curriculum folder holds {self.served}")
        self.conversations.pinned = self.pin

    def watch(self) -> None:
        """Look at the published version every `poll_every` seconds, and on PostgreSQL also at
        once when a NOTIFY says it changed."""
        url = self.conversations.store.location.url
        self._tasks.append(asyncio.create_task(self._poll(), name="craftbot-publish-poll"))
        if url is not None:
            from state.store.pglisten import Listener  # psycopg: only where PostgreSQL is used

            self.listener = Listener(url)
            self._tasks.append(asyncio.create_task(self._listen(self.listener),
                                                   name="craftbot-publish-listen"))

    async def stop(self) -> None:
        """Stop watching."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_every)
            await self._check_quietly()

    async def _listen(self, listener: Listener) -> None:
        while True:
            try:
                async for _version in listener.heard():
                    await self._check_quietly()
            except Exception as exc:  # the server restarted, the network failed: polling goes on
                log.warning("not hearing curriculum publications (polling meanwhile): %s",
                            type(exc).__name__)
            await asyncio.sleep(self.listen_retry)

    async def _check_quietly(self) -> None:
        try:
            await self.check()
        except Exception as exc:  # the database is away: the next look tries again
            log.warning("could not look at the published curriculum: %s", type(exc).__name__)

    async def check(self) -> bool:
        """Serve the published version if it is not served yet and the folder holds it; True
        when this instance picked it up now."""
        async with self._lock:
            await self._learn()
            return await self._follow(retry=True)

    async def pin(self, version: str) -> None:
        """Inside a person's turn, before the engine answers: they are on `version`, which this
        instance does not serve. If it was published after the served one, pick that up first.

        Runs in the turn's transaction (the store's lock is held): reads go through it, and
        nothing here waits for `_lock`, which a pick-up in progress may hold while it waits for
        the store.
        """
        seq = self.order.get(version)
        if seq is not None and seq <= self.served_seq:
            return  # an older version: the engine catches them up
        await self._learn(inside=True)
        seq = self.order.get(version)
        if seq is None or seq <= self.served_seq:
            return  # never published (from before publishing was recorded) or older
        await self._follow()
        if self.served != version and self.order.get(self.served, 0) < seq:
            log.warning("a person on curriculum %s is served %s here (%s)", version, self.served,
                        self.lacking or "not picked up")

    async def _follow(self, *, retry: bool = False) -> bool:
        target = self.published
        if target is None or target.version == self.served:
            self.served_seq, self.lacking = self.order.get(self.served, 0), None
            return False
        if self._tried == target.seq and not retry:
            return False  # it could not be picked up: not again in every turn, the next poll tries
        if self._loading is None or self._loading[0] != target.seq or (retry and self._loading[1].done()):
            self._loading = (target.seq, asyncio.ensure_future(asyncio.to_thread(self._load, target.version)))
        # shared: a person's turn that needs the version being loaded waits for this load, not another
        engine, why = await asyncio.shield(self._loading[1])
        if self.served == target.version:
            return False  # another caller swapped it in while this one waited
        if engine is None:
            self._lacks(target, why)
            return False
        self._swap(engine)
        self.served_seq, self.lacking, self._tried = target.seq, None, None
        log.info("curriculum %s picked up (published by %s)", target.version, target.instance)
        for tell in self.followed:  # the command menu, say: not inside a person's turn
            task: asyncio.Task[None] = asyncio.ensure_future(tell(self.conversations.engine))
            self._told.add(task)
            task.add_done_callback(self._told.discard)
        return True

    def _load(self, version: str) -> tuple[Engine | None, str]:
        """(the engine for `version` from the folder, "") or (None, why it cannot be had); a thread's."""
        try:
            curriculum, problems = read_curriculum(self.root, self.default_locale)
        except Exception as exc:  # a folder gone or unreadable: this instance keeps what it has
            return None, f"its curriculum folder cannot be read: {type(exc).__name__}"
        errors = [p for p in problems if p.is_error]
        if errors:
            return None, f"its curriculum folder has {len(errors)} error(s)"
        if curriculum.version != version:
            return None, f"its curriculum folder holds {curriculum.version}"
        try:
            return self.build(curriculum), ""
        except Exception as exc:
            return None, f"its engine could not be built: {type(exc).__name__}"

    def _lacks(self, target: Publication, why: str) -> None:
        self.lacking, self._tried = f"cannot serve {target.version}: {why}", target.seq
        log.warning("curriculum %s is published, but this instance cannot serve it (%s); still"
                    " serving %s", target.version, why, self.served)


async def record_served(conversations: Conversations) -> None:
    """At start-up: record the served version's steps and learn those of earlier versions."""
    await record_curriculum(conversations.store, conversations.engine.curriculum)
    conversations.engine.earlier = await recorded_fingerprints(conversations.store)


async def record_curriculum(store: Store, curriculum: Curriculum) -> None:
    """Remember the fingerprint of every step of a served version, for later comparisons."""
    await store.curricula.record(curriculum.version, curriculum_fingerprints(curriculum))


async def recorded_fingerprints(store: Store) -> dict[str, Fingerprints]:
    """Every recorded version's fingerprints, so users of earlier versions are caught up well."""
    return await store.curricula.recorded()


# -- who is affected -----------------------------------------------------------------------------

@dataclass
class Standing:
    """Where users stand against a curriculum about to be (or just) published."""

    version: str
    unchanged: int = 0
    changed: Counter[tuple[str, str]] = field(default_factory=Counter)
    unknown: Counter[tuple[str, str]] = field(default_factory=Counter)
    moved: Counter[tuple[str, str, Destination]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Users standing on a step (users between modules are not affected)."""
        return (self.unchanged + sum(self.changed.values()) + sum(self.unknown.values())
                + sum(self.moved.values()))

    def lines(self) -> list[str]:
        """The standing as lines of text for a terminal or an admin message."""
        out = [f"{self.total} user(s) on a step; against version {self.version}:",
               f"  {self.unchanged} on unchanged steps"]
        out.append(f"  {sum(self.changed.values())} on steps whose content changed"
                   " (they stay there; buttons already shown are retired)")
        out += [f"    {module}:{step}  {n}" for (module, step), n in sorted(self.changed.items())]
        out.append(f"  {sum(self.moved.values())} on steps that no longer exist (moved when they"
                   " next write)")
        out += [f"    {module}:{step} -> {where}  {n}"
                for (module, step, where), n in sorted(self.moved.items(), key=lambda i: i[0][:2])]
        if self.unknown:
            out.append(f"  {sum(self.unknown.values())} on steps that still exist, from versions"
                       " never recorded here (changes unknown)")
            out += [f"    {module}:{step}  {n}" for (module, step), n in sorted(self.unknown.items())]
        return out


def compare(curriculum: Curriculum, placements: list[Placement],
            recorded: dict[str, Fingerprints]) -> Standing:
    """Sort users by what publishing `curriculum` would mean for the step they are on."""
    now = curriculum_fingerprints(curriculum)
    standing = Standing(curriculum.version)
    for place in placements:
        content = curriculum.content(place.locale)
        key = (content.code, place.module, place.step)
        if content.step(place.module, place.step) is None:
            standing.moved[(place.module, place.step, resolve(content, place.module, place.step))] \
                += place.users
        elif place.version == curriculum.version:
            standing.unchanged += place.users
        elif key not in recorded.get(place.version, {}):
            standing.unknown[(place.module, place.step)] += place.users
        elif recorded[place.version][key] != now[key]:
            standing.changed[(place.module, place.step)] += place.users
        else:
            standing.unchanged += place.users
    return standing
