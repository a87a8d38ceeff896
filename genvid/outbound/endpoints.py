"""Webhook endpoints a user manages, and their delivery logs.

A user has at most MAX_ENDPOINTS. The signing secret is made here, returned once (on create and on rotate) and
kept sealed under ENCRYPTION_KEY; after a rotation the old secret keeps signing beside the new one for
SECRET_OVERLAP, so receivers switch without missing a delivery. Disabling an endpoint (its owner, or genvid
after a day of failures) ends its pending deliveries; enabling it again clears the failure streak, and any
delivery can be sent again on request. Another user's endpoint or delivery is indistinguishable from a missing
one (404). Every function runs in the caller's transaction; none imports Flask.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

import db.outbound_webhooks as queries
from db import models
from genvid import sealing
from genvid.auth.ids import generate_id
from genvid.cursors import decode_cursor, encode_cursor, invalid_cursor
from genvid.errors import Conflict, NotFound, ValidationFailed
from genvid.outbound import addresses, signing

MAX_ENDPOINTS = 20
SECRET_OVERLAP = timedelta(hours=24)


class EndpointNotFound(NotFound):
    code, message = "WEBHOOK_ENDPOINT_NOT_FOUND", "No such webhook endpoint."


class DeliveryNotFound(NotFound):
    code, message = "WEBHOOK_DELIVERY_NOT_FOUND", "No such delivery of this endpoint."


class TooManyEndpoints(Conflict):
    code, message = "TOO_MANY_WEBHOOK_ENDPOINTS", f"An account has at most {MAX_ENDPOINTS} webhook endpoints."


class EndpointDisabled(Conflict):
    code, message = "WEBHOOK_ENDPOINT_DISABLED", "Enable the endpoint before redelivering to it."


class DeliveryInFlight(Conflict):
    code = "WEBHOOK_DELIVERY_IN_FLIGHT"
    message = "An attempt of this delivery is under way; try again shortly."


def url_refused(reason: str) -> ValidationFailed:
    return ValidationFailed("WEBHOOK_URL_REFUSED", "This URL cannot receive webhooks.",
                            details=[{"field": "url", "message": reason}])


def _check_url(url: str, *, production: bool) -> str:
    try:
        addresses.check(url, production=production)
    except addresses.UrlRefused as refused:
        raise url_refused(str(refused)) from None
    return url


@dataclass(frozen=True)
class WithSecret:
    """An endpoint and its new signing secret, the one time it is shown."""

    endpoint: models.WebhookEndpoint
    secret: str


def create_endpoint(conn: psycopg.Connection, *, user_id: str, url: str, event_types: list[str],
                    description: str, enabled: bool, encryption_key: str, production: bool,
                    now: datetime) -> WithSecret:
    """Register an endpoint (its URL checked: addresses.check) with a new secret."""
    url = _check_url(url, production=production)
    if (queries.count_endpoints(conn, user_id=user_id) or 0) >= MAX_ENDPOINTS:
        raise TooManyEndpoints()
    endpoint_id = generate_id()
    secret = signing.new_secret()
    row = queries.create_endpoint(conn, id=endpoint_id, user_id=user_id, url=url, description=description,
                                  event_types=event_types, enabled=enabled, now=now,
                                  secret=_seal(secret, endpoint_id, encryption_key))
    assert row is not None
    return WithSecret(row, secret)


def list_endpoints(conn: psycopg.Connection, *, user_id: str) -> list[models.WebhookEndpoint]:
    return queries.list_endpoints(conn, user_id=user_id)


def get_endpoint(conn: psycopg.Connection, *, user_id: str, endpoint_id: str) -> models.WebhookEndpoint:
    row = queries.get_endpoint(conn, id=endpoint_id, user_id=user_id)
    if row is None:
        raise EndpointNotFound()
    return row


def update_endpoint(conn: psycopg.Connection, *, user_id: str, endpoint_id: str, url: str | None,
                    description: str | None, event_types: list[str] | None, enabled: bool | None,
                    production: bool, now: datetime) -> models.WebhookEndpoint:
    """Change what was given; disabling ends the endpoint's pending deliveries."""
    if url is not None:
        url = _check_url(url, production=production)
    row = queries.update_endpoint(conn, set_url=url is not None, url=url or "",
                                  set_description=description is not None, description=description or "",
                                  set_event_types=event_types is not None, event_types=event_types or [],
                                  set_enabled=enabled is not None, enabled=bool(enabled), now=now,
                                  id=endpoint_id, user_id=user_id)
    if row is None:
        raise EndpointNotFound()
    if enabled is False:
        queries.fail_pending_deliveries(conn, endpoint_id=endpoint_id, now=now,
                                        reason="endpoint disabled by its owner")
    return row


