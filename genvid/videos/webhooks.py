"""Provider webhooks: HeyGen's signed deliveries as hints, and the endpoint secret kept encrypted at rest.

A delivery is verified on the raw body (genvid.videos.heygen_signatures.verify_webhook: HMAC-SHA256, stale
timestamps refused), recorded by event id so a duplicate does nothing, and turned into an immediate status
check of its video (the check comes due now; a worker's dispatcher sends it within half a second). The status
API stays the truth: a forged or early "success" cannot complete anything.

The secret from `genvid heygen register-webhook` is stored sealed with ENCRYPTION_KEY (genvid.sealing),
its purpose the provider's name.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import psycopg

import db.videos_videos as video_queries
import db.videos_webhooks as queries
from db import models
from genvid import sealing
from genvid.config import Config
from genvid.infra import database
from genvid.videos.heygen import DEFAULT_WEBHOOK_EVENTS
from genvid.videos.heygen_signatures import InvalidWebhook, verify_webhook

PROVIDER = "heygen"
HINT_EVENTS = DEFAULT_WEBHOOK_EVENTS     # the events register-webhook subscribes to


@dataclass(frozen=True)
class Delivery:
    """What a webhook delivery did."""

    event_id: str
    duplicate: bool
    video_id: str | None


def save_endpoint(conn: psycopg.Connection, *, endpoint_id: str, url: str, secret: str, encryption_key: str,
                  now: datetime) -> None:
    """Remember a registered endpoint and its (encrypted) signing secret."""
    queries.save_webhook_endpoint(conn, provider=PROVIDER, endpoint_id=endpoint_id, url=url,
                                  secret_encrypted=sealing.seal(secret, encryption_key=encryption_key,
                                                                 purpose=PROVIDER), now=now)


def secrets_for(conn: psycopg.Connection, config: Config) -> list[str]:
    """Secrets a delivery may be signed with: the registered endpoint's, then HEYGEN_WEBHOOK_SECRET."""
    found: list[str] = []
    endpoint = queries.get_webhook_endpoint(conn, provider=PROVIDER)
    if endpoint is not None:
        try:
            found.append(sealing.unseal(endpoint.secret_encrypted, encryption_key=config.encryption_key,
                                         purpose=PROVIDER))
        except sealing.UnsealError:
            pass   # sealed under an older ENCRYPTION_KEY: register again; the env secret may still work
    if config.heygen_webhook_secret:
        found.append(config.heygen_webhook_secret)
    return found


def receive_heygen(*, config: Config, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> Delivery:
    """Verify, deduplicate and act on one HeyGen delivery; InvalidWebhook (400) when it cannot be trusted."""
    with database.connection() as conn:
        candidates = secrets_for(conn, config)
    payload = _verified(candidates, headers, raw_body, now)
    event_id = str(payload.get("event_id") or hashlib.sha256(raw_body).hexdigest())
    event_type = str(payload.get("event_type") or "")
    data = payload.get("event_data")
    data = data if isinstance(data, dict) else {}
    video: models.Video | None = None
    with database.transaction() as conn:
        new = queries.record_webhook_event(conn, provider=PROVIDER, event_id=event_id, event_type=event_type,
                                           now=now) == 1
        if new and event_type in HINT_EVENTS:
            video = _video_of(conn, data)
            if video is not None:
                video_queries.hasten_check(conn, now=now, id=video.id)
    return Delivery(event_id=event_id, duplicate=not new, video_id=video.id if video else None)


def _verified(candidates: list[str], headers: Mapping[str, str], raw_body: bytes, now: datetime
              ) -> dict[str, object]:
    if not candidates:
        raise InvalidWebhook("no webhook secret is configured")
    error: InvalidWebhook | None = None
    for secret in candidates:
        try:
            return verify_webhook(secret, headers, raw_body, now=now.timestamp())
        except InvalidWebhook as exc:
            error = exc
    assert error is not None
    raise error


def _video_of(conn: psycopg.Connection, data: dict[str, object]) -> models.Video | None:
    """The video an event is about: by HeyGen's video id, else by our callback_id (the video id)."""
    provider_video_id = data.get("video_id")
    if isinstance(provider_video_id, str) and provider_video_id:
        video = video_queries.get_video_by_provider_video_id(conn, provider=PROVIDER,
                                                            provider_video_id=provider_video_id)
        if video is not None:
            return video
    callback_id = data.get("callback_id")
    if isinstance(callback_id, str) and callback_id:
        return video_queries.get_video(conn, id=callback_id)
    return None
