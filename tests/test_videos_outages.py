"""Redis stopped under the API: PostgreSQL is the truth, so a create that committed is accepted (and charged
once), reads never touch Redis, and the render starts once Redis is back.

The Redis here is a throwaway redis-server of this test's own (the session's is shared by every test), killed
with SIGKILL and started again on the same socket.
"""
from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from videos_fixtures import Studio

from genvid.infra import embedded


class ThrowawayRedis:
    """A redis-server on a unix socket that a test can kill and start again (no persistence)."""

    def __init__(self, directory: Path) -> None:
        self.binary = embedded.redis_server_binary()
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}?db=0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [self.binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60         # generous: a loaded machine starts processes slowly
        while not self.answers():
            assert self.process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not answer within 60 s"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)
        assert not self.answers()

    def answers(self) -> bool:
        return embedded.redis_answers(self.socket)


@pytest.fixture
def throwaway_redis(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.kill()
        server.process.wait(timeout=60)


@pytest.fixture
def outage_studio(make_app: Callable[..., Flask], make_studio: Callable[..., Studio],
                  throwaway_redis: ThrowawayRedis) -> Studio:
    """An offline-rendering app whose Redis is the throwaway one."""
    return make_studio(
        make_app(video_provider="local", local_render_height=120, redis_url=throwaway_redis.url))


def _render_debits(studio: Studio, video_id: str) -> int:
    row = studio.conn.execute("SELECT count(*) FROM credit_ledger WHERE reason = 'render' AND reference = %s",
                              (video_id,)).fetchone()
    assert row is not None
    return int(row[0])


def test_a_create_while_redis_is_down_is_accepted_and_charged_once(outage_studio: Studio,
                                                                   throwaway_redis: ThrowawayRedis) -> None:
    """POST /api/videos with Redis dead: 202 (the row and its debit committed), never an error behind a
    charge; the render starts once Redis answers again."""
    studio = outage_studio
    user_id, headers = studio.user(credits=3)
    throwaway_redis.kill()
    response = studio.create(headers)
    assert response.status_code == 202, response.get_json()
    video_id = response.get_json()["data"]["id"]
    assert studio.video(video_id).status.value == "queued"
    assert _render_debits(studio, video_id) == 1
    assert studio.balance(user_id) == 2
    throwaway_redis.start()
    (row,) = studio.drive(video_id)
    assert row.status.value == "completed"
    assert studio.balance(user_id) == 2


def test_reading_videos_while_redis_is_down_needs_no_redis(outage_studio: Studio,
                                                           throwaway_redis: ThrowawayRedis) -> None:
    """GET /api/videos and GET /api/videos/{id} of an unfinished video answer 200 with Redis dead: no request
    handler schedules anything."""
    studio = outage_studio
    _, headers = studio.user(credits=3)
    video_id = studio.create(headers).get_json()["data"]["id"]
    throwaway_redis.kill()
    shown = studio.client.get(f"/api/videos/{video_id}", headers=headers)
    assert shown.status_code == 200 and shown.get_json()["data"]["status"] == "queued"
    listed = studio.client.get("/api/videos", headers=headers)
    assert listed.status_code == 200 and [v["id"] for v in listed.get_json()["data"]] == [video_id]
