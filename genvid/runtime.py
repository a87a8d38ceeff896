"""Process-wide wiring: the Config this process runs with, and its database and Redis set up from it.

Web processes call init() from create_app(); worker and CLI processes call it at start. Domain code and jobs
that have no Flask app read the configuration through config().
"""
from __future__ import annotations

from genvid.config import Config
from genvid.infra import database, redis_client

_config: Config | None = None


def init(config: Config) -> Config:
    """Start embedded services when no URL is set, point the pool and Redis client at them, remember config."""
    global _config
    if config.database_url is None or config.redis_url is None:
        from genvid.infra import (
            embedded,  # only development and tests ever start embedded services
        )
        config = embedded.ensure_services(config)
    assert config.database_url is not None and config.redis_url is not None
    database.configure(config.database_url, max_size=config.db_pool_size,
                       statement_timeout_ms=config.statement_timeout_ms)
    redis_client.configure(config.redis_url)
    _config = config
    return config


def config() -> Config:
    """The Config this process was initialised with."""
    if _config is None:
        raise RuntimeError("genvid.runtime.init() was not called in this process")
    return _config
