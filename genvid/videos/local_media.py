"""Pictures and captions for the offline renderer, drawn in Python: no fonts, images or assets needed.

Captions go through libass (ffmpeg's subtitles filter) when it can find a font; otherwise a tiny built-in
bitmap font draws them into strips that ffmpeg overlays, so a render never depends on installed fonts.
"""
from __future__ import annotations

import math
import os
import struct
import subprocess
import zlib
from pathlib import Path

from genvid.infra import processes

Color = tuple[int, int, int]
Segment = tuple[float, float, str]          # (start seconds, end seconds, text)


def line_chars(width: int, height: int) -> int:
    return max(12, (width - 2 * _scale(height) * 4) // (_scale(height) * 4))


def _scale(height: int) -> int:
    return max(2, min(height, 1080) // 90)


def segments(script: str, duration: float, max_chars: int) -> list[Segment]:
    """The script cut into caption-sized chunks at word boundaries, timed by their share of the characters."""
    chunks: list[str] = []
    for word in script.split(" "):
        while len(word) > max_chars:          # a long unbroken run (URLs, CJK) is cut by characters
            chunks.append(word[:max_chars])
            word = word[max_chars:]
        if chunks and len(chunks[-1]) + 1 + len(word) <= max_chars:
            chunks[-1] += " " + word
        elif word:
            chunks.append(word)
    chunks = chunks or [script]
    total = sum(len(chunk) for chunk in chunks) or 1
    segments, start = [], 0.0
    for chunk in chunks:
        end = min(duration, start + duration * len(chunk) / total)
        segments.append((start, end, chunk))
        start = end
    return segments


def srt(segments: list[Segment]) -> str:
    def stamp(seconds: float) -> str:
        millis = round(seconds * 1000)
        hours, minutes, secs = millis // 3600000, millis // 60000 % 60, millis // 1000 % 60
        return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis % 1000:03d}"
    blocks = []
    for number, (start, end, text) in enumerate(segments, 1):
        # libass reads {...} as override tags and \N as markup; "-->" would end the text block.
        safe = text.replace("\\", "\uff3c").replace("{", "(").replace("}", ")").replace("-->", "->")
        blocks.append(f"{number}\n{stamp(start)} --> {stamp(end)}\n{safe}\n")
    return "\n".join(blocks)


# A 3x5 pixel font for machines where libass finds no font: ASCII only, anything else drawn as "?".
_GLYPHS = {ch: rows for ch, rows in zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'-:\"()/",
    ("010101111101101", "110101110101110", "011100100100011", "110101101101110", "111100110100111",
     "111100110100100", "011100101101011", "101101111101101", "111010010010111", "001001001101010",
     "101101110101101", "100100100100111", "101111111101101", "110101101101101", "010101101101010",
     "110101110100100", "010101101110011", "110101110101101", "011100010001110", "111010010010010",
     "101101101101111", "101101101101010", "101101111111101", "101101010101101", "101101010010010",
     "111001010100111", "111101101101111", "010110010010111", "110001010100111", "110001010001110",
     "101101111001001", "111100110001110", "011100111101111", "111001010010010", "111101111101111",
     "111101111001110", "000000000000010", "000000000010100", "010010010000010", "110001010000010",
     "010010000000000", "000000111000000", "000010000010000", "101101000000000", "001010010010001",
     "100010010010100", "001001010100100",
    ))}


def bitmap_strips(directory: Path, segments: list[Segment], width: int, height: int) -> str:
    """One caption strip image per segment plus a concat list timing them; returns the list's name."""
    scale = _scale(height)
    per_line = line_chars(width, height)
    strip_height = 2 * 6 * scale + 2 * scale
    lines = ["ffconcat version 1.0"]
    for index, (start, end, text) in enumerate(segments):
        name = f"caption{index:04d}.ppm"
        rows = [text[i:i + per_line] for i in range(0, len(text), per_line)][:2]
        atomic_bytes(directory / name, _text_strip(rows, width, strip_height, scale))
        lines += [f"file {name}", f"duration {max(end - start, 0.001):.3f}"]
    lines.append(f"file caption{len(segments) - 1:04d}.ppm")     # the last duration needs a following entry
    (directory / "captions.txt").write_text("\n".join(lines) + "\n")
    return "captions.txt"


