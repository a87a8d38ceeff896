"""The outbound webhook event a purchase emits (genvid.outbound.events): credits.purchased, with the checkout
and the credits as the API shows them."""
from __future__ import annotations

import dataclasses
from typing import Any

import psycopg

from db import models
from genvid.billing import credits
from genvid.outbound.events import CREDITS_PURCHASED, emit


def credits_json(conn: psycopg.Connection, *, user_id: str) -> dict[str, Any]:
    """As GET /api/credits."""
    summary = credits.get_summary(conn, user_id=user_id)
    return {"balance": summary.balance, "pending": summary.pending}


def emit_credits_purchased(conn: psycopg.Connection, session: models.CheckoutSession) -> None:
    """credits.purchased for a checkout whose credits were just granted (in the granting transaction)."""
    paid = dataclasses.replace(session, status="paid")
    checkout = {"id": paid.id, "mode": paid.mode, "product_id": paid.product_id, "credits": paid.credits,
                "status": paid.status}
    emit(conn, user_id=session.user_id, type=CREDITS_PURCHASED, reference=session.id,
         data={"checkout": checkout, "credits": credits_json(conn, user_id=session.user_id)})
