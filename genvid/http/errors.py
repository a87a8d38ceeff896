"""The one place where every failure becomes an HTTP response.

`/api/auth/*` answers exactly as better-auth does (`{"message", "code"}`, routing misses as an empty 404);
every other `/api/` route answers the envelope's Error (genvid.http.envelope:
`{"success": false, "data": null, "error": {"code", "message", "details"}, "meta": null}`);
paths outside `/api` (the web app's pages) answer with the HTML page set by set_page_renderer, if any.
The error types themselves live in genvid.errors, free of Flask.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from genvid.errors import AppError, BetterAuthError
from genvid.http import envelope
from genvid.infra.database import DatabaseUnavailable

log = logging.getLogger("genvid.errors")   # the name every log line of it has carried


_HTTP_CODES = {
    400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED", 500: "INTERNAL_ERROR", 503: "SERVICE_UNAVAILABLE",
}
_PAGE_MESSAGES = {
    404: "There is no page at this address.",
    405: "This page cannot do that. If JavaScript is turned off, turn it on: the forms need it.",
}
_HTTP_MESSAGES = {
    404: "No such endpoint.",
    405: "This endpoint does not accept that method.",
    413: "The request body is larger than 1 MiB.",
    415: "Send the body as application/json.",
}


def _is_auth_path() -> bool:
    return request.path == "/api/auth" or request.path.startswith("/api/auth/")


_PAGE_RENDERER = "genvid.errors.page"


def set_page_renderer(app: Flask, render: Callable[[int, str], Response]) -> None:
    """Answer failures outside /api with render(status, message), an HTML page, instead of JSON."""
    app.extensions[_PAGE_RENDERER] = render


def _page(status: int, message: str) -> Response | None:
    """The HTML error page for a path outside /api, when the app has one."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return None
    render: Callable[[int, str], Response] | None = current_app.extensions.get(_PAGE_RENDERER)
    return render(status, message) if render is not None else None


def _envelope_response(status: int, code: str, message: str, details: Any = None,
                       headers: dict[str, str] | None = None) -> Response:
    response = Response(envelope.error_json(code, message, details), status=status,
                        mimetype="application/json")
    response.headers.update(headers or {})
    return response


def handle_app_error(error: AppError) -> Response:
    return _envelope_response(error.status, error.code, error.message, error.details, error.headers)


def handle_better_auth_error(error: BetterAuthError) -> Response:
    if error.empty:
        response = Response(b"", status=error.status, content_type="application/json")
        response.headers.update(error.headers)
        return response
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if _is_auth_path():
        if status in (404, 405):
            # better-auth answers unknown routes and wrong methods with an empty 404, no content type.
            response = Response(b"", status=404)
            del response.headers["Content-Type"]
            return response
        return handle_better_auth_error(BetterAuthError(status, error.description or "", None))
    code = _HTTP_CODES.get(status, "HTTP_ERROR")
    message = _HTTP_MESSAGES.get(status) or (error.description or code)
    page = _page(status, _PAGE_MESSAGES.get(status, message))
    if page is not None:
        return page
    response = _envelope_response(status, code, message)
    allowed = getattr(error, "valid_methods", None)   # only MethodNotAllowed carries it
    if status == 405 and allowed:
        response.headers["Allow"] = ", ".join(sorted(allowed))
    return response


DATABASE_UNAVAILABLE = "The database is unavailable; try again shortly."
REDIS_UNAVAILABLE = "A backing service (Redis) is unavailable; try again shortly."
REDIS_RETRY_AFTER_SECONDS = 2


def unavailable(message: str, retry_after: int) -> Response:
    """503 SERVICE_UNAVAILABLE with Retry-After, in the shape of the path (better-auth's on /api/auth, the
    HTML page outside /api)."""
    headers = {"Retry-After": str(retry_after)}
    if _is_auth_path():
        return handle_better_auth_error(BetterAuthError(503, message, "SERVICE_UNAVAILABLE", headers=headers))
    page = _page(503, message)
    if page is not None:
        page.headers.update(headers)
        return page
    return _envelope_response(503, "SERVICE_UNAVAILABLE", message, headers=headers)


def handle_database_unavailable(error: DatabaseUnavailable) -> Response:
    """PostgreSQL is down or every connection is busy: the caller may retry
    (genvid.infra.database decides fast)."""
    log.warning("database unavailable", extra={"reason": str(error)})
    return unavailable(DATABASE_UNAVAILABLE, error.retry_after)


def handle_redis_unavailable(error: redis.ConnectionError | redis.TimeoutError) -> Response:
    """Redis unreachable where a handler needed it (queues, pub/sub, counters): retry, nothing is lost."""
    log.warning("redis unavailable", extra={"error_type": type(error).__name__})
    return unavailable(REDIS_UNAVAILABLE, REDIS_RETRY_AFTER_SECONDS)


def handle_unexpected(error: Exception) -> Response:
    """Log the details, answer none of them."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error", extra={"error_type": type(error).__name__})
    if _is_auth_path():
        return handle_better_auth_error(
            BetterAuthError(500, "Internal Server Error", "INTERNAL_SERVER_ERROR"))
    return _page(500, "Something went wrong on our side.") or _envelope_response(
        500, "INTERNAL_ERROR", "Something went wrong on our side.")


def init_app(app: Flask) -> None:
    """Route every failure through this module."""
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(BetterAuthError, handle_better_auth_error)
    app.register_error_handler(DatabaseUnavailable, handle_database_unavailable)
    app.register_error_handler(redis.ConnectionError, handle_redis_unavailable)
    app.register_error_handler(redis.TimeoutError, handle_redis_unavailable)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    app.config["PROPAGATE_EXCEPTIONS"] = False
