"""What a video cost, given back: the one refund rule for a render that failed or was cancelled before it
started, whether the video was paid for alone (its own ledger debit) or as a row of a batch (a share of the
batch's debit). Runs inside the caller's transaction, with the status change it refunds."""
from __future__ import annotations

import psycopg

from db import models
from genvid.billing import ledger


def refund_video(conn: psycopg.Connection, video: models.Video) -> bool:
    """Give back what video was charged, once: True if refunded now, False if already (or never charged)."""
    if video.batch_id is None:
        return ledger.refund_render(conn, user_id=video.user_id, video_id=video.id)
    return ledger.refund_batch_render(conn, user_id=video.user_id, batch_id=video.batch_id, video_id=video.id,
                                      credits=video.credits)
