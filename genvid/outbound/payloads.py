"""The events domain code emits, with data shaped as the API returns the thing (see events.py's table).

Media links in video events are the API's signed links, made for BETTER_AUTH_URL and valid for 15 minutes from
the event: a receiver that gets the event late (a retry) fetches GET /api/videos/{id} for fresh ones.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any
from urllib.parse import quote, urlencode

import psycopg

from db import models
from genvid import runtime
from genvid.billing import credits
from genvid.outbound.events import (
    CREDITS_PURCHASED,
    VIDEO_COMPLETED,
    VIDEO_FAILED,
    emit,
)
from genvid.videos import media
from genvid.videos.schemas import video_json


def _media_link(key: str) -> str:
    """The link GET /api/videos/{id} would give for key, made outside a request."""
    config = runtime.config()
    expires, signature = media.sign(key, now=time.time(), secret=config.better_auth_secret)
    query = urlencode({"expires": expires, "signature": signature})
    return f"{config.better_auth_url.rstrip('/')}/api/media/{quote(key, safe='/')}?{query}"


def emit_video_event(conn: psycopg.Connection, video: models.Video) -> None:
    """video.completed or video.failed for a video that just reached that state (in its transaction)."""
    event_type = VIDEO_COMPLETED if video.status == models.VideoStatus.COMPLETED else VIDEO_FAILED
    emit(conn, user_id=video.user_id, type=event_type, reference=video.id,
         data=video_json(video, media_url=_media_link))


def credits_json(conn: psycopg.Connection, *, user_id: str) -> dict[str, Any]:
    """As GET /api/credits."""
    summary = credits.get_summary(conn, user_id=user_id)
    return {"balance": summary.balance, "pending": summary.pending}


def emit_credits_purchased(conn: psycopg.Connection, session: models.CheckoutSession) -> None:
    """credits.purchased for a checkout whose credits were just granted (in the granting transaction)."""
    paid = dataclasses.replace(session, status="paid")
    checkout = {"id": paid.id, "mode": paid.mode, "product_id": paid.product_id, "credits": paid.credits,
                "status": paid.status}
    emit(conn, user_id=session.user_id, type=CREDITS_PURCHASED, reference=session.id,
         data={"checkout": checkout, "credits": credits_json(conn, user_id=session.user_id)})
