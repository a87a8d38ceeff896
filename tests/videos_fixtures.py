"""Video fixtures: an app rendering through the fake HeyGen (or the offline renderer), funded users, and a
`studio` that creates videos through the API and drives the pipeline until they settle.

Time is driven, never waited for: Studio.drive() runs what is due now (the dispatcher, then a real rq worker
in burst mode), then moves genvid's clock (genvid.clock) and the fake HeyGen's clock to the moment the next
step is due. So the production timing (30 s polls, backoffs from 2 s, 20 s claims, 60 s redispatch) is
tested as it is, and no result depends on how fast the machine is. The one real-time knob left is the HTTP
timeout to the fake HeyGen, generous here (TEST_TUNING) so that only a scripted hang ever reaches it.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import pytest
from factories import bearer, create_session, create_user
from fakes.heygen import FakeHeyGen
from flask import Flask
from flask.testing import FlaskClient

import db.videos_videos
from db import models
from genvid import clock
from genvid.billing import ledger
from genvid.clock import FrozenClock
from genvid.infra import services as genvid_services
from genvid.videos import catalogue, providers

TEST_TUNING = {"heygen_timeout_seconds": 5.0}
FINAL = ("completed", "failed", "cancelled")
UNFINISHED = ("queued", "submitting", "rendering")


@dataclass
class Studio:
    """Drives the video API and the workers of one app."""

    app: Flask
    client: FlaskClient
    conn: psycopg.Connection
    run_worker: Callable[..., int]
    clock: FrozenClock
    heygen: FakeHeyGen | None = None

    def sync_catalogue(self) -> catalogue.SyncResult:
        """What the daily job does, now."""
        return catalogue.sync(providers.get_provider(genvid_services.started_config()), now=clock.now())

    def user(self, credits: int = 100) -> tuple[str, dict[str, str]]:
        """A new user holding credits; returns (user id, auth headers)."""
        user = create_user(self.conn)
        if credits:
            assert ledger.grant(self.conn, user_id=user.id, credits=credits, reason="test_grant",
                                reference=uuid.uuid4().hex)
        return user.id, bearer(create_session(self.conn, user_id=user.id))

    def balance(self, user_id: str) -> int:
        return ledger.balance(self.conn, user_id=user_id)

    def first_ids(self) -> tuple[str, str]:
        """An avatar id and a voice id from the synced catalogue."""
        avatar = self.conn.execute("SELECT provider_id FROM avatars WHERE retired_at IS NULL "
                                   "ORDER BY name, provider_id LIMIT 1").fetchone()
        voice = self.conn.execute("SELECT provider_id FROM voices WHERE retired_at IS NULL "
                                  "ORDER BY name, provider_id LIMIT 1").fetchone()
        assert avatar and voice, "sync the catalogue first"
        return avatar[0], voice[0]

    def create(self, headers: dict[str, str], script: str = "Hello from genvid.", *,
               extra_headers: dict[str, str] | None = None, **fields: Any) -> Any:
        """POST /api/videos with the first avatar and voice unless given."""
        avatar_id, voice_id = self.first_ids()
        body = {"avatar_id": avatar_id, "voice_id": voice_id, "script": script, **fields}
        return self.client.post("/api/videos", json=body, headers={**headers, **(extra_headers or {})})

    def video(self, video_id: str) -> models.Video:
        row = db.videos_videos.get_video(self.conn, id=video_id)
        assert row is not None
        return row

    def advance(self, seconds: float) -> None:
        """Let seconds pass for the pipeline and for the fake HeyGen."""
        self.clock.advance(seconds)
        if self.heygen is not None:
            self.heygen.advance(seconds)

    def next_due(self) -> datetime | None:
        """When the next step of any unfinished video is due. A queued video that is due waits for a render
        slot: it is due now if one is free (the dispatcher admits it on the next run), else what it waits on
        is the next step of a render in flight."""
        row = self.conn.execute(
            "SELECT min(next_check_at) FILTER (WHERE status <> 'queued' OR next_check_at > %(now)s), "
            "       count(*) FILTER (WHERE status = 'queued' AND next_check_at <= %(now)s), "
            "       count(*) FILTER (WHERE status <> 'queued') "
            "FROM videos WHERE status = ANY(%(unfinished)s::video_status[])",
            {"now": self.clock(), "unfinished": list(UNFINISHED)}).fetchone()
        assert row is not None
        next_step, waiting, in_flight = row
        if waiting and (in_flight < genvid_services.started_config().heygen_max_concurrent
                        or next_step is None):
            return self.clock()
        return next_step  # type: ignore[no-any-return]

    def drive(self, *video_ids: str, until: tuple[str, ...] = FINAL, max_steps: int = 100,
              between: Callable[[], None] | None = None) -> list[models.Video]:
        """Run what is due, then jump to when the next step is due, until every video is in `until`."""
        def settled() -> bool:
            return all(self.video(video_id).status.value in until for video_id in video_ids)
        if not self.drive_until(settled, max_steps=max_steps, between=between):
            raise AssertionError(
                f"videos did not settle: {[(i, self.video(i).status.value) for i in video_ids]}")
        return [self.video(video_id) for video_id in video_ids]

    def drive_until(self, done: Callable[[], bool], *, max_steps: int = 100,
                    between: Callable[[], None] | None = None) -> bool:
        """Run what is due, then jump to when the next step is due, until done(); False if it never was.

        Bounded by steps, not seconds: a video that needs more than max_steps is stuck, however fast the
        machine.
        """
        for _ in range(max_steps):
            self.run_worker()
            if done():
                return True
            if between is not None:
                between()
            due = self.next_due()
            if due is None:
                return False
            self.advance(max(0.0, (due - self.clock()).total_seconds()))
        return False


@dataclass
class StreamListener:
    """An event stream read in a thread: chunks as they arrive; started is set once the first event came."""

    thread: threading.Thread
    started: threading.Event
    chunks: list[str]

    def text(self) -> str:
        return "".join(self.chunks)


def listen(client: FlaskClient, path: str, headers: dict[str, str]) -> StreamListener:
    """Open the event stream at path in a thread and return once its first event has arrived (so what the test
    does next is seen as a change, however slowly the machine starts the thread)."""
    listener = StreamListener(threading.Thread(target=lambda: None), threading.Event(), [])

    def read() -> None:
        try:
            with client.get(path, headers=headers) as response:
                assert response.mimetype == "text/event-stream"
                for chunk in response.response:
                    listener.chunks.append(chunk.decode() if isinstance(chunk, bytes) else str(chunk))
                    if "event: " in listener.text():
                        listener.started.set()
        finally:
            listener.started.set()

    listener.thread = threading.Thread(target=read)
    listener.thread.start()
    assert listener.started.wait(timeout=120), "the stream sent nothing"
    return listener


@pytest.fixture
def make_studio(conn: psycopg.Connection, run_worker: Callable[..., int], frozen_clock: FrozenClock
                ) -> Callable[..., Studio]:
    """make_studio(app, heygen=None): a Studio on app, its catalogue synced, moving the fake HeyGen's clock
    along with the pipeline's when it renders through one."""
    def build(app: Flask, heygen: FakeHeyGen | None = None) -> Studio:
        studio = Studio(app, app.test_client(), conn, run_worker, frozen_clock, heygen)
        studio.sync_catalogue()
        return studio
    return build


