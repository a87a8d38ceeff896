"""The auth clock: one seam so tests control time without patching code.

Handlers read `now()`, which asks the Flask app for `app.config["AUTH_CLOCK"]` (a zero-argument callable
returning an aware datetime) and otherwise uses the system clock. Domain functions never call it: they are
handed `now` as an argument, which keeps them pure and testable without an app.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from genvid.http.request_context import this_app

CLOCK_KEY = "AUTH_CLOCK"


def system_now() -> datetime:
    """The current UTC time at millisecond precision (what a JS Date can hold)."""
    # Whole milliseconds as a float are exact to the microsecond fromtimestamp rounds to, for any date a
    # datetime holds; one call instead of now() and replace() (every authenticated request asks).
    return datetime.fromtimestamp(time.time_ns() // 1_000_000 / 1000, UTC)


def now() -> datetime:
    """The app's clock when one is installed (tests), else the system clock."""
    try:
        clock: Callable[[], datetime] | None = this_app().config.get(CLOCK_KEY)
    except RuntimeError:        # outside an app context: no app, so no installed clock
        return system_now()
    return clock() if clock is not None else system_now()


class FrozenClock:
    """A settable clock for tests: `app.config["AUTH_CLOCK"] = clock = FrozenClock(...)`, then `clock.advance(...)`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or system_now()

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward and return the new time."""
        from datetime import timedelta
        self.moment = self.moment + timedelta(seconds=seconds)
        return self.moment
