"""Request and response shapes of /api/webhooks/endpoints (pydantic),
and how rows are shown to their owner."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

import db.outbound_webhooks as queries
from db import models
from genvid.request_models import QuerySchema, Schema

EventType = Literal["video.completed", "video.failed", "credits.purchased", "credits.low"]
# What the document says every webhook URL starts with (genvid.outbound.addresses checks the rest, and answers
# 422 WEBHOOK_URL_REFUSED in words a person can act on rather than a pattern).
URL_START = "^[hH][tT][tT][pP][sS]?://"


class CreateEndpoint(Schema):
    """POST /api/webhooks/endpoints."""

    url: str = Field(min_length=1, max_length=2000, json_schema_extra={"pattern": URL_START},
                     description="Where to POST the events: an absolute http(s) URL (https in production, "
                                 "resolving to public addresses only).")
    event_types: list[EventType] = Field(min_length=1, description="The events to send to it.")
    description: str = Field(default="", max_length=500)
    enabled: bool = True

    @field_validator("event_types")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class UpdateEndpoint(Schema):
    """PATCH /api/webhooks/endpoints/{id}: only what is given changes."""

    url: str | None = Field(default=None, min_length=1, max_length=2000,
                            json_schema_extra={"pattern": URL_START})
    event_types: list[EventType] | None = Field(default=None, min_length=1)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None

    @field_validator("event_types")
    @classmethod
    def _once_each(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))


class DeliveryQuery(QuerySchema):
    """GET .../deliveries: newest first, `limit` after `cursor` (meta.next_cursor), optionally by status."""

    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=1000)
    status: models.WebhookDeliveryStatus | None = None


class EndpointOut(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[EventType]
    enabled: bool
    disabled_reason: Literal["manual", "failing"] | None = Field(
        description="Why it is disabled: by its owner, or by genvid after a day of failed deliveries.")
    failing_since: datetime | None = Field(description="The first failed attempt since the last success.")
    created_at: datetime
    updated_at: datetime


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(description="The whsec_ signing secret. Shown this once: store it now.")


class AttemptOut(BaseModel):
    attempt: int
    started_at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null when no answer came.")
    error: str | None
    latency_ms: int
    response_excerpt: str = Field(description="The first KiB of the receiver's answer.")


class DeliveryOut(BaseModel):
    id: str
    event_id: str = Field(description="The webhook-id header: the same for every attempt and redelivery.")
    event_type: EventType
    status: models.WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    attempt_log: list[AttemptOut]


class RedeliveryOut(BaseModel):
    id: str
    event_id: str
    status: models.WebhookDeliveryStatus
    attempts: int = Field(description="Attempts so far; the redelivery will be the next.")


class DeletedOut(BaseModel):
    id: str
    deleted: bool


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def endpoint_json(row: models.WebhookEndpoint, *, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id, "url": row.url, "description": row.description, "event_types": row.event_types,
        "enabled": row.enabled, "disabled_reason": row.disabled_reason,
        "failing_since": _iso(row.failing_since),
        "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
    }
    if secret is not None:
        body["secret"] = secret
    return body


def attempt_json(row: models.WebhookAttempt) -> dict[str, Any]:
    return {"attempt": row.attempt, "started_at": _iso(row.started_at), "status_code": row.status_code,
            "error": row.error, "latency_ms": row.latency_ms, "response_excerpt": row.response_excerpt}


def delivery_json(row: queries.ListDeliveriesRow | models.WebhookDelivery, *, event_type: str,
                  attempts: list[models.WebhookAttempt]) -> dict[str, Any]:
    pending = row.status == models.WebhookDeliveryStatus.PENDING
    return {
        "id": row.id, "event_id": row.event_id, "event_type": event_type, "status": row.status.value,
        "attempts": row.attempts, "next_attempt_at": _iso(row.next_attempt_at) if pending else None,
        "last_attempt_at": _iso(row.last_attempt_at), "last_status_code": row.last_status_code,
        "last_error": row.last_error, "created_at": _iso(row.created_at),
        "attempt_log": [attempt_json(attempt) for attempt in attempts],
    }
