"""One psycopg connection pool per process, opened lazily after fork, and the transaction() helper.

Pooled connections are in autocommit mode: connection() hands one out as it is (a read, or one statement
that is atomic on its own), transaction() wraps it in BEGIN ... COMMIT. So neither switches modes per
checkout, and a connection always goes back to the pool outside any transaction.

gunicorn and rq fork worker processes; a pool opened in the parent would share sockets with its children.
So the pool remembers the pid that opened it and a child opens its own on first use.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool

log = logging.getLogger("genvid.database")

_lock = threading.Lock()
_settings: dict[str, object] = {}
_pool: ConnectionPool | None = None
_pool_pid: int | None = None


def configure(url: str, *, max_size: int = 10, statement_timeout_ms: int = 15000) -> None:
    """Set what the pool connects to; the pool itself opens on first use in each process."""
    global _settings
    close()
    _settings = {"url": url, "max_size": max_size, "statement_timeout_ms": statement_timeout_ms}


def configured_url() -> str:
    """The database URL this process uses (raises if configure() was not called)."""
    if not _settings:
        raise RuntimeError("database.configure() was not called")
    return str(_settings["url"])


def pool() -> ConnectionPool:
    """This process's pool, opened now if this process has none yet."""
    global _pool, _pool_pid
    if _pool is not None and _pool_pid == os.getpid():
        return _pool
    with _lock:
        if _pool is None or _pool_pid != os.getpid():
            if not _settings:
                raise RuntimeError("database.configure() was not called")
            timeout = int(_settings["statement_timeout_ms"])  # type: ignore[call-overload]
            _pool = ConnectionPool(
                str(_settings["url"]),
                min_size=1,
                max_size=int(_settings["max_size"]),  # type: ignore[call-overload]
                kwargs={"options": f"-c statement_timeout={timeout}", "autocommit": True},
                check=_check_if_idle,
                open=True,
                name=f"genvid-{os.getpid()}",
                timeout=10,
            )
            _pool_pid = os.getpid()
    return _pool


# A connection handed back less than this long ago was just proven alive; checking it again would add a
# round trip to every request. One idle for longer (a database restart may have cut it) is checked first.
# connection() (which transaction() goes through) stamps a connection when it hands it back. (The pool's `reset` callback
# could, but a pool with one hands every returned connection to its worker thread: a thread switch per
# request that cost get-session a measurable share of its throughput, bench/auth.py.)
_CHECK_AFTER_IDLE_SECONDS = 5.0
_last_used: weakref.WeakKeyDictionary[psycopg.Connection, float] = weakref.WeakKeyDictionary()


def _check_if_idle(conn: psycopg.Connection) -> None:
    if time.monotonic() - _last_used.get(conn, 0.0) > _CHECK_AFTER_IDLE_SECONDS:
        ConnectionPool.check_connection(conn)


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """A connection inside one transaction: committed on success, rolled back on any exception."""
    with connection() as conn, conn.transaction():
        yield conn


@contextmanager
def connection() -> Iterator[psycopg.Connection]:
    """A connection in autocommit mode, for reads and single statements that need no transaction."""
    # getconn/putconn rather than the pool's connection(): that one also enters the connection's own context,
    # whose exit runs commit() through psycopg's wait loop though an autocommit connection has nothing to
    # commit. putconn still rolls back (and warns about) anything left open and discards a broken connection.
    owner = pool()
    conn = owner.getconn()
    try:
        yield conn
    finally:
        _last_used[conn] = time.monotonic()
        owner.putconn(conn)


def ping() -> None:
    """Raise if PostgreSQL cannot answer a trivial query right now."""
    with psycopg.connect(configured_url(), connect_timeout=2, autocommit=True) as conn:
        conn.execute("SELECT 1")


def close() -> None:
    """Close this process's pool (no-op in a child that never opened one)."""
    global _pool, _pool_pid
    with _lock:
        if _pool is not None and _pool_pid == os.getpid():
            _pool.close()
        _pool, _pool_pid = None, None


atexit.register(close)
