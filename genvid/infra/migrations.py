"""Schema migrations with yoyo: apply (safe to run from many processes at once) and development reset."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import psycopg
from yoyo import get_backend, read_migrations

from genvid.config import Config
from genvid.errors import Forbidden

log = logging.getLogger("genvid.migrate")


class MigrationsMissing(RuntimeError):
    """No migration files where genvid looked: a broken install, never a database that is up to date."""


def find_migrations_dir() -> Path:
    """The repository's migrations/ (a checkout or an editable install), else the copy a wheel install puts
    under sys.prefix/share/genvid/migrations (setup.cfg data_files): in a production install the package
    lives in site-packages, away from the repository."""
    candidates = (Path(__file__).resolve().parents[2] / "migrations",
                  Path(sys.prefix) / "share" / "genvid" / "migrations")
    return next((path for path in candidates if any(path.glob("*.sql"))), candidates[0])


MIGRATIONS_DIR = find_migrations_dir()
# Any fixed number works; it only has to be the same in every genvid process.
_MIGRATION_LOCK_ID = 0x67656E766964


def _yoyo_url(database_url: str) -> str:
    return database_url.replace("postgresql://", "postgresql+psycopg://", 1)


def apply_migrations(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every pending migration; returns the ids applied. Concurrent callers wait for each other.

    yoyo's own lock table is created lazily, so two first runs can still collide on creating it; a
    PostgreSQL advisory lock held for the whole run serialises them instead.
    """
    with psycopg.connect(database_url, autocommit=True) as lock_conn:
        lock_conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK_ID,))
        try:
            backend = get_backend(_yoyo_url(database_url))
            migrations = read_migrations(str(migrations_dir))
            if not migrations:   # yoyo reads a missing folder as "nothing to do"; a release must not
                raise MigrationsMissing(f"no migrations found in {migrations_dir}")
            with backend.lock():
                pending = backend.to_apply(migrations)
                backend.apply_migrations(pending)
            applied = [m.id for m in pending]
            log.info("migrations applied", extra={"applied": applied})
            return applied
        finally:
            lock_conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK_ID,))


def reset_database(config: Config) -> list[str]:
    """Drop and re-create the public schema, then migrate. Development and test only."""
    if config.is_production:
        raise Forbidden("RESET_REFUSED", "db reset is refused when ENVIRONMENT=production.")
    assert config.database_url is not None
    with psycopg.connect(config.database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return apply_migrations(config.database_url)
