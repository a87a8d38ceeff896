"""CORS through flask-cors: credentials only for trusted origins, auth headers exposed to the browser."""
from __future__ import annotations

from collections.abc import Callable
from typing import cast

from flask import Flask, Response
from flask_cors import CORS

from genvid.config import Config, origin_of
from genvid.http.request_context import this_request

EXPOSE = "Access-Control-Expose-Headers"
EXPOSED_HEADERS = ["X-Request-ID", "Location", "X-Retry-After"]    # set-auth-* are exposed by genvid.auth


def trusted_origins(config: Config) -> list[str]:
    """TRUSTED_ORIGINS plus the origin of BETTER_AUTH_URL, as origins (no paths)."""
    origins = {origin_of(o) for o in config.trusted_origins} | {config.base_origin}
    return sorted(o for o in origins if o)


def init_app(app: Flask, config: Config) -> None:
    """Answer preflights for trusted origins only; untrusted origins get no CORS headers at all."""
    CORS(app, resources={r"/api/*": {"origins": trusted_origins(config)}},
         supports_credentials=True, expose_headers=EXPOSED_HEADERS, max_age=600, always_send=False,
         allow_headers=["Content-Type", "Authorization", "X-Request-ID", "Idempotency-Key"])
    # flask-cors evaluates every response in the after_request function it has just registered. A request
    # without an Origin header (same-origin GETs, mobile apps, servers, webhooks) gets no CORS header from it
    # (always_send=False, as the CORS spec has it), so such requests skip that work (~10% of a get-session's CPU).
    hooks = app.after_request_funcs.setdefault(None, [])
    if not hooks or hooks[-1].__name__ != "cors_after_request":
        raise RuntimeError("flask-cors no longer registers cors_after_request; revisit genvid.http.cors")
    hooks[-1] = _only_with_origin(cast(Callable[[Response], Response], hooks[-1]))


def _only_with_origin(evaluate: Callable[[Response], Response]) -> Callable[[Response], Response]:
    def cors_after_request(response: Response) -> Response:
        if "HTTP_ORIGIN" not in this_request().environ:
            return response
        response = evaluate(response)
        # Auth responses name their set-auth-* headers themselves, as better-auth does; one line for both lists.
        exposed = response.headers.getlist(EXPOSE)
        if len(exposed) > 1:
            response.headers[EXPOSE] = ", ".join(exposed)
        return response
    return cors_after_request
