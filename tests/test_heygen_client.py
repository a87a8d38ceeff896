"""The production HeyGen v3 client against the fake HeyGen server: wire format, paging, errors, webhooks."""
from __future__ import annotations

import hashlib
import hmac
import json
import signal
import socket
import subprocess
import sys
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from fakes.heygen import FakeHeyGen, sample_media
from flask import Flask, jsonify, request

from genvid.videos.heygen import DEFAULT_RETRY_AFTER, HeyGenProvider, parse_retry_after
from genvid.videos.heygen_signatures import (
    InvalidWebhook,
    verify_webhook,
    webhook_signature,
)
from genvid.videos.provider_contract import (
    PermanentProviderError,
    RateLimited,
    RenderRequest,
    TransientProviderError,
)

RENDER = RenderRequest(avatar_id="look_anna", voice_id="voice_0", script="Hello from genvid.")


def test_list_avatars_follows_next_token_and_skips_looks_the_default_engine_cannot_render(
        fake_heygen: FakeHeyGen, heygen_provider: HeyGenProvider) -> None:
    """Five looks served two per page take three requests; the avatar_iii-only look is left out."""
    avatars = list(heygen_provider.list_avatars())
    assert [a.provider_id for a in avatars] == ["look_anna", "look_ben", "look_chloe", "look_eve"]
    assert fake_heygen.route_calls["looks"] == 3
    tokens = [r.query.get("token") for r in fake_heygen.requests if r.route == "looks"]
    assert tokens[0] is None and all(tokens[1:])
    chloe = avatars[2]
    assert chloe.premium and chloe.gender == "female" and chloe.default_voice_id == "voice_2"
    assert chloe.preview_image_url == "https://files.example.test/chloe.png"
    assert not avatars[0].premium


def test_looks_that_cannot_render_are_not_listed(fake_heygen: FakeHeyGen,
                                                heygen_provider: HeyGenProvider) -> None:
    """A look still training, one with an error, and one without an id never reach the catalogue."""
    fake_heygen.looks += [dict(fake_heygen.looks[0], id="look_training", status="processing"),
                          dict(fake_heygen.looks[0], id="look_broken", error={"code": "training_failed"}),
                          {k: v for k, v in fake_heygen.looks[0].items() if k != "id"},
                          dict(fake_heygen.looks[0], id="look_ready", status="completed")]
    listed = [a.provider_id for a in heygen_provider.list_avatars()]
    assert listed == ["look_anna", "look_ben", "look_chloe", "look_eve", "look_ready"]


def test_list_voices_follows_pages_and_normalises_gender(fake_heygen: FakeHeyGen,
                                                         heygen_provider: HeyGenProvider) -> None:
    """Public voices over two pages, genders lower-cased for filtering."""
    voices = list(heygen_provider.list_voices())
    assert [v.provider_id for v in voices] == ["voice_0", "voice_1", "voice_2", "voice_3"]
    assert [v.gender for v in voices] == ["female", "male", "female", "male"]
    assert voices[2].language == "French"
    assert fake_heygen.route_calls["voices"] == 2


def test_create_sends_the_v3_body_with_api_key_and_idempotency_key(fake_heygen: FakeHeyGen,
                                                                   heygen_provider: HeyGenProvider) -> None:
    """POST /v3/videos carries type=avatar, the look id, voice, script, size, background and captions."""
    render = RenderRequest(avatar_id="look_ben", voice_id="voice_1", script="Hi", title="Demo",
                           aspect_ratio="9:16", resolution="1080p", background="#112233", captions=True,
                           callback_id="video-1")
    video_id = heygen_provider.create_video(render, idempotency_key="video-1")
    assert fake_heygen.videos[video_id].body == {
        "type": "avatar", "avatar_id": "look_ben", "voice_id": "voice_1", "script": "Hi", "title": "Demo",
        "aspect_ratio": "9:16", "resolution": "1080p", "background": {"type": "color", "value": "#112233"},
        "caption": {"file_format": "srt", "style": "default"}, "callback_id": "video-1"}
    sent = next(r for r in fake_heygen.requests if r.route == "create")
    assert sent.headers["Idempotency-Key"] == "video-1"
    assert sent.headers["X-Api-Key"] == fake_heygen.api_key


