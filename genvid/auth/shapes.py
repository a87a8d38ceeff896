"""JSON Schemas of better-auth's bodies, for the OpenAPI document (genvid.http.openapi): what /api/auth
answers, as genvid.auth.serialize writes it and tests/test_auth_interop.py holds it to the real better-auth
server.

Request bodies come from the same validation.Schema objects the routes check with (validation.json_schema).
"""
from __future__ import annotations

from typing import Any

_DATE = {"type": "string", "format": "date-time"}
_TRUE = {"const": True}
_STRING_OR_NULL = {"type": ["string", "null"]}

USER: dict[str, Any] = {
    "type": "object",
    "required": ["name", "email", "emailVerified", "image", "createdAt", "updatedAt", "id"],
    "properties": {"name": {"type": "string"}, "email": {"type": "string"},
                   "emailVerified": {"type": "boolean"},
                   "image": _STRING_OR_NULL, "createdAt": _DATE, "updatedAt": _DATE,
                   "id": {"type": "string"}},
}
SESSION: dict[str, Any] = {
    "type": "object",
    "required": ["expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId", "id"],
    "properties": {"expiresAt": _DATE, "token": {"type": "string"}, "createdAt": _DATE, "updatedAt": _DATE,
                   "ipAddress": _STRING_OR_NULL, "userAgent": _STRING_OR_NULL, "userId": {"type": "string"},
                   "id": {"type": "string"}},
}


def _object(**properties: Any) -> dict[str, Any]:
    """An object with exactly these properties, all of them present."""
    return {"type": "object", "required": list(properties), "properties": properties}


TOKEN_AND_USER = _object(token=_STRING_OR_NULL, user=USER)
SIGNED_IN: dict[str, Any] = {
    "type": "object", "required": ["redirect", "token", "user"],
    "properties": {"redirect": {"type": "boolean"}, "token": {"type": "string"}, "url": {"type": "string"},
                   "user": USER},
}
SESSION_OR_NULL: dict[str, Any] = {"anyOf": [{"type": "null"}, _object(session=SESSION, user=USER)]}
SESSIONS: dict[str, Any] = {"type": "array", "items": SESSION}
STATUS = _object(status=_TRUE)
SUCCESS = _object(success=_TRUE)
OK = _object(ok=_TRUE)
RESET_REQUESTED = _object(status=_TRUE, message={"type": "string"})
VERIFIED = _object(status=_TRUE, user={"type": "null"})
DELETED = _object(success=_TRUE, message={"type": "string"})
JWT = _object(token={"type": "string"})
JWKS = _object(keys={"type": "array", "items": {"type": "object"}})
ANY_OBJECT: dict[str, Any] = {"type": "object"}

FLOW_STARTED = _object(url={"type": "string"}, redirect={"type": "boolean"})
SOCIAL_SIGNED_IN: dict[str, Any] = {"anyOf": [
    FLOW_STARTED, _object(redirect={"const": False}, token={"type": "string"}, user=USER)]}
LINKED: dict[str, Any] = {"anyOf": [
    FLOW_STARTED, _object(url={"type": "string"}, status=_TRUE, redirect={"const": False})]}
ACCOUNTS: dict[str, Any] = {"type": "array", "items": {"type": "object"}}
EMPTY_401 = {"description": "No session (better-auth answers these with an empty body)"}

REDIRECT = {"description": "Redirect to the callback URL (better-call answers with an empty JSON-typed body)",
            "headers": {"Location": {"schema": {"type": "string"}}}}


def query(name: str, *, required: bool = False, description: str = "") -> dict[str, Any]:
    """A query-string parameter better-auth reads as a string."""
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": required,
                                 "schema": {"type": "string"}}
    if description:
        parameter["description"] = description
    return parameter


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_INTEGER_OR_NULL = {"type": ["integer", "null"]}
_DATE_OR_NULL = _nullable(_DATE)
# The api-key plugin's key object (genvid.auth.apikey_json), in its field order; "key" only in create's
# answer.
_API_KEY_FIELDS: dict[str, Any] = {
    "configId": {"type": "string"}, "name": _STRING_OR_NULL, "start": _STRING_OR_NULL,
    "referenceId": {"type": "string", "description": "The owner's user id."}, "prefix": _STRING_OR_NULL,
    "refillInterval": _INTEGER_OR_NULL, "refillAmount": _INTEGER_OR_NULL, "lastRefillAt": _DATE_OR_NULL,
    "enabled": {"type": ["boolean", "null"]}, "rateLimitEnabled": {"type": ["boolean", "null"]},
    "rateLimitTimeWindow": _INTEGER_OR_NULL, "rateLimitMax": _INTEGER_OR_NULL,
    "requestCount": _INTEGER_OR_NULL,
    "remaining": _INTEGER_OR_NULL, "lastRequest": _DATE_OR_NULL, "expiresAt": _DATE_OR_NULL,
    "createdAt": _DATE, "updatedAt": _DATE,
    "permissions": _nullable({"type": "object", "additionalProperties": {"type": "array",
                                                                        "items": {"type": "string"}}}),
    "metadata": {"description": "The owner's JSON, as given (strings that look like ISO dates come back as "
                                "dates, as the plugin's parser revives them)."},
    "id": {"type": "string"},
}
API_KEY = _object(**_API_KEY_FIELDS)
NEW_API_KEY = _object(**{**_API_KEY_FIELDS,
                         "key": {"type": "string",
                                 "description": "The key itself: shown in this answer only."}})
API_KEYS: dict[str, Any] = {
    "type": "object", "required": ["apiKeys", "total"],
    "properties": {"apiKeys": {"type": "array", "items": API_KEY}, "total": {"type": "integer", "minimum": 0},
                   "limit": {"type": "integer"}, "offset": {"type": "integer"}},
}
KEY_NOT_FOUND = {"description": "No such key of yours (KEY_NOT_FOUND)",
                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AuthError"}}}}
