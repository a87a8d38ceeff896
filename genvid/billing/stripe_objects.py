"""Small readers for Stripe event JSON: expandable fields, unix times."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from genvid import clock


def object_id(value: Any) -> str | None:
    """The id of an expandable field: Stripe sends either the id string or the expanded object."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def string_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def from_unix(value: Any) -> datetime | None:
    """A Stripe timestamp (seconds since the epoch) as an aware datetime."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


def event_time(event: dict[str, Any]) -> datetime:
    """When Stripe created the event: orders updates of the same object."""
    return from_unix(event.get("created")) or clock.now()