def delete_endpoint(conn: psycopg.Connection, *, user_id: str, endpoint_id: str) -> None:
    """Delete the endpoint with its deliveries and their log."""
    if not queries.delete_endpoint(conn, id=endpoint_id, user_id=user_id):
        raise EndpointNotFound()


def rotate_secret(conn: psycopg.Connection, *, user_id: str, endpoint_id: str, encryption_key: str,
                  now: datetime) -> WithSecret:
    """A new secret now; the old one also signs for SECRET_OVERLAP."""
    secret = signing.new_secret()
    row = queries.rotate_endpoint_secret(conn, previous_until=now + SECRET_OVERLAP, now=now, id=endpoint_id,
                                         user_id=user_id, secret=_seal(secret, endpoint_id, encryption_key))
    if row is None:
        raise EndpointNotFound()
    return WithSecret(row, secret)


@dataclass(frozen=True)
class LogPage:
    """One page of an endpoint's deliveries, each with its attempts."""

    deliveries: list[queries.ListDeliveriesRow]
    attempts: dict[str, list[models.WebhookAttempt]]
    next_cursor: str | None


def list_deliveries(conn: psycopg.Connection, *, user_id: str, endpoint_id: str,
                    status: models.WebhookDeliveryStatus | None, cursor: str | None, limit: int) -> LogPage:
    """The endpoint's deliveries, newest first, with every attempt (status, latency, answer excerpt)."""
    get_endpoint(conn, user_id=user_id, endpoint_id=endpoint_id)
    before_created, before_id = _after(cursor)
    rows = queries.list_deliveries(conn, endpoint_id=endpoint_id, status=status,
                                   before_created_at=before_created, before_id=before_id, page_size=limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    attempts: dict[str, list[models.WebhookAttempt]] = {row.id: [] for row in rows}
    for attempt in queries.list_attempts(conn, delivery_ids=list(attempts)):
        attempts[attempt.delivery_id].append(attempt)
    next_cursor = encode_cursor(rows[-1].created_at.isoformat(), rows[-1].id) if more and rows else None
    return LogPage(rows, attempts, next_cursor)


def _after(cursor: str | None) -> tuple[datetime | None, str | None]:
    if not cursor:
        return None, None
    created, delivery_id = decode_cursor(cursor, parts=2)
    try:
        return datetime.fromisoformat(created), delivery_id
    except ValueError:
        raise invalid_cursor() from None


def redeliver(conn: psycopg.Connection, *, user_id: str, endpoint_id: str, delivery_id: str,
              now: datetime) -> models.WebhookDelivery:
    """Make the delivery due now (the caller enqueues it after the commit)."""
    endpoint = get_endpoint(conn, user_id=user_id, endpoint_id=endpoint_id)
    if not endpoint.enabled:
        raise EndpointDisabled()
    row = queries.redeliver_delivery(conn, now=now, id=delivery_id, endpoint_id=endpoint_id)
    if row is None:
        if queries.get_delivery(conn, id=delivery_id, endpoint_id=endpoint_id) is None:
            raise DeliveryNotFound()
        raise DeliveryInFlight()
    return row


def _seal(secret: str, endpoint_id: str, encryption_key: str) -> str:
    return sealing.seal(secret, encryption_key=encryption_key,
                        purpose=signing.SECRET_PURPOSE + endpoint_id)
