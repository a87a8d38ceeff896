"""/ready follows PostgreSQL's real state without restarting the app; /health never touches it."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pgserver
import pytest
from conftest import start_app
from pgserver._commands import pg_ctl


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[pgserver.PostgresServer]:
    """A PostgreSQL of this test's own, so stopping it disturbs no other test."""
    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    yield server
    if server.get_pid() is None:
        server.ensure_postgres_running()
    server.cleanup()


def test_ready_is_503_while_postgres_is_down_and_200_once_it_is_back(own_postgres, config) -> None:  # type: ignore[no-untyped-def]
    client = start_app(config.with_overrides(database_url=own_postgres.get_uri())).test_client()
    assert client.get("/ready").status_code == 200

    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=own_postgres.pgdata, user=own_postgres.system_user)
    down = client.get("/ready")
    assert down.status_code == 503
    assert down.get_json() == {"status": "unavailable", "down": ["postgres"]}
    assert client.get("/health").status_code == 200

    own_postgres.ensure_postgres_running()
    up = client.get("/ready")
    assert up.status_code == 200, up.get_json()


def test_ready_names_redis_when_redis_is_down(config) -> None:  # type: ignore[no-untyped-def]
    client = start_app(config.with_overrides(redis_url="unix:///nonexistent/redis.sock")).test_client()
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.get_json()["down"] == ["redis"]
