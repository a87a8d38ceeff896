"""The per-process pool: connections cut while idle (a database restart, a failover) are replaced unseen,
and every connection goes back to the pool clean."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from genvid import database


@contextmanager
def every_pooled_connection() -> Iterator[list[psycopg.Connection]]:
    """All connections the pool holds right now, checked out together and handed back afterwards."""
    pool = database.pool()
    held = [pool.getconn() for _ in range(pool.get_stats()["pool_size"])]
    try:
        yield held
    finally:
        for conn in held:
            pool.putconn(conn)


def test_a_connection_cut_while_idle_is_replaced_before_use(app, conn, monkeypatch: pytest.MonkeyPatch) -> None:
    with every_pooled_connection() as held:
        before = {pooled.info.backend_pid for pooled in held}
    for pid in before:       # as a PostgreSQL restart would cut them
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    # Every connection counts as idle from now on, as one would after a quiet spell.
    monkeypatch.setattr(database, "_CHECK_AFTER_IDLE_SECONDS", -1.0)

    with database.connection() as fresh:
        assert fresh.execute("SELECT 41 + 1").fetchone() == (42,)
        assert fresh.info.backend_pid not in before
    with database.transaction() as tx:
        assert tx.execute("SELECT 1").fetchone() == (1,)


def test_connections_return_to_the_pool_ready_for_the_next_request(app) -> None:
    """Handed back in place (no reset hook, no worker thread), yet every pooled connection is outside any
    transaction and in autocommit mode, whatever the last user did with it."""
    with database.transaction() as tx:
        tx.execute("SELECT 1")
    with database.connection() as auto:
        assert auto.autocommit is True
        auto.execute("SELECT 1")
    with pytest.raises(psycopg.errors.DivisionByZero), database.transaction() as failing:
        failing.execute("SELECT 1 / 0")
    with database.connection() as careless:
        careless.execute("BEGIN")           # and never committed
    with every_pooled_connection() as held:
        assert held
        for pooled in held:
            assert pooled.autocommit is True
            assert pooled.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_transaction_commits_on_success_and_rolls_back_on_error(app, conn) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS tx_probe (n int)")
    conn.execute("TRUNCATE tx_probe")
    with database.transaction() as tx:
        tx.execute("INSERT INTO tx_probe VALUES (1)")
    with pytest.raises(psycopg.errors.DivisionByZero), database.transaction() as tx:
        tx.execute("INSERT INTO tx_probe VALUES (2)")
        tx.execute("SELECT 1 / 0")
    with pytest.raises(RuntimeError), database.transaction() as tx:
        tx.execute("INSERT INTO tx_probe VALUES (3)")
        raise RuntimeError("the handler failed after writing")
    assert conn.execute("SELECT array_agg(n) FROM tx_probe").fetchone() == ([1],)
    conn.execute("DROP TABLE tx_probe")
