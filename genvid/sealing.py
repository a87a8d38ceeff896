"""Secrets at rest under ENCRYPTION_KEY: `gv1:` + base64(nonce || AES-256-GCM(secret)).

The associated data names what the secret is for, so a value sealed for one purpose cannot be swapped in
for another. (JWT private keys use this too, unless JWT_KEY_ENCRYPTION=better_auth: genvid/auth/keyseal.py.)
"""
from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_PREFIX = "gv1:"


class UnsealError(ValueError):
    """Not a sealed value, sealed under another ENCRYPTION_KEY or purpose, or tampered with."""


def seal(secret: str, *, encryption_key: str, purpose: str) -> str:
    """The at-rest form of secret."""
    nonce = os.urandom(12)
    sealed = AESGCM(base64.b64decode(encryption_key)).encrypt(nonce, secret.encode(), purpose.encode())
    return FORMAT_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def unseal(stored: str, *, encryption_key: str, purpose: str) -> str:
    """The secret back from its at-rest form; UnsealError when it cannot be opened."""
    if not stored.startswith(FORMAT_PREFIX):
        raise UnsealError("not a genvid sealed secret")
    try:
        blob = base64.b64decode(stored[len(FORMAT_PREFIX):])
        return AESGCM(base64.b64decode(encryption_key)).decrypt(blob[:12], blob[12:],
                                                                purpose.encode()).decode()
    except (ValueError, InvalidTag) as exc:
        raise UnsealError("the sealed secret does not open with this ENCRYPTION_KEY") from exc
