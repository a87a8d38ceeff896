"""The credit ledger: every change of a user's credits is one append-only entry, applied at most once.

Each entry is keyed by (reason, reference), unique in SQL, and the user's balance row is changed in the same
transaction as the insert, so the balance is always the sum of the ledger. Every function runs inside the
caller's transaction and a refusal leaves it usable: a debit is one conditional statement, the others work
in a savepoint.

One other statement writes credits: videos' CreatePaidVideo (queries/videos_videos.sql) debits a render in
the same statement that inserts the video, for speed; it follows DebitOnce's rules exactly (reason RENDER,
reference the video id, never below zero), and tests/test_videos_create_atomic.py holds it to them.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.pq import TransactionStatus

import db.billing_ledger as queries
from genvid.errors import AppError

RENDER = "render"                  # debit for a video render, reference = video id
RENDER_REFUND = "render_refund"    # the same amount back when a render fails, reference = video id


class InsufficientCredits(AppError):
    """The balance does not cover the render (or is negative after a refund clawback)."""

    status, code, message = 402, "INSUFFICIENT_CREDITS", "Not enough credits. Buy a credit pack to continue."


def balance(conn: psycopg.Connection, *, user_id: str) -> int:
    """The user's current balance (0 for a user who never had an entry)."""
    value = queries.get_balance(conn, user_id=user_id)
    return 0 if value is None else value


def debit_for_render(conn: psycopg.Connection, *, user_id: str, video_id: str, credits: int) -> None:
    """Take credits for rendering video_id, once; raises InsufficientCredits when the balance cannot cover them.

    One statement (a create pays for it on every request): it locks the user's balance row if it covers the
    credits, records the entry only then, and takes the credits only if the entry is new, so an entry exists
    exactly when its credits were taken and a refusal changes nothing (the caller's transaction stays usable,
    no savepoint needed). A second call for the same video is a no-op, even when the balance could no longer
    cover it: its insert meets the unique key, or, when the balance is now short, the follow-up read (a new
    statement, so it sees what a concurrent first call committed while this one waited on the row lock) finds
    the entry. Concurrent debits queue on the row lock, so they can never overdraw.
    """
    if credits <= 0:
        raise ValueError("a render costs a positive number of credits")
    if queries.debit_once(conn, user_id=user_id, credits=credits, reason=RENDER, reference=video_id):
        return
    if queries.get_ledger_entry(conn, reason=RENDER, reference=video_id) is None:
        raise InsufficientCredits()


def refund_render(conn: psycopg.Connection, *, user_id: str, video_id: str) -> bool:
    """Give back exactly what debit_for_render took for video_id: True if refunded now, False if already or never debited."""
    debit = queries.get_ledger_entry(conn, reason=RENDER, reference=video_id)
    if debit is None or debit.user_id != user_id:
        return False
    return _apply(conn, user_id=user_id, delta=-debit.delta, reason=RENDER_REFUND, reference=video_id)


def grant(conn: psycopg.Connection, *, user_id: str, credits: int, reason: str, reference: str) -> bool:
    """Add credits once per (reason, reference): True when granted now, False when already granted."""
    if credits < 0:
        raise ValueError("a grant adds credits; use claw_back to take them")
    return _apply(conn, user_id=user_id, delta=credits, reason=reason, reference=reference)


def claw_back(conn: psycopg.Connection, *, user_id: str, credits: int, reason: str, reference: str) -> bool:
    """Take credits back once per (reason, reference), unconditionally: the balance may go negative."""
    if credits < 0:
        raise ValueError("claw_back takes a positive number of credits")
    return _apply(conn, user_id=user_id, delta=-credits, reason=reason, reference=reference)


@contextmanager
def _savepoint(conn: psycopg.Connection, *, user_id: str) -> Iterator[None]:
    """A savepoint inside the caller's transaction.

    On an idle non-autocommit connection psycopg's transaction() would BEGIN and COMMIT on its own, committing
    the caller's later work separately; a read first opens the caller's implicit transaction, so the block
    below is only a savepoint and the caller still decides whether everything commits.
    """
    if not conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:
        queries.get_balance(conn, user_id=user_id)
    with conn.transaction():
        yield


def _apply(conn: psycopg.Connection, *, user_id: str, delta: int, reason: str, reference: str) -> bool:
    with _savepoint(conn, user_id=user_id):
        entry = queries.insert_ledger_entry(conn, user_id=user_id, delta=delta, reason=reason,
                                            reference=reference)
        if entry is None:
            return False
        queries.add_to_balance(conn, user_id=user_id, delta=delta)
    return True
