"""API keys as better-auth's api-key plugin makes and keeps them, in its own `apikey` table.

The reference is the built code of npm @better-auth/api-key 1.7.5 (dist/index.mjs), the release that goes with
better-auth 1.7.25: better-auth 1.7.25 itself ships no api-key plugin (it moved out of `better-auth/plugins`).
genvid and a better-auth server running that plugin on the same database see the same keys.

- A key is its prefix and 64 random letters (a-z, A-Z), shown once. Stored: its SHA-256 as base64url without
  padding ("key"), its first 6 characters ("start"), its prefix.
- "permissions" maps resources to actions ({"videos": ["read"]}); "metadata" is the owner's JSON. Both are
  JSON text. Over HTTP a user sets name, prefix, expiry and metadata only; permissions, quota ("remaining",
  "refillAmount"/"refillInterval") and rate limit are the server's (genvid: `genvid apikeys create`), and
  keys made over HTTP get the configured default permissions.
- Expiry is given in seconds ("expiresIn") and must lie between 1 and 365 days.
Verification, quota and rate limit live in apikey_usage; the HTTP endpoints and their checks in apikey_routes.
Every function here takes the caller's connection and the time; none reads the request.
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
from genvid.auth.apikey_json import js_stringify
from genvid.auth.ids import generate_id
from genvid.auth.limits import utf16_length
from genvid.config import Config
from genvid.errors import BetterAuthError

KEY_ALPHABET = string.ascii_lowercase + string.ascii_uppercase
DEFAULT_CONFIG_ID = "default"
EXPIRED_CLEANUP_EVERY = timedelta(seconds=10)

# The plugin's error codes and messages (API_KEY_ERROR_CODES), the ones genvid can meet.
MESSAGES = {
    "INVALID_METADATA_TYPE": "metadata must be an object or undefined",
    "REFILL_AMOUNT_AND_INTERVAL_REQUIRED": "refillAmount is required when refillInterval is provided",
    "REFILL_INTERVAL_AND_AMOUNT_REQUIRED": "refillInterval is required when refillAmount is provided",
    "UNAUTHORIZED_SESSION": "Unauthorized or invalid session",
    "KEY_NOT_FOUND": "API Key not found",
    "KEY_DISABLED": "API Key is disabled",
    "KEY_EXPIRED": "API Key has expired",
    "USAGE_EXCEEDED": "API Key has reached its usage limit",
    "EXPIRES_IN_IS_TOO_SMALL": "The expiresIn is smaller than the predefined minimum value.",
    "EXPIRES_IN_IS_TOO_LARGE": "The expiresIn is larger than the predefined maximum value.",
    "INVALID_PREFIX_LENGTH": "The prefix length is either too large or too small.",
    "INVALID_NAME_LENGTH": "The name length is either too large or too small.",
    "METADATA_DISABLED": "Metadata is disabled.",
    "RATE_LIMIT_EXCEEDED": "Rate limit exceeded.",
    "NO_VALUES_TO_UPDATE": "No values to update.",
    "INVALID_API_KEY": "Invalid API key.",
    "SERVER_ONLY_PROPERTY": "The property you're trying to set can only be set from the server auth instance "
                            "only.",
    "ORGANIZATION_PLUGIN_REQUIRED": "Organization plugin is required for organization-owned API keys. "
                                    "Please install and configure the organization plugin.",
}


class ApiKeyRefused(BetterAuthError):
    """A refusal the plugin makes, answered as better-auth answers it on /api/auth ({"message", "code"})."""

    def __init__(self, status: int, code: str, *, message: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(status, message or MESSAGES[code], code)
        self.details = details

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(super().body())
        if self.details is not None:
            body["details"] = self.details
        return body


@dataclass(frozen=True)
class ApiKeyOptions:
    """The plugin's options genvid supports; the defaults here are the plugin's own."""

    default_prefix: str | None = None
    key_length: int = 64
    minimum_prefix_length: int = 1
    maximum_prefix_length: int = 32
    minimum_name_length: int = 1
    maximum_name_length: int = 32
    enable_metadata: bool = False
    rate_limit_enabled: bool = True
    rate_limit_time_window: int = 86_400_000      # ms
    rate_limit_max: int = 10
    min_expires_in_days: float = 1
    max_expires_in_days: float = 365
    start_length: int = 6
    default_permissions: Mapping[str, Sequence[str]] | None = None

    def better_auth_options(self) -> dict[str, Any]:
        """The `apiKey({...})` options that make a better-auth server sharing the database behave alike."""
        options: dict[str, Any] = {
            "enableMetadata": self.enable_metadata,
            "rateLimit": {"enabled": self.rate_limit_enabled, "timeWindow": self.rate_limit_time_window,
                          "maxRequests": self.rate_limit_max},
        }
        if self.default_prefix:
            options["defaultPrefix"] = self.default_prefix
        if self.default_permissions is not None:
            options["permissions"] = {
                "defaultPermissions": {k: list(v) for k, v in self.default_permissions.items()}}
        return options


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


def check_metadata(metadata: Any, options: ApiKeyOptions) -> None:
    """create's metadata rule: a truthy value needs metadata enabled and must be an object (or array)."""
    if not _truthy(metadata):
        return
    if not options.enable_metadata:
        raise ApiKeyRefused(400, "METADATA_DISABLED")
    if not isinstance(metadata, (dict, list)):
        raise ApiKeyRefused(400, "INVALID_METADATA_TYPE")


def check_expires_in(expires_in: float, options: ApiKeyOptions) -> None:
    """Expiry given in seconds, bounded in days."""
    days = expires_in / 86400
    if days < options.min_expires_in_days:
        raise ApiKeyRefused(400, "EXPIRES_IN_IS_TOO_SMALL")
    if days > options.max_expires_in_days:
        raise ApiKeyRefused(400, "EXPIRES_IN_IS_TOO_LARGE")


def check_name(name: str, options: ApiKeyOptions) -> None:
    if not options.minimum_name_length <= utf16_length(name) <= options.maximum_name_length:
        raise ApiKeyRefused(400, "INVALID_NAME_LENGTH")


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
    if request.prefix and not (options.minimum_prefix_length <= utf16_length(request.prefix)
                               <= options.maximum_prefix_length):
        raise ApiKeyRefused(400, "INVALID_PREFIX_LENGTH")
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
        metadata=js_stringify(request.metadata) if _truthy(request.metadata) else None)
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
        expires_at=expiry(now, changes.expires_in) if _truthy(_value(changes.expires_in)) else None,
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


def _truthy(value: Any) -> bool:
    """JavaScript truthiness of a JSON value ([] and {} are true)."""
    if isinstance(value, (list, dict)):
        return True
    return bool(value)


def _first(given: int | None, default: int | None) -> int | None:
    return given if given is not None else default


def _value(value: Any) -> Any:
    return None if value is ... else value
