"""API keys as better-auth's api-key plugin makes and keeps them, in its own `apikey` table: made, found,
listed, changed and deleted.

The reference is the built code of npm @better-auth/api-key 1.7.5 (dist/index.mjs), the release that goes with
better-auth 1.7.25: better-auth 1.7.25 itself ships no api-key plugin (it moved out of `better-auth/plugins`).
genvid and a better-auth server running that plugin on the same database see the same keys.

- A key is its prefix and 64 random letters (a-z, A-Z), shown once. Stored: its SHA-256 as base64url without
  padding ("key"), its first 6 characters ("start"), its prefix.
- "permissions" maps resources to actions ({"videos": ["read"]}); "metadata" is the owner's JSON. Both are
  JSON text. Over HTTP a user sets name, prefix, expiry and metadata only; permissions, quota ("remaining",
  "refillAmount"/"refillInterval") and rate limit are the server's (genvid: `genvid apikeys create`), and
  keys made over HTTP get the configured default permissions.
The plugin's options, its refusals and its checks of what a key is given (expiry between 1 and 365 days, name
and prefix lengths, metadata) are apikey_rules'; verification, quota and rate limit live in apikey_usage; the
HTTP endpoints and their checks in apikey_routes. Every function here takes the caller's connection and the
time; none reads the request.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

import db.auth_apikeys as queries
from db import models
from genvid.auth.apikey_json import js_stringify, js_truthy
from genvid.auth.apikey_rules import (
    ApiKeyOptions,
    ApiKeyRefused,
    check_expires_in,
    check_metadata,
    check_name,
    check_prefix,
)
from genvid.auth.ids import generate_id
from genvid.config import Config

KEY_ALPHABET = string.ascii_lowercase + string.ascii_uppercase
DEFAULT_CONFIG_ID = "default"
EXPIRED_CLEANUP_EVERY = timedelta(seconds=10)

@functools.lru_cache(maxsize=8)
def options_from(config: Config) -> ApiKeyOptions:
    """genvid's settings: metadata on, its prefix and per-key rate limit, every genvid permission by default
    (computed once per Config, which is frozen)."""
    from genvid.auth.apikey_permissions import DEFAULT_PERMISSIONS
    return ApiKeyOptions(default_prefix=config.api_key_prefix or None, enable_metadata=True,
                         rate_limit_enabled=config.api_key_rate_limit_enabled,
                         rate_limit_time_window=config.api_key_rate_limit_window_ms,
                         rate_limit_max=config.api_key_rate_limit_max,
                         default_permissions=DEFAULT_PERMISSIONS)


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256, base64url without padding (the plugin's defaultKeyHasher)."""
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()).decode().rstrip("=")


def generate_key(prefix: str | None, length: int = 64) -> str:
    """prefix + length random letters, as the plugin's default key generator makes them."""
    return (prefix or "") + "".join(secrets.choice(KEY_ALPHABET) for _ in range(length))


def expiry(now: datetime, expires_in: float) -> datetime:
    """now + expires_in seconds, cut to whole milliseconds as a JS Date is."""
    moment = now + timedelta(seconds=expires_in)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class NewKey:
    """What create asks for; the server-only fields are None unless the server (not a user) sets them."""

    name: str | None = None
    prefix: str | None = None
    expires_in: float | None = None
    metadata: Any = None
    permissions: Mapping[str, Sequence[str]] | None = None
    remaining: int | None = None
    refill_amount: int | None = None
    refill_interval: int | None = None
    rate_limit_enabled: bool | None = None
    rate_limit_time_window: int | None = None
    rate_limit_max: int | None = None


