"""The catalogue: synced from the provider (following pages), filtered and paged by keyset, retired not deleted."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fakes.heygen import FakeHeyGen
from videos_fixtures import Studio

ROOT = Path(__file__).resolve().parent.parent


def _all_pages(studio: Studio, path: str, headers: dict[str, str], query: str = "") -> list[dict]:  # type: ignore[type-arg]
    items, cursor = [], None
    while True:
        url = f"{path}?limit=2{query}" + (f"&cursor={cursor}" if cursor else "")
        body = studio.client.get(url, headers=headers).get_json()
        assert body["success"] is True and len(body["data"]) <= 2
        items += body["data"]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return items


def test_sync_follows_pages_and_lists_every_avatar_once(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
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
    assert all(a["premium"] is False for a in _all_pages(heygen_studio, "/api/avatars", headers, "&premium=false"))
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
    assert heygen_studio.sync_catalogue().retired_voices == 1
    assert removed["voice_id"] not in {v["id"] for v in _all_pages(heygen_studio, "/api/voices", headers)}
    assert heygen_studio.conn.execute("SELECT count(*) FROM voices WHERE provider_id = %s",
                                      (removed["voice_id"],)).fetchone() == (1,)
    fake_heygen.voices.insert(0, removed)
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
    assert heygen_studio.conn.execute("SELECT count(*) FROM voices WHERE retired_at IS NULL").fetchone() == before


def test_catalog_sync_command(heygen_app, services, fake_heygen: FakeHeyGen, conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`genvid catalog sync` fetches the configured provider's catalogue into the database."""
    env = {**os.environ, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
           "GENVID_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING", "VIDEO_PROVIDER": "heygen",
           "HEYGEN_API_KEY": fake_heygen.api_key, "HEYGEN_API_BASE": fake_heygen.base_url}
    result = subprocess.run([sys.executable, "-m", "genvid.cli", "catalog", "sync"], check=False, cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "catalogue synced from heygen" in result.stdout
    assert conn.execute("SELECT count(*) FROM avatars WHERE provider = 'heygen'").fetchone()[0] >= 4
