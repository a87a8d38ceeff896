"""Subscription events: credits per paid invoice, the subscription's state kept current, grants stop at the
end.

Since API version 2025-03-31.basil the invoice names its subscription at
`parent.subscription_details.subscription` (with the subscription's metadata beside it), and the period
dates live on the subscription's items, not on the subscription.
"""
from __future__ import annotations

import logging
from typing import Any

import psycopg

import db.auth_users
import db.billing_customers
import db.billing_subscriptions
from genvid.billing import catalogue, ledger
from genvid.billing.errors import EventOutOfOrder
from genvid.billing.stripe_objects import event_time, from_unix, object_id
from genvid.config import Config

log = logging.getLogger("genvid.billing.subscriptions")

INVOICE_GRANT = "subscription_invoice"


def on_invoice_paid(conn: psycopg.Connection, event: dict[str, Any], _config: Config) -> None:
    """Grant the plan's credits once per paid subscription invoice (first one and every renewal)."""
    invoice = event["data"]["object"]
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription_id = object_id(details.get("subscription"))
    if not subscription_id:
        return                                     # a one-off invoice: no subscription credits
    known = db.billing_subscriptions.get_subscription(conn, id=subscription_id)
    if known is not None:
        user_id, credits = known.user_id, known.credits_per_period
        created = from_unix(invoice.get("created"))
        if known.ended_at is not None and created is not None and created >= known.ended_at:
            log.info("invoice after the subscription ended: no credits", extra={"invoice": invoice.get("id")})
            return
    else:
        metadata = details.get("metadata") or {}
        owner, per_period = metadata.get("user_id"), _int(metadata.get("credits"))
        if not owner or per_period is None or db.auth_users.get_user(conn, id=owner) is None:
            raise EventOutOfOrder()                 # the checkout completion will tell us whose it is
        user_id, credits = str(owner), per_period
    ledger.grant(conn, user_id=user_id, credits=credits, reason=INVOICE_GRANT, reference=invoice["id"])


def on_subscription_updated(conn: psycopg.Connection, event: dict[str, Any], config: Config) -> None:
    """Status, cancel_at_period_end, period end and plan (a price change in the portal) as of this event."""
    subscription = event["data"]["object"]
    owner = _owner(conn, subscription, config)
    if owner is None:
        return
    user_id, plan_id, credits = owner
    items = (subscription.get("items") or {}).get("data") or [{}]
    db.billing_subscriptions.upsert_subscription(
        conn, id=subscription["id"], user_id=user_id, plan_id=plan_id, credits_per_period=credits,
        status=str(subscription.get("status") or "active"),
        cancel_at_period_end=bool(subscription.get("cancel_at_period_end")),
        current_period_end=from_unix(items[0].get("current_period_end")), event_created=event_time(event))


def on_subscription_deleted(conn: psycopg.Connection, event: dict[str, Any], config: Config) -> None:
    """The subscription ended: no grant for any invoice created after this moment."""
    subscription = event["data"]["object"]
    owner = _owner(conn, subscription, config)
    if owner is None:
        return
    user_id, plan_id, credits = owner
    ended = (from_unix(subscription.get("ended_at")) or from_unix(subscription.get("canceled_at"))
             or event_time(event))
    db.billing_subscriptions.end_subscription(
        conn, id=subscription["id"], user_id=user_id, plan_id=plan_id, credits_per_period=credits,
        ended_at=ended, event_created=event_time(event))


def _owner(conn: psycopg.Connection, subscription: dict[str, Any],
           config: Config) -> tuple[str, str, int] | None:
    """(user id, plan id, credits per period) from our row, the subscription's metadata, or its price."""
    known = db.billing_subscriptions.get_subscription(conn, id=subscription["id"])
    metadata = subscription.get("metadata") or {}
    user_id = known.user_id if known else metadata.get("user_id")
    if not user_id:
        customer = object_id(subscription.get("customer"))
        mapped = db.billing_customers.get_stripe_customer_by_id(conn,
                                                                customer_id=customer) if customer else None
        user_id = mapped.user_id if mapped else None
    if not user_id or db.auth_users.get_user(conn, id=user_id) is None:
        log.warning("subscription not attributable to a genvid user",
                    extra={"subscription": subscription["id"]})
        return None
    items = (subscription.get("items") or {}).get("data") or [{}]
    price = object_id((items[0] or {}).get("price"))
    plan = catalogue.plan_for_price(config, price)
    if plan is not None:
        return user_id, plan.id, plan.credits_per_period
    if known is not None:
        return user_id, known.plan_id, known.credits_per_period
    credits = _int(metadata.get("credits"))
    plan_id = metadata.get("product_id")
    if credits is None or not plan_id:
        log.warning("subscription without a known plan", extra={"subscription": subscription["id"]})
        return None
    return user_id, plan_id, credits


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
