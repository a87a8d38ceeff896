"""What a process's entry point does first, and the one place code outside a request finds its Config.

start(config) is called once by each entry point, never by create_app(): wsgi.py for the web process,
`genvid worker`, the `genvid` commands that touch the database (and the test suite's fixtures, which stand in
for them). It starts embedded PostgreSQL and Redis where no URL is set (development and tests only), points
this process's database pool and Redis client at them, sets up JSON-lines logging, and remembers the Config.

started_config() is for code that runs outside any request and is not handed a Config: RQ jobs, whose
arguments are ids (a Config holds secrets, so it never travels through Redis). Request code reads the Config
of the app serving it (genvid.http.app_config.app_config()), never this one.
"""
from __future__ import annotations

from genvid.config import Config
from genvid.infra import database, embedded, logs, redis_client

_started: Config | None = None


def start(config: Config) -> Config:
    """Connect this process to its services as config says; returns config with both URLs set."""
    global _started
    if config.database_url is None or config.redis_url is None:
        config = embedded.ensure_services(config)
    assert config.database_url is not None and config.redis_url is not None
    logs.setup(config.log_level)
    database.configure(config.database_url, max_size=config.db_pool_size,
                       statement_timeout_ms=config.statement_timeout_ms)
    redis_client.configure(config.redis_url)
    _started = config
    return config


def started_config() -> Config:
    """The Config this process's entry point passed to start()."""
    if _started is None:
        raise RuntimeError("genvid.infra.services.start() was not called in this process")
    return _started
