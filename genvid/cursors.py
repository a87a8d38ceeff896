"""Opaque keyset cursors for list endpoints: unpadded URL-safe base64 of a JSON list of strings."""
from __future__ import annotations

import base64
import binascii
import json

from genvid.errors import ValidationFailed


def encode_cursor(*parts: str) -> str:
    """The cursor for parts (e.g. the sort key and id of a page's last row)."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, parts: int) -> list[str]:
    """The parts of a cursor encode_cursor made; 422 (field "cursor") for anything else."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raw = None
    if not (isinstance(raw, list) and len(raw) == parts and all(isinstance(part, str) for part in raw)):
        raise invalid_cursor()
    return raw


def invalid_cursor() -> ValidationFailed:
    """The 422 for a cursor genvid did not make."""
    return ValidationFailed(details=[{"field": "cursor", "message": "Not a cursor from a previous page."}])
