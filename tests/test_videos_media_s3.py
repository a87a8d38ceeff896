"""Media in S3-compatible object storage (MEDIA_STORAGE_URL): uploads at completion, presigned redirects on
read (Range answered by the store), deletion with the video, and a store outage that delays a video without
losing or double-charging it. The store is moto's S3 server on loopback; the client is production boto3."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from fakes.heygen import FakeHeyGen, sample_media
from fakes.s3 import FakeS3
from videos_fixtures import Studio

from genvid import clock
from genvid.config import Config
from genvid.videos import media, periodic, s3_media


def _completed(studio: Studio) -> tuple[str, dict[str, str], str]:
    """A finished video: (video id, owner's headers, its video_url)."""
    _, headers = studio.user()
    video_id = studio.create(headers).get_json()["data"]["id"]
    assert studio.drive(video_id)[0].status.value == "completed"
    url = studio.client.get(f"/api/videos/{video_id}", headers=headers).get_json()["data"]["video_url"]
    return video_id, headers, url


def test_finished_media_lands_in_the_bucket_and_links_redirect_to_presigned_gets(
        s3_studio: Studio, fake_s3: FakeS3, s3_bucket: str, config: Config) -> None:
    """The worker uploads the MP4 and thumbnail under the prefix (nothing on local disk); the signed link
    answers 302 to the store, which serves the bytes and the Range itself."""
    video_id, _, url = _completed(s3_studio)
    assert fake_s3.keys(s3_bucket) == [f"media/videos/{video_id}/thumbnail.jpg",
                                       f"media/videos/{video_id}/video.mp4"]
    head = fake_s3.client().head_object(Bucket=s3_bucket, Key=f"media/videos/{video_id}/video.mp4")
    assert head["ContentType"] == "video/mp4"
    assert not Path(config.media_dir).exists()

    answer = s3_studio.client.get(url)
    assert answer.status_code == 302
    assert answer.headers["Cache-Control"] == "no-store"
    location = answer.headers["Location"]
    assert location.startswith(fake_s3.endpoint + f"/{s3_bucket}/media/videos/{video_id}/video.mp4?")

    original = sample_media()[0].read_bytes()
    part = requests.get(location, headers={"Range": "bytes=0-99"}, timeout=10)
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(original)}"
    assert part.content == original[:100]
    assert requests.get(location, timeout=10).content == original


def test_expired_or_forged_links_are_refused_before_any_redirect(s3_studio: Studio, config: Config) -> None:
    _, _, url = _completed(s3_studio)
    key = urlsplit(url).path.removeprefix("/api/media/")
    expires, signature = media.sign(key, now=clock.unix() - 2 * media.LINK_TTL_SECONDS,
                                    secret=config.better_auth_secret)
    expired = s3_studio.client.get(f"/api/media/{key}?expires={expires}&signature={signature}")
    assert expired.status_code == 403 and expired.get_json()["error"]["code"] == "MEDIA_LINK_EXPIRED"
    forged = s3_studio.client.get(f"/api/media/{key}?expires={expires + 10**6}&signature={signature}")
    assert forged.status_code == 403 and "Location" not in forged.headers


def test_deleting_a_video_deletes_its_objects(s3_studio: Studio, fake_s3: FakeS3, s3_bucket: str) -> None:
    kept_id, _, _ = _completed(s3_studio)
    video_id, headers, _ = _completed(s3_studio)
    assert s3_studio.client.delete(f"/api/videos/{video_id}", headers=headers).status_code == 200
    assert fake_s3.keys(s3_bucket) == [f"media/videos/{kept_id}/thumbnail.jpg",
                                       f"media/videos/{kept_id}/video.mp4"]