def test_same_idempotency_key_never_starts_a_second_render(fake_heygen: FakeHeyGen,
                                                           heygen_provider: HeyGenProvider) -> None:
    """Retrying a create with the same key answers the same video id; another key is another render."""
    first = heygen_provider.create_video(RENDER, idempotency_key="vid_a")
    again = heygen_provider.create_video(RENDER, idempotency_key="vid_a")
    other = heygen_provider.create_video(RENDER, idempotency_key="vid_b")
    assert first == again != other
    assert fake_heygen.renders_created == 2


def test_malformed_idempotency_key_is_refused_before_any_request(fake_heygen: FakeHeyGen,
                                                                 heygen_provider: HeyGenProvider) -> None:
    with pytest.raises(ValueError):
        heygen_provider.create_video(RENDER, idempotency_key="has spaces")
    assert fake_heygen.route_calls["create"] == 0


def test_create_that_succeeded_upstream_but_answered_500_is_replayed_by_its_key(
        fake_heygen: FakeHeyGen, heygen_provider: HeyGenProvider) -> None:
    """A lost create answer is transient; the retry with the same key returns the render that exists."""
    fake_heygen.succeed_then_fail_next_create()
    with pytest.raises(TransientProviderError) as failure:
        heygen_provider.create_video(RENDER, idempotency_key="job-42")
    assert failure.value.status == 500 and failure.value.code == "internal_error"
    assert fake_heygen.renders_created == 1
    video_id = heygen_provider.create_video(RENDER, idempotency_key="job-42")
    assert list(fake_heygen.videos) == [video_id]
    assert fake_heygen.renders_created == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(fake_heygen: FakeHeyGen, heygen_provider: HeyGenProvider,
                                     status: int) -> None:
    fake_heygen.fail_next("looks", status=status)
    with pytest.raises(TransientProviderError) as failure:
        list(heygen_provider.list_avatars())
    assert not isinstance(failure.value, RateLimited)
    assert failure.value.status == status and failure.value.code == "internal_error"
    assert len(list(heygen_provider.list_avatars())) == 4      # the next attempt goes through


def test_429_is_rate_limited_with_retry_after_seconds(fake_heygen: FakeHeyGen,
                                                      heygen_provider: HeyGenProvider) -> None:
    fake_heygen.rate_limit_next("create", retry_after=7)
    with pytest.raises(RateLimited) as failure:
        heygen_provider.create_video(RENDER, idempotency_key="k1")
    assert failure.value.retry_after == 7.0
    assert failure.value.code == "rate_limit_exceeded" and failure.value.status == 429
    assert isinstance(failure.value, TransientProviderError)
    assert fake_heygen.renders_created == 0


def test_429_retry_after_as_http_date_or_missing(fake_heygen: FakeHeyGen,
                                                 heygen_provider: HeyGenProvider) -> None:
    fake_heygen.rate_limit_next("status", retry_after=formatdate(time.time() + 120, usegmt=True))
    fake_heygen.rate_limit_next("status", retry_after=None)
    with pytest.raises(RateLimited) as dated:
        heygen_provider.get_status("vid_x")
    assert 60 < dated.value.retry_after <= 121
    with pytest.raises(RateLimited) as bare:
        heygen_provider.get_status("vid_x")
    assert bare.value.retry_after == DEFAULT_RETRY_AFTER


def test_parse_retry_after() -> None:
    """Integer seconds (documented), fractional seconds, HTTP-dates, past dates clamp to 0, junk defaults."""
    now = 1_800_000_000.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") == DEFAULT_RETRY_AFTER
    assert parse_retry_after(None) == DEFAULT_RETRY_AFTER


