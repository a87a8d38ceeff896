"""The container image (`make image`, which .ci/run calls): the root Dockerfile built with buildah on a Debian
base made locally (container/base-image.sh), then started as each Procfile process type with the host's
network, against a PostgreSQL and a TLS-only Redis given by URL: release migrates, web answers /health (also
through the image's own HEALTHCHECK command) and /ready on the PORT it is given, worker starts.
Runs only with --image; the build's duration and the image's size are printed (run with -s to see them).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from dynos import ROOT
from fakes.heygen import API_KEY, FakeHeyGen
from servers import free_port, postgres, require, tls_redis, wait_for_port

pytestmark = pytest.mark.image

IMAGE = "localhost/genvid:latest"
BUILD_CA = "/run/build-ca.crt"


def build_arguments() -> list[str]:
    """What this machine needs: its CA bundle mounted read-only for pip (a TLS-inspecting proxy), and apt's
    date checks off when the host's apt has them off (a clock ahead of the mirror's Release files)."""
    arguments = []
    ca_file = ssl.get_default_verify_paths().cafile
    if ca_file and Path(ca_file).is_file():
        arguments += ["-v", f"{ca_file}:{BUILD_CA}:ro", "--build-arg", f"BUILD_CA_BUNDLE={BUILD_CA}"]
    apt = subprocess.run(["apt-config", "dump"], capture_output=True, text=True, check=False).stdout
    if 'Acquire::Check-Valid-Until "false"' in apt:
        arguments += ["--build-arg",
                      "APT_OPTIONS=-o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false"]
    return arguments


@pytest.fixture(scope="module")
def image() -> str:
    buildah = require("buildah", "buildah")
    require("podman", "podman")
    require("debootstrap", "debootstrap")
    started = time.monotonic()
    subprocess.run(["bash", str(ROOT / "container" / "base-image.sh")], check=True, timeout=900)
    print(f"\n  {time.monotonic() - started:7.2f} s  base image (debootstrap, or present already)")
    started = time.monotonic()
    build = subprocess.run(
        [buildah, "bud", "--isolation", "chroot", "--format", "docker", "--layers", "--quiet",
         *build_arguments(), "-t", IMAGE, str(ROOT)], capture_output=True, text=True,
        timeout=1800, check=False)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    size = int(
        subprocess.run(["podman", "image", "inspect", "--format", "{{.Size}}", IMAGE], capture_output=True,
                       text=True, check=True).stdout)
    print(f"  {time.monotonic() - started:7.2f} s  buildah bud; image {IMAGE}: {size / 1e6:.1f} MB")
    return IMAGE


@pytest.fixture
def container(image: str) -> Iterator[str]:
    """A working container of the image (buildah's, which `buildah run` runs commands in)."""
    name = subprocess.run(["buildah", "from", "--quiet", image], capture_output=True, text=True,
                          check=True).stdout.strip()
    yield name
    subprocess.run(["buildah", "rm", name], capture_output=True, check=False)


def _run(container: str, env: dict[str, str], *command: str, background: bool = False,
         log: Path | None = None) -> Any:
    """`buildah run` with chroot isolation and the host's network (running containers through crun is not
    permitted on these machines); the image's user, working directory and environment apply."""
    arguments = ["buildah", "run", "--isolation", "chroot", "--network", "host"]
    for name, value in env.items():
        arguments += ["--env", f"{name}={value}"]
    arguments += [container, "--", *command]
    if background:
        assert log is not None
        return subprocess.Popen(arguments, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)
    return subprocess.run(arguments, capture_output=True, text=True, timeout=300, check=False)


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()]
    except OSError:
        return []


def _process_type(run: subprocess.Popen[bytes]) -> int | None:
    """The process type's own process under `buildah run` (below buildah's chroot runtime processes)."""
    pending = _children(run.pid)
    while pending:
        pid = pending.pop(0)
        with contextlib.suppress(OSError):
            if "buildah" not in Path(f"/proc/{pid}/comm").read_text():
                return pid
        pending += _children(pid)
    return None


def _stop(run: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process type, as a platform stops a container (buildah itself would kill it outright);
    buildah then exits with the process type's own status."""
    pid = _process_type(run)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        run.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)


def _inspect(image: str) -> dict[str, Any]:
    answer: list[dict[str, Any]] = json.loads(subprocess.run(["podman", "image", "inspect", image],
                                                             capture_output=True, text=True,
                                                             check=True).stdout)
    return answer[0]


def test_image_is_configured_for_a_platform(image: str) -> None:
    """Non-root user, the Procfile runner as entrypoint (web by default), PORT, a HEALTHCHECK on /health."""
    config = _inspect(image)["Config"]
    assert config["User"] == "genvid"
    assert config["Entrypoint"] == ["procfile-run"] and config["Cmd"] == ["web"]
    assert "PORT=8080" in config["Env"] and "ENVIRONMENT=production" in config["Env"]
    assert "8080/tcp" in config["ExposedPorts"]
    assert "/health" in " ".join(_inspect(image)["Healthcheck"]["Test"])


def test_release_web_and_worker_run_from_the_image(container: str, tmp_path: Path) -> None:
    assert _run(container, {}, "id", "-u").stdout.strip() not in ("", "0")
    fake = FakeHeyGen(page_size=50, require_https_webhooks=False)
    fake.start()
    with postgres() as database_url, tls_redis(tmp_path / "redis") as redis_url:
        port = free_port()
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "PORT": str(port),
               "BETTER_AUTH_SECRET": secrets.token_hex(32), "ENCRYPTION_KEY": secrets.token_hex(32),
               "BETTER_AUTH_URL": f"http://127.0.0.1:{port}", "HEYGEN_API_KEY": API_KEY,
               "HEYGEN_API_BASE": fake.base_url, "WEB_CONCURRENCY": "1"}
        release = _run(container, env, "procfile-run", "release")
        assert release.returncode == 0 and re.search(r"migrations applied: [1-9]", release.stdout), release
        web = _run(container, env, "procfile-run", "web", background=True, log=tmp_path / "web.log")
        worker = _run(container, env, "procfile-run", "worker", background=True, log=tmp_path / "worker.log")
        try:
            wait_for_port(port, timeout=120)
            assert requests.get(f"http://127.0.0.1:{port}/health", timeout=10).json() == {"status": "ok"}
            assert requests.get(f"http://127.0.0.1:{port}/ready", timeout=10).status_code == 200
            test = _inspect(IMAGE)["Healthcheck"]["Test"]
            assert test[0] == "CMD"
            assert _run(container, env, *test[1:]).returncode == 0
            deadline = time.monotonic() + 120
            while '"worker starting"' not in (tmp_path / "worker.log").read_text(errors="replace"):
                assert worker.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "worker.log").read_text()
                time.sleep(0.2)
            # No MEDIA_STORAGE_URL here: production says, once per process, that media stays on this disk.
            assert (tmp_path / "web.log").read_text(errors="replace").count(
                "MEDIA_STORAGE_URL is not set") == 1
        finally:
            _stop(web)
            _stop(worker)
            fake.stop()
        assert web.returncode == 0, (tmp_path / "web.log").read_text()[-3000:]      # a graceful SIGTERM
        assert worker.returncode == 0, (tmp_path / "worker.log").read_text()[-3000:]
