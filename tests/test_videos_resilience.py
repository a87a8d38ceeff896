"""Crashes and lost Redis data: the database is the truth, the reconciler resumes, nothing renders twice.

Workers here are real `genvid worker` processes (with rq's scheduler), killed with SIGKILL with their
whole process group (the job runs in the worker process; rq's scheduler process goes too).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from conftest import Services
from fakes.heygen import FakeHeyGen
from flask import Flask
from videos_fixtures import FAST, Studio

from genvid.config import Config
from genvid.videos import jobs as video_jobs

ROOT = Path(__file__).resolve().parent.parent
Workers = Callable[[], "subprocess.Popen[bytes]"]


def _wait(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _debits(studio: Studio, video_id: str) -> int:
    row = studio.conn.execute("SELECT count(*) FROM credit_ledger WHERE reason = 'render' AND reference = %s",
                              (video_id,)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def workers(services: Services, config: Config, fake_heygen: FakeHeyGen, tmp_path: Path
            ) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """start() launches a `genvid worker` process rendering through the fake (same settings as the app)."""
    config_file = tmp_path / "worker-config.json"
    config_file.write_text(json.dumps({**FAST, "heygen_timeout_seconds": 10}))
    env = {**os.environ, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
           "GENVID_DATA_DIR": config.data_dir, "MEDIA_DIR": config.media_dir, "LOG_LEVEL": "WARNING",
           "BETTER_AUTH_SECRET": config.better_auth_secret, "ENCRYPTION_KEY": config.encryption_key,
           "VIDEO_PROVIDER": "heygen", "HEYGEN_API_KEY": fake_heygen.api_key,
           "HEYGEN_API_BASE": fake_heygen.base_url, "CONFIG_FILE": str(config_file)}
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-m", "genvid.cli", "worker"], cwd=ROOT, env=env,
                                start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def studio(make_app: Callable[..., Flask], fake_heygen: FakeHeyGen, conn: psycopg.Connection,
           run_worker: Callable[..., int]) -> Studio:
    app = make_app(video_provider="heygen", heygen_api_key=fake_heygen.api_key,
                   heygen_api_base=fake_heygen.base_url, **{**FAST, "heygen_timeout_seconds": 10})
    result = Studio(app, app.test_client(), conn, run_worker)
    result.sync_catalogue()
    return result


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_worker_killed_mid_submit_then_restarted(studio: Studio, fake_heygen: FakeHeyGen,
                                                 workers: Workers) -> None:
    """SIGKILL while the create request is in flight: after a restart the video completes, one render, one
    debit."""
    user_id, headers = studio.user(credits=5)
    fake_heygen.delay_next("create", seconds=3)
    first = workers()
    video_id = studio.create(headers).get_json()["data"]["id"]
    _wait(lambda: fake_heygen.route_calls["create"] >= 1, "the create request")
    assert studio.video(video_id).status.value == "submitting"
    _kill(first)
    _wait(lambda: fake_heygen.renders_created == 1, "HeyGen to finish the orphaned create")
    workers()
    _wait(lambda: studio.video(video_id).status.value == "completed", "the video to complete")
    assert fake_heygen.renders_created == 1
    assert _debits(studio, video_id) == 1
    assert studio.balance(user_id) == 4
    assert studio.video(video_id).video_key is not None


def test_worker_killed_mid_wait_then_restarted(studio: Studio, fake_heygen: FakeHeyGen, workers: Workers) -> None:
    """SIGKILL while the render is waiting upstream: the scheduled check survives in Redis and completes it."""
    user_id, headers = studio.user(credits=5)
    fake_heygen.render_seconds = 10_000
    first = workers()
    video_id = studio.create(headers).get_json()["data"]["id"]
    _wait(lambda: studio.video(video_id).status.value == "rendering", "the render to start")
    _wait(lambda: studio.video(video_id).polls >= 1, "a status check")
    _kill(first)
    fake_heygen.advance(20_000)
    workers()
    _wait(lambda: studio.video(video_id).status.value == "completed", "the video to complete")
    assert fake_heygen.renders_created == 1
    assert _debits(studio, video_id) == 1
    assert studio.balance(user_id) == 4


def test_redis_flushed_mid_flight_the_reconciler_completes_every_video(studio: Studio, fake_heygen: FakeHeyGen,
                                                                       redis_client: redis.Redis) -> None:
    """FLUSHALL loses every queued and scheduled job; the reconciler resumes each video from its row."""
    _, headers = studio.user(credits=10)
    fake_heygen.render_seconds = 10_000
    ids = [studio.create(headers, script=f"Video {n}").get_json()["data"]["id"] for n in range(3)]
    studio.run_worker()                               # submits them all
    queued_id = studio.create(headers, script="Still queued").get_json()["data"]["id"]
    assert [studio.video(i).status.value for i in ids] == ["rendering"] * 3
    redis_client.flushall()
    fake_heygen.advance(20_000)
    fake_heygen.render_seconds = 0                    # the still-queued video renders at once when resumed
    studio.run_worker()
    assert studio.run_worker() == 0                   # nothing left in Redis to run
    video_jobs.schedule_periodic_jobs()               # what any worker does when it (re)starts
    rows = studio.drive(*ids, queued_id, timeout=60)
    assert all(row.status.value == "completed" for row in rows)
    assert fake_heygen.renders_created == 4


def test_reading_an_unfinished_video_revives_the_reconciler(studio: Studio, fake_heygen: FakeHeyGen,
                                                            redis_client: redis.Redis) -> None:
    """With no worker restart at all, the owner polling GET /api/videos/{id} restarts the periodic chain."""
    _, headers = studio.user(credits=10)
    fake_heygen.render_seconds = 10_000
    video_id = studio.create(headers).get_json()["data"]["id"]
    studio.drive(video_id, until=("rendering",))
    redis_client.flushall()
    fake_heygen.advance(20_000)
    assert studio.run_worker() == 0
    assert studio.client.get(f"/api/videos/{video_id}", headers=headers).status_code == 200
    (row,) = studio.drive(video_id, timeout=60)
    assert row.status.value == "completed"
    assert fake_heygen.renders_created == 1
