"""CORS through flask-cors: credentials only for trusted origins, auth headers exposed to the browser."""
from __future__ import annotations

from flask import Flask, Response
from flask_cors import CORS

from genvid.config import Config

EXPOSE = "Access-Control-Expose-Headers"
EXPOSED_HEADERS = ["X-Request-ID", "Location", "X-Retry-After"]    # set-auth-* are exposed by genvid.auth


def trusted_origins(config: Config) -> list[str]:
    """Config.allowed_origins, sorted (flask-cors takes a list)."""
    return sorted(config.allowed_origins)


def init_app(app: Flask, config: Config) -> None:
    """Answer preflights for trusted origins only; untrusted origins get no CORS headers at all."""
    # Registered before flask-cors's hook so that it runs after it: Flask calls an app's after_request
    # functions in the reverse order of their registration.
    app.after_request(_one_expose_header)
    CORS(app, resources={r"/api/*": {"origins": trusted_origins(config)}},
         supports_credentials=True, expose_headers=EXPOSED_HEADERS, max_age=600, always_send=False,
         allow_headers=["Content-Type", "Authorization", "X-Request-ID", "Idempotency-Key"])


def _one_expose_header(response: Response) -> Response:
    """Auth responses name their set-auth-* headers themselves, as better-auth does, and flask-cors adds its
    own list for a trusted Origin: one header line for both."""
    exposed = response.headers.getlist(EXPOSE)
    if len(exposed) > 1:
        response.headers[EXPOSE] = ", ".join(exposed)
    return response
