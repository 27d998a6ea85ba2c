"""Reporter contacts at rest: Fernet (AES-128-CBC + HMAC-SHA256, `cryptography`) under keys from
the settings, and a keyed hash for recognising the same reporter without the number.

Stored form: `kc1:` + a Fernet token. `KINGA_REPORTER_CONTACT_KEYS` lists keys newest first: the
first encrypts, every one decrypts (MultiFernet), so a key is rotated by putting a new one in
front, re-encrypting (`kinga reporters reencrypt`) and then dropping the old one
(docs/reporters.md). A value without the prefix is clear text written before encryption existed
(migration 0011k encrypts those)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "kc1:"


class UndecryptableContact(Exception):
    """No configured key opens this value (a key was dropped before re-encryption)."""


def new_key() -> str:
    return Fernet.generate_key().decode()


def _dev_key(pepper: str) -> bytes:
    """Development and tests only (production refuses to start without keys): a key derived from
    the token pepper, so a fresh checkout works."""
    digest = hmac.new(pepper.encode(), b"kinga-reporter-contact-key", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)


class ContactCipher:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one reporter contact key is needed")
        self._fernet = MultiFernet([Fernet(k) for k in keys])
        self._primary = Fernet(keys[0])

    def encrypt(self, contact: str) -> str:
        return PREFIX + self._primary.encrypt(contact.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not is_encrypted(stored):
            return stored  # clear text from before encryption (the migration encrypts those)
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise UndecryptableContact("no configured key decrypts this contact") from None

    def reencrypt(self, stored: str) -> str:
        """The value under the newest key (clear text is encrypted)."""
        if not is_encrypted(stored):
            return self.encrypt(stored)
        try:
            return PREFIX + self._fernet.rotate(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise UndecryptableContact("no configured key decrypts this contact") from None


def is_encrypted(stored: str | None) -> bool:
    return stored is not None and stored.startswith(PREFIX)


def _keys(raw: str | None, pepper: str) -> list[bytes]:
    if not raw:
        return [_dev_key(pepper)]
    return [k.strip().encode() for k in raw.split(",") if k.strip()]


@lru_cache(maxsize=8)
def _cipher(raw: str | None, pepper: str) -> ContactCipher:
    return ContactCipher(_keys(raw, pepper))


def cipher(settings: object) -> ContactCipher:
    """The cipher of these settings (cached per key set)."""
    raw = getattr(settings, "reporter_contact_keys", None)
    pepper = settings.token_pepper.get_secret_value()  # type: ignore[attr-defined]
    return _cipher(raw.get_secret_value() if raw is not None else None, pepper)


def contact_key(settings: object, contact: str, *, sms: bool) -> str:
    """Keyed hash of a reporter's contact (HMAC-SHA256): the same number gives the same key, and
    the key gives nothing back without the secret. SMS numbers are compared by their digits."""
    raw = getattr(settings, "reporter_hash_key", None)
    secret = (raw.get_secret_value() if raw is not None
              else settings.token_pepper.get_secret_value())  # type: ignore[attr-defined]
    if sms:
        normal = b"sms-sender:" + (re.sub(r"[^\d+]", "", contact) or contact).encode()
    else:
        normal = b"contact:" + contact.strip().casefold().encode()
    return hmac.new(secret.encode(), normal, hashlib.sha256).hexdigest()
