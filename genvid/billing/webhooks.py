"""Stripe webhooks: verify the signature on the raw body, then apply each event exactly once.

The event id is inserted under a unique key in the same transaction as the event's effect, so a duplicate
delivery (even a concurrent one, which waits on that key) changes nothing. The effects are also keyed by
the business object (session, invoice, charge), because two different events can describe one payment.
Everything here is a few indexed statements, so it runs inside the request: Stripe gets its 2xx fast, and
acknowledging only after the commit means an event is never lost between the answer and a queued job.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import psycopg
import stripe

import db.billing_events
from genvid.billing import fulfilment, subscription_events
from genvid.billing.errors import BillingDisabled, InvalidSignature
from genvid.config import Config

log = logging.getLogger("genvid.billing.webhooks")

Handler = Callable[[psycopg.Connection, dict[str, Any], Config], None]

HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": fulfilment.on_checkout_completed,
    "checkout.session.async_payment_succeeded": fulfilment.on_async_payment_succeeded,
    "checkout.session.async_payment_failed": fulfilment.on_async_payment_failed,
    "checkout.session.expired": fulfilment.on_checkout_expired,
    "charge.refunded": fulfilment.on_charge_refunded,
    "invoice.paid": subscription_events.on_invoice_paid,
    "customer.subscription.updated": subscription_events.on_subscription_updated,
    "customer.subscription.deleted": subscription_events.on_subscription_deleted,
}


def verify(config: Config, *, payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, once stripe-python has verified Stripe-Signature over these exact bytes
    (300 s tolerance)."""
    if not config.stripe_webhook_secret:
        raise BillingDisabled("BILLING_DISABLED",
                              "Stripe webhooks are not configured (no STRIPE_WEBHOOK_SECRET).")
    try:
        stripe.Webhook.construct_event(payload, signature or "", config.stripe_webhook_secret)
    except stripe.SignatureVerificationError:
        raise InvalidSignature() from None
    except ValueError:
        raise InvalidSignature("INVALID_PAYLOAD", "The body is not a Stripe event.") from None
    # The verified bytes, as plain JSON: handlers read dicts, not stripe objects.
    event = json.loads(payload)
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(
        event.get("type"), str):
        raise InvalidSignature("INVALID_PAYLOAD", "The body is not a Stripe event.")
    return event


def apply(conn: psycopg.Connection, event: dict[str, Any], config: Config) -> str:
    """Apply a verified event inside conn's transaction: "applied", "duplicate" or "ignored"
    (unknown type)."""
    handler = HANDLERS.get(event["type"])
    if handler is None:
        return "ignored"
    if db.billing_events.record_stripe_event(conn, id=event["id"], type=event["type"]) is None:
        return "duplicate"
    handler(conn, event, config)
    log.info("stripe event applied", extra={"event_id": event["id"], "event_type": event["type"]})
    return "applied"
