"""Per-request plumbing: the body size limit, request ids, and the one access-log line per request."""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from genvid.logs import monotonic_ms, request_id_var, user_id_var

log = logging.getLogger("genvid.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def init_app(app: Flask) -> None:
    """Give every request an X-Request-ID (the client's when sane) and log it when it ends."""

    @app.before_request
    def start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()
        g.request_id_token = request_id_var.set(g.request_id)
        g.user_id_token = user_id_var.set(None)
        # Refuse an oversized body before any handler runs, whether or not that handler reads it.
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if limit and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()

    @app.after_request
    def finish(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
            log.info("request", extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": monotonic_ms(g.get("started", time.perf_counter())),
            })
        return response

    @app.teardown_request
    def reset(_exc: BaseException | None) -> None:
        for name, var in (("request_id_token", request_id_var), ("user_id_token", user_id_var)):
            token = g.pop(name, None)
            if token is not None:
                var.reset(token)
