"""The RQ worker process: jobs run in-process, SIGTERM finishes the current job, job ids on every log line.

genvid's jobs are short (a submit, a status check, a download) and idempotent, so the worker does not fork a
"horse" per job as rq's default Worker does: forking threw away the per-process PostgreSQL pool, the Redis
client and HeyGen's keep-alive HTTP session on every job (measured: 11.5 submits/s forked, 29.7 in-process).
A job cut short by SIGKILL is resumed from PostgreSQL by the reconciler.
"""
from __future__ import annotations

import logging
from typing import Any

from rq.worker import SimpleWorker

from genvid import logs, queue, runtime
from genvid.config import Config
from genvid.videos import jobs as video_jobs

log = logging.getLogger("genvid.worker")

# rq retries taking a dead worker's scheduler lock only at maintenance time (600 s by default); a killed
# dyno's lock expires after about a minute, so check every minute and scheduled status checks resume quickly.
MAINTENANCE_INTERVAL_SECONDS = 60


class GenvidWorker(SimpleWorker):
    """An in-process rq worker (SIGTERM: warm shutdown after the current job) tagging log lines with job ids."""

    def perform_job(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> bool:
        token = logs.job_id_var.set(job.id)
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            logs.job_id_var.reset(token)


def run(config: Config, *, queues: tuple[str, ...] = queue.DEFAULT_QUEUES, burst: bool = False) -> None:
    """Work the given queues until SIGTERM (or until empty with burst)."""
    runtime.init(config)
    logs.setup(config.log_level)
    video_jobs.schedule_periodic_jobs()   # idempotent: every worker start makes sure periodic work is queued
    worker = GenvidWorker([queue.get_queue(name) for name in queues], connection=queue.connection(),
                          maintenance_interval=MAINTENANCE_INTERVAL_SECONDS)
    log.info("worker starting", extra={"queues": list(queues)})
    worker.work(with_scheduler=True, burst=burst, logging_level=config.log_level)
