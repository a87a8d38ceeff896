"""Outbound webhooks, signed as Standard Webhooks specifies (https://www.standardwebhooks.com).

Users register endpoints (routes.py, endpoints.py) for event types (events.py). Domain code calls
`emit(conn, ...)` (videos/outbound_events.py, billing/outbound_events.py) inside the transaction that makes
the change an event reports: the event row (the outbox) and one delivery per subscribed endpoint commit or
vanish with that change, so an event is emitted exactly once. Every worker's loop dispatches the deliveries
that are due from their rows (dispatcher.py); each runs as an RQ job (delivery.py: signed POSTs through
sender.py with SSRF rules from addresses.py, retried with exponential backoff for a day, logged attempt by
attempt). Nothing is scheduled in Redis.
"""
from genvid.outbound.events import (
    CREDITS_LOW,
    CREDITS_PURCHASED,
    EVENT_TYPES,
    VIDEO_COMPLETED,
    VIDEO_FAILED,
    emit,
)

__all__ = ["CREDITS_LOW", "CREDITS_PURCHASED", "EVENT_TYPES", "VIDEO_COMPLETED", "VIDEO_FAILED", "emit"]
