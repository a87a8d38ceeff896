"""The api-key plugin's endpoints under /api/auth: POST /api-key/create, GET /api-key/get, GET /api-key/list,
POST /api-key/update, POST /api-key/delete, answered as @better-auth/api-key 1.7.5 answers them.

Its verifyApiKey and deleteAllExpiredApiKeys are server-only (no HTTP route, so 404 here as there); genvid's
server side is genvid.auth.apikey_usage (every /api/ call with an x-api-key header) and `genvid apikeys`.
Checks run in better-call's order: content type (415), body or query schema (400), Origin/CSRF (403), the
session (401), then the handler's own.
"""
from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue

from genvid import clock
from genvid.auth import (
    apikey_schemas,
    apikeys,
    context,
    responses,
    sessions,
    shapes,
)
from genvid.auth.apikey_json import api_key_json, js_value
from genvid.auth.apikey_rules import ApiKeyOptions, ApiKeyRefused
from genvid.auth.apikeys import KeyChanges, NewKey
from genvid.auth.blueprint import bp, check_origin, require_session
from genvid.auth.validation import Schema, read_body, validation_error
from genvid.http.api import documented
from genvid.http.app_config import app_config
from genvid.infra import database

_JSON_BODY = Schema()
# Fields only the server may set (the plugin's SERVER_ONLY_PROPERTY); create also refuses a non-null
# remaining.
_SERVER_ONLY = ("refillAmount", "refillInterval", "rateLimitMax", "rateLimitTimeWindow", "rateLimitEnabled",
                "permissions")
TAGS = ["api-keys"]
# sortBy: a sortable field, or empty for no sorting (the plugin reads it as `sortBy ? {...} : undefined`).
_LIST_PARAMETERS = tuple(
    {**parameter, "schema": {"enum": ["", *sorted(apikeys.SORTABLE)]}} if parameter["name"] == "sortBy"
    else parameter
    for parameter in apikey_schemas.query_parameters(apikey_schemas.LIST_QUERY))


def _options() -> ApiKeyOptions:
    return apikeys.options_from(app_config())


def _prepare(rules: tuple[apikey_schemas.Rule, ...]) -> dict[str, Any]:
    """Content type, body schema, then Origin/CSRF and callback URLs, as blueprint.prepare() runs them."""
    raw = read_body(request, _JSON_BODY)
    body = apikey_schemas.validate_body(raw, rules)
    _refuse_nul(body, "body")
    check_origin(raw)
    return body


def _query(rules: tuple[apikey_schemas.Rule, ...]) -> dict[str, Any]:
    query = apikey_schemas.validate_query(request.args.to_dict(), rules)
    _refuse_nul(query, "query")
    return query


def _refuse_nul(values: dict[str, Any], where: str) -> None:
    problems = apikey_schemas.nul_problems(values, where)
    if problems:
        raise validation_error(problems)


def _session_or_refuse() -> sessions.ActiveSession:
    """The handler's own session check (create, update): 401 UNAUTHORIZED_SESSION without one."""
    active = context.active_session()
    if active is None:
        raise ApiKeyRefused(401, "UNAUTHORIZED_SESSION")
    return active


@bp.post("/api-key/create")
@documented("Create an API key for the signed-in user; the key is in this answer only",
            body=apikey_schemas.body_json_schema("create"), response=shapes.NEW_API_KEY,
            better_auth=True, tags=TAGS)
def create_api_key() -> ResponseReturnValue:
    """A new key for the signed-in user, shown this once."""
    body = _prepare(apikey_schemas.CREATE)
    if any(name in body for name in _SERVER_ONLY) or body.get("remaining") is not None:
        raise ApiKeyRefused(400, "SERVER_ONLY_PROPERTY")
    if "userId" in body:
        raise ApiKeyRefused(401, "UNAUTHORIZED_SESSION")
    active = _session_or_refuse()
    metadata = js_value(body.get("metadata"))
    with database.connection() as conn:
        row, key = apikeys.create_api_key(
            conn, user_id=active.user.id, options=_options(), now=clock.now(),
            request=NewKey(name=body.get("name"), prefix=body.get("prefix"), expires_in=body.get("expiresIn"),
                           metadata=metadata))
    return responses.json_response(api_key_json(row, key=key, metadata=metadata))


