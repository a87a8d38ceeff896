"""Delivering one webhook: the RQ job, its retries, and the endpoint that keeps failing.

- A job carries a delivery id; the workers' loops enqueue it when the delivery is due
  (genvid.outbound.dispatcher), so it only ever sees committed rows. It claims the delivery with a guarded
  UPDATE (due, not in flight, endpoint enabled), so duplicate jobs are harmless, and holds no connection while
  it posts.
- Retries: a failed attempt n is tried again after base * 2^(n-1) seconds (webhook_retry_base_seconds, 15),
  capped at webhook_retry_cap_seconds (4 h), jittered up to +10%, until webhook_retry_window_seconds (a day)
  after the delivery was made; the last attempt happens at that mark. Then the delivery has failed.
- An endpoint whose every attempt failed for that same window (since its last success) is disabled, its
  pending deliveries end, and its owner gets one email.
Retry times are on the workers' clock (genvid.clock) and kept in the row; the loops dispatch attempts when
due.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rq import Queue

import db.auth_users
import db.outbound_webhooks as queries
from db import models
from genvid import clock, sealing
from genvid.auth import mail
from genvid.config import Config
from genvid.infra import database, redis_client, services
from genvid.outbound import sender, signing

log = logging.getLogger("genvid.outbound.delivery")

QUEUE = "webhooks"
FAILED_JOBS_KEPT = 86400


@dataclass(frozen=True)
class Retries:
    """The retry schedule (Config fields, CONFIG_FILE keys)."""

    base_seconds: float = 15.0
    cap_seconds: float = 14400.0
    window_seconds: float = 86400.0

    @classmethod
    def of(cls, config: Config) -> Retries:
        return cls(config.webhook_retry_base_seconds, config.webhook_retry_cap_seconds,
                   config.webhook_retry_window_seconds)

    def next_attempt(self, attempts: int, *, created_at: datetime, failed_at: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts, or None: the day is over."""
        deadline = created_at + timedelta(seconds=self.window_seconds)
        if failed_at >= deadline:
            return None
        delay = min(self.cap_seconds, self.base_seconds * 2 ** (attempts - 1)) * random.uniform(1.0, 1.1)
        return min(failed_at + timedelta(seconds=delay), deadline)


def enqueue(delivery_ids: Sequence[str]) -> None:
    """One job per delivery, in one Redis round trip
    (the dispatcher calls it inside its claim's transaction)."""
    if not delivery_ids:
        return
    timeout = int(services.started_config().webhook_timeout_seconds) + 60
    redis_client.get_queue(QUEUE).enqueue_many([
        Queue.prepare_data(deliver, args=(delivery_id,), timeout=timeout, result_ttl=0,
                           failure_ttl=FAILED_JOBS_KEPT, description=f"webhook delivery {delivery_id}")
        for delivery_id in delivery_ids])


def deliver(delivery_id: str) -> None:
    """RQ job: one attempt of a delivery. Its signature is a wire format: add keywords only."""
    config = services.started_config()
    now = clock.now()
    lease = timedelta(seconds=config.webhook_timeout_seconds + 60)
    with database.connection() as conn:
        claimed = queries.claim_delivery(conn, id=delivery_id, now=now, lease_until=now + lease)
    if claimed is None:
        return                               # done, not due, in flight elsewhere, or its endpoint is disabled
    body = claimed.payload.encode()
    outcome = sender.post(claimed.url, body=body, timeout=config.webhook_timeout_seconds,
                          max_bytes=config.webhook_max_response_bytes, production=config.is_production,
                          headers=signing.headers(_secrets(claimed, now, config), msg_id=claimed.event_id,
                                                  timestamp=int(time.time()), body=body))
    disabled = _record(claimed, outcome, attempted_at=now, retries=Retries.of(config))
    log.info("webhook attempt", extra={"delivery_id": delivery_id, "attempt": claimed.attempts,
                                       "status_code": outcome.status_code, "error": outcome.error,
                                       "latency_ms": outcome.latency_ms})
    if disabled is not None:
        _tell_owner(disabled, config)


