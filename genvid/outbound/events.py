"""The events genvid sends, and emit(): the one call domain code makes, inside its own transaction.

| type | when | data |
| --- | --- | --- |
| video.completed | a render finished and its media are stored | the video, as GET /api/videos/{id} |
| video.failed | a render failed (its credits were refunded) | the video, as GET /api/videos/{id} |
| credits.purchased | a credit pack's payment cleared and its credits were granted | {"checkout": GET
  /api/billing/checkout/{id}, "credits": GET /api/credits} |
| credits.low | a render's (or a batch's) debit took the balance below CREDITS_LOW_THRESHOLD (from at or above
  it) | {"credits": GET /api/credits, "threshold": N} |

Every delivery's body is `{"type", "timestamp", "data"}`. An event happens once per (type, reference): the
row is unique on it, and emit() runs in the transaction of the change, so a rollback takes the event with it.
credits.low is written by SQL itself (CreatePaidVideo in queries/videos_videos.sql, CreatePaidBatch in
queries/batches_batches.sql) and fanned out by the workers' loops (genvid.outbound.dispatcher), which also
dispatch every delivery once it is due.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import psycopg

import db.outbound_webhooks as queries
from genvid import clock

VIDEO_COMPLETED = "video.completed"
VIDEO_FAILED = "video.failed"
CREDITS_PURCHASED = "credits.purchased"
CREDITS_LOW = "credits.low"
EVENT_TYPES = (VIDEO_COMPLETED, VIDEO_FAILED, CREDITS_PURCHASED, CREDITS_LOW)


def timestamp(moment: datetime) -> str:
    """The payload's timestamp format (UTC, microseconds),
    as PostgreSQL's to_char writes it for credits.low."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def payload(event_type: str, data: Any, *, at: datetime) -> str:
    """The body every delivery of the event sends."""
    return json.dumps({"type": event_type, "timestamp": timestamp(at), "data": data}, ensure_ascii=False,
                      separators=(",", ":"))


def emit(conn: psycopg.Connection, *, user_id: str, type: str, reference: str, data: Any) -> int:
    """Record the event and its deliveries, due at once, in conn's transaction: they commit or vanish with the
    change, and the workers' loops dispatch them after the commit. Returns how many deliveries were made; a
    repeat of (type, reference) makes none."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    now = clock.now()
    rows = queries.emit_event(conn, now=now, user_id=user_id, type=type, reference=reference,
                              payload=payload(type, data, at=now))
    return len(rows)
