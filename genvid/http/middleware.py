"""Per-request plumbing: request ids, security headers, the one access-log line per request, the body size limit.

Request ids and the access log live in a WSGI middleware around the Flask app rather than in Flask's
before/after/teardown hooks: they run on every request, and one plain call costs a fraction of Flask's
hook dispatch (get-session, the most frequent request, measured in bench/auth.py).
"""
from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from types import FunctionType
from typing import TYPE_CHECKING, Any

from flask import Flask, Request
from flask.sessions import NullSession, SessionInterface
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_content_length

from genvid.http.app_config import app_config
from genvid.http.request_context import this_request
from genvid.infra import logs

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_request_id() -> str:
    """32 hex characters. A request id needs uniqueness, not secrecy, so no system call per request:
    the random module is reseeded in every forked process, so web and worker processes never share a stream."""
    return f"{random.getrandbits(128):032x}"


# On every response: no MIME sniffing of a JSON body into something executable, and no Referer carrying a
# URL (reset and verification links hold tokens) to wherever a page or redirect leads.
SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))
# Production over https: browsers must not try plain http for a year (gunicorn sets the https scheme from
# the router's X-Forwarded-Proto). Not over http, where browsers ignore it, nor in development.
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
# /api/ answers are per user (or errors): no shared or browser cache may keep them unless a handler says so
# (/api/auth excepted: see _needs_no_store).
NO_STORE = ("Cache-Control", "no-store")


class RequestLifecycle:
    """WSGI middleware: an X-Request-ID and the security headers on every response (the client's request id
    when sane), the request and user ids in every log line the request writes, and one access-log line when
    the response starts."""

    def __init__(self, app: WSGIApplication, *, production: bool = False) -> None:
        self.app = app
        self.production = production

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if incoming and _VALID_REQUEST_ID.fullmatch(incoming) else new_request_id()
        logs.request_id_var.set(request_id)
        logs.user_id_var.set(None)
        status = 500

        def start_with_request_id(status_line: str, headers: list[tuple[str, str]],
                                  exc_info: Any = None) -> Any:
            nonlocal status
            status = int(status_line[:3])
            headers.append(("X-Request-ID", request_id))
            headers.extend(SECURITY_HEADERS)
            if self.production and environ.get("wsgi.url_scheme") == "https":
                headers.append(HSTS)
            if _needs_no_store(environ.get("PATH_INFO", "")) and not _has_cache_control(headers):
                headers.append(NO_STORE)
            return start_response(status_line, headers, exc_info)

        try:
            body = self.app(environ, start_with_request_id)
        except BaseException:
            _forget_ids()
            raise
        finally:
            logs.access(method=environ.get("REQUEST_METHOD", ""), path=_path(environ), status=status,
                        duration_ms=logs.monotonic_ms(started))
        # The ids stay set while the server sends the body (a streamed response logs with them too) and are
        # cleared when it closes the body, so lines this thread writes between requests carry none.
        return _BodyThenForgetIds(body)


def _needs_no_store(path: str) -> bool:
    # /api/auth answers byte for byte as better-auth does, which sets no-store itself where it matters
    # (get-session) and nowhere else; its client is checked against exactly that (tests/test_auth_interop.py).
    return path.startswith("/api/") and not path.startswith("/api/auth/")


def _has_cache_control(headers: list[tuple[str, str]]) -> bool:
    for name, _ in headers:
        if len(name) == 13 and name.lower() == "cache-control":
            return True
    return False


def _forget_ids() -> None:
    logs.request_id_var.set(None)
    logs.user_id_var.set(None)


class _BodyThenForgetIds:
    """The app's response body as it is, plus a close() that closes it and then clears the log ids.

    (werkzeug's ClosingIterator does the same, but the server then pulls every chunk through its Python
    __next__; this hands the server the body's own iterator. 1.5% of a get-session's instructions.)
    """

    __slots__ = ("_body",)

    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            _forget_ids()


def _path(environ: WSGIEnvironment) -> str:
    """The request path as Flask's request.path reads it (WSGI carries it as latin-1 decoded bytes)."""
    raw: str = environ.get("PATH_INFO", "")
    return raw if raw.isascii() else raw.encode("latin-1", "replace").decode("utf-8", "replace")


class App(Flask):
    """Flask, remembering which views and hooks are synchronous: Flask asks inspect.iscoroutinefunction
    about each one on every request (four times for get-session), though the answer never changes."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if not isinstance(func, FunctionType):     # e.g. a class-based view's bound method, new per request
            return super().ensure_sync(func)
        known = self._ensured.get(func)
        if known is None:
            known = self._ensured[func] = super().ensure_sync(func)
        return known

    @cached_property
    def _ensured(self) -> dict[Callable[..., Any], Callable[..., Any]]:
        return {}


class NoFlaskSession(SessionInterface):
    """genvid keeps no Flask session (auth is better-auth's own cookies), so there is nothing to open or save
    and no object to build per request: every request shares one empty, read-only NullSession."""

    _none = NullSession()

    def open_session(self, app: Flask, request: Request) -> NullSession:
        return self._none

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        return None


def init_app(app: Flask) -> None:
    """Wrap the app in RequestLifecycle, drop Flask's session, refuse oversized bodies before any handler."""
    app.wsgi_app = RequestLifecycle(app.wsgi_app,  # type: ignore[method-assign]
                                    production=app_config(app).is_production)
    app.session_interface = NoFlaskSession()
    limit = app.config.get("MAX_CONTENT_LENGTH")

    @app.before_request
    def refuse_oversized_body() -> None:
        # Whether or not the handler reads the body: a large upload is refused before any work is done. (From
        # the environ: request.content_length, through the proxy and EnvironHeaders, cost 3% of a get-session's
        # instructions. A chunked body has no declared length; werkzeug holds it to the limit as it is read.)
        if limit and (get_content_length(this_request().environ) or 0) > limit:
            raise RequestEntityTooLarge()
