"""Crypto-shredding on PostgreSQL: /delete destroys the person's key in its own database, so a dump of
the data made before the erasure, restored, does not give them back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from state.contracts import CheckinRecord, Event, Progress
from state.store.crypto import DataCipher, new_key
from state.store.keyring import Keyring, NoKeyStore, PersonKeyMissing
from state.store.privacy import UNREADABLE
from state.store.progress import ProgressStore
from tests.kit.postgres import PostgresServer, query

PHRASE = "Quixotic-Marmalade-7731"


async def write(store: ProgressStore, user_id: int) -> None:
    async with store.session(user_id) as session:
        await store.reminders.add_checkin(user_id, CheckinRecord(10.0, "2026-01-05", 7, 8, 2, 1, PHRASE))
        session.save(Progress(user_id=user_id, answers={"loved_one": PHRASE}),
                     [Event("crisis", detail="unsafe")])


def dump(postgres: PostgresServer, url: str, target: Path) -> None:
    subprocess.run([str(postgres.bindir / "pg_dump"), "--no-owner", "-f", str(target), url], check=True)


def restore(postgres: PostgresServer, source: Path) -> str:
    url = postgres.create_database("restored")
    subprocess.run([str(postgres.bindir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-f", str(source), url],
                   check=True, capture_output=True)
    return url


async def test_a_dump_made_before_a_delete_restored_cannot_give_that_person_back(
        postgres: PostgresServer, pg_url: str, pg_keys_url: str, tmp_path: Path) -> None:
    key = new_key()
    store = await ProgressStore(pg_url, DataCipher([key]), keys_url=pg_keys_url).open()
    await write(store, 1)
    await write(store, 2)
    before = tmp_path / "before.sql"
    dump(postgres, pg_url, before)
    assert PHRASE not in before.read_text()  # sealed in the dump, as in the database
    assert await store.privacy.erase(1) > 0  # /delete, confirmed
    await store.close()

    restored = restore(postgres, before)  # the old dump comes back, with today's key database
    store = await ProgressStore(restored, DataCipher([key]), keys_url=pg_keys_url).open()
    assert query(restored, "SELECT count(*) FROM users") == [(2,)]  # the rows are there...
    with pytest.raises(PersonKeyMissing):
        await store.load(1)  # ...and cannot be read
    found = await store.privacy.export(1)
    assert found is not None and found["progress"] is None
    assert found["tables"]["users"][0]["data"] == UNREADABLE
    assert found["tables"]["checkins"][0]["values"] == UNREADABLE
    assert found["tables"]["events"][0]["detail"] == UNREADABLE
    other = await store.load(2)
    assert other is not None and other.answers == {"loved_one": PHRASE}  # everyone else is whole
    assert (await store.privacy.key_status(every=True)).unreadable == 1
    await store.close()


async def test_a_destroyed_key_is_in_no_page_of_the_key_table(pg_url: str, pg_keys_url: str) -> None:
    store = await ProgressStore(pg_url, DataCipher([new_key()]), keys_url=pg_keys_url).open()
    for user_id in range(1, 51):
        await store.save(Progress(user_id=user_id), [])
    assert isinstance(store.cipher, Keyring)
    kid = store.cipher.key_for(50).kid  # the newest row: a plain VACUUM leaves its bytes in the free space
    await store.privacy.erase(50)
    await store.close()
    with psycopg.connect(pg_keys_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # what is in shared buffers goes to the file, to be looked at
        row = conn.execute("SELECT current_setting('data_directory'), pg_relation_filepath('person_keys')"
                           ).fetchone()
    assert row is not None
    table = Path(row[0]) / row[1]
    assert table.exists()
    assert kid.encode() not in table.read_bytes()  # rewritten: not even a dead tuple is left


async def test_a_data_key_on_postgresql_needs_a_key_database_of_its_own(pg_url: str) -> None:
    with pytest.raises(NoKeyStore, match="keys_url"):
        ProgressStore(pg_url, DataCipher([new_key()]))
    with pytest.raises(NoKeyStore, match="another database"):
        ProgressStore(pg_url, DataCipher([new_key()]), keys_url=pg_url)


async def test_rotation_re_wraps_the_keys_in_the_key_database_and_the_old_key_retires(
        pg_url: str, pg_keys_url: str) -> None:
    old, new = new_key(), new_key()
    store = await ProgressStore(pg_url, DataCipher([old]), keys_url=pg_keys_url).open()
    await write(store, 1)
    await store.close()
    store = await ProgressStore(pg_url, DataCipher([new, old]), keys_url=pg_keys_url).open()
    assert await store.privacy.rotate(DataCipher([new, old])) == 1
    await store.close()
    store = await ProgressStore(pg_url, DataCipher([new]), keys_url=pg_keys_url).open()  # old key gone
    loaded = await store.load(1)
    assert loaded is not None and loaded.answers == {"loved_one": PHRASE}
    await store.close()
