"""The webhooks' sweeper: every webhook_sweep_seconds (5) it makes deliveries for events written by SQL
(credits.low), enqueues every delivery whose attempt is due (retries are scheduled this way, on the webhooks'
clock) and any whose job Redis lost (queued more than REQUEUE_AFTER ago and still not claimed), and once an
hour forgets events older than LOG_KEPT_DAYS with their deliveries and attempts.

It is a self-rescheduling RQ job chain; a Redis key (SET NX, expiring after two periods) holds the live
chain's token, so the workers and web processes that make sure it runs start no second chain, and a chain
whose token was replaced stops. Worker start, every enqueued delivery and every new endpoint check it.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

import db.outbound_webhooks as queries
from genvid import database, queue, runtime
from genvid.outbound import clock

log = logging.getLogger("genvid.outbound.sweeper")

KEY = "genvid:outbound:sweeper"
PRUNE_KEY = "genvid:outbound:pruned"
REQUEUE_AFTER = timedelta(minutes=5)
LOG_KEPT_DAYS = 30
BATCH = 1000


def _every() -> float:
    return runtime.config().webhook_sweep_seconds


def _ttl() -> int:
    return max(10, round(2 * _every()))


def claim(pipe: redis.client.Pipeline, *, restart: bool = False) -> str:
    """Queue the SET NX that claims the chain on pipe (callers already talking to Redis add no round trip);
    pass pipe.execute()'s results to start_claimed()."""
    token = uuid.uuid4().hex
    pipe.set(KEY, token, nx=not restart, ex=_ttl())
    return token


def start_claimed(token: str, results: Sequence[object]) -> None:
    """Enqueue the chain's first tick if claim()'s SET (the last result) won."""
    if results[-1]:
        queue.get_queue("webhooks").enqueue(tick, token, result_ttl=0, description="webhooks: sweep")


def ensure_running(*, restart: bool = False) -> None:
    """Start the chain unless one runs; restart (a worker starting) takes over from a chain whose job may have
    died with a killed worker."""
    with queue.connection().pipeline(transaction=False) as pipe:
        token = claim(pipe, restart=restart)
        results = pipe.execute()
    start_claimed(token, results)


def tick(token: str | None = None) -> None:
    """RQ job: one sweep, then the next tick (unless a newer chain took over)."""
    client = queue.connection()
    holder = client.get(KEY)
    if token is not None and holder is not None and (holder.decode() if isinstance(holder, bytes) else holder) != token:
        return
    try:
        sweep(clock.now())
    finally:
        client.set(KEY, token or "", ex=_ttl())
        queue.get_queue("webhooks").enqueue_in(timedelta(seconds=_every()), tick, token, result_ttl=0,
                                               description="webhooks: sweep")


@dataclass(frozen=True)
class Swept:
    fanned_out: int
    enqueued: int
    pruned: int


def sweep(now: datetime) -> Swept:
    """Fan out, enqueue what is due or lost, prune (hourly). Tests call it directly after moving the clock."""
    from genvid.outbound import delivery
    with database.transaction() as conn:
        fanned = queries.fan_out_events(conn, now=now, batch=BATCH)
        due = queries.queue_due_deliveries(conn, now=now, requeue_before=now - REQUEUE_AFTER, batch=BATCH)
    if due:
        delivery.enqueue(due)
    pruned = 0
    if queue.connection().set(PRUNE_KEY, "1", nx=True, ex=3600):
        with database.transaction() as conn:
            pruned = queries.delete_events_before(conn, before=now - timedelta(days=LOG_KEPT_DAYS))
    if fanned or due or pruned:
        log.info("webhooks swept", extra={"fanned_out": len(fanned), "enqueued": len(due), "pruned": pruned})
    return Swept(fanned_out=len(fanned), enqueued=len(due), pruned=pruned)