def _secrets(claimed: queries.ClaimDeliveryRow, now: datetime, config: Config) -> list[str]:
    """The current secret, and the previous one while its rotation overlap lasts."""
    purpose = signing.SECRET_PURPOSE + claimed.endpoint_id
    found = [sealing.unseal(claimed.secret, encryption_key=config.encryption_key, purpose=purpose)]
    previous_until = claimed.previous_secret_expires_at
    if claimed.previous_secret and previous_until and previous_until > now:
        found.append(
            sealing.unseal(claimed.previous_secret, encryption_key=config.encryption_key, purpose=purpose))
    return found


def _record(claimed: queries.ClaimDeliveryRow, outcome: sender.Outcome, *, attempted_at: datetime,
            retries: Retries) -> models.WebhookEndpoint | None:
    """Log the attempt and move the delivery on; the endpoint, when this failure disabled it."""
    now = clock.now()
    with database.transaction() as conn:
        queries.record_attempt(conn, delivery_id=claimed.id, attempt=claimed.attempts,
                               started_at=attempted_at,
                               status_code=outcome.status_code, error=outcome.error,
                               latency_ms=outcome.latency_ms, response_excerpt=outcome.excerpt)
        if outcome.succeeded:
            if queries.finish_attempt(conn, status=models.WebhookDeliveryStatus.SUCCEEDED,
                                      next_attempt_at=attempted_at, attempted_at=attempted_at,
                                      status_code=outcome.status_code, error=None, now=now, id=claimed.id,
                                      attempt=claimed.attempts) is not None:
                queries.mark_endpoint_healthy(conn, id=claimed.endpoint_id)
            return None
        later = retries.next_attempt(claimed.attempts, created_at=claimed.created_at, failed_at=attempted_at)
        status = models.WebhookDeliveryStatus.PENDING if later else models.WebhookDeliveryStatus.FAILED
        finished = queries.finish_attempt(conn, status=status, next_attempt_at=later or attempted_at,
                                          attempted_at=attempted_at, status_code=outcome.status_code,
                                          error=_error(outcome), now=now, id=claimed.id,
                                          attempt=claimed.attempts)
        if finished is None:
            return None                      # a later attempt took over meanwhile
        queries.mark_endpoint_failing(conn, id=claimed.endpoint_id, failed_at=attempted_at)
        disabled = queries.disable_failing_endpoint(
            conn, id=claimed.endpoint_id, now=now,
            cutoff=attempted_at - timedelta(seconds=retries.window_seconds))
        if disabled is not None:
            queries.fail_pending_deliveries(conn, endpoint_id=disabled.id, now=now,
                                            reason="endpoint disabled after a day of failures")
        return disabled


def _error(outcome: sender.Outcome) -> str:
    return outcome.error or f"HTTP {outcome.status_code}"


def _tell_owner(endpoint: models.WebhookEndpoint, config: Config) -> None:
    """One email to the owner of an endpoint genvid just disabled (a mail failure is logged, not raised)."""
    with database.connection() as conn:
        user = db.auth_users.get_user(conn, id=endpoint.user_id)
    if user is None:
        return
    hours = round(config.webhook_retry_window_seconds / 3600)
    text = (f"Every delivery to your webhook endpoint {endpoint.url} has failed for {hours} hours, so genvid "
            f"has disabled it and stopped sending to it.\n\n"
            f"Its delivery log (GET /api/webhooks/endpoints/{endpoint.id}/deliveries) shows what the "
            f"endpoint "
            f"answered. Once it works again, enable it (PATCH /api/webhooks/endpoints/{endpoint.id} with "
            f'{{"enabled": true}}) and redeliver what it missed.\n')
    try:
        mail.send(smtp_url=config.smtp_url, sender=config.mail_from, to=user.email,
                  subject="genvid disabled your webhook endpoint", text=text, environment=config.environment)
    except Exception:            # the endpoint is disabled either way; the log says the owner was not told
        log.exception("could not mail the owner of a disabled webhook endpoint",
                      extra={"endpoint_id": endpoint.id})
