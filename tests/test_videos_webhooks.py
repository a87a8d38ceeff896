"""HeyGen webhooks: verified on the raw body, a hint that triggers a status check, duplicates harmless."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Services
from fakes.heygen import FakeHeyGen
from flask import Flask
from videos_fixtures import Studio

from genvid import sealing
from genvid.config import Config
from genvid.videos import webhooks

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_test_secret"


@pytest.fixture
def hinted(make_heygen_studio: Callable[..., Studio], fake_heygen: FakeHeyGen,
           live_server: Callable[[Flask], str]) -> tuple[Studio, str]:
    """A heygen app that polls only hourly (so only a webhook can finish a render soon) served over HTTP."""
    studio = make_heygen_studio(heygen_webhook_secret=SECRET, render_poll_seconds=3600)
    fake_heygen.render_seconds = 10_000
    return studio, live_server(studio.app) + "/api/webhooks/heygen"


def _rendering(studio: Studio) -> tuple[str, str]:
    _, headers = studio.user()
    video_id = studio.create(headers).get_json()["data"]["id"]
    (row,) = studio.drive(video_id, until=("rendering",))
    assert row.provider_video_id is not None
    return video_id, row.provider_video_id


def test_success_webhook_completes_the_video_at_once_and_duplicates_are_no_ops(
        hinted: tuple[Studio, str], fake_heygen: FakeHeyGen) -> None:
    studio, url = hinted
    video_id, provider_id = _rendering(studio)
    fake_heygen.finish(provider_id)
    payload = fake_heygen.event_for(provider_id)
    first = fake_heygen.send_webhook(url, payload, secret=SECRET)
    assert first.status_code == 200 and first.json()["data"] == {"received": True, "duplicate": False}
    studio.run_worker()
    assert studio.video(video_id).status.value == "completed"
    calls = fake_heygen.status_calls[provider_id]
    for _ in range(3):
        again = fake_heygen.send_webhook(url, payload, secret=SECRET)
        assert again.status_code == 200 and again.json()["data"]["duplicate"] is True
    studio.run_worker()
    assert fake_heygen.status_calls[provider_id] == calls
    assert studio.conn.execute("SELECT count(*) FROM video_webhook_events").fetchone() == (1,)


def test_a_webhook_is_only_a_hint(hinted: tuple[Studio, str], fake_heygen: FakeHeyGen) -> None:
    """A genuine-looking success for a render HeyGen still reports as processing completes nothing."""
    studio, url = hinted
    video_id, provider_id = _rendering(studio)
    payload = {"event_id": "evt_early", "event_type": "avatar_video.success",
               "event_data": {"video_id": provider_id, "url": "https://evil.example/x.mp4"}}
    assert fake_heygen.send_webhook(url, payload, secret=SECRET).status_code == 200
    studio.run_worker()
    row = studio.video(video_id)
    assert row.status.value == "rendering" and row.video_key is None


@pytest.mark.parametrize("tamper", ["signature", "stale", "future", "no-signature", "no-timestamp", "body"])
def test_untrusted_deliveries_are_refused(hinted: tuple[Studio, str], fake_heygen: FakeHeyGen,
                                          tamper: str) -> None:
    studio, url = hinted
    video_id, provider_id = _rendering(studio)
    fake_heygen.finish(provider_id)
    payload = fake_heygen.event_for(provider_id)
    options: dict[str, Any] = {}
    if tamper == "signature":
        options["signature"] = "0" * 64
    elif tamper == "stale":
        options["timestamp"] = int(time.time()) - 400
    elif tamper == "future":
        options["timestamp"] = int(time.time()) + 400
    elif tamper == "no-signature":
        options["omit"] = ["Heygen-Signature"]
    elif tamper == "no-timestamp":
        options["omit"] = ["Heygen-Timestamp"]
    secret = SECRET if tamper != "body" else "whsec_someone_else"
    response = fake_heygen.send_webhook(url, payload, secret=secret, **options)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_WEBHOOK"
    studio.run_worker()
    assert studio.video(video_id).status.value == "rendering"
    assert studio.conn.execute("SELECT count(*) FROM video_webhook_events").fetchone() == (0,)


def test_register_webhook_stores_the_secret_encrypted_and_uses_it(
        hinted: tuple[Studio, str], fake_heygen: FakeHeyGen, services: Services, config: Config,
        tmp_path: Path) -> None:
    """`genvid heygen register-webhook URL` registers through v3 and keeps only ciphertext of the secret."""
    studio, url = hinted
    env = {**os.environ, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
           "GENVID_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING", "VIDEO_PROVIDER": "heygen",
           "HEYGEN_API_KEY": fake_heygen.api_key, "HEYGEN_API_BASE": fake_heygen.base_url,
           "ENCRYPTION_KEY": config.encryption_key}
    public_url = "https://genvid.example.com/api/webhooks/heygen"
    result = subprocess.run([sys.executable, "-m", "genvid.cli", "heygen", "register-webhook", public_url],
                            check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    (endpoint,) = fake_heygen.endpoints.values()
    assert endpoint["url"] == public_url
    secret = endpoint["secret"]
    assert secret not in result.stdout
    row = studio.conn.execute("SELECT secret_encrypted FROM video_webhook_endpoints").fetchone()
    assert row is not None
    stored = row[0]
    assert secret not in stored and stored.startswith("gv1:")
    assert sealing.unseal(stored, encryption_key=config.encryption_key, purpose=webhooks.PROVIDER) == secret

    video_id, provider_id = _rendering(studio)
    fake_heygen.finish(provider_id)
    assert fake_heygen.deliver_due_webhooks(url_override=url) == 1
    studio.run_worker()
    assert studio.video(video_id).status.value == "completed"


def test_register_webhook_refuses_plain_http(services: Services, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
           "GENVID_DATA_DIR": str(tmp_path / "data"), "HEYGEN_API_KEY": "k"}
    result = subprocess.run([sys.executable, "-m", "genvid.cli", "heygen", "register-webhook",
                             "http://insecure.example/api/webhooks/heygen"],
                            check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 2 and "https://" in result.stderr


def test_failure_webhook_fails_and_refunds_once(hinted: tuple[Studio, str], fake_heygen: FakeHeyGen) -> None:
    """avatar_video.fail triggers the status check, which fails the video with HeyGen's reason and refunds."""
    studio, url = hinted
    user_id, headers = studio.user(credits=4)
    fake_heygen.fail_next_render(code="voice_not_usable", message="The voice cannot speak this language.")
    video_id = studio.create(headers).get_json()["data"]["id"]
    (row,) = studio.drive(video_id, until=("rendering",))
    assert row.provider_video_id is not None
    fake_heygen.finish(row.provider_video_id)
    payload = fake_heygen.event_for(row.provider_video_id)
    assert payload["event_type"] == "avatar_video.fail"
    for _ in range(2):
        assert fake_heygen.send_webhook(url, payload, secret=SECRET).status_code == 200
    studio.run_worker()
    failed = studio.video(video_id)
    assert failed.status.value == "failed" and failed.failure_code == "voice_not_usable"
    assert "cannot speak this language" in (failed.failure_message or "")
    assert studio.balance(user_id) == 4
