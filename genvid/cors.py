"""CORS through flask-cors: credentials only for trusted origins, auth headers exposed to the browser."""
from __future__ import annotations

from flask import Flask
from flask_cors import CORS

from genvid.config import Config, origin_of

EXPOSED_HEADERS = ["set-auth-token", "set-auth-jwt", "X-Request-ID", "Location", "X-Retry-After"]


def trusted_origins(config: Config) -> list[str]:
    """TRUSTED_ORIGINS plus the origin of BETTER_AUTH_URL, as origins (no paths)."""
    origins = {origin_of(o) for o in config.trusted_origins} | {config.base_origin}
    return sorted(o for o in origins if o)


def init_app(app: Flask, config: Config) -> None:
    """Answer preflights for trusted origins only; untrusted origins get no CORS headers at all."""
    CORS(app, resources={r"/api/*": {"origins": trusted_origins(config)}},
         supports_credentials=True, expose_headers=EXPOSED_HEADERS, max_age=600,
         allow_headers=["Content-Type", "Authorization", "X-Request-ID", "Idempotency-Key"])
