"""The web server's STT surface, through FastAPI's test client."""

import pytest
from fastapi.testclient import TestClient

from data_tools.metrics import cer
from kocall.settings import Settings
from server.app import create_app
from stt.audio import decode_audio, to_mulaw

from .conftest import LEOPARD


@pytest.fixture(scope="module")
def client(settings):
    small = Settings(cache_dir=settings.cache_dir, server={"max_upload_bytes": 200_000})
    with TestClient(create_app(small)) as client:
        yield client


def test_health_once_models_are_loaded(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_transcribe_a_wav_upload(client, leopard_reference):
    response = client.post("/transcribe", content=LEOPARD.read_bytes())
    assert response.status_code == 200
    body = response.json()
    assert cer(leopard_reference["text"], body["text"]) <= 0.16
    assert body["segments"][0]["words"]


def test_transcribe_telephone_mulaw(client, leopard_reference):
    response = client.post("/transcribe?mulaw=true", content=to_mulaw(decode_audio(LEOPARD)))
    assert response.status_code == 200
    assert response.json()["sample_rate"] == 8000
    assert cer(leopard_reference["text"], response.json()["text"]) <= 0.16


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
    assert "/transcribe" in paths and "/healthz" in paths
