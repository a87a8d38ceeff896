"""Fixtures for outbound webhooks: real HTTP receivers on 127.0.0.1 that record, fail, stall, answer slowly or
redirect, verifying every delivery with the Standard Webhooks reference library (PyPI standardwebhooks); the
workers' clock; and what a worker does for webhooks, run here: its loop's dispatch, then a burst
worker (genvid's) on the webhooks queue.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fakes.serving import ThreadedServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from genvid.clock import FrozenClock
from genvid.infra import redis_client
from genvid.infra import services as genvid_services
from genvid.outbound import delivery, dispatcher
from genvid.worker import GenvidWorker


@dataclass
class Behaviour:
    """How a receiver path answers."""

    status: int = 200
    delay: float = 0.0             # seconds before answering (longer than the timeout: a stalled receiver)
    body: bytes = b"ok"
    location: str | None = None


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: Any = None           # what standardwebhooks' verify() returned, or the error text
    secrets_that_verify: list[str] = field(default_factory=list)


class Receiver:
    """An HTTP server whose paths behave as told (POST only); every request is kept and checked against the
    secrets registered for its path with the reference library."""

    def __init__(self) -> None:
        self.behaviours: dict[str, Behaviour] = {}
        self.secrets: dict[str, list[str]] = {}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver._record(self.path, dict(self.headers.items()), body)
                behaviour = receiver.behaviours.get(self.path, Behaviour())
                time.sleep(behaviour.delay)
                try:
                    self.send_response(behaviour.status)
                    if behaviour.location:
                        self.send_header("Location", behaviour.location)
                    self.send_header("Content-Length", str(len(behaviour.body)))
                    self.end_headers()
                    self.wfile.write(behaviour.body)
                except OSError:
                    pass                   # the sender gave up first

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadedServer(ThreadingHTTPServer(("127.0.0.1", 0), Handler), name="webhook-receiver")

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> None:
        item = Received(path, headers, body)
        for secret in self.secrets.get(path, []):
            try:
                item.verified = Webhook(secret).verify(body, headers)
                item.secrets_that_verify.append(secret)
            except WebhookVerificationError as exc:
                item.verified = item.verified or f"refused: {exc}"
        with self._lock:
            self.received.append(item)

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.path == path]

    def close(self) -> None:
        self.server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def webhook_time(frozen_clock: FrozenClock) -> FrozenClock:
    """The workers' clock (genvid.clock), frozen at the present: what is due, retries, the day-long window."""
    return frozen_clock


def dispatch(now: Any) -> int:
    """What a worker's loop does for webhooks at now: fan out SQL-written events, enqueue what is due."""
    return dispatcher.dispatch_due(
        now=now, redispatch_seconds=genvid_services.started_config().webhook_redispatch_seconds)


@pytest.fixture
def deliver_now(app: Any, frozen_clock: FrozenClock) -> Callable[[], int]:
    """Dispatch the deliveries due at the clock's now and run the webhooks queue to empty on a burst worker in
    this process, until nothing more is due (or waiting); how many jobs ran."""
    def run() -> int:
        total = 0
        while True:
            dispatch(frozen_clock())
            jobs = redis_client.get_queue(delivery.QUEUE)
            waiting = jobs.count
            if waiting == 0:
                return total
            GenvidWorker([jobs], connection=redis_client.connection()).work(burst=True,
                                                                            logging_level="WARNING")
            total += waiting
    return run


def body_of(item: Received) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(item.body)
    return parsed
