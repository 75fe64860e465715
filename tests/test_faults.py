"""Faults: a part the bot depends on fails, and the callers and chat users get a clear answer, never a
bare 500 or silence; /healthz says what failed and recovers with it.

Real parts, no mocks: a redis-server this test stops and starts again, and real Korean speech streamed
as Twilio streams it (the tests play Twilio, as tests/test_server.py does).
"""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from server.app import create_app

from .conftest import LEOPARD, RedisServer, server_settings
from .test_server import media_socket, signed_post, speech_then_silence, stream


def healthz_within(client, status: int, seconds: float = 5.0):
    """/healthz once it answers ``status`` (the target: truthful within 5 s of a fault or a recovery)."""
    deadline = time.monotonic() + seconds
    while True:
        response = client.get("/healthz")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


@pytest.fixture()
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.folder.mkdir()
    yield server.start()
    server.stop()


def test_a_session_store_outage_is_a_503_with_its_reason_and_calls_are_apologised_to_then_handed_off(
        settings, models_dir, tmp_path, redis_server, intent_model, utterance_type_model):
    base = server_settings(settings, models_dir, tmp_path / "data")
    app = create_app(Settings(**{**base.model_dump(), "dialog": {"session_store": redis_server.url}}))
    with TestClient(app) as client:
        assert client.post("/chat", json={"session_id": "u1", "text": "결제일 바꿔줘"}).status_code == 200
        assert healthz_within(client, 200).json()["failed"] == {}

        redis_server.stop()
        health = healthz_within(client, 503)
        assert health.status_code == 503 and "session_store" in health.json()["failed"]
        refused = client.post("/chat", json={"session_id": "u1", "text": "십오일로 해 줘"})
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        assert "session store" in refused.json()["detail"]
        assert client.get("/chat/u1").status_code == 503

        # A live call in the outage: an apology and a re-prompt, then, at the second failure, a person.
        with media_socket(client) as ws:
            sequence = stream(ws, "MZ1", "CA-outage", speech_then_silence(LEOPARD))
            first = json.loads(ws.receive_text())
            assert first["event"] == "kocall.reply" and first["turn"] == {
                "reply": client.app.state.services.dialog.domain.responses["trouble"], "end": False, "trouble": True}
            stream(ws, "MZ1", "CA-outage", speech_then_silence(LEOPARD), first_sequence=sequence)
            second = json.loads(ws.receive_text())
            assert second["turn"]["end"] and "상담원" in second["text"]
        after = signed_post(client, "/twilio/next", {"CallSid": "CA-outage"}).text
        assert "<Dial" in after or "<Say" in after  # put through (or, with no agent number, told so)
        metrics = client.get("/metrics").text
        assert 'kocall_errors_total{kind="session_store",where="turn"} 2.0' in metrics
        assert 'kocall_errors_total{kind="session_store",where="chat"} 1.0' in metrics

        redis_server.start()
        assert healthz_within(client, 200).status_code == 200
        resumed = client.post("/chat", json={"session_id": "u1", "text": "십오일로 해 줘"})
        assert resumed.status_code == 200 and resumed.json()["dialog"]["state"] == "confirming"  # nothing lost
