"""`make run` offline, end to end, timed: what a new developer sees on a fresh checkout with no accounts.

    .venv/bin/python bench/offline_e2e.py

Starts `genvid dev` (what `make run` runs) with a temporary GENVID_DATA_DIR and MEDIA_DIR and no DATABASE_URL
or REDIS_URL (so the embedded PostgreSQL and Redis start, and the offline renderer is the provider), signs up
through /api/auth/sign-up/email, grants credits with `genvid credits grant EMAIL 100 --reason bench`, POSTs a
video with a built-in avatar and voice, waits for `completed`, downloads the MP4 through the API's signed URL
and checks it decodes (ffprobe-free: the ffmpeg binary of imageio-ffmpeg reads it back).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._util import free_port, wait_for_port

BIN = Path(sys.executable).parent
ORIGIN = "http://localhost:5173"
SCRIPT = "Hello! This video was rendered offline by genvid, with no outside account."


def _poll(what: str, check: object, timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()                                    # type: ignore[operator]
        if value:
            return value
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def run() -> dict[str, float]:
    """Seconds for each step and in all; raises when any step fails."""
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="genvid-offline-") as tmp:
        port = free_port()
        env = {key: value for key, value in os.environ.items()
               if key not in ("DATABASE_URL", "REDIS_URL", "HEYGEN_API_KEY", "VIDEO_PROVIDER", "ENVIRONMENT")}
        env.update(GENVID_DATA_DIR=str(Path(tmp) / "data"), MEDIA_DIR=str(Path(tmp) / "media"),
                   PORT=str(port), TRUSTED_ORIGINS=ORIGIN, PATH=f"{BIN}:{os.environ['PATH']}")
        base = f"http://127.0.0.1:{port}"
        began = time.monotonic()
        dev = subprocess.Popen([str(BIN / "genvid"), "dev"], env=env, cwd=str(ROOT),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for_port(port, dev, timeout=120)
            _poll("/ready", lambda: _ready(base), 60)
            timings["genvid dev: start to serving (s)"] = time.monotonic() - began
            step = time.monotonic()
            email = "offline@example.com"
            signed_up = requests.post(f"{base}/api/auth/sign-up/email", headers={"Origin": ORIGIN},
                                      timeout=60,
                                      json={"email": email, "password": "correct horse battery staple",
                                            "name": "Offline"})
            signed_up.raise_for_status()
            headers = {"Origin": ORIGIN,
                       "Cookie": "; ".join(f"{k}={v}" for k, v in signed_up.cookies.items())}
            subprocess.run([str(BIN / "genvid"), "credits", "grant", email, "100", "--reason", "bench"],
                           env=env, cwd=str(ROOT), check=True, capture_output=True, timeout=120)
            avatars = _poll("the built-in catalogue", lambda: requests.get(
                f"{base}/api/avatars", headers=headers, timeout=30).json().get("data"), 60)
            voices = requests.get(f"{base}/api/voices", headers=headers, timeout=30).json()["data"]
            timings["sign-up, credits grant, catalogue (s)"] = time.monotonic() - step
            step = time.monotonic()
            created = requests.post(f"{base}/api/videos", headers=headers, timeout=60,
                                    json={"avatar_id": avatars[0]["id"], "voice_id": voices[0]["id"],   # type: ignore[index]
                                          "script": SCRIPT, "captions": True})
            if created.status_code != 202:
                raise RuntimeError(f"POST /api/videos answered {created.status_code}: {created.text[:300]}")
            video_id = created.json()["data"]["id"]
            video = _poll("the render", lambda: _finished(base, video_id, headers), 300)
            timings["POST /api/videos to completed (s)"] = time.monotonic() - step
            assert isinstance(video, dict)
            if video["status"] != "completed":
                raise RuntimeError(f"the render ended {video['status']}: {video.get('failure_message')}")
            step = time.monotonic()
            mp4 = requests.get(video["video_url"], timeout=60)            # the signed link; no cookie needed
            mp4.raise_for_status()
            path = Path(tmp) / "video.mp4"
            path.write_bytes(mp4.content)
            timings["download through the signed URL (s)"] = time.monotonic() - step
            timings["MP4 size (KiB)"] = len(mp4.content) / 1024
            timings["MP4 decoded duration (s)"] = _decoded_seconds(path)
            timings["total: genvid dev start to MP4 on disk (s)"] = time.monotonic() - began
        finally:
            if dev.poll() is None:
                os.killpg(dev.pid, signal.SIGTERM)             # genvid dev stops web, worker and services
                try:
                    dev.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    os.killpg(dev.pid, signal.SIGKILL)
    return timings


def _ready(base: str) -> bool:
    try:
        return requests.get(f"{base}/ready", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _finished(base: str, video_id: str, headers: dict[str, str]) -> dict[str, object] | None:
    video = requests.get(f"{base}/api/videos/{video_id}", headers=headers, timeout=30).json()["data"]
    return video if video["status"] in ("completed", "failed", "cancelled") else None


def _decoded_seconds(path: Path) -> float:
    """Decode the whole file with ffmpeg (errors fail the bench) and return its duration in seconds."""
    import imageio_ffmpeg  # type: ignore[import-untyped]
    done = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-xerror", "-i", str(path), "-f", "null",
         "-"], capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the downloaded MP4 does not decode: {done.stderr[-500:]}")
    _frames, duration = imageio_ffmpeg.count_frames_and_secs(str(path))
    return float(duration)


def main() -> None:
    timings = run()
    for name, seconds in timings.items():
        print(f"  {name:44s} {seconds:8.1f}")


if __name__ == "__main__":
    main()
