"""A worker exits promptly. rq 3.0's teardown unsubscribes from the worker's command channel and then stops
its listener thread, which redis-py 8.2 joins; a listener that has already read the UNSUBSCRIBE reply waits
for a new subscription for its whole poll time (rq's 60 s; Heroku sends SIGKILL 30 s after SIGTERM)."""
from __future__ import annotations

import threading
import time

import redis
from rq import Queue

from genvid.infra import redis_client as genvid_redis
from genvid.worker import GenvidWorker


def test_teardown_does_not_wait_out_the_command_listener(redis_client: redis.Redis) -> None:
    connection = genvid_redis.connection()
    worker = GenvidWorker([Queue("default", connection=connection)], connection=connection)
    worker.subscribe()
    # The race, made certain: the listener reads the UNSUBSCRIBE reply before it is told to stop.
    worker.pubsub.unsubscribe()
    deadline = time.monotonic() + 30
    while worker.pubsub.subscribed:
        assert time.monotonic() < deadline, "the listener never read the UNSUBSCRIBE reply"
        time.sleep(0.01)
    finished = threading.Event()
    threading.Thread(target=lambda: (worker.unsubscribe(), finished.set()), daemon=True).start()
    # rq's own worker needs 60 s here; genvid's a poll of about a second. 20 s leaves room for a slow machine.
    assert finished.wait(20), "the worker's teardown waited out its command listener's poll"
