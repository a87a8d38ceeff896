"""An `x-api-key` header as the caller's credential on genvid's own /api/ (never on /api/auth).

The key must be valid (genvid.auth.apikey_usage: enabled, unexpired, uses and rate left, one use charged) and
hold the permission the endpoint needs (genvid.auth.apikey_permissions); the caller is then its owner. A
request carrying a key is judged by the key alone, cookies and bearer tokens aside. Refusals use the /api/
error shape with the plugin's codes:

| status | code | when |
| --- | --- | --- |
| 401 | INVALID_API_KEY | unknown key, or its owner is gone |
| 401 | KEY_DISABLED / KEY_EXPIRED | disabled, or past expiresAt (the key is deleted) |
| 403 | API_KEY_NOT_ALLOWED | the endpoint takes no API key (billing, anything unlisted) |
| 403 | API_KEY_FORBIDDEN | the key lacks the endpoint's permission (no use is charged) |
| 429 | USAGE_EXCEEDED | no uses left |
| 429 | RATE_LIMITED | the key's rate limit; Retry-After and details.tryAgainIn (ms) say when |
"""
from __future__ import annotations

import math
from typing import Any

import db.auth_users
from db import models
from genvid import clock
from genvid.auth.apikey_permissions import required_for
from genvid.auth.apikey_rules import ApiKeyRefused
from genvid.auth.apikey_usage import use_api_key
from genvid.auth.apikeys import options_from
from genvid.errors import AppError, Forbidden, TooManyRequests, Unauthorized
from genvid.http.app_config import app_config
from genvid.http.request_context import this_request
from genvid.infra import database

HEADER_ENVIRON_KEY = "HTTP_X_API_KEY"


def presented_key(environ: dict[str, Any]) -> str | None:
    """The x-api-key header's value, if the request has one."""
    value = environ.get(HEADER_ENVIRON_KEY)
    return value.strip() or None if value is not None else None


def owner_of(key: str) -> tuple[models.User, str]:
    """The key's owner and the key's id, once the key passed every check for this endpoint;
    else the AppError."""
    current = this_request()
    needed = required_for(current.endpoint)
    if needed is None:
        raise Forbidden("API_KEY_NOT_ALLOWED", "This endpoint does not accept API keys; sign in instead.")
    options = options_from(app_config())
    with database.connection() as conn:
        try:
            row = use_api_key(conn, key=key, permissions=needed, options=options, now=clock.now())
        except ApiKeyRefused as refused:
            raise _as_app_error(refused, needed) from None
        user = db.auth_users.get_user(conn, id=row.reference_id)
    if user is None:
        raise Unauthorized("INVALID_API_KEY", "Invalid API key.")
    return user, row.id


def _as_app_error(refused: ApiKeyRefused, needed: dict[str, list[str]]) -> AppError:
    if refused.code == "KEY_NOT_FOUND":        # what the plugin says when permissions are missing
        resource, actions = next(iter(needed.items()))
        return Forbidden("API_KEY_FORBIDDEN", f"This API key lacks the permission {resource}:{actions[0]}.")
    if refused.status == 429:
        details = refused.details or {}
        headers = {}
        if isinstance(details.get("tryAgainIn"), int):
            headers["Retry-After"] = str(max(1, math.ceil(details["tryAgainIn"] / 1000)))
        return TooManyRequests(refused.code or "RATE_LIMITED", refused.message,
                               details=refused.details or None, headers=headers)
    return Unauthorized(refused.code or "INVALID_API_KEY", refused.message)
