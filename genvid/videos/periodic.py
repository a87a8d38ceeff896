"""Periodic work on the workers: the reconciler every minute and the catalogue sync daily.

Each is a self-rescheduling rq job chain. A Redis key (SET NX with a TTL of two intervals) marks a live
chain, so the many workers and web processes that call ensure_scheduled() start at most one chain each;
when Redis loses its data the key goes too, and the next call (a worker start, a new video, a webhook)
starts a fresh chain.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import redis

from genvid import queue, runtime
from genvid.videos import catalogue, providers, reconciler
from genvid.videos.jobs import PERIODIC_QUEUE, Tuning, utcnow

log = logging.getLogger("genvid.videos.periodic")

CATALOG_SYNC_EVERY = 86400


def _key(name: str) -> str:
    return f"genvid:videos:periodic:{name}"


def _reconcile_every() -> int:
    return max(1, round(Tuning.of(runtime.config()).reconcile_every_seconds))


def ensure_scheduled(client: redis.Redis) -> None:
    """Start the reconciler and catalogue-sync chains unless they are already running."""
    with client.pipeline(transaction=False) as pipe:
        pipe.set(_key("reconcile"), "1", nx=True, ex=2 * _reconcile_every())
        pipe.set(_key("catalog-sync"), "1", nx=True, ex=2 * CATALOG_SYNC_EVERY)
        started_reconcile, started_sync = pipe.execute()
    periodic = queue.get_queue(PERIODIC_QUEUE)
    if started_reconcile:
        periodic.enqueue(reconcile_tick, result_ttl=0, description="videos: reconcile")
    if started_sync:
        periodic.enqueue(catalog_sync_tick, result_ttl=0, job_timeout=900, description="videos: catalogue sync")


def _next(name: str, every: int, func: Callable[[], None]) -> None:
    client = queue.connection()
    client.set(_key(name), "1", ex=2 * every)
    queue.get_queue(PERIODIC_QUEUE).enqueue_in(timedelta(seconds=every), func, result_ttl=0,
                                               description=f"videos: {name}")


def reconcile_tick() -> None:
    """RQ job: resume lost videos, then schedule the next run."""
    try:
        tuning = Tuning.of(runtime.config())
        reconciler.reconcile(now=utcnow(), grace_seconds=tuning.reconcile_grace_seconds,
                             submit_window_seconds=tuning.submit_window_seconds)
    finally:
        _next("reconcile", _reconcile_every(), reconcile_tick)


def catalog_sync_tick() -> None:
    """RQ job: refresh the avatar and voice catalogue, then schedule tomorrow's run."""
    try:
        config = runtime.config()
        result = catalogue.sync(providers.get_provider(config), now=utcnow())
        log.info("catalogue synced", extra={"avatars": result.avatars, "voices": result.voices,
                                            "retired_avatars": result.retired_avatars,
                                            "retired_voices": result.retired_voices})
    finally:
        _next("catalog-sync", CATALOG_SYNC_EVERY, catalog_sync_tick)
