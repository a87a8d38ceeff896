"""What a user sees of their credits: balance, pending purchases, the ledger page by page (newest first)."""
from __future__ import annotations

from dataclasses import dataclass

import psycopg

import db.billing_checkout
import db.billing_ledger
from db import models
from genvid.billing import ledger
from genvid.cursors import decode_id_cursor, encode_cursor

_NEWEST = 2**63 - 1


@dataclass(frozen=True)
class Summary:
    balance: int
    pending: int        # credits of purchases paid by a delayed method, not cleared yet


@dataclass(frozen=True)
class LedgerPage:
    entries: list[models.CreditLedger]
    next_cursor: str | None


def get_summary(conn: psycopg.Connection, *, user_id: str) -> Summary:
    """The balance and the credits still pending."""
    pending = db.billing_checkout.sum_pending_credits(conn, user_id=user_id) or 0
    return Summary(balance=ledger.balance(conn, user_id=user_id), pending=pending)


def list_ledger(conn: psycopg.Connection, *, user_id: str, limit: int, cursor: str | None) -> LedgerPage:
    """One page of the user's entries, newest first; next_cursor continues after the last one
    (keyset on id)."""
    before = decode_id_cursor(cursor, maximum=_NEWEST) if cursor else _NEWEST
    rows = db.billing_ledger.list_ledger_page(conn, user_id=user_id, before_id=before, page_size=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return LedgerPage(entries=rows, next_cursor=encode_cursor(str(rows[-1].id)) if more and rows else None)

