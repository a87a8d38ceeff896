"""Batch domain functions for the API: price, create (pay for every row at once), read, list, cancel, results.

Every function takes the caller's connection; none imports Flask. Another user's batch is indistinguishable
from a missing one (404). The rows render as ordinary videos: the dispatcher admits them fairly between users
(genvid/videos/dispatcher.py), so nothing here queues anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

import db.batches_batches as queries
from db import models
from db.batches_batches import CountBatchVideosRow
from genvid.auth.ids import generate_id
from genvid.batches.plan import Plan
from genvid.billing import ledger
from genvid.cursors import decode_cursor, encode_cursor, invalid_cursor
from genvid.errors import AppError, Conflict, NotFound
from genvid.videos import service as video_service


class BatchNotFound(NotFound):
    code, message = "BATCH_NOT_FOUND", "No such batch."


@dataclass(frozen=True)
class Created:
    """The batch a create answered with; new is False when an Idempotency-Key replayed an earlier one."""

    batch: models.Batch
    new: bool


@dataclass(frozen=True)
class Quote:
    """What a batch would cost, and what the user holds."""

    credits: int
    balance: int


@dataclass(frozen=True)
class Cancelled:
    """What a cancel did: the rows it stopped and the credits it gave back (0 and 0 when an earlier cancel, or
    the dispatcher, got there first)."""

    batch: models.Batch
    rows: int
    refunded_credits: int
    video_ids: list[str]


def quote(conn: psycopg.Connection, *, user_id: str, provider: str, plan: Plan) -> Quote:
    """The price of a planned batch and the user's balance; 422 when its avatar or voice is not live."""
    check_catalogue(conn, provider=provider, plan=plan)
    return Quote(plan.credits, ledger.balance(conn, user_id=user_id))


def create_batch(conn: psycopg.Connection, *, user_id: str, provider: str, name: str | None, plan: Plan,
                 idempotency_key: str | None, now: datetime, credits_low_threshold: int = 0) -> Created:
    """Insert the batch and a queued video per row and debit the whole price, atomically, or nothing at all.

    One statement does it all (db CreatePaidBatch), like a video's create. Only when it refused are more reads
    made to say why, in the order a client sees them: an unknown avatar or voice (422), a replayed
    Idempotency-Key (the earlier batch), a short balance (402 INSUFFICIENT_CREDITS; nothing was written). A
    debit that takes the balance below credits_low_threshold records the outbound webhook event credits.low
    with it.
    """
    video = plan.template
    video_ids = [generate_id() for _ in plan.videos]
    for _ in range(3):   # a retry only when what refused the insert changed before the reads below
        row = queries.create_paid_batch(
            conn, user_id=user_id, credits=plan.credits, provider=provider, avatar_id=video.avatar_id,
            voice_id=video.voice_id, id=generate_id(), name=name, script=video.script, title=video.title,
            aspect_ratio=video.aspect_ratio, resolution=video.resolution, background=video.background,
            captions=video.captions, variables=plan.variables, row_count=len(plan.videos),
            idempotency_key=idempotency_key, now=now, video_ids=video_ids,
            scripts=[planned.script for planned in plan.videos],
            titles=[planned.title or "" for planned in plan.videos],
            row_credits=[planned.credits for planned in plan.videos], reason=ledger.BATCH,
            low_credits=credits_low_threshold)
        if row is not None:
            return Created(row.batches, new=True)
        check_catalogue(conn, provider=provider, plan=plan)
        if idempotency_key is not None:
            earlier = queries.get_batch_by_idempotency_key(conn, user_id=user_id,
                                                           idempotency_key=idempotency_key)
            if earlier is not None:
                return Created(earlier, new=False)
        balance = ledger.balance(conn, user_id=user_id)
        if balance < plan.credits:
            raise insufficient(credits=plan.credits, balance=balance)
    raise Conflict("CREATE_RACED", "The catalogue or your balance changed while this batch was created; "
                                   "please try again.")


def insufficient(*, credits: int, balance: int) -> AppError:
    """402 for a batch the balance does not cover, saying by how much."""
    return ledger.InsufficientCredits(
        message=f"This batch costs {credits:,} credits and you have {max(balance, 0):,}. Buy credits, or "
                f"send "
                "fewer rows.", details={"credits": credits, "balance": balance})


