"""The dispatcher: the one way a video step reaches a worker, read from the row (the source of truth).

A video's row says when its next step is due (next_check_at): at once for a new video, after the poll interval
for a render in flight, after the backoff for a retry, at once again when a webhook hints. Every worker's loop
calls dispatch_due() every half second: one statement claims the due rows (their next_check_at moves to now +
render_redispatch_seconds, so no other worker dispatches them too) and one Redis round trip enqueues an
advance job per row, before the claim commits: if Redis cannot take the jobs, nothing was claimed and the
steps go out as soon as Redis answers again (a worker that starts a job before its claim committed waits
for the commit: genvid.videos.jobs.advance). Nothing else schedules: a request only writes rows, a job only
writes its row's next time. So a job lost with Redis data, or with a killed worker, needs no reviving: its
step simply comes due again and is dispatched again, and the row's step guard turns any duplicate into a
no-op (a worker dying between the enqueue and the commit makes one such duplicate).

Queued videos are admitted rather than dispatched: under the lock that guards the concurrency cap
(HEYGEN_MAX_CONCURRENT), as many as there are free slots move from queued to submitting in one statement
(AdmitQueuedVideos), fairly between users: each user's waiting videos take turns, ranked after the renders
that user already has in flight, so one user's 1,000-row batch never makes another user's single video wait
for more than the next slot to free. A video that is not admitted stays due and is looked at again on the next
tick; only admitted videos reach the queue, so a waiting batch costs Redis and the workers nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from rq import Queue

import db.videos_videos as queries
from genvid.infra import database, redis_client
from genvid.videos import events, jobs

log = logging.getLogger("genvid.videos.dispatcher")

RENDER_QUEUE = "renders"
JOB_TIMEOUT = 600          # a create may take 120 s upstream; the offline renderer encodes in the job
FAILED_JOBS_KEPT = 7 * 86400
BATCH = 500


def dispatch_due(*, now: datetime, redispatch_seconds: float, max_in_flight: int, batch: int = BATCH) -> int:
    """Admit the queued videos that free render slots allow (max_in_flight: HEYGEN_MAX_CONCURRENT) and enqueue
    a job for every step due at now; returns how many jobs were enqueued."""
    redispatch_at = now + timedelta(seconds=redispatch_seconds)
    dispatched = admit_queued(now=now, redispatch_at=redispatch_at, max_in_flight=max_in_flight)
    while True:
        with database.transaction() as conn:
            due = queries.dispatch_due_videos(conn, redispatch_at=redispatch_at, now=now, page_size=batch)
            enqueue((row.id, row.step) for row in due)      # raises (and the claim rolls back) without Redis
        dispatched += len(due)
        if len(due) < batch:
            return dispatched


def admit_queued(*, now: datetime, redispatch_at: datetime, max_in_flight: int) -> int:
    """queued -> submitting for as many due videos as there are free slots, fairly between users (see
    AdmitQueuedVideos), each with its job enqueued; returns how many were admitted."""
    with database.transaction() as conn:
        queries.lock_submit_slots(conn)       # the jobs' own claims (genvid.videos.jobs) take it too
        free = max_in_flight - (queries.count_all_in_flight(conn) or 0)
        if free <= 0:
            return 0
        admitted = queries.admit_queued_videos(conn, now=now, slots=free, redispatch_at=redispatch_at)
        enqueue((row.id, row.step) for row in admitted)
    if admitted:
        events.publish_many(redis_client.connection(),
                            ((row.id, "submitting", row.batch_id) for row in admitted))
    return len(admitted)


def enqueue(steps: Iterable[tuple[str, int | None]]) -> None:
    """One advance job per (video id, step), in one round trip (step None: whatever step the row is at)."""
    job_data = [Queue.prepare_data(jobs.advance, args=(video_id,), kwargs={"step": step}, timeout=JOB_TIMEOUT,
                                   result_ttl=0, failure_ttl=FAILED_JOBS_KEPT,
                                   description=f"advance video {video_id}")
                for video_id, step in steps]
    if job_data:
        redis_client.get_queue(RENDER_QUEUE).enqueue_many(job_data)