def _text_strip(rows: list[str], width: int, height: int, scale: int) -> bytes:
    pixels = bytearray(b"\x14\x14\x14" * width * height)
    for line_number, text in enumerate(rows):
        left = (width - len(text) * 4 * scale) // 2
        top = scale + line_number * 6 * scale
        for position, char in enumerate(text.upper()):
            glyph = _GLYPHS.get(char, "" if char == " " else _GLYPHS["?"])
            for bit, on in enumerate(glyph):
                if on == "1":
                    x0, y0 = left + (position * 4 + bit % 3) * scale, top + (bit // 3) * scale
                    for y in range(y0, y0 + scale):
                        start = (y * width + x0) * 3
                        pixels[start:start + 3 * scale] = b"\xff" * 3 * scale
    return f"P6 {width} {height} 255\n".encode() + bytes(pixels)


def portrait(backdrop: Color, skin: Color, hair: Color, shirt: Color, size: int = 256) -> bytes:
    """A flat cartoon head and shoulders as a binary PPM, drawn row by row from ellipse spans."""
    s = size / 256
    shapes: list[tuple[float, float, float, float, Color]] = [   # (cx, cy, rx, ry, colour), painted in order
        (128, 290, 120, 90, shirt), (128, 190, 22, 30, skin), (128, 100, 62, 70, hair),
        (128, 118, 54, 64, skin), (106, 110, 7, 8, (30, 30, 30)), (150, 110, 7, 8, (30, 30, 30)),
        (128, 150, 18, 6, (150, 50, 50))]
    rows = []
    for y in range(size):
        row = bytearray(bytes(backdrop) * size)
        for cx, cy, rx, ry, colour in shapes:
            dy = (y - cy * s) / (ry * s)
            if abs(dy) <= 1:
                half = rx * s * math.sqrt(1 - dy * dy)
                x0, x1 = max(0, int(cx * s - half)), min(size, int(cx * s + half) + 1)
                row[x0 * 3:x1 * 3] = bytes(colour) * (x1 - x0)
        rows.append(bytes(row))
    return f"P6 {size} {size} 255\n".encode() + b"".join(rows)


def png_from_ppm(ppm: bytes) -> bytes:
    """A binary PPM as written by portrait() (header "P6 W H 255\\n"), encoded as an 8-bit RGB PNG."""
    header, _, pixels = ppm.partition(b"\n")
    _, width, height, _ = header.split()
    width_px, height_px = int(width), int(height)
    stride = width_px * 3
    # Each scanline starts with its filter type; 0 (none) keeps the encoder to these few lines.
    raw = b"".join(b"\x00" + pixels[row * stride:(row + 1) * stride] for row in range(height_px))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width_px, height_px, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def libass_draws_text(ffmpeg: str, work_dir: Path) -> bool:
    """Render "Ag" with the subtitles filter on black and look for lit pixels: fonts may be missing.

    The answer is kept for the process: fonts do not come and go while it runs.
    """
    if ffmpeg not in _LIBASS_PROBES:
        probe = work_dir / "probe"
        probe.mkdir(parents=True, exist_ok=True)
        (probe / "probe.srt").write_text("1\n00:00:00,000 --> 00:00:05,000\nAg\n", encoding="utf-8")
        try:
            result = subprocess.run(
                [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=320x180", "-vf",
                 "subtitles=probe.srt:force_style='FontSize=24'", "-frames:v", "1", "-f", "rawvideo",
                 "-pix_fmt", "gray", "-"], cwd=probe, capture_output=True, timeout=30, check=True,
                preexec_fn=processes.dies_with_this_process())
            _LIBASS_PROBES[ffmpeg] = sum(1 for value in result.stdout if value > 128) > 10
        except (subprocess.SubprocessError, OSError):
            _LIBASS_PROBES[ffmpeg] = False
    return _LIBASS_PROBES[ffmpeg]


_LIBASS_PROBES: dict[str, bool] = {}


def atomic_bytes(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{os.getpid()}.{path.name}")
    partial.write_bytes(data)
    os.replace(partial, path)
