"""Subscriptions: credits per paid invoice (first and renewals), state kept current,
no grants after the end."""
from __future__ import annotations

import time
from typing import Any

import psycopg
from billing_fixtures import Buyer, Webhooks
from fakes.stripe import FakeStripe, event
from flask.testing import FlaskClient

import db.billing_subscriptions
from genvid.billing import ledger

PLAN_CREDITS = 300


def _subscribe(client: FlaskClient, buyer: Buyer, fake: FakeStripe, webhooks: Webhooks) -> dict[str, Any]:
    response = client.post("/api/billing/subscribe", json={"plan_id": "monthly-basic"}, headers=buyer.headers)
    assert response.status_code == 200
    session = fake.complete_session(response.get_json()["data"]["id"])
    assert webhooks.deliver(event("checkout.session.completed", session)).status_code == 200
    return session


def _invoice(buyer: Buyer, subscription_id: str, invoice_id: str, *, created: int,
             reason: str = "subscription_cycle") -> dict[str, Any]:
    """An invoice as API 2025-03-31.basil and later shape it:
    the subscription under parent.subscription_details."""
    return {
        "id": invoice_id, "object": "invoice", "billing_reason": reason, "status": "paid", "created": created,
        "amount_paid": 1900, "currency": "usd", "customer": "cus_test",
        "parent": {"type": "subscription_details", "quote_details": None, "subscription_details": {
            "subscription": subscription_id,
            "metadata": {"user_id": buyer.user.id, "product_id": "monthly-basic",
                         "credits": str(PLAN_CREDITS)}}},
        "lines": {"object": "list", "data": [{"id": "il_1", "parent": {
            "type": "subscription_item_details",
            "subscription_item_details": {"subscription": subscription_id}}}]},
    }


def _subscription(buyer: Buyer, subscription_id: str, **fields: Any) -> dict[str, Any]:
    obj = {"id": subscription_id, "object": "subscription", "customer": "cus_test", "status": "active",
           "cancel_at_period_end": False, "canceled_at": None, "ended_at": None,
           "metadata": {"user_id": buyer.user.id, "product_id": "monthly-basic",
                        "credits": str(PLAN_CREDITS)},
           "items": {"object": "list", "data": [{"id": "si_1", "price": {"id": "price_dynamic"},
                                                 "current_period_end": int(time.time()) + 30 * 86400}]}}
    obj.update(fields)
    return obj


def test_checkout_completion_alone_grants_nothing(billing_client: FlaskClient, buyer: Buyer,
                                                  fake_stripe: FakeStripe, webhooks: Webhooks,
                                                  conn: psycopg.Connection) -> None:
    """For subscriptions the invoices grant; the completed session records the subscription."""
    session = _subscribe(billing_client, buyer, fake_stripe, webhooks)
    assert ledger.balance(conn, user_id=buyer.user.id) == 0
    row = db.billing_subscriptions.get_subscription(conn, id=session["subscription"])
    assert row is not None and row.user_id == buyer.user.id and row.credits_per_period == PLAN_CREDITS


def test_renewal_invoices_grant_once_per_period(billing_client: FlaskClient, buyer: Buyer,
                                                fake_stripe: FakeStripe, webhooks: Webhooks,
                                                conn: psycopg.Connection) -> None:
    """First invoice and each renewal grant the plan's credits;
    the same invoice in another event grants nothing."""
    sub = _subscribe(billing_client, buyer, fake_stripe, webhooks)["subscription"]
    now = int(time.time())
    webhooks.deliver(
        event("invoice.paid", _invoice(buyer, sub, "in_1", created=now, reason="subscription_create")))
    assert ledger.balance(conn, user_id=buyer.user.id) == 300
    webhooks.deliver(event("invoice.paid", _invoice(buyer, sub, "in_2", created=now + 30 * 86400)))
    webhooks.deliver(event("invoice.paid", _invoice(buyer, sub, "in_2", created=now + 30 * 86400)))
    assert ledger.balance(conn, user_id=buyer.user.id) == 600
    webhooks.deliver(event("invoice.paid", _invoice(buyer, sub, "in_3", created=now + 60 * 86400)))
    assert ledger.balance(conn, user_id=buyer.user.id) == 900


def test_first_invoice_before_the_checkout_completion_is_attributed_by_metadata(
        buyer: Buyer, webhooks: Webhooks, conn: psycopg.Connection) -> None:
    """Out of order: invoice.paid first; subscription_details.metadata says whose it is."""
    invoice = _invoice(buyer, "sub_early", "in_early", created=int(time.time()), reason="subscription_create")
    assert webhooks.deliver(event("invoice.paid", invoice)).status_code == 200
    assert ledger.balance(conn, user_id=buyer.user.id) == 300


