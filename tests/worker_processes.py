"""Real `genvid worker` processes for tests that kill them (SIGKILL) mid-job: started in their own process
group on the test's PostgreSQL and Redis, with a CONFIG_FILE of timing knobs, and killed with their group at
the end whatever a test left running. Waits are on conditions, with deadlines generous for a machine many
times slower than needed."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from conftest import Services

from genvid.config import Config

ROOT = Path(__file__).resolve().parent.parent
# Short knobs, only so that a killed worker's step is dispatched again soon (nothing is asserted on them).
WORKER_TUNING = {"render_poll_seconds": 1, "render_retry_base_seconds": 0.5, "render_lease_seconds": 5,
                 "render_redispatch_seconds": 5, "heygen_timeout_seconds": 10}


def wait(condition: Callable[[], bool], what: str, timeout: float = 180) -> None:
    """Until condition() holds; fails after timeout seconds (a hang, not a slow machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def worker_env(services: Services, config: Config, tmp_path: Path, tuning: dict[str, object],
               **extra: str) -> dict[str, str]:
    """The environment of a worker process: the test's services and secrets, tuning as its CONFIG_FILE."""
    config_file = tmp_path / f"worker-config-{len(list(tmp_path.glob('worker-config-*')))}.json"
    config_file.write_text(json.dumps(tuning))
    return {**os.environ, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
            "GENVID_DATA_DIR": config.data_dir, "MEDIA_DIR": config.media_dir, "LOG_LEVEL": "WARNING",
            "BETTER_AUTH_SECRET": config.better_auth_secret, "ENCRYPTION_KEY": config.encryption_key,
            "CONFIG_FILE": str(config_file), **extra}


@contextlib.contextmanager
def worker_processes(env: dict[str, str]) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """start() launches a `genvid worker`; at the end each one's process group is killed, whatever a test
    left running in it."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-m", "genvid.cli", "worker"], cwd=ROOT, env=env,
                                start_new_session=True)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker alone (not its process group): what the kernel's OOM killer or a crash does."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
