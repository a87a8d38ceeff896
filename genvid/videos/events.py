"""Status change notifications through Redis pub/sub, so any web process can stream any video's events.

A message is only a nudge ("this video changed"); the stream re-reads the row, which is the truth, so a
lost message costs at most one keep-alive interval of latency.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator

import redis

log = logging.getLogger("genvid.videos.events")

KEEPALIVE_SECONDS = 15.0
MAX_STREAM_SECONDS = 120.0     # clients (EventSource) reconnect by themselves after this
# A stream holds one of gunicorn's threads (gthread, 8 per process) for its whole life; half of them at
# most may stream, so ordinary API requests are never starved. Over the cap: 503 with Retry-After.
MAX_STREAMS_PER_PROCESS = 4

_slots = threading.BoundedSemaphore(MAX_STREAMS_PER_PROCESS)


def try_open_stream() -> bool:
    """Take one of this process's stream slots; False when all are in use."""
    return _slots.acquire(blocking=False)


def close_stream() -> None:
    """Give a stream slot back."""
    _slots.release()


def channel(video_id: str) -> str:
    """The pub/sub channel of one video."""
    return f"genvid:videos:{video_id}:events"


def publish(client: redis.Redis, *, video_id: str, status: str) -> None:
    """Tell every listener that video_id changed; a Redis hiccup never fails the state change itself."""
    try:
        client.publish(channel(video_id), json.dumps({"id": video_id, "status": status}))
    except redis.RedisError:
        log.warning("could not publish a video event", extra={"video_id": video_id})


def format_event(event: str, data: str) -> str:
    """One Server-Sent Event."""
    return f"event: {event}\ndata: {data}\n\n"


def stream(client: redis.Redis, *, video_id: str, snapshot: Callable[[], tuple[str, str] | None],
           is_final: Callable[[str], bool], max_seconds: float = MAX_STREAM_SECONDS,
           keepalive: float = KEEPALIVE_SECONDS) -> Iterator[str]:
    """SSE text: the current state, then every change, until a final state, deletion or max_seconds.

    snapshot() returns (status, JSON of the video) read from the database, or None when it is gone. It is
    sent when a nudge arrives and on every keep-alive tick (cheap insurance against a lost message).
    """
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel(video_id))     # subscribe before the first read: no change can slip between
    try:
        last: str | None = None
        started = next_tick = time.monotonic()
        while True:
            current = snapshot()
            if current is None:
                yield format_event("deleted", json.dumps({"id": video_id}))
                return
            status, body = current
            if body != last:
                yield format_event("status", body)
                last = body
            if is_final(status):
                return
            now = time.monotonic()
            if now - started >= max_seconds:
                return
            next_tick = now + keepalive
            while time.monotonic() < next_tick:
                message = pubsub.get_message(timeout=min(1.0, max(0.01, next_tick - time.monotonic())))
                if message is not None:
                    break
            else:
                yield ": keep-alive\n\n"
    finally:
        pubsub.close()
