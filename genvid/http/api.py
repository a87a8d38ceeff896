"""Helpers every `/api/` blueprint uses: the response envelope (genvid.http.envelope), schema-validated input,
OpenAPI metadata.

A handler declares its input and output models with @documented; parse_body/parse_query validate against
them, and genvid.http.openapi builds the OpenAPI document from the same declarations. The models derive from
genvid.request_models' Schema and QuerySchema, which are free of Flask.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Response, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.routing import BaseConverter

from genvid.errors import BadRequest, ValidationFailed
from genvid.http import envelope, jsonbody

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


class IdConverter(BaseConverter):
    """`<id:name>`: a path segment naming a resource, 1-255 characters without a slash or U+0000 (no id holds
    one, and PostgreSQL cannot even compare a value that does), so anything else is a routing 404 in the
    path's error shape before any handler runs."""

    regex = "[^/\x00]{1,255}"
    schema: Mapping[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255,
                                 "pattern": "^[^/\u0000]+$"}


JSONSchema = Mapping[str, Any]       # a JSON Schema written out, where no pydantic model describes the shape


@dataclass
class Operation:
    """What the OpenAPI document says about one view function.

    body and response are pydantic models, or JSON Schemas as dicts (better-auth's shapes). On /api/ routes
    the response is the `data` of the success envelope (a list of it when many, with meta.next_cursor when
    paged); on /api/auth (better_auth) it is the whole body, and errors are better-auth's `{"message",
    "code"}`.
    """

    summary: str
    body: type[BaseModel] | JSONSchema | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | JSONSchema | None = None
    status: int = 200
    auth: bool = True
    tags: list[str] = field(default_factory=list)
    errors: tuple[int, ...] = ()
    raw_body: bool = False      # e.g. webhooks: the body is read as bytes, not validated JSON
    many: bool = False
    paged: bool = False
    better_auth: bool = False
    optional_auth: bool = False     # answers signed-out callers too (get-session)
    body_optional: bool = False
    parameters: tuple[Mapping[str, Any], ...] = ()    # written-out parameters (better-auth's query strings)
    media_type: str = "application/json"               # of the success body
    body_media_type: str = "application/json"          # of the request body
    more_bodies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)   # other media types the body
    # may be sent as: media type -> OpenAPI media type object ({"schema": ..., "encoding": ...})
    responses: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)   # written-out extra answers


def documented(summary: str, *, body: type[BaseModel] | JSONSchema | None = None,
               query: type[BaseModel] | None = None, response: type[BaseModel] | JSONSchema | None = None,
               status: int = 200, auth: bool = True, tags: list[str] | None = None,
               errors: tuple[int, ...] = (),
               raw_body: bool = False, many: bool = False, paged: bool = False, better_auth: bool = False,
               optional_auth: bool = False, body_optional: bool = False,
               parameters: tuple[Mapping[str, Any], ...] = (), media_type: str = "application/json",
               responses: Mapping[int, Mapping[str, Any]] | None = None,
               body_media_type: str = "application/json",
               more_bodies: Mapping[str, Mapping[str, Any]] | None = None) -> Callable[[F], F]:
    """Attach OpenAPI metadata to a view function (place it under the route decorator)."""
    def attach(view: F) -> F:
        view.__openapi__ = Operation(  # type: ignore[attr-defined]
            summary, body=body, query=query, response=response, status=status, auth=auth,
            tags=list(tags or []),
            errors=errors, raw_body=raw_body, many=many, paged=paged, better_auth=better_auth,
            optional_auth=optional_auth, body_optional=body_optional, parameters=parameters,
            media_type=media_type,
            body_media_type=body_media_type, responses=dict(responses or {}),
            more_bodies=dict(more_bodies or {}))
        return view
    return attach


def ok(data: Any, status: int = 200, *, meta: Any = None, headers: dict[str, str] | None = None) -> Response:
    """The success envelope (genvid.http.envelope.Envelope) around data: a response model, a list of them, or
    plain JSON values."""
    response = Response(envelope.success_json(data, meta), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def parse_body(model: type[M]) -> M:
    """The JSON body validated against model: 415 for another content type, 400 for bad or too deeply nested
    JSON, 422 per field (a string holding U+0000, which PostgreSQL cannot store, included)."""
    if request.mimetype != "application/json":
        if request.content_length or request.mimetype:
            raise UnsupportedMediaType()
        raw: Any = {}
    else:
        text = request.get_data(cache=True)
        try:
            raw = jsonbody.loads(text, cap_depth=False) if text.strip() else {}
        except jsonbody.MalformedJSON:
            raise BadRequest("MALFORMED_JSON", "The body is not valid JSON.") from None
        except jsonbody.TooDeep:
            raise BadRequest("MALFORMED_JSON", "The body is nested too deeply.") from None
    if not isinstance(raw, dict):
        raise ValidationFailed(details=[{"field": "", "message": "The body must be a JSON object."}])
    return validate(model, raw)


IDEMPOTENCY_KEY_MAX = 255


def idempotency_key() -> str | None:
    """The request's optional Idempotency-Key header (a create sent again with the same key answers with what
    the first one made); 400 INVALID_IDEMPOTENCY_KEY unless it is at most IDEMPOTENCY_KEY_MAX printable
    characters."""
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and (len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable()):
        raise BadRequest("INVALID_IDEMPOTENCY_KEY",
                         f"Idempotency-Key is at most {IDEMPOTENCY_KEY_MAX} printable characters.")
    return key


def parse_query(model: type[M]) -> M:
    """The query string validated against model (422 per field): each parameter at most once and never empty,
    as the OpenAPI document says (a repeated or empty one is a client bug, not something to guess about)."""
    args = request.args
    problems = []
    for name in args:
        values = args.getlist(name)
        if len(values) > 1:
            problems.append({"field": name, "message": "Given more than once.", "type": "repeated"})
        elif values[0] == "":
            problems.append({"field": name, "message": "Must not be empty.", "type": "empty"})
    if problems:
        raise ValidationFailed(details=problems)
    return validate(model, args.to_dict(flat=True))


NUL_MESSAGE = "Must not contain U+0000 (NUL)."


def validate(model: type[M], raw: dict[str, Any]) -> M:
    """model built from raw, or ValidationFailed with one detail per offending field."""
    nul = jsonbody.nul_fields(raw)
    if nul:
        raise ValidationFailed(
            details=[{"field": path, "message": NUL_MESSAGE, "type": "nul"} for path in nul])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(part) for part in err["loc"]), "message": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailed(details=details) from None
