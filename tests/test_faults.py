"""Faults: a part the bot depends on fails, and the callers and chat users get a clear answer, never a
bare 500 or silence; /healthz says what failed and recovers with it.

Real parts, no mocks: a redis-server this test stops and starts again, and real Korean speech streamed
as Twilio streams it (the tests play Twilio, as tests/test_server.py does).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from websockets.exceptions import ConnectionClosed

from core.settings import Settings
from bench.loopback import free_port, healthy
from server import twilio
from server.app import create_app

from .conftest import LEOPARD, TOKEN, RedisServer, server_settings
from .test_server import frames, media_socket, signed_post, speech_then_silence, stream


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


def test_a_full_data_folder_is_said_and_the_bot_keeps_answering(settings, models_dir, tmp_path, intent_model,
                                                                utterance_type_model):
    """No file may grow while RLIMIT_FSIZE is 1 byte: writes fail as on a full disk (EFBIG; Python ignores
    SIGXFSZ). The turn is answered, the failure is said in /healthz and /metrics, and once the disk has room
    the turns held back are written: nothing is lost but the caller's audio."""
    import resource

    from data_tools.calllog.turnlog import TurnLog

    app = create_app(server_settings(settings, models_dir, tmp_path / "data"))
    with TestClient(app) as client:
        assert client.post("/chat", json={"session_id": "d1", "text": "결제일 바꿔줘"}).status_code == 200
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, hard))
        try:
            full = client.post("/chat", json={"session_id": "d1", "text": "십오일로 해 줘"})
            health = client.get("/healthz")
            with media_socket(client) as ws:  # a caller too: the utterance's audio cannot be saved either
                stream(ws, "MZd", "CA-disk", speech_then_silence(LEOPARD))
                called = json.loads(ws.receive_text())
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        assert called["event"] == "kocall.reply" and "trouble" not in called["turn"]  # answered, no apology
        assert full.status_code == 200 and full.json()["dialog"]["state"] == "confirming"
        assert health.status_code == 200 and health.json()["status"] == "degraded"
        assert "turn log cannot be written" in health.json()["degraded"]["recording"]
        metrics = client.get("/metrics").text
        assert 'kocall_errors_total{kind="write_failed",where="turn_log"} 2.0' in metrics  # the chat and the call
        assert 'kocall_errors_total{kind="write_failed",where="audio"} 1.0' in metrics
        assert client.post("/chat", json={"session_id": "d1", "text": "네"}).status_code == 200
        assert client.get("/healthz").json()["degraded"] == {}
    log = list(TurnLog(tmp_path / "data" / "turns.sqlite").read())
    assert [r.turn for r in log if r.session_id == "d1"] == [1, 2, 3]  # held in memory, written once there was room
    assert [r.audio for r in log if r.session_id == "CA-disk"] == [None]  # the call's turn, its audio not kept


def _wait_for_frames(port: int, n: int, timeout_s: float = 30.0) -> None:
    """Until the server has read ``n`` media frames (its metrics say so): on a slow machine it reads them well after
    they are sent, and a SIGTERM before then would find no turn in flight."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        read = next((float(line.split()[-1]) for line in metrics.splitlines()
                     if line.startswith("kocall_media_frames_total")), 0.0)
        if read >= n:
            time.sleep(0.1)  # the last frame's events are handled on the same loop, right after it is counted
            return
        time.sleep(0.05)
    raise AssertionError(f"the server read fewer than {n} media frames in {timeout_s} s")


def _serve(settings, redis_url: str, data_dir: Path, port: int) -> subprocess.Popen:
    """A `kocall serve` process; its log in ``data_dir / "serve.log"`` (a file: a pipe nobody reads can fill and
    stall the server). The drain may take a minute: the test is of what a drain does, not of its deadline."""
    env = {**os.environ, "KOCALL_CACHE_DIR": str(settings.cache_dir), "KOCALL_DATA_DIR": str(data_dir),
           "KOCALL_SERVER__TWILIO_AUTH_TOKEN": TOKEN, "KOCALL_SERVER__TTS": "none",
           "KOCALL_DIALOG__SESSION_STORE": redis_url, "KOCALL_SERVER__DRAIN_S": "60"}
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "serve.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "kocall.cli", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=log, text=True)
    assert healthy(server, port), f"kocall serve did not start: {_log(data_dir)}"
    return server


def _log(data_dir: Path) -> str:
    return (data_dir / "serve.log").read_text()[-3000:]


@pytest.mark.slow
def test_sigterm_finishes_the_turn_in_flight_and_another_server_goes_on_with_the_call(settings, tmp_path,
                                                                                      redis_server):
    """Two real `kocall serve` processes on one redis-server: the first is stopped with SIGTERM while it
    answers a caller; the caller hears the answer, the stream closes (1001), and the second server, asked
    by Twilio what follows, streams the call again with its session where it was."""
    from websockets.sync.client import connect

    first_port, second_port = free_port(), free_port()
    first = _serve(settings, redis_server.url, tmp_path / "a", first_port)
    url = f"ws://127.0.0.1:{first_port}/twilio/media"
    with connect(url, additional_headers={"X-Twilio-Signature": twilio.sign(TOKEN, url, {})}) as ws:
        ws.send(json.dumps({"event": "start", "streamSid": "MZ1", "start": {
            "streamSid": "MZ1", "callSid": "CA-restart", "mediaFormat": {"encoding": "audio/x-mulaw",
                                                                         "sampleRate": 8000}}}))
        sent = frames(speech_then_silence(LEOPARD))
        for frame in sent:
            ws.send(json.dumps({"event": "media", "streamSid": "MZ1", "media": {
                "payload": base64.b64encode(frame).decode()}}))
        _wait_for_frames(first_port, len(sent))  # every frame read: the utterance has ended, its turn in flight
        first.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        refused = httpx.post(f"http://127.0.0.1:{first_port}/chat", json={"session_id": "x", "text": "안녕"})
        assert refused.status_code == 503 and "restarting" in refused.json()["detail"]
        try:
            reply = json.loads(ws.recv(timeout=90))
        except OSError as exc:  # what the server said about it
            raise AssertionError(f"no reply ({exc!r}); the server's log: {_log(tmp_path / 'a')}") from exc
        assert reply["event"] == "kocall.reply" and reply["turn"]["dialog"]["state"] == "reprompt:1"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=90)
        assert closed.value.rcvd.code == 1001
    assert first.wait(timeout=90) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it drained on
    second = _serve(settings, redis_server.url, tmp_path / "b", second_port)
    try:
        next_url = f"http://127.0.0.1:{second_port}/twilio/next"
        params = {"CallSid": "CA-restart"}
        after = httpx.post(next_url, data=params, headers={"X-Twilio-Signature": twilio.sign(TOKEN, next_url, params)})
        assert "<Connect><Stream" in after.text and 'value="CA-restart"' in after.text and "<Hangup" not in after.text
        session = httpx.get(f"http://127.0.0.1:{second_port}/chat/CA-restart").json()
        assert session["turns"] == 1 and session["state"] == "reprompt:1"
    finally:
        second.terminate()
        second.wait(timeout=30)

