"""The reconciler: resumes videos whose next action is overdue, from the database (the source of truth).

A video's row says when its job expects to act next (next_check_at). If that moment passed more than a grace
period ago, the job was lost (Redis flushed, a worker killed mid-job) or is badly late; either way a new job
with the row's step is enqueued. The step guard makes a late original and the resumed job collapse into
one, and next_check_at is pushed forward so the next reconciler run does not resume it again meanwhile.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import db.videos_videos as queries
from db import models
from genvid import database
from genvid.videos import jobs

log = logging.getLogger("genvid.videos.reconciler")

BATCH = 500


def reconcile(*, now: datetime, grace_seconds: float, submit_window_seconds: float, limit: int = BATCH) -> int:
    """Re-enqueue every unfinished video overdue by more than grace_seconds; returns how many.

    A resumed submit gets submit_window_seconds before it may be resumed again (a create can be slow).
    """
    resumed = 0
    with database.connection() as conn:
        overdue = queries.list_overdue_unfinished(conn, due_before=now - timedelta(seconds=grace_seconds),
                                                  page_size=limit)
        for video in overdue:
            window = timedelta(seconds=submit_window_seconds if video.status == models.VideoStatus.SUBMITTING
                               else max(60.0, grace_seconds))
            if queries.postpone_check(conn, next_check_at=now + window, id=video.id, step=video.step):
                jobs.enqueue_advance(video.id, step=video.step)
                resumed += 1
    if resumed:
        log.info("reconciler resumed videos", extra={"resumed": resumed})
    return resumed
