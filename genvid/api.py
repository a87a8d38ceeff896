"""Helpers every `/api/` blueprint uses: the response envelope, schema-validated input, OpenAPI metadata.

A handler declares its input and output models with @documented; parse_body/parse_query validate against
them, and genvid.openapi builds the OpenAPI document from the same declarations.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Response, jsonify, request
from pydantic import BaseModel, ConfigDict, ValidationError
from werkzeug.exceptions import UnsupportedMediaType

from genvid.errors import BadRequest, ValidationFailed

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


class Schema(BaseModel):
    """Base for request schemas: unknown keys are refused, strings are not coerced into numbers."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=False)


class QuerySchema(BaseModel):
    """Base for query-string schemas: values arrive as strings, so lax coercion is wanted here."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class Operation:
    """What the OpenAPI document says about one view function."""

    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    auth: bool = True
    tags: list[str] = field(default_factory=list)
    errors: tuple[int, ...] = ()
    raw_body: bool = False      # e.g. webhooks: the body is read as bytes, not validated JSON


def documented(summary: str, *, body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
               response: type[BaseModel] | None = None, status: int = 200, auth: bool = True,
               tags: list[str] | None = None, errors: tuple[int, ...] = (), raw_body: bool = False
               ) -> Callable[[F], F]:
    """Attach OpenAPI metadata to a view function (place it under the route decorator)."""
    def attach(view: F) -> F:
        view.__openapi__ = Operation(summary, body, query, response, status, auth,  # type: ignore[attr-defined]
                                     list(tags or []), errors, raw_body)
        return view
    return attach


def envelope(data: Any, *, meta: Any = None) -> dict[str, Any]:
    """The `/api/` success body."""
    return {"success": True, "data": data, "error": None, "meta": meta}


def ok(data: Any, status: int = 200, *, meta: Any = None, headers: dict[str, str] | None = None) -> Response:
    """A JSON envelope response."""
    response = jsonify(envelope(data, meta=meta))
    response.status_code = status
    response.headers.update(headers or {})
    return response


def parse_body(model: type[M]) -> M:
    """The JSON body validated against model: 415 for another content type, 400 for bad JSON, 422 per field."""
    if request.mimetype != "application/json":
        if request.content_length or request.mimetype:
            raise UnsupportedMediaType()
        raw: Any = {}
    else:
        text = request.get_data(cache=True)
        try:
            raw = json.loads(text) if text.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("MALFORMED_JSON", "The body is not valid JSON.") from None
    if not isinstance(raw, dict):
        raise ValidationFailed(details=[{"field": "", "message": "The body must be a JSON object."}])
    return validate(model, raw)


def parse_query(model: type[M]) -> M:
    """The query string validated against model (422 per field)."""
    return validate(model, request.args.to_dict(flat=True))


def validate(model: type[M], raw: dict[str, Any]) -> M:
    """model built from raw, or ValidationFailed with one detail per offending field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(part) for part in err["loc"]), "message": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailed(details=details) from None
