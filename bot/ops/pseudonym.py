"""Log pseudonyms that do not track people: an HMAC-SHA256 of the Telegram id under a secret key.

An unkeyed hash of a Telegram id is no pseudonym: anyone with the log can hash candidate
ids and find the person. Keyed, a pseudonym says nothing without the key. The key is, in
order of preference:

1. derived (HKDF-SHA256) from the data key (`CRAFTBOT_DATA_KEY`, its first, current key),
   so pseudonyms link across restarts while that key stays; rotating it starts new ones;
2. else derived from `logging.pseudonym_key` (`CRAFTBOT_LOGGING__PSEUDONYM_KEY`);
3. else random for this process: pseudonyms then do not link across restarts.

The derivation uses its own `info` label, so the pseudonym key is independent of the key
that encrypts people's data and reveals nothing about it. And pseudonyms are written only
at DEBUG: the INFO log keeps no per-person timeline (`bot.ptb.app`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"craftbot log pseudonyms v1"
LENGTH = 12  # hex characters shown: 48 bits, plenty to tell a few million people apart


def derive_key(secret: str) -> bytes:
    """A 32-byte pseudonym key from a secret (a data key, or the configured pseudonym key)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret.encode("utf-8"))


def choose_key(data_key: str | None, pseudonym_key: str) -> tuple[bytes, str]:
    """(the key, where it came from: "data key", "logging.pseudonym_key" or "random")."""
    current = next((k.strip() for k in (data_key or "").split(",") if k.strip()), "")
    if current:
        return derive_key(current), "data key"
    if pseudonym_key.strip():
        return derive_key(pseudonym_key.strip()), "logging.pseudonym_key"
    return secrets.token_bytes(32), "random"


class Pseudonyms:
    """Short keyed tags for Telegram ids."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, user_id: int) -> str:
        """The tag of one user: the same for the same key, unrelated under another."""
        return hmac.new(self._key, str(user_id).encode("ascii"), hashlib.sha256).hexdigest()[:LENGTH]


_current = Pseudonyms(secrets.token_bytes(32))  # random until `use_key` (craftbot run) sets one


def use_key(key: bytes) -> None:
    """Use this key for every pseudonym from now on."""
    global _current
    _current = Pseudonyms(key)


def pseudonym(user_id: int) -> str:
    """A user's tag in logs under the process's pseudonym key."""
    return _current(user_id)
