"""Checkout, subscriptions and the portal against a fake Stripe: sessions, customers, idempotency, outages."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
from billing_fixtures import Buyer, Webhooks
from fakes.stripe import WEBHOOK_SECRET, FakeStripe, event
from flask import Flask
from flask.testing import FlaskClient

import db.billing_checkout
import db.billing_customers
from genvid.billing import checkout, ledger
from genvid.clock import FrozenClock


def _checkout(client: FlaskClient, buyer: Buyer, pack_id: str = "starter", **headers: str) -> Any:
    return client.post("/api/billing/checkout", json={"pack_id": pack_id},
                       headers={**buyer.headers, **headers})


def test_catalogue_is_public(client: FlaskClient) -> None:
    """Packs and plans come from configuration and need no sign-in (nor a Stripe key)."""
    packs = client.get("/api/billing/packs").get_json()["data"]
    plans = client.get("/api/billing/plans").get_json()["data"]
    assert [p["id"] for p in packs] == ["starter", "creator", "studio"]
    assert packs[0]["credits"] == 100 and packs[0]["amount"] == 900
    assert plans[0]["id"] == "monthly-basic" and plans[0]["credits_per_period"] == 300


def test_full_purchase(billing_client: FlaskClient, buyer: Buyer, fake_stripe: FakeStripe,
                       webhooks: Webhooks, conn: psycopg.Connection) -> None:
    """Checkout -> Stripe session with user, pack and credits -> paid webhook -> credits, ledger and state."""
    response = _checkout(billing_client, buyer)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["url"].startswith("https://checkout.stripe.com/") and data["id"].startswith("cs_test_")
    (call,) = fake_stripe.calls("POST", "/v1/checkout/sessions")
    params = call.params
    assert params["mode"] == "payment" and params["client_reference_id"] == buyer.user.id
    assert params["metadata"] == {"user_id": buyer.user.id, "product_id": "starter", "credits": "100",
                                  "kind": "pack"}
    assert params["line_items"] == [{"quantity": "1", "price_data": {
        "currency": "usd", "unit_amount": "900", "product_data": {"name": "Starter: 100 credits"}}}]
    assert params["success_url"] == "https://app.example.com/billing/success?session_id={CHECKOUT_SESSION_ID}"
    assert call.headers["Idempotency-Key"].startswith(f"genvid-checkout:{buyer.user.id}:payment:starter:")
    customer = db.billing_customers.get_stripe_customer(conn, user_id=buyer.user.id)
    assert customer is not None and params["customer"] == customer.customer_id
    assert fake_stripe.customers[customer.customer_id]["metadata"] == {"user_id": buyer.user.id}

    status = billing_client.get(f"/api/billing/checkout/{data['id']}", headers=buyer.headers).get_json()
    assert status["data"]["status"] == "open"

    session = fake_stripe.complete_session(data["id"])
    assert webhooks.deliver(event("checkout.session.completed", session)).status_code == 200
    assert ledger.balance(conn, user_id=buyer.user.id) == 100
    credits = billing_client.get("/api/credits", headers=buyer.headers).get_json()["data"]
    assert credits == {"balance": 100, "pending": 0}
    entries = billing_client.get("/api/credits/ledger", headers=buyer.headers).get_json()["data"]
    assert [(e["delta"], e["reason"], e["reference"]) for e in entries] == [(100, "checkout", data["id"])]
    status = billing_client.get(f"/api/billing/checkout/{data['id']}", headers=buyer.headers).get_json()
    assert status["data"] == {"id": data["id"], "mode": "payment", "product_id": "starter", "credits": 100,
                              "status": "paid"}


def test_stripe_customer_is_created_once_per_user(billing_client: FlaskClient, buyer: Buyer,
                                                  fake_stripe: FakeStripe) -> None:
    """Two purchases, a subscription and the portal all use the one customer created at the first."""
    assert _checkout(billing_client, buyer, "starter").status_code == 200
    assert _checkout(billing_client, buyer, "creator").status_code == 200
    assert billing_client.post("/api/billing/subscribe", json={"plan_id": "monthly-pro"},
                               headers=buyer.headers).status_code == 200
    portal = billing_client.post("/api/billing/portal", headers=buyer.headers)
    assert portal.status_code == 200
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1
    (customer_id,) = fake_stripe.customers
    assert {s["customer"] for s in fake_stripe.sessions.values()} == {customer_id}
    (portal_session,) = fake_stripe.portal_sessions.values()
    assert portal.get_json()["data"]["url"] == portal_session["url"]
    assert portal_session["customer"] == customer_id
    assert portal_session["return_url"] == "https://app.example.com/billing"


def test_retried_checkout_returns_the_same_session(billing_client: FlaskClient, buyer: Buyer,
                                                   fake_stripe: FakeStripe, conn: psycopg.Connection,
                                                   frozen_clock: FrozenClock) -> None:
    """A retried request (same Idempotency-Key header, or none within the same 5 minutes on genvid's clock)
    creates no 2nd session; the next window does."""
    first = _checkout(billing_client, buyer, **{"Idempotency-Key": "order-0001"}).get_json()["data"]
    again = _checkout(billing_client, buyer, **{"Idempotency-Key": "order-0001"}).get_json()["data"]
    assert first == again
    plain = _checkout(billing_client, buyer).get_json()["data"]
    plain_again = _checkout(billing_client, buyer).get_json()["data"]
    assert plain == plain_again and plain["id"] != first["id"]
    assert len(fake_stripe.sessions) == 2
    assert db.billing_checkout.get_checkout_session_for_user(conn, id=first["id"], user_id=buyer.user.id)
    frozen_clock.advance(checkout.KEY_WINDOW_SECONDS)
    later = _checkout(billing_client, buyer).get_json()["data"]
    assert later["id"] not in (plain["id"], first["id"]) and len(fake_stripe.sessions) == 3


def test_buying_again_after_paying_starts_a_new_session(billing_client: FlaskClient, buyer: Buyer,
                                                        fake_stripe: FakeStripe, webhooks: Webhooks) -> None:
    """The key window never hands a completed session back: the second purchase gets its own."""
    first = _checkout(billing_client, buyer).get_json()["data"]
    webhooks.deliver(event("checkout.session.completed", fake_stripe.complete_session(first["id"])))
    second = _checkout(billing_client, buyer).get_json()["data"]
    assert second["id"] != first["id"] and second["url"]


def test_subscribe_creates_a_subscription_mode_session(billing_client: FlaskClient, buyer: Buyer,
                                                       fake_stripe: FakeStripe) -> None:
    """A recurring price and the plan's credits in the subscription's metadata (copied onto its invoices)."""
    response = billing_client.post("/api/billing/subscribe", json={"plan_id": "monthly-basic"},
                                   headers=buyer.headers)
    assert response.status_code == 200
    (call,) = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert call.params["mode"] == "subscription"
    assert call.params["line_items"][0]["price_data"]["recurring"] == {"interval": "month"}
    assert call.params["subscription_data"]["metadata"] == {
        "user_id": buyer.user.id, "product_id": "monthly-basic", "credits": "300", "kind": "plan"}


def test_unknown_products_and_bad_keys_are_refused(billing_client: FlaskClient, buyer: Buyer,
                                                   fake_stripe: FakeStripe) -> None:
    """422 for an unknown pack or plan and for a malformed Idempotency-Key; Stripe is not called."""
    assert _checkout(billing_client, buyer, "nope").get_json()["error"]["code"] == "UNKNOWN_PRODUCT"
    response = billing_client.post("/api/billing/subscribe", json={"plan_id": "nope"}, headers=buyer.headers)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "UNKNOWN_PRODUCT"
    response = _checkout(billing_client, buyer, **{"Idempotency-Key": "bad key!"})
    assert response.status_code == 422
    assert fake_stripe.requests == []


def test_checkout_requires_a_signed_in_user(billing_client: FlaskClient) -> None:
    response = billing_client.post("/api/billing/checkout", json={"pack_id": "starter"})
    assert response.status_code == 401


def test_without_a_stripe_key_billing_is_disabled(client: FlaskClient, buyer: Buyer) -> None:
    """No STRIPE_SECRET_KEY: 503 BILLING_DISABLED for Stripe-facing endpoints; credits stay readable."""
    for path, body in (("/api/billing/checkout", {"pack_id": "starter"}),
                       ("/api/billing/subscribe", {"plan_id": "monthly-basic"}),
                       ("/api/billing/portal", None)):
        response = client.post(path, json=body, headers=buyer.headers)
        assert response.status_code == 503, path
        assert response.get_json()["error"]["code"] == "BILLING_DISABLED"
    webhook = client.post("/api/webhooks/stripe", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    assert webhook.status_code == 503
    assert client.get("/api/credits", headers=buyer.headers).get_json()["data"] == {"balance": 0,
                                                                                    "pending": 0}


def test_stripe_5xx_gives_502_and_stores_nothing(billing_client: FlaskClient, buyer: Buyer,
                                                 fake_stripe: FakeStripe, conn: psycopg.Connection) -> None:
    """Stripe answering 500 to every attempt (the library retries once): 502 STRIPE_ERROR, no row anywhere."""
    fake_stripe.fail(500)
    response = _checkout(billing_client, buyer)
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "STRIPE_ERROR"
    assert "fake outage" not in response.get_data(as_text=True)
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 2        # first attempt + one retry
    assert db.billing_customers.get_stripe_customer(conn, user_id=buyer.user.id) is None
    assert billing_client.get("/api/credits", headers=buyer.headers).get_json()["data"]["pending"] == 0


def test_stripe_5xx_on_session_creation_leaves_no_session(billing_client: FlaskClient, buyer: Buyer,
                                                          fake_stripe: FakeStripe,
                                                          conn: psycopg.Connection) -> None:
    """The customer exists already; the session call fails: 502 and no checkout row; a retry then works."""
    assert billing_client.post("/api/billing/portal", headers=buyer.headers).status_code == 200
    fake_stripe.fail(503, times=2)
    response = _checkout(billing_client, buyer)
    assert response.status_code == 502
    assert fake_stripe.sessions == {}
    retried = _checkout(billing_client, buyer)
    assert retried.status_code == 200
    assert list(fake_stripe.sessions) == [retried.get_json()["data"]["id"]]


def test_one_transient_5xx_is_retried_with_the_same_key(billing_client: FlaskClient, buyer: Buyer,
                                                        fake_stripe: FakeStripe) -> None:
    """stripe-python's own retry reuses our Idempotency-Key,
    so a blip costs nothing and creates one session."""
    assert billing_client.post("/api/billing/portal", headers=buyer.headers).status_code == 200
    fake_stripe.fail(500, times=1)
    response = _checkout(billing_client, buyer)
    assert response.status_code == 200
    calls = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert len(calls) == 2 and calls[0].headers["Idempotency-Key"] == calls[1].headers["Idempotency-Key"]
    assert len(fake_stripe.sessions) == 1


def test_stripe_timeout_gives_503_and_the_retry_reuses_what_stripe_made(
        billing_client: FlaskClient, make_app: Callable[..., Flask], buyer: Buyer, fake_stripe: FakeStripe,
        conn: psycopg.Connection) -> None:
    """Stripe hangs past the timeout (twice: the call and its retry): 503 STRIPE_UNAVAILABLE, nothing stored;
    once Stripe finishes what it was doing, the later retry gets the same customer back."""
    impatient = make_app(stripe_secret_key=fake_stripe.api_key, stripe_webhook_secret=WEBHOOK_SECRET,
                         stripe_api_base=fake_stripe.base_url, app_url="https://app.example.com",
                         stripe_timeout_seconds=0.5, stripe_max_network_retries=1)
    release = fake_stripe.hold(times=2)
    response = _checkout(impatient.test_client(), buyer)
    release()
    deadline = time.monotonic() + 120                  # generous: Stripe finishes both held requests
    while fake_stripe.held_done < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "STRIPE_UNAVAILABLE"
    assert db.billing_customers.get_stripe_customer(conn, user_id=buyer.user.id) is None
    assert _checkout(billing_client, buyer).status_code == 200
    customer = db.billing_customers.get_stripe_customer(conn, user_id=buyer.user.id)
    assert customer is not None and list(fake_stripe.customers) == [customer.customer_id]


def test_checkout_state_is_visible_only_to_its_owner(billing_client: FlaskClient, buyer: Buyer,
                                                     conn: psycopg.Connection) -> None:
    """Another user asking for this session gets 404, as for a session that does not exist."""
    from factories import bearer, create_session, create_user
    session_id = _checkout(billing_client, buyer).get_json()["data"]["id"]
    other = create_user(conn, email="other@example.com")
    other_headers = bearer(create_session(conn, user_id=other.id))
    response = billing_client.get(f"/api/billing/checkout/{session_id}", headers=other_headers)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "CHECKOUT_NOT_FOUND"
    assert billing_client.get("/api/billing/checkout/cs_missing", headers=buyer.headers).status_code == 404
