"""One psycopg connection pool per process, opened lazily after fork, and the transaction() helper.

Pooled connections are in autocommit mode: connection() hands one out as it is (a read, or one statement
that is atomic on its own), transaction() wraps it in BEGIN ... COMMIT. So neither switches modes per
checkout, and a connection always goes back to the pool outside any transaction.

gunicorn and rq fork worker processes; a pool opened in the parent would share sockets with its children.
So the pool remembers the pid that opened it and a child opens its own on first use.

When PostgreSQL is unreachable, callers get DatabaseUnavailable (an OperationalError; the API answers 503
with Retry-After) at once instead of waiting out the pool's timeout. The pool cannot tell a caller that: its
background reconnects back off to 16 s and more, and a caller just waits. So this module keeps the state
itself. A connection that breaks, or an idle one that fails its check, leads to one direct connection
attempt (the probe, giving up after CONNECT_TIMEOUT_SECONDS). If that fails PostgreSQL is down: the pool is
closed (waiting callers are released) and, until a probe succeeds, every caller is refused without trying,
except one probe per probe interval per process. The first successful probe opens a fresh pool, so service
returns within one probe interval of PostgreSQL answering again. If the probe succeeds PostgreSQL restarted
under us: the pool is drained (every older connection is dead too) and the caller carries on unaware.
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
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

log = logging.getLogger("genvid.database")

CONNECT_TIMEOUT_SECONDS = 2       # libpq's minimum; a host that does not answer costs at most this
RETRY_AFTER_SECONDS = 2           # what a refused caller is told to wait
POOL_TIMEOUT_SECONDS = 10         # waiting for a connection while every one is in use (the database is up)

_lock = threading.Lock()
_settings: dict[str, object] = {}
_pool: ConnectionPool | None = None
_pool_pid: int | None = None


class DatabaseUnavailable(psycopg.OperationalError):
    """PostgreSQL cannot serve this caller right now (down, restarting, or every connection busy)."""

    retry_after = RETRY_AFTER_SECONDS


class _Availability:
    """Whether PostgreSQL answered this process's last attempt, and when a refused caller may probe again."""

    def __init__(self, probe_interval: float) -> None:
        self.pid = os.getpid()
        self.probe_interval = probe_interval
        self.down = False
        self.next_probe = 0.0

    def mark_down(self) -> None:
        self.down = True
        self.next_probe = time.monotonic() + self.probe_interval


_availability = _Availability(0.5)


def configure(url: str, *, max_size: int = 10, statement_timeout_ms: int = 15000,
              probe_interval: float = 0.5) -> None:
    """Set what the pool connects to; the pool itself opens on first use in each process.

    probe_interval: while PostgreSQL is down, how often (seconds) this process tries it again.
    """
    global _settings, _availability
    close()
    _settings = {"url": url, "max_size": max_size, "statement_timeout_ms": statement_timeout_ms}
    _availability = _Availability(probe_interval)


def configured_url() -> str:
    """The database URL this process uses (raises if configure() was not called)."""
    if not _settings:
        raise RuntimeError("database.configure() was not called")
    return str(_settings["url"])


def pool() -> ConnectionPool:
    """This process's pool, opened now if it has none yet; DatabaseUnavailable while PostgreSQL is down."""
    global _pool, _pool_pid, _availability
    state = _availability
    if _pool is not None and _pool_pid == os.getpid() and not state.down:
        return _pool
    if state.pid != os.getpid():           # a forked child starts from scratch, like its pool
        state = _availability = _Availability(state.probe_interval)
    if state.down and time.monotonic() < state.next_probe:
        raise DatabaseUnavailable("PostgreSQL is unavailable")       # at once: no connection attempt
    with _lock:
        if _pool is None or _pool_pid != os.getpid() or state.down:
            if not _settings:
                raise RuntimeError("database.configure() was not called")
            if state.down and time.monotonic() < state.next_probe:
                raise DatabaseUnavailable("PostgreSQL is unavailable")   # another caller just probed
            # Probe before opening: a pool would not say that PostgreSQL is down, it would keep its caller
            # waiting for the pool timeout while it retries in the background.
            if not _answers():
                state.mark_down()
                raise DatabaseUnavailable("PostgreSQL is unavailable")
            if state.down:
                log.warning("PostgreSQL answers again; reopening the pool")
                state.down = False
            timeout = int(_settings["statement_timeout_ms"])  # type: ignore[call-overload]
            _pool = ConnectionPool(
                str(_settings["url"]),
                min_size=1,
                max_size=int(_settings["max_size"]),  # type: ignore[call-overload]
                kwargs={"options": f"-c statement_timeout={timeout}", "autocommit": True,
                        "connect_timeout": CONNECT_TIMEOUT_SECONDS},
                open=True,
                name=f"genvid-{os.getpid()}",
                timeout=POOL_TIMEOUT_SECONDS,
            )
            _pool_pid = os.getpid()
    return _pool