def test_orphaned_objects_are_pruned(s3_studio: Studio, fake_s3: FakeS3, s3_bucket: str,
                                     config: Config) -> None:
    """The daily pruning lists the bucket's video folders and deletes those whose row is gone."""
    kept_id, _, _ = _completed(s3_studio)
    user_id, headers = s3_studio.user()
    video_id = s3_studio.create(headers).get_json()["data"]["id"]
    s3_studio.drive(video_id)
    s3_studio.conn.execute('DELETE FROM "user" WHERE id = %s', (user_id,))
    assert periodic.prune_orphaned_media(media.storage_for(config.with_overrides(
        media_storage_url=f"s3://{s3_bucket}/media"))) == 1
    assert fake_s3.keys(s3_bucket) == [f"media/videos/{kept_id}/thumbnail.jpg",
                                       f"media/videos/{kept_id}/video.mp4"]


def test_large_files_go_up_as_multipart_uploads(fake_s3: FakeS3, s3_bucket: str, tmp_path: Path) -> None:
    """Above 8 MiB boto3 sends parts (the ETag of a multipart object ends in -<parts>);
    the object is whole."""
    store = s3_media.storage(f"s3://{s3_bucket}/big")
    source = store.staging_file(".mp4")
    payload = os.urandom(20 * 1024 * 1024)
    source.write_bytes(payload)
    store.save("videos/large/video.mp4", source)
    assert not source.exists()
    head = fake_s3.client().head_object(Bucket=s3_bucket, Key="big/videos/large/video.mp4")
    assert head["ETag"].strip('"').endswith("-3") and head["ContentLength"] == len(payload)
    location = store.locate("videos/large/video.mp4", expires_in=60)
    assert isinstance(location, media.Presigned)
    fetched = requests.get(location.url, timeout=30).content
    assert hashlib.sha256(fetched).digest() == hashlib.sha256(payload).digest()


def test_an_unreachable_store_delays_the_upload_without_a_second_render_or_charge(
        s3_studio: Studio, fake_s3: FakeS3, fake_heygen: FakeHeyGen, s3_bucket: str) -> None:
    """With the store down, completing fails like any transient error: the video stays rendering and is
    retried; reads answer normally. Once the store is back the same render is uploaded: one render
    upstream, one debit, no refund."""
    user_id, headers = s3_studio.user(credits=10)
    with fake_s3.down():
        video_id = s3_studio.create(headers).get_json()["data"]["id"]
        assert s3_studio.drive_until(
            lambda: s3_studio.video(video_id).attempts >= 2), "the upload was not retried"
        assert s3_studio.video(video_id).status.value == "rendering"
        shown = s3_studio.client.get(f"/api/videos/{video_id}", headers=headers)
        assert shown.status_code == 200 and shown.get_json()["data"]["video_url"] is None
        assert s3_studio.client.get("/api/videos", headers=headers).status_code == 200
    done = s3_studio.drive(video_id)[0]
    assert done.status.value == "completed"
    assert fake_heygen.renders_created == 1
    assert s3_studio.balance(user_id) == 9
    assert f"media/videos/{video_id}/video.mp4" in fake_s3.keys(s3_bucket)


def test_reads_and_deletes_never_answer_500_while_the_store_is_down(
        s3_studio: Studio, fake_s3: FakeS3, s3_bucket: str) -> None:
    """A link still redirects (signing needs no network); a delete removes the video and leaves its objects
    to the daily pruning."""
    video_id, headers, url = _completed(s3_studio)
    with fake_s3.down():
        assert s3_studio.client.get(url).status_code == 302
        deleted = s3_studio.client.delete(f"/api/videos/{video_id}", headers=headers)
        assert deleted.status_code == 200 and deleted.get_json()["data"]["deleted"] is True
    assert s3_studio.client.get(f"/api/videos/{video_id}", headers=headers).status_code == 404
    assert fake_s3.keys(s3_bucket)   # still there, for the pruning


def test_a_store_without_credentials_answers_503_not_500(
        s3_studio: Studio, s3_bucket: str, monkeypatch: pytest.MonkeyPatch, config: Config) -> None:
    _, _, url = _completed(s3_studio)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # A URL this process has no client for yet, so the client is built without credentials.
    app = s3_studio.app
    app.config["GENVID"] = app.config["GENVID"].with_overrides(media_storage_url=f"s3://{s3_bucket}/media/")
    answer = app.test_client().get(url)
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "MEDIA_STORAGE_UNAVAILABLE"
    assert answer.headers["Retry-After"] == "30"
