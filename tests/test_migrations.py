"""Migrations: apply on an empty database, are idempotent, and are safe to run from two processes at once."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from genvid.infra.migrations import MIGRATIONS_DIR, MigrationsMissing, apply_migrations

ROOT = Path(__file__).resolve().parent.parent


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def empty_database(services) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A brand-new database on the session's PostgreSQL, dropped afterwards."""
    name = f"genvid_empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(services.database_url, name)
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _applied(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            row[0] for row in conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY migration_id")]


def _expected_ids() -> list[str]:
    return sorted(path.stem for path in MIGRATIONS_DIR.glob("*.sql") if not path.stem.endswith(".rollback"))


def test_migrations_apply_on_an_empty_database_and_then_do_nothing(empty_database: str) -> None:
    assert apply_migrations(empty_database) == _expected_ids()
    assert apply_migrations(empty_database) == []
    assert _applied(empty_database) == _expected_ids()


def test_migrations_are_forward_only() -> None:
    """sqlc reads migrations/ as its schema, so a yoyo rollback file would feed it DROPs."""
    assert not list(MIGRATIONS_DIR.glob("*.rollback.sql"))
    assert not list(MIGRATIONS_DIR.glob("*.down.sql"))


def test_two_processes_migrating_at_once_apply_each_migration_once(empty_database: str, services) -> None:  # type: ignore[no-untyped-def]
    """The release step may run on two dynos at once; both succeed and nothing is applied twice."""
    env = {**os.environ, "DATABASE_URL": empty_database, "REDIS_URL": services.redis_url,
           "ENVIRONMENT": "development", "GENVID_DATA_DIR": str(ROOT / ".genvid-test")}
    procs = [subprocess.Popen([sys.executable, "-m", "genvid.cli", "migrate"], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=240) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert _applied(empty_database) == _expected_ids()


def test_a_missing_migrations_folder_fails_instead_of_applying_nothing(empty_database: str,
                                                                       tmp_path: Path) -> None:
    """A release that finds no migration files is a broken install, not an up-to-date database."""
    with pytest.raises(MigrationsMissing):
        apply_migrations(empty_database, tmp_path / "nowhere")
