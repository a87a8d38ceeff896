"""The avatar and voice catalogue: synced from the provider into PostgreSQL, listed with keyset pagination.

Nothing here is hard-coded: the rows come from the provider's listings (HeyGen v3 looks and voices, or the
offline renderer's built-in set). Entries missing from a complete listing are retired, never deleted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

import db.videos_catalogue as queries
from db import models
from genvid.cursors import decode_cursor, encode_cursor
from genvid.infra import database
from genvid.videos.provider_contract import VideoProvider


@dataclass(frozen=True)
class SyncResult:
    """What one sync did."""

    avatars: int
    voices: int
    retired_avatars: int
    retired_voices: int


def sync(provider: VideoProvider, *, now: datetime) -> SyncResult:
    """Fetch the whole catalogue (no connection held meanwhile), then upsert and retire in one transaction.

    A listing that comes back empty retires nothing: an empty catalogue is far likelier to be an upstream
    glitch than the truth, and retiring every avatar would stop all renders.
    """
    avatars = list(provider.list_avatars())
    voices = list(provider.list_voices())
    with database.transaction() as conn:
        for avatar in avatars:
            queries.upsert_avatar(conn, provider=provider.name, provider_id=avatar.provider_id,
                                  name=avatar.name,
                                  gender=avatar.gender, preview_image_url=avatar.preview_image_url,
                                  preview_video_url=avatar.preview_video_url,
                                  default_voice_id=avatar.default_voice_id, premium=avatar.premium,
                                  tags=list(avatar.tags), now=now)
        for voice in voices:
            queries.upsert_voice(conn, provider=provider.name, provider_id=voice.provider_id, name=voice.name,
                                 language=voice.language, gender=voice.gender,
                                 preview_audio_url=voice.preview_audio_url, premium=voice.premium, now=now)
        retired_avatars = (queries.retire_avatars_not_synced_since(conn, now=now, provider=provider.name,
                                                                   started_at=now) if avatars else 0)
        retired_voices = (queries.retire_voices_not_synced_since(conn, now=now, provider=provider.name,
                                                                 started_at=now) if voices else 0)
    return SyncResult(len(avatars), len(voices), retired_avatars, retired_voices)


def list_avatars(conn: psycopg.Connection, *, provider: str, gender: str | None, premium: bool | None,
                 cursor: str | None, limit: int) -> tuple[list[models.Avatar], str | None]:
    """One page of live avatars and the cursor of the next page (None on the last)."""
    after_name, after_id = decode_cursor(cursor, parts=2) if cursor else (None, None)
    rows = queries.list_avatars(conn, provider=provider, gender=gender, premium=premium,
                                after_name=after_name, after_id=after_id, page_size=limit + 1)
    return _page(rows, limit)


def list_voices(conn: psycopg.Connection, *, provider: str, gender: str | None, language: str | None,
                premium: bool | None, cursor: str | None, limit: int
                ) -> tuple[list[models.Voice], str | None]:
    """One page of live voices and the cursor of the next page (None on the last)."""
    after_name, after_id = decode_cursor(cursor, parts=2) if cursor else (None, None)
    rows = queries.list_voices(conn, provider=provider, gender=gender, language=language, premium=premium,
                               after_name=after_name, after_id=after_id, page_size=limit + 1)
    return _page(rows, limit)


def _page(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last.name, last.provider_id)


def _public_url(url: str | None, base_url: str) -> str | None:
    """Only web addresses reach clients. A root-relative path (the offline renderer's previews, which genvid
    serves itself) is made absolute on base_url; file:// URLs from older syncs name paths on our disk."""
    if url and url.startswith("/") and not url.startswith("//"):
        return base_url.rstrip("/") + url
    return url if url and url.startswith(("https://", "http://")) else None


def avatar_json(avatar: models.Avatar, *, base_url: str) -> dict[str, Any]:
    """An avatar as the API shows it; its id is what POST /api/videos takes as avatar_id."""
    return {"id": avatar.provider_id, "name": avatar.name, "gender": avatar.gender,
            "preview_image_url": _public_url(avatar.preview_image_url, base_url),
            "preview_video_url": _public_url(avatar.preview_video_url, base_url),
            "default_voice_id": avatar.default_voice_id, "premium": avatar.premium, "tags": avatar.tags}


def voice_json(voice: models.Voice, *, base_url: str) -> dict[str, Any]:
    """A voice as the API shows it; its id is what POST /api/videos takes as voice_id."""
    return {"id": voice.provider_id, "name": voice.name, "language": voice.language, "gender": voice.gender,
            "preview_audio_url": _public_url(voice.preview_audio_url, base_url), "premium": voice.premium}
