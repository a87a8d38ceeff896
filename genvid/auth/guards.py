"""The checks /api/auth views run before their own work, in better-call's order, as plain functions.

1. before_request() (on the blueprint, for every view): a trailing slash or a bare OPTIONS is an unknown
   route to better-auth (404); then the rate limit.
2. prepare(schema), first in a view that takes a body: content type (415), body schema (400), Origin/CSRF
   (403), callback URLs.
3. require_session(): the session middleware (401 without a live session; 403 when the view demands a fresh
   one); session_or_bare_401() where better-auth answers 401 with no body.
password_policy() is the configured password hashing of every view that takes a password.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, request

from genvid import clock, queue
from genvid.auth import context, origin, ratelimit, sessions, users
from genvid.auth.validation import Schema, read_body, validate
from genvid.errors import BetterAuthError
from genvid.proxies import this_request

PREFIX = "/api/auth"


def relative_path() -> str:
    """The request path below /api/auth."""
    return this_request().path[len(PREFIX):]


def before_request() -> None:
    """Trailing slashes and plain OPTIONS are unknown routes to better-auth; then the rate limit."""
    current = this_request()
    path, method = current.path, current.method
    if path.endswith("/"):
        abort(404)
    if method == "OPTIONS":
        if not current.headers.get("Access-Control-Request-Method"):
            abort(404)
    elif context.settings().config.rate_limit:
        ratelimit.hit(queue.connection(), ip=context.client_ip(), path=relative_path())


def prepare(schema: Schema) -> dict[str, Any]:
    """Content type, body schema, Origin/CSRF and callback URLs, in better-call's order."""
    body = validate(read_body(request, schema), schema)
    check_origin(body)
    return body


def check_origin(body: Mapping[str, Any]) -> None:
    """Origin/CSRF (403), then the callback URLs in the body and the query: what prepare() checks once the
    body is read (for views that read their body their own way)."""
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


def session_or_bare_401() -> sessions.ActiveSession:
    """The live session, else better-auth's ctx.error("UNAUTHORIZED"): 401 with an empty body."""
    active = context.active_session()
    if active is None:
        raise BetterAuthError(401, "Unauthorized", empty=True)
    return active


def password_policy() -> users.PasswordPolicy:
    """The configured password hashing."""
    config = context.settings().config
    return users.PasswordPolicy(algorithm=config.password_hash, bcrypt_rounds=config.bcrypt_rounds)
