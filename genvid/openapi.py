"""The OpenAPI 3.1 document, built from the @documented metadata of every registered view.

Pydantic emits JSON Schema 2020-12, which is OpenAPI 3.1's schema dialect, so the same models that validate
requests describe them here; a new endpoint appears as soon as its view carries @documented.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from genvid.api import Operation

bp = Blueprint("openapi", __name__)

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "data", "error", "meta"],
    "properties": {
        "success": {"const": False},
        "data": {"type": "null"},
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        },
        "meta": {},
    },
}
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Malformed request",
                401: "Not signed in", 402: "Not enough credits", 403: "Forbidden", 404: "Not found",
                409: "Conflict", 413: "Body too large", 415: "Wrong content type", 422: "Validation failed",
                429: "Rate limited", 502: "Upstream failure", 503: "Unavailable"}


@bp.get("/api/openapi.json")
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of every documented endpoint."""
    return jsonify(build_document())


def build_document() -> dict[str, Any]:
    """Walk the URL map of the current app and describe every view that carries @documented."""
    components: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        view = current_app.view_functions.get(rule.endpoint)
        operation: Operation | None = getattr(view, "__openapi__", None)
        if operation is None:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, view, operation, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "genvid API", "version": "1.0.0",
                 "description": "Avatar videos: better-auth compatible auth, credits, renders."},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "better-auth.session_token"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _operation(rule: Any, view: Any, op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": op.summary,
        "tags": op.tags or [rule.endpoint.split(".")[0]],
        "responses": {},
    }
    description = (view.__doc__ or "").strip()
    if description:
        doc["description"] = description
    parameters = [{"name": arg, "in": "path", "required": True, "schema": {"type": "string"}}
                  for arg in sorted(rule.arguments)]
    if op.query is not None:
        schema = _schema(op.query, components)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            parameters.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _ref(op.body, components)}}}
    elif op.raw_body:
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": {}}}}
    success: dict[str, Any] = {"description": _STATUS_TEXT.get(op.status, "Success")}
    if op.response is not None:
        success["content"] = {"application/json": {"schema": _ref(op.response, components)}}
    doc["responses"][str(op.status)] = success
    error_statuses = set(op.errors) | ({401} if op.auth else set()) | ({415, 422} if op.body else set())
    for status in sorted(error_statuses):
        doc["responses"][str(status)] = {
            "description": _STATUS_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    if op.auth:
        doc["security"] = [{"session": []}, {"bearer": []}]
    return doc


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    return schema


def _ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    components.setdefault(model.__name__, _schema(model, components))
    return {"$ref": f"#/components/schemas/{model.__name__}"}
