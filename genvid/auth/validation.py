"""Request bodies checked the way better-auth's zod schemas check them, with zod 4's exact messages.

Order of checks (as better-call runs them): content type (415), then the body schema (400 VALIDATION_ERROR).
Where genvid is stricter than better-auth it says so in zod's words: better-auth stores a name or email of
any length, genvid holds them to max_length ("Too big: expected string to have <=256 characters").
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from flask import Request

from genvid.auth.limits import MAX_EMAIL_LENGTH, utf16_length
from genvid.errors import BetterAuthError
from genvid.http import jsonbody

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
UNDEFINED: Any = object()   # JavaScript's undefined: no body at all

# zod 4's default email pattern.
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$")


@dataclass(frozen=True)
class Field:
    """One key of a body schema: its zod type, whether it may be absent, and extra string checks."""

    name: str
    # string | boolean | number | any | union | object | string[] | record | record<string>
    kind: str = "string"
    optional: bool = False
    min_length: int = 0
    max_length: int | None = None     # genvid's own limit (better-auth has none); None: unlimited
    email: bool = False
    fields: tuple[Field, ...] = ()    # an object's own fields
    refused_keys: tuple[str, ...] = ()    # a record's keys that a zod refine() refuses ...
    refusal: str = ""                     # ... with this message


@dataclass(frozen=True)
class Schema:
    """A zod object schema; `with_record` mirrors better-auth's `z.object(...).and(z.record(...))` bodies."""

    fields: tuple[Field, ...] = ()
    optional: bool = False        # the whole body may be absent
    with_record: bool = False
    form: bool = False            # also accepts application/x-www-form-urlencoded


def is_valid_email(value: str) -> bool:
    """zod's z.email() check, for addresses of at most 254 characters."""
    return len(value) <= MAX_EMAIL_LENGTH and bool(_EMAIL.match(value))


def js_type(value: Any) -> str:
    """zod's name for what it received (NaN only ever comes from a coerced query value: JSON has none)."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "NaN" if isinstance(value, float) and math.isnan(value) else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def expected(kind: str, value: Any) -> str:
    """zod's message for a value of the wrong type."""
    return f"Invalid input: expected {kind}, received {js_type(value)}"


def validation_error(messages: list[str]) -> BetterAuthError:
    """400 VALIDATION_ERROR with zod's issues joined by '; '."""
    return BetterAuthError(400, "; ".join(messages), "VALIDATION_ERROR")


def read_body(request: Request, schema: Schema) -> Any:
    """The parsed body (a dict, or UNDEFINED when there is none);
    415 or 400 BAD_REQUEST as better-call answers."""
    content_type = request.headers.get("Content-Type", "")
    mimetype = request.mimetype
    allowed = [FORM, JSON] if schema.form else [JSON]
    raw = request.get_data(cache=True)
    if not content_type:
        return UNDEFINED if not raw else _parse_json(raw)
    if mimetype not in allowed:
        raise BetterAuthError(415, f'Content-Type "{content_type}" is not allowed. '
                                   f"Allowed types: {', '.join(allowed)}", "UNSUPPORTED_MEDIA_TYPE")
    if mimetype == FORM:
        return {key: request.form.getlist(key)[-1] for key in request.form}
    return UNDEFINED if not raw else _parse_json(raw)   # whitespace is not "no body": JSON.parse refuses it


def _parse_json(raw: bytes) -> Any:
    """JSON.parse's reading (deep nesting kept as far as its type, lone surrogates as U+FFFD:
    genvid.http.jsonbody)."""
    try:
        return jsonbody.loads(raw, cap_depth=True)
    except jsonbody.MalformedJSON:
        raise BetterAuthError(400, "Invalid JSON in request body", "BAD_REQUEST") from None


