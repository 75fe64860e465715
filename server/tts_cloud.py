"""Cloud voices that speak telephone audio directly: Google Cloud Text-to-Speech and Azure Speech.

Each asks for 8 kHz G.711 mu-law, what a phone line carries, so nothing is
resampled. Credentials come from the settings (``tts_key``, ``tts_region``);
``tts_url`` points an engine at another base (a proxy, or a local fake in
tests). An engine that cannot be reached or refuses the key raises
:class:`TtsEngineError` with the vendor's own words; the server tries the engine
once at start-up, so a wrong key stops it there rather than on a caller.

* Google: ``POST /v1/text:synthesize?key=...`` with ``audioEncoding: MULAW,
  sampleRateHertz: 8000``; the base64 ``audioContent`` is a WAV file, whose
  header is read, never sent down the line.
* Azure: ``POST /cognitiveservices/v1`` with SSML and ``X-Microsoft-OutputFormat:
  raw-8khz-8bit-mono-mulaw``: headerless mu-law.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import httpx

from stt.audio import Audio, AudioError, decode_audio

TIMEOUT_S = 10.0  # default; the server gives each engine its tts_deadline_s
GOOGLE_URL = "https://texttospeech.googleapis.com"
GOOGLE_VOICE = "ko-KR-Neural2-A"
AZURE_VOICE = "ko-KR-SunHiNeural"


class TtsEngineError(RuntimeError):
    """The engine refused or could not be reached; the message says which."""


def _checked(engine: str, send) -> httpx.Response:
    try:
        response = send()
    except httpx.HTTPError as exc:
        raise TtsEngineError(f"{engine}: cannot reach the engine ({exc!r})") from exc
    if response.status_code >= 400:
        raise TtsEngineError(f"{engine}: the engine refused ({response.status_code}): {response.text[:300]}")
    return response


@dataclass(frozen=True)
class GoogleTts:
    key: str
    voice: str = GOOGLE_VOICE
    url: str = GOOGLE_URL
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=TIMEOUT_S), compare=False)
    name: str = "google"

    def synthesize(self, text: str) -> Audio:
        body = {"input": {"text": text}, "voice": {"languageCode": "ko-KR", "name": self.voice},
                "audioConfig": {"audioEncoding": "MULAW", "sampleRateHertz": 8000}}
        response = _checked(self.name, lambda: self.client.post(f"{self.url}/v1/text:synthesize",
                                                                params={"key": self.key}, json=body))
        try:
            return decode_audio(base64.b64decode(response.json()["audioContent"], validate=True))
        except (ValueError, KeyError, binascii.Error, AudioError) as exc:
            raise TtsEngineError(f"{self.name}: the answer holds no audio ({exc})") from exc


@dataclass(frozen=True)
class AzureTts:
    key: str
    region: str
    voice: str = AZURE_VOICE
    url: str | None = None  # default: https://{region}.tts.speech.microsoft.com
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=TIMEOUT_S), compare=False)
    name: str = "azure"

    def synthesize(self, text: str) -> Audio:
        url = self.url or f"https://{self.region}.tts.speech.microsoft.com"
        ssml = (f"<speak version='1.0' xml:lang='ko-KR'><voice name={quoteattr(self.voice)}>{escape(text)}"
                "</voice></speak>")
        headers = {"Ocp-Apim-Subscription-Key": self.key, "Content-Type": "application/ssml+xml",
                   "X-Microsoft-OutputFormat": "raw-8khz-8bit-mono-mulaw", "User-Agent": "kocall"}
        response = _checked(self.name, lambda: self.client.post(f"{url}/cognitiveservices/v1", headers=headers,
                                                                content=ssml.encode("utf-8")))
        try:
            return decode_audio(response.content, mulaw=True)
        except AudioError as exc:
            raise TtsEngineError(f"{self.name}: the answer holds no audio ({exc})") from exc
