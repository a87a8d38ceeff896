"""The credit ledger: debits never overdraw, every entry happens once, the balance is the ledger's sum."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

import db.billing_ledger
from db import models
from genvid.billing import ledger


def _ledger_sum(conn: psycopg.Connection, user_id: str) -> int:
    entries = db.billing_ledger.list_ledger_page(conn, user_id=user_id, before_id=2**62, page_size=10_000)
    return sum(entry.delta for entry in entries)


def test_a_render_debit_is_one_ledger_entry_and_the_balance_follows(
        conn: psycopg.Connection, billing_user: models.User, fund: Callable[..., None],
        pay_for_render: Callable[..., bool]) -> None:
    fund(billing_user.id, 50)
    assert pay_for_render(billing_user.id, "vid_1", 20)
    assert ledger.balance(conn, user_id=billing_user.id) == 30
    entry = db.billing_ledger.get_ledger_entry(conn, reason="render", reference="vid_1")
    assert entry is not None and entry.delta == -20 and entry.user_id == billing_user.id
    assert _ledger_sum(conn, billing_user.id) == 30


def test_a_video_is_paid_for_once(conn: psycopg.Connection, billing_user: models.User,
                                  fund: Callable[..., None], pay_for_render: Callable[..., bool]) -> None:
    """Paying again for the same video fails as a whole: nothing more is taken or recorded."""
    fund(billing_user.id, 50)
    assert pay_for_render(billing_user.id, "vid_1", 20)
    with pytest.raises(psycopg.errors.UniqueViolation):
        pay_for_render(billing_user.id, "vid_1", 20)
    assert ledger.balance(conn, user_id=billing_user.id) == 30
    assert _ledger_sum(conn, billing_user.id) == 30


def test_a_render_the_balance_cannot_cover_records_nothing(conn: psycopg.Connection,
                                                           billing_user: models.User,
                                                           fund: Callable[..., None],
                                                           pay_for_render: Callable[..., bool]) -> None:
    fund(billing_user.id, 5)
    assert not pay_for_render(billing_user.id, "vid_1", 6)
    assert ledger.balance(conn, user_id=billing_user.id) == 5
    assert db.billing_ledger.get_ledger_entry(conn, reason="render", reference="vid_1") is None
    assert conn.execute("SELECT count(*) FROM videos").fetchone() == (0,)


def test_user_without_any_credits_cannot_render(conn: psycopg.Connection, billing_user: models.User,
                                                pay_for_render: Callable[..., bool]) -> None:
    """No balance row at all counts as zero."""
    assert not pay_for_render(billing_user.id, "vid_1", 1)
    assert ledger.balance(conn, user_id=billing_user.id) == 0


def test_refusal_keeps_the_callers_transaction_usable(billing_user: models.User, fund: Callable[..., None],
                                                      connect: Callable[[], psycopg.Connection],
                                                      conn: psycopg.Connection,
                                                      pay_for_render: Callable[..., bool]) -> None:
    """After a refused render the caller can still pay for another and commit, in the same transaction."""
    fund(billing_user.id, 5)
    with connect() as own:
        assert not pay_for_render(billing_user.id, "vid_big", 50, on=own)
        assert pay_for_render(billing_user.id, "vid_small", 5, on=own)
    assert ledger.balance(conn, user_id=billing_user.id) == 0
    assert db.billing_ledger.get_ledger_entry(conn, reason="render", reference="vid_big") is None


def test_debit_rolls_back_with_the_callers_transaction(billing_user: models.User, fund: Callable[..., None],
                                                       connect: Callable[[], psycopg.Connection],
                                                       conn: psycopg.Connection,
                                                       pay_for_render: Callable[..., bool]) -> None:
    """The debit is part of the caller's transaction: when the caller fails afterwards, nothing was taken."""
    fund(billing_user.id, 10)
    with connect() as own:
        assert pay_for_render(billing_user.id, "vid_1", 4, on=own)
        own.rollback()
    assert ledger.balance(conn, user_id=billing_user.id) == 10
    assert db.billing_ledger.get_ledger_entry(conn, reason="render", reference="vid_1") is None


def test_negative_balance_blocks_renders(conn: psycopg.Connection, billing_user: models.User,
                                         fund: Callable[..., None],
                                         pay_for_render: Callable[..., bool]) -> None:
    """A clawback may take the balance below zero; then every debit is refused until topped up."""
    fund(billing_user.id, 10)
    assert ledger.claw_back(conn, user_id=billing_user.id, credits=15, reason="refund", reference="ch_1:x")
    assert ledger.balance(conn, user_id=billing_user.id) == -5
    assert not pay_for_render(billing_user.id, "vid_1", 1)
    fund(billing_user.id, 6)
    assert pay_for_render(billing_user.id, "vid_1", 1)
    assert ledger.balance(conn, user_id=billing_user.id) == 0


