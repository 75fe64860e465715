"""Replies in Twilio's own Korean voice: each reply updates the live call through Twilio's REST API.

Twilio's REST API cannot be reached here, so a local HTTP server plays it, answering as Twilio documents
(``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` with ``Twiml=``, HTTP Basic auth with the
account SID and auth token, the call resource as JSON; errors as ``{"code", "message", "status"}``). The
tests play Twilio's media streams as tests/test_server.py does, with real Korean speech.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient

from server import twilio
from server.app import create_app

from .conftest import LEOPARD, TOKEN, server_settings
from bench.fakehttp import FakeHttp, Request, twilio_calls
from .test_server import media_socket, signed_post, speech_then_silence, stream

ACCOUNT = "AC" + "0" * 32


def update_of(request: Request) -> dict:
    user, _, password = base64.b64decode(request.headers["authorization"].removeprefix("Basic ")).decode().partition(":")
    return {"path": request.path, "user": user, "password": password, "content_type": request.headers["content-type"],
            "form": {k: v[0] for k, v in parse_qs(request.body.decode()).items()}}


@pytest.fixture()
def fake_twilio():
    with FakeHttp(twilio_calls()) as server:
        yield server


def start(ws, stream_sid: str, call_sid: str) -> None:
    ws.send_text(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    ws.send_text(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid, "start": {
        "accountSid": ACCOUNT, "streamSid": stream_sid, "callSid": call_sid, "tracks": ["inbound"],
        "customParameters": {"call_sid": call_sid},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}))


def test_replies_are_said_in_twilios_voice_and_the_call_goes_on_over_new_streams(
        settings, models_dir, tmp_path, fake_twilio, intent_model, utterance_type_model):
    app = create_app(server_settings(settings, models_dir, tmp_path, tts="auto", twilio_api_url=fake_twilio.url))
    call = "CA-say-1"
    with TestClient(app) as client:
        greeting = signed_post(client, "/twilio/voice", {"CallSid": call, "AccountSid": ACCOUNT}).text
        assert '<Say language="ko-KR" voice="Polly.Seoyeon">안녕하세요' in greeting
        assert client.get("/healthz").json()["tts"] == "twilio:Polly.Seoyeon"
        speech = speech_then_silence(LEOPARD)
        for n in range(1, 4):  # three turns nobody understands: two re-prompts, then a hand-off
            with media_socket(client) as ws:
                start(ws, f"MZ{n}", call)
                stream(ws, f"MZ{n}", call, speech, first_sequence=3)
                update = update_of(fake_twilio.wait_for(n)[-1])
                ws.send_text(json.dumps({"event": "stop", "sequenceNumber": "999", "streamSid": f"MZ{n}",
                                         "stop": {"accountSid": ACCOUNT, "callSid": call}}))
            assert update["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{call}.json"
            assert (update["user"], update["password"]) == (ACCOUNT, TOKEN)
            assert update["content_type"] == "application/x-www-form-urlencoded"
            said = client.get(f"/chat/{call}").json()
            assert said["turns"] == n  # every stream continues the one session of the call
            twiml = update["form"]["Twiml"]
            assert twiml.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Say language="ko-KR" '
                                    'voice="Polly.Seoyeon">')
            assert twiml.endswith('<Redirect method="POST">http://testserver/twilio/next</Redirect></Response>')
            if n < 3:  # a re-prompt, then the call streams to us again, carrying its SID
                assert '<Connect><Stream url="ws://testserver/twilio/media">' in twiml
                assert f'<Parameter name="call_sid" value="{call}" />' in twiml
            else:  # the hand-off is said, and /twilio/next puts the call through
                assert "<Connect>" not in twiml and said["handoff"]["reason"] == "repeated_misunderstanding"
        after = signed_post(client, "/twilio/next", {"CallSid": call}).text
        assert "<Hangup />" in after and "<Say" in after  # no agent number: the caller is told, then hung up


def test_when_twilio_refuses_the_update_the_reply_still_goes_out_as_text(
        settings, models_dir, tmp_path, fake_twilio, intent_model, utterance_type_model):
    fake_twilio.answer = twilio_calls(refuse=(401, {"code": 20003, "message": "Authenticate", "more_info":
                                                    "https://www.twilio.com/docs/errors/20003", "status": 401}))
    app = create_app(server_settings(settings, models_dir, tmp_path, tts="twilio", twilio_api_url=fake_twilio.url))
    with TestClient(app) as client, media_socket(client) as ws:
        start(ws, "MZ9", "CA-refused")
        stream(ws, "MZ9", "CA-refused", speech_then_silence(LEOPARD), first_sequence=3)
        reply = json.loads(ws.receive_text())
        assert reply["event"] == "kocall.reply" and reply["text"]
        assert len(fake_twilio.requests) == 1
        metrics = client.get("/metrics").text
        assert 'kocall_errors_total{kind="update_failed",where="twilio"} 1.0' in metrics


def test_the_closing_twiml_says_the_last_words_then_asks_what_follows():
    xml = twilio.closing_twiml("이용해 주셔서 감사합니다.", "https://bot.example.com/twilio/next", "Google.ko-KR-Wavenet-A")
    assert xml == ('<?xml version="1.0" encoding="UTF-8"?><Response><Say language="ko-KR" '
                   'voice="Google.ko-KR-Wavenet-A">이용해 주셔서 감사합니다.</Say><Redirect method="POST">'
                   'https://bot.example.com/twilio/next</Redirect></Response>')