@pytest.fixture
def make_heygen_app(make_app: Callable[..., Flask], fake_heygen: FakeHeyGen) -> Callable[..., Flask]:
    """make_heygen_app(**settings): an app rendering through the fake HeyGen with the test timing knobs
    (TEST_TUNING), settings added to them or overriding them."""
    def build(**settings: Any) -> Flask:
        return make_app(video_provider="heygen", heygen_api_key=fake_heygen.api_key,
                        heygen_api_base=fake_heygen.base_url, **{**TEST_TUNING, **settings})
    return build


@pytest.fixture
def make_heygen_studio(make_heygen_app: Callable[..., Flask], make_studio: Callable[..., Studio],
                       fake_heygen: FakeHeyGen) -> Callable[..., Studio]:
    """make_heygen_studio(**settings): a Studio on make_heygen_app(**settings), its catalogue synced from the
    fake."""
    def build(**settings: Any) -> Studio:
        return make_studio(make_heygen_app(**settings), fake_heygen)
    return build


@pytest.fixture
def heygen_app(make_heygen_app: Callable[..., Flask]) -> Flask:
    """An app rendering through the fake HeyGen, with fast timing knobs and a webhook secret."""
    return make_heygen_app(heygen_webhook_secret="whsec_test_secret")


@pytest.fixture
def heygen_studio(heygen_app: Flask, make_studio: Callable[..., Studio], fake_heygen: FakeHeyGen) -> Studio:
    """A Studio on heygen_app with its catalogue synced from the fake."""
    return make_studio(heygen_app, fake_heygen)


@pytest.fixture
def local_app(make_app: Callable[..., Flask]) -> Flask:
    """An app rendering offline (VIDEO_PROVIDER=local)."""
    return make_app(video_provider="local")


@pytest.fixture
def local_studio(local_app: Flask, make_studio: Callable[..., Studio]) -> Iterator[Studio]:
    """A Studio on local_app with the offline renderer's built-in catalogue synced."""
    yield make_studio(local_app)
