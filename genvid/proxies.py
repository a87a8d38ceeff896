"""The objects behind flask.request and flask.current_app, for code that runs on every request.

Both are werkzeug LocalProxy objects, and every attribute read through one walks several Python calls: about
7,000 instructions each (callgrind, on get-session, whose auth path read them some fifteen times, a tenth of
the whole request). Hot code takes the object once, through the proxies' public _get_current_object(), and
reads plain attributes from it. Everywhere else, flask.request and flask.current_app read better.
"""
from __future__ import annotations

from flask import Flask, Request, current_app, request


def this_request() -> Request:
    """The request being handled (RuntimeError outside a request context)."""
    found: Request = request._get_current_object()  # type: ignore[attr-defined]
    return found


def this_app() -> Flask:
    """The app handling the current request or app context (RuntimeError outside one)."""
    found: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return found
