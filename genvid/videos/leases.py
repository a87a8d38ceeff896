"""The claim a running job holds on its video, kept alive by its worker's loop.

A job that starts on a video sets the row's next_check_at to now + the lease (db TakeVideo). While the job
runs (a create upstream, an offline render, a download), the worker's loop renews that claim every tick
from another thread (renew()). If the worker dies, even by SIGKILL, renewals stop, the claim lapses within
one lease, and the dispatcher hands the step to a live worker: a killed render resumes within
lease + one dispatch tick instead of after a fixed window sized for the slowest create.

The rows' step guards keep this safe: a claim that lapsed while its (slow, not dead) worker still ran gives at
worst one duplicate job, whose create is replayed by the idempotency key and whose writes are no-ops.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import db.videos_videos as queries
from genvid import database


@dataclass
class Lease:
    """A job's claim on (video_id, step); the job moves step along as it changes the row."""

    video_id: str
    step: int


_held: dict[int, Lease] = {}         # by id(lease): one per job running in this process
_lock = threading.Lock()


@contextmanager
def holding(video_id: str, step: int) -> Iterator[Lease]:
    """Within the block, renew() keeps the claim on the video alive (at the lease's current step)."""
    lease = Lease(video_id, step)
    with _lock:
        _held[id(lease)] = lease
    try:
        yield lease
    finally:
        with _lock:
            _held.pop(id(lease), None)


def held() -> list[Lease]:
    """The claims of the jobs running in this process now."""
    with _lock:
        return [Lease(lease.video_id, lease.step) for lease in _held.values()]


def renew(*, now: datetime, seconds: float) -> int:
    """Extend every claim held in this process to now + seconds; returns how many rows were extended."""
    leases = held()
    if not leases:
        return 0
    until = now + timedelta(seconds=seconds)
    renewed = 0
    with database.connection() as conn:
        for lease in leases:
            renewed += queries.renew_lease(conn, lease_until=until, id=lease.video_id, step=lease.step)
    return renewed
