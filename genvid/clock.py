"""The workers' clock: one seam through which tests drive time for jobs, the dispatchers and the worker's loop,
instead of sleeping.

Everything that decides when a video step or a webhook delivery is due (the create, the jobs, both dispatchers,
webhook retries and their day-long window, periodic tasks) reads now() here. A process runs on the system
clock unless a test installed another (install(), e.g. genvid.auth.clock.FrozenClock, then advance it); the
auth handlers have their own, per-app seam.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_installed: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current UTC time: the installed clock's, else the system's."""
    return _installed() if _installed is not None else datetime.now(UTC)


def install(clock: Callable[[], datetime] | None) -> None:
    """Make clock (a callable returning an aware datetime) this process's time; None restores the system's."""
    global _installed
    _installed = clock