def test_refund_gives_back_exactly_the_debit_once(conn: psycopg.Connection, billing_user: models.User,
                                                  fund: Callable[..., None],
                                                  pay_for_render: Callable[..., bool]) -> None:
    """A failed render's credits come back once; a second refund, or one for a video never debited,
    is False."""
    fund(billing_user.id, 30)
    assert pay_for_render(billing_user.id, "vid_1", 12)
    assert ledger.refund_render(conn, user_id=billing_user.id, video_id="vid_1") is True
    assert ledger.refund_render(conn, user_id=billing_user.id, video_id="vid_1") is False
    assert ledger.refund_render(conn, user_id=billing_user.id, video_id="vid_never") is False
    assert ledger.balance(conn, user_id=billing_user.id) == 30
    refund = db.billing_ledger.get_ledger_entry(conn, reason="render_refund", reference="vid_1")
    assert refund is not None and refund.delta == 12


def test_refund_of_another_users_video_is_refused(conn: psycopg.Connection, billing_user: models.User,
                                                  fund: Callable[..., None],
                                                  pay_for_render: Callable[..., bool]) -> None:
    """Credits go back only to the user who paid for the render."""
    from factories import create_user
    other = create_user(conn, email="other@example.com")
    fund(billing_user.id, 10)
    assert pay_for_render(billing_user.id, "vid_1", 10)
    assert ledger.refund_render(conn, user_id=other.id, video_id="vid_1") is False
    assert ledger.balance(conn, user_id=other.id) == 0
    assert ledger.balance(conn, user_id=billing_user.id) == 0


def test_grant_is_idempotent_by_reason_and_reference(conn: psycopg.Connection,
                                                     billing_user: models.User) -> None:
    """The same (reason, reference) grants once; another reference grants again."""
    assert ledger.grant(conn, user_id=billing_user.id, credits=100, reason="checkout", reference="cs_1")
    assert not ledger.grant(conn, user_id=billing_user.id, credits=100, reason="checkout", reference="cs_1")
    assert ledger.grant(conn, user_id=billing_user.id, credits=100, reason="checkout", reference="cs_2")
    assert ledger.balance(conn, user_id=billing_user.id) == 200


def test_twenty_concurrent_debits_over_a_balance_covering_ten(
        conn: psycopg.Connection, billing_user: models.User, fund: Callable[..., None],
        connect: Callable[[], psycopg.Connection], pay_for_render: Callable[..., bool]) -> None:
    """20 renders paid for at once, each on its own connection and thread, against 10 renders' worth: exactly
    10 pass. (The same video sent twice at once is one Idempotency-Key:
    tests/test_videos_create_atomic.py.)"""
    fund(billing_user.id, 10 * 7)
    start = threading.Barrier(20)

    def debit(index: int) -> bool:
        with connect() as own:
            start.wait(timeout=120)
            return pay_for_render(billing_user.id, f"vid_{index}", 7, on=own)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(debit, range(20)))
    assert results.count(True) == 10
    assert ledger.balance(conn, user_id=billing_user.id) == 0
    assert _ledger_sum(conn, billing_user.id) == 0


def test_ledger_rows_cannot_be_updated(conn: psycopg.Connection, billing_user: models.User,
                                       fund: Callable[..., None]) -> None:
    """The ledger is append-only in the database itself, not just by convention (no query updates it, so
    this test has to write the forbidden UPDATE by hand)."""
    fund(billing_user.id, 10)
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute("UPDATE credit_ledger SET delta = 1000")
    assert _ledger_sum(conn, billing_user.id) == 10


def test_only_the_ledger_moves_a_balance(conn: psycopg.Connection, billing_user: models.User,
                                        fund: Callable[..., None]) -> None:
    """The database keeps the rule (migrations/0010): a balance written other than by a ledger insert stays as
    it was, and so does an entry's delta added a second time by code from before the rule (during a deploy,
    it inserted the entry and then added the delta itself, as the SQL below does)."""
    fund(billing_user.id, 10)
    conn.execute("UPDATE credit_balances SET balance = 1000 WHERE user_id = %s", (billing_user.id,))
    assert ledger.balance(conn, user_id=billing_user.id) == 10
    conn.execute(
        "INSERT INTO credit_ledger (user_id, delta, reason, reference) VALUES (%s, 5, 'old_grant', 'g1')",
        (billing_user.id,))
    conn.execute("INSERT INTO credit_balances (user_id, balance, updated_at) VALUES (%s, 5, now()) "
                 "ON CONFLICT (user_id) DO UPDATE SET balance = credit_balances.balance + EXCLUDED.balance",
                 (billing_user.id,))
    assert ledger.balance(conn, user_id=billing_user.id) == 15 == _ledger_sum(conn, billing_user.id)


def test_debit_and_grant_refuse_nonsense_amounts(conn: psycopg.Connection, billing_user: models.User,
                                                 fund: Callable[..., None],
                                                 pay_for_render: Callable[..., bool]) -> None:
    fund(billing_user.id, 10)
    with pytest.raises(psycopg.errors.CheckViolation):      # a free render would be a ledger entry of 0
        pay_for_render(billing_user.id, "vid_0", 0)
    with pytest.raises(ValueError):
        ledger.grant(conn, user_id=billing_user.id, credits=-1, reason="x", reference="y")
    assert ledger.balance(conn, user_id=billing_user.id) == 10
