"""Video fixtures: an app rendering through the fake HeyGen (or the offline renderer), funded users, and a
`studio` that creates videos through the API and drives real RQ workers until they settle.

Timing knobs come from CONFIG_FILE keys (typed Config fields) so nothing waits 30 s: status checks every 0.2 s,
transient retries from 0.1 s, the reconciler resumes anything overdue at once.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from factories import bearer, create_session, create_user
from fakes.heygen import FakeHeyGen
from flask import Flask
from flask.testing import FlaskClient

import db.videos_videos
from db import models
from genvid import runtime
from genvid.billing import ledger
from genvid.videos import catalogue, jobs, providers

FAST = {"render_poll_seconds": 0.2, "render_retry_base_seconds": 0.1, "render_capped_seconds": 0.2,
        "render_submit_window_seconds": 1.5, "reconcile_grace_seconds": 1, "reconcile_every_seconds": 1,
        "heygen_timeout_seconds": 1.0}
FINAL = ("completed", "failed", "cancelled")


@dataclass
class Studio:
    """Drives the video API and the workers of one app."""

    app: Flask
    client: FlaskClient
    conn: psycopg.Connection
    run_worker: Callable[..., int]

    def sync_catalogue(self) -> catalogue.SyncResult:
        """What the daily job does, now."""
        return catalogue.sync(providers.get_provider(runtime.config()), now=jobs.utcnow())

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

    def drive(self, *video_ids: str, until: tuple[str, ...] = FINAL, timeout: float = 30.0,
              between: Callable[[], None] | None = None) -> list[models.Video]:
        """Run burst workers (scheduled jobs that are due included) until every video is in `until`."""
        deadline = time.monotonic() + timeout
        while True:
            self.run_worker()
            rows = [self.video(video_id) for video_id in video_ids]
            if all(row.status.value in until for row in rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"videos did not settle: {[(r.id, r.status.value) for r in rows]}")
            if between is not None:
                between()
            time.sleep(0.1)


@pytest.fixture
def heygen_app(make_app: Callable[..., Flask], fake_heygen: FakeHeyGen) -> Flask:
    """An app rendering through the fake HeyGen, with fast timing knobs."""
    return make_app(video_provider="heygen", heygen_api_key=fake_heygen.api_key,
                    heygen_api_base=fake_heygen.base_url, heygen_webhook_secret="whsec_test_secret",
                    **FAST)


@pytest.fixture
def heygen_studio(heygen_app: Flask, conn: psycopg.Connection, run_worker: Callable[..., int]) -> Studio:
    """A Studio on heygen_app with its catalogue synced from the fake."""
    studio = Studio(heygen_app, heygen_app.test_client(), conn, run_worker)
    studio.sync_catalogue()
    return studio


@pytest.fixture
def local_app(make_app: Callable[..., Flask]) -> Flask:
    """An app rendering offline (VIDEO_PROVIDER=local)."""
    return make_app(video_provider="local", **FAST)


@pytest.fixture
def local_studio(local_app: Flask, conn: psycopg.Connection, run_worker: Callable[..., int]) -> Iterator[Studio]:
    """A Studio on local_app with the offline renderer's built-in catalogue synced."""
    studio = Studio(local_app, local_app.test_client(), conn, run_worker)
    studio.sync_catalogue()
    yield studio
