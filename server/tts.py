"""Text to speech for the phone line: a small protocol and the offline espeak-ng engine.

The bot's replies reach a caller as audio only if an engine is configured. The
interface is one method so a team can plug in a better voice (a cloud TTS, a
local neural model); espeak-ng is the offline default where it is installed
(``apt install espeak-ng``): robotic, but it runs in milliseconds on a CPU and
needs no download. Without an engine the telephony edge sends the reply as TwiML
``<Say language="ko-KR">`` text instead.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

from stt.audio import Audio, decode_audio


class TextToSpeech(Protocol):
    name: str

    def synthesize(self, text: str) -> Audio: ...


class EspeakTts:
    name = "espeak-ng"

    def __init__(self, binary: str, voice: str = "ko", words_per_minute: int = 160) -> None:
        self.binary = binary
        self.voice = voice
        self.words_per_minute = words_per_minute

    def synthesize(self, text: str) -> Audio:
        # -w writes a WAV with a correct header (the --stdout stream's header has no length).
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "reply.wav"
            subprocess.run([self.binary, "-v", self.voice, "-s", str(self.words_per_minute), "-w", str(path), text],
                           check=True, capture_output=True, timeout=30)
            return decode_audio(path)


def open_tts(engine: str) -> TextToSpeech | None:
    """'auto' (espeak-ng if installed, else none), 'espeak-ng', or 'none'."""
    if engine == "none":
        return None
    binary = shutil.which("espeak-ng")
    if engine == "auto":
        return EspeakTts(binary) if binary else None
    if engine == "espeak-ng":
        if binary is None:
            raise FileNotFoundError("espeak-ng is not installed (apt install espeak-ng), or set the TTS engine to 'none'")
        return EspeakTts(binary)
    raise ValueError(f"unknown TTS engine {engine!r}: use 'auto', 'espeak-ng' or 'none'")
