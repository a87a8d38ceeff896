"""Request-side helpers for /api/auth and current_user(): settings, client address, the presented session.

Everything here reads the Flask request; the domain modules it calls do not.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import psycopg
from flask import Response, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.http import parse_cookie

from genvid import database
from genvid.auth import clock, cookies, keyseal, ratelimit, sessions
from genvid.auth.jwts import looks_like_jwt
from genvid.auth.serialize import EncodedJSON
from genvid.config import Config, origin_of
from genvid.cors import EXPOSE
from genvid.proxies import once_per_request, this_app, this_request

_EXTENSION = "genvid.auth"
# Per-request values, kept in the request's WSGI environ by genvid.proxies.once_per_request.
_PRESENTED_KEY = "genvid.auth.presented"
_SESSION_KEY = "genvid.auth.session"


@dataclass(frozen=True)
class AuthSettings:
    """What auth needs from Config, computed once per app."""

    config: Config
    jar: cookies.CookieJar
    trusted: frozenset[str]
    key_sealing: keyseal.KeySealing

    @property
    def secret(self) -> str:
        return self.config.better_auth_secret


def settings() -> AuthSettings:
    """This app's auth settings."""
    app = this_app()
    cached: AuthSettings | None = app.extensions.get(_EXTENSION)
    if cached is None:
        config: Config = app.config["GENVID"]
        origins = {origin_of(o) for o in config.trusted_origins} | {config.base_origin}
        cached = AuthSettings(
            config=config,
            jar=cookies.CookieJar(secret=config.better_auth_secret,
                                  secure=config.better_auth_url.lower().startswith("https://")),
            trusted=frozenset(o for o in origins if o),
            key_sealing=keyseal.KeySealing(writes=config.jwt_key_encryption,
                                           better_auth_secret=config.better_auth_secret,
                                           encryption_key=config.encryption_key),
        )
        app.extensions[_EXTENSION] = cached
    return cached


def client_ip() -> str:
    """The caller's address from X-Forwarded-For and TRUSTED_PROXY_COUNT ('' when unknown)."""
    return ratelimit.client_ip(request.headers.get("X-Forwarded-For"),
                               trusted_proxy_count=settings().config.trusted_proxy_count)


def user_agent() -> str:
    """The User-Agent header, '' when absent (as better-auth stores it)."""
    return request.headers.get("User-Agent", "")


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
    return once_per_request(_PRESENTED_KEY, lambda: _read_presented_token(this_request().environ, settings()))


def _read_presented_token(environ: dict[str, Any], auth: AuthSettings) -> tuple[Presented, str | None]:
    """A bearer session token wins over the cookie. (Read from the WSGI environ: werkzeug's request.cookies
    walks every request header to find the Cookie one, a cost get-session would pay on every call.)"""
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
    # polling): parsed once per process instead of once per request (5% of a get-session's instructions).
    # Immutable, as every caller shares it; bounded, so junk headers only evict.
    return parse_cookie(header, cls=ImmutableMultiDict)


def remembers() -> bool:
    """False when a validly signed dont_remember cookie came with the request."""
    auth = settings()
    raw = _cookies(this_request().environ).get(auth.jar.dont_remember)
    return cookies.verify_signed(auth.secret, raw) != "true"


def active_session(conn: psycopg.Connection | None = None, *,
                   now: datetime | None = None) -> sessions.ActiveSession | None:
    """The live session of this request (looked up once per request, on conn and at now when given)."""
    return once_per_request(_SESSION_KEY, lambda: _look_up_session(conn, now))


def _look_up_session(conn: psycopg.Connection | None, now: datetime | None) -> sessions.ActiveSession | None:
    state, token = presented_token()
    if state is not Presented.TOKEN or not token:
        return None
    at = now or clock.now()
    if conn is not None:
        return sessions.find_session(conn, token=token, now=at)
    with database.connection() as own:
        return sessions.find_session(own, token=token, now=at)


def json_response(body: Any, status: int = 200, *, set_cookies: list[str] | None = None,
                  session_token: str | None = None, auth_jwt: str | None = None,
                  headers: dict[str, str] | None = None) -> Response:
    """A JSON response with Set-Cookie headers and the bearer and jwt plugins' headers.

    session_token becomes set-auth-token (signed), auth_jwt becomes set-auth-jwt, and both are named in
    Access-Control-Expose-Headers, as better-auth's plugins do on every response carrying them, Origin or
    not (genvid.cors joins that with flask-cors's list into one header for a trusted origin). The body is
    serialised here rather than by flask.jsonify: auth bodies are plain JSON already, and get-session, the
    most frequent request of all, is measurably cheaper without the provider's dispatch.
    """
    fixed = list((headers or {}).items())
    exposed = []
    if session_token is not None:
        fixed.append(("set-auth-token", cookies.signed_value(settings().secret, session_token)))
        exposed.append("set-auth-token")
    if auth_jwt is not None:
        fixed.append(("set-auth-jwt", auth_jwt))
        exposed.append("set-auth-jwt")
    managed = [("Set-Cookie", header) for header in set_cookies or ()]
    if exposed:
        managed.append((EXPOSE, ", ".join(exposed)))
    text = body if isinstance(body, EncodedJSON) else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = _AuthJSONResponse(text + "\n", status, managed, mimetype="application/json")
    response.add_fixed_headers(fixed)
    return response


class _AuthJSONResponse(Response):
    """A Response whose fixed headers are checked once, by str methods, and appended to the WSGI header list.

    werkzeug scans each header value with a regular expression when it is set, then copies the headers and
    scans them again when the response is sent: on get-session (two no-store headers and a 700-character
    set-auth-jwt) that was ~10% of the request's instructions (callgrind). A name of letters, digits and
    dashes and an ASCII, printable value (no CR, LF or other control character) cannot split or end a
    header. After-request hooks do not see these; Set-Cookie, and Access-Control-Expose-Headers (which
    genvid.cors merges with flask-cors's), go through werkzeug as usual.
    """

    _fixed: tuple[tuple[str, str], ...] = ()

    def add_fixed_headers(self, headers: list[tuple[str, str]]) -> None:
        for name, value in headers:
            if not (name.replace("-", "").isalnum() and name.isascii() and value.isascii() and value.isprintable()):
                raise ValueError(f"header {name!r} needs a token name and an ASCII, printable value")
        self._fixed += tuple(headers)

    def get_wsgi_response(self, environ: dict[str, Any]) -> tuple[Any, str, list[tuple[str, str]]]:
        app_iter, status, headers = super().get_wsgi_response(environ)
        return app_iter, status, headers + list(self._fixed)


def session_cookie_response(body: Any, *, token: str, remember: bool, status: int = 200) -> Response:
    """A JSON response that sets the session cookie (and set-auth-token)."""
    return json_response(body, status, set_cookies=settings().jar.session_headers(token, remember=remember),
                         session_token=token)



def redirect_response(location: str) -> Response:
    """A 302 as better-call sends it: Location, an empty body, and (still) a JSON content type."""
    response = Response(b"", status=302, content_type="application/json")
    response.headers["Location"] = location
    return response
