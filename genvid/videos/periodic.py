"""Daily maintenance on the workers: forget week-old webhook event ids, delete orphaned media, and re-sync the
avatar and voice catalogue (entries gone upstream are retired, never deleted).

When it is due lives in PostgreSQL (periodic_runs), not in Redis. Every worker's loop calls enqueue_if_due()
about once a minute; the worker whose claim (one guarded statement) wins enqueues the job. A claimed run that
never finishes (its job lost with Redis data, its worker killed, the provider down) is claimed again an hour
later; a finished run makes the next one due a day after it started. Nothing needs reviving, and no request
schedules anything.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import db.periodic
import db.videos_videos
import db.videos_webhooks
from genvid import clock
from genvid.infra import database, redis_client, services
from genvid.videos import catalogue, media, providers

log = logging.getLogger("genvid.videos.periodic")

DAILY_MAINTENANCE = "videos.daily-maintenance"
EVERY = timedelta(days=1)
RETRY_AFTER = timedelta(hours=1)
QUEUE = "default"
JOB_TIMEOUT = 900
WEBHOOK_EVENTS_KEPT_DAYS = 7


def enqueue_if_due(*, now: datetime) -> bool:
    """Enqueue the daily maintenance job if it is due and this caller won the claim; True if it did."""
    with database.connection() as conn:
        claimed = db.periodic.claim_periodic_run(conn, name=DAILY_MAINTENANCE, retry_at=now + RETRY_AFTER,
                                                 now=now)
    if claimed is None:
        return False
    redis_client.get_queue(QUEUE).enqueue(daily_maintenance, result_ttl=0, job_timeout=JOB_TIMEOUT,
                                   description="videos: daily maintenance")
    return True


def daily_maintenance() -> None:
    """RQ job: forget week-old webhook event ids, delete orphaned media, refresh the catalogue; then the next
    run is due a day after this one started."""
    started = clock.now()
    config = services.started_config()
    with database.transaction() as conn:
        forgotten = db.videos_webhooks.delete_webhook_events_before(
            conn, before=started - timedelta(days=WEBHOOK_EVENTS_KEPT_DAYS))
    pruned = _prune_unless_store_down(media.storage_for(config))
    result = catalogue.sync(providers.get_provider(config), now=started)
    with database.connection() as conn:
        db.periodic.finish_periodic_run(conn, next_run_at=started + EVERY, now=clock.now(),
                                        name=DAILY_MAINTENANCE)
    log.info("catalogue synced", extra={"avatars": result.avatars, "voices": result.voices,
                                        "retired_avatars": result.retired_avatars,
                                        "retired_voices": result.retired_voices,
                                        "webhook_events_forgotten": forgotten,
                                        "orphaned_media_pruned": pruned})


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
