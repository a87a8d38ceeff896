"""The objects behind flask.request and flask.current_app, and values worked out once per request, for code
that runs on every request.

flask.request, flask.g and flask.current_app are werkzeug LocalProxy objects, and every attribute read through
one walks several Python calls: about 7,000 instructions each (callgrind, on get-session, whose auth path read
them some fifteen times, a tenth of the whole request). Hot code takes the object once, through the proxies'
public _get_current_object(), and reads plain attributes from it; once_per_request keeps per-request values in
the request's WSGI environ rather than in flask.g. Everywhere else, flask.request and flask.current_app read
better.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Request, current_app, request

T = TypeVar("T")
_MISSING = object()


def this_request() -> Request:
    """The request being handled (RuntimeError outside a request context)."""
    found: Request = request._get_current_object()  # type: ignore[attr-defined]
    return found


def this_app() -> Flask:
    """The app handling the current request or app context (RuntimeError outside one)."""
    found: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return found


def once_per_request(key: str, compute: Callable[[], T]) -> T:
    """compute() the first time this request asks for key (None included), the same value afterwards."""
    environ = this_request().environ
    found = environ.get(key, _MISSING)
    if found is _MISSING:
        found = environ[key] = compute()
    value: T = found
    return value
