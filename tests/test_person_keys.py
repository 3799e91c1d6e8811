"""Person data keys: one each, wrapped in a key store apart; erasure destroys the key, so a backup
made before a /delete cannot be read for that person (everyone else in it can); rotation re-wraps
keys, not data; the cache is bounded and forgets at once; databases from before move over."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from state.contracts import CheckinRecord, Event, Progress
from state.store.crypto import KEY_ENV, DataCipher, DataKeyError, new_key, wrap
from state.store.keyring import Keyring, KeyStore, PersonKeyMissing, key_store_path
from state.store.privacy import PrivacyData
from state.store.progress import SqliteProgressStore
from state.store.sealing import legacy_count
from tests.kit.cli import craftbot
from tests.test_privacy import file_bytes

TESTS = Path(__file__).parent
BEFORE = TESTS / "data" / "before_person_keys"
MAIN_KEY = "B2Mzq8i3gG3fTiStS6cB3zTkLzLnuQ4YbRbZ0NqLhTU="  # tests/data/before_person_keys/make.py
ANA, BEN = 71, 72


def operator(text: str) -> DataCipher:
    return DataCipher.from_text(text) or pytest.fail("no key")


def person(user_id: int, phrase: str) -> Progress:
    return Progress(user_id=user_id, module="basics", step="intro", created_at=1.0,
                    updated_at=1_700_000_000.0, answers={"safety_plan": phrase})


async def two_people(database: Path, key: str) -> None:
    store = await SqliteProgressStore(database, operator(key)).open()
    try:
        for user_id, phrase in ((ANA, "call my sister Inés"), (BEN, "walk to the river")):
            await store.save(person(user_id, phrase), [Event("crisis", None, None, "violence")])
            await store.reminders.add_checkin(user_id, CheckinRecord(100.0, "2024-03-09", 1, 7, 3, 2, None))
    finally:
        await store.close()


def config_for(tmp_path: Path, database: Path) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  database: {database}\n", encoding="utf-8")
    return config


def env_with(key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != KEY_ENV}
    if key is not None:
        env[KEY_ENV] = key
    return env


def key_rows(database: Path) -> dict[int, tuple[str, str, str]]:
    """user id -> (key id, wrapped key, wrapped by), read from the key store file."""
    db = sqlite3.connect(key_store_path(database))
    try:
        return {int(u): (str(k), str(w), str(b)) for u, k, w, b in db.execute(
            "SELECT user_id, key_id, wrapped_key, wrapped_by FROM person_keys")}
    finally:
        db.close()


def sealed_values(database: Path) -> list[str]:
    db = sqlite3.connect(database)
    try:
        return [str(v) for (v,) in db.execute(
            "SELECT data FROM users UNION ALL SELECT data FROM checkins UNION ALL"
            " SELECT detail FROM events WHERE detail IS NOT NULL")]
    finally:
        db.close()


def restore(backup: Path, database: Path) -> None:
    """Put a backup back as the database, as an operator would (the journals of the old one gone)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, database)


