"""Request-side helpers for /api/auth and current_user(): settings, client address, the presented session.

Everything here reads the Flask request; the domain modules it calls do not.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from typing import Any

from flask import request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.http import parse_cookie

from genvid import clock
from genvid.auth import cookies, keyseal, ratelimit, sessions
from genvid.auth.jwts import looks_like_jwt
from genvid.http.app_config import app_config
from genvid.http.request_context import once_per_request, this_app, this_request
from genvid.infra import database

_EXTENSION = "genvid.auth"
# Per-request values, kept in the request's WSGI environ by genvid.http.request_context.once_per_request.
_PRESENTED_KEY = "genvid.auth.presented"
_SESSION_KEY = "genvid.auth.session"


@dataclass(frozen=True)
class AuthSettings:
    """What every auth request works with, derived once per app from its Config (genvid.http.app_config): the
    cookie jar, the trusted origins, the JWT key sealing, and the few settings read on every request (so the
    hot path reads them here rather than from the Config again). Other settings: app_config()."""

    jar: cookies.CookieJar
    trusted: frozenset[str]
    key_sealing: keyseal.KeySealing
    secret: str                  # BETTER_AUTH_SECRET: signs cookies
    issuer: str                  # BETTER_AUTH_URL: the JWTs' iss and aud
    rate_limit: bool
    trusted_proxy_count: int


def settings() -> AuthSettings:
    """This app's auth settings."""
    app = this_app()
    cached: AuthSettings | None = app.extensions.get(_EXTENSION)
    if cached is None:
        config = app_config(app)
        cached = AuthSettings(
            jar=cookies.CookieJar(secret=config.better_auth_secret,
                                  secure=config.better_auth_url.lower().startswith("https://")),
            trusted=config.allowed_origins,
            key_sealing=keyseal.KeySealing(writes=config.jwt_key_encryption,
                                           better_auth_secret=config.better_auth_secret,
                                           encryption_key=config.encryption_key),
            secret=config.better_auth_secret, issuer=config.better_auth_url, rate_limit=config.rate_limit,
            trusted_proxy_count=config.trusted_proxy_count,
        )
        app.extensions[_EXTENSION] = cached
    return cached


def client_ip() -> str:
    """The caller's address from X-Forwarded-For and TRUSTED_PROXY_COUNT ('' when unknown)."""
    return client_ip_in(this_request().environ, settings())


def client_ip_in(environ: dict[str, Any], auth: AuthSettings) -> str:
    """client_ip() of the request with this WSGI environ."""
    return ratelimit.client_ip(environ.get("HTTP_X_FORWARDED_FOR"),
                               trusted_proxy_count=auth.trusted_proxy_count)


def user_agent() -> str:
    """The User-Agent header, '' when absent (as better-auth stores it), without U+0000 (which PostgreSQL
    cannot store; HTTP servers refuse it, but a WSGI server need not)."""
    return request.headers.get("User-Agent", "").replace("\x00", "")


class Presented(Enum):
    """What the request carried as a session credential."""

    NONE = "none"              # nothing, or something unusable (a JWT, an unsigned cookie)
    BAD_SIGNATURE = "bad"      # a signed value whose signature does not verify: ignored silently
    TOKEN = "token"            # a validly signed (or bare bearer) session token


def bearer_value() -> str | None:
    """The credential after `Authorization: Bearer `, if any."""
    return _bearer(this_request().environ)


def _bearer(environ: dict[str, Any]) -> str | None:
    scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def presented_token() -> tuple[Presented, str | None]:
    """The session token the request presents (read once per request)."""
    return once_per_request(_PRESENTED_KEY, lambda: read_presented_token(this_request().environ, settings()))


def read_presented_token(environ: dict[str, Any], auth: AuthSettings) -> tuple[Presented, str | None]:
    """The session token the request with this WSGI environ presents: a bearer session token wins over the
    cookie."""
    value = _bearer(environ)
    if value is not None:
        if looks_like_jwt(value):
            return Presented.NONE, None
        if "." not in value and "%" not in value:
            return Presented.TOKEN, value        # a bare token: the bearer plugin signs it itself
        token = cookies.verify_signed(auth.secret, value)
        return (Presented.TOKEN, token) if token else (Presented.BAD_SIGNATURE, None)
    raw = _cookies(environ).get(auth.jar.session_token)
    if raw is None:
        return Presented.NONE, None
    token = cookies.verify_signed(auth.secret, raw)
    return (Presented.TOKEN, token) if token else (Presented.BAD_SIGNATURE, None)


def _cookies(environ: dict[str, Any]) -> MultiDict[str, str]:
    """The request's cookies."""
    return _parsed_cookie_header(environ.get("HTTP_COOKIE", ""))


@functools.lru_cache(maxsize=4096)
def _parsed_cookie_header(header: str) -> MultiDict[str, str]:
    # A pure function of the header, and a client sends the same Cookie header on every request (get-session
    # polling): parsed once per process instead of once per request.
    # Immutable, as every caller shares it; bounded, so junk headers only evict.
    return parse_cookie(header, cls=ImmutableMultiDict)


def request_cookie(name: str) -> str | None:
    """One cookie of this request, raw (as sent)."""
    return _cookies(this_request().environ).get(name)


def remembers() -> bool:
    """False when a validly signed dont_remember cookie came with the request."""
    return remembers_in(this_request().environ, settings())


def remembers_in(environ: dict[str, Any], auth: AuthSettings) -> bool:
    """remembers() of the request with this WSGI environ."""
    return cookies.verify_signed(auth.secret, _cookies(environ).get(auth.jar.dont_remember)) != "true"


def active_session() -> sessions.ActiveSession | None:
    """The live session of this request (looked up once per request)."""
    return once_per_request(_SESSION_KEY, _look_up_session)


def _look_up_session() -> sessions.ActiveSession | None:
    state, token = presented_token()
    if state is not Presented.TOKEN or not token:
        return None
    with database.connection() as conn:
        return sessions.find_session(conn, token=token, now=clock.now())
