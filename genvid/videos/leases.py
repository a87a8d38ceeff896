"""The claim a running job holds on its video, kept alive by its worker's loop.

When the dispatcher sends a step to a worker, the row is claimed until now + render_redispatch_seconds (60):
its next_check_at. A job registers the step it works on here (holding()); the worker's loop, from another
thread, extends the claim to now + render_lease_seconds (20) whenever less than half of that is left
(renew()), for as long as the job runs: a create upstream, an offline render, a download. If the worker
dies, even by SIGKILL, renewals stop, and the step is dispatched to a live worker within 20 s of the death
(60 s if it died in its job's first 40 s): no fixed window sized for the slowest create, and a slow but live
worker is never preempted. A quick job writes nothing here: the claim the dispatcher took outlasts it.

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
from genvid.infra import database


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
    """Extend each claim held in this process that has less than seconds / 2 left to now + seconds; returns
    how many rows were extended."""
    leases = held()
    if not leases:
        return 0
    until = now + timedelta(seconds=seconds)
    renew_before = now + timedelta(seconds=seconds / 2)
    renewed = 0
    with database.connection() as conn:
        for lease in leases:
            renewed += queries.renew_lease(conn, lease_until=until, id=lease.video_id, step=lease.step,
                                           renew_before=renew_before)
    return renewed