async def test_each_person_has_a_key_of_their_own_kept_apart_from_the_database(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bot.sqlite3"
    await two_people(database, new_key())
    keys = key_rows(database)
    assert set(keys) == {ANA, BEN} and keys[ANA][0] != keys[BEN][0]
    values = sealed_values(database)
    assert len(values) == 6 and all(v.startswith("p1:") for v in values)
    assert sum(f"p1:{keys[ANA][0]}:" in v for v in values) == 3  # progress, check-in, crisis pathway
    everything = b"".join(file_bytes(database).values())
    assert b"person_keys" not in everything and not any(w.encode() in everything for _, w, _ in keys.values())
    assert b"Ines" not in everything and "Inés".encode() not in everything
    assert stat.S_IMODE(os.stat(key_store_path(database)).st_mode) == 0o600


async def test_a_backup_made_before_a_delete_cannot_be_read_for_that_person_only(tmp_path: Path) -> None:
    key = new_key()
    database = tmp_path / "data" / "bot.sqlite3"
    await two_people(database, key)
    store = await SqliteProgressStore(database, operator(key)).open()
    backup = tmp_path / "backups" / "before.sqlite3"
    try:  # the operator's nightly backup, taken while the bot runs
        done = craftbot("backup", backup, "--config", config_for(tmp_path, database), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "person keys are not in it" in done.stdout
        ana_wrapped = key_rows(database)[ANA][1]
        await store.privacy.erase(ANA)  # Ana sends /delete
    finally:
        await store.close()
    keystore = b"".join(file_bytes(key_store_path(database)).values())
    assert ana_wrapped.encode() not in keystore  # her key's bytes are overwritten, not just unlinked
    assert set(key_rows(database)) == {BEN}

    restore(backup, database)  # a disaster, or an attacker with yesterday's backup and the key
    store = await SqliteProgressStore(database, operator(key)).open()
    try:
        with pytest.raises(PersonKeyMissing):
            await store.load(ANA)
        with pytest.raises(DataKeyError):
            await store.reminders.checkins(ANA, 0)
        ben = await store.load(BEN)
        assert ben is not None and ben.answers["safety_plan"] == "walk to the river"
        status = await store.privacy.key_status(every=True)  # counted, and the bot still starts
        assert (status.sealed, status.unreadable, status.keys, status.unwrappable) == (2, 1, 1, 0)
        found = await store.privacy.export(ANA)  # /mydata says what cannot be read, and fails not
        assert found is not None and found["progress"] is None
        assert found["tables"]["users"][0]["data"].startswith("(cannot be read")
        assert found["tables"]["checkins"][0]["values"].startswith("(cannot be read")
        await store.privacy.erase(ANA)  # what the restore brought back is deleted again
        assert await store.privacy.export(ANA) is None
    finally:
        await store.close()
    cipher = operator(key)  # nothing in the backup opens with the operator key alone
    ana_values = [v for v in sealed_values(backup) if v.startswith("p1:")]
    with pytest.raises(DataKeyError):
        cipher.decrypt(ana_values[0])


async def test_rotation_re_wraps_keys_leaves_data_alone_and_the_old_key_retires(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    database = tmp_path / "bot.sqlite3"
    await two_people(database, old)
    config = config_for(tmp_path, database)
    before, wrapped = sealed_values(database), key_rows(database)

    done = craftbot("rotate-key", "--config", config, env=env_with(f"{new},{old}"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "re-wrapped 2 person key(s)" in done.stdout
    assert sealed_values(database) == before  # not one value re-encrypted
    after = key_rows(database)
    assert all(after[u][0] == wrapped[u][0] and after[u][1] != wrapped[u][1] for u in (ANA, BEN))
    assert {b for _, _, b in after.values()} == {operator(new).key_ids[0]}

    status = craftbot("keys", "status", "--config", config, env=env_with(f"{new},{old}"), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "person keys: 2" in status.stdout and "wraps nothing: it can be retired" in status.stdout
    status = craftbot("keys", "status", "--config", config, env=env_with(new), cwd=tmp_path)  # retired
    assert status.returncode == 0 and "keys no given key can unwrap: 0" in status.stdout
    store = await SqliteProgressStore(database, operator(new)).open()
    try:
        ana = await store.load(ANA)
        assert ana is not None and ana.answers["safety_plan"] == "call my sister Inés"
    finally:
        await store.close()
    status = craftbot("keys", "status", "--config", config, env=env_with(old), cwd=tmp_path)  # old key only
    assert status.returncode == 1 and "keys no given key can unwrap: 2" in status.stdout


async def test_key_status_counts_a_key_that_cannot_be_unwrapped(tmp_path: Path) -> None:
    key = new_key()
    database = tmp_path / "bot.sqlite3"
    await two_people(database, key)
    foreign = wrap(operator(new_key()), os.urandom(32))  # Ben's key, wrapped by a key long gone
    db = sqlite3.connect(key_store_path(database))
    db.execute("UPDATE person_keys SET wrapped_key = ? WHERE user_id = ?", (foreign, BEN))
    db.commit()
    db.close()
    store = await SqliteProgressStore(database, operator(key)).open()
    try:
        status = await store.privacy.key_status(every=True)
        assert (status.keys, status.unwrappable, status.unreadable) == (2, 1, 1)
        with pytest.raises(DataKeyError):
            await store.load(BEN)
        assert await store.load(ANA) is not None
    finally:
        await store.close()
    done = craftbot("keys", "status", "--config", config_for(tmp_path, database), env=env_with(key),
                    cwd=tmp_path)
    assert done.returncode == 1 and "1 person key(s) cannot be unwrapped" in done.stderr


def test_the_cache_is_bounded_forgets_after_its_time_and_at_once_on_erasure(tmp_path: Path) -> None:
    now = [0.0]
    path = tmp_path / "bot-keys.sqlite3"
    keyring = Keyring(operator(new_key()), KeyStore(path), clock=lambda: now[0], size=2, ttl=60.0)
    tokens = {uid: keyring.person(uid).encrypt(f"answer of {uid}") for uid in (1, 2, 3)}
    assert keyring.cached == 2  # bounded: the oldest went
    assert keyring.decrypt(tokens[1]) == "answer of 1"  # unwrapped again from the key store

    keyring.keys.remove([3])  # behind the cache's back, on its own connection: the cached key still opens
    assert keyring.decrypt(tokens[3]) == "answer of 3"
    now[0] = 61.0  # ...until its time is up
    with pytest.raises(PersonKeyMissing):
        keyring.decrypt(tokens[3])

    assert keyring.decrypt(tokens[2]) == "answer of 2"
    assert keyring.shred([2]) == 1  # erasure: gone from the store and from memory at once
    with pytest.raises(PersonKeyMissing):
        keyring.decrypt(tokens[2])

    assert keyring.decrypt(tokens[1]) == "answer of 1"
    other = Keyring(keyring.operator, KeyStore(path))  # another process, `craftbot purge` say
    assert other.shred([1]) == 1
    fresh = keyring.person(1).encrypt("a new start")  # seen at once when sealing: a new key, not the dead one
    assert fresh.split(":")[1] != tokens[1].split(":")[1] and keyring.decrypt(fresh) == "a new start"
    with pytest.raises(PersonKeyMissing):
        keyring.decrypt(tokens[1])
    other.close()
    keyring.close()


async def test_a_database_made_before_person_keys_moves_over_when_opened(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    shutil.copyfile(BEFORE / "bot.sqlite3", database)
    original = tmp_path / "original.sqlite3"
    shutil.copyfile(database, original)
    assert all(v.startswith("gAAAAA") for v in sealed_values(database))

    store = await SqliteProgressStore(database, operator(MAIN_KEY)).open()
    try:
        assert await store.read(legacy_count) == 0
        ana = await store.load(ANA)
        assert ana is not None and ana.answers["loved_one_name"] == "Ana"
        found = await store.privacy.export(BEN)
        assert found is not None and found["tables"]["checkins"][0]["stress"] == 7
        assert sorted(e["detail"] for e in found["tables"]["events"]) == ["on", "violence"]
    finally:
        await store.close()
    values = sealed_values(database)
    assert len(values) == 8 and all(v.startswith("p1:") for v in values)
    assert set(key_rows(database)) == {ANA, BEN}

    # The limit, honestly: a copy made before the move is sealed with the operator key alone,
    # so it stays readable while that key exists. Rotating to a new key and dropping the old
    # one makes such copies unreadable (and leaves today's data, re-wrapped, readable).
    new = new_key()
    store = await SqliteProgressStore(database, operator(f"{new},{MAIN_KEY}")).open()
    try:
        assert await PrivacyData(store).rotate(operator(f"{new},{MAIN_KEY}")) == 2
    finally:
        await store.close()
    old_copy = sealed_values(original)
    assert operator(MAIN_KEY).decrypt(old_copy[0])  # readable with the old key...
    with pytest.raises(DataKeyError):
        operator(new).decrypt(old_copy[0])  # ...and with nothing else once it is destroyed
    store = await SqliteProgressStore(database, operator(new)).open()
    try:
        ben = await store.load(BEN)
        assert ben is not None and ben.answers["loved_one_name"] == "Ben"
    finally:
        await store.close()


async def test_purge_without_the_operator_key_still_destroys_the_keys(tmp_path: Path) -> None:
    key = new_key()
    database = tmp_path / "bot.sqlite3"
    await two_people(database, key)  # both last active in November 2023
    config = config_for(tmp_path, database)
    config.write_text(config.read_text() + "privacy:\n  retention_days: 30\n", encoding="utf-8")
    done = craftbot("purge", "--config", config, env=env_with(None), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "erased 2 user(s)" in done.stdout
    assert key_rows(database) == {}


async def test_a_key_store_backup_is_the_limit_until_the_operator_key_is_rotated_and_destroyed(
        tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    database = tmp_path / "data" / "bot.sqlite3"
    await two_people(database, old)
    config = config_for(tmp_path, database)
    db_copy, keys_copy = tmp_path / "backups" / "db.sqlite3", tmp_path / "key-backups" / "keys.sqlite3"
    assert craftbot("backup", db_copy, "--config", config, cwd=tmp_path).returncode == 0
    done = craftbot("keys", "backup", keys_copy, "--config", config, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "for days, not years" in done.stdout and stat.S_IMODE(os.stat(keys_copy).st_mode) == 0o600
    again = craftbot("keys", "backup", keys_copy, "--config", config, cwd=tmp_path)
    assert again.returncode == 1 and "exists" in again.stderr
    store = await SqliteProgressStore(database, operator(old)).open()
    try:
        await store.privacy.erase(ANA)
    finally:
        await store.close()

    async def ana_from_the_backups(key: str) -> Progress | None:
        """Both backups of the same day, put back together elsewhere, read with this key."""
        elsewhere = tmp_path / f"elsewhere-{key[:6]}" / "bot.sqlite3"
        elsewhere.parent.mkdir()
        shutil.copyfile(db_copy, elsewhere)
        shutil.copyfile(keys_copy, key_store_path(elsewhere))
        store = await SqliteProgressStore(elsewhere, operator(key)).open()
        try:
            return await store.load(ANA)
        finally:
            await store.close()

    assert await ana_from_the_backups(old) is not None  # the limit: a key-store backup from before
    done = craftbot("rotate-key", "--config", config, env=env_with(f"{new},{old}"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with pytest.raises(DataKeyError):  # OLD destroyed, NEW never wrapped her key: gone for good
        await ana_from_the_backups(new)
    store = await SqliteProgressStore(database, operator(new)).open()
    try:
        assert await store.load(BEN) is not None and await store.load(ANA) is None
    finally:
        await store.close()
