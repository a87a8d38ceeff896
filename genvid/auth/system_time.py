"""The system's UTC time as better-auth keeps it (millisecond precision, what a JS Date holds), and a settable
clock for tests. Free of Flask: genvid.auth.clock is the request-side seam built on them."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


def system_now() -> datetime:
    """The current UTC time at millisecond precision (what a JS Date can hold)."""
    # Whole milliseconds as a float are exact to the microsecond fromtimestamp rounds to, for any date a
    # datetime holds; one call instead of now() and replace() (every authenticated request asks).
    return datetime.fromtimestamp(time.time_ns() // 1_000_000 / 1000, UTC)


class FrozenClock:
    """A settable clock for tests: `app.config["AUTH_CLOCK"] = clock = FrozenClock(...)`, then `clock.advance(...)`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or system_now()

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward and return the new time."""
        self.moment = self.moment + timedelta(seconds=seconds)
        return self.moment
