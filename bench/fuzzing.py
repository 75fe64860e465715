"""What tests/test_fuzz.py and bench/fuzz_api.py share: the app's API schema for fuzzing, and signed requests.

The app's OpenAPI schema documents the request bodies its routes read by hand
(chat JSON, audio bytes, Twilio forms). For fuzzing it also gets the credential
headers as optional parameters, so that schemathesis forges some; requests
without a forged one are signed the way Twilio signs them, or carry a labeler's
token, so that the code past those checks is fuzzed as well.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import requests
import schemathesis
from fastapi.testclient import TestClient

from core.settings import Settings
from server import twilio
from server.app import create_app

BASE = "http://testserver"  # the test client's host: Twilio signatures are computed over it
TWILIO_TOKEN = "test-auth-token"  # the auth token generated webhooks are signed with
REQUEST_FIELDS = ("method", "url", "headers", "params", "data", "json", "files", "cookies")


def fuzz_schema() -> schemathesis.BaseSchema:
    """The routes, not the settings, make the schema: an app that never starts gives it.

    The app is made with a throw-away data folder (building it must create no files, but is given one
    of its own all the same), and every labeling route gets an optional ``Authorization`` header.
    """
    with tempfile.TemporaryDirectory(prefix="kocall-schema-") as data_dir:
        raw = copy.deepcopy(create_app(Settings(data_dir=Path(data_dir))).openapi())
    for path, operations in raw["paths"].items():
        if path.startswith("/label/"):
            for operation in operations.values():
                operation.setdefault("parameters", []).append(
                    {"name": "Authorization", "in": "header", "required": False, "schema": {"type": "string"}})
    schema = schemathesis.openapi.from_dict(raw)
    schema.config.generation.update(modes=list(schemathesis.GenerationMode))
    return schema


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
            headers["X-Twilio-Signature"] = twilio.sign(TWILIO_TOKEN, prepared.url, form)
    if case.path.startswith("/label/") and "Authorization" not in headers:
        headers["Authorization"] = f"Bearer {label_token}"
    # Header values go out as latin-1 octets, as on the wire (httpx would insist on ASCII for str).
    raw_headers = {name: value.encode("latin-1") if isinstance(value, str) else value
                   for name, value in headers.items()}
    return client.build_request(prepared.method, prepared.url, headers=raw_headers, content=body)
