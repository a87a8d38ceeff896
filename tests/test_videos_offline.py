"""The offline renderer end to end through the API and a real worker, and the SSE status stream."""
from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped]
import pytest
from flask import Flask
from videos_fixtures import Studio, listen


@pytest.fixture
def offline(make_app: Callable[..., Flask], make_studio: Callable[..., Studio]) -> Studio:
    """VIDEO_PROVIDER=local with small frames (CONFIG_FILE key local_render_height) to keep tests quick."""
    return make_studio(make_app(video_provider="local", local_render_height=120))


def _decoded_seconds(path: Path) -> float:
    """Decode every frame with the bundled ffmpeg (fails on a broken file) and read the container duration."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "info", "-i", str(path), "-f", "null", "-"]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    match = re.search(r"Duration: (\d+):(\d+):(\d+\.\d+)", result.stderr)
    assert match, result.stderr[-2000:]
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_local_render_produces_a_playable_mp4(offline: Studio, tmp_path: Path) -> None:
    """queued -> completed with the offline renderer; the stored MP4 decodes and lasts as reported."""
    user_id, headers = offline.user(credits=5)
    script = "Welcome to genvid. This video was rendered on this machine, with no outside account."
    video = offline.create(headers, script=script, title="Offline").get_json()["data"]
    (row,) = offline.drive(video["id"])
    assert row.status.value == "completed", (row.failure_code, row.failure_message)
    shown = offline.client.get(f"/api/videos/{video['id']}", headers=headers).get_json()["data"]
    assert shown["duration"] and shown["duration"] > 1
    download = offline.client.get(shown["video_url"])
    assert download.status_code == 200
    path = tmp_path / "out.mp4"
    path.write_bytes(download.data)
    assert abs(_decoded_seconds(path) - shown["duration"]) < 0.5
    assert offline.client.get(shown["thumbnail_url"]).status_code == 200
    assert offline.balance(user_id) == 4


def test_a_video_says_when_its_soundtrack_is_silent(make_app: Callable[..., Flask],
                                                   make_studio: Callable[..., Studio],
                                                    offline: Studio) -> None:
    """With speech (the default: the bundled eSpeak NG) a video has no warnings; with no speech engine
    (CONFIG_FILE local_speech "none") it completes all the same and its JSON carries a silent_audio
    warning."""
    _, headers = offline.user()
    spoken = offline.create(headers, script="I can be heard.").get_json()["data"]["id"]
    offline.drive(spoken)
    assert offline.client.get(f"/api/videos/{spoken}", headers=headers).get_json()["data"]["warnings"] == []

    quiet = make_studio(make_app(video_provider="local", local_render_height=120, local_speech="none"))
    _, quiet_headers = quiet.user()
    video_id = quiet.create(quiet_headers, script="Nobody can hear me.").get_json()["data"]["id"]
    (row,) = quiet.drive(video_id)
    assert row.status.value == "completed"
    shown = quiet.client.get(f"/api/videos/{video_id}", headers=quiet_headers).get_json()["data"]
    assert [w["code"] for w in shown["warnings"]] == ["silent_audio"]
    assert "silent" in shown["warnings"][0]["message"]
    quiet.sync_catalogue()                      # the daily sync: nothing can say a voice sample any more
    voices = quiet.client.get("/api/voices", headers=quiet_headers).get_json()["data"]
    assert voices and all(voice["preview_audio_url"] is None for voice in voices)


def test_events_stream_status_changes_until_final(offline: Studio) -> None:
    """GET /api/videos/{id}/events: SSE snapshots from queued to completed, then the stream ends."""
    _, headers = offline.user()
    video_id = offline.create(headers).get_json()["data"]["id"]
    listener = listen(offline.client, f"/api/videos/{video_id}/events", headers)
    offline.drive(video_id)
    listener.thread.join(timeout=120)              # generous: a loaded machine can be slow to wake it
    assert not listener.thread.is_alive()
    statuses = re.findall(r'"status": "(\w+)"', listener.text())
    assert statuses[0] == "queued" and statuses[-1] == "completed"
    assert listener.text().count("event: status") == len(statuses)
    # A stream opened after the end sends the final state once and closes.
    with offline.client.get(f"/api/videos/{video_id}/events", headers=headers) as response:
        late = response.get_data(as_text=True)
    assert late.count("event: status") == 1 and '"status": "completed"' in late


def test_event_streams_are_capped_per_process(offline: Studio) -> None:
    """Streams hold a web thread each: over the per-process cap the API answers 503 instead of starving."""
    from genvid.videos import events
    _, headers = offline.user()
    video_id = offline.create(headers).get_json()["data"]["id"]
    taken = 0
    while events.try_open_stream():
        taken += 1
    try:
        with offline.client.get(f"/api/videos/{video_id}/events", headers=headers) as refused:
            assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
            assert refused.get_json()["error"]["code"] == "TOO_MANY_STREAMS"
    finally:
        for _ in range(taken):
            events.close_stream()
    offline.drive(video_id)
    for _ in range(events.MAX_STREAMS_PER_PROCESS + 2):     # closed streams give their slot back
        with offline.client.get(f"/api/videos/{video_id}/events", headers=headers) as response:
            assert response.status_code == 200 and "event: status" in response.get_data(as_text=True)
