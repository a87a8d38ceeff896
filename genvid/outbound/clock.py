"""The webhooks' clock: when an attempt is due, how long a delivery keeps being retried, when an endpoint has
failed for a day. Tests install their own (`use(FrozenClock(...))`) and run due work explicitly; the
webhook-timestamp header is always the wall clock, since the receiver checks it against its own.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from genvid.auth.clock import system_now

_installed: Callable[[], datetime] | None = None


def now() -> datetime:
    """The installed clock's time, else the system's (UTC, milliseconds)."""
    return _installed() if _installed is not None else system_now()


@contextmanager
def use(clock: Callable[[], datetime]) -> Iterator[None]:
    """Run the block (and any worker it drives in this process) on clock."""
    global _installed
    previous, _installed = _installed, clock
    try:
        yield
    finally:
        _installed = previous
