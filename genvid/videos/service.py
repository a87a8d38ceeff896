"""Video domain functions for the API: create (price, debit, insert), read, list, cancel or delete.

Every function takes the caller's connection and runs inside the caller's transaction; none imports Flask.
Another user's video is indistinguishable from a missing one (404).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

import db.videos_catalogue as catalogue_queries
import db.videos_videos as queries
from db import models
from genvid.auth.ids import generate_id
from genvid.billing import ledger
from genvid.cursors import decode_cursor, encode_cursor, invalid_cursor
from genvid.errors import Conflict, NotFound, ValidationFailed
from genvid.videos import pricing, refunds
from genvid.videos.provider_contract import VideoSpec

# A video in one of these states is still on its way; any other state is final (events end there).
UNFINISHED = (models.VideoStatus.QUEUED, models.VideoStatus.SUBMITTING, models.VideoStatus.RENDERING)


class VideoNotFound(NotFound):
    code, message = "VIDEO_NOT_FOUND", "No such video."


@dataclass(frozen=True)
class Created:
    """The video a create answered with; new is False when an Idempotency-Key replayed an earlier one."""

    video: models.Video
    new: bool


@dataclass(frozen=True)
class Removed:
    """What DELETE did: a queued render cancelled and refunded, or the record and its media deleted."""

    video: models.Video
    cancelled: bool
    refunded_credits: int


def create_video(conn: psycopg.Connection, *, user_id: str, provider: str, video: VideoSpec,
                 idempotency_key: str | None, now: datetime, credits_low_threshold: int = 0) -> Created:
    """Check the avatar and voice, price the script, insert the video and debit its credits, atomically.

    One statement does it all (db CreatePaidVideo: every create pays for this, so it is one round trip, atomic
    on an autocommit connection as inside the caller's transaction). The caller enqueues the render after it
    committed. Only when that statement refused are more reads made to say why, in the order a client sees
    them: an unknown avatar or voice (422), a replayed Idempotency-Key (the earlier video), a short balance
    (InsufficientCredits, 402; nothing was written). A debit that takes the balance below
    credits_low_threshold records the outbound webhook event credits.low in the same statement.
    """
    credits = pricing.render_credits(video.script)
    for _ in range(3):   # a retry only when what refused the insert changed before the reads below
        row = queries.create_paid_video(
            conn, id=generate_id(), user_id=user_id, provider=provider, avatar_id=video.avatar_id,
            voice_id=video.voice_id, script=video.script, title=video.title,
            aspect_ratio=video.aspect_ratio, resolution=video.resolution, background=video.background,
            captions=video.captions, credits=credits, idempotency_key=idempotency_key, now=now,
            reason=ledger.RENDER, low_credits=credits_low_threshold)
        if row is not None:
            return Created(row.videos, new=True)
        check_catalogue(conn, provider=provider, avatar_id=video.avatar_id, voice_id=video.voice_id)
        if idempotency_key is not None:
            earlier = queries.get_video_by_idempotency_key(conn, user_id=user_id,
                                                           idempotency_key=idempotency_key)
            if earlier is not None:
                return Created(earlier, new=False)
        if ledger.balance(conn, user_id=user_id) < credits:
            raise ledger.InsufficientCredits()
    raise Conflict("CREATE_RACED", "The catalogue or your balance changed while this video was created; "
                                   "please try again.")


def check_catalogue(conn: psycopg.Connection, *, provider: str, avatar_id: str, voice_id: str,
                    field_prefix: str = "") -> None:
    """422 naming the avatar or voice that is not live (checked before any Idempotency-Key replay); the
    fields are named as the caller's body holds them (field_prefix `template.` for a batch's)."""
    problems = []
    if catalogue_queries.get_live_avatar(conn, provider=provider, provider_id=avatar_id) is None:
        problems.append({"field": f"{field_prefix}avatar_id",
                         "message": "No such avatar (see GET /api/avatars)."})
    if catalogue_queries.get_live_voice(conn, provider=provider, provider_id=voice_id) is None:
        problems.append({"field": f"{field_prefix}voice_id",
                         "message": "No such voice (see GET /api/voices)."})
    if problems:
        raise ValidationFailed(details=problems)


def get_video(conn: psycopg.Connection, *, user_id: str, video_id: str) -> models.Video:
    """The user's video, or 404 (also for someone else's)."""
    video = queries.get_video_for_user(conn, id=video_id, user_id=user_id)
    if video is None:
        raise VideoNotFound()
    return video


def _after(cursor: str | None) -> tuple[datetime | None, str | None]:
    """(created_at, id) of the video a cursor points just after."""
    if not cursor:
        return None, None
    created, video_id = decode_cursor(cursor, parts=2)
    try:
        return datetime.fromisoformat(created), video_id
    except ValueError:
        raise invalid_cursor() from None


def list_videos(conn: psycopg.Connection, *, user_id: str, status: models.VideoStatus | None,
                cursor: str | None, limit: int) -> tuple[list[models.Video], str | None]:
    """One page of the user's videos, newest first, and the next page's cursor (None on the last)."""
    before_created, before_id = _after(cursor)
    rows = queries.list_user_videos(conn, user_id=user_id, status=status, before_created_at=before_created,
                                    before_id=before_id, page_size=limit + 1)
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last.created_at.isoformat(), last.id)


def remove_video(conn: psycopg.Connection, *, user_id: str, video_id: str, now: datetime) -> Removed:
    """Cancel and refund a render not yet submitted; otherwise delete the record (the caller deletes media).

    The cancel is a guarded UPDATE WHERE status = 'queued', so it races a worker's claim safely: whichever
    commits first wins, and a render that was claimed is deleted instead of refunded.
    """
    cancelled = queries.cancel_queued(conn, now=now, id=video_id, user_id=user_id)
    if cancelled is not None:
        refunded = refunds.refund_video(conn, cancelled)
        return Removed(cancelled, cancelled=True, refunded_credits=cancelled.credits if refunded else 0)
    deleted = queries.delete_video_for_user(conn, id=video_id, user_id=user_id)
    if deleted is None:
        raise VideoNotFound()
    return Removed(deleted, cancelled=False, refunded_credits=0)


def get_video_or_none(conn: psycopg.Connection, *, user_id: str, video_id: str) -> models.Video | None:
    """The user's video, or None (for streams that end when it is deleted)."""
    return queries.get_video_for_user(conn, id=video_id, user_id=user_id)
