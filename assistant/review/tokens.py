"""Thread tokens: the buyer's link holds the token, the database only its sha256.

A thread is found by the digest of the token the buyer presents (`digest`), so a copy of the
database or of a backup opens no thread. One case needs the token back: a buyer's page that
sends the same question again (a retry after a lost response) gets the thread it already has.
The question then keeps the digest of its submission key, and the token `seal`ed under a pad
derived from the key itself (HMAC-SHA256 of the key): only the one who holds the key (the
buyer's page) can `unseal` it.

Example:
    >>> token = new_token()
    >>> sealed = seal(token, "key of the submission")
    >>> unseal(sealed, "key of the submission") == token and token not in sealed
    True
    >>> len(digest(token))
    64
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_PAD_LABEL = b"guichet-vert thread token"


def new_token() -> str:
    """An unguessable thread token (192 random bits, 32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def digest(secret: str) -> str:
    """The sha256 (hex) under which a token or a submission key is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _pad(key: str, size: int) -> bytes:
    blocks = (hmac.new(key.encode("utf-8"), _PAD_LABEL + bytes([i]), hashlib.sha256).digest()
              for i in range((size + 31) // 32))
    return b"".join(blocks)[:size]


def seal(token: str, key: str) -> str:
    """The token encrypted under `key` (hex); each key seals one token, once."""
    data = token.encode("utf-8")
    return bytes(a ^ b for a, b in zip(data, _pad(key, len(data)))).hex()


def unseal(sealed: str, key: str) -> str:
    """The token `seal` encrypted under `key`."""
    data = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(data, _pad(key, len(data)))).decode("utf-8")