def test_timeout_is_transient_and_the_retried_create_makes_one_render(fake_heygen: FakeHeyGen) -> None:
    """A create slower than the timeout fails transiently; while upstream still works on it a retry gets
    409 request_in_progress (transient too); once it is done the retry returns the same video."""
    provider = HeyGenProvider(fake_heygen.api_key, fake_heygen.base_url, timeout=1.0)
    release = fake_heygen.hold_next("create")              # upstream hangs until released: always past 1 s
    with pytest.raises(TransientProviderError) as timed_out:
        provider.create_video(RENDER, idempotency_key="slow-1")
    assert timed_out.value.code == "timeout"
    with pytest.raises(TransientProviderError) as busy:
        provider.create_video(RENDER, idempotency_key="slow-1")
    assert busy.value.code == "request_in_progress" and busy.value.status == 409
    release()
    deadline = time.monotonic() + 120                       # generous: the held create finishes upstream
    while not fake_heygen.renders_created:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    video_id = provider.create_video(RENDER, idempotency_key="slow-1")
    assert list(fake_heygen.videos) == [video_id] and fake_heygen.renders_created == 1
    provider.close()


def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]                        # nothing listens once closed
    provider = HeyGenProvider("key", f"http://127.0.0.1:{port}", timeout=1.0)
    with pytest.raises(TransientProviderError) as failure:
        provider.get_status("vid_1")
    assert failure.value.code == "connection_error"


def test_client_errors_are_permanent_with_heygen_code(fake_heygen: FakeHeyGen,
                                                      heygen_provider: HeyGenProvider) -> None:
    """400 validation, 401 bad key, 404 unknown video and 402 credit all fail at once, code kept."""
    with pytest.raises(PermanentProviderError) as invalid:
        heygen_provider.create_video(RenderRequest(avatar_id="nope", voice_id="voice_0", script="x"),
                                     idempotency_key="k")
    assert (invalid.value.status, invalid.value.code) == (400, "invalid_parameter")
    with pytest.raises(PermanentProviderError) as missing:
        heygen_provider.get_status("vid_unknown")
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    fake_heygen.fail_next("create", status=402, code="insufficient_credit")
    with pytest.raises(PermanentProviderError) as broke:
        heygen_provider.create_video(RENDER, idempotency_key="k")
    assert (broke.value.status, broke.value.code) == (402, "insufficient_credit")
    wrong_key = HeyGenProvider("not-the-key", fake_heygen.base_url, timeout=1.0)
    with pytest.raises(PermanentProviderError) as unauthorized:
        list(wrong_key.list_voices())
    assert (unauthorized.value.status, unauthorized.value.code) == (401, "unauthorized")
    assert fake_heygen.renders_created == 0


def test_status_moves_from_rendering_to_completed_with_media(fake_heygen: FakeHeyGen,
                                                             heygen_provider: HeyGenProvider) -> None:
    fake_heygen.render_seconds = 60
    video_id = heygen_provider.create_video(RENDER, idempotency_key="s1")
    assert heygen_provider.get_status(video_id).state == "rendering"
    fake_heygen.advance(30)
    assert heygen_provider.get_status(video_id).state == "rendering"
    fake_heygen.advance(31)
    done = heygen_provider.get_status(video_id)
    assert done.state == "completed" and done.duration == 2.0
    assert done.video_url and done.video_url.startswith(fake_heygen.base_url + "/media/")
    assert done.thumbnail_url and "X-Amz-Signature=" in done.thumbnail_url
    assert fake_heygen.status_calls[video_id] == 3


