"""The /api/auth blueprint and what every one of its views runs before its own work, in better-call's order:
the route guard (trailing slashes and bare OPTIONS are unknown routes; then the rate limit), prepare()
(content type, body schema, Origin/CSRF, callback URLs), require_session() (the session middleware: 401, 403)
and the configured password policy.

The views register on `bp` from their modules: routes.py (sign-up/in/out, sessions, profile, password),
email_routes.py, jwt_routes.py, social_routes.py and account_routes.py; routes.py imports the others, so the
app gets every view by registering routes.bp.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, request

from genvid import clock
from genvid.auth import context, origin, ratelimit, sessions, users
from genvid.auth.validation import Schema, read_body, validate
from genvid.errors import BetterAuthError
from genvid.http.app_config import app_config
from genvid.http.request_context import this_request
from genvid.infra import redis_client

PREFIX = "/api/auth"
bp = Blueprint("auth", __name__, url_prefix=PREFIX)


def relative_path() -> str:
    """The request path below /api/auth."""
    return this_request().path[len(PREFIX):]


@bp.before_request
def guard() -> None:
    """Trailing slashes and plain OPTIONS are unknown routes to better-auth; then the rate limit."""
    current = this_request()
    path, method = current.path, current.method
    if path.endswith("/"):
        abort(404)
    if method == "OPTIONS":
        if not current.headers.get("Access-Control-Request-Method"):
            abort(404)
    elif context.settings().rate_limit:
        ratelimit.hit(redis_client.connection(), ip=context.client_ip(), path=relative_path())


def prepare(schema: Schema) -> dict[str, Any]:
    """Content type, body schema, Origin/CSRF and callback URLs, in better-call's order."""
    body = validate(read_body(request, schema), schema)
    check_origin(body)
    return body


def check_origin(body: Mapping[str, Any]) -> None:
    """Origin/CSRF (403), then the callback URLs in the body and the query: what prepare() checks once the
    body is read (for views that read their body their own way, the api-key plugin's)."""
    trusted = context.settings().trusted
    origin.check_request_origin(method=request.method, path=relative_path(), headers=request.headers,
                                trusted=trusted)
    origin.check_callbacks(body, trusted)
    origin.check_callbacks(request.args, trusted)


def require_session(*, fresh: bool = False) -> sessions.ActiveSession:
    """The session middleware: 401 without a live session, 403 when freshness is demanded and missing."""
    active = context.active_session()
    if active is None:
        raise BetterAuthError(401, "Unauthorized", "UNAUTHORIZED")
    if fresh and not sessions.is_fresh(active.session, now=clock.now()):
        raise BetterAuthError(403, "Session is not fresh", "SESSION_NOT_FRESH")
    return active


def policy() -> users.PasswordPolicy:
    """The configured password hashing."""
    config = app_config()
    return users.PasswordPolicy(algorithm=config.password_hash, bcrypt_rounds=config.bcrypt_rounds)


