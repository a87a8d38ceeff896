"""The HTTP side of Server-Sent Event streams (a video's, and a batch's): everything that may refuse a stream
happens before its first byte, so a refusal is an ordinary JSON answer with its status. Request side: the
views of videos and batches use it; the stream itself, its limits and its nudges are genvid/videos/events.py.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import redis
from flask import Response, stream_with_context

from genvid.errors import ServiceUnavailable, TooManyRequests
from genvid.http.app_config import app_config
from genvid.http.middleware import new_request_id
from genvid.infra import redis_client
from genvid.videos import events


def open_event_stream(*, user_id: str, channel_name: str,
                      body: Callable[[redis.client.PubSub], Iterator[str]]) -> Response:
    """Take a process slot (503 when none is free), a user slot (429) and the subscription to channel_name,
    all before the first byte, then stream body(subscription); everything is handed back when the server
    closes the response."""
    if not events.try_open_stream():
        raise ServiceUnavailable("TOO_MANY_STREAMS", "Too many event streams are open; poll instead.",
                                 headers={"Retry-After": "5"})
    client = redis_client.connection()
    stream_id = new_request_id()
    claimed = False
    try:
        config = app_config()
        claimed = events.claim_user_slot(client, user_id=user_id, stream_id=stream_id,
                                         limit=config.event_streams_per_user,
                                         lease_seconds=config.event_stream_seconds
                                         + events.LEASE_MARGIN_SECONDS)
        if not claimed:
            raise TooManyRequests("TOO_MANY_STREAMS",
                                  "You have too many event streams open; close one or poll "
                                  "instead.", headers={"Retry-After": "5"})
        pubsub = events.subscribe(client, channel_name=channel_name)
    except BaseException:
        if claimed:
            events.release_user_slot(client, user_id=user_id, stream_id=stream_id)
        events.close_stream()
        raise

    def release() -> None:
        pubsub.close()
        events.release_user_slot(client, user_id=user_id, stream_id=stream_id)
        events.close_stream()

    response = Response(stream_with_context(body(pubsub)), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.call_on_close(release)   # WSGI servers close every response, streamed or not
    return response
