"""The small interface every video provider implements (HeyGen v3 over HTTP, or the offline renderer).

Jobs talk to a provider only through this Protocol, so the state machine in genvid.videos is the same
whoever renders. Provider errors are typed: the job decides retry or fail from the class, never from text.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class AvatarInfo:
    """One avatar look as the provider lists it (its id is what a render takes)."""

    provider_id: str
    name: str
    gender: str | None = None
    preview_image_url: str | None = None
    preview_video_url: str | None = None
    default_voice_id: str | None = None
    premium: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class VoiceInfo:
    """One voice as the provider lists it."""

    provider_id: str
    name: str
    language: str | None = None
    gender: str | None = None
    preview_audio_url: str | None = None
    premium: bool = False


@dataclass(frozen=True)
class VideoSpec:
    """What a video is: who says what, framed how. A create asks for one (validated at the edge:
    genvid.videos.schemas.CreateVideo) and a provider renders one."""

    avatar_id: str
    voice_id: str
    script: str
    title: str | None = None
    aspect_ratio: str = "16:9"
    resolution: str = "720p"
    background: str | None = None          # "#rrggbb"
    captions: bool = False


@dataclass(frozen=True)
class RenderRequest(VideoSpec):
    """Everything a provider needs to render one video: the video, and the id its webhook hints name."""

    callback_id: str | None = None


@dataclass(frozen=True)
class RenderWarning:
    """Something a finished video's owner should know (e.g. its soundtrack is silent)."""

    code: str
    message: str


@dataclass(frozen=True)
class RenderStatus:
    """What the provider says about a render right now."""

    state: str                             # "rendering" | "completed" | "failed"
    video_url: str | None = None
    thumbnail_url: str | None = None
    duration: float | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    warnings: tuple[RenderWarning, ...] = ()
    raw: dict = field(default_factory=dict)


class ProviderError(Exception):
    """Base of every provider failure."""

    def __init__(self, message: str, *, code: str = "provider_error", status: int | None = None) -> None:
        self.code = code
        self.status = status
        super().__init__(message)


class TransientProviderError(ProviderError):
    """5xx, timeouts, connection errors, 409 request_in_progress: retry later with backoff."""


class RateLimited(TransientProviderError):
    """429: retry after retry_after seconds."""

    def __init__(self, message: str, *, retry_after: float, code: str = "rate_limit_exceeded") -> None:
        super().__init__(message, code=code, status=429)
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    """4xx validation, auth, not found, insufficient credit: fail the render at once."""


class VideoProvider(Protocol):
    """A renderer of talking-avatar videos."""

    name: str

    def list_avatars(self) -> Iterator[AvatarInfo]:
        """Every avatar look, following pages."""
        ...

    def list_voices(self) -> Iterator[VoiceInfo]:
        """Every voice, following pages."""
        ...

    def create_video(self, request: RenderRequest, *, idempotency_key: str) -> str:
        """Start a render; the same key never starts a second one. Returns the provider's video id."""
        ...

    def get_status(self, provider_video_id: str) -> RenderStatus:
        """The render's current state (the truth; webhooks are only hints)."""
        ...

    def download(self, url: str, destination: str) -> None:
        """Fetch finished media (a presigned URL) to a local file path."""
        ...