@bp.get("/api-key/get")
@documented("One of the signed-in user's API keys (by its start, never the key)", response=shapes.API_KEY,
            better_auth=True, tags=TAGS, responses={404: shapes.KEY_NOT_FOUND},
            parameters=apikey_schemas.query_parameters(apikey_schemas.GET_QUERY))
def get_api_key() -> ResponseReturnValue:
    """One of the user's keys (never the key itself)."""
    query = _query(apikey_schemas.GET_QUERY)
    active = require_session()
    with database.connection() as conn:
        row = apikeys.get_own_key(conn, user_id=active.user.id, key_id=query["id"])
        apikeys.delete_expired_keys(conn, now=clock.now())
    return responses.json_response(api_key_json(row))


@bp.get("/api-key/list")
@documented("The signed-in user's API keys (by their start, never the keys)", response=shapes.API_KEYS,
            better_auth=True, tags=TAGS, parameters=_LIST_PARAMETERS)
def list_api_keys() -> ResponseReturnValue:
    """The user's keys, by their start; limit/offset/sortBy/sortDirection as the plugin reads them."""
    query = _query(apikey_schemas.LIST_QUERY)
    active = require_session()
    if query.get("organizationId"):
        # better-auth answers 500 here (no organization plugin); genvid calls it the client's mistake.
        raise ApiKeyRefused(400, "ORGANIZATION_PLUGIN_REQUIRED")
    sort_by = query.get("sortBy")
    if sort_by and sort_by not in apikeys.SORTABLE:
        # better-auth answers 500 (its adapter knows no such field); genvid says which field it refused.
        raise ApiKeyRefused(400, "VALIDATION_ERROR", message=f"[query.sortBy] Unknown field {sort_by!r}")
    with database.connection() as conn:
        rows, total = apikeys.list_own_keys(
            conn, user_id=active.user.id, config_id=query.get("configId"), sort_by=sort_by,
            descending=query.get("sortDirection") == "desc", limit=query.get("limit"),
            offset=query.get("offset"))
        apikeys.delete_expired_keys(conn, now=clock.now())
    answer: dict[str, Any] = {"apiKeys": [api_key_json(row) for row in rows], "total": total}
    for name in ("limit", "offset"):
        if name in query:
            answer[name] = query[name]
    return responses.json_response(answer)


@bp.post("/api-key/update")
@documented("Rename, enable or disable one of the user's API keys, or change its expiry or metadata",
            body=apikey_schemas.body_json_schema("update"), response=shapes.API_KEY, better_auth=True,
            tags=TAGS, responses={404: shapes.KEY_NOT_FOUND})
def update_api_key() -> ResponseReturnValue:
    """Rename, enable or disable, change expiry or metadata of one of the user's keys."""
    body = _prepare(apikey_schemas.UPDATE)
    active = _session_or_refuse()
    claimed = body.get("userId", "")      # z.coerce.string(): only "" (or []) means "not given"
    if claimed not in ("", []) and claimed != active.user.id:
        raise ApiKeyRefused(401, "UNAUTHORIZED_SESSION")
    if any(name in body for name in (*_SERVER_ONLY, "remaining")):
        raise ApiKeyRefused(400, "SERVER_ONLY_PROPERTY")
    changes = KeyChanges(**{field: js_value(body[name]) for name, field in
                            (("name", "name"), ("enabled", "enabled"), ("expiresIn", "expires_in"),
                             ("metadata", "metadata")) if name in body})
    with database.connection() as conn:
        row = apikeys.update_own_key(conn, user_id=active.user.id, key_id=body["keyId"], changes=changes,
                                     options=_options(), now=clock.now())
    return responses.json_response(api_key_json(row))


@bp.post("/api-key/delete")
@documented("Revoke one of the user's API keys", body=apikey_schemas.body_json_schema("delete"),
            response=shapes.SUCCESS, better_auth=True, tags=TAGS, responses={404: shapes.KEY_NOT_FOUND})
def delete_api_key() -> ResponseReturnValue:
    """Revoke one of the user's keys."""
    body = _prepare(apikey_schemas.DELETE)
    active = require_session()
    with database.connection() as conn:
        apikeys.delete_own_key(conn, user_id=active.user.id, key_id=body["keyId"], now=clock.now())
    return responses.json_response({"success": True})