def _answers() -> bool:
    """One direct connection attempt: does PostgreSQL accept and serve a connection right now?"""
    try:
        ping()
        return True
    except psycopg.Error:
        return False


def _mark_down_unless_it_answers(owner: ConnectionPool) -> None:
    """A connection broke. If PostgreSQL still answers, it restarted: the pool's older connections are dead
    too, so drain them and return. Otherwise close the pool (which releases callers waiting on it), refuse
    callers until a probe succeeds, and raise DatabaseUnavailable."""
    global _pool, _pool_pid
    if _answers():
        owner.drain()
        return
    with _lock:
        if not _availability.down:
            log.error("PostgreSQL is unavailable; refusing database work until it answers again")
        _availability.mark_down()
        if _pool is owner:
            _pool, _pool_pid = None, None
    owner.close(timeout=0)
    raise DatabaseUnavailable("PostgreSQL is unavailable")


# A connection handed back less than this long ago was just proven alive; checking it again would add a
# round trip to every request. One idle for longer (a database restart may have cut it) is checked first.
# connection() (which transaction() goes through) stamps a connection when it hands it back. (The pool's
# `reset` callback could, but a pool with one hands every returned connection to its worker thread: a thread
# switch per request that cost get-session a measurable share of its throughput, bench/auth.py.)
_CHECK_AFTER_IDLE_SECONDS = 5.0
_last_used: weakref.WeakKeyDictionary[psycopg.Connection, float] = weakref.WeakKeyDictionary()


def _checked_out(owner: ConnectionPool) -> psycopg.Connection:
    """A working connection from owner: one idle for a while is checked first, and replaced if it was cut."""
    for _ in range(2):
        try:
            conn = owner.getconn()
        except (PoolTimeout, PoolClosed) as exc:
            # Every connection busy for the pool's timeout, or another caller closed the pool on finding
            # PostgreSQL down while this one waited.
            raise DatabaseUnavailable("no database connection became free") from exc
        if time.monotonic() - _last_used.get(conn, 0.0) <= _CHECK_AFTER_IDLE_SECONDS:
            return conn
        try:
            ConnectionPool.check_connection(conn)
            return conn
        except psycopg.Error:
            owner.putconn(conn)                      # broken: the pool discards it
            _mark_down_unless_it_answers(owner)      # raises when PostgreSQL is down; else drained, try again
    raise DatabaseUnavailable("PostgreSQL keeps cutting connections")


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
    conn = _checked_out(owner)
    broken: psycopg.OperationalError | None = None
    try:
        yield conn
    except psycopg.OperationalError as exc:
        if not conn.broken or isinstance(exc, DatabaseUnavailable):
            raise                                    # e.g. a statement timeout: the connection is fine
        broken = exc
    finally:
        _last_used[conn] = time.monotonic()
        owner.putconn(conn)
    if broken is not None:
        _mark_down_unless_it_answers(owner)          # raises DatabaseUnavailable when PostgreSQL is down
        raise DatabaseUnavailable("the database connection broke") from broken


def ping() -> None:
    """Raise if PostgreSQL cannot answer a trivial query right now."""
    with psycopg.connect(configured_url(), connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True) as conn:
        conn.execute("SELECT 1")


def close() -> None:
    """Close this process's pool (no-op in a child that never opened one)."""
    global _pool, _pool_pid
    with _lock:
        if _pool is not None and _pool_pid == os.getpid():
            _pool.close()
        _pool, _pool_pid = None, None


atexit.register(close)
