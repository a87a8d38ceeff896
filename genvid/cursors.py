"""Opaque keyset cursors, the one codec of every list endpoint (videos, avatars, voices, the credit ledger).

A cursor is the unpadded URL-safe base64 of a JSON list of strings: the sort key and id of a page's last row.
Anything else is a 422 on the field `cursor`, never a 500.

One older form is still read: the credit ledger's cursors from before it used this codec, the base64 of
`l1:<entry id>`. They read as the single part [entry id], so a client paging the ledger across the upgrade
carries on where it was.
"""
from __future__ import annotations

import base64
import binascii
import json
import re

from genvid.errors import ValidationFailed

_LEDGER_V1 = re.compile(r"l1:([1-9][0-9]*)")


def encode_cursor(*parts: str) -> str:
    """The cursor for parts (e.g. the sort key and id of a page's last row)."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, parts: int) -> list[str]:
    """The parts of a cursor encode_cursor made (or an old ledger cursor); 422 (field "cursor") for anything
    else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error):          # UnicodeDecodeError is a ValueError
        raise invalid_cursor() from None
    raw = _parts(text)
    if not (isinstance(raw, list) and len(raw) == parts and all(isinstance(part, str) for part in raw)):
        raise invalid_cursor()
    return raw


def decode_id_cursor(cursor: str, *, maximum: int) -> int:
    """The positive integer id (at most maximum) a one-part cursor holds; 422 for anything else."""
    (value,) = decode_cursor(cursor, parts=1)
    digits = value.isascii() and value.isdigit() and len(value) <= len(str(maximum))
    if not digits or not 0 < int(value) <= maximum:
        raise invalid_cursor()
    return int(value)


def _parts(text: str) -> object:
    legacy = _LEDGER_V1.fullmatch(text)
    if legacy:
        return [legacy.group(1)]
    try:
        return json.loads(text)
    except ValueError:
        return None


def invalid_cursor() -> ValidationFailed:
    """The 422 for a cursor genvid did not make."""
    return ValidationFailed(details=[{"field": "cursor", "message": "Not a cursor from a previous page."}])