def create_api_key(conn: psycopg.Connection, *, user_id: str, request: NewKey, options: ApiKeyOptions,
                   now: datetime) -> tuple[models.Apikey, str]:
    """Make a key for user_id after the plugin's checks (in its order); returns the row and the plain key."""
    check_metadata(request.metadata, options)
    if request.refill_amount and not request.refill_interval:
        raise ApiKeyRefused(400, "REFILL_AMOUNT_AND_INTERVAL_REQUIRED")
    if request.refill_interval and not request.refill_amount:
        raise ApiKeyRefused(400, "REFILL_INTERVAL_AND_AMOUNT_REQUIRED")
    if request.expires_in:
        check_expires_in(request.expires_in, options)
    if request.prefix:
        check_prefix(request.prefix, options)
    if request.name:
        check_name(request.name, options)
    delete_expired_keys(conn, now=now)
    prefix = request.prefix or options.default_prefix
    key = generate_key(prefix, options.key_length)
    permissions = request.permissions if request.permissions is not None else options.default_permissions
    row = queries.create_api_key(
        conn, id=generate_id(), name=request.name, start=key[:options.start_length], reference_id=user_id,
        prefix=request.prefix if request.prefix is not None else options.default_prefix,
        key_hash=hash_key(key), refill_interval=request.refill_interval, refill_amount=request.refill_amount,
        rate_limit_enabled=options.rate_limit_enabled if request.rate_limit_enabled is None
        else request.rate_limit_enabled,
        rate_limit_time_window=_first(request.rate_limit_time_window, options.rate_limit_time_window),
        rate_limit_max=_first(request.rate_limit_max, options.rate_limit_max),
        remaining=request.remaining,
        expires_at=expiry(now, request.expires_in) if request.expires_in else None,
        now=now, permissions=None if permissions is None
        else js_stringify({k: list(v) for k, v in permissions.items()}),
        metadata=js_stringify(request.metadata) if js_truthy(request.metadata) else None)
    assert row is not None
    return row, key


def get_own_key(conn: psycopg.Connection, *, user_id: str, key_id: str) -> models.Apikey:
    """The user's key with that id; 404 KEY_NOT_FOUND for a missing key or another user's."""
    row = queries.get_api_key(conn, id=key_id)
    if row is None or row.reference_id != user_id or not config_matches(row.config_id, DEFAULT_CONFIG_ID):
        raise ApiKeyRefused(404, "KEY_NOT_FOUND")
    return row


def config_matches(key_config_id: str | None, expected: str | None) -> bool:
    """The plugin's configIdMatches: no config id, "" and "default" all name the default configuration."""
    def is_default(config_id: str | None) -> bool:
        return not config_id or config_id == DEFAULT_CONFIG_ID
    return (is_default(key_config_id) and is_default(expected)) or key_config_id == expected


# The fields list may sort by: the columns of the plugin's schema (better-auth answers 500 for others).
SORTABLE = frozenset({
    "id", "configId", "name", "start", "referenceId", "prefix", "key", "permissions", "metadata",
    "lastRefillAt",
    "lastRequest", "expiresAt", "createdAt", "updatedAt", "refillInterval", "refillAmount",
    "rateLimitTimeWindow", "rateLimitMax", "requestCount", "remaining", "enabled", "rateLimitEnabled"})


def list_own_keys(conn: psycopg.Connection, *, user_id: str, config_id: str | None, sort_by: str | None,
                  descending: bool, limit: int | None, offset: int | None) -> tuple[list[models.Apikey], int]:
    """One page of the user's keys and how many there are in all."""
    rows = queries.list_api_keys(conn, reference_id=user_id, descending=descending, sort_by=sort_by or "")
    if config_id:
        rows = [row for row in rows if config_matches(row.config_id, config_id)]
    page = rows[offset:] if offset is not None else rows
    return (page[:limit] if limit is not None else page), len(rows)


@dataclass(frozen=True)
class KeyChanges:
    """update's changes; a field left as ... is not changed (None is a value: no expiry, no metadata...)."""

    name: Any = ...
    enabled: Any = ...
    expires_in: Any = ...
    metadata: Any = ...
    remaining: Any = ...
    refill_amount: Any = ...
    refill_interval: Any = ...
    rate_limit_enabled: Any = ...
    rate_limit_time_window: Any = ...
    rate_limit_max: Any = ...
    permissions: Any = ...


