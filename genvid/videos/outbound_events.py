"""The outbound webhook events a render emits (genvid.outbound.events): video.completed and video.failed, with
the video as GET /api/videos/{id} shows it.

Media links in them are the API's signed links, made for BETTER_AUTH_URL and valid for 15 minutes from the
event: a receiver that gets the event late (a retry) fetches GET /api/videos/{id} for fresh ones.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

import psycopg

from db import models
from genvid import clock
from genvid.config import Config
from genvid.outbound.events import VIDEO_COMPLETED, VIDEO_FAILED, emit
from genvid.videos import media
from genvid.videos.schemas import VideoOut


def _media_link(key: str, config: Config) -> str:
    """The link GET /api/videos/{id} would give for key, made outside a request."""
    expires, signature = media.sign(key, now=clock.unix(), secret=config.better_auth_secret)
    query = urlencode({"expires": expires, "signature": signature})
    return f"{config.better_auth_url.rstrip('/')}/api/media/{quote(key, safe='/')}?{query}"


def emit_video_event(conn: psycopg.Connection, video: models.Video, *, config: Config) -> None:
    """video.completed or video.failed for a video that just reached that state (in its transaction); config
    signs its media links."""
    event_type = VIDEO_COMPLETED if video.status == models.VideoStatus.COMPLETED else VIDEO_FAILED
    emit(conn, user_id=video.user_id, type=event_type, reference=video.id,
         data=VideoOut.of(video, media_url=lambda key: _media_link(key, config)).model_dump(mode="json"))
