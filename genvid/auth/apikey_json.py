"""API keys as JSON, byte for byte as better-auth's api-key plugin writes them.

Three JavaScript behaviours matter on the wire and are reproduced here:
- the key object's fields come in the order of the plugin's schema, `id` last, dates as `Date.toJSON()`;
- "metadata" and "permissions" are stored as `JSON.stringify` text (an integral number has no ".0");
- on the way out "metadata" goes through better-auth's `parseJSON`, which turns any string that looks like an
  ISO date into a Date (so it comes back as `YYYY-MM-DDTHH:MM:SS.mmmZ`), and "permissions" through
  `safeJSONParse`, which does the same for strict UTC timestamps.
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from db import models
from genvid.auth.serialize import js_date

# better-auth/client parseJSON's ISO_DATE_REGEX and @better-auth/core safeJSONParse's iso8601Regex.
_PARSE_JSON_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(?:Z|([+-])(\d{2}):(\d{2}))$")
_SAFE_PARSE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness of a JSON value ([] and {} are true)."""
    if isinstance(value, (list, dict)):
        return True
    return bool(value)


def js_value(value: Any) -> Any:
    """value as JavaScript holds parsed JSON: integral floats are plain numbers (1.0 is 1)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [js_value(item) for item in value]
    if isinstance(value, dict):
        return {key: js_value(item) for key, item in value.items()}
    return value


def js_stringify(value: Any) -> str:
    """JSON.stringify(value) for plain JSON values."""
    return json.dumps(js_value(value), ensure_ascii=False, separators=(",", ":"))


def _js_date_utc(year: int, month: int, day: int, hour: int, minute: int, second: int, ms: int) -> datetime:
    """JavaScript's Date.UTC: fields overflow into the next unit, and years 0-99 mean 1900-1999."""
    if 0 <= year <= 99:
        year += 1900
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC) + timedelta(days=day - 1, hours=hour, minutes=minute,
                                                            seconds=second, milliseconds=ms)


def _revive_parse_json(text: str) -> str | None:
    """parseISODate from better-auth/client's parser, as the Date's JSON; None when it is no date."""
    match = _PARSE_JSON_DATE.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, ms, sign, off_hour, off_minute = match.groups()
    try:
        # padEnd, not a cut: ".1234567" is 1234567 ms
        moment = _js_date_utc(int(year), int(month), int(day), int(hour), int(minute), int(second),
                              int(ms.ljust(3, "0")) if ms else 0)
        if sign:
            offset = (int(off_hour) * 60 + int(off_minute)) * (-1 if sign == "+" else 1)
            moment += timedelta(minutes=offset)
        return js_date(moment)
    except (OverflowError, ValueError):
        return None


def _revive_safe_parse(text: str) -> str | None:
    """reviveDate from @better-auth/core's JSON helpers: `new Date(text)` of a strict UTC timestamp."""
    if not _SAFE_PARSE_DATE.match(text):
        return None
    try:
        moment = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    fraction = text[20:-1] if text[19] == "." else ""
    return js_date(moment + timedelta(milliseconds=int(fraction[:3].ljust(3, "0")) if fraction else 0))


def _revive(value: Any, revive: Any) -> Any:
    if isinstance(value, str):
        revived = revive(value)
        return value if revived is None else revived
    if isinstance(value, list):
        return [_revive(item, revive) for item in value]
    if isinstance(value, dict):
        return {key: _revive(item, revive) for key, item in value.items() if key != "__proto__"}
    return value


def metadata_out(stored: str | None) -> Any:
    """The "metadata" column as the plugin returns it (None for no metadata)."""
    if not stored:
        return None
    try:
        value = _revive(json.loads(stored), _revive_parse_json)
    except ValueError:
        return None
    if isinstance(value, str):   # legacy double-stringified metadata, parsed once more
        try:
            return _revive(json.loads(value), _revive_safe_parse)
        except ValueError:
            return None
    return value


def permissions_out(stored: str | None) -> Any:
    """The "permissions" column as the plugin returns it (None for no permissions)."""
    if not stored:
        return None
    try:
        return _revive(json.loads(stored), _revive_safe_parse)
    except ValueError:
        return None


def _date(moment: datetime | None) -> str | None:
    return None if moment is None else js_date(moment)


def api_key_json(row: models.Apikey, *, key: str | None = None, metadata: Any = ...) -> dict[str, Any]:
    """The key object in the plugin's field order; key (the plain key) only in create's answer, metadata
    when the answer echoes the request's metadata rather than the stored one (create does)."""
    body: dict[str, Any] = {
        "configId": row.config_id, "name": row.name, "start": row.start, "referenceId": row.reference_id,
        "prefix": row.prefix,
    }
    if key is not None:
        body["key"] = key
    body.update({
        "refillInterval": row.refill_interval, "refillAmount": row.refill_amount,
        "lastRefillAt": _date(row.last_refill_at), "enabled": row.enabled,
        "rateLimitEnabled": row.rate_limit_enabled, "rateLimitTimeWindow": row.rate_limit_time_window,
        "rateLimitMax": row.rate_limit_max, "requestCount": row.request_count, "remaining": row.remaining,
        "lastRequest": _date(row.last_request), "expiresAt": _date(row.expires_at),
        "createdAt": js_date(row.created_at), "updatedAt": js_date(row.updated_at),
        "permissions": permissions_out(row.permissions),
        "metadata": metadata_out(row.metadata) if metadata is ... else metadata,
        "id": row.id,
    })
    return body
