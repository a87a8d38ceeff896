"""The worker process: an in-process RQ worker, and the loop that dispatches everything that is due.

genvid's jobs are short (a submit, a status check, a download) and idempotent, so the worker does not fork a
"horse" per job as rq's default Worker does: forking threw away the per-process PostgreSQL pool, the Redis
client and HeyGen's keep-alive HTTP session on every job (measured: 11.5 submits/s forked, 29.7 in-process).
SIGTERM lets the current job finish.

Beside rq's loop, the process runs one more, in a thread (WorkerLoop): every half second it renews the claim
of the job running here when needed (genvid.videos.leases), dispatches every video step that is due
(genvid.videos.dispatcher) and every webhook delivery that is due (genvid.outbound.dispatcher), and about once
a minute enqueues the daily maintenance and the webhook log's pruning when they are due
(genvid.videos.periodic, genvid.outbound.dispatcher). What is due
is read from PostgreSQL, so the loop needs nothing from Redis to keep going: a FLUSHALL or a Redis restart
delays work by at most render_redispatch_seconds and loses none, and it lives and dies with this process.
rq's scheduler (a forked process holding a lock in Redis) is not started: nothing is scheduled in Redis.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from rq.worker import SimpleWorker

from genvid import clock
from genvid.config import Config
from genvid.infra import redis_client, services
from genvid.outbound import dispatcher as webhook_dispatcher
from genvid.videos import dispatcher, leases, media, periodic
from genvid.videos.jobs import Tuning

log = logging.getLogger("genvid.worker")

TICK_SECONDS = 0.5               # the longest a due step waits for dispatch (one indexed query per tick)
PERIODIC_CHECK_SECONDS = 60.0    # how often periodic tasks are looked at (they run daily)
# How long the worker's command listener (rq's pubsub thread) blocks per poll; see GenvidWorker.subscribe.
PUBSUB_POLL_SECONDS = 1.0


class GenvidWorker(SimpleWorker):
    """An in-process rq worker (SIGTERM: warm shutdown after the current job) tagging log lines with job
    ids."""

    def subscribe(self) -> None:
        """rq's own subscribe, polling every PUBSUB_POLL_SECONDS instead of rq's 60.

        At teardown rq 3.0 unsubscribes, then stops the listener thread, and redis-py 8.2's stop() joins it.
        When the thread has already read the UNSUBSCRIBE reply it waits for a new subscription for its whole
        poll time, so a worker's exit (a burst run, a dyno's SIGTERM) hung for 60 s in about one run in 50:
        longer than the 30 s Heroku allows before SIGKILL. A short poll bounds that wait; the thread only ever
        reads this worker's command channel, so waking every second costs nothing measurable.
        """
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]  # rq declares it as None
            sleep_time=PUBSUB_POLL_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler)


class WorkerLoop:
    """The duties of one tick; each runs even when another failed (Redis down does not stop lease renewal)."""

    def __init__(self, config: Config) -> None:
        self.tuning = Tuning.of(config)
        self.max_in_flight = config.heygen_max_concurrent
        self.webhook_redispatch_seconds = config.webhook_redispatch_seconds
        self._periodic_checked_at: datetime | None = None
        self._failing: set[str] = set()

    def tick(self, now: datetime) -> None:
        """Renew running claims, dispatch due video steps and webhook deliveries, and (once a minute) enqueue
        due periodic work."""
        self._duty("renew claims", lambda: leases.renew(now=now, seconds=self.tuning.lease_seconds))
        self._duty("dispatch",
                   lambda: dispatcher.dispatch_due(now=now, redispatch_seconds=self.tuning.redispatch_seconds,
                                                   max_in_flight=self.max_in_flight))
        self._duty("dispatch webhooks", lambda: webhook_dispatcher.dispatch_due(
            now=now, redispatch_seconds=self.webhook_redispatch_seconds))
        checked = self._periodic_checked_at
        if checked is None or (now - checked).total_seconds() >= PERIODIC_CHECK_SECONDS:
            self._periodic_checked_at = now
            self._duty("periodic", lambda: periodic.enqueue_if_due(now=now))
            self._duty("prune webhook log", lambda: webhook_dispatcher.prune_if_due(now=now))

    def run(self, stop: threading.Event) -> None:
        """Tick every TICK_SECONDS on genvid's clock until stop is set."""
        while not stop.wait(TICK_SECONDS):
            self.tick(clock.now())

    def _duty(self, name: str, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception:
            if name not in self._failing:      # once per outage, not once a second
                self._failing.add(name)
                log.exception("worker loop: %s failed; retrying every tick", name)
            return
        if name in self._failing:
            self._failing.discard(name)
            log.info("worker loop: %s works again", name)


def run(config: Config, *, queues: tuple[str, ...] = redis_client.DEFAULT_QUEUES,
        burst: bool = False) -> None:
    """The worker process's entry point: work the given queues until SIGTERM (with burst: dispatch what is due
    once, then work until empty). Its jobs read config through genvid.infra.services.started_config()."""
    config = services.start(config)
    media.warn_if_media_on_local_disk(config)
    loop = WorkerLoop(config)
    worker = GenvidWorker([redis_client.get_queue(name) for name in queues],
                          connection=redis_client.connection())
    rq_level = config.log_level if config.is_production else "WARNING"
    log.info("worker starting", extra={"queues": list(queues)})
    if burst:
        loop.tick(clock.now())
        worker.work(burst=True, logging_level=rq_level)
        return
    stop = threading.Event()
    ticker = threading.Thread(target=loop.run, args=(stop,), name="genvid-worker-loop", daemon=True)
    ticker.start()
    try:
        # rq narrates every job at INFO; in production that is the job log a platform keeps, on a laptop it
        # buries the server's own lines (genvid's loggers keep config.log_level either way).
        worker.work(logging_level=rq_level)
    finally:
        stop.set()
        ticker.join(timeout=2 * TICK_SECONDS + 30)
