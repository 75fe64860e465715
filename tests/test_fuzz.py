"""The HTTP API, fuzzed from its OpenAPI schema: no request, valid or not, gets a 5xx.

schemathesis generates requests for every operation, both ones that fit the
schema and ones that break it, and each goes through FastAPI's test client to
the app whose lifespan has loaded the real models. The schema documents the
bodies the routes read by hand (chat JSON, audio bytes, Twilio forms); forms
without a generated ``X-Twilio-Signature`` are signed the way Twilio signs them,
and labeling requests without a generated ``Authorization`` carry a labeler's
token (``bench/fuzzing.py``, shared with ``bench/fuzz_api.py``), so the code
past those checks is fuzzed as well. An exception out of a route fails the test
with its traceback (the test client re-raises it); a 5xx answer fails
``not_a_server_error``.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from bench.fuzzing import fuzz_schema, request_for
from core.settings import Settings
from data_tools.labeling.store import open_store
from server.app import create_app

from .conftest import server_settings

OPERATIONS = {"GET /healthz", "GET /metrics", "POST /chat", "GET /chat/{session_id}", "POST /transcribe",
              "POST /twilio/voice", "POST /twilio/status"}


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


schema = fuzz_schema()


def test_the_fuzz_covers_every_http_operation_of_the_issue():
    assert OPERATIONS <= {f"{op.ok().method.upper()} {op.ok().path}" for op in schema.get_all_operations()}


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case, client, label_token):
    case.validate_response(client.send(request_for(client, case, label_token)), checks=[not_a_server_error])