def check_catalogue(conn: psycopg.Connection, *, provider: str, plan: Plan) -> None:
    """422 naming the template's avatar or voice when it is not live."""
    video_service.check_catalogue(conn, provider=provider, avatar_id=plan.template.avatar_id,
                                  voice_id=plan.template.voice_id, field_prefix="template.")


def get_batch(conn: psycopg.Connection, *, user_id: str, batch_id: str) -> tuple[models.Batch,
                                                                                  CountBatchVideosRow | None]:
    """The user's batch and its progress, or 404 (also for someone else's)."""
    batch = queries.get_batch_for_user(conn, id=batch_id, user_id=user_id)
    if batch is None:
        raise BatchNotFound()
    return batch, _counts(conn, [batch.id]).get(batch.id)


def list_batches(conn: psycopg.Connection, *, user_id: str, cursor: str | None, limit: int
                 ) -> tuple[list[tuple[models.Batch, CountBatchVideosRow | None]], str | None]:
    """One page of the user's batches with their progress, newest first, and the next page's cursor."""
    before_created, before_id = _after(cursor)
    rows = queries.list_user_batches(conn, user_id=user_id, before_created_at=before_created,
                                     before_id=before_id, page_size=limit + 1)
    page = rows[:limit]
    counts = _counts(conn, [batch.id for batch in page])
    next_cursor = (encode_cursor(page[-1].created_at.isoformat(), page[-1].id) if len(rows) > limit else None)
    return [(batch, counts.get(batch.id)) for batch in page], next_cursor


def cancel_batch(conn: psycopg.Connection, *, user_id: str, batch_id: str, now: datetime) -> Cancelled:
    """Stop every row not yet admitted to render and give back what they cost, in one refund, exactly once;
    409 when no row is left to stop (and no cancel happened before: a repeated cancel answers 0 rows).

    The batch row is locked first, so cancels of one batch run one after the other: the second finds no queued
    row left. Rows race the dispatcher's admission row by row (whichever locks a row first wins); a row
    already admitted renders and is paid for. Run in one transaction: the rows, the refund and cancelled_at
    commit together.
    """
    batch = queries.lock_batch_for_user(conn, id=batch_id, user_id=user_id)
    if batch is None:
        raise BatchNotFound()
    stopped = queries.cancel_queued_batch_videos(conn, now=now, batch_id=batch.id)
    credits = sum(row.credits for row in stopped)
    if credits and not ledger.refund_batch_rows(conn, user_id=user_id, batch_id=batch.id, credits=credits):
        # Cannot happen (only the first cancel finds queued rows); refuse rather than stop rows unrefunded.
        raise Conflict("BATCH_ALREADY_REFUNDED", "This batch's cancel was refunded already.")
    if not stopped:
        if batch.cancelled_at is not None:
            # an earlier cancel stopped them
            return Cancelled(batch, rows=0, refunded_credits=0, video_ids=[])
        raise Conflict("BATCH_NOT_CANCELLABLE",
                       "Every row of this batch has started rendering or is finished: "
                       "nothing is left to cancel.")
    cancelled = queries.mark_batch_cancelled(conn, now=now, id=batch.id) or batch
    return Cancelled(cancelled, rows=len(stopped), refunded_credits=credits,
                     video_ids=[row.id for row in stopped])


def results(conn: psycopg.Connection, *, user_id: str, batch_id: str) -> tuple[models.Batch,
                                                                                list[models.Video | None]]:
    """The batch and, for each row in order, its video (None where the video was deleted since)."""
    batch = queries.get_batch_for_user(conn, id=batch_id, user_id=user_id)
    if batch is None:
        raise BatchNotFound()
    by_row: dict[int, models.Video] = {video.batch_row: video
                                       for video in queries.list_batch_videos(conn, batch_id=batch.id)
                                       if video.batch_row is not None}
    return batch, [by_row.get(row) for row in range(1, batch.row_count + 1)]


def _counts(conn: psycopg.Connection, batch_ids: list[str]) -> dict[str, CountBatchVideosRow]:
    if not batch_ids:
        return {}
    return {row.batch_id: row for row in queries.count_batch_videos(conn, batch_ids=batch_ids)}


def _after(cursor: str | None) -> tuple[datetime | None, str | None]:
    """(created_at, id) of the batch a cursor points just after."""
    if not cursor:
        return None, None
    created, batch_id = decode_cursor(cursor, parts=2)
    if "\x00" in batch_id:
        raise invalid_cursor()
    try:
        return datetime.fromisoformat(created), batch_id
    except ValueError:
        raise invalid_cursor() from None
