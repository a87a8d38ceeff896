"""The offline VideoProvider: real, playable H.264/AAC MP4s rendered on this machine, no outside account.

A render is the avatar's picture (drawn at runtime, no binary assets), the script burned in as captions when
the video asks for them, and speech from eSpeak NG (see genvid.videos.speech: the library a wheel ships, else
the system espeak-ng; a silent track of the estimated reading time, reported as a warning, only when neither
works), encoded by the ffmpeg binary that the imageio-ffmpeg wheel ships. create_video renders synchronously
and keeps its result on disk under work_dir, keyed by the idempotency key, so any process sees the same
render and the same key never renders twice (a file lock serialises concurrent attempts).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import imageio_ffmpeg  # type: ignore[import-untyped]

from genvid.config import Config
from genvid.infra import processes
from genvid.videos import local_media
from genvid.videos import speech as speech_module
from genvid.videos.limits import CHARACTERS_PER_SECOND, MAX_SCRIPT
from genvid.videos.local_catalogue import AVATARS, SAMPLES, VOICES, BuiltInAvatar
from genvid.videos.provider_contract import (
    AvatarInfo,
    PermanentProviderError,
    RenderRequest,
    RenderStatus,
    RenderWarning,
    VoiceInfo,
)

MIN_SECONDS = 2.0
RENDER_TIMEOUT = 900                  # seconds for one ffmpeg run; a 5,000-character script takes far less
_ID = re.compile(r"^local_[0-9a-f]{24}$")
_HEIGHTS = {"720p": 720, "1080p": 1080, "4k": 2160}
_RATIOS = {"16:9": (16, 9), "9:16": (9, 16), "4:5": (4, 5), "5:4": (5, 4), "1:1": (1, 1), "auto": (16, 9)}


SILENT = RenderWarning("silent_audio",
                       "No speech engine was available to the offline renderer, so this video "
                       "has a silent soundtrack.")


class LocalProvider:
    """Renders on this machine; `height` forces a small frame (tests), `speech` picks the engine (auto,
    library, system, or none for a silent track), `captions` how captions are drawn (auto, subtitles or
    bitmap)."""

    name = "local"

    def __init__(self, work_dir: str | os.PathLike[str] | Config, *, height: int | None = None, fps: int = 10,
                 speech: str = "auto", captions: str = "auto") -> None:
        if captions not in ("auto", "subtitles", "bitmap"):
            raise ValueError("captions is auto, subtitles or bitmap")
        if isinstance(work_dir, Config):
            # Renders are the "upstream" copy, kept apart from MEDIA_DIR where jobs store the durable one.
            # local_render_height shrinks frames (tests); None keeps the requested resolution.
            height = height or work_dir.local_render_height
            speech = work_dir.local_speech if speech == "auto" else speech
            work_dir = os.path.join(work_dir.data_dir, "local-provider")
        self.work_dir = Path(work_dir).resolve()
        self.height = height
        self.fps = fps
        self.speech = speech_module.find_engine(speech)
        self.captions = captions
        self.renders = 0                     # renders this instance actually encoded (replays excluded)
        self._ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        self._libass_ok: bool | None = None

    # -- catalogue ---------------------------------------------------------------------------------

    def list_avatars(self) -> Iterator[AvatarInfo]:
        """The built-in avatars; their previews are served by genvid itself (see preview_picture)."""
        for avatar in AVATARS:
            yield AvatarInfo(provider_id=avatar.id, name=avatar.name, gender=avatar.gender,
                             preview_image_url=f"/api/avatars/{avatar.id}/preview.png", tags=("offline",))

    def list_voices(self) -> Iterator[VoiceInfo]:
        """The built-in voices, with a sample served by genvid when a speech engine is there to say it."""
        for voice, _ in VOICES:
            sample = f"/api/voices/{voice.provider_id}/sample.wav" if self.speech else None
            yield VoiceInfo(voice.provider_id, voice.name, voice.language, voice.gender,
                            preview_audio_url=sample)

    def preview_picture(self, avatar_id: str) -> Path | None:
        """A PNG of the built-in avatar (the picture its renders show), drawn on first use;
        None if unknown."""
        avatar = next((a for a in AVATARS if a.id == avatar_id), None)
        return None if avatar is None else self._picture(avatar, "png")

    def voice_sample(self, voice_id: str) -> Path | None:
        """A WAV of the voice saying a sentence, made on first use; None if unknown or nothing can speak."""
        entry = next(((info, name) for info, name in VOICES if info.provider_id == voice_id), None)
        if entry is None or self.speech is None:
            return None
        info, espeak_voice = entry
        path = self.work_dir / "voices" / f"{voice_id}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
                text = Path(scratch) / "sample.txt"
                text.write_text(SAMPLES.get(info.language or "en", SAMPLES["en"]), encoding="utf-8")
                spoken = Path(scratch) / "sample.wav"
                if self.speech.speak(text_file=text, voice=espeak_voice, wav_file=spoken,
                                     timeout=RENDER_TIMEOUT) is None:
                    return None
                os.replace(spoken, path)
        return path

    # -- renders -----------------------------------------------------------------------------------

    def create_video(self, request: RenderRequest, *, idempotency_key: str) -> str:
        """Render now; the same key returns the same id without rendering again, in any process."""
        avatar = next((a for a in AVATARS if a.id == request.avatar_id), None)
        espeak_voice = next((v for info, v in VOICES if info.provider_id == request.voice_id), None)
        problem = _invalid(request, avatar is not None, espeak_voice is not None)
        if problem:
            raise PermanentProviderError(problem, code="invalid_parameter", status=400)
        assert avatar is not None and espeak_voice is not None
        video_id = local_video_id(idempotency_key)
        directory = self.work_dir / "renders" / video_id
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (directory / "status.json").exists():
                _write_json(directory / "status.json", self._render(directory, request, avatar, espeak_voice))
                self.renders += 1
        return video_id

    def get_status(self, provider_video_id: str) -> RenderStatus:
        """completed with file:// URLs, or failed with the reason; rendering while another process encodes."""
        directory = self._render_dir(provider_video_id)
        try:
            status = json.loads((directory / "status.json").read_text())
        except FileNotFoundError:
            if (directory / ".lock").exists():
                return RenderStatus(state="rendering")
            raise PermanentProviderError(f"No local render {provider_video_id}.", code="not_found",
                                         status=404) from None
        if status["state"] == "failed":
            return RenderStatus(state="failed", failure_code=status["failure_code"],
                                failure_message=status["failure_message"], raw=status)
        warnings = tuple(RenderWarning(**warning) for warning in status.get("warnings", ()))
        return RenderStatus(state="completed", video_url=(directory / "video.mp4").as_uri(),
                            thumbnail_url=(directory / "thumbnail.jpg").as_uri(), duration=status["duration"],
                            warnings=warnings, raw=status)

    def download(self, url: str, destination: str) -> None:
        """Copy a file:// URL this provider handed out (and nothing else) to destination, atomically."""
        parts = urlsplit(url)
        source = Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
        if source is None or not source.is_relative_to(self.work_dir / "renders"):
            raise PermanentProviderError("The local provider only serves its own files.", code="bad_url")
        if not source.is_file():
            raise PermanentProviderError(f"{source.name} is gone.", code="not_found", status=404)
        target = Path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=".download-", dir=target.parent)
        os.close(fd)
        try:
            shutil.copyfile(source, partial)
            os.replace(partial, target)
        except BaseException:
            os.unlink(partial)
            raise

    # -- rendering ---------------------------------------------------------------------------------

    def _render(self, directory: Path, request: RenderRequest, avatar: BuiltInAvatar,
                voice: str) -> dict[str, Any]:
        width, height = self._frame_size(request)
        script = " ".join(request.script.split())          # newlines and tabs become spaces
        speech = self._speak(directory, script, voice)
        duration = speech if speech is not None else max(MIN_SECONDS, len(script) / CHARACTERS_PER_SECOND)
        mode = self._caption_mode() if request.captions else "none"
        try:
            command = [self._ffmpeg, "-v", "error", "-y", "-loop", "1", "-framerate", str(self.fps),
                       "-i", str(self._picture(avatar, "ppm"))]
            command += (["-i", "speech.wav"] if speech is not None else
                        ["-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono"])
            backdrop = "0x" + (request.background or "#{:02x}{:02x}{:02x}".format(*avatar.backdrop)).lstrip(
                "#")
            base = (f"[0:v]scale={width}:{height}:force_original_aspect_ratio=decrease,"
                    f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color={backdrop},format=yuv420p")
            segments = local_media.segments(script, duration, local_media.line_chars(width, height) * 2)
            if mode == "none":
                graph = base + "[v]"
            elif mode == "subtitles":
                (directory / "captions.srt").write_text(local_media.srt(segments), encoding="utf-8")
                graph = base + ",subtitles=captions.srt:force_style='FontSize=16,Outline=2,MarginV=12'[v]"
            else:
                strips = local_media.bitmap_strips(directory, segments, width, height)
                command += ["-f", "concat", "-safe", "0", "-i", strips]
                graph = base + "[bg];[2:v]format=yuv420p[cap];[bg][cap]overlay=0:H-h:eof_action=repeat[v]"
            command += ["-filter_complex", graph, "-map", "[v]", "-map", "1:a", "-t", f"{duration:.3f}",
                        "-r", str(self.fps), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart",
                        "-f", "mp4", "video.part"]
            self._run(command, directory)
            os.replace(directory / "video.part", directory / "video.mp4")
            self._run([self._ffmpeg, "-v", "error", "-y", "-ss", f"{min(1.0, duration / 2):.2f}", "-i",
                       "video.mp4", "-frames:v", "1", "-q:v", "4", "-f", "image2", "thumbnail.jpg"],
                      directory)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = (getattr(exc, "stderr", None) or b"").decode(errors="replace").strip().splitlines()
            reason = detail[-1][:200] if detail else type(exc).__name__
            return {"state": "failed", "failure_code": "render_failed",
                    "failure_message": f"The offline renderer failed: {reason}"}
        finally:
            for leftover in directory.iterdir():     # keep only what get_status hands out
                if leftover.is_file() and leftover.name not in ("video.mp4", "thumbnail.jpg", ".lock"):
                    leftover.unlink()
        warnings = [] if speech is not None else [{"code": SILENT.code, "message": SILENT.message}]
        return {"state": "completed", "duration": round(duration, 3), "width": width, "height": height,
                "speech": self.speech.name if speech is not None and self.speech else "silent",
                "captions": mode, "warnings": warnings}

    def _run(self, command: list[str], directory: Path) -> None:
        # ffmpeg dies with the worker: an orphan would burn CPU for minutes and write into the render
        # directory while the resumed job renders there again.
        subprocess.run(command, cwd=directory, check=True, capture_output=True, timeout=RENDER_TIMEOUT,
                       preexec_fn=processes.dies_with_this_process())

    def _speak(self, directory: Path, script: str, voice: str) -> float | None:
        """Seconds of speech written to speech.wav, or None for a silent track (a broken engine does not fail
        the render: the video is made silent and says so)."""
        if self.speech is None:
            return None
        (directory / "script.txt").write_text(script, encoding="utf-8")
        return self.speech.speak(text_file=directory / "script.txt", voice=voice,
                                 wav_file=directory / "speech.wav", timeout=RENDER_TIMEOUT)

    def _frame_size(self, request: RenderRequest) -> tuple[int, int]:
        short = self.height or _HEIGHTS.get(request.resolution, 720)
        wide, tall = _RATIOS.get(request.aspect_ratio, (16, 9))
        long_side = short * max(wide, tall) / min(wide, tall)
        width, height = (long_side, short) if wide >= tall else (short, long_side)
        return _even(width), _even(height)

    def _caption_mode(self) -> str:
        """libass subtitles when they really draw glyphs here (fonts present); else our bitmap font."""
        if self.captions != "auto":
            return self.captions
        if self._libass_ok is None:
            self._libass_ok = local_media.libass_draws_text(self._ffmpeg, self.work_dir)
        return "subtitles" if self._libass_ok else "bitmap"

    def _picture(self, avatar: BuiltInAvatar, extension: str) -> Path:
        """The avatar's portrait as the renderer draws it: a PPM for ffmpeg, or the same pixels as a PNG."""
        path = self.work_dir / "avatars" / f"{avatar.id}.{extension}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            ppm = local_media.portrait(avatar.backdrop, avatar.skin, avatar.hair, avatar.shirt)
            local_media.atomic_bytes(path, local_media.png_from_ppm(ppm) if extension == "png" else ppm)
        return path

    def _render_dir(self, video_id: str) -> Path:
        if not _ID.match(video_id):
            raise PermanentProviderError(f"No local render {video_id[:64]}.", code="not_found", status=404)
        return self.work_dir / "renders" / video_id


def local_video_id(idempotency_key: str) -> str:
    """The render id a key maps to: derived, so every process agrees on it without shared state."""
    return "local_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def _invalid(request: RenderRequest, avatar_known: bool, voice_known: bool) -> str | None:
    if not avatar_known:
        return f"Unknown avatar_id {request.avatar_id!r}."
    if not voice_known:
        return f"Unknown voice_id {request.voice_id!r}."
    if not request.script.strip() or len(request.script) > MAX_SCRIPT:
        return f"script must be 1 to {MAX_SCRIPT} characters."
    if request.background and not re.fullmatch(r"#[0-9a-fA-F]{6}", request.background):
        return "background must be #rrggbb."
    return None


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _write_json(path: Path, value: dict[str, Any]) -> None:
    local_media.atomic_bytes(path, json.dumps(value).encode())
