"""The offline renderer: real MP4s that ffmpeg decodes, with the expected length, size and streams."""
from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import imageio_ffmpeg  # type: ignore[import-untyped]
import pytest

from genvid.config import Config
from genvid.videos.local import LocalProvider, local_video_id
from genvid.videos.provider import PermanentProviderError, RenderRequest

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class Probe:
    duration: float
    width: int
    height: int
    video_codec: str
    audio_codec: str


def decode(path: Path) -> Probe:
    """Decode every frame (no error allowed), then read duration, size and codecs from ffmpeg's report."""
    decoded = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "null", "-"], check=False,
                             capture_output=True, timeout=240)
    assert decoded.returncode == 0 and decoded.stderr == b"", decoded.stderr
    # ffmpeg exits 1 here (no output file named); the stream report on stderr is what is wanted.
    report = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], check=False, capture_output=True,
                            timeout=240)
    text = report.stderr.decode()
    hours, minutes, seconds = re.search(r"Duration: (\d+):(\d+):([\d.]+)", text).groups()  # type: ignore[union-attr]
    video = re.search(r"Video: (\w+).*?, (\d+)x(\d+)", text)
    audio = re.search(r"Audio: (\w+)", text)
    assert video and audio, text
    return Probe(int(hours) * 3600 + int(minutes) * 60 + float(seconds), int(video.group(2)),
                 int(video.group(3)), video.group(1), audio.group(1))


def local_path(url: str | None) -> Path:
    assert url and url.startswith("file://")
    return Path(url[len("file://"):])


@pytest.fixture
def silent(tmp_path: Path) -> LocalProvider:
    """A small-frame renderer with a silent track, so durations follow the reading-speed rule."""
    return LocalProvider(str(tmp_path / "work"), height=144, espeak="")


def render(provider: LocalProvider, script: str, key: str = "key-1", **fields: Any) -> Path:
    video_id = provider.create_video(RenderRequest(avatar_id="local_ada", voice_id="local_en_f", script=script,
                                                   **fields), idempotency_key=key)
    status = provider.get_status(video_id)
    assert status.state == "completed", status.failure_message
    return local_path(status.video_url)


def test_renders_a_playable_h264_aac_mp4_of_the_reading_time(silent: LocalProvider) -> None:
    """75 characters read at 15 per second last 5 s; the file decodes cleanly as H.264 + AAC at 256x144."""
    script = "The quick brown fox jumps over the lazy dog, twice, while we watch it run."
    probe = decode(render(silent, script))
    assert (probe.video_codec, probe.audio_codec, probe.width, probe.height) == ("h264", "aac", 256, 144)
    assert abs(probe.duration - len(script) / 15) < 0.3


def test_a_short_script_lasts_at_least_two_seconds_and_has_a_jpeg_thumbnail(silent: LocalProvider) -> None:
    video_id = silent.create_video(RenderRequest(avatar_id="local_ben", voice_id="local_en_m", script="Hi"),
                                   idempotency_key="short")
    status = silent.get_status(video_id)
    assert status.duration == 2.0
    assert abs(decode(local_path(status.video_url)).duration - 2.0) < 0.3
    assert local_path(status.thumbnail_url).read_bytes()[:3] == b"\xff\xd8\xff"


def test_speech_comes_from_espeak_ng_when_installed(tmp_path: Path) -> None:
    """With espeak-ng on PATH the track is its speech and the video lasts as long; silent otherwise."""
    provider = LocalProvider(str(tmp_path), height=144)
    video_id = provider.create_video(RenderRequest(avatar_id="local_chen", voice_id="local_fr_f",
                                                   script="Bonjour tout le monde, ceci est un essai."),
                                     idempotency_key="speech")
    status = provider.get_status(video_id)
    assert status.raw["speech"] == ("espeak-ng" if shutil.which("espeak-ng") else "silent")
    assert status.duration is not None
    assert abs(decode(local_path(status.video_url)).duration - status.duration) < 0.3


def test_portrait_aspect_ratio_and_background(silent: LocalProvider) -> None:
    probe = decode(render(silent, "Standing tall.", aspect_ratio="9:16", background="#ff8800"))
    assert (probe.width, probe.height) == (144, 256)


def test_the_same_key_never_renders_twice_even_from_another_instance(silent: LocalProvider) -> None:
    first = render(silent, "Only once, please.")
    stamp = first.stat().st_mtime_ns
    again = render(silent, "Only once, please.")
    other_instance = LocalProvider(str(silent.work_dir), height=144, espeak="")
    from_elsewhere = render(other_instance, "Only once, please.")
    assert first == again == from_elsewhere and first.stat().st_mtime_ns == stamp
    assert (silent.renders, other_instance.renders) == (1, 0)
    assert render(silent, "Only once, please.", key="key-2") != first
    assert silent.renders == 2