def update_own_key(conn: psycopg.Connection, *, user_id: str, key_id: str, changes: KeyChanges,
                   options: ApiKeyOptions, now: datetime) -> models.Apikey:
    """Apply changes to the user's key after the plugin's checks, in its order."""
    get_own_key(conn, user_id=user_id, key_id=key_id)
    if changes.name is not ...:
        check_name(changes.name, options)
    if changes.expires_in is not ... and changes.expires_in is not None:
        check_expires_in(changes.expires_in, options)
    set_metadata = changes.metadata is not ... and options.enable_metadata   # ignored when disabled
    if set_metadata and not isinstance(changes.metadata, (dict, list)) and changes.metadata is not None:
        raise ApiKeyRefused(400, "INVALID_METADATA_TYPE")
    set_refill = changes.refill_amount is not ... or changes.refill_interval is not ...
    if set_refill and changes.refill_interval is ...:
        raise ApiKeyRefused(400, "REFILL_AMOUNT_AND_INTERVAL_REQUIRED")
    if set_refill and changes.refill_amount is ...:
        raise ApiKeyRefused(400, "REFILL_INTERVAL_AND_AMOUNT_REQUIRED")
    given = {name for name in KeyChanges.__dataclass_fields__ if getattr(changes, name) is not ...}
    if not set_metadata:
        given.discard("metadata")
    if not given:
        raise ApiKeyRefused(400, "NO_VALUES_TO_UPDATE")
    row = queries.update_api_key(
        conn, id=key_id,
        set_name="name" in given, name=_value(changes.name),
        set_enabled="enabled" in given, enabled=_value(changes.enabled),
        set_expires_at="expires_in" in given,
        expires_at=expiry(now, changes.expires_in) if js_truthy(_value(changes.expires_in)) else None,
        set_metadata=set_metadata, metadata=js_stringify(changes.metadata) if set_metadata else None,
        set_remaining="remaining" in given, remaining=_value(changes.remaining),
        set_refill=set_refill, refill_amount=_value(changes.refill_amount),
        refill_interval=_value(changes.refill_interval),
        set_rate_limit_enabled="rate_limit_enabled" in given,
        rate_limit_enabled=_value(changes.rate_limit_enabled),
        set_rate_limit_time_window="rate_limit_time_window" in given,
        rate_limit_time_window=_value(changes.rate_limit_time_window),
        set_rate_limit_max="rate_limit_max" in given, rate_limit_max=_value(changes.rate_limit_max),
        set_permissions="permissions" in given,
        permissions=js_stringify(changes.permissions) if "permissions" in given else None)
    if row is None:                       # deleted meanwhile
        raise ApiKeyRefused(404, "KEY_NOT_FOUND")
    delete_expired_keys(conn, now=now)
    return row


def delete_own_key(conn: psycopg.Connection, *, user_id: str, key_id: str, now: datetime) -> None:
    """Delete the user's key (404 KEY_NOT_FOUND for a missing key or another user's)."""
    get_own_key(conn, user_id=user_id, key_id=key_id)
    queries.delete_api_key(conn, id=key_id)
    delete_expired_keys(conn, now=now)


_last_cleanup: datetime | None = None


def delete_expired_keys(conn: psycopg.Connection, *, now: datetime, force: bool = False) -> int:
    """Delete every expired key, at most once per 10 s per process (the plugin's deleteAllExpiredApiKeys,
    which its create, get, list, update and delete endpoints call)."""
    global _last_cleanup
    if not force and _last_cleanup is not None and now - _last_cleanup < EXPIRED_CLEANUP_EVERY:
        return 0
    _last_cleanup = now
    return queries.delete_expired_api_keys(conn, now=now)


def _first(given: int | None, default: int | None) -> int | None:
    return given if given is not None else default


def _value(value: Any) -> Any:
    return None if value is ... else value
