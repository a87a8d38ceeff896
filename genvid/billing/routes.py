"""Billing endpoints: catalogue, credits and ledger, Checkout, Customer Portal, and the Stripe webhook.

Without STRIPE_SECRET_KEY the endpoints that talk to Stripe (checkout, subscribe, portal, webhook) answer
503 BILLING_DISABLED; the catalogue, balances, ledger and stored checkout states stay readable.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from genvid.auth.current import current_user
from genvid.billing import catalogue, checkout, credits, webhooks
from genvid.billing.schemas import (
    CheckoutRequest,
    CheckoutStatusOut,
    CreditsOut,
    LedgerEntryOut,
    LedgerQuery,
    PackOut,
    PlanOut,
    RedirectOut,
    StripeWebhookOut,
    SubscribeRequest,
)
from genvid.errors import ValidationFailed
from genvid.http.api import documented, ok, parse_body, parse_query
from genvid.http.app_config import app_config
from genvid.infra import database

bp = Blueprint("billing", __name__)

_CLIENT_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")
_STRIPE_ERRORS = (409, 422, 502, 503)


def _client_key() -> str | None:
    """The optional Idempotency-Key header: the same key and body give back the same Checkout Session."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _CLIENT_KEY.match(key):
        raise ValidationFailed(details=[{"field": "Idempotency-Key",
                                         "message": "8 to 100 characters of A-Z a-z 0-9 . _ : -"}])
    return key


@bp.get("/api/billing/packs")
@documented("Credit packs on sale", response=PackOut, many=True, auth=False, tags=["billing"])
def packs() -> ResponseReturnValue:
    """One-time credit packs, from configuration."""
    return ok([catalogue.pack_json(pack) for pack in app_config().credit_packs])


@bp.get("/api/billing/plans")
@documented("Subscription plans on sale", response=PlanOut, many=True, auth=False, tags=["billing"])
def plans() -> ResponseReturnValue:
    """Monthly plans granting credits each paid period, from configuration."""
    return ok([catalogue.plan_json(plan) for plan in app_config().plans])


@bp.get("/api/credits")
@documented("Credit balance", response=CreditsOut, tags=["billing"])
def credit_summary() -> ResponseReturnValue:
    """The signed-in user's balance and the credits of purchases still pending."""
    user = current_user()
    with database.connection() as conn:
        summary = credits.get_summary(conn, user_id=user.id)
    return ok({"balance": summary.balance, "pending": summary.pending})


@bp.get("/api/credits/ledger")
@documented("Credit ledger", query=LedgerQuery, response=LedgerEntryOut, many=True, paged=True,
            tags=["billing"])
def credit_ledger() -> ResponseReturnValue:
    """Every change of the user's credits, newest first;
    pass meta.next_cursor as `cursor` for the next page."""
    user = current_user()
    query = parse_query(LedgerQuery)
    with database.connection() as conn:
        page = credits.list_ledger(conn, user_id=user.id, limit=query.limit, cursor=query.cursor)
    return ok([_entry_json(entry) for entry in page.entries], meta={"next_cursor": page.next_cursor})


@bp.post("/api/billing/checkout")
@documented("Buy a credit pack", body=CheckoutRequest, response=RedirectOut, errors=_STRIPE_ERRORS,
            tags=["billing"])
def start_checkout() -> ResponseReturnValue:
    """A Stripe Checkout Session for the pack; send the browser to `url`. Credits arrive by webhook."""
    user = current_user()
    body = parse_body(CheckoutRequest)
    started = checkout.start_pack_checkout(app_config(), user=user, pack_id=body.pack_id,
                                           client_key=_client_key())
    return ok({"id": started.id, "url": started.url})


@bp.post("/api/billing/subscribe")
@documented("Subscribe to a plan", body=SubscribeRequest, response=RedirectOut, errors=_STRIPE_ERRORS,
            tags=["billing"])
def subscribe() -> ResponseReturnValue:
    """A subscription-mode Checkout Session; each paid invoice grants the plan's credits."""
    user = current_user()
    body = parse_body(SubscribeRequest)
    started = checkout.start_subscription_checkout(app_config(), user=user, plan_id=body.plan_id,
                                                   client_key=_client_key())
    return ok({"id": started.id, "url": started.url})


@bp.post("/api/billing/portal")
@documented("Open the Customer Portal", response=RedirectOut, errors=(502, 503), tags=["billing"])
def portal() -> ResponseReturnValue:
    """A Stripe Customer Portal URL for managing the subscription and payment methods."""
    user = current_user()
    return ok({"url": checkout.start_portal(app_config(), user=user)})


@bp.get("/api/billing/checkout/<id:session_id>")
@documented("A checkout session's state", response=CheckoutStatusOut, errors=(404,), tags=["billing"])
def checkout_status(session_id: str) -> ResponseReturnValue:
    """For the success page: the session as the webhooks have left it (fulfilment never waits on this)."""
    user = current_user()
    row = checkout.get_checkout(user_id=user.id, session_id=session_id)
    return ok({"id": row.id, "mode": row.mode, "product_id": row.product_id, "credits": row.credits,
               "status": row.status})


@bp.post("/api/webhooks/stripe")
@documented("Stripe webhook", response=StripeWebhookOut, auth=False, raw_body=True, errors=(400, 409, 503),
            tags=["billing"])
def stripe_webhook() -> ResponseReturnValue:
    """Signed Stripe events; each applied once. 400 for a bad or stale signature, with nothing recorded."""
    config = app_config()
    event = webhooks.verify(config, payload=request.get_data(cache=False),
                            signature=request.headers.get("Stripe-Signature"))
    with database.transaction() as conn:
        result = webhooks.apply(conn, event, config)
    return ok({"received": True, "result": result})


def _entry_json(entry: Any) -> dict[str, Any]:
    return {"id": str(entry.id), "delta": entry.delta, "reason": entry.reason, "reference": entry.reference,
            "created_at": entry.created_at.isoformat()}
