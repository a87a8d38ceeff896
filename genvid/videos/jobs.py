"""RQ jobs that move a video through queued -> submitting -> rendering -> completed | failed.

The database row is the truth; a job only carries (video_id, step). Each job reads the row (still unfinished
and at the job's step, else the job is stale and does nothing), holds its claim on it while it runs (its
worker keeps it alive, genvid.videos.leases), calls the provider with no connection held, then applies the
outcome with a guarded UPDATE (expected status and step) that also says when the next step is due
(next_check_at). Jobs never enqueue jobs: the dispatcher (genvid.videos.dispatcher) turns due rows into jobs,
so a duplicate job, a webhook hint or a step dispatched again after a lost job all collapse into one chain,
and waiting never occupies a worker.

Tuning (CONFIG_FILE keys, seconds): render_poll_seconds (30: at most one status call per video per 30 s),
render_retry_base_seconds (2: transient errors back off 2, 4, 8 ... 300), render_capped_seconds (5: how
soon a submit held back by HEYGEN_MAX_CONCURRENT tries again), render_lease_seconds (20: a running job's
claim, renewed by its worker while it lives, so a killed worker's step is dispatched again this long after it
died), render_redispatch_seconds (60: a dispatched step that no job has acted on is dispatched again).
"""
from __future__ import annotations

import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import timedelta

import db.videos_videos as queries
from db import models
from genvid import clock
from genvid.config import Config
from genvid.infra import database, redis_client, services
from genvid.videos import events, leases, media, outbound_events, providers, refunds
from genvid.videos.provider_contract import (
    PermanentProviderError,
    ProviderError,
    RateLimited,
    RenderRequest,
    RenderStatus,
    TransientProviderError,
    VideoProvider,
)
from genvid.videos.service import UNFINISHED

log = logging.getLogger("genvid.videos.jobs")

MAX_TRANSIENT_ATTEMPTS = 8
MAX_BACKOFF = 300.0


@dataclass(frozen=True)
class Tuning:
    """Timing knobs (Config fields set from CONFIG_FILE), with production defaults."""

    poll_seconds: float = 30.0
    retry_base_seconds: float = 2.0
    capped_seconds: float = 5.0
    lease_seconds: float = 20.0
    redispatch_seconds: float = 60.0

    @classmethod
    def of(cls, config: Config) -> Tuning:
        return cls(poll_seconds=config.render_poll_seconds,
                   retry_base_seconds=config.render_retry_base_seconds,
                   capped_seconds=config.render_capped_seconds,
                   lease_seconds=config.render_lease_seconds,
                   redispatch_seconds=config.render_redispatch_seconds)


def advance(video_id: str, step: int | None = None) -> None:
    """RQ job: take the video one step further. Its signature is a wire format: add keywords only.

    step is the row's step when the job was dispatched; a different step means another job has moved the
    video since, so this one is stale and does nothing. None (jobs queued by older versions for webhook hints)
    means "whatever it is now".
    """
    config = services.started_config()
    with database.connection() as conn:
        video = queries.get_video(conn, id=video_id)
        if video is not None and step is not None and video.step < step:
            # Enqueued by a dispatch that has not committed yet (the dispatcher enqueues before its commit, so
            # a Redis failure rolls the claim back): read the row again once that transaction has ended.
            video = queries.get_video_once_dispatched(conn, id=video_id)
    if video is None or video.status not in UNFINISHED or (step is not None and video.step != step):
        return
    with leases.holding(video.id, video.step) as lease:   # the worker's loop keeps the claim alive meanwhile
        _advance(video, lease, config)


def _advance(video: models.Video, lease: leases.Lease, config: Config) -> None:
    provider = providers.get_provider(config)
    if video.provider != provider.name:
        _fail(video, "provider_changed", "The video service was changed while this video waited. "
                                         "Your credits were refunded.", config=config)
        return
    if video.status == models.VideoStatus.QUEUED:
        claimed = _claim(video, config)
        if claimed is not None:
            lease.step = claimed.step
            _submit(claimed, provider, config, lease)
    elif video.status == models.VideoStatus.SUBMITTING:
        _submit(video, provider, config, lease)
    else:
        _check(video, provider, config)


