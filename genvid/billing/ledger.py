"""The credit ledger: every change of a user's credits is one append-only entry, applied at most once.

The rules, and where each lives:
- Each entry is keyed by (reason, reference), unique in SQL (migrations/0003_billing.sql), so it is recorded
  at most once, however often it is retried.
- The balance is the sum of the ledger: the insert of an entry moves the user's balance by its delta, in the
  same statement, and nothing else writes a balance. The database keeps this rule, in one place
  (migrations/0010_ledger_balance_trigger.sql); whoever records an entry only inserts it.
- Grants, refunds and clawbacks are unconditional (a clawback may take the balance below zero); a render, or a
  batch of them, is paid for only when the balance covers it.

This module records grants, refunds and clawbacks, each inside the caller's transaction, in a savepoint, so a
refusal leaves that transaction usable. Renders are paid for by the one statement that creates a video
(CreatePaidVideo in queries/videos_videos.sql, so a create is one round trip): it locks the user's balance row
only if it covers the price and records the entry (reason RENDER, reference the video id), or writes nothing.
A batch of renders is paid for the same way, whole, by CreatePaidBatch (queries/batches_batches.sql): one
entry (reason BATCH, reference the batch id) for every row. What a batch row costs comes back once, by
whichever happens to it: its render fails (RENDER_REFUND, reference the video id, refund_batch_render), or a
cancel stops it before it started (one BATCH_REFUND entry per batch for all the rows that cancel stopped).
tests/test_billing_ledger.py and tests/test_videos_create_atomic.py hold them to the rules above.
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
BATCH = "batch"                    # debit for a whole batch of renders, reference = batch id
BATCH_REFUND = "batch_refund"      # the rows a batch cancel stopped, reference = batch id


class InsufficientCredits(AppError):
    """The balance does not cover the render (or is negative after a refund clawback)."""

    status, code, message = 402, "INSUFFICIENT_CREDITS", "Not enough credits. Buy a credit pack to continue."


def balance(conn: psycopg.Connection, *, user_id: str) -> int:
    """The user's current balance (0 for a user who never had an entry)."""
    value = queries.get_balance(conn, user_id=user_id)
    return 0 if value is None else value


def refund_render(conn: psycopg.Connection, *, user_id: str, video_id: str) -> bool:
    """Give back exactly what the render of video_id was charged: True if refunded now, False if already or
    never charged."""
    debit = queries.get_ledger_entry(conn, reason=RENDER, reference=video_id)
    if debit is None or debit.user_id != user_id:
        return False
    return _apply(conn, user_id=user_id, delta=-debit.delta, reason=RENDER_REFUND, reference=video_id)


def refund_batch_render(conn: psycopg.Connection, *, user_id: str, batch_id: str, video_id: str,
                        credits: int) -> bool:
    """Give back what one row of a batch cost (credits, the row's share of the batch's debit) when its render
    fails: True if refunded now, False if already, or if the batch was never charged to this user."""
    if not _charged_for_batch(conn, user_id=user_id, batch_id=batch_id, credits=credits):
        return False
    return _apply(conn, user_id=user_id, delta=credits, reason=RENDER_REFUND, reference=video_id)


def refund_batch_rows(conn: psycopg.Connection, *, user_id: str, batch_id: str, credits: int) -> bool:
    """Give back what the rows a cancel stopped cost, once per batch: True if refunded now, False if this
    batch had a cancel refund already (or was never charged to this user)."""
    if not _charged_for_batch(conn, user_id=user_id, batch_id=batch_id, credits=credits):
        return False
    return _apply(conn, user_id=user_id, delta=credits, reason=BATCH_REFUND, reference=batch_id)


def _charged_for_batch(conn: psycopg.Connection, *, user_id: str, batch_id: str, credits: int) -> bool:
    """The batch's debit exists, is this user's and covers credits
    (a refund never gives back more than paid)."""
    debit = queries.get_ledger_entry(conn, reason=BATCH, reference=batch_id)
    return debit is not None and debit.user_id == user_id and 0 < credits <= -debit.delta


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
    return entry is not None
