"""A vendor's HTTP API on loopback, for the edges that cannot be reached from here (Twilio's REST API,
cloud TTS engines), shared by the tests and bench/server.py. Each is given the vendor's documented answer; it
records every request and when it came."""

from __future__ import annotations

import base64
import io
import json
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import numpy as np
import soundfile

from stt import g711


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float  # time.perf_counter() when it came


Answer = Callable[[Request], tuple[int, dict[str, str], bytes]]  # status, headers, body


class FakeHttp(ThreadingHTTPServer):
    def __init__(self, answer: Answer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.requests: list[Request] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait_for(self, n: int, timeout_s: float = 60.0) -> list[Request]:
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.requests) >= n, f"the fake received {len(self.requests)} requests, expected {n}"
        return self.requests

    def handle_error(self, request, client_address) -> None:
        """A client that gave up waiting (a deadline passed) closed its end: expected, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __enter__(self) -> FakeHttp:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: FakeHttp

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request = Request("POST", parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                          {k.lower(): v for k, v in self.headers.items()}, body, time.perf_counter())
        self.server.requests.append(request)
        status, headers, body = self.server.answer(request)
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def twilio_calls(refuse: tuple[int, dict] | None = None) -> Answer:
    """Twilio's Calls resource (``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json``): the call
    resource as JSON, or with ``refuse`` Twilio's error JSON (``code``, ``message``, ``status``)."""
    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        status, payload = refuse or (200, {
            "sid": request.path.rsplit("/", 1)[-1].removesuffix(".json"), "account_sid": request.path.split("/")[3],
            "status": "in-progress", "api_version": "2010-04-01", "uri": request.path})
        return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()
    return answer


def google_tts(key: str, speech: Callable[[str], bytes], delay_s: float = 0.0) -> Answer:
    """Google Cloud Text-to-Speech (``POST /v1/text:synthesize?key=``): ``speech(text)`` (8 kHz mu-law) as a
    WAV file, base64, in ``audioContent``, after ``delay_s`` (the engine's own time); a wrong key is Google's 400."""
    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.query.get("key") != key:
            error = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                               "status": "INVALID_ARGUMENT"}}
            return 400, {"Content-Type": "application/json"}, json.dumps(error).encode()
        time.sleep(delay_s)
        codes = speech(json.loads(request.body)["input"]["text"])
        wav = io.BytesIO()
        soundfile.write(wav, _linear(codes), 8000, format="WAV", subtype="ULAW")
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"audioContent": base64.b64encode(wav.getvalue()).decode()}).encode()
    return answer


def azure_tts(key: str, speech: Callable[[str], bytes], delay_s: float = 0.0) -> Answer:
    """Azure Speech (``POST /cognitiveservices/v1``, SSML in): headerless mu-law for
    ``raw-8khz-8bit-mono-mulaw``, after ``delay_s``; a wrong key is Azure's bare 401."""
    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.headers.get("ocp-apim-subscription-key") != key:
            return 401, {}, b""
        time.sleep(delay_s)
        return 200, {"Content-Type": "audio/basic"}, speech(request.body.decode("utf-8"))
    return answer


def _linear(mulaw: bytes) -> np.ndarray:
    """G.711 mu-law codes as float samples (for writing a WAV that soundfile re-encodes to the same codes)."""
    return g711.decode(mulaw).astype(np.float32) / 32768.0
