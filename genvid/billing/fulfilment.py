"""Checkout and charge events: grant a pack's credits once per session, claw them back on refunds.

Sessions move open -> pending (a delayed payment method) -> paid | failed, guarded in SQL, so events arriving
twice or out of order cannot move a session backwards; credits are granted under ("checkout", session id).
"""
from __future__ import annotations

import logging
from typing import Any

import psycopg

import db.auth_users
import db.billing_checkout
import db.billing_subscriptions
from db import models
from genvid.billing import ledger, outbound_events
from genvid.billing.errors import EventOutOfOrder
from genvid.billing.stripe_objects import event_time, object_id, string_or_none
from genvid.config import Config

log = logging.getLogger("genvid.billing.fulfilment")

CHECKOUT_GRANT = "checkout"
REFUND_CLAWBACK = "refund_clawback"


def on_checkout_completed(conn: psycopg.Connection, event: dict[str, Any], _config: Config) -> None:
    """Paid: grant now. Unpaid (ACH, SEPA...): pending until async_payment_succeeded or _failed."""
    session = event["data"]["object"]
    row = _record_session(conn, session)
    if row is None:
        return
    if row.mode == "subscription" and row.subscription_id:
        db.billing_subscriptions.insert_subscription_if_missing(
            conn, id=row.subscription_id, user_id=row.user_id, plan_id=row.product_id,
            credits_per_period=row.credits, status="active", event_created=event_time(event))
    if session.get("payment_status") in ("paid", "no_payment_required"):
        _fulfil(conn, row)
    else:
        db.billing_checkout.mark_checkout_pending(conn, id=row.id)


def on_async_payment_succeeded(conn: psycopg.Connection, event: dict[str, Any], _config: Config) -> None:
    """The delayed payment cleared: grant the pending credits."""
    row = _record_session(conn, event["data"]["object"])
    if row is not None:
        _fulfil(conn, row)


def on_async_payment_failed(conn: psycopg.Connection, event: dict[str, Any], _config: Config) -> None:
    """The delayed payment failed: the pending credits are never granted."""
    row = _record_session(conn, event["data"]["object"])
    if row is not None:
        db.billing_checkout.mark_checkout_failed(conn, id=row.id)


def on_checkout_expired(conn: psycopg.Connection, event: dict[str, Any], _config: Config) -> None:
    """The customer never paid; the session is closed (no-op for sessions genvid did not create)."""
    db.billing_checkout.mark_checkout_expired(conn, id=event["data"]["object"]["id"])


def on_charge_refunded(conn: psycopg.Connection, event: dict[str, Any], _config: Config) -> None:
    """Claw back credits in proportion to the amount refunded so far (may take the balance below zero).

    amount_refunded is cumulative, so the target clawback is recomputed from it and only the difference to
    what was already taken is applied: repeated, concurrent (the session row is locked) or reordered partial
    refunds take each credit back at most once.
    """
    charge = event["data"]["object"]
    payment_intent = object_id(charge.get("payment_intent"))
    row = None
    if payment_intent:
        row = db.billing_checkout.lock_checkout_by_payment_intent(conn, payment_intent=payment_intent)
    if row is None or row.status in ("open", "pending"):
        if row is not None or (charge.get("metadata") or {}).get("user_id"):
            raise EventOutOfOrder()    # our purchase, its completion not applied yet: Stripe will retry
        log.info("refund of a charge genvid did not sell", extra={"charge": charge.get("id")})
        return
    if row.status != "paid" or row.mode != "payment":
        return
    amount, refunded = int(charge.get("amount") or 0), int(charge.get("amount_refunded") or 0)
    if charge.get("refunded") or (amount and refunded >= amount):
        target = row.credits
    else:
        target = row.credits * refunded // amount if amount else 0
    if target <= row.clawed_back:
        return
    ledger.claw_back(conn, user_id=row.user_id, credits=target - row.clawed_back, reason=REFUND_CLAWBACK,
                     reference=f"{charge['id']}:{refunded}")
    db.billing_checkout.set_clawed_back(conn, clawed_back=target, id=row.id)


def _fulfil(conn: psycopg.Connection, row: models.CheckoutSession) -> None:
    moved = db.billing_checkout.mark_checkout_paid(conn, id=row.id)
    if not moved and row.status != "paid":
        return     # failed is final: a stale "paid" view of this session changes nothing
    if row.mode == "payment" and ledger.grant(conn, user_id=row.user_id, credits=row.credits,
                                              reason=CHECKOUT_GRANT, reference=row.id):
        outbound_events.emit_credits_purchased(conn, row)     # outbound webhook, once with the grant


def _record_session(conn: psycopg.Connection, session: dict[str, Any]) -> models.CheckoutSession | None:
    """The session's row (created now if genvid has none), locked for this transaction; None if not ours."""
    metadata = session.get("metadata") or {}
    user_id = session.get("client_reference_id") or metadata.get("user_id")
    try:
        credits = int(metadata.get("credits", ""))
    except ValueError:
        credits = -1
    product_id = metadata.get("product_id")
    mode = session.get("mode")
    if (not user_id or credits < 0 or not product_id or mode not in ("payment", "subscription")
            or db.auth_users.get_user(conn, id=user_id) is None):
        log.warning("checkout session not attributable to a genvid purchase",
                    extra={"session": session.get("id")})
        return None
    return db.billing_checkout.upsert_checkout_session_from_event(
        conn, id=session["id"], user_id=user_id, mode=mode, product_id=product_id, credits=credits,
        payment_intent=object_id(session.get("payment_intent")),
        subscription_id=object_id(session.get("subscription")),
        amount_total=session.get("amount_total"), currency=string_or_none(session.get("currency")))
