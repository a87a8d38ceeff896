"""One Stripe customer per user: created once, remembered in stripe_customers."""
from __future__ import annotations

import stripe

import db.billing_customers
from genvid.auth.identity import CurrentUser
from genvid.billing.stripe_client import translate_errors
from genvid.infra import database


def ensure_customer(client: stripe.StripeClient, *, user: CurrentUser) -> str:
    """The user's Stripe customer id, creating the customer on first use.

    No database connection is held during the Stripe call. The Idempotency-Key is derived from the user id,
    so concurrent first purchases (or a retry after a crash between Stripe's answer and our insert) get the
    same customer back from Stripe for as long as it keeps keys (at least 24 h); the unique user_id keeps
    exactly one mapping whatever happens.
    """
    with database.connection() as conn:
        existing = db.billing_customers.get_stripe_customer(conn, user_id=user.id)
    if existing is not None:
        return existing.customer_id
    with translate_errors("customers.create"):
        customer = client.v1.customers.create(
            params={"email": user.email, "name": user.name, "metadata": {"user_id": user.id}},
            options={"idempotency_key": f"genvid-customer:{user.id}"})
    with database.transaction() as conn:
        db.billing_customers.create_stripe_customer(conn, user_id=user.id, customer_id=customer.id)
        stored = db.billing_customers.get_stripe_customer(conn, user_id=user.id)
    assert stored is not None
    return stored.customer_id
