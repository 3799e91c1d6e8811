"""Check-in values and event details sealed like progress: written sealed, read opened, old rows sealed.

With a data key (`state.store.crypto`), more things are stored encrypted, each
person's with their own data key (`state.store.keyring`): a reply kept until it has gone out
(`state.store.replies`, sealed like progress), and

- a check-in's values (stress, sober days, rewards, the loved one's day), kept as one JSON
  object in `checkins.data` (migration 007): plain JSON (`{...}`) without a key, a Fernet
  token with one, so `is_sealed` tells them apart as it does for progress;
- every event's `detail`: the safety answers (`crisis_answer`: safe / unsafe / unsure,
  `crisis_check_answer`: yes / no), the discreet flag (`discreet`: on / off) and the crisis
  pathway a `crisis` or `crisis_check` event took. A detail is a short code, never JSON, so
  a sealed one is told apart by the shape of its token (`is_token`): a person token, or a
  Fernet token from before person keys.

What stays in clear is what counting needs and nothing about a person's state: who (the
user id, as everywhere), when, which kind of event, which module and step, a check-in's
date and period. `seal_clear` seals, with each person's key, the rows left in clear from
before a key was set and those sealed with the operator key alone from before person keys
(run each time the store opens with a key, and by `craftbot rotate-key`).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from state.contracts import CheckinRecord
from state.storage import Cipher
from state.store.crypto import DataKeyError, is_sealed, seal, unseal
from state.store.dialect import Connection
from state.store.keyring import Keyring, for_person

__all__ = ["VALUES", "checkin_data", "checkin_record", "checkin_values", "is_token", "key_fits",
           "legacy_count", "migrate", "open_detail", "seal_clear", "seal_detail"]

VALUES = ("stress", "sober_days", "rewards", "loved_one_day")
# Fernet: version byte 0x80 and a 64-bit timestamp whose top bytes are zero, base64url.
# ...or a person token (p1:<key id>:<base64url>, state.store.crypto).
TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_-]{90,}={0,2}|p1:[0-9a-f]{16}:[A-Za-z0-9_-]{38,}")
# Values not yet sealed with a person key: in clear, or sealed with the operator key (plain SQL).
LEGACY = "substr({0}, 1, 6) = 'gAAAAA'"
NOT_PERSON = "{0} IS NOT NULL AND substr({0}, 1, 3) != 'p1:'"
PLAIN_CHECKINS = "SELECT id, user_id, data FROM checkins WHERE substr(data, 1, 1) = '{'"
PLAIN_DETAILS = ("SELECT id, user_id, detail FROM events WHERE detail IS NOT NULL"
                 " AND substr(detail, 1, 6) != 'gAAAAA' AND substr(detail, 1, 3) != 'p1:'")
OLD_USERS = f"SELECT user_id, data FROM users WHERE {NOT_PERSON.format('data')}"
OLD_CHECKINS = f"SELECT id, user_id, data FROM checkins WHERE {NOT_PERSON.format('data')}"
OLD_DETAILS = f"SELECT id, user_id, detail FROM events WHERE {NOT_PERSON.format('detail')}"
# A reply kept until sent (state/store/replies.py): sealed like a progress blob, keyed by user id.
PLAIN_REPLIES = "SELECT user_id, user_id, body FROM replies WHERE substr(body, 1, 1) = '{'"
OLD_REPLIES = f"SELECT user_id, user_id, body FROM replies WHERE {NOT_PERSON.format('body')}"


def is_token(stored: str) -> bool:
    """Whether a short stored value (an event's detail) is a Fernet token rather than a code."""
    return TOKEN.fullmatch(stored) is not None


def checkin_data(cipher: Cipher | None, record: CheckinRecord) -> str:
    """A check-in's values as stored: one JSON object, sealed when there is a cipher."""
    values = {name: getattr(record, name) for name in VALUES}
    return seal(cipher, orjson.dumps(values).decode())


def checkin_values(cipher: Cipher | None, data: str | None) -> dict[str, Any]:
    """A check-in's stored values opened (all None for a row without any)."""
    found = orjson.loads(unseal(cipher, data)) if data else {}
    return {name: found.get(name) for name in VALUES}


def checkin_record(cipher: Cipher | None, at: float, day: str, period: int,
                   data: str | None) -> CheckinRecord:
    """A stored check-in row as a record."""
    values = checkin_values(cipher, data)
    return CheckinRecord(float(at), str(day), int(period), values["stress"], values["sober_days"],
                         values["rewards"], values["loved_one_day"])


def seal_detail(cipher: Cipher | None, detail: str | None) -> str | None:
    """An event's detail as stored: sealed when there is a cipher (None stays None)."""
    return detail if detail is None or cipher is None else cipher.encrypt(detail)


def open_detail(cipher: Cipher | None, stored: str | None) -> str | None:
    """An event's stored detail opened; DataKeyError for a sealed one without a cipher."""
    if stored is None or not is_token(stored):
        return stored
    if cipher is None:
        raise DataKeyError("the database holds encrypted event details but no data key was given")
    return cipher.decrypt(stored)


def key_fits(db: Connection, cipher: Cipher) -> bool:
    """Whether the operator key opens what is sealed with it already (True when nothing is).

    With a keyring, that is a value from before person keys, or else one wrapped person key.
    A value sealed with a person key proves nothing: its key may have been erased.
    """
    sample = (db.execute(f"SELECT data FROM users WHERE {LEGACY.format('data')} LIMIT 1").fetchone()
              or db.execute(f"SELECT data FROM checkins WHERE {LEGACY.format('data')} LIMIT 1").fetchone()
              or db.execute(f"SELECT detail FROM events WHERE {LEGACY.format('detail')} LIMIT 1").fetchone())
    if sample is not None:
        try:
            cipher.decrypt(str(sample[0]))
        except DataKeyError:
            return False
        return True
    if isinstance(cipher, Keyring):
        return cipher.check(every=False).unwrappable == 0
    return True


def seal_clear(db: Connection, cipher: Cipher) -> int:
    """Seal what is still stored in clear, or (with a keyring) with the operator key alone; how many rows.

    Each person's values are sealed with their own data key (`state.store.keyring`): this
    is how a database from before person keys moves over, once, when the store opens. A
    row the key cannot open (damaged) is left as it is. Nothing is sealed with a key that
    cannot open what is sealed already (a wrong key): the caller's key check says so
    (`PrivacyData.key_status`), and no row is sealed with it.
    """
    keyring = cipher if isinstance(cipher, Keyring) else None
    checkins = db.execute(PLAIN_CHECKINS if keyring is None else OLD_CHECKINS).fetchall()
    details = [row for row in db.execute(PLAIN_DETAILS if keyring is None else OLD_DETAILS)
               if keyring is not None or not is_token(row[2])]
    people = [] if keyring is None else db.execute(OLD_USERS).fetchall()
    replies = db.execute(PLAIN_REPLIES if keyring is None else OLD_REPLIES).fetchall()
    if not (checkins or details or people or replies) or not key_fits(db, cipher):
        return 0
    return _reseal(db, cipher, people, checkins, details, replies)


def legacy_count(db: Connection) -> int:
    """How many values are sealed with the operator key alone (from before person keys)."""
    return sum(int(db.execute(f"SELECT count(*) FROM {table} WHERE {LEGACY.format(column)}").fetchone()[0])
               for table, column in (("users", "data"), ("checkins", "data"), ("events", "detail")))


def migrate(db: Connection, cipher: Cipher) -> int:
    """Seal every value in clear or sealed with the operator key alone: `seal_clear`, for `rotate-key`."""
    return seal_clear(db, cipher)


def _reseal(db: Connection, cipher: Cipher, people: list[tuple[int, str]],
            checkins: list[tuple[int, int, str]], details: list[tuple[int, int, str]],
            replies: list[tuple[int, int, str]]) -> int:
    """Write each value sealed with its person's cipher (`for_person`); how many rows."""
    done = 0
    if isinstance(cipher, Keyring):  # their keys made in one transaction, not one sync each
        cipher.ensure({row[0] for row in people} | {row[1] for row in (*checkins, *details, *replies)})

    def sealed(user_id: int, stored: str, token: bool) -> str | None:
        nonlocal done
        person = for_person(cipher, user_id) or cipher
        try:
            fresh = person.rotate(stored) if token else person.encrypt(stored)
        except DataKeyError:  # damaged, or sealed with a key no longer given: left for key_status
            return None
        done += 1
        return fresh

    db.executemany("UPDATE users SET data = ? WHERE user_id = ?", [
        (fresh, uid) for uid, data in people if (fresh := sealed(uid, data, is_sealed(data))) is not None])
    db.executemany("UPDATE checkins SET data = ? WHERE id = ?", [
        (fresh, row_id) for row_id, uid, data in checkins
        if (fresh := sealed(uid, data, is_sealed(data))) is not None])
    db.executemany("UPDATE events SET detail = ? WHERE id = ?", [
        (fresh, row_id) for row_id, uid, detail in details
        if (fresh := sealed(uid, detail, is_token(detail))) is not None])
    db.executemany("UPDATE replies SET body = ? WHERE user_id = ?", [
        (fresh, uid) for _, uid, body in replies
        if (fresh := sealed(uid, body, is_sealed(body))) is not None])
    return done
