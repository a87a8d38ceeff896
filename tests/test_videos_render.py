"""Rendering through HeyGen (the fake): the happy path to a stored MP4, and every fault the worker survives."""
from __future__ import annotations

from collections.abc import Callable

import psycopg
from fakes.heygen import FakeHeyGen
from flask import Flask
from videos_fixtures import FAST, Studio


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


def test_a_create_that_times_out_is_replayed_by_its_key(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
    """The client gives up after 1 s while HeyGen still creates the video: the retry gets the same render."""
    _, headers = heygen_studio.user()
    fake_heygen.delay_next("create", seconds=1.5)
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    (row,) = heygen_studio.drive(video_id)
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
    # Duplicate jobs and a reconciler pass change nothing.
    from genvid.videos import jobs
    jobs.enqueue_advance(video_id, step=row.step - 1)
    jobs.enqueue_advance(video_id)
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


def test_endless_server_errors_give_up_and_refund(make_app: Callable[..., Flask], fake_heygen: FakeHeyGen,
                                                  conn: psycopg.Connection,
                                                  run_worker: Callable[..., int]) -> None:
    """A provider that never recovers: after the retry budget the video fails and is refunded."""
    app = make_app(video_provider="heygen", heygen_api_key=fake_heygen.api_key,
                   heygen_api_base=fake_heygen.base_url, **{**FAST, "render_retry_base_seconds": 0.01})
    studio = Studio(app, app.test_client(), conn, run_worker)
    studio.sync_catalogue()
    user_id, headers = studio.user(credits=3)
    fake_heygen.fail_next("create", times=50, status=503)
    video_id = studio.create(headers).get_json()["data"]["id"]
    (row,) = studio.drive(video_id, timeout=60)
    assert row.status.value == "failed" and row.failure_code == "provider_unavailable"
    assert "credits were refunded" in (row.failure_message or "")
    assert studio.balance(user_id) == 3
    assert fake_heygen.renders_created == 0
    assert fake_heygen.route_calls["create"] == 8


def test_a_render_past_render_timeout_fails(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
    """A render still processing RENDER_TIMEOUT after submission is failed and refunded."""
    user_id, headers = heygen_studio.user(credits=3)
    fake_heygen.render_seconds = 10_000
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    heygen_studio.drive(video_id, until=("rendering",))
    # Arrange: the render was submitted longer ago than RENDER_TIMEOUT (1800 s by default).
    heygen_studio.conn.execute("UPDATE videos SET submitted_at = submitted_at - interval '31 minutes' "
                               "WHERE id = %s", (video_id,))
    (row,) = heygen_studio.drive(video_id)
    assert row.status.value == "failed" and row.failure_code == "render_timeout"
    assert heygen_studio.balance(user_id) == 3


def test_concurrency_cap_keeps_in_flight_renders_within_the_plan(
        make_app: Callable[..., Flask], fake_heygen: FakeHeyGen, conn: psycopg.Connection,
        run_worker: Callable[..., int]) -> None:
    """With HEYGEN_MAX_CONCURRENT=2, five videos never have more than two renders in flight; all complete."""
    app = make_app(video_provider="heygen", heygen_api_key=fake_heygen.api_key,
                   heygen_api_base=fake_heygen.base_url, heygen_max_concurrent=2, **FAST)
    studio = Studio(app, app.test_client(), conn, run_worker)
    studio.sync_catalogue()
    fake_heygen.render_seconds = 5
    _, headers = studio.user(credits=10)
    ids = [studio.create(headers, script=f"Video number {n}.").get_json()["data"]["id"] for n in range(5)]
    peak = 0

    def observe() -> None:
        nonlocal peak
        row = conn.execute("SELECT count(*) FROM videos WHERE status IN ('submitting', 'rendering')").fetchone()
        assert row is not None
        peak = max(peak, int(row[0]))
        assert peak <= 2
        fake_heygen.advance(2)

    rows = studio.drive(*ids, between=observe, timeout=60)
    assert all(row.status.value == "completed" for row in rows)
    assert peak == 2
    assert fake_heygen.renders_created == 5


def test_duplicate_jobs_for_one_step_collapse_into_one_chain(make_app: Callable[..., Flask],
                                                             fake_heygen: FakeHeyGen, conn: psycopg.Connection,
                                                             run_worker: Callable[..., int]) -> None:
    """Three jobs for the same step (a reconciler resume, webhook hints): one applies, the others are no-ops."""
    from genvid.videos import jobs
    app = make_app(video_provider="heygen", heygen_api_key=fake_heygen.api_key,
                   heygen_api_base=fake_heygen.base_url, **{**FAST, "render_poll_seconds": 3600})
    studio = Studio(app, app.test_client(), conn, run_worker)
    studio.sync_catalogue()
    fake_heygen.render_seconds = 10_000
    _, headers = studio.user()
    video_id = studio.create(headers).get_json()["data"]["id"]
    (rendering,) = studio.drive(video_id, until=("rendering",))
    for _ in range(3):
        jobs.enqueue_advance(video_id, step=rendering.step)
    studio.run_worker()
    after = studio.video(video_id)
    assert after.step == rendering.step + 1 and after.polls == 1
    assert after.status.value == "rendering"
    assert fake_heygen.renders_created == 1
