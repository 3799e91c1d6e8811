"""Encryption at rest for what people write: the operator's key, and each person's data key.

Two levels (see docs/security.md, "Keys"):

- The operator's key (or a list, newest first) comes from the environment. It is a Fernet
  key from the `cryptography` library (AES-128-CBC with an HMAC-SHA256 tag). Several keys
  may be given, comma-separated, newest first (MultiFernet): the first encrypts, any of
  them decrypts, and `rotate` re-encrypts with the first. Today it seals only each
  person's data key (`wrap`), kept in the key store (`state.store.keyring`); values
  sealed with it directly (`gAAAAA...`) are from before person keys, read and re-sealed.
- Each person's data key is a random 256-bit AES-GCM key (an AEAD). Their progress blob,
  check-ins and event details are sealed with it (`PersonKey.seal`): `p1:<key id>:<nonce
  and ciphertext>`, the key id naming the key in the key store, and bound to the
  ciphertext as associated data. Destroying the key makes every copy unreadable.

Without a key the data is stored as plain JSON, so the terminal chat works out of the box;
`craftbot run` warns loudly about it. Plain rows start with `{`, sealed rows with a Fernet
token (`gAAAAA`) or a person token (`p1:`), so a database can move from plain to sealed.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from state.storage import Cipher

KEY_ENV = "CRAFTBOT_DATA_KEY"
PLAIN_PREFIX = "{"
PERSON_PREFIX = "p1:"  # a value sealed with a person's data key: p1:<key id>:<base64url>
KID_CHARS = 16  # a key id: 8 random bytes, in hex
HEX = frozenset("0123456789abcdef")
NONCE_BYTES = 12


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
        self.key_ids = [key_id(key.strip()) for key in keys]  # what each key is called in the key store
        self._fernet = MultiFernet(fernets)
        self._fernets = fernets

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

    def opener(self, token: str) -> str | None:
        """The id of the listed key that opens a token (None when none does)."""
        for kid, fernet in zip(self.key_ids, self._fernets, strict=True):
            try:
                fernet.decrypt(token.encode("ascii"))
            except (InvalidToken, UnicodeEncodeError):
                continue
            return kid
        return None


def key_id(key: str) -> str:
    """A short public name for an operator key (a hash: it reveals nothing of the key)."""
    return hashlib.sha256(b"craftbot operator key id\0" + key.encode("ascii")).hexdigest()[:12]


class PersonKey:
    """One person's data key: AES-256-GCM, named by a random id that sealed values carry."""

    def __init__(self, kid: str, secret: bytes) -> None:
        self.kid = kid
        self._aead = AESGCM(secret)
        self._aad = kid.encode("ascii")  # a value sealed under one key id opens under no other

    @classmethod
    def new(cls) -> tuple[PersonKey, bytes]:
        """A fresh random key and its secret (to wrap and store)."""
        secret = AESGCM.generate_key(bit_length=256)
        return cls(os.urandom(8).hex(), secret), secret

    def seal(self, text: str) -> str:
        """`p1:<key id>:<nonce + ciphertext + tag, base64url>`."""
        nonce = os.urandom(NONCE_BYTES)
        body = nonce + self._aead.encrypt(nonce, text.encode("utf-8"), self._aad)
        return f"{PERSON_PREFIX}{self.kid}:{base64.urlsafe_b64encode(body).rstrip(b'=').decode('ascii')}"

    def open(self, token: str) -> str:
        """The text a person token holds; DataKeyError when it is damaged or not this key's."""
        if person_key_id(token) != self.kid:
            raise DataKeyError("a sealed value is damaged or was sealed with another person's key")
        body = token[len(PERSON_PREFIX) + KID_CHARS + 1:]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._aad).decode("utf-8")
        except (InvalidTag, ValueError):  # the tag is checked over all of it: nothing else need be
            raise DataKeyError("a sealed value is damaged: its tag does not match") from None


def person_key_id(token: str) -> str | None:
    """The key id a person token names (None for anything else). Slices, not a regular
    expression: this runs on every value opened, and a progress blob is kilobytes long."""
    end = len(PERSON_PREFIX) + KID_CHARS
    if not token.startswith(PERSON_PREFIX) or len(token) <= end + 1 or token[end] != ":":
        return None
    kid = token[len(PERSON_PREFIX):end]
    return kid if HEX.issuperset(kid) else None


def wrap(operator: DataCipher, secret: bytes) -> str:
    """A data key sealed with the operator's current key, as stored in the key store."""
    return operator.encrypt(base64.urlsafe_b64encode(secret).decode("ascii"))


def unwrap(operator: DataCipher, wrapped: str) -> bytes:
    """A data key opened with any of the operator's keys; DataKeyError when none opens it."""
    return base64.urlsafe_b64decode(operator.decrypt(wrapped))


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
