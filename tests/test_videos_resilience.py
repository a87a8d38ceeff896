"""Crashes and lost Redis data: the database is the truth, every step is dispatched from it again, nothing
renders twice, and no request is needed for any of it.

Two kinds of test. Driven ones run the worker's own loop (genvid.worker.WorkerLoop) and an in-process rq
worker on genvid's clock, so "within two minutes" is checked on the clock, whatever the machine's speed. Real
ones start `genvid worker` processes and kill them with SIGKILL; they wait on conditions, with deadlines
generous for a machine many times slower than this one, and give the worker processes short timing knobs
(WORKER_TUNING) only so that they finish soon.
"""
from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
import redis
from conftest import Services
from fakes.heygen import FakeHeyGen
from flask import Flask
from videos_fixtures import UNFINISHED, Studio
from worker_processes import WORKER_TUNING, kill, wait, worker_env, worker_processes

from genvid.clock import system_now
from genvid.config import Config
from genvid.infra import services as genvid_services
from genvid.videos import dispatcher
from genvid.worker import WorkerLoop

pytestmark = pytest.mark.slow     # started first: the suite runs in parallel sessions

Workers = Callable[[], "subprocess.Popen[bytes]"]


def _debits(studio: Studio, video_id: str) -> int:
    row = studio.conn.execute("SELECT count(*) FROM credit_ledger WHERE reason = 'render' AND reference = %s",
                              (video_id,)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def workers(services: Services, config: Config, fake_heygen: FakeHeyGen, tmp_path: Path) -> Iterator[Workers]:
    """start() launches a `genvid worker` process rendering through the fake HeyGen."""
    env = worker_env(services, config, tmp_path, WORKER_TUNING, VIDEO_PROVIDER="heygen",
                      HEYGEN_API_KEY=fake_heygen.api_key, HEYGEN_API_BASE=fake_heygen.base_url)
    with worker_processes(env) as start:
        yield start


@pytest.fixture
def studio(make_heygen_studio: Callable[..., Studio]) -> Studio:
    return make_heygen_studio()


def test_worker_killed_mid_submit_then_restarted(studio: Studio, fake_heygen: FakeHeyGen,
                                                 workers: Workers) -> None:
    """SIGKILL while the create request is in flight: after a restart the video completes, one render, one
    debit."""
    user_id, headers = studio.user(credits=5)
    release = fake_heygen.hold_next("create")
    first = workers()
    video_id = studio.create(headers).get_json()["data"]["id"]
    wait(lambda: fake_heygen.route_calls["create"] >= 1, "the create request")
    assert studio.video(video_id).status.value == "submitting"
    kill(first)
    release()
    wait(lambda: fake_heygen.renders_created == 1, "HeyGen to finish the orphaned create")
    workers()
    wait(lambda: studio.video(video_id).status.value == "completed", "the video to complete")
    assert fake_heygen.renders_created == 1
    assert _debits(studio, video_id) == 1
    assert studio.balance(user_id) == 4
    assert studio.video(video_id).video_key is not None


def test_worker_killed_mid_wait_then_restarted(studio: Studio, fake_heygen: FakeHeyGen,
                                               workers: Workers) -> None:
    """SIGKILL while the render is waiting upstream: the next check is due from the row, and completes it."""
    user_id, headers = studio.user(credits=5)
    fake_heygen.render_seconds = 10_000
    first = workers()
    video_id = studio.create(headers).get_json()["data"]["id"]
    wait(lambda: studio.video(video_id).polls >= 1, "a status check")
    kill(first)
    fake_heygen.advance(20_000)
    workers()
    wait(lambda: studio.video(video_id).status.value == "completed", "the video to complete")
    assert fake_heygen.renders_created == 1
    assert _debits(studio, video_id) == 1
    assert studio.balance(user_id) == 4


def _tick_until_settled(studio: Studio, ids: list[str], *, within: float) -> float:
    """What a worker does, second by second of genvid's clock: its loop's tick, then the jobs it queued.
    Returns how many seconds passed until every video was final; fails past `within`."""
    loop = WorkerLoop(genvid_services.started_config())
    started = studio.clock()
    while True:
        loop.tick(studio.clock())
        studio.run_worker()
        if all(studio.video(i).status.value not in UNFINISHED for i in ids):
            return (studio.clock() - started).total_seconds()
        assert studio.clock() - started <= timedelta(seconds=within), \
            f"not final after {within} s: {[(i, studio.video(i).status.value) for i in ids]}"
        studio.advance(1)


def test_redis_flushed_mid_flight_every_video_completes_within_two_minutes_with_no_request(
        studio: Studio, fake_heygen: FakeHeyGen, redis_client: redis.Redis) -> None:
    """FLUSHALL just after every step was dispatched (the worst moment: every job is lost, every row says it
    was dispatched), then nobody calls the API: the workers' loop alone completes each video within two
    minutes with the default timing."""
    _, headers = studio.user(credits=10)
    fake_heygen.render_seconds = 10_000
    ids = [studio.create(headers, script=f"Video {n}").get_json()["data"]["id"] for n in range(3)]
    studio.run_worker()                                   # submits them all
    studio.advance(30)                                    # their first status checks are due ...
    ids.append(studio.create(headers, script="Still queued").get_json()["data"]["id"])
    # ... and dispatched
    assert dispatcher.dispatch_due(now=studio.clock(), redispatch_seconds=60, max_in_flight=10) == 4
    assert redis_client.llen("rq:queue:renders") == 4
    redis_client.flushall()
    fake_heygen.advance(20_000)
    fake_heygen.render_seconds = 0   # the still-queued video renders at once when resumed
    assert studio.run_worker() == 0                       # nothing left in Redis to run
    seconds = _tick_until_settled(studio, ids, within=120)
    assert seconds == 60 + 30        # dispatched again after render_redispatch_seconds; the resubmitted one
                                     # then waits one poll (render_poll_seconds) before its check completes it
    assert [studio.video(i).status.value for i in ids] == ["completed"] * 4
    assert fake_heygen.renders_created == 4


def test_after_flushall_a_running_worker_completes_every_video_with_no_request(
        studio: Studio, fake_heygen: FakeHeyGen, workers: Workers, redis_client: redis.Redis) -> None:
    """FLUSHALL under a live worker process, then nobody calls the API:
    the worker alone finishes every video."""
    _, headers = studio.user(credits=10)
    fake_heygen.render_seconds = 10_000
    workers()
    ids = [studio.create(headers, script=f"Video {n}").get_json()["data"]["id"] for n in range(3)]
    wait(lambda: all(studio.video(i).status.value == "rendering" for i in ids), "the renders to start")
    redis_client.flushall()
    fake_heygen.advance(20_000)
    wait(lambda: all(studio.video(i).status.value == "completed" for i in ids), "every video to complete")
    assert fake_heygen.renders_created == 3


FFMPEG_IN_REAL_TIME = """#!/bin/sh
# The bundled ffmpeg, but the render's main encode reads its input at the native frame rate (-re), so it
# lasts as long as the video whatever the machine's speed: the test sees it running when it kills the worker.
case "$*" in
  *video.part*) exec "{real}" -re "$@" ;;
esac
exec "{real}" "$@"
"""


LocalWorkers = Callable[..., "subprocess.Popen[bytes]"]


@pytest.fixture
def local_worker(services: Services, config: Config, tmp_path: Path) -> Iterator[LocalWorkers]:
    """start(**tuning) launches a `genvid worker` rendering offline (VIDEO_PROVIDER=local, the default timing
    unless tuning says otherwise) whose ffmpeg encodes in real time."""
    import imageio_ffmpeg  # type: ignore[import-untyped]
    shim = tmp_path / "ffmpeg-real-time"
    shim.write_text(FFMPEG_IN_REAL_TIME.replace("{real}", imageio_ffmpeg.get_ffmpeg_exe()))
    shim.chmod(0o755)
    with contextlib.ExitStack() as stack:
        def start(**tuning: object) -> subprocess.Popen[bytes]:
            env = worker_env(services, config, tmp_path, {"local_render_height": 120, **tuning},
                              VIDEO_PROVIDER="local", IMAGEIO_FFMPEG_EXE=str(shim))
            return stack.enter_context(worker_processes(env))()
        yield start


def _encoder_of(worker: subprocess.Popen[bytes]) -> psutil.Process | None:
    """The worker's ffmpeg child encoding a render, if one runs now."""
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(worker.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "video.part" in " ".join(child.cmdline()):
                    return child
    return None


LONG_SCRIPT = "A long script, read slowly. " * 50          # about 90 s of video: ffmpeg runs that long here


def test_a_killed_worker_takes_its_ffmpeg_child_with_it_and_the_render_resumes_within_90_s(
        make_app: Callable[..., Flask], make_studio: Callable[..., Studio],
        local_worker: LocalWorkers) -> None:
    """SIGKILL of the worker alone (not its process group) mid-render: its ffmpeg child dies with it, and the
    render is dispatched again within 90 s of the kill (the claim lapses; no fixed submit window)."""
    studio = make_studio(make_app(video_provider="local", local_render_height=120))
    user_id, headers = studio.user(credits=10)
    worker = local_worker()
    video_id = studio.create(headers, script=LONG_SCRIPT).get_json()["data"]["id"]
    wait(lambda: _encoder_of(worker) is not None, "the worker to start ffmpeg")
    encoder = _encoder_of(worker)
    assert encoder is not None
    killed_at = system_now()
    kill(worker)
    _gone, alive = psutil.wait_procs([encoder], timeout=60)
    assert not alive, "ffmpeg outlived its worker"
    assert studio.video(video_id).status.value == "submitting"
    # From the moment of the kill on genvid's clock: the claim the dead worker renewed is still valid ...
    studio.clock.moment = killed_at
    assert dispatcher.dispatch_due(now=studio.clock(), redispatch_seconds=60, max_in_flight=10) == 0
    # ... and lapses in time for the step to be dispatched again (and rendered here) within 90 s.
    studio.advance(90)
    assert studio.run_worker() >= 1
    row = studio.video(video_id)
    assert row.status.value == "completed", (row.failure_code, row.failure_message)
    assert _debits(studio, video_id) == 1 and studio.balance(user_id) == 10 - row.credits


def test_a_live_worker_keeps_its_claim_on_a_long_render(make_app: Callable[..., Flask],
                                                        make_studio: Callable[..., Studio],
                                                        local_worker: LocalWorkers) -> None:
    """A render that is slow, not dead: its worker keeps renewing the claim, so the step never comes due while
    ffmpeg runs, even once the claim its dispatch took (render_redispatch_seconds, 12 s here) would have
    lapsed."""
    studio = make_studio(make_app(video_provider="local", local_render_height=120))
    _, headers = studio.user(credits=10)
    worker = local_worker(render_lease_seconds=12, render_redispatch_seconds=12)
    video_id = studio.create(headers, script=LONG_SCRIPT).get_json()["data"]["id"]
    wait(lambda: _encoder_of(worker) is not None, "the worker to start ffmpeg")
    first_claim = studio.video(video_id).next_check_at
    assert first_claim is not None
    wait(lambda: system_now() > first_claim + timedelta(seconds=1), "the first claim to pass")
    assert _encoder_of(worker) is not None, "ffmpeg still encodes"
    assert dispatcher.dispatch_due(now=system_now(), redispatch_seconds=60, max_in_flight=10) == 0
    assert studio.video(video_id).status.value == "submitting"
