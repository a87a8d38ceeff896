"""The Procfile's processes for real: gunicorn serving, an RQ worker, the CLI's db commands."""
from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
import pytest
import requests
from conftest import Services
from rq import Queue
from rq.job import Job
from servers import free_port

from genvid.infra import redis_client

pytestmark = pytest.mark.slow     # started first: the suite runs in parallel sessions

ROOT = Path(__file__).resolve().parent.parent


def _env(services, tmp_path: Path, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**os.environ, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
            "ENVIRONMENT": "development", "GENVID_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING",
            **extra}


def _genvid(*args: str) -> list[str]:
    return [sys.executable, "-m", "genvid.cli", *args]


def _wait_for(url: str, timeout: float = 180) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=2)
        # not up yet, or a worker still booting under load
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _stop(proc: subprocess.Popen, timeout: float = 120) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=timeout)


def test_serve_answers_health_on_port_and_stops_cleanly(services, tmp_path: Path, app) -> None:  # type: ignore[no-untyped-def]
    """gunicorn as the Procfile runs it: PORT and WEB_CONCURRENCY honoured,
    SIGTERM leaves no process behind."""
    port = free_port()
    proc = subprocess.Popen(_genvid("serve"), cwd=ROOT, env=_env(services, tmp_path, PORT=str(port),
                                                                  WEB_CONCURRENCY="2"))
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/health")
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        gunicorn_master = psutil.Process(proc.pid).children()[0]
        # The app is preloaded in the master, which then forks the workers one after another: the first may
        # answer before the second exists.
        deadline = time.monotonic() + 120
        while len(gunicorn_master.children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(gunicorn_master.children()) == 2
        descendants = psutil.Process(proc.pid).children(recursive=True)
    finally:
        code = _stop(proc)
    assert code == 0
    _gone, alive = psutil.wait_procs(descendants, timeout=60)
    assert not alive


def test_worker_runs_jobs_and_stops_gracefully_on_sigterm(services, tmp_path: Path, app) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.Popen(_genvid("worker"), cwd=ROOT, env=_env(services, tmp_path))
    try:
        job = Queue("default", connection=redis_client.connect(services.redis_url)).enqueue("os.getpid")
        deadline = time.monotonic() + 180
        while job.get_status(refresh=True) != "finished":
            assert time.monotonic() < deadline, job.get_status()
            time.sleep(0.2)
        connection = redis_client.connect(services.redis_url)
        assert isinstance(Job.fetch(job.id, connection=connection).return_value(), int)
    finally:
        code = _stop(proc)
    assert code == 0


@pytest.fixture
def scratch_database(services):  # type: ignore[no-untyped-def]
    name = f"genvid_reset_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(services.database_url)._replace(path=f"/{name}"))
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_db_reset_drops_everything_and_migrates_again(services: Services, scratch_database: str,
                                                      tmp_path: Path) -> None:
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE leftover (id int)")
    env = _env(services, tmp_path, DATABASE_URL=scratch_database)
    refused = subprocess.run(_genvid("db", "reset"), cwd=ROOT, env=env, capture_output=True, text=True,
                             check=False)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    done = subprocess.run(_genvid("db", "reset", "--yes"), cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(scratch_database) as conn:
        tables = {
            row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert "leftover" not in tables and "_yoyo_migration" in tables


def test_db_reset_is_refused_in_production(services, scratch_database: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE precious (id int)")
    env = _env(services, tmp_path, DATABASE_URL=scratch_database, ENVIRONMENT="production",
               BETTER_AUTH_SECRET="p" * 40, ENCRYPTION_KEY=base64.b64encode(b"e" * 32).decode())
    result = subprocess.run(_genvid("db", "reset", "--yes"), cwd=ROOT, env=env, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 2
    assert "refused" in result.stderr
    with psycopg.connect(scratch_database) as conn:
        assert conn.execute("SELECT to_regclass('public.precious')").fetchone() == ("precious",)
