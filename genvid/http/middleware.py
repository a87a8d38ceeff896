"""Per-request plumbing: request ids, security headers, the one access-log line per request, the body size
limit.

Request ids, security headers and the access log live in a WSGI middleware around the Flask app rather than
in Flask's hooks, so that they hold for every answer, those genvid.auth.get_session gives before Flask
included.
"""
from __future__ import annotations

import random
import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import ClosingIterator

from genvid.http.app_config import app_config
from genvid.infra import logs

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_request_id() -> str:
    """32 hex characters. A request id needs uniqueness, not secrecy, so no system call per request:
    the random module is reseeded in every forked process, so web and worker processes never share a
    stream."""
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
        return ClosingIterator(body, _forget_ids)


def _needs_no_store(path: str) -> bool:
    # /api/auth answers byte for byte as better-auth does, which sets no-store itself where it matters
    # (get-session) and nowhere else; its client is checked against exactly that (tests/test_auth_interop.py).
    return path.startswith("/api/") and not path.startswith("/api/auth/")


def _has_cache_control(headers: list[tuple[str, str]]) -> bool:
    return any(name.lower() == "cache-control" for name, _ in headers)


def _forget_ids() -> None:
    logs.request_id_var.set(None)
    logs.user_id_var.set(None)


def _path(environ: WSGIEnvironment) -> str:
    """The request path as Flask's request.path reads it (WSGI carries it as latin-1 decoded bytes)."""
    raw: str = environ.get("PATH_INFO", "")
    return raw if raw.isascii() else raw.encode("latin-1", "replace").decode("utf-8", "replace")


def init_app(app: Flask) -> None:
    """Wrap the app in RequestLifecycle and refuse oversized bodies before any handler."""
    app.wsgi_app = RequestLifecycle(app.wsgi_app,  # type: ignore[method-assign]
                                    production=app_config(app).is_production)
    limit = app.config.get("MAX_CONTENT_LENGTH")

    @app.before_request
    def refuse_oversized_body() -> None:
        # Whether or not the handler reads the body: a large upload is refused before any work is done. (A
        # chunked body has no declared length; werkzeug holds it to the limit as it is read.)
        if limit and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()
