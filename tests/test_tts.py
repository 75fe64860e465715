"""Cloud voices (Google Cloud Text-to-Speech, Azure Speech) and the prompt cache, against local fakes that
answer as each vendor documents, and a live call that hears them."""

from __future__ import annotations

import base64
import json
from xml.etree import ElementTree

import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient

from core.settings import ServerSettings
from server.app import create_app
from server.tts import CachedTts, open_tts
from server.tts_cloud import AzureTts, GoogleTts, TtsEngineError
from stt.audio import Audio, to_mulaw

from .conftest import LEOPARD, server_settings
from bench.fakehttp import FakeHttp, azure_tts, google_tts
from .test_server import media_socket, speech_then_silence, stream

KEY = "test-key-123"
VOICE_SECONDS = 1.2


def spoken(seed: int = 0) -> bytes:
    """1.2 s of 8 kHz mu-law with a voice-like envelope: what an engine answers."""
    t = np.arange(int(8000 * VOICE_SECONDS)) / 8000
    wave = 0.3 * np.sin(2 * np.pi * (180 + 20 * seed) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return to_mulaw(Audio(wave.astype(np.float32), 8000))


google = google_tts(KEY, lambda text: spoken())
azure = azure_tts(KEY, lambda text: spoken())


def test_google_is_asked_for_8khz_mulaw_in_the_chosen_voice_and_its_wav_header_is_not_kept():
    with FakeHttp(google) as fake:
        audio = GoogleTts(KEY, "ko-KR-Wavenet-B", fake.url).synthesize("카드 분실 신고를 도와드릴까요?")
        (request,) = fake.requests
    assert request.path == "/v1/text:synthesize" and request.query == {"key": KEY}
    assert json.loads(request.body) == {
        "input": {"text": "카드 분실 신고를 도와드릴까요?"}, "voice": {"languageCode": "ko-KR", "name": "ko-KR-Wavenet-B"},
        "audioConfig": {"audioEncoding": "MULAW", "sampleRateHertz": 8000}}
    assert audio.sample_rate == 8000 and to_mulaw(audio) == spoken()  # the samples exactly, no header bytes


def test_azure_is_sent_ssml_for_the_voice_and_asked_for_raw_mulaw():
    with FakeHttp(azure) as fake:
        audio = AzureTts(KEY, "koreacentral", "ko-KR-InJoonNeural", fake.url).synthesize("A&B <카드> 해지")
        (request,) = fake.requests
    assert request.path == "/cognitiveservices/v1"
    assert request.headers["x-microsoft-outputformat"] == "raw-8khz-8bit-mono-mulaw"
    assert request.headers["content-type"] == "application/ssml+xml"
    ssml = ElementTree.fromstring(request.body.decode("utf-8"))  # well-formed though the text has & and <
    voice = ssml.find("voice")
    assert voice.get("name") == "ko-KR-InJoonNeural" and voice.text == "A&B <카드> 해지"
    assert to_mulaw(audio) == spoken()


@pytest.mark.parametrize("engine, answer", [("google", google), ("azure", azure)])
def test_a_refused_key_is_a_clear_error_and_the_server_does_not_start(engine, answer, settings, models_dir,
                                                                       tmp_path):
    with FakeHttp(answer) as fake:
        server = ServerSettings(tts=engine, tts_key="wrong", tts_url=fake.url, tts_region="koreacentral")
        with pytest.raises(TtsEngineError, match=f"{engine}: the engine refused \\((400|401)\\)"):
            open_tts(server, tmp_path).synthesize("안녕하세요")
        app = create_app(server_settings(settings, models_dir, tmp_path, tts=engine, tts_key="wrong",
                                         tts_url=fake.url, tts_region="koreacentral"))
        with pytest.raises(TtsEngineError):
            with TestClient(app):
                pass
    with pytest.raises(ValueError, match="KOCALL_SERVER__TTS_KEY"):
        open_tts(ServerSettings(tts=engine), tmp_path)


def test_an_unreachable_engine_is_named_in_the_error(tmp_path):
    with pytest.raises(TtsEngineError, match="google: cannot reach the engine"):
        GoogleTts(KEY, url="http://127.0.0.1:9").synthesize("안녕하세요")


def test_a_repeated_prompt_costs_no_engine_call_and_the_voice_is_part_of_the_key(tmp_path):
    with FakeHttp(azure) as fake:
        cached = CachedTts(AzureTts(KEY, "koreacentral", url=fake.url), tmp_path)
        first = cached.synthesize("더 도와드릴 일이 있으신가요?")
        again = cached.synthesize("더 도와드릴 일이 있으신가요?")
        assert len(fake.requests) == 1 and (cached.hits, cached.misses) == (1, 1)
        assert to_mulaw(first) == to_mulaw(again) == spoken()
        other = CachedTts(AzureTts(KEY, "koreacentral", "ko-KR-InJoonNeural", url=fake.url), tmp_path)
        other.synthesize("더 도와드릴 일이 있으신가요?")
        assert len(fake.requests) == 2 and len(list(tmp_path.glob("*.ulaw"))) == 2
        assert not list(tmp_path.glob("*.part"))


def test_a_live_call_hears_the_engine_as_media_frames_then_a_mark(settings, models_dir, tmp_path,
                                                                  intent_model, utterance_type_model):
    with FakeHttp(google) as fake:
        app = create_app(server_settings(settings, models_dir, tmp_path, tts="google", tts_key=KEY,
                                         tts_url=fake.url))
        with TestClient(app) as client:
            assert client.get("/healthz").json()["tts"] == "google"
            assert len(fake.requests) == 1  # the start-up check said the greeting
            for n, call in enumerate(("CA-g1", "CA-g2")):
                with media_socket(client) as ws:
                    stream(ws, f"MZ{n}", call, speech_then_silence(LEOPARD))
                    frames = []
                    while (msg := json.loads(ws.receive_text()))["event"] == "media":
                        frames.append(base64.b64decode(msg["media"]["payload"]))
                    assert msg["event"] == "mark" and msg["mark"]["name"] == "reply-1"
                assert b"".join(frames) == spoken() and all(len(f) == 160 for f in frames)
            # Both callers were re-prompted alike: the second heard the cached prompt, no engine call.
            assert len(fake.requests) == 2


def test_kocall_say_writes_the_phone_voice_and_the_second_time_it_comes_from_the_cache(tmp_path):
    import os
    import subprocess
    import sys

    with FakeHttp(azure) as fake:
        env = {**os.environ, "KOCALL_CACHE_DIR": str(tmp_path / "cache"), "KOCALL_SERVER__TTS": "azure",
               "KOCALL_SERVER__TTS_KEY": KEY, "KOCALL_SERVER__TTS_URL": fake.url}
        say = [sys.executable, "-m", "kocall.cli", "say", "상담원을 연결해 드리겠습니다.", "--out"]
        first = subprocess.run([*say, str(tmp_path / "a.wav")], env=env, capture_output=True, text=True, timeout=120)
        second = subprocess.run([*say, str(tmp_path / "b.wav")], env=env, capture_output=True, text=True,
                                timeout=120)
        assert first.returncode == second.returncode == 0, first.stderr + second.stderr
        assert "spoken by azure" in first.stderr and "from the cache" in second.stderr
        assert len(fake.requests) == 1
    written, rate = soundfile.read(tmp_path / "b.wav")
    assert rate == 8000 and len(written) == int(8000 * VOICE_SECONDS)
    refused = subprocess.run([*say, str(tmp_path / "c.wav"), "--engine", "google"],
                             env={**env, "KOCALL_SERVER__TTS_URL": "http://127.0.0.1:9"}, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 1 and "google: cannot reach the engine" in refused.stderr
    twilio_only = subprocess.run([*say, str(tmp_path / "d.wav")], env={**env, "KOCALL_SERVER__TTS": "auto"},
                                 capture_output=True, text=True, timeout=120)
    assert twilio_only.returncode == 2 and "give --engine" in twilio_only.stderr


def test_a_slow_engine_is_passed_over_for_twilios_voice_and_said_in_healthz_until_it_is_quick_again(
        settings, models_dir, tmp_path, intent_model, utterance_type_model):
    import time

    from bench.fakehttp import twilio_calls

    slow = {"s": 0.0}

    def engine(request):
        time.sleep(slow["s"])
        return google(request)

    with FakeHttp(engine) as fake, FakeHttp(twilio_calls()) as twilio_api:
        app = create_app(server_settings(settings, models_dir, tmp_path, tts="google", tts_key=KEY, tts_url=fake.url,
                                         tts_cache=False, tts_deadline_s=1.0, twilio_api_url=twilio_api.url))
        with TestClient(app) as client:
            slow["s"] = 2.5  # past the 1 s deadline
            with media_socket(client) as ws:
                ws.send_text(json.dumps({"event": "start", "streamSid": "MZs", "start": {
                    "accountSid": "AC" + "0" * 32, "streamSid": "MZs", "callSid": "CA-slow",
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}}))
                stream(ws, "MZs", "CA-slow", speech_then_silence(LEOPARD), first_sequence=3)
                (update,) = twilio_api.wait_for(1)
            assert b"Polly.Seoyeon" in update.body  # said in Twilio's voice instead
            health = client.get("/healthz").json()
            assert health["status"] == "degraded" and "google" in health["degraded"]["tts"]
            slow["s"] = 0.0
            with media_socket(client) as ws:
                stream(ws, "MZt", "CA-quick", speech_then_silence(LEOPARD))
                assert json.loads(ws.receive_text())["event"] == "media"  # the engine's voice again
            assert client.get("/healthz").json()["degraded"] == {}
