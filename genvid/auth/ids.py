"""Identifiers and tokens as better-auth makes them: 32 characters from [A-Za-z0-9], from `secrets`."""
from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_letters + string.digits


def generate_id(length: int = 32) -> str:
    """A random id or token (user, session, account, verification, jwks ids and session tokens)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))
