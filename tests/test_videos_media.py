"""Stored media: short-lived signed links with HTTP Range support, refused once expired or tampered with."""
from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from videos_fixtures import Studio

from genvid import clock
from genvid.config import Config
from genvid.videos import media


def _completed_video_url(studio: Studio) -> str:
    _, headers = studio.user()
    video_id = studio.create(headers).get_json()["data"]["id"]
    studio.drive(video_id)
    url: str = studio.client.get(f"/api/videos/{video_id}", headers=headers).get_json()["data"]["video_url"]
    return url


def test_range_requests_return_partial_content(heygen_studio: Studio) -> None:
    url = _completed_video_url(heygen_studio)
    whole = heygen_studio.client.get(url)
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    assert whole.mimetype == "video/mp4"
    part = heygen_studio.client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(whole.data)}"
    assert part.data == whole.data[:100]
    tail = heygen_studio.client.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.data == whole.data[-10:]
    beyond = heygen_studio.client.get(url, headers={"Range": f"bytes={len(whole.data) + 10}-"})
    assert beyond.status_code == 416


def test_expired_and_forged_links_are_refused(heygen_studio: Studio, config: Config) -> None:
    url = _completed_video_url(heygen_studio)
    parts = urlsplit(url)
    key = parts.path.removeprefix("/api/media/")
    query = parse_qs(parts.query)
    assert int(query["expires"][0]) - clock.unix() <= media.LINK_TTL_SECONDS   # links run on genvid's clock

    expires, signature = media.sign(key, now=clock.unix() - 2 * media.LINK_TTL_SECONDS,
                                    secret=config.better_auth_secret)
    expired = heygen_studio.client.get(f"/api/media/{key}?expires={expires}&signature={signature}")
    assert expired.status_code == 403
    assert expired.get_json()["error"]["code"] == "MEDIA_LINK_EXPIRED"

    stretched = heygen_studio.client.get(f"/api/media/{key}?expires={expires + 10**6}&signature={signature}")
    assert stretched.status_code == 403
    assert stretched.get_json()["error"]["code"] == "INVALID_MEDIA_LINK"

    other_key = key.replace("video.mp4", "thumbnail.jpg")
    moved = heygen_studio.client.get(f"/api/media/{other_key}?expires={query['expires'][0]}"
                                     f"&signature={query['signature'][0]}")
    assert moved.status_code == 403
    assert heygen_studio.client.get(f"/api/media/{key}").status_code == 403


def test_keys_cannot_escape_the_media_directory(tmp_path: Path) -> None:
    store = media.DiskStorage(tmp_path / "media")
    (tmp_path / "secret.txt").write_text("no")
    for key in ("../secret.txt", "videos/../../secret.txt", "/etc/passwd", "videos//x", ""):
        assert not media.valid_key(key)
        assert store.local_path(key) is None
    staged = store.staging_file(".mp4")
    staged.write_bytes(b"data")
    store.save("videos/abc/video.mp4", staged)
    assert store.local_path("videos/abc/video.mp4") is not None
    store.delete_prefix("videos/abc")
    assert store.local_path("videos/abc/video.mp4") is None


def test_media_of_deleted_users_is_pruned_daily(heygen_studio: Studio, config: Config) -> None:
    """Deleting a user cascades to their videos; the daily job then deletes the files nobody can reach."""
    from genvid.videos import periodic
    kept_url = _completed_video_url(heygen_studio)
    user_id, headers = heygen_studio.user()
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    heygen_studio.drive(video_id)
    store = media.storage_for(config)
    assert store.local_path(f"videos/{video_id}/video.mp4") is not None
    heygen_studio.conn.execute('DELETE FROM "user" WHERE id = %s', (user_id,))
    assert periodic.prune_orphaned_media(store) == 1
    assert store.local_path(f"videos/{video_id}/video.mp4") is None
    assert heygen_studio.client.get(kept_url).status_code == 200


def test_production_with_media_on_disk_warns_once_at_start(config: Config, app: object,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """Web and worker processes on different machines share no disk: production says so when it starts."""
    from genvid import create_app
    production = config.with_overrides(environment="production")
    with caplog.at_level(logging.WARNING, logger="genvid.videos.media"):
        create_app(production)
    warnings = [r.getMessage() for r in caplog.records if r.name == "genvid.videos.media"]
    assert len(warnings) == 1 and "MEDIA_STORAGE_URL" in warnings[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="genvid.videos.media"):
        create_app(production.with_overrides(media_storage_url="s3://genvid-media/prod"))
        create_app(config)   # development and tests: one machine, nothing to say
    assert not [r for r in caplog.records if r.name == "genvid.videos.media"]
