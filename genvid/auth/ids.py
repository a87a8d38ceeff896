"""Identifiers and tokens as better-auth makes them: 32 characters from [A-Za-z0-9], from `secrets`."""
from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_letters + string.digits


def generate_id(length: int = 32) -> str:
    """A uniformly random id or token (users, sessions, accounts, verifications, jwks, videos; session
    tokens).

    One randbelow() over the whole id space rather than a secrets.choice() per character: 32 getrandom()
    calls, each releasing the GIL, cost more than the SQL of a request under gunicorn's threads.
    """
    number = secrets.randbelow(len(ALPHABET) ** length)
    characters = []
    for _ in range(length):
        number, digit = divmod(number, len(ALPHABET))
        characters.append(ALPHABET[digit])
    return "".join(characters)
