"""Billing fixtures: users with credits, separate connections, a fake Stripe, signed webhook deliveries."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from conftest import Services
from factories import bearer, create_session, create_user
from fakes.stripe import WEBHOOK_SECRET, FakeStripe, sign
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import db.videos_catalogue
import db.videos_videos
from db import models
from genvid.billing import ledger
from genvid.clock import system_now


@pytest.fixture
def billing_user(conn: psycopg.Connection) -> models.User:
    """A signed-up user with no credits yet."""
    return create_user(conn, email="buyer@example.com")


@pytest.fixture
def fund(conn: psycopg.Connection) -> Callable[..., None]:
    """fund(user_id, credits) grants credits through the production ledger, as an operator would."""
    counter = iter(range(1_000_000))

    def give(user_id: str, credits: int) -> None:
        assert ledger.grant(conn, user_id=user_id, credits=credits, reason="test_grant",
                            reference=f"{user_id}:{next(counter)}")
    return give


@pytest.fixture
def pay_for_render(conn: psycopg.Connection) -> Callable[..., bool]:
    """pay_for_render(user_id, video_id, credits, on=conn): a render paid for by the statement POST
    /api/videos runs (CreatePaidVideo: video row, ledger debit, balance, at once) at any price; False when it
    refused."""
    now = system_now()
    db.videos_catalogue.upsert_avatar(conn, provider="test", provider_id="avatar", name="Avatar", gender=None,
                                      preview_image_url=None, preview_video_url=None, default_voice_id=None,
                                      premium=False, tags=[], now=now)
    db.videos_catalogue.upsert_voice(conn, provider="test", provider_id="voice", name="Voice", language=None,
                                     gender=None, preview_audio_url=None, premium=False, now=now)

    def pay(user_id: str, video_id: str, credits: int, *, on: psycopg.Connection | None = None) -> bool:
        row = db.videos_videos.create_paid_video(
            on or conn, id=video_id, user_id=user_id, provider="test", avatar_id="avatar", voice_id="voice",
            script="Hello.", title=None, aspect_ratio="16:9", resolution="720p", background=None,
            captions=False,
            credits=credits, idempotency_key=None, now=now, reason=ledger.RENDER, low_credits=0)
        return row is not None
    return pay


@pytest.fixture
def connect(services: Services) -> Callable[[], psycopg.Connection]:
    """A new, separate, non-autocommit connection (each thread of a concurrency test gets its own)."""
    def open_connection() -> psycopg.Connection:
        return psycopg.connect(services.database_url)
    return open_connection


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """A fake Stripe API on loopback (see tests/fakes/stripe.py)."""
    fake = FakeStripe()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def billing_app(make_app: Callable[..., Flask], fake_stripe: FakeStripe) -> Flask:
    """The app with billing on, talking to the fake Stripe with one retry. The timeout is generous, so that
    only a request the fake holds (fake_stripe.hold()) ever reaches it, however busy the machine."""
    return make_app(stripe_secret_key=fake_stripe.api_key, stripe_webhook_secret=WEBHOOK_SECRET,
                    stripe_api_base=fake_stripe.base_url, app_url="https://app.example.com",
                    stripe_timeout_seconds=10, stripe_max_network_retries=1)


@pytest.fixture
def billing_client(billing_app: Flask) -> FlaskClient:
    return billing_app.test_client()


@dataclass
class Buyer:
    user: models.User
    headers: dict[str, str]


@pytest.fixture
def buyer(conn: psycopg.Connection, billing_user: models.User) -> Buyer:
    """billing_user with a bearer session token."""
    return Buyer(billing_user, bearer(create_session(conn, user_id=billing_user.id)))


class Webhooks:
    """Deliver events to /api/webhooks/stripe signed as Stripe signs them."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def deliver(self, payload: dict[str, Any] | bytes, *, secret: str = WEBHOOK_SECRET,
                timestamp: int | None = None, signature: str | None = None) -> TestResponse:
        body = payload if isinstance(payload, bytes) else json.dumps(payload, indent=2).encode()
        header = signature if signature is not None else sign(body, secret, timestamp=timestamp)
        headers = {"Stripe-Signature": header} if header else {}
        return self.client.post("/api/webhooks/stripe", data=body, headers=headers,
                                content_type="application/json; charset=utf-8")


@pytest.fixture
def webhooks(billing_client: FlaskClient) -> Webhooks:
    return Webhooks(billing_client)