def test_concurrent_creates_with_one_key_render_once(tmp_path: Path) -> None:
    """Four workers racing on one key (separate instances, as separate processes would be): one render."""
    providers = [LocalProvider(str(tmp_path), height=144, espeak="") for _ in range(4)]
    request = RenderRequest(avatar_id="local_dara", voice_id="local_es_m", script="Hola a todos.")
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda p: p.create_video(request, idempotency_key="race"), providers))
    assert len(set(ids)) == 1
    assert sum(p.renders for p in providers) == 1


@pytest.mark.parametrize("captions", ["subtitles", "bitmap"])
@pytest.mark.parametrize("script", [
    "Launch day 🚀🎉 — we ship at 9 👩🏽‍💻",
    "مرحبا بكم في جينفيد، هذا اختبار للنص من اليمين إلى اليسار",
    "שלום עולם mixed with English and 123",
    "{\\an8}Not a tag --> not a timing \\N not a break <b>not bold</b>",
    "这是一个很长的没有空格的中文句子用来测试字幕的分行功能是否正常工作并且不会崩溃" * 3,
])
def test_emoji_rtl_and_markup_scripts_render(tmp_path: Path, captions: str, script: str) -> None:
    provider = LocalProvider(str(tmp_path), height=144, espeak="", captions=captions)
    probe = decode(render(provider, script))
    assert abs(probe.duration - max(2.0, len(" ".join(script.split())) / 15)) < 0.3


def test_a_5000_character_script_renders(silent: LocalProvider) -> None:
    script = ("word " * 1000)[:5000]
    probe = decode(render(silent, script))
    assert abs(probe.duration - 4999 / 15) < 0.5


@pytest.mark.parametrize("field,value", [("avatar_id", "nobody"), ("voice_id", "nobody"), ("script", ""),
                                         ("script", "   "), ("script", "x" * 5001), ("background", "red")])
def test_invalid_requests_fail_permanently_without_rendering(silent: LocalProvider, field: str,
                                                             value: str) -> None:
    changes: dict[str, Any] = {field: value}
    request = replace(RenderRequest(avatar_id="local_ada", voice_id="local_en_f", script="Hello"), **changes)
    with pytest.raises(PermanentProviderError) as refused:
        silent.create_video(request, idempotency_key="bad")
    assert refused.value.code == "invalid_parameter"
    assert silent.renders == 0


def test_an_encoder_failure_is_a_failed_render_with_a_reason(silent: LocalProvider) -> None:
    """If ffmpeg cannot write its output the render ends failed (readable reason), not in an exception."""
    blocked = silent.work_dir / "renders" / local_video_id("doomed") / "video.part"
    blocked.mkdir(parents=True)
    video_id = silent.create_video(RenderRequest(avatar_id="local_ada", voice_id="local_en_f", script="Hello"),
                                   idempotency_key="doomed")
    status = silent.get_status(video_id)
    assert status.state == "failed" and status.failure_code == "render_failed"
    assert status.failure_message and status.failure_message.startswith("The offline renderer failed:")
    assert status.video_url is None


def test_unknown_ids_are_not_found(silent: LocalProvider) -> None:
    for video_id in ("local_" + "0" * 24, "local_../../etc/passwd", "vid_123"):
        with pytest.raises(PermanentProviderError) as missing:
            silent.get_status(video_id)
        assert missing.value.code == "not_found"


def test_download_copies_its_own_files_only(silent: LocalProvider, tmp_path: Path) -> None:
    source = render(silent, "Copy me.")
    silent.download(source.as_uri(), str(tmp_path / "media" / "copy.mp4"))
    assert (tmp_path / "media" / "copy.mp4").read_bytes() == source.read_bytes()
    for url in ("file:///etc/passwd", "https://example.com/video.mp4", (tmp_path / "elsewhere.mp4").as_uri()):
        with pytest.raises(PermanentProviderError):
            silent.download(url, str(tmp_path / "media" / "nope.mp4"))
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == ["copy.mp4"]


def test_catalogue_has_built_in_avatars_with_drawn_pictures_and_voices(silent: LocalProvider) -> None:
    avatars = list(silent.list_avatars())
    voices = list(silent.list_voices())
    assert len(avatars) == 4 and len(voices) == 4
    assert {a.gender for a in avatars} == {"female", "male"} == {v.gender for v in voices}
    for avatar in avatars:
        assert local_path(avatar.preview_image_url).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_built_from_config_renders_under_the_data_dir(config: Config) -> None:
    """The provider registry passes the Config: renders live under DATA_DIR, frames as small as asked."""
    provider = LocalProvider(config.with_overrides(local_render_height=144), espeak="")
    assert provider.work_dir == (Path(config.data_dir) / "local-provider").resolve()
    assert decode(render(provider, "From config.")).height == 144
