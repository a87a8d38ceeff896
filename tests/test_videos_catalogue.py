"""The catalogue: synced from the provider (following pages), filtered and paged by keyset,
retired not deleted."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import redis
from conftest import Services
from fakes.heygen import FakeHeyGen
from flask import Flask
from videos_fixtures import Studio

ROOT = Path(__file__).resolve().parent.parent


def _all_pages(studio: Studio, path: str, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        url = f"{path}?limit=2{query}" + (f"&cursor={cursor}" if cursor else "")
        body = studio.client.get(url, headers=headers).get_json()
        assert body["success"] is True and len(body["data"]) <= 2
        items += body["data"]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return items


def test_sync_follows_pages_and_lists_every_avatar_once(heygen_studio: Studio,
                                                        fake_heygen: FakeHeyGen) -> None:
    """The fake pages by 2: every look arrives, and keyset pages of 2 list each exactly once, by name."""
    _, headers = heygen_studio.user(credits=0)
    assert fake_heygen.route_calls["looks"] >= 3
    avatars = _all_pages(heygen_studio, "/api/avatars", headers)
    names = [a["name"] for a in avatars]
    assert names == sorted(names) and len({a["id"] for a in avatars}) == len(avatars) >= 4
    stored = heygen_studio.conn.execute("SELECT count(*) FROM avatars WHERE retired_at IS NULL").fetchone()
    assert stored == (len(avatars),)


def test_avatar_filters(heygen_studio: Studio) -> None:
    _, headers = heygen_studio.user(credits=0)
    female = _all_pages(heygen_studio, "/api/avatars", headers, "&gender=female")
    assert female and all(a["gender"] == "female" for a in female)
    premium = _all_pages(heygen_studio, "/api/avatars", headers, "&premium=true")
    assert [a["id"] for a in premium] == ["look_chloe"]
    assert all(
        a["premium"] is False for a in _all_pages(heygen_studio, "/api/avatars", headers, "&premium=false"))
    assert heygen_studio.client.get("/api/avatars?limit=0", headers=headers).status_code == 422
    assert heygen_studio.client.get("/api/avatars?limit=101", headers=headers).status_code == 422
    assert heygen_studio.client.get("/api/avatars?cursor=%%%", headers=headers).status_code == 422


def test_voice_filters(heygen_studio: Studio) -> None:
    _, headers = heygen_studio.user(credits=0)
    voices = _all_pages(heygen_studio, "/api/voices", headers)
    assert {v["id"] for v in voices} >= {"voice_0", "voice_1", "voice_2", "voice_3"}
    french = _all_pages(heygen_studio, "/api/voices", headers, "&language=french")
    assert [v["id"] for v in french] == ["voice_2"]
    male_english = _all_pages(heygen_studio, "/api/voices", headers, "&language=English&gender=male")
    assert {v["id"] for v in male_english} >= {"voice_1"}
    assert all(v["gender"].lower() == "male" and v["language"] == "English" for v in male_english)
    assert _all_pages(heygen_studio, "/api/voices", headers, "&premium=true") == []


def test_resync_retires_vanished_entries_and_revives_returning_ones(heygen_studio: Studio,
                                                                   fake_heygen: FakeHeyGen) -> None:
    _, headers = heygen_studio.user(credits=0)
    removed = fake_heygen.voices.pop(0)
    heygen_studio.advance(86400)                  # the next day's sync
    assert heygen_studio.sync_catalogue().retired_voices == 1
    assert removed["voice_id"] not in {v["id"] for v in _all_pages(heygen_studio, "/api/voices", headers)}
    assert heygen_studio.conn.execute("SELECT count(*) FROM voices WHERE provider_id = %s",
                                      (removed["voice_id"],)).fetchone() == (1,)
    fake_heygen.voices.insert(0, removed)
    heygen_studio.advance(86400)
    heygen_studio.sync_catalogue()
    assert removed["voice_id"] in {v["id"] for v in _all_pages(heygen_studio, "/api/voices", headers)}


def test_a_failed_listing_changes_nothing(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
    """A listing that errors part-way raises before the transaction: nothing is retired."""
    fake_heygen.fail_next("voices", times=10, status=401, code="unauthorized")
    before = heygen_studio.conn.execute("SELECT count(*) FROM voices WHERE retired_at IS NULL").fetchone()
    try:
        heygen_studio.sync_catalogue()
    except Exception as exc:  # noqa: BLE001 - any provider error will do
        assert type(exc).__name__.endswith("ProviderError")
    else:
        raise AssertionError("the sync should have failed")
    assert heygen_studio.conn.execute(
        "SELECT count(*) FROM voices WHERE retired_at IS NULL").fetchone() == before


def test_catalog_sync_command(heygen_app: Flask, services: Services, fake_heygen: FakeHeyGen,
                              conn: psycopg.Connection, tmp_path: Path) -> None:
    """`genvid catalog sync` fetches the configured provider's catalogue into the database."""
    env = {**os.environ, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
           "GENVID_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING", "VIDEO_PROVIDER": "heygen",
           "HEYGEN_API_KEY": fake_heygen.api_key, "HEYGEN_API_BASE": fake_heygen.base_url}
    result = subprocess.run([sys.executable, "-m", "genvid.cli", "catalog", "sync"], check=False, cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "catalogue synced from heygen" in result.stdout
    row = conn.execute("SELECT count(*) FROM avatars WHERE provider = 'heygen'").fetchone()
    assert row is not None and row[0] >= 4


def test_daily_job_syncs_forgets_old_webhook_events_and_reschedules(heygen_studio: Studio,
                                                                    fake_heygen: FakeHeyGen) -> None:
    """The daily maintenance, as the workers' loop runs it: enqueued once when due (whichever workers look),
    catalogue refreshed, week-old webhook event ids dropped, and due again a day after it started."""
    from datetime import timedelta

    import db.videos_webhooks
    from genvid.infra import redis_client as genvid_redis
    from genvid.infra import services as genvid_services
    from genvid.videos import periodic
    from genvid.worker import WorkerLoop
    now = heygen_studio.clock()
    for event_id, age in (("evt_old", 8), ("evt_recent", 1)):
        db.videos_webhooks.record_webhook_event(heygen_studio.conn, provider="heygen", event_id=event_id,
                                                event_type="avatar_video.success",
                                                now=now - timedelta(days=age))
    fake_heygen.looks.append({**fake_heygen.looks[0], "id": "look_new", "name": "Zed in studio"})
    loops = [WorkerLoop(genvid_services.started_config()) for _ in range(3)]   # three workers looking at once
    for loop in loops:
        loop.tick(now)
    queued = sorted(
        job.func_name for name in ("default", "webhooks") for job in genvid_redis.get_queue(name).get_jobs())
    # once each
    assert queued == ["genvid.outbound.dispatcher.prune_log", "genvid.videos.periodic.daily_maintenance"]
    assert heygen_studio.run_worker() == 2
    ids = [row[0] for row in heygen_studio.conn.execute("SELECT event_id FROM video_webhook_events")]
    assert ids == ["evt_recent"]
    assert heygen_studio.conn.execute("SELECT count(*) FROM avatars WHERE provider_id = 'look_new'"
                                      ).fetchone() == (1,)
    assert heygen_studio.conn.execute("SELECT next_run_at FROM periodic_runs WHERE name = %s",
                                      (periodic.DAILY_MAINTENANCE,)).fetchone() == (now + timedelta(days=1),)
    assert not periodic.enqueue_if_due(now=now + timedelta(hours=23))
    assert periodic.enqueue_if_due(now=now + timedelta(days=1))


def test_a_daily_run_lost_with_redis_data_is_run_again_an_hour_later(heygen_studio: Studio,
                                                                     redis_client: redis.Redis) -> None:
    """The run's schedule is in PostgreSQL: a claimed job that Redis lost is claimed again after an hour; and
    FLUSHALL itself does not make a finished run due again."""
    from datetime import timedelta

    from genvid.videos import periodic
    now = heygen_studio.clock()
    assert periodic.enqueue_if_due(now=now)
    redis_client.flushall()
    assert heygen_studio.run_worker() == 0
    assert not periodic.enqueue_if_due(now=now + timedelta(minutes=59))
    assert periodic.enqueue_if_due(now=now + timedelta(hours=1))
    heygen_studio.clock.advance(3600)
    assert heygen_studio.run_worker() == 1
    redis_client.flushall()
    assert not periodic.enqueue_if_due(now=now + timedelta(hours=2))


def test_offline_previews_are_served_by_genvid_and_linked(local_studio: Studio) -> None:
    """Built-in avatars link a PNG and voices a WAV sample, both served by genvid without a session."""
    _, headers = local_studio.user(credits=0)
    avatars = _all_pages(local_studio, "/api/avatars", headers)
    voices = _all_pages(local_studio, "/api/voices", headers)
    assert avatars and voices, "the offline catalogue has built-in avatars and voices"
    for avatar in avatars:
        assert avatar["preview_image_url"] == f"http://localhost/api/avatars/{avatar['id']}/preview.png"
        picture = local_studio.client.get(avatar["preview_image_url"])
        assert picture.status_code == 200 and picture.mimetype == "image/png"
        assert picture.data[:8] == b"\x89PNG\r\n\x1a\n" and "public" in picture.headers["Cache-Control"]
    for voice in voices:
        sample = local_studio.client.get(voice["preview_audio_url"])
        assert sample.status_code == 200 and sample.mimetype == "audio/wav" and sample.data[:4] == b"RIFF"
    for missing in ("/api/avatars/local_nobody/preview.png", "/api/voices/local_nobody/sample.wav",
                    "/api/avatars/..%2F..%2Fsecrets/preview.png"):
        answer = local_studio.client.get(missing)
        assert answer.status_code == 404 and answer.get_json()["success"] is False


def test_server_paths_stored_by_older_syncs_are_never_shown(local_studio: Studio) -> None:
    """Earlier offline syncs stored file:// previews: clients get null for those, never the path."""
    _, headers = local_studio.user(credits=0)
    local_studio.conn.execute("UPDATE avatars SET preview_image_url = 'file:///srv/genvid/avatars/a.png'")
    avatars = _all_pages(local_studio, "/api/avatars", headers)
    assert avatars and all(avatar["preview_image_url"] is None for avatar in avatars)
