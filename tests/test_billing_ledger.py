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
from genvid.billing.ledger import InsufficientCredits


def _ledger_sum(conn: psycopg.Connection, user_id: str) -> int:
    entries = db.billing_ledger.list_ledger_page(conn, user_id=user_id, before_id=2**62, page_size=10_000)
    return sum(entry.delta for entry in entries)


def test_debit_takes_credits_once_per_video(conn: psycopg.Connection, billing_user: models.User,
                                            fund: Callable[..., None]) -> None:
    """A debit takes the credits and records one ledger entry; repeating it for the same video is a no-op."""
    fund(billing_user.id, 50)
    ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_1", credits=20)
    ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_1", credits=20)
    assert ledger.balance(conn, user_id=billing_user.id) == 30
    entry = db.billing_ledger.get_ledger_entry(conn, reason="render", reference="vid_1")
    assert entry is not None and entry.delta == -20 and entry.user_id == billing_user.id
    assert _ledger_sum(conn, billing_user.id) == 30


def test_repeated_debit_is_a_no_op_even_when_the_balance_no_longer_covers_it(
        conn: psycopg.Connection, billing_user: models.User, fund: Callable[..., None]) -> None:
    """The retry of an already-paid render neither raises nor takes credits again."""
    fund(billing_user.id, 10)
    ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_1", credits=10)
    ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_1", credits=10)
    assert ledger.balance(conn, user_id=billing_user.id) == 0


def test_insufficient_credits_raises_402_and_records_nothing(conn: psycopg.Connection,
                                                             billing_user: models.User,
                                                             fund: Callable[..., None]) -> None:
    """A debit the balance cannot cover raises INSUFFICIENT_CREDITS and leaves balance and ledger alone."""
    fund(billing_user.id, 5)
    with pytest.raises(InsufficientCredits) as raised:
        ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_1", credits=6)
    assert (raised.value.status, raised.value.code) == (402, "INSUFFICIENT_CREDITS")
    assert ledger.balance(conn, user_id=billing_user.id) == 5
    assert db.billing_ledger.get_ledger_entry(conn, reason="render", reference="vid_1") is None


def test_user_without_any_credits_cannot_render(conn: psycopg.Connection, billing_user: models.User) -> None:
    """No balance row at all counts as zero."""
    with pytest.raises(InsufficientCredits):
        ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_1", credits=1)
    assert ledger.balance(conn, user_id=billing_user.id) == 0


def test_refusal_keeps_the_callers_transaction_usable(billing_user: models.User, fund: Callable[..., None],
                                                      connect: Callable[[], psycopg.Connection],
                                                      conn: psycopg.Connection) -> None:
    """After InsufficientCredits the caller can still write and commit in the same transaction."""
    fund(billing_user.id, 5)
    with connect() as own:
        with pytest.raises(InsufficientCredits):
            ledger.debit_for_render(own, user_id=billing_user.id, video_id="vid_big", credits=50)
        ledger.debit_for_render(own, user_id=billing_user.id, video_id="vid_small", credits=5)
    assert ledger.balance(conn, user_id=billing_user.id) == 0
    assert db.billing_ledger.get_ledger_entry(conn, reason="render", reference="vid_big") is None


def test_debit_rolls_back_with_the_callers_transaction(billing_user: models.User, fund: Callable[..., None],
                                                       connect: Callable[[], psycopg.Connection],
                                                       conn: psycopg.Connection) -> None:
    """The debit is part of the caller's transaction: when the caller fails afterwards, nothing was taken."""
    fund(billing_user.id, 10)
    with connect() as own:
        ledger.debit_for_render(own, user_id=billing_user.id, video_id="vid_1", credits=4)
        own.rollback()
    assert ledger.balance(conn, user_id=billing_user.id) == 10
    assert db.billing_ledger.get_ledger_entry(conn, reason="render", reference="vid_1") is None


