"""JSON-lines logging on stdout, every line carrying the request or job id and the user id."""
from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)
job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line; extra= fields are kept, secrets never reach here by convention."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, var in (("request_id", request_id_var), ("user_id", user_id_var), ("job_id", job_id_var)):
            value = var.get()
            if value is not None:
                entry[key] = value
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def setup(level: str = "INFO") -> None:
    """Send every logger's records to stdout as JSON lines (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_genvid", False):
            root.removeHandler(handler)
    # A JSON line never shows a record's thread, process or source line, so logging need not work them out
    # for every record (the "Optimization" section of Python's logging HOWTO; half the cost of a line).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None  # type: ignore[attr-defined]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler._genvid = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


_access_log = logging.getLogger("genvid.access")


def access(*, method: str, path: str, status: int, duration_ms: float) -> None:
    """The one access-log line of a request (logger genvid.access, level INFO)."""
    if _access_log.isEnabledFor(logging.INFO):
        _access_log.info("request", extra={"method": method, "path": path, "status": status,
                                           "duration_ms": duration_ms})


def monotonic_ms(start: float) -> float:
    """Milliseconds since a time.perf_counter() reading, rounded for logs."""
    return round((time.perf_counter() - start) * 1000, 2)
