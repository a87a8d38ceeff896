"""The RQ worker process: jobs run in-process, SIGTERM finishes the current job, job ids on every log line.

genvid's jobs are short (a submit, a status check, a download) and idempotent, so the worker does not fork a
"horse" per job as rq's default Worker does: forking threw away the per-process PostgreSQL pool, the Redis
client and HeyGen's keep-alive HTTP session on every job (measured: 11.5 submits/s forked, 29.7 in-process).
A job cut short by SIGKILL is resumed from PostgreSQL by the reconciler.
"""
from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from typing import Any

import redis
from rq.exceptions import SchedulerNotFound
from rq.scheduler import RQScheduler
from rq.worker import SimpleWorker

from genvid import logs, processes, queue, runtime
from genvid.config import Config
from genvid.outbound import sweeper as outbound_sweeper
from genvid.videos import jobs as video_jobs
from genvid.videos import media

log = logging.getLogger("genvid.worker")

# rq retries taking a dead worker's scheduler lock only at maintenance time (600 s by default); a killed
# dyno's lock expires after about a minute, so check every minute and scheduled status checks resume quickly.
MAINTENANCE_INTERVAL_SECONDS = 60
# How long the worker's command listener (rq's pubsub thread) blocks per poll; see GenvidWorker.subscribe.
PUBSUB_POLL_SECONDS = 1.0


class GenvidWorker(SimpleWorker):
    """An in-process rq worker (SIGTERM: warm shutdown after the current job) tagging log lines with job ids."""

    def perform_job(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> bool:
        token = logs.job_id_var.set(job.id)
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            logs.job_id_var.reset(token)

    def subscribe(self) -> None:
        """rq's own subscribe, polling every PUBSUB_POLL_SECONDS instead of rq's 60.

        At teardown rq 3.0 unsubscribes, then stops the listener thread, and redis-py 8.2's stop() joins it. When
        the thread has already read the UNSUBSCRIBE reply it waits for a new subscription for its whole poll
        time, so a worker's exit (a burst run, a dyno's SIGTERM) hung for 60 s in about one run in 50: longer than
        the 30 s Heroku allows before SIGKILL. A short poll bounds that wait; the thread only ever reads this
        worker's command channel, so waking every second costs nothing measurable.
        """
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]  # rq declares it as None
            sleep_time=PUBSUB_POLL_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler)


def run(config: Config, *, queues: tuple[str, ...] = queue.DEFAULT_QUEUES, burst: bool = False) -> None:
    """Work the given queues until SIGTERM (or until empty with burst)."""
    runtime.init(config)
    logs.setup(config.log_level)
    media.warn_if_media_on_local_disk(config)
    release_dead_scheduler_locks(queue.connection(), queues)
    video_jobs.schedule_periodic_jobs()   # idempotent: every worker start makes sure periodic work is queued
    outbound_sweeper.ensure_running(restart=True)
    worker = GenvidWorker([queue.get_queue(name) for name in queues], connection=queue.connection(),
                          maintenance_interval=MAINTENANCE_INTERVAL_SECONDS)
    log.info("worker starting", extra={"queues": list(queues)})
    worker.work(with_scheduler=True, burst=burst, logging_level=config.log_level)


# Delete KEYS[1] only while it still holds ARGV[1] (another scheduler may have taken it meanwhile).
_COMPARE_AND_DELETE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def release_dead_scheduler_locks(client: redis.Redis, queue_names: Iterable[str]) -> list[str]:
    """Free rq scheduler locks whose holder was a process on this host that no longer exists.

    A worker killed with SIGKILL leaves its scheduler lock for about a minute, and a restarted worker only
    retries taking it at its next maintenance pass: scheduled status checks would wait until then. Freeing it
    at start lets the restarted worker schedule at once. Holders on other hosts cannot be checked and are
    left to expire (then MAINTENANCE_INTERVAL_SECONDS bounds the wait).
    """
    released = []
    for name in queue_names:
        lock_key = RQScheduler.get_locking_key(name)
        holder = client.get(lock_key)
        if not holder:
            continue
        holder_name = holder.decode() if isinstance(holder, bytes) else str(holder)
        try:
            scheduler = RQScheduler.fetch(holder_name, client)
        except SchedulerNotFound:
            continue
        if scheduler.hostname != socket.gethostname() or not scheduler.pid or processes.is_alive(scheduler.pid):
            continue
        if client.eval(_COMPARE_AND_DELETE, 1, lock_key, holder_name):
            released.append(name)
            log.warning("released the scheduler lock of a dead worker", extra={"queue": name})
    return released
