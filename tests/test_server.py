"""The web server, through FastAPI's test client and real websocket sessions.

Twilio itself cannot run here, so the tests play Twilio: they sign webhooks
with the auth token the way Twilio does, and stream real Korean speech from
../shared/data as 20 ms G.711 mu-law media messages.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from core.settings import Settings
from data_tools.calllog.turnlog import TurnLog
from data_tools.evaluation.metrics import cer
from server import twilio
from server.app import create_app
from server.turns import Pipeline
from stt.audio import decode_audio, to_mulaw
from stt.transcribe import letters

from .conftest import LEOPARD, LEOPARD_CER_BOUND, TOKEN, server_settings

BASE = "http://testserver"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("server-data")


@pytest.fixture(scope="module")
def client(settings, models_dir, data_dir, intent_model, utterance_type_model):
    with TestClient(create_app(server_settings(settings, models_dir, data_dir))) as client:
        yield client


def signed_post(client, path: str, params: dict, url: str | None = None, signature: str | None = None):
    signature = signature if signature is not None else twilio.sign(TOKEN, url or BASE + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def media_socket(client, signature: str | None = None):
    url = "ws://testserver/twilio/media"
    headers = {"X-Twilio-Signature": signature if signature is not None else twilio.sign(TOKEN, url, {})}
    return client.websocket_connect("/twilio/media", headers=headers)


def frames(mulaw: bytes) -> list[bytes]:
    return [mulaw[i:i + 160] for i in range(0, len(mulaw), 160)]


def stream(ws, stream_sid: str, call_sid: str, mulaw: bytes, first_sequence: int = 2) -> int:
    """Send audio as Twilio does: a start message, then one media message per 20 ms frame."""
    if first_sequence == 2:
        ws.send_text(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        ws.send_text(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid, "start": {
            "streamSid": stream_sid, "callSid": call_sid, "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}))
    sequence = first_sequence
    for n, frame in enumerate(frames(mulaw)):
        ws.send_text(json.dumps({"event": "media", "sequenceNumber": str(sequence), "streamSid": stream_sid,
                                 "media": {"track": "inbound", "chunk": str(n + 1), "timestamp": str(20 * n),
                                           "payload": base64.b64encode(frame).decode()}}))
        sequence += 1
    return sequence


def speech_then_silence(path: Path) -> bytes:
    audio = decode_audio(path)
    return to_mulaw(audio) + b"\xff" * 8000  # 1 s of mu-law silence ends the utterance


# --- health, metrics, transcription -------------------------------------------------------------

def test_health_once_models_are_loaded(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response.json()["session_store"] == "memory"


def test_transcribe_a_wav_upload(client, leopard_reference):
    response = client.post("/transcribe", content=LEOPARD.read_bytes())
    assert response.status_code == 200
    body = response.json()
    assert cer(leopard_reference["text"], body["text"]) <= LEOPARD_CER_BOUND
    assert body["segments"][0]["words"]


def test_transcribe_telephone_mulaw(client, leopard_reference):
    response = client.post("/transcribe?mulaw=true", content=to_mulaw(decode_audio(LEOPARD)))
    assert response.status_code == 200
    assert response.json()["sample_rate"] == 8000
    assert cer(leopard_reference["text"], response.json()["text"]) <= LEOPARD_CER_BOUND


@pytest.mark.parametrize("query, content, status, reason", [
    ("", LEOPARD.read_bytes()[:5000], 400, "truncated"),
    ("", b"<html>not audio</html>" * 10, 415, "not a readable audio file"),
    ("", b"", 400, "empty"),
    ("?rate=3", b"\x00\x00" * 10, 415, "sample rate"),
    ("", b"\x00" * 300_000, 413, "limit"),
])
def test_bad_uploads_get_clear_4xx(client, query, content, status, reason):
    response = client.post("/transcribe" + query, content=content)
    assert response.status_code == status
    assert reason in response.json()["detail"]


def test_openapi_docs_describe_the_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/transcribe", "/healthz", "/chat", "/metrics", "/twilio/voice"} <= set(paths)


# --- the telephone webhook ------------------------------------------------------------------------

def test_a_signed_incoming_call_is_greeted_and_streamed(client):
    response = signed_post(client, "/twilio/voice", {"CallSid": "CA123", "From": "+821012345678", "To": "+8215880000"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    xml = response.text
    assert '<Say language="ko-KR" voice="Polly.Seoyeon">안녕하세요, 카드 고객센터입니다.' in xml
    assert '<Stream url="ws://testserver/twilio/media">' in xml and 'value="CA123"' in xml
    assert xml.endswith('<Redirect method="POST">http://testserver/twilio/next</Redirect></Response>')


@pytest.mark.parametrize("signature", ["", "forged-signature", twilio.sign("another-token", BASE + "/twilio/voice",
                                                                           {"CallSid": "CA123"})])
def test_unsigned_or_forged_webhooks_get_403(client, signature):
    response = client.post("/twilio/voice", data={"CallSid": "CA123"},
                           headers={"X-Twilio-Signature": signature} if signature else {})
    assert response.status_code == 403 and "X-Twilio-Signature" in response.json()["detail"]


def test_a_signature_over_other_parameters_is_refused(client):
    signature = twilio.sign(TOKEN, BASE + "/twilio/voice", {"CallSid": "CA123"})
    response = signed_post(client, "/twilio/voice", {"CallSid": "CA999"}, signature=signature)
    assert response.status_code == 403


def test_behind_a_proxy_the_public_url_is_verified(settings, models_dir, tmp_path):
    public = "https://bot.example.com"
    app = create_app(server_settings(settings, models_dir, tmp_path, public_url=public))
    with TestClient(app) as proxied:
        params = {"CallSid": "CA777"}
        ok = signed_post(proxied, "/twilio/voice", params, url=public + "/twilio/voice")
        assert ok.status_code == 200 and 'url="wss://bot.example.com/twilio/media"' in ok.text
        assert signed_post(proxied, "/twilio/voice", params).status_code == 403  # signed for the inner URL


def test_telephony_without_an_auth_token_refuses_everything(settings, models_dir, tmp_path):
    app = create_app(server_settings(settings, models_dir, tmp_path, twilio_auth_token=None))
    with TestClient(app) as unconfigured:
        response = signed_post(unconfigured, "/twilio/voice", {"CallSid": "CA1"})
        assert response.status_code == 403 and "KOCALL_SERVER__TWILIO_AUTH_TOKEN" in response.json()["detail"]


def test_malformed_webhook_form_is_400(client):
    response = client.post("/twilio/voice", content=b"CallSid=%ZZ&\xff\xfe",
                           headers={"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"})
    assert response.status_code == 400 and "malformed form data" in response.json()["detail"]


def test_call_status_callback_drops_the_session(client):
    call = "CA" + uuid.uuid4().hex
    client.post("/chat", json={"session_id": call, "text": "카드를 잃어버렸어요"})
    assert client.get(f"/chat/{call}").status_code == 200
    assert signed_post(client, "/twilio/status", {"CallSid": call, "CallStatus": "completed"}).status_code == 200
    assert client.get(f"/chat/{call}").status_code == 404


# --- live call audio over the media stream ---------------------------------------------------------

def test_real_speech_streamed_as_twilio_media_gets_understood_and_answered(client, data_dir, leopard_reference):
    """A narrated sentence is no card/bank request: out of scope, so the bot re-prompts, and the turn is logged."""
    call = "CA" + uuid.uuid4().hex
    with media_socket(client) as ws:
        stream(ws, "MZ1", call, speech_then_silence(LEOPARD))
        reply = json.loads(ws.receive_text())
        ws.send_text(json.dumps({"event": "stop", "sequenceNumber": "999", "streamSid": "MZ1", "stop": {}}))
    assert reply["event"] == "kocall.reply" and reply["streamSid"] == "MZ1"
    assert reply["turn"]["intent"] == "out_of_scope" and reply["turn"]["dialog"]["model"] == "fallback"
    assert reply["turn"]["stt_reading"] == 0  # the first reading was understood (other readings: off by default)
    assert reply["text"] == reply["turn"]["reply"] and '<Say language="ko-KR">' in reply["twiml"]
    assert cer(leopard_reference["text"], reply["turn"]["text"]) <= 0.2
    (turn,) = [t for t in TurnLog(data_dir / "turns.sqlite").read() if t.session_id == call]
    assert turn.channel == "phone" and turn.sample_rate == 16000 and 0 < turn.stt_confidence <= 1
    assert Path(turn.audio).is_file() and 2.5 < decode_audio(Path(turn.audio)).duration_s < 4.5  # speech 0.7-3.6 s
    assert turn.latency_ms["stt"] > 0 and turn.latency_ms["total"] > turn.latency_ms["nlu"] > 0


@pytest.mark.parametrize("decode_on_pause", [True, False])
def test_a_turn_takes_the_decode_started_when_the_caller_paused(settings, models_dir, tmp_path, monkeypatch,
                                                                  decode_on_pause):
    """The endpointer ends a turn 300 ms after the pause that starts the decode: the turn takes that decode,
    and the utterance is decoded once either way."""
    heard, given = [], []
    hear, voice = Pipeline.hear, Pipeline.voice
    monkeypatch.setattr(Pipeline, "hear", lambda self, utterance:
                        heard.append(utterance.end_s) or hear(self, utterance))
    monkeypatch.setattr(Pipeline, "voice", lambda self, call_id, utterance, ended_at, early=None:
                        given.append(early) or voice(self, call_id, utterance, ended_at, early))
    base = server_settings(settings, models_dir, tmp_path)
    app = create_app(Settings(**{**base.model_dump(), "endpoint": {"decode_on_pause": decode_on_pause}}))
    with TestClient(app) as client:
        with media_socket(client) as ws:
            stream(ws, "MZ1", "CA-pause", speech_then_silence(LEOPARD))
            reply = json.loads(ws.receive_text())
            ws.send_text(json.dumps({"event": "stop", "sequenceNumber": "999", "streamSid": "MZ1", "stop": {}}))
        metrics = client.get("/metrics").text
    assert len(heard) == 1 and len(given) == 1
    if decode_on_pause:
        assert given[0] is not None and letters(given[0].transcript.text) == letters(reply["turn"]["text"])
        assert 'kocall_early_decodes_total{outcome="used"} 1.0' in metrics
    else:
        assert given[0] is None and "kocall_early_decodes_total{" not in metrics
    assert reply["turn"]["dialog"]["model"] == "fallback" and reply["turn"]["latency_ms"]["stt"] > 0


def test_an_early_decode_that_fails_is_done_again_by_the_turn(client, monkeypatch):
    """The decode started at the pause raises: the turn decodes the utterance again and is answered as usual."""
    calls = []
    hear = Pipeline.hear

    def failing_once(self, utterance):
        calls.append(utterance.end_s)
        if len(calls) == 1:
            raise RuntimeError("the decoder ran out of memory")
        return hear(self, utterance)

    monkeypatch.setattr(Pipeline, "hear", failing_once)
    with media_socket(client) as ws:
        stream(ws, "MZ1", "CA-early-fails", speech_then_silence(LEOPARD))
        reply = json.loads(ws.receive_text())
        ws.send_text(json.dumps({"event": "stop", "sequenceNumber": "999", "streamSid": "MZ1", "stop": {}}))
    assert len(calls) == 2 and calls[0] == calls[1]  # the same utterance, decoded again
    assert "trouble" not in reply["turn"] and reply["turn"]["dialog"]["model"] == "fallback"


def test_three_misunderstood_utterances_on_the_phone_end_with_a_person(settings, models_dir, tmp_path):
    """The third miss hands off: the bot says so, closes the stream, and Twilio's next request dials an agent.
    With the recogniser's other readings on: none of a narrated sentence's is a request, so each turn stays a miss."""
    configured = server_settings(settings, models_dir, tmp_path, agent_number="+8215880000")
    app = create_app(configured.model_copy(update={"stt": configured.stt.model_copy(update={"alternatives": 4})}))
    call = "CA" + uuid.uuid4().hex
    audio = [speech_then_silence(LEOPARD)] * 3
    with TestClient(app) as client, media_socket(client) as ws:
        sequence = stream(ws, "MZ2", call, audio[0])
        turns = [json.loads(ws.receive_text())["turn"]]
        for clip in audio[1:]:
            sequence = stream(ws, "MZ2", call, clip, first_sequence=sequence)
            turns.append(json.loads(ws.receive_text())["turn"])
        stream(ws, "MZ2", call, b"\xff" * 160, first_sequence=sequence)  # the next frame finds the bot done
        with pytest.raises(WebSocketDisconnect):
            ws.receive_text()
        after = signed_post(client, "/twilio/next", {"CallSid": call})
    assert [t["dialog"]["state"] for t in turns] == ["reprompt:1", "reprompt:2", "repeated_misunderstanding"]
    assert [t["stt_reading"] for t in turns] == [0, 0, 0] and all(t["latency_ms"]["stt"] > 0 for t in turns)
    assert after.status_code == 200 and "<Dial>+8215880000</Dial>" in after.text


def test_without_an_agent_number_a_hand_off_apologises_and_a_finished_call_hangs_up(client):
    call = "CA" + uuid.uuid4().hex
    client.post("/chat", json={"session_id": call, "text": "상담원 연결해 주세요"})
    handed_off = signed_post(client, "/twilio/next", {"CallSid": call})
    assert "지금은 연결할 수 있는 상담원이 없습니다" in handed_off.text and "<Hangup />" in handed_off.text
    done = "CA" + uuid.uuid4().hex
    assert client.post("/chat", json={"session_id": done, "text": "네 감사합니다 이만 끊을게요"}).json()["end"]
    finished = signed_post(client, "/twilio/next", {"CallSid": done})
    assert "<Dial>" not in finished.text and "<Hangup />" in finished.text


def test_a_call_whose_stream_was_lost_before_its_end_streams_again_three_times_then_goes_to_a_person(client):
    """A server killed or restarted mid-call, or a stream refused: /twilio/next streams the call again."""
    call = "CA" + uuid.uuid4().hex
    for _ in range(3):
        again = signed_post(client, "/twilio/next", {"CallSid": call}).text
        assert '<Connect><Stream url="ws://testserver/twilio/media">' in again and f'value="{call}"' in again
        assert "다시 한 번 말씀해 주시겠어요" in again  # its turn in flight may be lost: the caller is asked again
    given_up = signed_post(client, "/twilio/next", {"CallSid": call}).text
    assert "<Connect>" not in given_up and "상담원이 없습니다" in given_up  # no agent number: told, then hung up


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (.ci/run installs it)")
def test_spoken_replies_come_back_as_audio_and_barge_in_clears_them(settings, models_dir, tmp_path):
    app = create_app(server_settings(settings, models_dir, tmp_path, tts="espeak-ng"))
    with TestClient(app) as voiced, media_socket(voiced) as ws:
        sequence = stream(ws, "MZ3", "CA-voice", speech_then_silence(LEOPARD))
        reply_frames = []
        while True:
            msg = json.loads(ws.receive_text())
            if msg["event"] == "mark":
                break
            assert msg["event"] == "media" and msg["streamSid"] == "MZ3"
            reply_frames.append(base64.b64decode(msg["media"]["payload"]))
        assert all(len(f) == 160 for f in reply_frames[:-1]) and len(reply_frames) * 0.02 > 1.0
        spoken = decode_audio(b"".join(reply_frames), mulaw=True).samples
        assert np.sqrt(np.mean(spoken ** 2)) > 0.01  # a voice, not silence
        # The caller talks over the reply before its mark comes back: the playback is cleared.
        stream(ws, "MZ3", "CA-voice", to_mulaw(decode_audio(LEOPARD))[:8000], first_sequence=sequence)
        assert json.loads(ws.receive_text()) == {"event": "clear", "streamSid": "MZ3"}


def test_forged_media_stream_is_refused(client):
    with pytest.raises(WebSocketDisconnect) as refused:
        with media_socket(client, signature="forged") as ws:
            ws.receive_text()
    assert refused.value.code == 1008


@pytest.mark.parametrize("message, reason", [
    ("not json", "not JSON"),
    ('{"event": "start"}', "without a 'start' object"),
    ('{"event": "media", "media": {"payload": "@@@"}}', "not base64"),
    ('{"event": "start", "start": {"mediaFormat": {"encoding": "audio/l16", "sampleRate": 16000}}}',
     "unsupported media format"),
])
def test_bad_media_messages_close_the_stream_with_a_reason(client, message, reason):
    with media_socket(client) as ws:
        ws.send_text(message)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1003 and reason in closed.value.reason


def test_a_caller_hanging_up_mid_utterance_leaves_nothing_behind(client):
    services = client.app.state.services
    with media_socket(client) as ws:
        stream(ws, "MZ4", "CA-gone", to_mulaw(decode_audio(LEOPARD))[:12000])  # 1.5 s, no end of speech
    deadline = time.monotonic() + 5
    while services.open_calls and time.monotonic() < deadline:
        time.sleep(0.05)
    assert services.open_calls == 0
    assert 'kocall_calls_active 0.0' in client.get("/metrics").text


# --- chat -----------------------------------------------------------------------------------------

def test_chat_goes_through_a_whole_form(client, data_dir):
    session = "chat-" + uuid.uuid4().hex
    said = ["카드를 분실했어요", "체크카드요", "공일공 일이삼사 오육칠팔이에요", "네"]
    turns = []
    for text in said:
        response = client.post("/chat", json={"session_id": session, "text": text})
        assert response.status_code == 200
        turns.append(response.json())
    assert set(turns[0]) >= {"session_id", "reply", "intent", "confidence", "utterance_type", "entities", "dialog",
                             "handoff", "end"}
    assert turns[0]["intent"] == "lost_card"
    assert [t["dialog"]["state"] for t in turns] == ["asking:card_type", "asking:phone", "confirming", "completed"]
    assert turns[2]["dialog"]["slots"] == {"card_type": "체크카드", "phone": "010-****-5678"}
    assert client.get(f"/chat/{session}").json()["turns"] == 4
    logged = [t for t in TurnLog(data_dir / "turns.sqlite").read(channel="chat") if t.session_id == session]
    assert [t.turn for t in logged] == [1, 2, 3, 4]
    assert "010-****-5678" in logged[2].transcript and "오육칠팔" not in logged[2].transcript


@pytest.mark.parametrize("body, status, reason", [
    (b'{"session_id": "a", "text": ', 422, "Invalid JSON"),
    (b'{"session_id": "a"}', 422, "text: Field required"),
    (b'{"session_id": "a", "text": ""}', 422, "text: String should have at least 1 character"),
    (b'{"session_id": "../etc", "text": "hi"}', 422, "session_id: String should match pattern"),
    (json.dumps({"session_id": "a", "text": "가" * 1001}).encode(), 413, "1000-character limit"),
    (b'{"session_id": "a", "text": "' + b"a" * 10_000 + b'"}', 413, "byte limit"),
    (b"[1, 2]", 422, "Input should be"),
])
def test_bad_chat_requests_get_clear_4xx(client, body, status, reason):
    response = client.post("/chat", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert reason in response.json()["detail"]


def test_unknown_session_is_404(client):
    response = client.get("/chat/never-opened")
    assert response.status_code == 404 and "never opened" in response.json()["detail"]


def test_metrics_count_turns_errors_and_stage_latency(client):
    def value(text: str, series: str) -> float:
        return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(series)), 0.0)

    before = client.get("/metrics").text
    client.post("/chat", json={"session_id": "metrics-" + uuid.uuid4().hex, "text": "영업시간 알려 주세요"})
    client.post("/chat", content=b"{", headers={"content-type": "application/json"})
    after = client.get("/metrics").text
    for series in ('kocall_turns_total{channel="chat"}', 'kocall_errors_total{kind="malformed",where="chat"}',
                   'kocall_stage_seconds_count{channel="chat",stage="nlu"}'):
        assert value(after, series) == value(before, series) + 1, series
