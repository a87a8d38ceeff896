"""The Redis client for everything (RQ queues, pub/sub, rate-limit counters), one per process, and the queues.

The process's entry point points it at REDIS_URL (genvid.infra.services.start).
"""
from __future__ import annotations

import os
import threading

import redis
from rq import Queue

DEFAULT_QUEUES = ("default", "renders", "webhooks")   # a worker takes from the first non-empty queue

_lock = threading.Lock()
_url: str | None = None
_client: redis.Redis | None = None
_client_pid: int | None = None


def configure(url: str) -> None:
    """Set the Redis URL for this process (rediss:// gets TLS; Heroku's certificates are self-signed)."""
    global _url, _client
    _url, _client = url, None


def configured_url() -> str:
    if _url is None:
        raise RuntimeError("queue.configure() was not called")
    return _url


def connection() -> redis.Redis:
    """This process's Redis client (a new one after fork)."""
    global _client, _client_pid
    if _client is not None and _client_pid == os.getpid():
        return _client
    with _lock:
        if _client is None or _client_pid != os.getpid():
            _client = connect(configured_url())
            _client_pid = os.getpid()
    return _client


def connect(url: str) -> redis.Redis:
    """A fresh client for url; Heroku Redis over TLS uses self-signed certificates."""
    options: dict[str, object] = {"socket_timeout": 5, "socket_connect_timeout": 2,
                                  "health_check_interval": 30}
    if url.startswith("rediss://"):
        options["ssl_cert_reqs"] = None
    return redis.Redis.from_url(url, **options)  # type: ignore[arg-type]


def get_queue(name: str = "default") -> Queue:
    """The RQ queue called name on this process's connection."""
    return Queue(name, connection=connection())


def ping() -> None:
    """Raise if Redis cannot answer right now."""
    client = connect(configured_url())
    try:
        client.ping()
    finally:
        client.close()