def test_failed_render_carries_failure_code_and_message(fake_heygen: FakeHeyGen,
                                                        heygen_provider: HeyGenProvider) -> None:
    fake_heygen.fail_next_render("voice_not_usable", "The voice cannot speak this language.")
    video_id = heygen_provider.create_video(RENDER, idempotency_key="f1")
    status = heygen_provider.get_status(video_id)
    assert (status.state, status.failure_code, status.failure_message) == (
        "failed", "voice_not_usable", "The voice cannot speak this language.")
    assert status.video_url is None


def test_download_streams_media_without_sending_the_api_key(fake_heygen: FakeHeyGen,
                                                            heygen_provider: HeyGenProvider,
                                                            tmp_path: Path) -> None:
    video_id = heygen_provider.create_video(RENDER, idempotency_key="d1")
    status = heygen_provider.get_status(video_id)
    assert status.video_url and status.thumbnail_url
    heygen_provider.download(status.video_url, str(tmp_path / "out" / "video.mp4"))
    heygen_provider.download(status.thumbnail_url, str(tmp_path / "out" / "thumb.jpg"))
    sample_video, _ = sample_media()
    assert (tmp_path / "out" / "video.mp4").read_bytes() == sample_video.read_bytes()
    assert (tmp_path / "out" / "thumb.jpg").read_bytes()[:2] == b"\xff\xd8"
    media_requests = [r for r in fake_heygen.requests if r.route == "media"]
    assert len(media_requests) == 2
    assert all("X-Api-Key" not in r.headers and "Authorization" not in r.headers for r in media_requests)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["thumb.jpg", "video.mp4"]


def test_expired_media_url_is_transient_and_leaves_no_file(fake_heygen: FakeHeyGen,
                                                           heygen_provider: HeyGenProvider,
                                                           tmp_path: Path) -> None:
    """A 403 from a presigned URL means "fetch a fresh URL", so the job retries through get_status."""
    video_id = heygen_provider.create_video(RENDER, idempotency_key="e1")
    url = heygen_provider.get_status(video_id).video_url
    assert url
    fake_heygen.media_expired = True
    with pytest.raises(TransientProviderError) as expired:
        heygen_provider.download(url, str(tmp_path / "video.mp4"))
    assert expired.value.code == "media_url_expired"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(PermanentProviderError):
        heygen_provider.download("file:///etc/passwd", str(tmp_path / "x"))


def test_register_webhook_returns_endpoint_id_and_secret(fake_heygen: FakeHeyGen,
                                                         heygen_provider: HeyGenProvider) -> None:
    endpoint_id, secret = heygen_provider.register_webhook("https://genvid.example/api/webhooks/heygen")
    assert secret.startswith("whsec_")
    endpoint = fake_heygen.endpoints[endpoint_id]
    assert endpoint["url"] == "https://genvid.example/api/webhooks/heygen"
    assert endpoint["events"] == ["avatar_video.success", "avatar_video.fail"]
    with pytest.raises(PermanentProviderError) as refused:
        heygen_provider.register_webhook("http://insecure.example/hook", events=None)
    assert refused.value.code == "invalid_parameter"


def _signed(secret: str, body: bytes, timestamp: int, **extra: str) -> dict[str, str]:
    return {"Heygen-Signature": webhook_signature(secret, body), "Heygen-Timestamp": str(timestamp),
            "Heygen-Event-Id": "evt_1", **extra}


SECRET = "whsec_test-secret"
BODY = json.dumps({"event_type": "avatar_video.success",
                   "event_data": {"video_id": "vid_1", "url": "https://x/v.mp4"}}).encode()
NOW = 1_800_000_000


def test_verify_webhook_accepts_a_genuine_delivery() -> None:
    """Hex HMAC-SHA256 of the raw body keyed with the whole whsec_ secret; the event id header is kept."""
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    payload = verify_webhook(SECRET, {"heygen-signature": expected, "heygen-timestamp": str(NOW),
                                      "heygen-event-id": "evt_9"}, BODY, now=NOW + 10)
    assert payload["event_data"]["video_id"] == "vid_1" and payload["event_id"] == "evt_9"


