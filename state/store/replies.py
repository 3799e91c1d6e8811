"""Each person's latest reply, kept from its turn's commit until Telegram has accepted all of it.

Table `replies` (migration 012), one row per person: the update the reply answers, its
messages and buttons as JSON sealed with the person's data key (`body`: replies echo what
people write), how many of its sends Telegram has accepted (`accepted`: a long message's
parts each count) and, once it went out whole, when (`done_at`; `body` is then overwritten
with NULL, secure_delete being on). The row is written by the turn's own transaction
(`keep`, from `state.store.progress.write_session`), so a saved turn always has its reply;
`ReplyData.accepted` and `ReplyData.done` move it on as the sends are accepted, each a
small transaction of its own, committed before the next send (on SQLite on the event
loop's connection when the write lock is free, as a turn: `Database.write_now`). What a
redelivered update is answered with is decided in `state.service.redelivery`.

A newer turn's reply replaces the row (only the latest is kept), and the row goes with the
person's data: `/delete` and retention erase every table with a `user_id` column.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from state.contracts import Button, Message, Reply
from state.storage import Cipher
from state.store.core import Database
from state.store.crypto import DataKeyError, seal, unseal
from state.store.dialect import Connection

__all__ = ["Kept", "ReplyData", "body_of", "keep", "kept", "opened_body"]

KEEP = ("INSERT INTO replies (user_id, update_id, body, accepted, made_at, done_at) VALUES (?, ?, ?, 0, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET update_id = excluded.update_id, body = excluded.body,"
        " accepted = 0, made_at = excluded.made_at, done_at = excluded.done_at")
READ = "SELECT update_id, body, accepted, done_at FROM replies WHERE user_id = ?"
ACCEPTED = ("UPDATE replies SET accepted = ? WHERE user_id = ? AND update_id = ? AND done_at IS NULL"
            " AND accepted < ?")
DONE = "UPDATE replies SET done_at = ?, body = NULL WHERE user_id = ? AND update_id = ? AND done_at IS NULL"


@dataclass(frozen=True)
class Kept:
    """A person's latest reply as stored: whole (`done`), or with `accepted` sends taken so far."""

    update_id: int
    messages: list[Message]
    accepted: int
    crisis: bool
    protect: bool
    done: bool


def body_of(reply: Reply) -> str:
    """A reply's messages (with their buttons) and how it is sent, as the JSON kept."""
    return orjson.dumps({
        "messages": [{"html": m.html, "buttons": [[[b.label, b.data] for b in row] for row in m.buttons],
                      "silent": m.silent, "previews": m.previews} for m in reply.messages],
        "crisis": reply.crisis, "protect": reply.protect}).decode()


def opened_body(cipher: Cipher | None, body: str) -> dict[str, object]:
    """A kept body opened (for `/mydata`); DataKeyError when its key is gone."""
    found = orjson.loads(unseal(cipher, body))
    return found if isinstance(found, dict) else {}


def keep(db: Connection, person: Cipher | None, user_id: int, update_id: int, body: str | None,
         now: float) -> None:
    """Record a turn's reply, sealed with the person's cipher, inside the turn's transaction.

    A reply with no message to send (`body` None: an edit alone) is recorded done at once.
    """
    db.execute(KEEP, (user_id, update_id, None if body is None else seal(person, body), now,
                      now if body is None else None))


def kept(db: Connection, cipher: Cipher | None, user_id: int) -> Kept | None:
    """The person's latest kept reply (None when none is, or it cannot be opened)."""
    row = db.execute(READ, (user_id,)).fetchone()
    if row is None:
        return None
    update_id, body, accepted, done_at = row
    if done_at is not None or body is None:
        return Kept(int(update_id), [], int(accepted), False, False, True)
    try:
        found = orjson.loads(unseal(cipher, str(body)))
    except (DataKeyError, orjson.JSONDecodeError):
        return None
    messages = [Message(str(m["html"]), tuple(tuple(Button(str(label), str(data)) for label, data in row)
                                              for row in m["buttons"]),
                        bool(m["silent"]), bool(m["previews"])) for m in found["messages"]]
    return Kept(int(update_id), messages, int(accepted), bool(found["crisis"]), bool(found["protect"]), False)


class ReplyData:
    """Kept replies on one open store: how far each has gone out."""

    def __init__(self, store: Database) -> None:
        self.store = store

    async def accepted(self, user_id: int, update_id: int, count: int) -> None:
        """Telegram has accepted `count` sends of this reply (committed before the next send)."""
        await self.store.write_now(lambda db: db.execute(ACCEPTED, (count, user_id, update_id, count)))

    async def done(self, user_id: int, update_id: int, now: float) -> None:
        """The reply went out whole: its body dropped, the row kept as the record of it."""
        await self.store.write_now(lambda db: db.execute(DONE, (now, user_id, update_id)))
