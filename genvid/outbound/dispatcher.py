"""The webhooks' dispatcher: the one way a delivery reaches a worker, read from its row (the source of truth).

A delivery row says when its next attempt is due (next_attempt_at): at once when its event is emitted or it is
redelivered, after the backoff when an attempt failed (genvid.outbound.delivery). Every worker's loop
(genvid.worker.WorkerLoop) calls dispatch_due() each tick: it makes and commits the deliveries of events
that SQL wrote without them (credits.low, inside CreatePaidVideo), then, in one transaction, claims the due
deliveries (queued_at = now, so no other loop takes them too) and enqueues a delivery job per row in one Redis
round trip before the claim commits: if Redis cannot take the jobs, nothing was claimed and they go out as
soon as Redis answers again. A worker may start a job before that commit: the job's claim (an UPDATE) waits
for the row's lock, and the row itself was committed beforehand, so the job never misses its delivery.
Nothing else schedules: emit() and redelivery only write rows, an attempt only writes its row's next
time, and nothing waits in Redis for a moment to come. A job lost with Redis data or with a killed worker
needs no reviving: its claim lapses after webhook_redispatch_seconds and the delivery is dispatched again, and
the job's own guarded claim turns any duplicate into a no-op.

The delivery log is kept LOG_KEPT_DAYS: once a day (a periodic_runs row, claimed as the videos' daily
maintenance is) one worker prunes older events with their deliveries and attempts.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import db.outbound_webhooks as queries
import db.periodic
from genvid import clock
from genvid.infra import database, redis_client
from genvid.outbound import delivery

log = logging.getLogger("genvid.outbound.dispatcher")

BATCH = 500
LOG_KEPT_DAYS = 30
PRUNE_LOG = "webhooks.prune-log"
PRUNE_EVERY = timedelta(days=1)
PRUNE_RETRY_AFTER = timedelta(hours=1)


def dispatch_due(*, now: datetime, redispatch_seconds: float, batch: int = BATCH) -> int:
    """Fan out SQL-written events and enqueue a job for every delivery due at now; returns how many."""
    redispatch_before = now - timedelta(seconds=redispatch_seconds)
    dispatched = 0
    while True:
        with database.connection() as conn:       # one statement: committed before any job can look for it
            fanned = queries.fan_out_events(conn, now=now, batch=batch)
        with database.transaction() as conn:
            due = queries.dispatch_due_deliveries(conn, now=now, redispatch_before=redispatch_before,
                                                  batch=batch)
            delivery.enqueue(due)                  # raises (and the claim rolls back) without Redis
        dispatched += len(due)
        if len(due) < batch and len(fanned) < batch:
            return dispatched


def prune_if_due(*, now: datetime) -> bool:
    """Enqueue the daily pruning of the delivery log if it is due and this caller won the claim."""
    with database.connection() as conn:
        claimed = db.periodic.claim_periodic_run(conn, name=PRUNE_LOG, retry_at=now + PRUNE_RETRY_AFTER,
                                                 now=now)
    if claimed is None:
        return False
    redis_client.get_queue(delivery.QUEUE).enqueue(prune_log, result_ttl=0,
                                                   description="webhooks: prune the log")
    return True


def prune_log() -> int:
    """RQ job: forget events older than LOG_KEPT_DAYS (their deliveries and attempts go with them); the next
    run is due a day after this one started."""
    started = clock.now()
    with database.transaction() as conn:
        pruned = queries.delete_events_before(conn, before=started - timedelta(days=LOG_KEPT_DAYS))
    with database.connection() as conn:
        db.periodic.finish_periodic_run(conn, next_run_at=started + PRUNE_EVERY, now=clock.now(),
                                        name=PRUNE_LOG)
    log.info("webhook log pruned", extra={"events": pruned})
    return pruned
