"""Embedded PostgreSQL and Redis: start, serve, stop, restart with data kept, share,
survive a killed owner."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest
import redis

pytestmark = pytest.mark.slow     # started first: the suite runs in parallel sessions

ROOT = Path(__file__).resolve().parent.parent

# A process that starts (or attaches to) both services, reports their URLs, then waits for stdin to close.
OWNER = """
import json, sys
from pathlib import Path
from genvid.infra import embedded
data = Path(sys.argv[1])
print(json.dumps({"db": embedded.start_postgres(data / "postgres"),
                  "redis": embedded.start_redis(data / "redis")}),
      flush=True)
sys.stdin.read()
"""


def _start_owner(data_dir: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-c", OWNER, str(data_dir)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    urls = json.loads(proc.stdout.readline())
    return proc, urls


def _finish(proc: subprocess.Popen) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2)


def _service_processes(data_dir: Path) -> list[psutil.Process]:
    """The live PostgreSQL and Redis processes of data_dir. A zombie (exited, not yet reaped by its parent)
    has no command line to read and runs nothing, so it does not count."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if str(data_dir) in cmdline and proc.info["name"] in ("postgres", "redis-server"):
            found.append(proc)
    return found


def test_services_keep_their_data_across_a_restart_and_leave_nothing_running(tmp_path: Path) -> None:
    proc, urls = _start_owner(tmp_path)
    with psycopg.connect(urls["db"], autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('across restarts')")
    _redis(urls["redis"]).set("kept", "across restarts")
    _finish(proc)
    assert not _service_processes(tmp_path)
    assert not Path(urls["redis"].removeprefix("unix://").split("?")[0]).exists()

    proc, urls_again = _start_owner(tmp_path)
    try:
        assert urls_again == urls
        with psycopg.connect(urls["db"]) as conn:
            assert conn.execute("SELECT value FROM kept").fetchone() == ("across restarts",)
        assert _redis(urls["redis"]).get("kept") == b"across restarts"
    finally:
        _finish(proc)
    assert not _service_processes(tmp_path)


def test_a_second_process_shares_the_running_instances(tmp_path: Path) -> None:
    first, urls = _start_owner(tmp_path)
    second, second_urls = _start_owner(tmp_path)
    try:
        assert second_urls == urls
        postgres = [p for p in _service_processes(tmp_path) if p.info["name"] == "postgres"]
        redis_servers = [p for p in _service_processes(tmp_path) if p.info["name"] == "redis-server"]
        assert len(redis_servers) == 1
        postmasters = [p for p in postgres if p.ppid() not in {q.pid for q in postgres}]
        assert len(postmasters) == 1
        _finish(second)                          # the sharer leaving must not stop the owner's services
        with psycopg.connect(urls["db"]) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert _redis(urls["redis"]).ping()
    finally:
        _finish(first)
    assert not _service_processes(tmp_path)


def test_a_killed_owner_does_not_break_the_next_start(tmp_path: Path) -> None:
    """SIGKILL leaves pid files and sockets behind; the next start recovers and the data is there."""
    proc, urls = _start_owner(tmp_path)
    _redis(urls["redis"]).set("before", "kill")
    _redis(urls["redis"]).save()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 60             # redis-server follows its owner (PR_SET_PDEATHSIG)
    while any(p.info["name"] == "redis-server" for p in _service_processes(tmp_path)):
        assert time.monotonic() < deadline
        time.sleep(0.1)

    proc, urls_again = _start_owner(tmp_path)
    try:
        assert _redis(urls_again["redis"]).get("before") == b"kill"
        with psycopg.connect(urls_again["db"]) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        _finish(proc)
    _gone, alive = psutil.wait_procs(_service_processes(tmp_path), timeout=60)
    assert not alive, "the next owner stops what the killed one left running"
