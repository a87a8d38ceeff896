"""The offline renderer: real MP4s that ffmpeg decodes, with the expected length, size and streams."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import imageio_ffmpeg  # type: ignore[import-untyped]
import pytest

from genvid.config import Config
from genvid.videos import speech
from genvid.videos.local import LocalProvider, local_video_id
from genvid.videos.provider_contract import PermanentProviderError, RenderRequest

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


def loudest_db(path: Path) -> float:
    """The peak level of the audio track in dB (ffmpeg's volumedetect); -91 for digital silence."""
    report = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(path), "-map", "0:a", "-af", "volumedetect", "-f",
         "null", "-"], check=True, capture_output=True, timeout=60, text=True).stderr
    found = re.search(r"max_volume: (-?[\d.]+|-inf) dB", report)
    assert found, report
    return -91.0 if found.group(1) == "-inf" else float(found.group(1))


def local_path(url: str | None) -> Path:
    assert url and url.startswith("file://")
    return Path(url[len("file://"):])


@pytest.fixture
def silent(tmp_path: Path) -> LocalProvider:
    """A small-frame renderer with a silent track, so durations follow the reading-speed rule."""
    return LocalProvider(str(tmp_path / "work"), height=144, speech="none")


def render(provider: LocalProvider, script: str, key: str = "key-1", **fields: Any) -> Path:
    video_id = provider.create_video(
        RenderRequest(avatar_id="local_ada", voice_id="local_en_f", script=script,
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


def test_speech_comes_from_the_bundled_espeak_ng_library_on_a_fresh_machine(tmp_path: Path) -> None:
    """No espeak-ng on PATH needed: the wheel's library speaks, the video lasts as long as the speech, the
    soundtrack is audible, and the render carries no warning."""
    provider = LocalProvider(str(tmp_path), height=144)
    assert provider.speech is not None and provider.speech.name == speech.LIBRARY
    video_id = provider.create_video(RenderRequest(avatar_id="local_chen", voice_id="local_fr_f",
                                                   script="Bonjour tout le monde, ceci est un essai."),
                                     idempotency_key="speech")
    status = provider.get_status(video_id)
    assert status.raw["speech"] == speech.LIBRARY and status.warnings == ()
    assert status.duration is not None and status.duration > 1
    assert abs(decode(local_path(status.video_url)).duration - status.duration) < 0.3
    assert loudest_db(local_path(status.video_url)) > -30


def test_without_any_speech_engine_the_track_is_silent_and_the_render_says_so(silent: LocalProvider) -> None:
    video_id = silent.create_video(
        RenderRequest(avatar_id="local_ada", voice_id="local_en_f", script="Hello"),
        idempotency_key="quiet")
    status = silent.get_status(video_id)
    assert status.raw["speech"] == "silent"
    assert [w.code for w in status.warnings] == ["silent_audio"] and "silent" in status.warnings[0].message
    assert loudest_db(local_path(status.video_url)) < -80


def test_a_broken_speech_engine_gives_a_silent_video_with_the_warning(tmp_path: Path) -> None:
    """An engine that fails (here: a command that exits 1) never fails the render."""
    provider = LocalProvider(str(tmp_path), height=144)
    provider.speech = speech.SpeechEngine("broken", (shutil.which("false") or "/bin/false",))
    status = provider.get_status(provider.create_video(
        RenderRequest(avatar_id="local_ada", voice_id="local_en_f", script="Hello there"),
        idempotency_key="b"))
    assert status.state == "completed" and [w.code for w in status.warnings] == ["silent_audio"]


def test_the_system_espeak_ng_speaks_when_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """speech="system" runs the `espeak-ng` found on PATH with espeak-ng's own arguments. Where the Debian
    package is not installed, a stand-in named espeak-ng (the library module, which takes the same
    arguments) is put on PATH, so the command line is exercised either way."""
    if shutil.which("espeak-ng") is None:
        shim = tmp_path / "bin" / "espeak-ng"
        shim.parent.mkdir()
        shim.write_text(f"#!/bin/sh\nexec {sys.executable} -m genvid.videos.espeak_library \"$@\"\n")
        shim.chmod(0o755)
        monkeypatch.setenv("PATH", f"{shim.parent}:{os.environ['PATH']}")
    provider = LocalProvider(str(tmp_path / "work"), height=144, speech="system")
    assert provider.speech is not None and provider.speech.name == speech.SYSTEM
    status = provider.get_status(provider.create_video(
        RenderRequest(avatar_id="local_ben", voice_id="local_en_m", script="Spoken by the system."),
        idempotency_key="system"))
    assert status.raw["speech"] == speech.SYSTEM and status.warnings == ()
    assert loudest_db(local_path(status.video_url)) > -30


def test_engine_choice_order() -> None:
    """auto prefers the bundled library; none is silence; anything else is refused."""
    assert speech.find_engine("auto") == speech.find_engine("library")
    assert speech.find_engine("none") is None
    with pytest.raises(ValueError):
        speech.find_engine("festival")


def bottom_left_pixel(path: Path, at: float = 1.0) -> tuple[int, int, int]:
    """The RGB of the frame's bottom-left pixel at `at` seconds."""
    frame = subprocess.run([FFMPEG, "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1", "-f",
                            "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True,
                           timeout=60).stdout
    width = decode(path).width
    red, green, blue = frame[-width * 3:-width * 3 + 3]
    return red, green, blue


def test_captions_are_burnt_in_only_when_asked_for(tmp_path: Path) -> None:
    """The caption strip covers the bottom of the frame with captions on; with captions off (the API's
    default) the bottom corner shows the background colour."""
    provider = LocalProvider(str(tmp_path), height=144, speech="none", captions="bitmap")
    plain = render(provider, "Nothing written here.", key="plain", background="#ff8800")
    captioned = render(provider, "Nothing written here.", key="captioned", background="#ff8800",
                       captions=True)
    assert all(abs(a - b) < 24 for a, b in zip(bottom_left_pixel(plain), (255, 136, 0), strict=True))
    assert all(value < 48 for value in bottom_left_pixel(captioned))


def test_portrait_aspect_ratio_and_background(silent: LocalProvider) -> None:
    probe = decode(render(silent, "Standing tall.", aspect_ratio="9:16", background="#ff8800"))
    assert (probe.width, probe.height) == (144, 256)


def test_the_same_key_never_renders_twice_even_from_another_instance(silent: LocalProvider) -> None:
    first = render(silent, "Only once, please.")
    stamp = first.stat().st_mtime_ns
    again = render(silent, "Only once, please.")
    other_instance = LocalProvider(str(silent.work_dir), height=144, speech="none")
    from_elsewhere = render(other_instance, "Only once, please.")
    assert first == again == from_elsewhere and first.stat().st_mtime_ns == stamp
    assert (silent.renders, other_instance.renders) == (1, 0)
    assert render(silent, "Only once, please.", key="key-2") != first
    assert silent.renders == 2


def test_concurrent_creates_with_one_key_render_once(tmp_path: Path) -> None:
    """Four workers racing on one key (separate instances, as separate processes would be): one render."""
    providers = [LocalProvider(str(tmp_path), height=144, speech="none") for _ in range(4)]
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
    provider = LocalProvider(str(tmp_path), height=144, speech="none", captions=captions)
    probe = decode(render(provider, script, captions=True))
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
    video_id = silent.create_video(
        RenderRequest(avatar_id="local_ada", voice_id="local_en_f", script="Hello"),
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


def test_catalogue_has_built_in_avatars_and_voices_linked_to_genvid_served_previews(tmp_path: Path) -> None:
    provider = LocalProvider(str(tmp_path), height=144)
    avatars = list(provider.list_avatars())
    voices = list(provider.list_voices())
    assert len(avatars) == 4 and len(voices) == 4
    assert {a.gender for a in avatars} == {"female", "male"} == {v.gender for v in voices}
    assert [a.preview_image_url for a in avatars] == [
        f"/api/avatars/{a.provider_id}/preview.png" for a in avatars]
    assert [v.preview_audio_url for v in voices] == [
        f"/api/voices/{v.provider_id}/sample.wav" for v in voices]
    silent = LocalProvider(str(tmp_path), speech="none")
    assert {v.preview_audio_url for v in silent.list_voices()} == {None}      # nothing could say the sample


def test_avatar_previews_are_the_renderers_own_drawing_as_png(silent: LocalProvider) -> None:
    """The PNG decodes (by ffmpeg) to exactly the pixels the renderer puts in its videos."""
    from genvid.videos.local_catalogue import AVATARS
    from genvid.videos.local_media import portrait
    for avatar in AVATARS:
        path = silent.preview_picture(avatar.id)
        assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        pixels = subprocess.run(
            [FFMPEG, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24",
             "-"], check=True, capture_output=True, timeout=60).stdout
        ppm = portrait(avatar.backdrop, avatar.skin, avatar.hair, avatar.shirt)
        assert pixels == ppm.partition(b"\n")[2]
    assert silent.preview_picture("local_nobody") is None


def test_voice_samples_are_short_spoken_wavs(tmp_path: Path) -> None:
    provider = LocalProvider(str(tmp_path))
    for voice in provider.list_voices():
        path = provider.voice_sample(voice.provider_id)
        assert path is not None
        with wave.open(str(path)) as sample:
            seconds = sample.getnframes() / sample.getframerate()
        assert 1 < seconds < 10
    assert provider.voice_sample("local_nobody") is None
    assert LocalProvider(str(tmp_path / "quiet"), speech="none").voice_sample("local_en_f") is None


def test_built_from_config_renders_under_the_data_dir(config: Config) -> None:
    """The provider registry passes the Config: renders live under DATA_DIR, frames as small as asked."""
    provider = LocalProvider(config.with_overrides(local_render_height=144), speech="none")
    assert provider.work_dir == (Path(config.data_dir) / "local-provider").resolve()
    assert decode(render(provider, "From config.")).height == 144