def test_negative_balance_blocks_renders(conn: psycopg.Connection, billing_user: models.User,
                                         fund: Callable[..., None]) -> None:
    """A clawback may take the balance below zero; then every debit is refused until topped up."""
    fund(billing_user.id, 10)
    assert ledger.claw_back(conn, user_id=billing_user.id, credits=15, reason="refund", reference="ch_1:x")
    assert ledger.balance(conn, user_id=billing_user.id) == -5
    with pytest.raises(InsufficientCredits):
        ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_1", credits=1)
    fund(billing_user.id, 6)
    ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_1", credits=1)
    assert ledger.balance(conn, user_id=billing_user.id) == 0


def test_refund_gives_back_exactly_the_debit_once(conn: psycopg.Connection, billing_user: models.User,
                                                  fund: Callable[..., None]) -> None:
    """A failed render's credits come back once; a second refund, or one for a video never debited, is False."""
    fund(billing_user.id, 30)
    ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_1", credits=12)
    assert ledger.refund_render(conn, user_id=billing_user.id, video_id="vid_1") is True
    assert ledger.refund_render(conn, user_id=billing_user.id, video_id="vid_1") is False
    assert ledger.refund_render(conn, user_id=billing_user.id, video_id="vid_never") is False
    assert ledger.balance(conn, user_id=billing_user.id) == 30
    refund = db.billing_ledger.get_ledger_entry(conn, reason="render_refund", reference="vid_1")
    assert refund is not None and refund.delta == 12


def test_refund_of_another_users_video_is_refused(conn: psycopg.Connection, billing_user: models.User,
                                                  fund: Callable[..., None]) -> None:
    """Credits go back only to the user who paid for the render."""
    from factories import create_user
    other = create_user(conn, email="other@example.com")
    fund(billing_user.id, 10)
    ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_1", credits=10)
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
        connect: Callable[[], psycopg.Connection]) -> None:
    """20 renders debited at once, each on its own connection and thread, against 10 renders' worth: exactly 10 pass."""
    fund(billing_user.id, 10 * 7)
    start = threading.Barrier(20)

    def debit(index: int) -> bool:
        with connect() as own:
            start.wait(timeout=10)
            try:
                ledger.debit_for_render(own, user_id=billing_user.id, video_id=f"vid_{index}", credits=7)
            except InsufficientCredits:
                return False
            return True

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(debit, range(20)))
    assert results.count(True) == 10
    assert ledger.balance(conn, user_id=billing_user.id) == 0
    assert _ledger_sum(conn, billing_user.id) == 0


def test_concurrent_debits_of_the_same_video_take_credits_once(
        conn: psycopg.Connection, billing_user: models.User, fund: Callable[..., None],
        connect: Callable[[], psycopg.Connection]) -> None:
    """The same render debited from 5 connections at once is charged once, and none of them fails."""
    fund(billing_user.id, 10)
    start = threading.Barrier(5)

    def debit(_: int) -> None:
        with connect() as own:
            start.wait(timeout=10)
            ledger.debit_for_render(own, user_id=billing_user.id, video_id="vid_same", credits=8)

    with ThreadPoolExecutor(5) as pool:
        list(pool.map(debit, range(5)))
    assert ledger.balance(conn, user_id=billing_user.id) == 2


def test_ledger_rows_cannot_be_updated(conn: psycopg.Connection, billing_user: models.User,
                                       fund: Callable[..., None]) -> None:
    """The ledger is append-only in the database itself, not just by convention (no query updates it, so
    this test has to write the forbidden UPDATE by hand)."""
    fund(billing_user.id, 10)
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute("UPDATE credit_ledger SET delta = 1000")
    assert _ledger_sum(conn, billing_user.id) == 10


def test_debit_and_grant_refuse_nonsense_amounts(conn: psycopg.Connection, billing_user: models.User) -> None:
    with pytest.raises(ValueError):
        ledger.debit_for_render(conn, user_id=billing_user.id, video_id="vid_0", credits=0)
    with pytest.raises(ValueError):
        ledger.grant(conn, user_id=billing_user.id, credits=-1, reason="x", reference="y")
    assert ledger.balance(conn, user_id=billing_user.id) == 0
