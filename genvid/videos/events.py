"""Status change notifications through Redis pub/sub, so any web process can stream any video's (or batch's)
events.

A message is only a nudge ("this video changed"; a video of a batch nudges its batch's channel too); the
stream re-reads the row, which is the truth, so a lost message costs at most one keep-alive interval of
latency.

Limits. A stream holds one of gunicorn's threads for its whole life, so:
- per process, at most MAX_STREAMS_PER_PROCESS streams (half the threads), else 503;
- per user, at most `event_streams_per_user` streams across every process, counted in Redis (a sorted set of
  stream ids scored by lease expiry, so a slot held by a killed process frees itself), else 429;
- every stream ends after `event_stream_seconds`. It starts with `retry: 3000`, so a browser's EventSource
  reconnects 3 s after that end and gets a fresh snapshot (and a fresh slot, if one is free).
Everything that can refuse a stream happens before its first byte, so a refusal is a JSON answer with the
right status; once streaming, a failure (Redis or PostgreSQL gone) ends the stream cleanly and is logged.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator

import psycopg
import redis

log = logging.getLogger("genvid.videos.events")

KEEPALIVE_SECONDS = 15.0
RECONNECT_MILLISECONDS = 3000
LEASE_MARGIN_SECONDS = 30.0     # a slot outlives its stream's time limit by this much if never released
MAX_STREAMS_PER_PROCESS = 4     # gthread runs 8 threads per process: half of them at most may stream

_slots = threading.BoundedSemaphore(MAX_STREAMS_PER_PROCESS)

# KEYS[1] the user's slot set; ARGV: stream id, limit, lease seconds. Expired leases are dropped first, then
# the stream gets a slot if fewer than limit are held. Redis's clock, so web hosts need not agree on the time.
_CLAIM = """
local now = redis.call('TIME')
local seconds = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', seconds)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], seconds + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])))
return 1
"""


def try_open_stream() -> bool:
    """Take one of this process's stream slots; False when all are in use."""
    return _slots.acquire(blocking=False)


def close_stream() -> None:
    """Give a stream slot back."""
    _slots.release()


def _user_slots_key(user_id: str) -> str:
    return f"genvid:videos:streams:{user_id}"


def claim_user_slot(client: redis.Redis, *, user_id: str, stream_id: str, limit: int,
                    lease_seconds: float) -> bool:
    """Take one of the user's stream slots for at most lease_seconds;
    False when the user holds limit already."""
    claimed = client.eval(_CLAIM, 1, _user_slots_key(user_id), stream_id, limit, lease_seconds)
    return bool(claimed)


def release_user_slot(client: redis.Redis, *, user_id: str, stream_id: str) -> None:
    """Give the user's slot back (a Redis hiccup here only keeps it until its lease ends)."""
    try:
        client.zrem(_user_slots_key(user_id), stream_id)
    except redis.RedisError:
        log.warning("could not release a stream slot; its lease will", extra={"stream_id": stream_id})


def channel(video_id: str) -> str:
    """The pub/sub channel of one video."""
    return f"genvid:videos:{video_id}:events"


def batch_channel(batch_id: str) -> str:
    """The pub/sub channel of one batch: a nudge whenever one of its videos changes."""
    return f"genvid:batches:{batch_id}:events"


def publish(client: redis.Redis, *, video_id: str, status: str, batch_id: str | None = None) -> None:
    """Tell every listener that video_id (of batch_id, if any) changed; a Redis hiccup never fails the state
    change itself."""
    publish_many(client, [(video_id, status, batch_id)])


def publish_many(client: redis.Redis, changes: Iterable[tuple[str, str, str | None]]) -> None:
    """publish() for each (video id, status, batch id or None), in one round trip."""
    try:
        pipe = client.pipeline(transaction=False)
        batches: set[str] = set()
        for video_id, status, batch_id in changes:
            pipe.publish(channel(video_id), json.dumps({"id": video_id, "status": status}))
            if batch_id is not None:
                batches.add(batch_id)
        for batch_id in batches:       # one nudge per batch is enough: its stream re-reads the counts
            pipe.publish(batch_channel(batch_id), json.dumps({"id": batch_id}))
        pipe.execute()
    except redis.RedisError:
        log.warning("could not publish video events")


def subscribe(client: redis.Redis, *, channel_name: str) -> redis.client.PubSub:
    """A subscription to a channel's changes, made now (before any read, so no change can slip between; and
    before the response starts, so a Redis outage is still a proper error answer)."""
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(channel_name)
    except BaseException:
        pubsub.close()
        raise
    return pubsub


def format_event(event: str, data: str) -> str:
    """One Server-Sent Event."""
    return f"event: {event}\ndata: {data}\n\n"


def stream(pubsub: redis.client.PubSub, *, subject_id: str, snapshot: Callable[[], tuple[str, str] | None],
           is_final: Callable[[str], bool], max_seconds: float,
           keepalive: float = KEEPALIVE_SECONDS, min_interval: float = 0.0) -> Iterator[str]:
    """SSE text: a reconnection hint, the current state, then every change, until a final state, deletion,
    max_seconds, or a failure of Redis or PostgreSQL (logged; the client reconnects as after max_seconds).

    snapshot() returns (status, JSON of the subject: a video or a batch) read from the database, or None when
    it is gone. It is sent when a nudge arrives and on every keep-alive tick (cheap insurance against a lost
    message), at most once per min_interval seconds (a batch's rows nudge it many times a second: their
    nudges in between are folded into the next snapshot).
    """
    try:
        yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
        last: str | None = None
        started = time.monotonic()
        while True:
            current = snapshot()
            if current is None:
                yield format_event("deleted", json.dumps({"id": subject_id}))
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
            next_tick = min(now + keepalive, started + max_seconds)
            nudged = False
            while time.monotonic() < next_tick:
                wake = min(next_tick, now + min_interval) if nudged else next_tick
                message = pubsub.get_message(timeout=min(1.0, max(0.01, wake - time.monotonic())))
                nudged = nudged or message is not None
                if nudged and time.monotonic() >= now + min_interval:
                    break
            else:
                if not nudged:
                    yield ": keep-alive\n\n"
    except (redis.RedisError, psycopg.Error) as exc:
        # Headers are sent: no error status can be given any more. End the stream as at its time limit.
        log.warning("event stream ended early: a backing service failed",
                    extra={"subject_id": subject_id, "error_type": type(exc).__name__})
    finally:
        pubsub.close()
