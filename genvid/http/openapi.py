"""The OpenAPI 3.1 document of the whole API, /api/auth included, built from the @documented metadata of every
registered view.

Pydantic emits JSON Schema 2020-12, which is OpenAPI 3.1's schema dialect, so the same models that validate
requests describe them here; better-auth's shapes are written out in genvid/auth/shapes.py. A new endpoint
appears as soon as its view carries @documented; genvid.http.openapi_operations describes each operation, with
the answers every endpoint of its kind can give. Which operations take an API key (x-api-key), and with which
permission, is the table the check itself uses (genvid.auth.apikey_permissions), which the app factory hands
to init_app().
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from genvid.http.api import Operation
from genvid.http.openapi_operations import OperationBuilder

bp = Blueprint("openapi", __name__)
_API_KEY_PERMISSIONS = "genvid.openapi.api_key_permissions"

_AUTH_ERROR_SCHEMA = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}, "code": {"type": "string"}},
    "description": "better-auth's error body; `code` is absent where better-auth sends none (429).",
}


@bp.get("/api/openapi.json")
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of every documented endpoint."""
    return jsonify(build_document())


def init_app(app: Flask, *, api_key_permissions: Mapping[str, tuple[str, str]]) -> None:
    """Serve the document, saying which operations take an API key: endpoint -> (resource, action)."""
    app.extensions[_API_KEY_PERMISSIONS] = api_key_permissions
    app.register_blueprint(bp)


def build_document() -> dict[str, Any]:
    """Walk the URL map of the current app and describe every view that carries @documented."""
    api_keys: Mapping[str, tuple[str, str]] = current_app.extensions.get(_API_KEY_PERMISSIONS, {})
    components: dict[str, Any] = {"AuthError": _AUTH_ERROR_SCHEMA}
    models: dict[str, type[BaseModel]] = {}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        view = current_app.view_functions.get(rule.endpoint)
        operation: Operation | None = getattr(view, "__openapi__", None)
        if operation is None:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for method in methods:
            described = OperationBuilder(components, models, api_keys).operation(rule, view, operation,
                                                                         method.lower())
            if len(methods) > 1:                 # one view serving several methods: one operation id each
                described["operationId"] += f"_{method.lower()}"
            paths.setdefault(path, {})[method.lower()] = described
    return {
        "openapi": "3.1.0",
        "info": {"title": "genvid API", "version": "1.0.0",
                 "description": "Avatar videos: better-auth compatible auth (/api/auth), credits, renders. "
                                "Errors outside /api/auth are the envelope `Error`; on /api/auth "
                                "better-auth's "
                                "`AuthError`."},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "better-auth.session_token"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A session token (set-auth-token) or a JWT from /api/auth/token."},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key",
                           "description": "An API key from /api/auth/api-key/create (better-auth's api-key "
                                          "plugin), accepted only by the operations that list it, each "
                                          "needing "
                                          "the permission its description names. A request carrying one is "
                                          "judged by the key alone."},
            },
        },
    }
