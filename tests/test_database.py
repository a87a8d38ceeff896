"""The per-process pool: connections cut while idle (a database restart, a failover) are replaced unseen,
every connection goes back to the pool clean, and while PostgreSQL is down callers are refused at once
(tests/test_outage_postgres.py stops and kills a real one under gunicorn)."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from genvid.infra import database


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


def test_a_connection_cut_while_idle_is_replaced_before_use(app, conn,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
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


class CountingListener:
    """A TCP port that accepts connections and closes them at once, counting them: a PostgreSQL that is down
    in the most telling way (each connection attempt is visible, and fails at once)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.accepted = 0
        self.url = f"postgresql://nobody@127.0.0.1:{self.sock.getsockname()[1]}/nothing?sslmode=disable"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            client.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def unreachable(app, services) -> Iterator[CountingListener]:  # type: ignore[no-untyped-def]
    listener = CountingListener()
    yield listener
    listener.close()
    database.configure(services.database_url)


def test_connections_give_up_within_two_seconds(app) -> None:  # type: ignore[no-untyped-def]
    """A host that does not answer costs a caller at most libpq's connect_timeout: pooled connections and the
    availability probe both use it (the seconds themselves are measured by bench/outage.py)."""
    assert database.CONNECT_TIMEOUT_SECONDS == 2
    assert database.pool().kwargs["connect_timeout"] == database.CONNECT_TIMEOUT_SECONDS


def test_while_postgres_is_down_callers_are_refused_without_trying(unreachable: CountingListener) -> None:
    """The first caller finds PostgreSQL down with one connection attempt; until the probe interval has passed
    every caller is refused at once, without a single further attempt, and never waits for the pool."""
    database.configure(unreachable.url, probe_interval=3600)
    with pytest.raises(database.DatabaseUnavailable), database.connection():
        pass
    attempts = unreachable.accepted
    assert attempts >= 1
    for _ in range(50):
        with pytest.raises(database.DatabaseUnavailable), database.transaction():
            pass
    assert unreachable.accepted == attempts


def test_once_the_probe_interval_passes_a_caller_tries_again(unreachable: CountingListener) -> None:
    database.configure(unreachable.url, probe_interval=0)
    for expected in range(1, 4):
        with pytest.raises(database.DatabaseUnavailable), database.connection():
            pass
        wait_until = time.monotonic() + 30
        while unreachable.accepted < expected and time.monotonic() < wait_until:
            time.sleep(0.01)
        assert unreachable.accepted >= expected


def test_a_statement_timeout_is_not_an_outage(app) -> None:  # type: ignore[no-untyped-def]
    """A cancelled statement leaves its connection usable: the error is the query's, not PostgreSQL's."""
    with pytest.raises(psycopg.errors.QueryCanceled) as raised, database.connection() as conn:
        conn.execute("SET statement_timeout = 10")
        conn.execute("SELECT pg_sleep(5)")
    assert not isinstance(raised.value, database.DatabaseUnavailable)
    with database.connection() as conn:
        conn.execute("SET statement_timeout = DEFAULT")
        assert conn.execute("SELECT 1").fetchone() == (1,)
