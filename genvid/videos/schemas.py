"""Request and response shapes of the video API (pydantic);
VideoOut.of() is how a video row is shown to its owner."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from db import models
from genvid.request_models import QuerySchema, Schema
from genvid.videos.limits import MAX_SCRIPT, MAX_TITLE

# Unicode's control characters (category Cc: U+0000-U+001F, U+007F-U+009F) but newline and tab, found by one
# regular expression scan (12 us for a 5,000-character script; asking unicodedata per character took 180 us).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _control_characters(text: str) -> list[str]:
    """Control characters (Unicode category Cc) other than newline and tab,
    written as U+ and four hex digits."""
    return sorted({f"U+{ord(ch):04X}" for ch in _CONTROL.findall(text)})


class CreateVideo(Schema):
    """POST /api/videos."""

    avatar_id: str = Field(min_length=1, max_length=255, description="An id from GET /api/avatars.")
    voice_id: str = Field(min_length=1, max_length=255, description="An id from GET /api/voices.")
    script: str = Field(min_length=1, max_length=MAX_SCRIPT,
                        description=f"What the avatar says: 1-{MAX_SCRIPT} characters; newlines and tabs "
                                    f"allowed, "
                                    "no other control characters.")
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    aspect_ratio: Literal["16:9", "9:16", "1:1", "4:5", "5:4"] = "16:9"
    resolution: Literal["720p", "1080p", "4k"] = "720p"
    background: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$",
                                   description="A background colour, #rrggbb.")
    captions: bool = False

    @field_validator("script")
    @classmethod
    def _script_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("The script must contain something to say.")
        bad = _control_characters(value)
        if bad:
            raise ValueError(f"The script contains control characters ({', '.join(bad[:5])}); "
                             "only newlines and tabs are allowed.")
        return value

    @field_validator("title")
    @classmethod
    def _title_text(cls, value: str | None) -> str | None:
        if value is not None and (_control_characters(value) or "\n" in value or "\t" in value):
            raise ValueError("The title must be a single line without control characters.")
        return value


class Page(QuerySchema):
    """Keyset pagination: `limit` rows after `cursor` (meta.next_cursor of the previous page)."""

    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=1000)


class AvatarQuery(Page):
    """GET /api/avatars filters."""

    gender: str | None = Field(default=None, max_length=32)
    premium: bool | None = None


class VoiceQuery(Page):
    """GET /api/voices filters."""

    gender: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=64)
    premium: bool | None = None


class VideoQuery(Page):
    """GET /api/videos filters."""

    status: models.VideoStatus | None = None


class VideoWarning(BaseModel):
    code: str = Field(description="Stable, e.g. silent_audio (the offline renderer had no speech engine).")
    message: str


class VideoOut(BaseModel):
    """A video as its owner sees it; media URLs are signed and short-lived."""

    id: str
    status: models.VideoStatus
    title: str | None
    avatar_id: str
    voice_id: str
    script: str
    aspect_ratio: str
    resolution: str
    background: str | None
    captions: bool
    credits: int
    duration: float | None
    failure: dict[str, str] | None
    warnings: list[VideoWarning] = Field(description="What the owner should know about the finished video.")
    video_url: str | None
    thumbnail_url: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    finished_at: datetime | None
    batch_id: str | None = Field(description="The batch this video is a row of (POST /api/batches), if any.")
    batch_row: int | None = Field(description="Its row number in that batch (1-based).")

    @classmethod
    def of(cls, video: models.Video, *, media_url: Callable[[str], str]) -> VideoOut:
        """The API form of a video row: every field the row shares with this model, plus the failure, the
        warnings and the media links (media_url(key) turns a storage key into a signed link)."""
        shared = {name: getattr(video, name) for name in cls.model_fields if hasattr(video, name)}
        return cls.model_validate({**shared, **outcome_of(video, media_url=media_url)})


def outcome_of(video: models.Video, *, media_url: Callable[[str], str]) -> dict[str, Any]:
    """What a video came to, as every answer showing a video writes it (a video, a batch's row): its
    failure (failed or cancelled), its warnings, and signed links to its media (media_url(key) signs a
    storage key)."""
    failed = video.status in (models.VideoStatus.FAILED, models.VideoStatus.CANCELLED)
    return {
        "failure": ({"code": video.failure_code or "failed",
                     "message": video.failure_message or "The render failed."} if failed else None),
        "warnings": video.warnings or [],
        "video_url": media_url(video.video_key) if video.video_key else None,
        "thumbnail_url": media_url(video.thumbnail_key) if video.thumbnail_key else None,
    }


class AvatarOut(BaseModel):
    id: str
    name: str
    gender: str | None
    preview_image_url: str | None
    preview_video_url: str | None
    default_voice_id: str | None
    premium: bool
    tags: list[str]


class VoiceOut(BaseModel):
    id: str
    name: str
    language: str | None
    gender: str | None
    preview_audio_url: str | None
    premium: bool


class DeleteOut(BaseModel):
    id: str
    cancelled: bool
    deleted: bool
    refunded_credits: int


class HeyGenWebhookOut(BaseModel):
    received: bool
    duplicate: bool