def test_verify_webhook_accepts_the_timestamp_dot_body_variant() -> None:
    """UNCONFIRMED scheme: "<timestamp>.<body>" signatures are accepted too during rollout."""
    signature = webhook_signature(SECRET, BODY, str(NOW))
    headers = {"Heygen-Signature": f"v1={signature}", "Heygen-Timestamp": str(NOW)}
    assert verify_webhook(SECRET, headers, BODY, now=NOW)["event_type"] == "avatar_video.success"


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "stale", "future", "no_signature",
                                  "no_timestamp", "bad_timestamp", "not_json", "no_secret"])
def test_verify_webhook_refuses_untrusted_deliveries(case: str) -> None:
    secret, body, now = SECRET, BODY, NOW
    headers: dict[str, Any] = _signed(SECRET, BODY, NOW)
    if case == "tampered":
        body = BODY.replace(b"vid_1", b"vid_2")
    elif case == "wrong_secret":
        headers = _signed("whsec_other", BODY, NOW)
    elif case == "stale":
        now = NOW + 301
    elif case == "future":
        now = NOW - 301
    elif case == "no_signature":
        del headers["Heygen-Signature"]
    elif case == "no_timestamp":
        del headers["Heygen-Timestamp"]
    elif case == "bad_timestamp":
        headers["Heygen-Timestamp"] = "yesterday"
    elif case == "not_json":
        body = b"not json"
        headers = _signed(SECRET, body, NOW)
    elif case == "no_secret":
        secret = ""
    with pytest.raises(InvalidWebhook) as refused:
        verify_webhook(secret, headers, body, now=now)
    assert refused.value.status == 400 and refused.value.code == "INVALID_WEBHOOK"


def test_fake_signed_delivery_verifies_over_real_http(fake_heygen: FakeHeyGen,
                                                      heygen_provider: HeyGenProvider,
                                                      live_server: Any) -> None:
    """Register, render, and let the fake deliver its signed event to a receiver using verify_webhook."""
    endpoint_id, secret = heygen_provider.register_webhook("https://genvid.example/api/webhooks/heygen")
    received: list[dict[str, Any]] = []
    receiver = Flask("receiver")

    @receiver.post("/hook")
    def hook() -> Any:
        try:
            received.append(
                verify_webhook(secret, dict(request.headers), request.get_data(), now=time.time()))
        except InvalidWebhook as exc:
            return jsonify(error=exc.reason), 400
        return jsonify(ok=True)

    url = live_server(receiver) + "/hook"
    video_id = heygen_provider.create_video(RENDER, idempotency_key="w1")
    assert fake_heygen.deliver_due_webhooks(url_override=url) == 1
    assert received[0]["event_type"] == "avatar_video.success"
    assert received[0]["event_data"]["video_id"] == video_id and received[0]["event_id"].startswith("evt_")
    forged = fake_heygen.send_webhook(url, fake_heygen.event_for(video_id), secret="whsec_forged")
    stale = fake_heygen.send_webhook(url, fake_heygen.event_for(video_id), secret=secret,
                                     timestamp=int(time.time()) - 3600)
    unsigned = fake_heygen.send_webhook(url, fake_heygen.event_for(video_id), secret=secret,
                                        omit=["Heygen-Signature"])
    assert [r.status_code for r in (forged, stale, unsigned)] == [400, 400, 400]
    assert len(received) == 1 and endpoint_id in fake_heygen.endpoints


def test_fake_runs_standalone_for_benchmarks() -> None:
    """`python -m tests.fakes.heygen --port 0` prints its base URL and serves the production client."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.heygen", "--port", "0", "--render-seconds", "0"],
        cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        provider = HeyGenProvider("fake-heygen-key", base_url, timeout=5.0)
        video_id = provider.create_video(RENDER, idempotency_key="bench-1")
        assert provider.get_status(video_id).state == "completed"
        assert len(list(provider.list_voices())) == 4
        provider.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