def validate(body: Any, schema: Schema) -> dict[str, Any]:
    """The body checked against schema; raises 400 VALIDATION_ERROR with zod's messages."""
    if body is UNDEFINED:
        if schema.optional:
            return {}
        messages = ["[body] Invalid input: expected object, received undefined"]
        if schema.with_record:
            messages.append("[body] Invalid input: expected record, received undefined")
        raise validation_error(messages)
    if not isinstance(body, dict):
        messages = [f"[body] {expected('object', body)}"]
        if schema.with_record:
            messages.append(f"[body] {expected('record', body)}")
        raise validation_error(messages)
    messages = check_fields(schema.fields, body, "body")
    if messages:
        raise validation_error(messages)
    return body


def check_fields(fields: tuple[Field, ...], values: dict[str, Any], path: str) -> list[str]:
    """zod's issues for values against fields, each as `[path.key] message`."""
    messages: list[str] = []
    for field in fields:
        value = values.get(field.name, UNDEFINED)
        messages += _check_nested(field, value, f"{path}.{field.name}")
    return messages


def _check_nested(field: Field, value: Any, path: str) -> list[str]:
    if value is UNDEFINED and field.optional:
        return []
    if field.kind == "union":         # z.enum(...).or(z.string()): zod reports only that the union failed
        return [] if isinstance(value, str) else [f"[{path}] Invalid input"]
    if field.kind == "object":
        if not isinstance(value, dict):
            return [f"[{path}] {expected('object', value)}"]
        return check_fields(field.fields, value, path)
    if field.kind == "string[]":
        if not isinstance(value, list):
            return [f"[{path}] {expected('array', value)}"]
        return [f"[{path}.{i}] {expected('string', v)}"
                for i, v in enumerate(value) if not isinstance(v, str)]
    if field.kind in ("record", "record<string>"):
        if not isinstance(value, dict):
            return [f"[{path}] {expected('record', value)}"]
        messages = [] if field.kind == "record" else [
            f"[{path}.{k}] {expected('string', v)}"
            for k, v in value.items() if not isinstance(v, str)]
        if not messages and any(key in field.refused_keys for key in value):
            messages.append(f"[{path}] {field.refusal}")
        return messages
    message = _check(field, value)
    return [f"[{path}] {message}"] if message else []


def _check(field: Field, value: Any) -> str | None:
    if value is UNDEFINED and field.optional:
        return None
    if field.kind == "any":
        return None
    if js_type(value) != field.kind:
        return expected(field.kind, value)
    if field.kind == "string":
        length = utf16_length(value)
        if field.max_length is not None and length > field.max_length:
            return f"Too big: expected string to have <={field.max_length} characters"
        if field.email and not is_valid_email(value):
            return "Invalid email address"
        if length < field.min_length:
            return f"Too small: expected string to have >={field.min_length} characters"
    return None


def json_schema(schema: Schema, **limits: Any) -> dict[str, Any]:
    """The JSON Schema of a body schema, for the OpenAPI document (extra keys are accepted,
    as zod strips them)."""
    body: dict[str, Any] = {**_object_schema(schema.fields), **limits}
    return body


def _object_schema(fields: tuple[Field, ...]) -> dict[str, Any]:
    properties = {field.name: _field_schema(field) for field in fields}
    described: dict[str, Any] = {"type": "object", "properties": properties}
    required = [field.name for field in fields if not field.optional]
    if required:
        described["required"] = required
    return described


def _field_schema(field: Field) -> dict[str, Any]:
    if field.kind == "object":
        return _object_schema(field.fields)
    if field.kind == "string[]":
        return {"type": "array", "items": {"type": "string"}}
    if field.kind == "record":
        return {"type": "object"}
    if field.kind == "record<string>":
        return {"type": "object", "additionalProperties": {"type": "string"}}
    if field.kind == "any":
        return {}
    if field.kind in ("string", "union"):           # a union is z.enum(...).or(z.string()): any string
        described: dict[str, Any] = {"type": "string"}
        if field.min_length:
            described["minLength"] = field.min_length
        if field.max_length is not None:
            described["maxLength"] = field.max_length
        if field.email:
            described["format"] = "email"
        return described
    return {"type": field.kind}
