"""A fake HeyGen v3 API on loopback, speaking the wire format of ../shared/spec/heygen.md.

The production HeyGenProvider reaches it through HEYGEN_API_BASE. It renders nothing: a video is
"pending", then "processing", then "completed" once `render_seconds` have passed on the fake's clock
(`advance()` moves that clock, so tests never sleep), with presigned-looking media URLs that the fake
serves itself (one real MP4 and one JPEG, generated once with ffmpeg). Fault controls act on named
routes: ROUTES lists them. Counters let tests assert how many renders were really created.

Standalone, for benchmarks: `python -m tests.fakes.heygen --port 8765 --render-seconds 60`.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import imageio_ffmpeg  # type: ignore[import-untyped]
import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .serving import ThreadedServer, serve_wsgi

API_KEY = "fake-heygen-key"
ROUTES = ("create", "status", "looks", "voices", "webhook_create", "webhook_list", "webhook_delete", "media")
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_:.\-]{1,255}$")
_URL_SECRET = secrets.token_bytes(16)         # signs the fake's "presigned" media URLs
_media_lock = threading.Lock()


def sample_media(directory: Path | None = None) -> tuple[Path, Path]:
    """A tiny real MP4 (1 s, H.264/AAC) and JPEG thumbnail, generated once per directory."""
    directory = directory or Path(tempfile.gettempdir()) / "genvid-fake-heygen-media"
    video, thumbnail = directory / "sample.mp4", directory / "sample.jpg"
    with _media_lock:
        if video.exists() and thumbnail.exists():
            return video, thumbnail
        directory.mkdir(parents=True, exist_ok=True)
        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        tmp_video = directory / f".v{secrets.token_hex(4)}.mp4"
        tmp_thumb = directory / f".t{secrets.token_hex(4)}.jpg"
        subprocess.run(
            [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x3366cc:s=160x90:r=10:d=1",
             "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "1", "-c:v", "libx264",
             "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k",
             "-shortest", "-movflags", "+faststart", str(tmp_video)], check=True, timeout=240)
        subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x3366cc:s=160x90",
                        "-frames:v", "1", str(tmp_thumb)], check=True, timeout=240)
        tmp_video.replace(video)
        tmp_thumb.replace(thumbnail)
        return video, thumbnail


def default_looks() -> list[dict[str, Any]]:
    """Five looks, one of them premium-tagged and one unusable with the default engine."""
    looks = []
    for index, (name, gender) in enumerate([("Anna", "female"), ("Ben", "male"), ("Chloe", "female"),
                                            ("Dev", "male"), ("Eve", "female")]):
        looks.append({
            "id": f"look_{name.lower()}", "name": f"{name} in office", "avatar_type": "studio_avatar",
            "group_id": f"group_{name.lower()}", "gender": gender, "default_voice_id": f"voice_{index % 3}",
            "preview_image_url": f"https://files.example.test/{name.lower()}.png",
            "preview_video_url": f"https://files.example.test/{name.lower()}.mp4",
            "image_width": 1920, "image_height": 1080, "preferred_orientation": "horizontal",
            "supported_api_engines": ["avatar_iv", "avatar_v"] if name != "Dev" else ["avatar_iii"],
            "tags": ["premium"] if name == "Chloe" else ["business"],
        })
    return looks


def default_voices() -> list[dict[str, Any]]:
    """Four public voices and one private (cloned) voice."""
    voices = [{"voice_id": f"voice_{index}", "name": name, "language": language, "gender": gender,
               "type": "public", "preview_audio_url": f"https://files.example.test/voice_{index}.mp3",
               "support_pause": True, "support_locale": False}
              for index, (name, language, gender) in enumerate([
                  ("Allison", "English", "Female"), ("Brian", "English", "Male"),
                  ("Camille", "French", "Female"), ("Diego", "Spanish", "Male")])]
    voices.append({"voice_id": "voice_private", "name": "My clone", "language": "English", "gender": "Male",
                   "type": "private", "preview_audio_url": None, "support_pause": True,
                   "support_locale": False})
    return voices


@dataclass
class Fault:
    """One scripted misbehaviour for the next request of a route."""

    kind: str                               # "status" | "hold" | "after"  ("after": do the work, then answer
    status: int = 500                       # status; "hold": wait until the test releases it)
    release: threading.Event | None = None
    headers: dict[str, str] = field(default_factory=dict)
    code: str = "internal_error"


@dataclass
class FakeVideo:
    id: str
    body: dict[str, Any]
    created_at: float                       # on the fake's clock
    created_wall: int
    render_seconds: float
    failure: tuple[str, str] | None = None  # (failure_code, failure_message) when it ends failed
    notified: bool = False


@dataclass
class RecordedRequest:
    method: str
    route: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]


class FakeHeyGen:
    """The fake's state, controls and counters; `start()` serves it on 127.0.0.1."""

    def __init__(self, *, render_seconds: float = 0.0, api_key: str = API_KEY, page_size: int = 2,
                 require_https_webhooks: bool = True, media_dir: Path | None = None) -> None:
        self.api_key = api_key
        self.render_seconds = render_seconds
        self.page_size = page_size          # the fake never returns more than this per page, to force paging
        self.require_https_webhooks = require_https_webhooks
        self.looks = default_looks()
        self.voices = default_voices()
        self.videos: dict[str, FakeVideo] = {}
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.status_calls: Counter[str] = Counter()
        self.route_calls: Counter[str] = Counter()
        self.requests: deque[RecordedRequest] = deque(maxlen=100_000)   # bounded for long benchmarks
        self.renders_created = 0
        self.media_expired = False
        self.base_url = ""
        self._media_dir = media_dir
        self._offset = 0.0
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._faults: dict[str, deque[Fault]] = {route: deque() for route in ROUTES}
        self._failing_renders: deque[tuple[str, str]] = deque()
        self._idempotent: dict[str, dict[str, Any]] = {}   # key -> stored create answer
        self._in_progress: set[str] = set()
        self._ids = itertools.count(1)
        self._server: ThreadedServer | None = None
        self._url_map = Map([
            Rule("/v3/videos", methods=["POST"], endpoint="create"),
            Rule("/v3/videos/<video_id>", methods=["GET"], endpoint="status"),
            Rule("/v3/avatars/looks", methods=["GET"], endpoint="looks"),
            Rule("/v3/voices", methods=["GET"], endpoint="voices"),
            Rule("/v3/webhooks/endpoints", methods=["POST"], endpoint="webhook_create"),
            Rule("/v3/webhooks/endpoints", methods=["GET"], endpoint="webhook_list"),
            Rule("/v3/webhooks/endpoints/<endpoint_id>", methods=["DELETE"], endpoint="webhook_delete"),
            Rule("/media/<name>", methods=["GET"], endpoint="media"),
        ])

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL (what HEYGEN_API_BASE should be)."""
        self._video_file, self._thumb_file = sample_media(self._media_dir)
        self._server = serve_wsgi(self._wsgi, port, name="fake-heygen")
        self.base_url = self._server.url
        return self.base_url

    def stop(self) -> None:
        """Stop serving; held requests still waiting are released."""
        self._stopping.set()
        if self._server is not None:
            self._server.stop()
            self._server = None

    # -- clock and controls ------------------------------------------------------------------------

    def now(self) -> float:
        """The fake's clock: real monotonic time plus whatever advance() added."""
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward, so renders finish without the test sleeping."""
        with self._lock:
            self._offset += seconds

    def fail_next(self, route: str, times: int = 1, *, status: int = 500, code: str | None = None,
                  headers: dict[str, str] | None = None) -> None:
        """The next `times` requests of route answer status with HeyGen's error envelope."""
        self._add(route, times, Fault("status", status=status, headers=headers or {},
                                      code=code
                                      or ("internal_error" if status >= 500 else "invalid_parameter")))

    def rate_limit_next(self, route: str, times: int = 1, *, retry_after: str | int | None = "2") -> None:
        """The next `times` requests of route answer 429 rate_limit_exceeded with this Retry-After."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        self._add(route, times, Fault("status", status=429, headers=headers, code="rate_limit_exceeded"))

    def hold_next(self, route: str) -> Callable[[], None]:
        """The next request of route waits (as a hung upstream would) until the returned function is called,
        then is handled normally; no timing is involved, so a client timeout always fires first."""
        release = threading.Event()
        self._add(route, 1, Fault("hold", release=release))
        return release.set

    def succeed_then_fail_next_create(self, times: int = 1, *, status: int = 500) -> None:
        """The next create really happens (and is stored for its Idempotency-Key) but answers status."""
        self._add("create", times, Fault("after", status=status, code="internal_error"))

    def fail_next_render(self, code: str = "avatar_processing_failed",
                         message: str = "The avatar could not be rendered.") -> None:
        """The next created video ends failed with this failure_code/failure_message."""
        with self._lock:
            self._failing_renders.append((code, message))

    def finish(self, video_id: str) -> None:
        """Make one video complete (or fail, if so scripted) right now."""
        with self._lock:
            self.videos[video_id].render_seconds = 0.0

    def _add(self, route: str, times: int, fault: Fault) -> None:
        if route not in self._faults:
            raise ValueError(f"unknown route {route!r}; one of {ROUTES}")
        with self._lock:
            self._faults[route].extend(fault for _ in range(times))

    # -- webhooks sent by the fake -------------------------------------------------------------------

    def video_state(self, video_id: str) -> str:
        """pending | processing | completed | failed, on the fake's clock."""
        video = self.videos[video_id]
        elapsed = self.now() - video.created_at
        if elapsed >= video.render_seconds:
            return "failed" if video.failure else "completed"
        return "pending" if elapsed < min(1.0, video.render_seconds / 4) else "processing"

    def event_for(self, video_id: str) -> dict[str, Any]:
        """The webhook payload HeyGen sends when this video finished (success or fail)."""
        video = self.videos[video_id]
        data: dict[str, Any]
        if video.failure:
            event_type, data = "avatar_video.fail", {"video_id": video_id, "msg": video.failure[1]}
        else:
            event_type = "avatar_video.success"
            data = {"video_id": video_id, "url": self._media_url(f"{video_id}.mp4")}
        data["callback_id"] = video.body.get("callback_id")
        return {"event_id": f"evt_{secrets.token_hex(8)}", "event_type": event_type,
                "created_at": int(time.time()), "event_data": data}

    def send_webhook(self, url: str, payload: dict[str, Any], *, secret: str, timestamp: int | None = None,
                     signature: str | None = None, event_id: str | None = None,
                     omit: Iterable[str] = ()) -> requests.Response:
        """POST payload to url signed as HeyGen does (hex HMAC-SHA256 of the raw body with the secret).

        signature overrides the computed one (to send a bad one); omit drops named headers.
        """
        raw = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   "Heygen-Signature": signature
                   or hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest(),
                   "Heygen-Timestamp": str(int(time.time()) if timestamp is None else timestamp),
                   "Heygen-Event-Id": event_id
                   or str(payload.get("event_id") or f"evt_{secrets.token_hex(8)}")}
        for name in omit:
            headers.pop(name, None)
        return requests.post(url, data=raw, headers=headers, timeout=60)

    def deliver_due_webhooks(self, *, url_override: str | None = None) -> int:
        """Send the final event of every finished, not yet notified video to each enabled endpoint."""
        with self._lock:
            due = [v for v in self.videos.values() if not v.notified and self.video_state(v.id) in
                   ("completed", "failed")]
            for video in due:
                video.notified = True
            endpoints = [e for e in self.endpoints.values() if e["status"] == "enabled"]
        sent = 0
        for video in due:
            payload = self.event_for(video.id)
            for endpoint in endpoints:
                if endpoint["events"] is None or payload["event_type"] in endpoint["events"]:
                    try:
                        self.send_webhook(url_override or endpoint["url"], payload, secret=endpoint["secret"])
                        sent += 1
                    except requests.RequestException:
                        pass                 # HeyGen would retry for 24 h; polling remains the truth
        return sent

    # -- HTTP --------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            route, matched = self._url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            return _error(exc.code or 404, "not_found", "No such route.")(environ, start_response)
        with self._lock:
            self.route_calls[route] += 1
            self.requests.append(RecordedRequest(request.method, route, request.path, dict(request.headers),
                                                 dict(request.args)))
            fault = self._faults[route].popleft() if self._faults[route] else None
        if route != "media" and request.headers.get("x-api-key") != self.api_key:
            return _error(401, "unauthorized", "Invalid API key.")(environ, start_response)
        if fault is not None and fault.kind == "status":
            return _error(fault.status, fault.code, f"Injected {fault.status}.",
                          fault.headers)(environ, start_response)
        args: dict[str, Any] = dict(matched)
        if route == "create":
            args["fault"] = fault           # waited out while the key is held, as a slow upstream would
        else:
            self._wait_out(fault)
        response = getattr(self, f"_{route}")(request, **args)
        if fault is not None and fault.kind == "after":
            response = _error(fault.status, fault.code, "Injected failure after the work was done.")
        return response(environ, start_response)

    def _wait_out(self, fault: Fault | None) -> None:
        """Wait for a "hold" fault's release (or for the fake to stop)."""
        if fault is not None and fault.kind == "hold" and fault.release is not None:
            while not fault.release.wait(0.05) and not self._stopping.is_set():
                pass

    def _create(self, request: Request, fault: Fault | None = None) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is not None and not _KEY_PATTERN.match(key):
            return _error(400, "invalid_parameter", "Idempotency-Key is malformed.", param="Idempotency-Key")
        with self._lock:
            if key is not None and key in self._idempotent:
                return _json({"data": self._idempotent[key]})
            if key is not None and key in self._in_progress:
                return _error(409, "request_in_progress",
                              "A request with this Idempotency-Key is in progress.")
            if key is not None:
                self._in_progress.add(key)
        try:
            self._wait_out(fault)
            body = request.get_json(silent=True)
            problem = self._invalid(body)
            if problem is not None or not isinstance(body, dict):
                param, message = problem or ("body", "The body must be a JSON object.")
                return _error(400, "invalid_parameter", message, param=param)
            with self._lock:
                video_id = f"vid_{next(self._ids):06d}_{secrets.token_hex(3)}"
                failure = self._failing_renders.popleft() if self._failing_renders else None
                self.videos[video_id] = FakeVideo(video_id, body, self.now(), int(time.time()),
                                                  self.render_seconds,
                                                   failure)
                self.renders_created += 1
                answer = {"video_id": video_id, "status": "waiting", "output_format": "mp4"}
                if key is not None:
                    self._idempotent[key] = answer
            return _json({"data": answer})
        finally:
            with self._lock:
                self._in_progress.discard(key or "")

    def _invalid(self, body: Any) -> tuple[str, str] | None:
        if not isinstance(body, dict):
            return "body", "The body must be a JSON object."
        if body.get("type") != "avatar":
            return "type", "Only type 'avatar' is supported by this fake."
        if body.get("avatar_id") not in {look["id"] for look in self.looks}:
            return "avatar_id", "Exactly one visual source required: unknown avatar_id."
        if body.get("voice_id") not in {voice["voice_id"] for voice in self.voices}:
            return "voice_id", "Unknown voice_id."
        script = body.get("script")
        if not isinstance(script, str) or not 1 <= len(script) <= 5000:
            return "script", "script must be 1 to 5000 characters."
        if body.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "4:5", "5:4", "1:1", "auto"):
            return "aspect_ratio", "Unsupported aspect_ratio."
        if body.get("resolution", "720p") not in ("4k", "1080p", "720p"):
            return "resolution", "Unsupported resolution."
        return None

    def _status(self, request: Request, video_id: str) -> Response:
        with self._lock:
            self.status_calls[video_id] += 1
            video = self.videos.get(video_id)
            if video is None:
                return _error(404, "not_found", f"Video {video_id} not found.")
            state = self.video_state(video_id)
        data: dict[str, Any] = {
            "id": video_id, "title": video.body.get("title"), "status": state,
            "created_at": video.created_wall,
            "completed_at": None, "duration": None, "video_url": None, "thumbnail_url": None, "gif_url": None,
            "captioned_video_url": None, "subtitle_url": None, "video_page_url": None, "folder_id": None}
        if state == "completed":
            data.update(completed_at=int(time.time()), duration=max(2.0, len(video.body["script"]) / 15),
                        video_url=self._media_url(f"{video_id}.mp4"),
                        thumbnail_url=self._media_url(f"{video_id}.jpg"))
        elif state == "failed" and video.failure:
            data.update(failure_code=video.failure[0], failure_message=video.failure[1])
        return _json({"data": data})

    def _looks(self, request: Request) -> Response:
        return self._page(request, self.looks, max_limit=50)

    def _voices(self, request: Request) -> Response:
        wanted = request.args.get("type", "public")
        return self._page(request, [v for v in self.voices if v["type"] == wanted], max_limit=100)

    def _page(self, request: Request, items: list[dict[str, Any]], *, max_limit: int) -> Response:
        try:
            limit = int(request.args.get("limit", "20"))
            start = int(
                base64.urlsafe_b64decode(request.args["token"]).decode()) if "token" in request.args else 0
        except ValueError:
            return _error(400, "invalid_parameter", "Bad limit or token.", param="limit")
        if not 1 <= limit <= max_limit:
            return _error(400, "invalid_parameter", f"limit must be between 1 and {max_limit}", param="limit")
        end = start + min(limit, self.page_size)
        more = end < len(items)
        token = base64.urlsafe_b64encode(str(end).encode()).decode() if more else None
        return _json({"data": items[start:end], "has_more": more, "next_token": token})

    def _webhook_create(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        url, events = (body.get("url"), body.get("events")) if isinstance(body, dict) else (None, None)
        if not isinstance(url, str) or (self.require_https_webhooks and not url.startswith("https://")):
            return _error(400, "invalid_parameter", "url must be a public HTTPS URL.", param="url")
        endpoint_id = f"ep_{secrets.token_hex(6)}"
        endpoint = {"endpoint_id": endpoint_id, "url": url, "events": events,
                    "status": "enabled", "created_at": datetime.now(UTC).isoformat(),
                    "secret": f"whsec_{secrets.token_urlsafe(24)}"}
        with self._lock:
            self.endpoints[endpoint_id] = endpoint
        return _json({"data": endpoint})

    def _webhook_list(self, request: Request) -> Response:
        with self._lock:
            listed = [dict(e, secret=None) for e in self.endpoints.values()]
        return _page_of(listed)

    def _webhook_delete(self, request: Request, endpoint_id: str) -> Response:
        with self._lock:
            if self.endpoints.pop(endpoint_id, None) is None:
                return _error(404, "not_found", "No such endpoint.")
        return _json({"data": {"endpoint_id": endpoint_id, "deleted": True}})

    def _media(self, request: Request, name: str) -> Response:
        expected = _sign(f"/media/{name}", request.args.get("Expires", ""))
        if self.media_expired or not hmac.compare_digest(request.args.get("X-Amz-Signature", ""), expected):
            return Response(b"<Error><Code>AccessDenied</Code></Error>", status=403,
                            mimetype="application/xml")
        path = self._video_file if name.endswith(".mp4") else self._thumb_file
        return Response(path.read_bytes(), mimetype="video/mp4" if name.endswith(".mp4") else "image/jpeg")

    def _media_url(self, name: str) -> str:
        expires = str(int(time.time()) + 7 * 86400)
        signature = _sign(f"/media/{name}", expires)
        return f"{self.base_url}/media/{name}?Expires={expires}&X-Amz-Signature={signature}"


def _sign(path: str, expires: str) -> str:
    return hmac.new(_URL_SECRET, f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(payload), status=status, mimetype="application/json", headers=headers)
    response.headers["X-Request-Id"] = f"req_{secrets.token_hex(6)}"
    return response


def _page_of(items: list[dict[str, Any]]) -> Response:
    return _json({"data": items, "has_more": False, "next_token": None})


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None, *,
           param: str | None = None) -> Response:
    doc = "https://developers.heygen.com/docs/error-codes#" + code.replace("_", "-")
    return _json({"error": {"code": code, "message": message, "param": param, "doc_url": doc}}, status,
                 headers)


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until interrupted; optionally push webhooks for finished videos to registered URLs."""
    parser = argparse.ArgumentParser(description="A fake HeyGen v3 API for benchmarks and manual runs.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--render-seconds", type=float, default=0.0)
    parser.add_argument("--api-key", default=API_KEY)
    parser.add_argument("--webhook-interval", type=float, default=0.0,
                        help="seconds between webhook deliveries for finished videos (0: never)")
    args = parser.parse_args(argv)
    # A shell starting us in the background without job control (`... &` in a script or CI step) leaves SIGINT
    # ignored, and Python then installs no KeyboardInterrupt for it: Ctrl-C (SIGINT) must stop the fake
    # anyway.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    fake = FakeHeyGen(render_seconds=args.render_seconds, api_key=args.api_key, page_size=50,
                      require_https_webhooks=False)
    print(fake.start(args.port), flush=True)
    try:
        while True:
            time.sleep(args.webhook_interval or 3600)
            if args.webhook_interval:
                fake.deliver_due_webhooks()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
