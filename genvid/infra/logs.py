"""JSON-lines logging on stdout, every line carrying the request or job id and the user id."""
from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)
job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_CONTEXT = (("request_id", request_id_var), ("user_id", user_id_var), ("job_id", job_id_var))
ACCESS_LOGGER = "genvid.access"


_formatted_second: tuple[int, str] = (-1, "")


def timestamp(created: float) -> str:
    """A time.time() reading as ISO 8601 UTC with milliseconds, as isoformat(timespec="milliseconds") writes
    it. Date and time are formatted once per second: every request writes a line, and formatting a datetime
    cost more than the rest of the line."""
    global _formatted_second
    second = int(created)
    cached_second, prefix = _formatted_second
    if second != cached_second:
        prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _formatted_second = (second, prefix)
    return f"{prefix}.{int((created - second) * 1000):03d}+00:00"


def _entry(created: float, level: str, logger: str, message: str) -> dict[str, Any]:
    """The fields every line starts with: time, level, logger, message, and the ids of the work in hand."""
    entry: dict[str, Any] = {
        "ts": timestamp(created),
        "level": level,
        "logger": logger,
        "msg": message,
    }
    for key, var in _CONTEXT:
        value = var.get()
        if value is not None:
            entry[key] = value
    return entry


def _dumps(entry: dict[str, Any]) -> str:
    # orjson: every request writes at least one line, and it encodes one in a tenth of json.dumps's time.
    try:
        return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:      # what orjson refuses and json takes, e.g. an int beyond 64 bits
        return json.dumps(entry, default=str, ensure_ascii=False)


class JsonFormatter(logging.Formatter):
    """One JSON object a line; extra= fields are kept, secrets never reach here by convention."""

    def format(self, record: logging.LogRecord) -> str:
        entry = _entry(record.created, record.levelname.lower(), record.name, record.getMessage())
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _dumps(entry)


_handler: logging.StreamHandler | None = None     # type: ignore[type-arg]


def setup(level: str = "INFO") -> None:
    """Send every logger's records to stdout as JSON lines (idempotent)."""
    global _handler
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_genvid", False):
            root.removeHandler(handler)
    # No line shows the caller's source file and line, so logging need not walk the stack for every record
    # (the "Optimization" section of Python's logging HOWTO). Thread and process fields stay: gunicorn's
    # own log format prints %(process)d.
    logging._srcfile = None  # type: ignore[attr-defined]
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(JsonFormatter())
    _handler._genvid = True  # type: ignore[attr-defined]
    root.addHandler(_handler)
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


_access_log = logging.getLogger(ACCESS_LOGGER)


def access(*, method: str, path: str, status: int, duration_ms: float) -> None:
    """The one access-log line of a request: logger genvid.access, level INFO, the same JSON as every line.

    Every request writes one, so it goes straight to the JSON handler's stream instead of through a
    LogRecord and handler dispatch, which cost more than the line itself (~6% of a get-session request's
    CPU, bench/auth.py). It therefore reaches stdout only, never other handlers a host may have added.
    """
    if not _access_log.isEnabledFor(logging.INFO):
        return
    entry = _entry(time.time(), "info", ACCESS_LOGGER, "request")
    entry["method"], entry["path"], entry["status"], entry["duration_ms"] = method, path, status, duration_ms
    handler = _handler
    if handler is None:          # setup() not called (a library user): fall back to plain logging
        _access_log.info("request", extra={k: entry[k] for k in ("method", "path", "status", "duration_ms")})
        return
    line = _dumps(entry) + handler.terminator
    try:
        with handler.lock:       # type: ignore[union-attr]  # created by Handler.__init__
            handler.stream.write(line)
            handler.stream.flush()
    except (OSError, ValueError):
        pass     # a closed or broken stdout must not fail the request (logging's own handlers swallow it too)


def monotonic_ms(start: float) -> float:
    """Milliseconds since a time.perf_counter() reading, rounded for logs."""
    return round((time.perf_counter() - start) * 1000, 2)
