"""The auth clock: one seam so tests control time without patching code.

Handlers read `now()`, which asks the Flask app for `app.config["AUTH_CLOCK"]` (a zero-argument callable
returning an aware datetime) and otherwise uses the system clock. Domain functions never call it: they are
handed `now` as an argument, which keeps them pure and testable without an app.

system_now() and FrozenClock are in genvid.auth.system_time, free of Flask (the CLI uses them too); they are
imported here for the handlers and tests that use this module.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from genvid.auth.system_time import FrozenClock, system_now
from genvid.http.request_context import this_app

__all__ = ["CLOCK_KEY", "FrozenClock", "now", "system_now"]

CLOCK_KEY = "AUTH_CLOCK"


def now() -> datetime:
    """The app's clock when one is installed (tests), else the system clock."""
    try:
        clock: Callable[[], datetime] | None = this_app().config.get(CLOCK_KEY)
    except RuntimeError:        # outside an app context: no app, so no installed clock
        return system_now()
    return clock() if clock is not None else system_now()
