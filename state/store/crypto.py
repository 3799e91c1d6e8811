"""Encryption at rest for what people write: one key (or a list, newest first) from the environment.

The store seals each user's whole progress blob (answers, safety plan, everything typed)
with Fernet from the `cryptography` library: AES-128-CBC with an HMAC-SHA256 tag, so a
stolen database file reveals no words and a tampered one is refused. Several keys may be
given, comma-separated, newest first (MultiFernet): the first encrypts, any of them
decrypts, and `rotate` re-encrypts old data with the first.

Without a key the data is stored as plain JSON, so the terminal chat works out of the box;
`craftbot run` warns loudly about it. Plain rows start with `{`, sealed rows with a Fernet
token (`gAAAAA`), so a database can move from plain to sealed with `craftbot rotate-key`.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from state.storage import Cipher

KEY_ENV = "CRAFTBOT_DATA_KEY"
PLAIN_PREFIX = "{"


class DataKeyError(Exception):
    """The data key is missing, malformed, or not the key the data was sealed with."""


def new_key() -> str:
    """A fresh random key, as the text to put in CRAFTBOT_DATA_KEY."""
    return Fernet.generate_key().decode("ascii")


class DataCipher:
    """Seals and opens text with one or more Fernet keys, the first one current."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise DataKeyError(f"{KEY_ENV} holds no key")
        fernets = []
        for number, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise DataKeyError(
                    f"key {number} in {KEY_ENV} is not a valid key: it must be 44 characters of"
                    " url-safe base64, as printed by `craftbot keygen`") from None
        self.count = len(fernets)
        self._fernet = MultiFernet(fernets)

    @classmethod
    def from_text(cls, text: str | None) -> DataCipher | None:
        """A cipher from a comma-separated key list (newest first); None when empty."""
        keys = [k.strip() for k in (text or "").split(",") if k.strip()]
        return cls(keys) if keys else None

    def encrypt(self, text: str) -> str:
        """Seal text with the current (first) key."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Open text sealed with any of the keys; DataKeyError if none fits."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise DataKeyError(
                f"the key(s) in {KEY_ENV} cannot decrypt the stored data: it was encrypted with"
                " another key, or the data is damaged. Give the key the data was encrypted with"
                " (after a rotation, list the new key first and the old ones after it).") from None

    def rotate(self, token: str) -> str:
        """Re-seal a token with the current key (it may have been sealed with any listed key)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            self.decrypt(token)  # raises the explanatory error
            raise


def is_sealed(stored: str) -> bool:
    """Whether a stored value is encrypted (anything but plain JSON)."""
    return not stored.lstrip().startswith(PLAIN_PREFIX)


def seal(cipher: Cipher | None, text: str) -> str:
    """The text to store: encrypted with a cipher, as it is without one."""
    return cipher.encrypt(text) if cipher is not None else text


def unseal(cipher: Cipher | None, stored: str) -> str:
    """The stored text opened: plain rows as they are, sealed rows with the cipher."""
    if not is_sealed(stored):
        return stored
    if cipher is None:
        raise DataKeyError(
            f"the database holds encrypted answers but {KEY_ENV} is not set. Set it to the key"
            " the data was encrypted with.")
    return cipher.decrypt(stored)