def test_invoice_without_subscription_or_owner(buyer: Buyer, webhooks: Webhooks,
                                               conn: psycopg.Connection) -> None:
    """A one-off invoice grants nothing; an unattributable subscription invoice is refused for a later
    retry."""
    one_off = {"id": "in_one_off", "object": "invoice", "parent": None, "created": int(time.time())}
    assert webhooks.deliver(event("invoice.paid", one_off)).status_code == 200
    orphan = _invoice(buyer, "sub_unknown", "in_orphan", created=int(time.time()))
    orphan["parent"]["subscription_details"]["metadata"] = {}
    assert webhooks.deliver(event("invoice.paid", orphan)).status_code == 409
    assert ledger.balance(conn, user_id=buyer.user.id) == 0


def test_cancelled_subscription_stops_grants(billing_client: FlaskClient, buyer: Buyer,
                                             fake_stripe: FakeStripe,
                                             webhooks: Webhooks, conn: psycopg.Connection) -> None:
    """After customer.subscription.deleted, invoices created later grant nothing;
    a late-delivered earlier one does."""
    sub = _subscribe(billing_client, buyer, fake_stripe, webhooks)["subscription"]
    now = int(time.time())
    webhooks.deliver(event("invoice.paid", _invoice(buyer, sub, "in_1", created=now - 100)))
    ended = now
    webhooks.deliver(event("customer.subscription.deleted",
                           _subscription(buyer, sub, status="canceled", canceled_at=ended, ended_at=ended)))
    row = db.billing_subscriptions.get_subscription(conn, id=sub)
    assert row is not None and row.status == "canceled" and row.ended_at is not None
    webhooks.deliver(event("invoice.paid", _invoice(buyer, sub, "in_after", created=ended + 30 * 86400)))
    assert ledger.balance(conn, user_id=buyer.user.id) == 300
    webhooks.deliver(event("invoice.paid", _invoice(buyer, sub, "in_before", created=ended - 50)))
    assert ledger.balance(conn, user_id=buyer.user.id) == 600
    # an update delivered after the deletion cannot bring it back
    webhooks.deliver(event("customer.subscription.updated", _subscription(buyer, sub, status="active"),
                           created=ended + 10))
    row = db.billing_subscriptions.get_subscription(conn, id=sub)
    assert row is not None and row.status == "canceled"


def test_subscription_updates_apply_in_event_order(billing_client: FlaskClient, buyer: Buyer,
                                                   fake_stripe: FakeStripe, webhooks: Webhooks,
                                                   conn: psycopg.Connection) -> None:
    """A newer update wins over an older one delivered after it (events are not ordered)."""
    sub = _subscribe(billing_client, buyer, fake_stripe, webhooks)["subscription"]
    now = int(time.time())
    webhooks.deliver(event("customer.subscription.updated",
                           _subscription(buyer, sub, status="past_due", cancel_at_period_end=True),
                           created=now + 20))
    webhooks.deliver(event("customer.subscription.updated", _subscription(buyer, sub, status="active"),
                           created=now + 10))
    row = db.billing_subscriptions.get_subscription(conn, id=sub)
    assert row is not None and row.status == "past_due" and row.cancel_at_period_end is True
    assert row.current_period_end is not None


def test_plan_change_to_a_configured_price_changes_the_credits(
        make_app: Any, fake_stripe: FakeStripe, buyer: Buyer, conn: psycopg.Connection) -> None:
    """Switching price in the Customer Portal to a plan with a configured price id grants that plan's
    credits."""
    from billing_fixtures import Webhooks as Deliver
    from fakes.stripe import WEBHOOK_SECRET

    from genvid.config import DEFAULT_PLANS, Plan
    plans = (*DEFAULT_PLANS, Plan(id="yearly-max", name="Max", credits_per_period=5000, price_id="price_max"))
    app = make_app(stripe_secret_key=fake_stripe.api_key, stripe_webhook_secret=WEBHOOK_SECRET,
                   stripe_api_base=fake_stripe.base_url, plans=plans)
    webhooks = Deliver(app.test_client())
    now = int(time.time())
    sub = _subscription(buyer, "sub_change")
    sub["items"]["data"][0]["price"] = {"id": "price_max"}
    webhooks.deliver(event("customer.subscription.updated", sub, created=now))
    webhooks.deliver(event("invoice.paid", _invoice(buyer, "sub_change", "in_max", created=now + 1)))
    row = db.billing_subscriptions.get_subscription(conn, id="sub_change")
    assert row is not None and row.plan_id == "yearly-max"
    assert ledger.balance(conn, user_id=buyer.user.id) == 5000
