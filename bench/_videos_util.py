"""Plumbing for bench/videos.py: one embedded PostgreSQL + Redis, a fresh database per phase, the Procfile's
processes (gunicorn web, `genvid worker`), funded users, a multi-user load run, and a timed fake HeyGen.

Each phase gets its own PostgreSQL database and Redis db number, so videos queued by one phase are never
rendered (or dispatched again) by the workers of another.
"""
from __future__ import annotations

import base64
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fakes.heygen import API_KEY, FakeHeyGen  # type: ignore[import-not-found]  # tests/ is on sys.path above

from bench._util import free_port, process_tree, start, stop
from genvid.infra import embedded
from genvid.infra.migrations import apply_migrations

BIN = Path(sys.executable).parent
ORIGIN = "http://localhost:5173"
__all__ = ["API_KEY", "BIN", "ROOT", "Services", "Stack", "TimedFake"]
PASSWORD = "correct horse battery staple"
logging.getLogger("werkzeug").setLevel(logging.WARNING)      # the fake's per-request access log
SESSION_COOKIES = ("better-auth.session_token", "__Secure-better-auth.session_token")


class Services:
    """One embedded PostgreSQL and Redis for the whole run, under a temporary directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pgdata = workdir / "pg"
        self.admin_url = embedded.start_postgres(self.pgdata)
        self.redis_base = embedded.start_redis(workdir / "redis")
        self._redis_db = 0

    def close(self) -> None:
        """Stop PostgreSQL and Redis now, before their temporary directory is removed under them."""
        embedded.stop_all()

    def fresh(self, name: str) -> tuple[str, str]:
        """(DATABASE_URL, REDIS_URL) of a new, migrated database and an unused Redis db number."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')       # name is ours, never user input
        parts = urlsplit(self.admin_url)
        database_url = urlunsplit(parts._replace(path=f"/{name}"))
        _quietly(apply_migrations, database_url)
        self._redis_db += 1
        return database_url, self.redis_base.replace("db=0", f"db={self._redis_db}")


def _quietly(func: Any, *args: Any) -> Any:
    """Call func with file descriptor 1 on /dev/null (something under yoyo prints a psql-style table)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            return func(*args)
        finally:
            os.dup2(saved, 1)
            os.close(saved)


class Stack:
    """The processes of one phase, all sharing one environment, as the Procfile runs them."""

    def __init__(self, services: Services, name: str, **extra: str) -> None:
        self.database_url, self.redis_url = services.fresh(name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                    "BETTER_AUTH_SECRET": secrets.token_urlsafe(48), "BETTER_AUTH_URL": self.url,
                    "ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                    "TRUSTED_ORIGINS": ORIGIN, "ENVIRONMENT": "production", "RATE_LIMIT": "off",
                    "BCRYPT_ROUNDS": "4",            # only sign-up hashes here; no measured request does
                    "MEDIA_DIR": str(services.workdir / f"media-{name}"), "PORT": str(self.port),
                    "PATH": f"{BIN}:{os.environ['PATH']}", **extra}
        self.processes: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> str:
        """Run `genvid ARGS` in this environment; its stdout."""
        done = subprocess.run([str(BIN / "genvid"), *args], env=self.env, cwd=str(ROOT), capture_output=True,
                              text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"genvid {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def web(self) -> None:
        """`gunicorn -c gunicorn.conf.py wsgi:app` (the Procfile's web line)."""
        self.gunicorn = start([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], env=self.env,
                              port=self.port, cwd=str(ROOT))
        self.processes.append(self.gunicorn)

    def web_workers(self) -> list[int]:
        """The pids of gunicorn's workers, not its master. max_requests recycles workers, so read them afresh
        for each measurement."""
        return process_tree(self.gunicorn.pid)[1:]

    def worker(self) -> subprocess.Popen[bytes]:
        """`genvid worker` (the Procfile's worker line)."""
        process = subprocess.Popen([str(BIN / "genvid"), "worker"], env=self.env, cwd=str(ROOT),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def check_alive(self) -> None:
        """Raise when a server or worker of this phase has exited
        (rather than wait for videos that never move)."""
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                stop(process)
        self.processes.clear()

    def users(self, count: int, credits: int) -> list[dict[str, Any]]:
        """count signed-up users holding credits: {"id", "email", "cookie"} (the session cookie header)."""
        def sign_up(index: int) -> dict[str, Any]:
            email = f"bench-{index}-{uuid.uuid4().hex[:8]}@example.com"
            response = requests.post(f"{self.url}/api/auth/sign-up/email", headers={"Origin": ORIGIN},
                                     timeout=60, json={"email": email, "password": PASSWORD, "name": "Bench"})
            response.raise_for_status()
            cookie = "; ".join(f"{name}={value}" for name, value in response.cookies.items()
                               if name in SESSION_COOKIES)
            return {"id": response.json()["user"]["id"], "email": email, "cookie": cookie}

        with ThreadPoolExecutor(4) as pool:
            users = list(pool.map(sign_up, range(count)))
        from genvid.billing import ledger
        with psycopg.connect(self.database_url) as conn:
            for user in users:
                ledger.grant(conn, user_id=user["id"], credits=credits, reason="bench",
                             reference=f"bench-{uuid.uuid4().hex}")
        return users

    def headers(self, user: dict[str, Any]) -> dict[str, str]:
        """What a browser on the trusted front-end origin sends."""
        return {"Cookie": user["cookie"], "Origin": ORIGIN, "Content-Type": "application/json"}

    def first_ids(self, user: dict[str, Any]) -> tuple[str, str]:
        """An avatar id and a voice id from the synced catalogue, through the API."""
        avatars = requests.get(f"{self.url}/api/avatars", headers=self.headers(user),
                               timeout=30).json()["data"]
        voices = requests.get(f"{self.url}/api/voices", headers=self.headers(user), timeout=30).json()["data"]
        return avatars[0]["id"], voices[0]["id"]

    def status_counts(self) -> dict[str, int]:
        """Videos by status, read straight from the database (observation only)."""
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute("SELECT status::text, count(*) FROM videos GROUP BY status").fetchall()
        return {status: int(count) for status, count in rows}


class TimedFake(FakeHeyGen):
    """The fake HeyGen, also noting when each render was created and when each status call came."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.status_times: dict[str, list[float]] = defaultdict(list)
        self._times_lock = threading.Lock()

    def _status(self, request: Request, video_id: str) -> Response:
        with self._times_lock:
            self.status_times[video_id].append(time.monotonic())
        return super()._status(request, video_id)

    def in_flight(self) -> int:
        """Renders created and not yet finished upstream."""
        with self._lock:
            return sum(1 for video_id in list(self.videos)
                       if self.video_state(video_id) in ("pending", "processing"))

    def created_at(self, video_id: str) -> float:
        """Monotonic time of the create (the fake's clock is never advanced in benchmarks)."""
        return self.videos[video_id].created_at
