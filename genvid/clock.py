"""genvid's clock: the one seam through which the whole app reads the time of day, so that tests drive time
instead of sleeping or patching code.

Everything that decides something by the time of day reads it here: sessions, tokens, API keys and JWTs
(auth), each video step and webhook delivery and both dispatchers (webhook retries and their day-long window
included), periodic tasks, signed media links, checkout idempotency windows. A process runs on the system
clock unless a test installed another: `install(FrozenClock(...))`, then `advance()` it (tests/conftest.py's
`frozen_clock` fixture does both and restores the system clock afterwards).

The system clock reads UTC in whole milliseconds, what a JavaScript Date holds: better-auth's tables are
shared with a Node server, and every timestamp genvid writes is one that server reads back unchanged.

Not read here: durations (`time.monotonic`, for timeouts, back-off and per-process windows, which a test
clock must not stretch), log timestamps (`genvid.infra.logs`) and the times outside parties check against
their own clocks (an outbound webhook's signed webhook-timestamp, Stripe's signature tolerance): those must be
real.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_installed: Callable[[], datetime] | None = None


def system_now() -> datetime:
    """The current UTC time at millisecond precision (what a JS Date can hold)."""
    # Whole milliseconds as a float are exact to the microsecond fromtimestamp rounds to, for any date a
    # datetime holds; one call instead of now() and replace() (every authenticated request asks).
    return datetime.fromtimestamp(time.time_ns() // 1_000_000 / 1000, UTC)


def now() -> datetime:
    """The current UTC time: the installed clock's, else the system's."""
    return _installed() if _installed is not None else system_now()


def unix() -> float:
    """now() as seconds since the epoch (what signed links and Stripe idempotency windows count in)."""
    return now().timestamp()


def install(clock: Callable[[], datetime] | None) -> None:
    """Make clock (a callable returning an aware datetime) this process's time; None restores the system's."""
    global _installed
    _installed = clock


class FrozenClock:
    """A settable clock for tests: `install(clock := FrozenClock())`, then `clock.advance(seconds)`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or system_now()

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward and return the new time."""
        self.moment = self.moment + timedelta(seconds=seconds)
        return self.moment
