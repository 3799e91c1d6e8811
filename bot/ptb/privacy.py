"""The bot's side of privacy: the data key, the start-up check, message ids, retention.

- The data key comes only from the environment (`CRAFTBOT_DATA_KEY`, comma-separated,
  newest first). Without it answers are stored in plain text and `craftbot run` says so
  loudly, on standard error and in the log.
- The ids and Telegram dates of messages in each chat are recorded (never the text), so
  `/hide` can delete them.
- Data of people inactive for longer than `privacy.retention_days` is erased at start
  and then once a day; message records past the 48 hours of /hide are dropped hourly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from telegram import Message as TelegramMessage

from state.service.tasks import stop_task
from state.storage import KeyStatus
from state.store.crypto import KEY_ENV, DataCipher
from state.store.dialect import Location
from state.store.privacy import DAY, HOUR, PrivacyData
from state.store.progress import ProgressStore

log = logging.getLogger("craftbot.privacy")

NO_KEY = f"""
************************************************************************************
  WARNING: {KEY_ENV} is not set. What people write (their answers, their safety
  plan) is stored UNENCRYPTED in {{database}}.
  Make a key with `craftbot keygen`, keep a copy somewhere safe (without it the data
  cannot be read), and set it in the bot's environment: export {KEY_ENV}=...
************************************************************************************
"""


def data_cipher() -> DataCipher | None:
    """The cipher for the key(s) in CRAFTBOT_DATA_KEY, or None when it is not set."""
    return DataCipher.from_text(os.environ.get(KEY_ENV))


async def open_store(path: Path | str, keys_url: str | None = None) -> ProgressStore:
    """Open the store with the environment's key, proving the key opens the stored data.

    Raises `DataKeyError` (with what to do) when the key is malformed, missing for
    encrypted data, or not the one the data was encrypted with.
    """
    store = await ProgressStore(path, data_cipher(), keys_url=keys_url).open()
    try:
        await PrivacyData(store).key_status()
    except BaseException:
        await store.close()
        raise
    return store


def check_at_start(database: Path | str, keys_url: str | None = None) -> None:
    """Before `run`: prove the key fits, and warn loudly when data is or will be unencrypted."""

    async def check() -> tuple[KeyStatus, bool]:
        store = await open_store(database, keys_url)
        try:  # every sealed row, not a sample: damaged ones are found now, not mid-crisis
            return await PrivacyData(store).key_status(every=True), store.cipher is not None
        finally:
            await store.close()

    status, keyed = asyncio.run(check())
    plain = status.plain
    if status.unreadable:
        log.warning("%d of %d stored user(s) cannot be decrypted (damaged, sealed with a key"
                    " no longer given, or erased since a restored backup); they still get crisis"
                    " help and can /delete", status.unreadable, status.sealed)
    if status.unwrappable:
        log.warning("%d of %d person key(s) cannot be unwrapped with the key(s) in %s; see"
                    " `craftbot keys status`", status.unwrappable, status.keys, KEY_ENV)
    if not keyed:
        print(NO_KEY.format(database=Location.parse(database)), file=sys.stderr, flush=True)
        log.warning("%s is not set: answers are stored unencrypted", KEY_ENV)
    elif plain:
        log.warning("%d user(s) stored unencrypted from before the key was set;"
                    " run `craftbot rotate-key` to encrypt them", plain)


async def remember(privacy: PrivacyData, user_id: int, messages: Sequence[TelegramMessage | None],
                   *, from_bot: bool) -> None:
    """Record the ids and Telegram dates of messages in a user's private chat, for /hide."""
    await privacy.remember(user_id, [(m.message_id, m.date.timestamp(), from_bot)
                                     for m in messages if m is not None])


class Retention:
    """Erases the data of inactive people at start and then every day, and every hour
    drops the message records that /hide can no longer use."""

    def __init__(self, privacy: PrivacyData, clock: Callable[[], float], days: int,
                 every: float = HOUR) -> None:
        self.privacy = privacy
        self.clock = clock
        self.days = days
        self.every = every
        self.purged_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Erase everyone inactive for longer than the retention period; how many."""
        self.purged_at = self.clock()
        gone = await self.privacy.purge(self.purged_at, self.days)
        if gone:
            log.info("retention: erased %d inactive user(s)", len(gone))
        return len(gone)

    async def tick(self) -> None:
        """The hourly round: expired message records always, the daily purge once it is due."""
        now = self.clock()
        if self.purged_at is None or now - self.purged_at >= DAY:
            await self.run_once()  # it drops expired message records too
        else:
            await self.privacy.forget_expired(now)

    async def start(self) -> None:
        """Purge now, then keep purging daily in the background."""
        await self.run_once()
        self._task = asyncio.create_task(self._loop(), name="craftbot-retention")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.tick()
            except Exception as exc:  # a failed purge must not stop the next one
                log.error("retention purge failed: %s", type(exc).__name__)

    async def stop(self) -> None:
        """Stop the purges."""
        await stop_task(self._task)
        self._task = None
