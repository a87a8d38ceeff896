"""HeyGen v3 over HTTP: the production VideoProvider and webhook registration (heygen_signatures.py checks
the deliveries).

Wire facts come from ../shared/spec/heygen.md (HeyGen's v3 OpenAPI as shipped in heygen-cli). Only v3 is
spoken; v1/v2 were retired on 2026-11-01. Every HTTP outcome becomes a typed ProviderError so the jobs
decide retry-or-fail from the class: 5xx, timeouts, connection errors and 409 request_in_progress are
transient, 429 carries Retry-After, every other 4xx is permanent. Facts the spec marks UNCONFIRMED are
flagged where the code depends on them and handled defensively.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from genvid import clock
from genvid.videos.provider_contract import (
    AvatarInfo,
    PermanentProviderError,
    ProviderError,
    RateLimited,
    RenderRequest,
    RenderStatus,
    TransientProviderError,
    VoiceInfo,
)

DEFAULT_API_BASE = "https://api.heygen.com"
DEFAULT_WEBHOOK_EVENTS = ("avatar_video.success", "avatar_video.fail")
DEFAULT_RETRY_AFTER = 5.0            # seconds, when a 429 carries no usable Retry-After
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_:.\-]{1,255}$")
_MAX_PAGES = 1000                    # a runaway next_token loop stops here instead of spinning forever
# UNCONFIRMED (spec): look `status` values are undocumented; these clearly mean "not usable yet/ever".
_UNUSABLE_LOOK_STATES = {"failed", "error", "pending", "processing", "in_progress", "training"}
# The create response says "waiting"; any value not listed here is treated as still rendering.
_FAILED_STATES = {"failed", "error"}


class HeyGenProvider:
    """The HeyGen v3 API as a VideoProvider; one requests.Session so connections are reused.

    `timeout` bounds every API call (HeyGen's CLI allows creates 120 s). A create that times out is safe
    to retry: the same Idempotency-Key answers 409 request_in_progress while upstream still works on it,
    then replays the original answer, so no second render starts.
    """

    name = "heygen"

    def __init__(self, api_key: str, api_base: str = DEFAULT_API_BASE, timeout: float = 30.0) -> None:
        if not api_key:
            raise ValueError("HeyGenProvider needs an API key")
        self._api_key = api_key
        self._base = api_base.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        # The key goes on each API request, never on the session, so it cannot leak to a presigned URL.
        self._session.headers["User-Agent"] = "genvid/0.1 (+heygen-v3)"

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    # -- catalogue ---------------------------------------------------------------------------------

    def list_avatars(self) -> Iterator[AvatarInfo]:
        """Every usable avatar look (`GET /v3/avatars/looks`), following next_token pages."""
        for look in self._paged("/v3/avatars/looks", {"limit": 50}):
            if (not look.get("id") or look.get("error")
                    or str(look.get("status") or "").lower() in _UNUSABLE_LOOK_STATES):
                continue
            engines = look.get("supported_api_engines")
            # We render with the default engine (avatar_iv); a look that cannot use it would fail every
            # render.
            if isinstance(engines, list) and engines and "avatar_iv" not in engines:
                continue
            tags = tuple(str(tag) for tag in look.get("tags") or ())
            yield AvatarInfo(
                provider_id=str(look["id"]), name=str(look.get("name") or look["id"]),
                gender=_lower(look.get("gender")), preview_image_url=look.get("preview_image_url"),
                preview_video_url=look.get("preview_video_url"),
                default_voice_id=look.get("default_voice_id"),
                # UNCONFIRMED: v3 looks have no premium flag; a "premium" tag is the only hint there is.
                premium=any(tag.lower() == "premium" for tag in tags), tags=tags)

    def list_voices(self) -> Iterator[VoiceInfo]:
        """Every public voice (`GET /v3/voices`), following next_token pages."""
        for voice in self._paged("/v3/voices", {"limit": 100}):
            voice_id = voice.get("voice_id") or voice.get("id")
            if not voice_id:
                continue
            yield VoiceInfo(
                provider_id=str(voice_id), name=str(voice.get("name") or voice_id),
                language=voice.get("language"), gender=_lower(voice.get("gender")),
                preview_audio_url=voice.get("preview_audio_url") or voice.get("preview_audio"))

    def _paged(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        token: str | None = None
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            query = dict(params, **({"token": token} if token else {}))
            page = self._request("GET", path, params=query)
            for item in page.get("data") or ():
                if isinstance(item, dict):
                    yield item
            token = page.get("next_token")
            if not token or page.get("has_more") is False or token in seen:
                return
            seen.add(token)
        raise TransientProviderError(f"HeyGen {path} kept returning pages past {_MAX_PAGES}",
                                     code="too_many_pages")

    # -- renders -----------------------------------------------------------------------------------

    def create_video(self, request: RenderRequest, *, idempotency_key: str) -> str:
        """`POST /v3/videos` with an Idempotency-Key: a replay within 24 h returns the same video id."""
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise ValueError("an idempotency key is 1-255 characters of [A-Za-z0-9_:.-]")
        body: dict[str, Any] = {
            "type": "avatar", "avatar_id": request.avatar_id, "voice_id": request.voice_id,
            "script": request.script, "aspect_ratio": request.aspect_ratio, "resolution": request.resolution,
        }
        if request.title:
            body["title"] = request.title
        if request.background:
            body["background"] = {"type": "color", "value": request.background}
        if request.captions:
            body["caption"] = {"file_format": "srt", "style": "default"}
        if request.callback_id:
            body["callback_id"] = request.callback_id
        answer = self._request("POST", "/v3/videos", json_body=body,
                               headers={"Idempotency-Key": idempotency_key})
        data = answer.get("data") or {}
        video_id = data.get("video_id") or data.get("id")     # "video_id" on create, "id" on GET
        if not video_id:
            raise TransientProviderError("HeyGen accepted the render but sent no video_id",
                                         code="bad_response")
        return str(video_id)

    def get_status(self, provider_video_id: str) -> RenderStatus:
        """`GET /v3/videos/{id}` mapped onto rendering | completed | failed."""
        answer = self._request("GET", f"/v3/videos/{quote(provider_video_id, safe='')}")
        data = answer.get("data") or {}
        status = str(data.get("status") or "").lower()
        duration = data.get("duration")
        duration = float(duration) if isinstance(duration, int | float) else None
        video_url = data.get("video_url") or None
        if status in _FAILED_STATES:
            return RenderStatus(state="failed", duration=duration, raw=data,
                                failure_code=data.get("failure_code") or "render_failed",
                                failure_message=data.get("failure_message")
                                or "HeyGen could not render the video.")
        if status == "completed" and video_url:
            return RenderStatus(state="completed", video_url=video_url,
                                thumbnail_url=data.get("thumbnail_url") or None, duration=duration, raw=data)
        # pending | processing | waiting | queued | anything new, and "completed" still without a URL.
        return RenderStatus(state="rendering", duration=duration, raw=data)

    def download(self, url: str, destination: str) -> None:
        """Stream a presigned media URL to destination atomically; the API key is never sent there."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise PermanentProviderError(f"refusing to download a non-HTTP URL: {url[:80]}", code="bad_url")
        directory = os.path.dirname(os.path.abspath(destination))
        os.makedirs(directory, exist_ok=True)
        try:
            with self._session.get(url, stream=True,
                                   timeout=(min(self._timeout, 10.0), self._timeout)) as response:
                if response.status_code in (403, 404, 410):
                    # The CLI's reading: the presigned URL expired. A retry fetches a fresh one from
                    # get_status.
                    raise TransientProviderError(f"media URL answered {response.status_code} (expired?)",
                                                 code="media_url_expired", status=response.status_code)
                if response.status_code != 200:
                    raise _error_for(response)
                fd, partial = tempfile.mkstemp(prefix=".download-", dir=directory)
                try:
                    with os.fdopen(fd, "wb") as out:
                        for chunk in response.iter_content(chunk_size=1 << 16):
                            out.write(chunk)
                    os.replace(partial, destination)
                except BaseException:
                    os.unlink(partial)
                    raise
        except requests.Timeout as exc:
            raise TransientProviderError(f"media download timed out: {exc}", code="timeout") from exc
        except requests.RequestException as exc:
            raise TransientProviderError(f"media download failed: {exc}", code="connection_error") from exc

    # -- webhooks ----------------------------------------------------------------------------------

    def register_webhook(self, url: str, events: Sequence[str] | None = DEFAULT_WEBHOOK_EVENTS) -> tuple[str,
                                                                                                         str]:
        """`POST /v3/webhooks/endpoints`; returns (endpoint_id,
        secret). The secret is shown only this once."""
        body = {"url": url, "events": list(events) if events is not None else None}
        data = self._request("POST", "/v3/webhooks/endpoints", json_body=body).get("data") or {}
        endpoint_id, secret = data.get("endpoint_id") or data.get("id"), data.get("secret")
        if not endpoint_id or not secret:
            raise PermanentProviderError("HeyGen registered the endpoint but sent no id or secret",
                                         code="bad_response")
        return str(endpoint_id), str(secret)

    # -- transport ---------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 json_body: Any = None, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        all_headers = {"x-api-key": self._api_key, "Accept": "application/json", **(headers or {})}
        try:
            response = self._session.request(method, self._base + path, params=params, json=json_body,
                                             headers=all_headers,
                                             timeout=(min(self._timeout, 10.0), self._timeout))
        except requests.Timeout as exc:
            raise TransientProviderError(f"HeyGen {method} {path} timed out", code="timeout") from exc
        except requests.RequestException as exc:
            raise TransientProviderError(f"HeyGen {method} {path} failed: {type(exc).__name__}",
                                         code="connection_error") from exc
        if not 200 <= response.status_code < 300:
            raise _error_for(response)
        try:
            payload = response.json()
        except ValueError as exc:
            raise TransientProviderError(f"HeyGen {method} {path} answered non-JSON",
                                         code="bad_response") from exc
        if not isinstance(payload, dict):
            raise TransientProviderError(f"HeyGen {method} {path} answered {type(payload).__name__}",
                                         code="bad_response")
        return payload


def _error_for(response: requests.Response) -> ProviderError:
    """Branch on the HTTP status, then on error.code; never on the message (the CLI's rule too)."""
    status = response.status_code
    code, message = _error_body(response)
    request_id = response.headers.get("X-Request-Id")
    text = f"HeyGen {status} {code}: {message}" + (f" (request id {request_id})" if request_id else "")
    if status == 429:
        return RateLimited(text, retry_after=parse_retry_after(response.headers.get("Retry-After")),
                           code=code)
    if status >= 500 or status == 408 or (status == 409 and code == "request_in_progress"):
        return TransientProviderError(text, code=code, status=status)
    return PermanentProviderError(text, code=code, status=status)


def _error_body(response: requests.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    code = message = ""
    if isinstance(error, dict):
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
    elif isinstance(error, str):           # older shapes answered {"error": "text"}
        message = error
    if not code or code == "error":        # e.g. an edge proxy's HTML 502: derive a code from the status
        code = _STATUS_CODES.get(response.status_code, "internal_error" if response.status_code >= 500
                                 else "http_error")
    return code, (message or response.reason or "no message")[:500]


_STATUS_CODES = {400: "invalid_parameter", 401: "unauthorized", 402: "insufficient_credit", 403: "forbidden",
                 404: "not_found", 409: "conflict", 410: "gone", 413: "payload_too_large",
                 429: "rate_limit_exceeded"}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float:
    """Retry-After as seconds: an integer (what HeyGen documents) or an HTTP-date; never negative."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        return DEFAULT_RETRY_AFTER
    return max(0.0, when.timestamp() - (clock.unix() if now is None else now))


def _lower(value: Any) -> str | None:
    return str(value).lower() if value else None