def _claim(video: models.Video, config: Config) -> models.Video | None:
    """queued -> submitting unless HEYGEN_MAX_CONCURRENT renders are in flight (then try again soon)."""
    now = clock.now()
    tuning = Tuning.of(config)
    with database.transaction() as conn:
        queries.lock_submit_slots(conn)
        in_flight = queries.count_in_flight(conn, provider=video.provider) or 0
        if in_flight >= config.heygen_max_concurrent:
            delay = tuning.capped_seconds * random.uniform(1.0, 2.0)
            queries.reschedule(conn, attempts_delta=0, polls_delta=0,
                               next_check_at=now + timedelta(seconds=delay),
                               now=now, id=video.id, status=models.VideoStatus.QUEUED, step=video.step)
            claimed = None
        else:
            claimed = queries.claim_for_submit(conn,
                                               next_check_at=now + timedelta(seconds=tuning.lease_seconds),
                                               now=now, id=video.id, step=video.step)
    if claimed is not None:
        _published(claimed)
    return claimed


def _submit(video: models.Video, provider: VideoProvider, config: Config, lease: leases.Lease) -> None:
    """Create the render upstream, keyed by the video id:
    a retry or a resumed crash never makes a second one."""
    request = RenderRequest(avatar_id=video.avatar_id, voice_id=video.voice_id, script=video.script,
                            title=video.title, aspect_ratio=video.aspect_ratio, resolution=video.resolution,
                            background=video.background, captions=video.captions, callback_id=video.id)
    try:
        provider_video_id = provider.create_video(request, idempotency_key=video.id)
    except ProviderError as exc:
        _provider_failed(video, exc, config)
        return
    # The offline renderer finished inside create_video: this job checks (and stores) it at once, under its
    # claim; a HeyGen render is checked by a later job, after the poll interval.
    tuning = Tuning.of(config)
    check_now = provider.name == "local"
    now = clock.now()
    first_check = timedelta(seconds=tuning.lease_seconds if check_now else tuning.poll_seconds)
    with database.transaction() as conn:
        rendering = queries.mark_submitted(conn, provider_video_id=provider_video_id, now=now,
                                           next_check_at=now + first_check, id=video.id, step=video.step)
    if rendering is None:
        return
    _published(rendering)
    log.info("render submitted", extra={"video_id": video.id, "provider_video_id": provider_video_id})
    if check_now:
        lease.step = rendering.step
        _check(rendering, provider, config)


def _check(video: models.Video, provider: VideoProvider, config: Config) -> None:
    """Ask the provider (the truth) how the render is doing, and act on the answer."""
    assert video.provider_video_id is not None and video.submitted_at is not None
    if clock.now() - video.submitted_at > timedelta(seconds=config.render_timeout):
        minutes = max(1, round(config.render_timeout / 60))
        _fail(video, "render_timeout", f"The render took longer than {minutes} minutes and was abandoned. "
                                       "Your credits were refunded.", config=config)
        return
    try:
        status = provider.get_status(video.provider_video_id)
    except ProviderError as exc:
        _provider_failed(video, exc, config)
        return
    if status.state == "completed":
        _complete(video, status, provider, config)
    elif status.state == "failed":
        reason = status.failure_message or "The video service could not render this video."
        _fail(video, status.failure_code or "render_failed", f"{reason} Your credits were refunded.",
              config=config)
    else:
        delay = _poll_delay(video.polls, Tuning.of(config))
        _reschedule(video, delay=delay, attempts_delta=0, polls_delta=1)


