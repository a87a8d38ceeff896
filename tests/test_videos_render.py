"""Rendering through HeyGen (the fake): the happy path to a stored MP4,
and every fault the worker survives."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import psycopg
from fakes.heygen import FakeHeyGen
from videos_fixtures import Studio
from worker_processes import wait

import db.videos_videos as video_queries
from genvid.infra import database
from genvid.videos import dispatcher, jobs

Studios = Callable[..., Studio]


def _count(studio: Studio, reason: str, video_id: str) -> int:
    row = studio.conn.execute("SELECT count(*) FROM credit_ledger WHERE reason = %s AND reference = %s",
                              (reason, video_id)).fetchone()
    assert row is not None
    return int(row[0])


def test_happy_path_downloads_the_mp4(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
    """A render submitted with the video id as Idempotency-Key completes, and its MP4 is served by us."""
    user_id, headers = heygen_studio.user(credits=10)
    response = heygen_studio.create(headers, script="Hello there, this is a test video.")
    assert response.status_code == 202, response.get_json()
    video = response.get_json()["data"]
    assert response.headers["Location"] == f"/api/videos/{video['id']}"
    located = heygen_studio.client.get(response.headers["Location"], headers=headers)
    assert located.status_code == 200 and located.get_json()["data"]["id"] == video["id"]
    assert video["status"] == "queued" and video["credits"] == 1
    assert heygen_studio.balance(user_id) == 9

    (row,) = heygen_studio.drive(video["id"])
    assert row.status.value == "completed"
    assert fake_heygen.renders_created == 1
    create_calls = [r for r in fake_heygen.requests if r.route == "create"]
    assert create_calls[0].headers.get("Idempotency-Key") == video["id"]

    shown = heygen_studio.client.get(f"/api/videos/{video['id']}", headers=headers).get_json()["data"]
    assert shown["status"] == "completed" and shown["failure"] is None
    media = heygen_studio.client.get(shown["video_url"])
    assert media.status_code == 200
    assert media.data[4:8] == b"ftyp"           # an MP4 container
    assert heygen_studio.client.get(shown["thumbnail_url"]).status_code == 200
    assert heygen_studio.balance(user_id) == 9


def test_server_errors_are_retried_until_the_render_completes(heygen_studio: Studio,
                                                             fake_heygen: FakeHeyGen) -> None:
    """Two 500s on create and two on status: retried with backoff, one render, one debit, no refund."""
    user_id, headers = heygen_studio.user(credits=5)
    fake_heygen.fail_next("create", times=2)
    fake_heygen.fail_next("status", times=2)
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    (row,) = heygen_studio.drive(video_id)
    assert row.status.value == "completed"
    assert fake_heygen.renders_created == 1
    assert fake_heygen.route_calls["create"] == 3
    assert _count(heygen_studio, "render", video_id) == 1
    assert _count(heygen_studio, "render_refund", video_id) == 0
    assert heygen_studio.balance(user_id) == 4


def test_a_create_that_times_out_is_replayed_by_its_key(make_heygen_studio: Studios,
                                                        fake_heygen: FakeHeyGen) -> None:
    """The client gives up (timeout) while HeyGen still creates the video: the retry gets the same render."""
    studio = make_heygen_studio(heygen_timeout_seconds=1.0)
    _, headers = studio.user()
    release = fake_heygen.hold_next("create")
    video_id = studio.create(headers).get_json()["data"]["id"]
    studio.run_worker()                               # the create times out; a retry is due after a backoff
    waiting = studio.video(video_id)
    assert waiting.status.value == "submitting" and waiting.attempts == 1
    release()                                         # HeyGen finishes the create the client gave up on
    wait(lambda: fake_heygen.renders_created == 1, "the fake to make the render")
    (row,) = studio.drive(video_id)
    assert row.status.value == "completed"
    assert fake_heygen.renders_created == 1
    assert row.provider_video_id in fake_heygen.videos


def test_create_succeeding_upstream_but_answering_500_makes_one_render(heygen_studio: Studio,
                                                                      fake_heygen: FakeHeyGen) -> None:
    """HeyGen stored the render but answered 500: the retry with the same Idempotency-Key replays it."""
    _, headers = heygen_studio.user()
    fake_heygen.succeed_then_fail_next_create()
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    (row,) = heygen_studio.drive(video_id)
    assert row.status.value == "completed"
    assert fake_heygen.route_calls["create"] >= 2
    assert fake_heygen.renders_created == 1


def test_429_waits_for_retry_after(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
    """A 429 on create reschedules the submit no sooner than Retry-After, then completes."""
    _, headers = heygen_studio.user()
    fake_heygen.rate_limit_next("create", retry_after=2)
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    heygen_studio.run_worker()
    waiting = heygen_studio.video(video_id)
    assert waiting.status.value == "submitting" and waiting.next_check_at is not None
    assert (waiting.next_check_at - waiting.updated_at).total_seconds() >= 2
    assert waiting.attempts == 0        # a busy upstream is not a failure
    (row,) = heygen_studio.drive(video_id)
    assert row.status.value == "completed"
    assert fake_heygen.renders_created == 1


def test_a_failed_render_refunds_once_with_a_readable_reason(heygen_studio: Studio,
                                                            fake_heygen: FakeHeyGen) -> None:
    """HeyGen reports failed: the video fails with its message, and the credits come back exactly once."""
    user_id, headers = heygen_studio.user(credits=3)
    fake_heygen.fail_next_render(code="avatar_processing_failed", message="The avatar could not be rendered.")
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    assert heygen_studio.balance(user_id) == 2
    (row,) = heygen_studio.drive(video_id)
    assert row.status.value == "failed"
    shown = heygen_studio.client.get(f"/api/videos/{video_id}", headers=headers).get_json()["data"]
    assert shown["failure"]["code"] == "avatar_processing_failed"
    assert "The avatar could not be rendered." in shown["failure"]["message"]
    assert heygen_studio.balance(user_id) == 3
    # Duplicate jobs (a stale step, and "whatever it is now") change nothing.
    dispatcher.enqueue([(video_id, row.step - 1), (video_id, None)])
    heygen_studio.run_worker()
    assert _count(heygen_studio, "render_refund", video_id) == 1
    assert heygen_studio.balance(user_id) == 3


def test_permanent_errors_fail_at_once_and_refund(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
    """A 400 from create is not retried: failed, refunded, one create call."""
    user_id, headers = heygen_studio.user(credits=3)
    fake_heygen.fail_next("create", status=400, code="invalid_parameter")
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    (row,) = heygen_studio.drive(video_id)
    assert row.status.value == "failed" and row.failure_code == "invalid_parameter"
    assert fake_heygen.route_calls["create"] == 1
    assert heygen_studio.balance(user_id) == 3


def test_endless_server_errors_give_up_and_refund(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
    """A provider that never recovers: after the retry budget the video fails and is refunded."""
    studio = heygen_studio
    user_id, headers = studio.user(credits=3)
    fake_heygen.fail_next("create", times=50, status=503)
    video_id = studio.create(headers).get_json()["data"]["id"]
    (row,) = studio.drive(video_id)
    assert row.status.value == "failed" and row.failure_code == "provider_unavailable"
    assert "credits were refunded" in (row.failure_message or "")
    assert studio.balance(user_id) == 3
    assert fake_heygen.renders_created == 0
    assert fake_heygen.route_calls["create"] == 8


def test_a_render_past_render_timeout_fails(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
    """A render still processing RENDER_TIMEOUT (1800 s) after submission is failed and refunded."""
    user_id, headers = heygen_studio.user(credits=3)
    fake_heygen.render_seconds = 10_000
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    (row,) = heygen_studio.drive(video_id)            # polled every 30 s, then every 60 s, for 30 minutes
    assert row.status.value == "failed" and row.failure_code == "render_timeout"
    assert row.submitted_at is not None and row.finished_at is not None
    assert 1800 <= (row.finished_at - row.submitted_at).total_seconds() <= 1800 + 2 * 66
    assert heygen_studio.balance(user_id) == 3


def test_concurrency_cap_keeps_in_flight_renders_within_the_plan(
        make_heygen_studio: Studios, fake_heygen: FakeHeyGen, conn: psycopg.Connection) -> None:
    """With HEYGEN_MAX_CONCURRENT=2, five videos never have more than two renders in flight; all complete."""
    studio = make_heygen_studio(heygen_max_concurrent=2)
    fake_heygen.render_seconds = 45
    _, headers = studio.user(credits=10)
    ids = [studio.create(headers, script=f"Video number {n}.").get_json()["data"]["id"] for n in range(5)]
    peak = 0

    def observe() -> None:
        nonlocal peak
        row = conn.execute(
            "SELECT count(*) FROM videos WHERE status IN ('submitting', 'rendering')").fetchone()
        assert row is not None
        peak = max(peak, int(row[0]))
        assert peak <= 2

    rows = studio.drive(*ids, between=observe)
    assert all(row.status.value == "completed" for row in rows)
    assert peak == 2
    assert fake_heygen.renders_created == 5


def test_duplicate_jobs_for_one_step_collapse_into_one_chain(make_heygen_studio: Studios,
                                                             fake_heygen: FakeHeyGen) -> None:
    """Three jobs for the same step (a step dispatched again after its job was lost, then found): one applies,
    the others are no-ops."""
    studio = make_heygen_studio(render_poll_seconds=3600)
    fake_heygen.render_seconds = 10_000
    _, headers = studio.user()
    video_id = studio.create(headers).get_json()["data"]["id"]
    (rendering,) = studio.drive(video_id, until=("rendering",))
    dispatcher.enqueue([(video_id, rendering.step)] * 3)
    studio.run_worker()
    after = studio.video(video_id)
    assert after.step == rendering.step + 1 and after.polls == 1
    assert after.status.value == "rendering"
    assert fake_heygen.renders_created == 1


def _waits_on_a_lock(conn: psycopg.Connection) -> bool:
    """Some backend waits for a row lock (another transaction's uncommitted update)."""
    row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()
    return row is not None and row[0] > 0


def test_a_job_that_starts_before_its_dispatch_commits_runs_the_step(heygen_studio: Studio,
                                                                    fake_heygen: FakeHeyGen) -> None:
    """The dispatcher enqueues a step's job before its claim commits (a Redis failure rolls the claim back),
    and an idle worker can start that job first. The job waits for the claim to commit and takes the step,
    rather than reading the row as it was, calling itself stale and leaving the video to its redispatch a
    minute later."""
    _, headers = heygen_studio.user()
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    now = heygen_studio.clock()
    with database.transaction() as dispatch:             # the dispatcher's admission, not yet committed
        (admitted,) = video_queries.admit_queued_videos(dispatch, now=now, slots=1,
                                                        redispatch_at=now + timedelta(seconds=60))
        job = threading.Thread(target=jobs.advance, args=(video_id,), kwargs={"step": admitted.step})
        job.start()
        wait(lambda: not job.is_alive() or _waits_on_a_lock(heygen_studio.conn), "the job to wait or end")
        assert job.is_alive(), "the job gave up on its step before the dispatch committed"
    job.join(timeout=120)
    assert not job.is_alive()
    video = heygen_studio.video(video_id)
    assert video.status.value == "rendering" and video.provider_video_id is not None
    assert fake_heygen.renders_created == 1
