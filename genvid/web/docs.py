"""The API reference for people at /api/docs: Swagger UI rendering /api/openapi.json.

Swagger UI's files come from the flask-swagger-ui wheel (only its dist folder is used, not its blueprint,
whose page carries an inline script); genvid serves them itself, so the page needs no CDN and runs under the
same Content-Security-Policy as the web app. The page renders whatever the OpenAPI document contains.
"""
from __future__ import annotations

from pathlib import Path

import flask_swagger_ui  # type: ignore[import-untyped]
from flask import Blueprint, Flask, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from genvid.errors import NotFound
from genvid.web.pages import security_headers

SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png"})

bp = Blueprint("apidocs", __name__, url_prefix="/api/docs", template_folder="templates")
bp.after_request(security_headers)


@bp.get("")
def reference() -> ResponseReturnValue:
    """The page: Swagger UI, started by static/js/docs.js against /api/openapi.json."""
    return render_template("api_docs.html")


@bp.get("/assets/<name>")
def asset(name: str) -> ResponseReturnValue:
    """One of Swagger UI's files (a short allow-list: nothing else of the wheel's folder is served)."""
    if name not in ASSETS:
        raise NotFound("NOT_FOUND", "No such file.")
    return send_from_directory(SWAGGER_UI_DIST, name, max_age=86400)


def init_app(app: Flask) -> None:
    """Register the reference (served with the web app's security headers)."""
    app.register_blueprint(bp)
