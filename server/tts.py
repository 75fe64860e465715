"""Text to speech for the phone line: a small protocol and the offline espeak-ng engine.

Without an engine, a Twilio caller hears each reply in Twilio's own Korean voice
(``server.twilio_rest``). An engine speaks replies as audio into the media
stream; the interface is one method so a team can plug in a voice. The cloud
voices (``server.tts_cloud``) sit behind a prompt cache on disk. espeak-ng runs
offline in milliseconds, but its Korean is not intelligible: it is there to
test the audio path, and only when asked for.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

import httpx

from core.settings import ServerSettings
from server.tts_cloud import AZURE_VOICE, GOOGLE_URL, GOOGLE_VOICE, AzureTts, GoogleTts
from stt.audio import Audio, decode_audio, to_mulaw

log = logging.getLogger(__name__)


class TextToSpeech(Protocol):
    name: str  # and, where it has several, ``voice``: both key the prompt cache

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


class CachedTts:
    """An engine whose audio is kept on disk by (engine, voice, text): most replies are fixed sentences of the
    domain file, and a repeated one then costs no engine call. Files are 8 kHz mu-law, written whole and
    renamed into place, so a crash or a second process never leaves half a prompt."""

    def __init__(self, engine: TextToSpeech, folder: Path) -> None:
        self.engine = engine
        self.name = engine.name
        self.folder = Path(folder)
        self.hits = self.misses = 0

    def path(self, text: str) -> Path:
        key = "\0".join((self.engine.name, getattr(self.engine, "voice", ""), text))
        return self.folder / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()}.ulaw"

    def synthesize(self, text: str) -> Audio:
        path = self.path(text)
        if path.is_file():
            self.hits += 1
            return decode_audio(path, mulaw=True)
        self.misses += 1
        audio = self.engine.synthesize(text)
        self.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.folder, suffix=".part", delete=False) as part:
            part.write(to_mulaw(audio))
        os.replace(part.name, path)
        return audio


def open_tts(settings: ServerSettings, cache_dir: Path) -> TextToSpeech | None:
    """The engine that voices replies as audio (behind the prompt cache, unless ``tts_cache`` is off); None
    where no engine does ('auto' and 'twilio': Twilio's own voice says them; 'none': text only)."""
    engine = _engine(settings)
    if engine is None or not settings.tts_cache or engine.name == "espeak-ng":
        return engine
    return CachedTts(engine, Path(cache_dir) / "tts")


def _engine(settings: ServerSettings) -> TextToSpeech | None:
    name = settings.tts
    if name in ("auto", "twilio", "none"):
        return None
    if name == "espeak-ng":
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise FileNotFoundError("espeak-ng is not installed (apt install espeak-ng), or set the TTS engine to 'auto'")
        log.warning("TTS engine espeak-ng: its Korean is not intelligible to callers (Whisper reads it at a "
                    "character error rate near 1.0); use it only to test the audio path")
        return EspeakTts(binary)
    if settings.tts_key is None:
        raise ValueError(f"the TTS engine {name!r} needs its key: set KOCALL_SERVER__TTS_KEY")
    key = settings.tts_key.get_secret_value()
    client = httpx.Client(timeout=settings.tts_deadline_s)  # a reply past its deadline is said another way
    if name == "google":
        return GoogleTts(key, settings.tts_voice or GOOGLE_VOICE, settings.tts_url or GOOGLE_URL, client)
    if not settings.tts_region and not settings.tts_url:
        raise ValueError("the TTS engine 'azure' needs its region: set KOCALL_SERVER__TTS_REGION (koreacentral, ...)")
    return AzureTts(key, settings.tts_region or "", settings.tts_voice or AZURE_VOICE, settings.tts_url, client)
