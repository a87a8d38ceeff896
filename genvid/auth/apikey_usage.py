"""Verifying an API key and charging one use to it, as the api-key plugin's verifyApiKey does.

Checks, in the plugin's order: the key exists (401 INVALID_API_KEY), is enabled (401 KEY_DISABLED), has not
expired (401 KEY_EXPIRED, and the key is deleted), holds the permissions asked for (401 KEY_NOT_FOUND), has
uses left (429 USAGE_EXCEEDED; a key at 0 with no refill is deleted). Then one use is charged:

- quota: with "refillAmount" and "refillInterval" (ms), once more than refillInterval has passed since
  "lastRefillAt" (or "createdAt"), remaining becomes refillAmount - 1; otherwise remaining - 1, refused at 0;
- rate limit: "requestCount" counts requests that each came within "rateLimitTimeWindow" ms of the previous
  one ("lastRequest"); at "rateLimitMax" the next is refused (429 RATE_LIMITED, details.tryAgainIn in ms)
  until a window has passed since the last counted request, which starts a new count. A refused request
  has still used its quota, as with the plugin.

Both are written with one compare-and-set UPDATE on the four usage columns; losing a race (to genvid or to a
better-auth server on the same row) re-reads and decides again, so neither limit is ever overrun.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

import db.auth_apikeys as queries
from db import models
from genvid.auth.apikey_json import api_key_json, permissions_out
from genvid.auth.apikey_permissions import authorize
from genvid.auth.apikey_rules import ApiKeyOptions, ApiKeyRefused
from genvid.auth.apikeys import hash_key

MAX_RACES = 50
_MS = timedelta(milliseconds=1)


def verify_api_key(conn: psycopg.Connection, *, key: str, permissions: Mapping[str, Sequence[str]] | None,
                   options: ApiKeyOptions, now: datetime) -> dict[str, Any]:
    """The plugin's `auth.api.verifyApiKey` answer: {"valid", "error", "key"} (a server-side call: better-auth
    has no HTTP route for it, and neither has genvid)."""
    try:
        row = use_api_key(conn, key=key, permissions=permissions, options=options, now=now)
    except ApiKeyRefused as refused:
        return {"valid": False, "error": refused.body(), "key": None}
    return {"valid": True, "error": None, "key": api_key_json(row)}


def use_api_key(conn: psycopg.Connection, *, key: str, permissions: Mapping[str, Sequence[str]] | None,
                options: ApiKeyOptions, now: datetime) -> models.Apikey:
    """Check the key and charge one use; the updated row, or ApiKeyRefused."""
    row = queries.get_api_key_by_hash(conn, key_hash=hash_key(key))
    if row is None:
        raise ApiKeyRefused(401, "INVALID_API_KEY")
    if row.enabled is False:
        raise ApiKeyRefused(401, "KEY_DISABLED")
    if row.expires_at is not None and now > row.expires_at:
        queries.delete_api_key(conn, id=row.id)
        raise ApiKeyRefused(401, "KEY_EXPIRED")
    if permissions is not None:
        granted = permissions_out(row.permissions)
        if granted is None or not authorize(granted, permissions):
            raise ApiKeyRefused(401, "KEY_NOT_FOUND")
    if row.remaining == 0 and row.refill_amount is None:
        queries.delete_api_key(conn, id=row.id)
        raise ApiKeyRefused(429, "USAGE_EXCEEDED")
    for _ in range(MAX_RACES):
        claimed = _claim(conn, row, options, now)
        if claimed is not None:
            return claimed
        fresh = queries.get_api_key(conn, id=row.id)
        if fresh is None:
            raise ApiKeyRefused(401, "INVALID_API_KEY")
        row = fresh
    raise ApiKeyRefused(429, "RATE_LIMITED", message=_RATE_LIMITED, details={"tryAgainIn": 100})


_RATE_LIMITED = "Rate limit exceeded."


@dataclass(frozen=True)
class _Usage:
    remaining: int | None
    last_refill_at: datetime | None
    request_count: int | None
    last_request: datetime | None


def _claim(conn: psycopg.Connection, row: models.Apikey, options: ApiKeyOptions,
           now: datetime) -> models.Apikey | None:
    """One attempt at charging a use to row as read; None when the row changed meanwhile."""
    seen = _Usage(row.remaining, row.last_refill_at, row.request_count, row.last_request)
    remaining, last_refill_at = _charge_quota(row, now)
    decision = _rate_limit(row, options, now)
    if decision.refused_for_ms is not None:
        quota_used = (remaining, last_refill_at) != (row.remaining, row.last_refill_at)
        if quota_used and _write(conn, row.id, seen, _Usage(remaining, last_refill_at, seen.request_count,
                                                            seen.last_request), updated_at=None) is None:
            return None
        raise ApiKeyRefused(429, "RATE_LIMITED", message=_RATE_LIMITED,
                            details={"tryAgainIn": decision.refused_for_ms})
    return _write(conn, row.id, seen, _Usage(remaining, last_refill_at, decision.request_count,
                                             decision.last_request), updated_at=now)


def _charge_quota(row: models.Apikey, now: datetime) -> tuple[int | None, datetime | None]:
    """(remaining, lastRefillAt) after this use; USAGE_EXCEEDED when nothing is left."""
    if row.remaining is None:
        return None, row.last_refill_at
    if row.refill_interval and row.refill_amount:
        since = (now - (row.last_refill_at or row.created_at)) // _MS
        if since > row.refill_interval:
            return row.refill_amount - 1, now
    if row.remaining <= 0:
        raise ApiKeyRefused(429, "USAGE_EXCEEDED")
    return row.remaining - 1, row.last_refill_at


@dataclass(frozen=True)
class _Decision:
    request_count: int | None
    last_request: datetime | None
    refused_for_ms: int | None = None


def _rate_limit(row: models.Apikey, options: ApiKeyOptions, now: datetime) -> _Decision:
    """The plugin's evaluateRateLimit, as the counter values it leaves (or how long a refusal lasts)."""
    count = row.request_count
    if not options.rate_limit_enabled or row.rate_limit_enabled is False:
        return _Decision(count, now)                          # not limited, but the request is noted
    window, limit = row.rate_limit_time_window, row.rate_limit_max
    if window is None or limit is None:
        return _Decision(count, row.last_request)
    if row.last_request is None:
        return _Decision(1, now)                              # the first request
    since = (now - row.last_request) // _MS
    if since > window:
        return _Decision(1, now)                              # a window passed: a new count
    if (count or 0) >= limit:
        return _Decision(count, row.last_request, refused_for_ms=math.ceil(window - since))
    return _Decision((count or 0) + 1, now)


def _write(conn: psycopg.Connection, key_id: str, seen: _Usage, new: _Usage, *,
           updated_at: datetime | None) -> models.Apikey | None:
    return queries.claim_api_key_usage(
        conn, id=key_id, remaining=new.remaining, last_refill_at=new.last_refill_at,
        request_count=new.request_count, last_request=new.last_request, updated_at=updated_at,
        seen_remaining=seen.remaining, seen_last_refill_at=seen.last_refill_at,
        seen_request_count=seen.request_count, seen_last_request=seen.last_request)
