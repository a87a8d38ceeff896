"""Limits of GET /api/videos/{id}/events: a per-user cap counted in Redis (so it holds across web processes),
streams that end after a bounded time with a `retry:` hint so EventSource reconnects, and refusals that come
as JSON before a stream starts."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from live_stack import wait_for
from videos_fixtures import TEST_TUNING, Studio

from genvid.infra import redis_client
from genvid.videos import events


@pytest.fixture
def two_processes(make_app: Callable[..., Flask], make_studio: Callable[..., Studio]) -> tuple[Studio,
                                                                                               Studio]:
    """Two apps on the same PostgreSQL and Redis, as two gunicorn workers would be (per-user cap 2)."""
    apps = [make_app(video_provider="local", event_streams_per_user=2, **TEST_TUNING) for _ in range(2)]
    return make_studio(apps[0]), make_studio(apps[1])


class HeldStream:
    """A stream opened and held in a thread of its own, as a server thread holds it, until release()."""

    def __init__(self, studio: Studio, video_id: str, headers: dict[str, str]) -> None:
        self.opened = threading.Event()
        self.done = threading.Event()
        self.status = 0
        self.body: dict[str, Any] | None = None
        self.headers: dict[str, str] = {}
        self.thread = threading.Thread(target=self._hold, args=(studio, video_id, headers), daemon=True)
        self.thread.start()
        assert self.opened.wait(60), "the stream did not open"

    def _hold(self, studio: Studio, video_id: str, headers: dict[str, str]) -> None:
        response = studio.client.get(f"/api/videos/{video_id}/events", headers=headers, buffered=False)
        self.status, self.headers = response.status_code, dict(response.headers)
        if response.mimetype == "application/json":
            self.body = response.get_json()
        self.opened.set()
        self.done.wait(120)
        response.close()

    def release(self) -> None:
        self.done.set()
        self.thread.join(timeout=60)


def test_one_user_holds_at_most_the_per_user_cap_across_processes(
        two_processes: tuple[Studio, Studio]) -> None:
    first, second = two_processes
    _, alice = first.user()
    _, bob = first.user()
    video = first.create(alice).get_json()["data"]["id"]
    bobs_video = first.create(bob).get_json()["data"]["id"]

    held = [HeldStream(first, video, alice), HeldStream(second, video, alice)]
    try:
        assert [stream.status for stream in held] == [200, 200]
        refused = HeldStream(first, video, alice)
        refused.release()
        assert refused.status == 429
        assert refused.body is not None and refused.body["error"]["code"] == "TOO_MANY_STREAMS"
        assert int(refused.headers["Retry-After"]) >= 1
        other = HeldStream(second, bobs_video, bob)              # a cap per user, not a global one
        other.release()
        assert other.status == 200
        held.pop().release()                                     # a closed stream gives its slot back
        again = HeldStream(second, video, alice)
        held.append(again)
        assert again.status == 200
    finally:
        for stream in held:
            stream.release()


def test_a_slot_left_by_a_crashed_process_expires(app: Flask) -> None:
    """A process killed mid-stream never releases its slot; the lease lets it go."""
    client = redis_client.connection()
    assert events.claim_user_slot(client, user_id="u1", stream_id="a", limit=1, lease_seconds=0.3)
    assert not events.claim_user_slot(client, user_id="u1", stream_id="b", limit=1, lease_seconds=0.3)
    wait_for(lambda: events.claim_user_slot(client, user_id="u1", stream_id="b", limit=1, lease_seconds=60),
             "the crashed stream's lease to expire")


def test_streams_end_after_the_time_limit_with_a_retry_hint(make_app: Callable[..., Flask],
                                                           make_studio: Callable[..., Studio]) -> None:
    """A stream of a video that stays queued ends by itself; its first line tells EventSource to reconnect
    after 3 s (the browser does so when the stream ends), and the slot is free again afterwards."""
    app = make_app(video_provider="local", event_stream_seconds=0.5, event_streams_per_user=1, **TEST_TUNING)
    studio = make_studio(app)
    _, headers = studio.user()
    video_id = studio.create(headers).get_json()["data"]["id"]
    for _ in range(2):
        started = time.monotonic()
        with studio.client.get(f"/api/videos/{video_id}/events", headers=headers) as response:
            body = response.get_data(as_text=True)
        assert body.startswith("retry: 3000\n\n"), body
        assert body.count("event: status") == 1 and '"status": "queued"' in body
        assert time.monotonic() - started < 120       # it ended on its own (generous: a busy machine)


def test_without_redis_a_stream_is_refused_as_json_before_it_starts(make_app: Callable[..., Flask],
                                                                   local_studio: Studio,
                                                                    tmp_path: Any) -> None:
    _, headers = local_studio.user()
    video_id = local_studio.create(headers).get_json()["data"]["id"]
    down = make_app(video_provider="local", redis_url=f"unix://{tmp_path}/none.sock?db=0").test_client()
    response = down.get(f"/api/videos/{video_id}/events", headers=headers)
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["Retry-After"]
