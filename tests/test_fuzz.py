"""The HTTP API, fuzzed from its OpenAPI schema: no request, valid or not, gets a 5xx (issue 6).

schemathesis generates requests for every operation, both ones that fit the
schema and ones that break it, and each goes through FastAPI's test client to
the app whose lifespan has loaded the real models.

The routes read their bodies by hand (so that the size limit holds before any
parsing), which leaves FastAPI's generated schema without request bodies.
:func:`documented_schema` adds them as the routes read them, so the fuzzer
also sends chat JSON, audio bytes and Twilio forms, not only query strings.
Forms without a generated ``X-Twilio-Signature`` are signed the way Twilio
signs them, and labeling requests without a generated ``Authorization`` carry
a labeler's token, so the code past those checks is fuzzed as well. An
exception out of a route fails the test with its traceback (the test client
re-raises it); a 5xx answer fails ``not_a_server_error``.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
import requests
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from data_tools.label_store import open_store
from kocall.settings import Settings
from server import twilio
from server.app import ChatRequest, create_app

from .conftest import TOKEN, server_settings
from .test_server import BASE

OPERATIONS = {"GET /healthz", "GET /metrics", "POST /chat", "GET /chat/{session_id}", "POST /transcribe",
              "POST /twilio/voice", "POST /twilio/status"}
CALL_STATUSES = ["queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"]
REQUEST_FIELDS = ("method", "url", "headers", "params", "data", "json", "files", "cookies")


def documented_schema(app) -> dict:
    """The app's OpenAPI schema with the request bodies and credential headers that its routes read."""
    schema = copy.deepcopy(app.openapi())
    paths = schema["paths"]
    paths["/chat"]["post"]["requestBody"] = {
        "required": True, "content": {"application/json": {"schema": ChatRequest.model_json_schema()}}}
    paths["/transcribe"]["post"]["requestBody"] = {
        "required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    webhook_form = {"type": "object", "properties": {
        "CallSid": {"type": "string"}, "CallStatus": {"type": "string", "enum": CALL_STATUSES},
        "From": {"type": "string"}, "To": {"type": "string"}}}
    for path in ("/twilio/voice", "/twilio/status"):
        operation = paths[path]["post"]
        operation["requestBody"] = {"content": {"application/x-www-form-urlencoded": {"schema": webhook_form}}}
        operation["parameters"] = [optional_header("X-Twilio-Signature")]
    for path, operations in paths.items():
        if path.startswith("/label/"):
            for operation in operations.values():
                operation.setdefault("parameters", []).append(optional_header("Authorization"))
    return schema


def optional_header(name: str) -> dict:
    return {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}


def request_for(client: TestClient, case: schemathesis.Case, label_token: str) -> httpx.Request:
    """A generated case as the test client's request, byte for byte as ``requests`` would encode it.

    A Twilio webhook without a generated signature is signed over the form the
    server will parse, and a labeling request without a generated Authorization
    carries ``label_token``; generated (so forged) credentials go as they are.
    """
    kwargs = case.as_transport_kwargs(base_url=BASE)
    prepared = requests.Request(**{k: v for k, v in kwargs.items() if k in REQUEST_FIELDS}).prepare()
    headers = dict(prepared.headers)
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body or b""
    if case.path.startswith("/twilio/") and "X-Twilio-Signature" not in headers:
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
        except ValueError:
            pass  # not a form: the server answers 400 before it looks at a signature
        else:
            headers["X-Twilio-Signature"] = twilio.sign(TOKEN, prepared.url, form)
    if case.path.startswith("/label/") and "Authorization" not in headers:
        headers["Authorization"] = f"Bearer {label_token}"
    # Header values go out as latin-1 octets, as on the wire (httpx would insist on ASCII for str).
    raw_headers = {name: value.encode("latin-1") if isinstance(value, str) else value
                   for name, value in headers.items()}
    return client.build_request(prepared.method, prepared.url, headers=raw_headers, content=body)


@pytest.fixture(scope="module")
def fuzz_settings(settings, models_dir, tmp_path_factory) -> Settings:
    return server_settings(settings, models_dir, tmp_path_factory.mktemp("fuzz-data"))


@pytest.fixture(scope="module")
def label_token(fuzz_settings) -> str:
    return open_store(fuzz_settings).add_labeler("fuzzer")


@pytest.fixture(scope="module")
def client(fuzz_settings, intent_model, utterance_type_model):
    with TestClient(create_app(fuzz_settings)) as client:
        yield client


def routes_schema() -> dict:
    """The routes, not the settings, make the schema: an app that never starts gives it at import time.

    (schemathesis.pytest.from_fixture, which would take it from the fixture's
    app, uses Node._nodeid, which pytest 9 no longer has.) The app opens its
    label store when it is made, so it gets a data folder of its own.
    """
    with tempfile.TemporaryDirectory(prefix="kocall-schema-") as data_dir:
        return documented_schema(create_app(Settings(data_dir=Path(data_dir))))


schema = schemathesis.openapi.from_dict(routes_schema())
schema.config.generation.update(modes=list(schemathesis.GenerationMode))


def test_the_fuzz_covers_every_http_operation_of_the_issue():
    assert OPERATIONS <= {f"{op.ok().method.upper()} {op.ok().path}" for op in schema.get_all_operations()}


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case, client, label_token):
    case.validate_response(client.send(request_for(client, case, label_token)), checks=[not_a_server_error])
