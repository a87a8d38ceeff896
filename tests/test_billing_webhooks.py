"""Stripe webhooks: verified on the raw body, each effect applied exactly once whatever the delivery order."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import requests
from billing_fixtures import Buyer, Webhooks
from fakes.stripe import WEBHOOK_SECRET, FakeStripe, event, sign
from flask import Flask
from flask.testing import FlaskClient

import db.billing_checkout
import db.billing_events
from genvid.billing import ledger


def _purchase(client: FlaskClient, buyer: Buyer, pack_id: str = "starter") -> str:
    response = client.post("/api/billing/checkout", json={"pack_id": pack_id}, headers=buyer.headers)
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["data"]["id"])


def _credits(client: FlaskClient, buyer: Buyer) -> dict[str, int]:
    return dict(client.get("/api/credits", headers=buyer.headers).get_json()["data"])


def _status(client: FlaskClient, buyer: Buyer, session_id: str) -> str:
    return str(
        client.get(f"/api/billing/checkout/{session_id}", headers=buyer.headers).get_json()["data"]["status"])


def test_same_event_delivered_five_times_concurrently_grants_once(
        billing_app: Flask, billing_client: FlaskClient, buyer: Buyer, fake_stripe: FakeStripe,
        live_server: Callable[[Flask], str], conn: psycopg.Connection) -> None:
    """Five simultaneous HTTP deliveries of one event: all answered 200, the credits granted once."""
    session_id = _purchase(billing_client, buyer)
    body = json.dumps(event("checkout.session.completed", fake_stripe.complete_session(session_id))).encode()
    url = live_server(billing_app) + "/api/webhooks/stripe"
    start = threading.Barrier(5)

    def deliver(_: int) -> int:
        start.wait(timeout=120)
        return requests.post(url, data=body, timeout=120, headers={
            "Stripe-Signature": sign(body), "Content-Type": "application/json"}).status_code

    with ThreadPoolExecutor(5) as pool:
        statuses = list(pool.map(deliver, range(5)))
    assert statuses == [200] * 5
    assert ledger.balance(conn, user_id=buyer.user.id) == 100
    entries = billing_client.get("/api/credits/ledger", headers=buyer.headers).get_json()["data"]
    assert len(entries) == 1


def test_two_different_events_for_one_session_grant_once(billing_client: FlaskClient, buyer: Buyer,
                                                         fake_stripe: FakeStripe, webhooks: Webhooks) -> None:
    """completed(paid) and a later async_payment_succeeded describe one payment: one grant."""
    session_id = _purchase(billing_client, buyer)
    session = fake_stripe.complete_session(session_id)
    first = webhooks.deliver(event("checkout.session.completed", session)).get_json()["data"]
    second = webhooks.deliver(event("checkout.session.async_payment_succeeded", session)).get_json()["data"]
    assert first["result"] == second["result"] == "applied"
    assert _credits(billing_client, buyer) == {"balance": 100, "pending": 0}


def test_redelivered_event_is_acknowledged_as_duplicate(billing_client: FlaskClient, buyer: Buyer,
                                                        fake_stripe: FakeStripe, webhooks: Webhooks) -> None:
    session_id = _purchase(billing_client, buyer)
    delivery = event("checkout.session.completed", fake_stripe.complete_session(session_id))
    assert webhooks.deliver(delivery).get_json()["data"]["result"] == "applied"
    assert webhooks.deliver(delivery).get_json()["data"]["result"] == "duplicate"
    assert _credits(billing_client, buyer)["balance"] == 100


def test_bad_signatures_are_rejected_with_nothing_recorded(billing_client: FlaskClient, buyer: Buyer,
                                                           fake_stripe: FakeStripe, webhooks: Webhooks,
                                                           conn: psycopg.Connection) -> None:
    """Tampered body, no signature, a 6-minute-old one, another secret, or a non-JSON body: 400, no effect."""
    session_id = _purchase(billing_client, buyer)
    delivery = event("checkout.session.completed", fake_stripe.complete_session(session_id))
    body = json.dumps(delivery).encode()
    tampered = body.replace(b'"credits": "100"', b'"credits": "9999"')
    assert tampered != body
    attempts = [
        webhooks.deliver(tampered, signature=sign(body)),
        webhooks.deliver(body, signature=""),
        webhooks.deliver(body, timestamp=int(time.time()) - 360),
        webhooks.deliver(body, secret="whsec_some_other_secret"),
        webhooks.deliver(body, signature="t=garbage"),
        webhooks.deliver(b"not json", secret=WEBHOOK_SECRET),
    ]
    assert [r.status_code for r in attempts] == [400] * 6
    assert {r.get_json()["error"]["code"] for r in attempts[:5]} == {"INVALID_SIGNATURE"}
    assert db.billing_events.get_stripe_event(conn, id=delivery["id"]) is None
    assert _credits(billing_client, buyer)["balance"] == 0
    assert _status(billing_client, buyer, session_id) == "open"
    assert webhooks.deliver(body).status_code == 200       # the genuine delivery still works afterwards
    assert _credits(billing_client, buyer)["balance"] == 100


def test_unpaid_then_async_succeeded(billing_client: FlaskClient, buyer: Buyer, fake_stripe: FakeStripe,
                                     webhooks: Webhooks) -> None:
    """A delayed method: pending credits first, granted when the payment clears."""
    session_id = _purchase(billing_client, buyer, "creator")
    webhooks.deliver(
        event("checkout.session.completed", fake_stripe.complete_session(session_id, paid=False)))
    assert _credits(billing_client, buyer) == {"balance": 0, "pending": 500}
    assert _status(billing_client, buyer, session_id) == "pending"
    webhooks.deliver(
        event("checkout.session.async_payment_succeeded", fake_stripe.settle_session(session_id)))
    assert _credits(billing_client, buyer) == {"balance": 500, "pending": 0}
    assert _status(billing_client, buyer, session_id) == "paid"


def test_async_failed_grants_nothing(billing_client: FlaskClient, buyer: Buyer, fake_stripe: FakeStripe,
                                     webhooks: Webhooks) -> None:
    """The delayed payment fails: pending goes away, no credits, and a stale 'paid' view cannot revive it."""
    session_id = _purchase(billing_client, buyer)
    unpaid = fake_stripe.complete_session(session_id, paid=False)
    webhooks.deliver(event("checkout.session.completed", unpaid))
    webhooks.deliver(event("checkout.session.async_payment_failed", unpaid))
    assert _credits(billing_client, buyer) == {"balance": 0, "pending": 0}
    assert _status(billing_client, buyer, session_id) == "failed"
    webhooks.deliver(event("checkout.session.completed", {**unpaid, "payment_status": "paid"}))
    assert _credits(billing_client, buyer)["balance"] == 0


def test_async_succeeded_before_completed_still_grants_once(billing_client: FlaskClient, buyer: Buyer,
                                                            fake_stripe: FakeStripe,
                                                            webhooks: Webhooks) -> None:
    """Out of order: the success arrives first;
    the late 'unpaid' completion does not make it pending again."""
    session_id = _purchase(billing_client, buyer)
    unpaid = fake_stripe.complete_session(session_id, paid=False)
    webhooks.deliver(
        event("checkout.session.async_payment_succeeded", fake_stripe.settle_session(session_id)))
    webhooks.deliver(event("checkout.session.completed", unpaid))
    assert _credits(billing_client, buyer) == {"balance": 100, "pending": 0}
    assert _status(billing_client, buyer, session_id) == "paid"


def test_session_genvid_did_not_create_is_granted_from_its_metadata(
        billing_client: FlaskClient, buyer: Buyer, webhooks: Webhooks, conn: psycopg.Connection) -> None:
    """If our row was never written (crash after Stripe answered),
    the signed session itself says what to grant."""
    session = {"id": "cs_test_orphan", "object": "checkout.session", "mode": "payment", "status": "complete",
               "payment_status": "paid", "client_reference_id": buyer.user.id, "payment_intent": "pi_orphan",
               "metadata": {"user_id": buyer.user.id, "product_id": "starter", "credits": "100"},
               "amount_total": 900, "currency": "usd", "subscription": None}
    webhooks.deliver(event("checkout.session.completed", session))
    assert ledger.balance(conn, user_id=buyer.user.id) == 100
    foreign = {**session, "id": "cs_test_foreign", "client_reference_id": None, "metadata": {}}
    assert webhooks.deliver(event("checkout.session.completed", foreign)).status_code == 200
    assert ledger.balance(conn, user_id=buyer.user.id) == 100


def test_expired_session_is_closed_and_never_granted(billing_client: FlaskClient, buyer: Buyer,
                                                    fake_stripe: FakeStripe, webhooks: Webhooks) -> None:
    session_id = _purchase(billing_client, buyer)
    expired = {**fake_stripe.sessions[session_id], "status": "expired", "url": None}
    assert webhooks.deliver(event("checkout.session.expired", expired)).status_code == 200
    assert _status(billing_client, buyer, session_id) == "expired"
    assert _credits(billing_client, buyer) == {"balance": 0, "pending": 0}


def test_unknown_event_types_are_acknowledged_and_ignored(webhooks: Webhooks,
                                                          conn: psycopg.Connection) -> None:
    delivery = event("customer.created", {"id": "cus_x", "object": "customer"})
    response = webhooks.deliver(delivery)
    assert response.status_code == 200 and response.get_json()["data"]["result"] == "ignored"
    assert db.billing_events.get_stripe_event(conn, id=delivery["id"]) is None


# --- refunds -----------------------------------------------------------------------------------------------

def _paid_purchase(client: FlaskClient, buyer: Buyer, fake: FakeStripe, webhooks: Webhooks,
                   pack_id: str = "starter") -> dict[str, Any]:
    session = fake.complete_session(_purchase(client, buyer, pack_id))
    webhooks.deliver(event("checkout.session.completed", session))
    return session


def _charge(session: dict[str, Any], *, refunded: int, charge_id: str = "ch_test_1") -> dict[str, Any]:
    amount = session["amount_total"]
    return {"id": charge_id, "object": "charge", "amount": amount, "amount_refunded": refunded,
            "refunded": refunded == amount, "payment_intent": session["payment_intent"],
            "customer": session["customer"], "currency": "usd", "metadata": {}}


def test_full_refund_claws_back_all_credits(billing_client: FlaskClient, buyer: Buyer,
                                            fake_stripe: FakeStripe, webhooks: Webhooks) -> None:
    session = _paid_purchase(billing_client, buyer, fake_stripe, webhooks)
    webhooks.deliver(event("charge.refunded", _charge(session, refunded=900)))
    assert _credits(billing_client, buyer)["balance"] == 0
    entries = billing_client.get("/api/credits/ledger", headers=buyer.headers).get_json()["data"]
    assert [(e["delta"], e["reason"]) for e in entries] == [(-100, "refund_clawback"), (100, "checkout")]


def test_partial_refunds_claw_back_proportionally_once_each(billing_client: FlaskClient, buyer: Buyer,
                                                            fake_stripe: FakeStripe,
                                                            webhooks: Webhooks) -> None:
    """Refunds of 4.50 then the rest of a 9.00 pack of 100 credits: -50, then -50;
    repeats and reorders change nothing."""
    session = _paid_purchase(billing_client, buyer, fake_stripe, webhooks)
    half = event("charge.refunded", _charge(session, refunded=450))
    webhooks.deliver(half)
    assert _credits(billing_client, buyer)["balance"] == 50
    webhooks.deliver(event("charge.refunded", _charge(session, refunded=450)))   # another event, same state
    assert _credits(billing_client, buyer)["balance"] == 50
    webhooks.deliver(event("charge.refunded", _charge(session, refunded=900)))
    assert _credits(billing_client, buyer)["balance"] == 0
    webhooks.deliver(event("charge.refunded", _charge(session, refunded=450)))   # a late, older view
    assert _credits(billing_client, buyer)["balance"] == 0


def test_refund_after_spending_goes_negative_and_blocks_renders(
        billing_client: FlaskClient, buyer: Buyer, fake_stripe: FakeStripe, webhooks: Webhooks,
        pay_for_render: Callable[..., bool]) -> None:
    """Credits already spent are still clawed back: the balance goes negative and debits are refused."""
    session = _paid_purchase(billing_client, buyer, fake_stripe, webhooks)
    assert pay_for_render(buyer.user.id, "vid_1", 80)
    webhooks.deliver(event("charge.refunded", _charge(session, refunded=900)))
    assert _credits(billing_client, buyer)["balance"] == -80
    assert not pay_for_render(buyer.user.id, "vid_2", 1)


def test_refund_arriving_before_the_completion_is_retried_later(
        billing_client: FlaskClient, buyer: Buyer, fake_stripe: FakeStripe, webhooks: Webhooks,
        conn: psycopg.Connection) -> None:
    """A refund of a genvid charge whose purchase is not applied yet answers 409 (Stripe retries),
    records nothing."""
    session = fake_stripe.complete_session(_purchase(billing_client, buyer))
    charge = {**_charge(session, refunded=900), "metadata": {"user_id": buyer.user.id}}
    refund = event("charge.refunded", charge)
    early = webhooks.deliver(refund)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "EVENT_OUT_OF_ORDER"
    assert db.billing_events.get_stripe_event(conn, id=refund["id"]) is None
    webhooks.deliver(event("checkout.session.completed", session))
    assert webhooks.deliver(refund).status_code == 200
    assert _credits(billing_client, buyer)["balance"] == 0


def test_refund_of_a_charge_genvid_did_not_sell_is_ignored(webhooks: Webhooks, buyer: Buyer,
                                                           billing_client: FlaskClient) -> None:
    charge = {"id": "ch_other", "object": "charge", "amount": 500, "amount_refunded": 500, "refunded": True,
              "payment_intent": "pi_unknown", "metadata": {}}
    assert webhooks.deliver(event("charge.refunded", charge)).status_code == 200
    assert _credits(billing_client, buyer)["balance"] == 0


# --- isolation ---------------------------------------------------------------------------------------------

def test_users_see_only_their_own_credits(billing_client: FlaskClient, buyer: Buyer, fake_stripe: FakeStripe,
                                          webhooks: Webhooks, conn: psycopg.Connection) -> None:
    """Another user's balance, ledger and checkout sessions are untouched and invisible."""
    from factories import bearer, create_session, create_user
    _paid_purchase(billing_client, buyer, fake_stripe, webhooks)
    other = create_user(conn, email="other@example.com")
    other_headers = bearer(create_session(conn, user_id=other.id))
    assert billing_client.get("/api/credits", headers=other_headers).get_json()["data"] == {"balance": 0,
                                                                                            "pending": 0}
    assert billing_client.get("/api/credits/ledger", headers=other_headers).get_json()["data"] == []
    assert _credits(billing_client, buyer)["balance"] == 100
    assert db.billing_checkout.sum_pending_credits(conn, user_id=other.id) == 0
