"""Writes `bot.sqlite3` here with the store as it was before person keys (main at 3edf09b).

Run once, from a checkout of that commit: `PYTHONPATH=<checkout> python make.py`. Every
value is sealed directly with the operator key below (a key for this test only), as that
code did; tests/test_person_keys.py opens the file with today's store.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from state.contracts import CheckinRecord, Event, Progress
from state.store.crypto import DataCipher
from state.store.progress import SqliteProgressStore

KEY = "B2Mzq8i3gG3fTiStS6cB3zTkLzLnuQ4YbRbZ0NqLhTU="
HERE = Path(__file__).parent


async def main() -> None:
    target = HERE / "bot.sqlite3"
    target.unlink(missing_ok=True)
    store = await SqliteProgressStore(target, DataCipher.from_text(KEY)).open()
    for user_id, name in ((71, "Ana"), (72, "Ben")):
        progress = Progress(user_id=user_id, module="basics", step="intro", created_at=1.0,
                            updated_at=1_700_000_000.0, answers={"loved_one_name": name})
        events = [Event("crisis", None, None, "violence"), Event("discreet", None, None, "on")]
        await store.save(progress, events)
        await store.reminders.add_checkin(user_id, CheckinRecord(100.0, "2024-03-09", 1, 7, 3, 2, "not_used"))
    await store.close()
    db = sqlite3.connect(target)
    db.execute("VACUUM")
    db.close()
    os.chmod(target, 0o600)


if __name__ == "__main__":
    asyncio.run(main())
