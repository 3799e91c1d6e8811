"""Encryption at rest: what people write is unreadable in the files, keys rotate, wrong keys say so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from state.contracts import Progress
from state.store.crypto import KEY_ENV, DataCipher, DataKeyError, new_key
from state.store.privacy import PrivacyData
from state.store.progress import SqliteProgressStore
from tests.test_privacy import file_bytes

REPO = Path(__file__).resolve().parent.parent
PHRASE = "Velvet-Anchovy-5519"


def written(user_id: int) -> Progress:
    """Progress holding a free-text answer and a safety plan with the unique phrase."""
    return Progress(user_id=user_id, module="safety", step="plan",
                    answers={"loved_one": "Rosalind", "when_use": f"after {PHRASE}",
                             "safety_plan": f"go to my sister's, {PHRASE}"},
                    created_at=1.0, updated_at=2.0)


def cli(*args: str, key: str | None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != KEY_ENV}
    if key is not None:
        env[KEY_ENV] = key
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=REPO, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


async def test_with_a_key_no_written_word_is_in_the_files(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    store = await SqliteProgressStore(database, DataCipher.from_text(new_key())).open()
    for user_id in range(1, 20):
        await store.save(written(user_id), [])
    loaded = await store.load(7)
    assert loaded is not None and loaded.answers["safety_plan"].endswith(PHRASE)
    during = file_bytes(database)
    await store.close()
    for data in [*during.values(), *file_bytes(database).values()]:
        assert PHRASE.encode() not in data and b"Rosalind" not in data

    plain = await SqliteProgressStore(tmp_path / "plain.sqlite3").open()
    await plain.save(written(1), [])
    await plain.close()
    assert any(PHRASE.encode() in d for d in file_bytes(tmp_path / "plain.sqlite3").values())


async def test_rotation_re_wraps_every_key_with_the_new_key_and_seals_what_was_plain(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    database = tmp_path / "bot.sqlite3"
    store = await SqliteProgressStore(database, DataCipher.from_text(old)).open()
    await store.save(written(1), [])
    await store.close()
    store = await SqliteProgressStore(database).open()  # one person from before the key was set
    await store.save(written(2), [])
    await store.close()

    done = cli("rotate-key", "--config", str(config_for(tmp_path, database)), key=f"{new},{old}")
    assert done.returncode == 0, done.stderr
    assert "re-wrapped 2 person key(s)" in done.stdout  # person 2's plain row was sealed on opening

    store = await SqliteProgressStore(database, DataCipher.from_text(new)).open()
    status = await PrivacyData(store).key_status()
    assert (status.sealed, status.plain) == (2, 0)
    for user_id in (1, 2):
        loaded = await store.load(user_id)
        assert loaded is not None and PHRASE in loaded.answers["when_use"]
    await store.close()
    assert all(PHRASE.encode() not in d for d in file_bytes(database).values())
    store = await SqliteProgressStore(database, DataCipher.from_text(old)).open()
    with pytest.raises(DataKeyError, match="cannot decrypt"):
        await store.load(1)
    await store.close()


def config_for(tmp_path: Path, database: Path) -> Path:
    config = tmp_path / "config.yaml"
    sample = REPO / "tests" / "curriculum"
    config.write_text(f"storage:\n  database: {database}\ncurriculum:\n  path: {sample}\n", encoding="utf-8")
    return config


async def test_a_wrong_or_missing_key_gives_a_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    store = await SqliteProgressStore(database, DataCipher.from_text(new_key())).open()
    await store.save(written(1), [])
    await store.close()
    config = config_for(tmp_path, database)

    wrong = cli("chat", "--config", str(config), "--user", "1", key=new_key(), stdin="hello\n")
    assert wrong.returncode == 1
    assert "cannot decrypt the stored data" in wrong.stderr and "Traceback" not in wrong.stderr
    missing = cli("chat", "--config", str(config), "--user", "1", key=None, stdin="hello\n")
    assert missing.returncode == 1
    assert f"{KEY_ENV} is not set" in missing.stderr and "Traceback" not in missing.stderr
    malformed = cli("chat", "--config", str(config), key="not-a-key", stdin="")
    assert malformed.returncode == 1 and "not a valid key" in malformed.stderr
    unset = cli("rotate-key", "--config", str(config), key=None)
    assert unset.returncode == 2 and "NEW,OLD" in unset.stderr


def test_without_a_key_the_terminal_chat_works_in_plain_text(tmp_path: Path) -> None:
    database = tmp_path / "chat.sqlite3"
    done = cli("chat", "--db", str(database), "--curriculum", str(REPO / "tests" / "curriculum"),
               key=None, stdin="1\nRosalind\n")
    assert done.returncode == 0, done.stderr
    assert "Who is Rosalind to you?" in done.stdout
    assert any(b"Rosalind" in d for d in file_bytes(database).values())


def test_keygen_prints_a_working_key() -> None:
    done = cli("keygen", key=None)
    assert done.returncode == 0
    key = done.stdout.strip()
    assert len(key) == 44 and Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    assert KEY_ENV in done.stderr
    assert cli("keygen", key=None).stdout.strip() != key


def test_the_cipher_itself() -> None:
    one, two = new_key(), new_key()
    token = DataCipher([one]).encrypt("hello")
    assert token.startswith("gAAAAA") and "hello" not in token
    both = DataCipher([two, one])
    assert both.decrypt(token) == "hello"
    assert DataCipher([two]).decrypt(both.rotate(token)) == "hello"
    with pytest.raises(DataKeyError, match="cannot decrypt"):
        DataCipher([two]).decrypt(token)
    with pytest.raises(DataKeyError, match=r"key 2 .* is not a valid key"):
        DataCipher.from_text(f"{one}, short")
    assert DataCipher.from_text(" , ") is None


async def test_every_sealed_row_is_checked_and_a_damaged_one_is_counted(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    key, other = new_key(), new_key()
    store = await SqliteProgressStore(database, DataCipher.from_text(key)).open()
    for user_id in (1, 2, 3):
        await store.save(written(user_id), [])
    await store.close()
    store = await SqliteProgressStore(database, DataCipher.from_text(other)).open()
    await store.save(written(4), [])  # one row sealed with a key that is then lost
    await store.close()

    store = await SqliteProgressStore(database, DataCipher.from_text(key)).open()
    try:
        status = await PrivacyData(store).key_status(every=True)
        assert (status.sealed, status.plain, status.unreadable) == (4, 0, 1)
    finally:
        await store.close()
    store = await SqliteProgressStore(database, DataCipher.from_text(new_key())).open()
    try:
        with pytest.raises(DataKeyError, match="cannot decrypt"):  # the wrong key opens none
            await PrivacyData(store).key_status(every=True)
    finally:
        await store.close()
