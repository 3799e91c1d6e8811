"""Check-in values and event details sealed like progress: written sealed, read opened, old rows sealed.

With a data key (`state.store.crypto`), three more things are stored encrypted:

- a check-in's values (stress, sober days, rewards, the loved one's day), kept as one JSON
  object in `checkins.data` (migration 007): plain JSON (`{...}`) without a key, a Fernet
  token with one, so `is_sealed` tells them apart as it does for progress;
- every event's `detail`: the safety answers (`crisis_answer`: safe / unsafe / unsure,
  `crisis_check_answer`: yes / no), the discreet flag (`discreet`: on / off) and the crisis
  pathway a `crisis` or `crisis_check` event took. A detail is a short code, never JSON, so
  a sealed one is told apart by the shape of a Fernet token (`is_token`).

What stays in clear is what counting needs and nothing about a person's state: who (the
user id, as everywhere), when, which kind of event, which module and step, a check-in's
date and period. `seal_clear` seals the plain rows left from before a key was set (run
each time the store opens with a key); `reseal` re-encrypts them all with the current key
(`craftbot rotate-key`).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import orjson

from state.contracts import CheckinRecord
from state.storage import Cipher
from state.store.crypto import DataKeyError, is_sealed, seal, unseal

__all__ = ["VALUES", "checkin_data", "checkin_record", "checkin_values", "is_token", "key_fits",
           "open_detail", "reseal", "seal_clear", "seal_detail"]

VALUES = ("stress", "sober_days", "rewards", "loved_one_day")
# Fernet: version byte 0x80 and a 64-bit timestamp whose top bytes are zero, base64url.
TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_-]{90,}={0,2}")
PLAIN_CHECKINS = "SELECT id, data FROM checkins WHERE substr(data, 1, 1) = '{'"
PLAIN_DETAILS = ("SELECT id, detail FROM events WHERE detail IS NOT NULL"
                 " AND substr(detail, 1, 6) != 'gAAAAA'")


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


def key_fits(db: sqlite3.Connection, cipher: Cipher) -> bool:
    """Whether the cipher opens a sealed value already stored (True when none is)."""
    sample = (db.execute("SELECT data FROM users WHERE substr(data, 1, 1) != '{' LIMIT 1").fetchone()
              or db.execute("SELECT data FROM checkins WHERE substr(data, 1, 1) != '{' LIMIT 1").fetchone()
              or db.execute("SELECT detail FROM events WHERE substr(detail, 1, 6) = 'gAAAAA'"
                            " LIMIT 1").fetchone())
    if sample is None:
        return True
    try:
        cipher.decrypt(str(sample[0]))
    except DataKeyError:
        return False
    return True


def seal_clear(db: sqlite3.Connection, cipher: Cipher) -> int:
    """Seal the check-ins and event details still stored in clear; how many rows (0: all sealed).

    Nothing is sealed with a key that cannot open what is sealed already (a wrong key): the
    caller's key check says so (`PrivacyData.key_status`), and no row is sealed with it.
    """
    checkins = db.execute(PLAIN_CHECKINS).fetchall()
    details = [(row_id, detail) for row_id, detail in db.execute(PLAIN_DETAILS) if not is_token(detail)]
    if not (checkins or details) or not key_fits(db, cipher):
        return 0
    db.executemany("UPDATE checkins SET data = ? WHERE id = ?",
                   [(cipher.encrypt(data), row_id) for row_id, data in checkins])
    db.executemany("UPDATE events SET detail = ? WHERE id = ?",
                   [(cipher.encrypt(detail), row_id) for row_id, detail in details])
    return len(checkins) + len(details)


def reseal(db: sqlite3.Connection, cipher: Cipher) -> int:
    """Seal every check-in and event detail with the cipher's current key (plain ones too); how many."""
    checkins = [(cipher.rotate(data) if is_sealed(data) else cipher.encrypt(data), row_id)
                for row_id, data in db.execute("SELECT id, data FROM checkins WHERE data IS NOT NULL")]
    details = [(cipher.rotate(detail) if is_token(detail) else cipher.encrypt(detail), row_id)
               for row_id, detail in db.execute("SELECT id, detail FROM events WHERE detail IS NOT NULL")]
    db.executemany("UPDATE checkins SET data = ? WHERE id = ?", checkins)
    db.executemany("UPDATE events SET detail = ? WHERE id = ?", details)
    return len(checkins) + len(details)
