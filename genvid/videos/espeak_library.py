"""eSpeak NG through the shared library the espeakng-loader wheel ships, as a command: `python -m` this
module.

It takes the espeak-ng command's own arguments (`-v VOICE -w OUT.wav -f TEXT_FILE`), so the offline renderer
runs it exactly as it runs a system espeak-ng. It runs in a child process because libespeak-ng keeps global
state (one voice, one callback) and is not thread-safe: a worker thread must never share it, and a crash or
hang in the C library ends only this process, within the renderer's timeout.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import sys
import wave
from collections.abc import Sequence
from pathlib import Path

# From espeak-ng's speak_lib.h.
AUDIO_OUTPUT_SYNCHRONOUS = 2
POS_CHARACTER = 1
CHARS_UTF8 = 1
INITIALIZE_DONT_EXIT = 0x8000
EE_OK = 0
_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


def available() -> bool:
    """True when the espeakng-loader wheel is installed with its library and voice data."""
    try:
        import espeakng_loader  # type: ignore[import-untyped]
    except ImportError:
        return False
    return Path(espeakng_loader.get_library_path()).is_file() and Path(
        espeakng_loader.get_data_path()).is_dir()


def synthesize(text: str, voice: str) -> tuple[bytes, int]:
    """16-bit mono PCM of text spoken by voice (e.g. "en+f3"), and its sample rate."""
    import espeakng_loader
    library = ctypes.CDLL(espeakng_loader.get_library_path())
    library.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    library.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    # The path given is the folder that holds espeak-ng-data, not espeak-ng-data itself.
    data_parent = os.path.dirname(espeakng_loader.get_data_path()).encode()
    rate = library.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_parent, INITIALIZE_DONT_EXIT)
    if rate <= 0:
        raise RuntimeError("libespeak-ng did not initialise")
    chunks: list[bytes] = []

    def collect(samples: ctypes._Pointer[ctypes.c_short], count: int, _events: int | None) -> int:
        if count > 0:
            chunks.append(ctypes.string_at(samples, count * 2))
        return 0                                   # 0: go on synthesising

    callback = _SynthCallback(collect)             # kept referenced until synthesis ends
    library.espeak_SetSynthCallback(callback)
    if library.espeak_SetVoiceByName(voice.encode()) != EE_OK:
        raise RuntimeError(f"libespeak-ng has no voice {voice!r}")
    encoded = text.encode("utf-8") + b"\0"
    if library.espeak_Synth(encoded, len(encoded), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None) != EE_OK:
        raise RuntimeError("libespeak-ng refused the text")
    library.espeak_Synchronize()
    return b"".join(chunks), rate


def write_wav(path: str, pcm: bytes, rate: int) -> None:
    """pcm as a mono 16-bit WAV file."""
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)


def main(argv: Sequence[str] | None = None) -> int:
    """`-v VOICE -w OUT.wav -f TEXT_FILE`, as espeak-ng takes them; exit 1 with a reason on stderr."""
    parser = argparse.ArgumentParser(prog="python -m genvid.videos.espeak_library")
    parser.add_argument("-v", dest="voice", default="en")
    parser.add_argument("-w", dest="wav", required=True)
    parser.add_argument("-f", dest="text_file", required=True)
    args = parser.parse_args(argv)
    try:
        pcm, rate = synthesize(Path(args.text_file).read_text(encoding="utf-8"), args.voice)
        write_wav(args.wav, pcm, rate)
    except (OSError, RuntimeError, ImportError) as exc:
        print(f"espeak library: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
