"""The RQ worker process: graceful on SIGTERM (HerokuWorker), with the scheduler, job ids on every log line."""
from __future__ import annotations

import importlib
import logging
from typing import Any

from rq.worker import HerokuWorker

from genvid import logs, queue, runtime
from genvid.config import Config

log = logging.getLogger("genvid.worker")


class GenvidWorker(HerokuWorker):
    """HerokuWorker (SIGTERM ends the current job cleanly) that tags each job's log lines with its id."""

    def perform_job(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> bool:
        token = logs.job_id_var.set(job.id)
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            logs.job_id_var.reset(token)


def schedule_periodic_jobs() -> None:
    """Let each domain that has periodic work schedule it (idempotent: many workers may call this)."""
    try:
        jobs = importlib.import_module("genvid.videos.jobs")
    except ModuleNotFoundError:
        return
    schedule = getattr(jobs, "schedule_periodic_jobs", None)
    if schedule is not None:
        schedule(queue.get_queue("default"))


def run(config: Config, *, queues: tuple[str, ...] = queue.DEFAULT_QUEUES, burst: bool = False) -> None:
    """Work the given queues until SIGTERM (or until empty with burst)."""
    runtime.init(config)
    logs.setup(config.log_level)
    schedule_periodic_jobs()
    worker = GenvidWorker([queue.get_queue(name) for name in queues], connection=queue.connection())
    log.info("worker starting", extra={"queues": list(queues)})
    worker.work(with_scheduler=True, burst=burst, logging_level=config.log_level)
