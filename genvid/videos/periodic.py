"""Periodic work on the workers: the reconciler every minute and the catalogue sync daily.

Each is a self-rescheduling rq job chain carrying a token. A Redis key (TTL two intervals) holds the token
of the live chain, so the many workers and web processes that call ensure_scheduled() (SET NX) start no
second chain; a chain whose token is no longer in the key stops. When Redis loses its data the key goes
too, and the next call (a worker start, a new video, a webhook, an owner reading an unfinished video)
starts a fresh chain.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import redis

import db.videos_videos
import db.videos_webhooks
from genvid import database, queue, runtime
from genvid.videos import catalogue, media, providers, reconciler
from genvid.videos.jobs import PERIODIC_QUEUE, Tuning, utcnow

log = logging.getLogger("genvid.videos.periodic")

CATALOG_SYNC_EVERY = 86400
WEBHOOK_EVENTS_KEPT_DAYS = 7


def _key(name: str) -> str:
    return f"genvid:videos:periodic:{name}"


def _reconcile_every() -> int:
    return max(1, round(Tuning.of(runtime.config()).reconcile_every_seconds))


def ensure_scheduled(client: redis.Redis, *, restart_reconciler: bool = False) -> None:
    """Start the reconciler and catalogue-sync chains unless they are already running.

    restart_reconciler (a worker starting) starts a new reconciler chain even if the key says one is alive:
    the key may belong to a chain whose job died with a killed worker. The newest chain owns the key and an
    older chain stops at its next tick, so there is still only one.
    """
    with client.pipeline(transaction=False) as pipe:
        claim = claim_chains(pipe, restart_reconciler=restart_reconciler)
        started = pipe.execute()
    start_claimed(claim, started)


@dataclass(frozen=True)
class Claim:
    """The tokens claim_chains() offered; start_claimed() starts the chains whose SET NX won."""

    reconcile_token: str
    sync_token: str


def claim_chains(pipe: redis.client.Pipeline, *, restart_reconciler: bool = False) -> Claim:
    """Queue the two SET NX of ensure_scheduled() on pipe, so a caller already talking to Redis (enqueueing a
    render) adds no round trip; pass the last two results of pipe.execute() to start_claimed()."""
    claim = Claim(reconcile_token=uuid.uuid4().hex, sync_token=uuid.uuid4().hex)
    pipe.set(_key("reconcile"), claim.reconcile_token, nx=not restart_reconciler, ex=2 * _reconcile_every())
    pipe.set(_key("catalog-sync"), claim.sync_token, nx=True, ex=2 * CATALOG_SYNC_EVERY)
    return claim


def start_claimed(claim: Claim, results: Sequence[object]) -> None:
    """Enqueue the first job of each chain whose key claim_chains() set (results: its two SET replies)."""
    started_reconcile, started_sync = results[-2:]
    if not (started_reconcile or started_sync):
        return
    periodic = queue.get_queue(PERIODIC_QUEUE)
    if started_reconcile:
        periodic.enqueue(reconcile_tick, claim.reconcile_token, result_ttl=0, description="videos: reconcile")
    if started_sync:
        periodic.enqueue(catalog_sync_tick, claim.sync_token, result_ttl=0, job_timeout=900,
                         description="videos: catalogue sync")


def _superseded(name: str, token: str | None) -> bool:
    """True when another chain owns name now (an expired key does not stop a chain)."""
    holder = queue.connection().get(_key(name))
    if holder is None or token is None:
        return False
    return (holder.decode() if isinstance(holder, bytes) else str(holder)) != token


def _next(name: str, every: int, func: Callable[..., None], token: str | None) -> None:
    queue.connection().set(_key(name), token or "", ex=2 * every)
    queue.get_queue(PERIODIC_QUEUE).enqueue_in(timedelta(seconds=every), func, token, result_ttl=0,
                                               description=f"videos: {name}")


def reconcile_tick(token: str | None = None) -> None:
    """RQ job: resume lost videos, then schedule the next run (unless a newer chain took over)."""
    if _superseded("reconcile", token):
        return
    try:
        tuning = Tuning.of(runtime.config())
        reconciler.reconcile(now=utcnow(), grace_seconds=tuning.reconcile_grace_seconds,
                             submit_window_seconds=tuning.submit_window_seconds)
    finally:
        _next("reconcile", _reconcile_every(), reconcile_tick, token)


def catalog_sync_tick(token: str | None = None) -> None:
    """RQ job: forget week-old webhook event ids, delete orphaned media, refresh the avatar and voice
    catalogue, then schedule tomorrow's run."""
    if _superseded("catalog-sync", token):
        return
    try:
        config = runtime.config()
        with database.transaction() as conn:
            forgotten = db.videos_webhooks.delete_webhook_events_before(
                conn, before=utcnow() - timedelta(days=WEBHOOK_EVENTS_KEPT_DAYS))
        pruned = _prune_unless_store_down(media.storage_for(config))
        result = catalogue.sync(providers.get_provider(config), now=utcnow())
        log.info("catalogue synced", extra={"avatars": result.avatars, "voices": result.voices,
                                            "retired_avatars": result.retired_avatars,
                                            "retired_voices": result.retired_voices,
                                            "webhook_events_forgotten": forgotten,
                                            "orphaned_media_pruned": pruned})
    finally:
        _next("catalog-sync", CATALOG_SYNC_EVERY, catalog_sync_tick, token)


def prune_orphaned_media(store: media.MediaStorage, *, batch: int = 500) -> int:
    """Delete stored media whose video row is gone (its user was deleted, or a race with DELETE)."""
    folders = store.children(media.VIDEOS_PREFIX)
    pruned = 0
    for start in range(0, len(folders), batch):
        chunk = folders[start:start + batch]
        with database.connection() as conn:
            alive = set(db.videos_videos.list_existing_video_ids(conn, ids=chunk))
        for video_id in chunk:
            if video_id not in alive:
                store.delete_prefix(media.video_prefix(video_id))
                pruned += 1
    return pruned


def _prune_unless_store_down(store: media.MediaStorage) -> int:
    """prune_orphaned_media(), stopped for today when the media store is down (the catalogue sync goes on,
    and tomorrow's run prunes what was left)."""
    try:
        return prune_orphaned_media(store)
    except media.StorageUnavailable as exc:
        log.warning("orphaned media not pruned: media store unavailable", extra={"reason": str(exc)})
        return 0
