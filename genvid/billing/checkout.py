"""Starting purchases: Checkout Sessions for credit packs and subscriptions, and Customer Portal sessions.

Credits are never granted here; the webhooks do that (the customer may never come back to the success page).
Idempotency: the key sent to Stripe is derived from the user, the product and either the client's
Idempotency-Key header or, without one, the current 5-minute window. A retried or double-clicked request
therefore gets the same session back from Stripe instead of a second one. If that session was already
completed, a fresh key (suffixed with the completed session's id) starts a new purchase.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

import db.billing_checkout
from db import models
from genvid import clock
from genvid.auth.identity import CurrentUser
from genvid.billing import catalogue
from genvid.billing.customers import ensure_customer
from genvid.billing.errors import CheckoutNotFound
from genvid.billing.stripe_client import client as stripe_client
from genvid.billing.stripe_client import translate_errors
from genvid.config import Config
from genvid.infra import database

KEY_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class Started:
    """Where to send the browser: the Stripe-hosted page."""

    id: str
    url: str


def start_pack_checkout(config: Config, *, user: CurrentUser, pack_id: str,
                        client_key: str | None) -> Started:
    """A payment-mode Checkout Session for one credit pack."""
    pack = catalogue.find_pack(config, pack_id)
    client = stripe_client(config)
    metadata = {"user_id": user.id, "product_id": pack.id, "credits": str(pack.credits), "kind": "pack"}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [catalogue.pack_line_item(pack)],
        "payment_intent_data": {"metadata": metadata},
    }
    return _start(config, client, user=user, mode="payment", product_id=pack.id, credits=pack.credits,
                  metadata=metadata, params=params, client_key=client_key)


def start_subscription_checkout(config: Config, *, user: CurrentUser, plan_id: str,
                                client_key: str | None) -> Started:
    """A subscription-mode Checkout Session; its invoices grant credits_per_period each."""
    plan = catalogue.find_plan(config, plan_id)
    client = stripe_client(config)
    metadata = {"user_id": user.id, "product_id": plan.id, "credits": str(plan.credits_per_period),
                "kind": "plan"}
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [catalogue.plan_line_item(plan)],
        "subscription_data": {"metadata": metadata},
    }
    return _start(config, client, user=user, mode="subscription", product_id=plan.id,
                  credits=plan.credits_per_period, metadata=metadata, params=params, client_key=client_key)


def start_portal(config: Config, *, user: CurrentUser) -> str:
    """A Customer Portal URL where the user manages subscriptions, payment methods and invoices."""
    client = stripe_client(config)
    customer_id = ensure_customer(client, user=user)
    with translate_errors("billing_portal.sessions.create"):
        portal = client.v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": f"{config.app_base_url}/billing"})
    return str(portal.url)


def get_checkout(*, user_id: str, session_id: str) -> models.CheckoutSession:
    """One of the user's checkout sessions as genvid knows it; someone else's is 404 too."""
    with database.connection() as conn:
        row = db.billing_checkout.get_checkout_session_for_user(conn, id=session_id, user_id=user_id)
    if row is None:
        raise CheckoutNotFound()
    return row


def _start(config: Config, client: stripe.StripeClient, *, user: CurrentUser, mode: str, product_id: str,
           credits: int, metadata: dict[str, str], params: dict[str, Any], client_key: str | None) -> Started:
    customer_id = ensure_customer(client, user=user)
    app_url = config.app_base_url
    params = {
        **params,
        "customer": customer_id,
        "client_reference_id": user.id,
        "metadata": metadata,
        "success_url": f"{app_url}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{app_url}/billing/cancel",
    }
    scope = client_key if client_key else f"w{int(clock.unix()) // KEY_WINDOW_SECONDS}"
    key = f"genvid-checkout:{user.id}:{mode}:{product_id}:{scope}"
    session = _create_session(client, params, key)
    with database.connection() as conn:
        known = db.billing_checkout.get_checkout_session_for_user(conn, id=session.id, user_id=user.id)
    if (known is not None and known.status != "open") or not session.url:
        session = _create_session(client, params, f"{key}:after:{session.id}")
    with database.transaction() as conn:
        db.billing_checkout.create_checkout_session(
            conn, id=session.id, user_id=user.id, mode=mode, product_id=product_id, credits=credits,
            amount_total=session.amount_total, currency=session.currency)
    return Started(id=session.id, url=str(session.url))


def _create_session(client: stripe.StripeClient, params: dict[str, Any], key: str) -> Any:
    with translate_errors("checkout.sessions.create"):
        # params is built as a plain dict (catalogue line items); stripe's TypedDict checks it at the wire.
        return client.v1.checkout.sessions.create(params=params,  # type: ignore[arg-type]
                                                  options={"idempotency_key": key})
