"""The worker process on rq 3 / redis-py 8: its loop (claims, dispatch) and its start (its exit:
test_worker_exit.py)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from conftest import Services
from flask import Flask
from test_videos_outages import ThrowawayRedis, throwaway_redis  # noqa: F401 - the fixture, shared
from videos_fixtures import Studio

from genvid.config import Config
from genvid.infra import redis_client as genvid_redis
from genvid.infra import services as genvid_services
from genvid.videos import dispatcher, leases
from genvid.worker import WorkerLoop

ROOT = Path(__file__).resolve().parent.parent


def test_a_dispatched_step_whose_job_is_lost_is_dispatched_again_after_the_redispatch_delay(
        local_studio: Studio, redis_client: redis.Redis) -> None:
    """A due step is dispatched once; if its job never runs (lost with Redis data), it is dispatched again
    after render_redispatch_seconds (60 by default), and not before."""
    _, headers = local_studio.user(credits=5)
    local_studio.create(headers)
    now = local_studio.clock()
    assert dispatcher.dispatch_due(now=now, redispatch_seconds=60, max_in_flight=10) == 1
    assert dispatcher.dispatch_due(now=now, redispatch_seconds=60, max_in_flight=10) == 0
    redis_client.flushall()
    local_studio.advance(59)
    assert dispatcher.dispatch_due(now=local_studio.clock(), redispatch_seconds=60, max_in_flight=10) == 0
    local_studio.advance(1)
    assert dispatcher.dispatch_due(now=local_studio.clock(), redispatch_seconds=60, max_in_flight=10) == 1
    assert redis_client.llen("rq:queue:renders") == 1


def test_workers_dispatching_at_once_dispatch_each_due_step_once(local_studio: Studio,
                                                                 redis_client: redis.Redis) -> None:
    """Six workers' loops ticking at the same moment over 60 due videos: as many are admitted as the cap has
    slots (HEYGEN_MAX_CONCURRENT, 10), each with one job; with room for all of them, 60 jobs, one per
    video."""
    _, headers = local_studio.user(credits=100)
    for n in range(60):
        assert local_studio.create(headers, script=f"Video {n}").status_code == 202
    now = local_studio.clock()

    def six_at_once(max_in_flight: int) -> int:
        barrier = threading.Barrier(6)

        def dispatch(_: int) -> int:
            barrier.wait(timeout=120)
            return dispatcher.dispatch_due(now=now, redispatch_seconds=60, batch=7,
                                           max_in_flight=max_in_flight)

        with ThreadPoolExecutor(6) as pool:
            return sum(pool.map(dispatch, range(6)))

    assert six_at_once(10) == 10
    assert local_studio.conn.execute(
        "SELECT count(*) FROM videos WHERE status = 'submitting'").fetchone() == (10,)
    assert six_at_once(1000) == 50
    queued = genvid_redis.get_queue(dispatcher.RENDER_QUEUE).get_jobs()
    assert len(queued) == 60 and len({job.args[0] for job in queued}) == 60


def test_steps_that_could_not_be_queued_go_out_as_soon_as_redis_answers_again(
        make_app: Callable[..., Flask], make_studio: Callable[..., Studio],
        throwaway_redis: ThrowawayRedis) -> None:  # noqa: F811
    """A dispatch while Redis is dead claims nothing (its transaction rolls back), so the step is dispatched
    at the first tick after Redis is back, not render_redispatch_seconds later."""
    studio = make_studio(make_app(video_provider="local", redis_url=throwaway_redis.url))
    _, headers = studio.user(credits=5)
    studio.create(headers)
    throwaway_redis.kill()
    with pytest.raises(redis.ConnectionError):
        dispatcher.dispatch_due(now=studio.clock(), redispatch_seconds=60, max_in_flight=10)
    throwaway_redis.start()
    studio.advance(1)
    assert dispatcher.dispatch_due(now=studio.clock(), redispatch_seconds=60, max_in_flight=10) == 1


def test_the_loop_keeps_renewing_claims_while_redis_is_down(make_app: Callable[..., Flask],
                                                            make_studio: Callable[..., Studio],
                                                            throwaway_redis: ThrowawayRedis) -> None:  # noqa: F811
    """Redis dead: dispatching fails (logged once), but the claim of the job running here is still renewed, so
    a long render is not handed to another worker because Redis is away."""
    studio = make_studio(make_app(video_provider="local", redis_url=throwaway_redis.url))
    _, headers = studio.user(credits=5)
    video = studio.video(studio.create(headers).get_json()["data"]["id"])
    loop = WorkerLoop(genvid_services.started_config())
    throwaway_redis.kill()
    with leases.holding(video.id, video.step):
        for _ in range(3):
            studio.advance(10)
            loop.tick(studio.clock())
    renewed = studio.video(video.id).next_check_at
    lease_seconds = genvid_services.started_config().render_lease_seconds
    assert renewed is not None and (renewed - studio.clock()).total_seconds() == lease_seconds


def test_a_worker_starts_whatever_rq_scheduler_data_redis_holds(services: Services, config: Config,
                                                                app: Flask,
                                                                redis_client: redis.Redis,
                                                                tmp_path: Path) -> None:
    """What a killed rq scheduler leaves (its lock, and a metadata hash holding only a heartbeat, which rq 3's
    RQScheduler.fetch() cannot read: KeyError 'name') does not stop `genvid worker` from starting."""
    redis_client.set("rq:scheduler-lock:default", "deadbeef", ex=60)
    redis_client.hset("rq:scheduler:deadbeef", "last_heartbeat", "2026-01-01T00:00:00.000000Z")
    env = {**os.environ, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
           "GENVID_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING",
           "BETTER_AUTH_SECRET": config.better_auth_secret, "ENCRYPTION_KEY": config.encryption_key}
    result = subprocess.run([sys.executable, "-m", "genvid.cli", "worker", "--burst"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr


@pytest.fixture(autouse=True)
def _no_leases_left() -> None:
    """Each test starts with no claim held in this process."""
    assert leases.held() == []
