"""Which speech engine the offline renderer uses, and running it.

In order: eSpeak NG's library from the espeakng-loader wheel (installed with genvid, so a fresh machine
speaks), the system `espeak-ng` command when the wheel cannot be used, and none (a silent track, which the
video then reports). Both engines are commands taking espeak-ng's arguments, run in a child process with a
timeout, so a broken engine fails one render's speech, never the worker.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

from genvid.config import SPEECH_CHOICES
from genvid.infra import processes
from genvid.videos import espeak_library

LIBRARY = "espeak-ng library"        # the names a render reports in its status
SYSTEM = "espeak-ng"


@dataclass(frozen=True)
class SpeechEngine:
    """A command that speaks a text file into a WAV file: `<command> -v VOICE -w OUT.wav -f TEXT`."""

    name: str
    command: tuple[str, ...]

    def speak(self, *, text_file: Path, voice: str, wav_file: Path, timeout: float) -> float | None:
        """Seconds of speech written to wav_file, or None when the engine failed or said nothing."""
        try:
            subprocess.run([*self.command, "-v", voice, "-w", str(wav_file), "-f", str(text_file)],
                           check=True, capture_output=True, timeout=timeout,
                           preexec_fn=processes.dies_with_this_process())     # no orphan speaks on
            with wave.open(str(wav_file)) as audio:
                seconds = audio.getnframes() / audio.getframerate()
        except (subprocess.SubprocessError, OSError, wave.Error, EOFError):
            return None
        return seconds if seconds > 0 else None


def find_engine(choice: str = "auto") -> SpeechEngine | None:
    """The engine to use: choice is auto (library, else system), library, system or none."""
    if choice not in SPEECH_CHOICES:
        raise ValueError(f"speech is one of {', '.join(SPEECH_CHOICES)}")
    if choice in ("auto", "library") and espeak_library.available():
        return SpeechEngine(LIBRARY, (sys.executable, "-m", "genvid.videos.espeak_library"))
    if choice in ("auto", "system"):
        binary = shutil.which("espeak-ng")
        if binary:
            return SpeechEngine(SYSTEM, (binary,))
    return None