def _complete(video: models.Video, status: RenderStatus, provider: VideoProvider, config: Config) -> None:
    """Copy the media into our storage (provider URLs expire), then mark the video completed."""
    if not status.video_url:
        _provider_failed(video, TransientProviderError("completed without a video URL", code="no_url"),
                         config)
        return
    store = media.storage_for(config)
    prefix = media.video_prefix(video.id)
    video_key = f"{prefix}/video.mp4"
    try:
        _download(provider, store, status.video_url, video_key, ".mp4")
    except (ProviderError, OSError, media.StorageUnavailable) as exc:
        # A presigned URL may have expired, or our media store is down: the next check fetches a fresh URL
        # and tries again (the same render, paid for once; refunded if it never succeeds).
        code = "storage_unavailable" if isinstance(exc, media.StorageUnavailable) else "download_failed"
        _provider_failed(video, exc if isinstance(exc, ProviderError)
                         else TransientProviderError(str(exc), code=code), config)
        return
    thumbnail_key: str | None = None
    if status.thumbnail_url:
        try:
            _download(provider, store, status.thumbnail_url, f"{prefix}/thumbnail.jpg", ".jpg")
            thumbnail_key = f"{prefix}/thumbnail.jpg"
        except (ProviderError, OSError, media.StorageUnavailable):
            log.warning("thumbnail download failed; completing without one", extra={"video_id": video.id})
    now = clock.now()
    with database.transaction() as conn:
        done = queries.mark_completed(conn, video_key=video_key, thumbnail_key=thumbnail_key,
                                      duration=status.duration, now=now, id=video.id, step=video.step,
                                      warnings=[
                                          {"code": w.code, "message": w.message} for w in status.warnings])
        if done is not None:
            outbound_events.emit_video_event(conn, done, config=config)   # outbound webhook, once with it
    if done is not None:
        _published(done)
        log.info("render completed", extra={"video_id": video.id})
        return
    with database.connection() as conn:
        gone = queries.get_video(conn, id=video.id) is None
    if gone:   # deleted by its owner while we downloaded: do not leave its media behind
        with contextlib.suppress(media.StorageUnavailable):   # else the daily orphan pruning deletes it
            store.delete_prefix(prefix)


def _download(provider: VideoProvider, store: media.MediaStorage, url: str, key: str, suffix: str) -> None:
    staging = store.staging_file(suffix)
    try:
        provider.download(url, str(staging))
        store.save(key, staging)
    finally:
        staging.unlink(missing_ok=True)


def _provider_failed(video: models.Video, exc: ProviderError, config: Config) -> None:
    """Permanent errors fail at once; 429 waits Retry-After; other transient errors back off, then give up."""
    if isinstance(exc, PermanentProviderError) or not isinstance(exc, TransientProviderError):
        log.warning("provider refused the render", extra={"video_id": video.id, "code": exc.code})
        _fail(video, exc.code or "provider_error", f"The video service refused this video ({exc.code}). "
                                                   "Your credits were refunded.", config=config)
        return
    tuning = Tuning.of(config)
    backoff = min(MAX_BACKOFF, tuning.retry_base_seconds * 2 ** video.attempts) * random.uniform(1.0, 1.25)
    if isinstance(exc, RateLimited):
        _reschedule(video, delay=max(exc.retry_after, tuning.retry_base_seconds), attempts_delta=0,
                    polls_delta=0)
        return
    if video.attempts + 1 >= MAX_TRANSIENT_ATTEMPTS:
        _fail(video, "provider_unavailable", "The video service kept failing, so this video was abandoned. "
                                             "Your credits were refunded.", config=config)
        return
    log.info("transient provider error; retrying", extra={"video_id": video.id, "code": exc.code,
                                                          "delay": round(backoff, 2)})
    _reschedule(video, delay=backoff, attempts_delta=1, polls_delta=0)


def _poll_delay(polls: int, tuning: Tuning) -> float:
    """Every poll_seconds, doubling after 20 checks; never sooner, so status calls stay <= 1 per interval."""
    base = tuning.poll_seconds * (2 if polls >= 20 else 1)
    return base * random.uniform(1.0, 1.1)


def _reschedule(video: models.Video, *, delay: float, attempts_delta: int, polls_delta: int) -> None:
    """The same status, due again after delay seconds (the dispatcher picks it up then)."""
    now = clock.now()
    with database.connection() as conn:
        queries.reschedule(conn, attempts_delta=attempts_delta, polls_delta=polls_delta,
                           next_check_at=now + timedelta(seconds=delay), now=now, id=video.id,
                           status=video.status, step=video.step)


def _fail(video: models.Video, code: str, message: str, *, config: Config) -> None:
    """Fail the render and refund it in one transaction; the guard makes a second failure a no-op."""
    now = clock.now()
    with database.transaction() as conn:
        failed = queries.mark_failed(conn, failure_code=code, failure_message=message, now=now, id=video.id,
                                     step=video.step)
        if failed is not None:
            refunds.refund_video(conn, failed)
            outbound_events.emit_video_event(conn, failed, config=config)
    if failed is not None:
        _published(failed)
        log.info("render failed", extra={"video_id": video.id, "code": code})


def _published(video: models.Video) -> None:
    events.publish(redis_client.connection(), video_id=video.id, status=video.status.value,
                   batch_id=video.batch_id)
