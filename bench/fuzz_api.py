"""The HTTP API fuzzed from its OpenAPI schema, longer than tests/test_fuzz.py: status codes and every 5xx.

Starts the app in-process through FastAPI's test client (lifespan included, so
the real models are loaded): the default models (the shipped ones, those
`kocall train` made, or KOCALL_NLU__* folders), a throw-away data
folder, no TTS, the test suite's Twilio token so that generated webhooks can be
signed, and a labeler's token for the labeling API. For each operation it sends
N requests that fit the schema and N that break it (schemathesis, with the
schema and signed requests of bench/fuzzing.py), then prints per
operation the status codes seen, the codes the schema does not document, the
slowest request, and for each 5xx (or exception out of the app) a curl line
that reproduces it and the traceback. The curl lines target `kocall serve` on
localhost:8000; a signed Twilio line verifies there with
KOCALL_SERVER__TWILIO_AUTH_TOKEN=test-auth-token and
KOCALL_SERVER__PUBLIC_URL=http://testserver (the URL it was signed for).

    nice -n 10 .venv/bin/python bench/fuzz_api.py                 # 200 + 200 per operation, fixed seed
    .venv/bin/python bench/fuzz_api.py --examples 50 --random     # a different sample each run
"""

from __future__ import annotations

import argparse
import collections
import shlex
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from bench.fuzzing import TWILIO_TOKEN, fuzz_schema, request_for  # noqa: E402
from core.settings import Settings  # noqa: E402
from data_tools.labeling.store import open_store  # noqa: E402
from server.app import create_app  # noqa: E402

QUIET_HEADERS = {"host", "accept", "accept-encoding", "connection", "user-agent", "content-length",
                 "x-schemathesis-testcaseid"}


def curl(request: httpx.Request) -> str:
    """A shell line that sends the same request to a server on localhost:8000."""
    url = str(request.url).replace("http://testserver", "http://localhost:8000", 1)
    parts = ["curl", "-i", "-X", request.method, shlex.quote(url)]
    for name, value in request.headers.raw:
        if name.decode("latin-1").lower() not in QUIET_HEADERS:
            parts += ["-H", shlex.quote(f"{name.decode('latin-1')}: {value.decode('latin-1')}")]
    body = request.content
    if not body:
        return " ".join(parts)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:  # a shell argument cannot carry these bytes: printf makes them
        escaped = "".join(f"\\x{b:02x}" for b in body)
        return f"printf '{escaped}' | " + " ".join(parts + ["--data-binary", "@-"])
    return " ".join(parts + ["--data-binary", shlex.quote(text)])


def project_traceback(exc: Exception) -> str:
    """The traceback's frames in this project's code (not the libraries', not this script's), and the error."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(str(ROOT)) and "/.venv/" not in f.filename and f.filename != __file__]
    lines = [f"  {Path(f.filename).relative_to(ROOT)}:{f.lineno} in {f.name}: {f.line}" for f in frames]
    return "\n".join(lines + [f"{type(exc).__name__}: {exc}"])


def fuzz(client: TestClient, label_token: str, operation, mode: GenerationMode, examples: int, derandomize: bool,
         report: dict) -> None:
    @settings(max_examples=examples, deadline=None, derandomize=derandomize, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case):
        request = request_for(client, case, label_token)
        start = time.perf_counter()
        try:
            status = client.send(request).status_code
        except Exception as exc:
            status = "exception"
            report["errors"].append((operation.label, mode.value, curl(request), project_traceback(exc)))
        elapsed = time.perf_counter() - start
        report["codes"][operation.label][status] += 1
        report["sent"][operation.label][mode.value] += 1
        if elapsed > report["slowest"][operation.label][0]:
            report["slowest"][operation.label] = (elapsed, curl(request))
        if isinstance(status, int) and status >= 500:
            report["errors"].append((operation.label, mode.value, curl(request), f"HTTP {status}"))

    one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="generated requests per operation and mode")
    parser.add_argument("--random", action="store_true", help="a new sample each run instead of a fixed one")
    args = parser.parse_args()

    report = {"codes": collections.defaultdict(collections.Counter),
              "sent": collections.defaultdict(collections.Counter),
              "slowest": collections.defaultdict(lambda: (0.0, "")), "errors": []}
    with tempfile.TemporaryDirectory(prefix="kocall-fuzz-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), server={"twilio_auth_token": TWILIO_TOKEN, "tts": "none"})
        label_token = open_store(settings).add_labeler("fuzzer")
        app = create_app(settings)
        start = time.perf_counter()
        with TestClient(app) as client:
            print(f"models loaded in {time.perf_counter() - start:.1f} s", flush=True)
            operations = [result.ok() for result in fuzz_schema().get_all_operations()]
            for operation in operations:
                for mode in GenerationMode:
                    begun = time.perf_counter()
                    try:
                        fuzz(client, label_token, operation, mode, args.examples, not args.random, report)
                    except Exception as exc:  # schemathesis cannot break a schema with nothing to break
                        print(f"{operation.label} {mode.value}: no cases ({type(exc).__name__}: {exc})"[:200])
                    print(f"{operation.label:36} {mode.value:8} {report['sent'][operation.label][mode.value]:4} "
                          f"requests in {time.perf_counter() - begun:6.1f} s", flush=True)

    width = max(len(operation.label) for operation in operations)
    print(f"\n{'operation':{width}} {'sent':>5}  {'status x count':44} {'undocumented':12}  slowest")
    for operation in operations:
        label = operation.label
        codes = report["codes"][label]
        documented = {int(code) for code in operation.definition.raw.get("responses", {}) if code.isdigit()}
        undocumented = sorted(c for c in codes if isinstance(c, int) and c not in documented)
        shown = " ".join(f"{code}x{n}" for code, n in sorted(codes.items(), key=lambda kv: str(kv[0])))
        print(f"{label:{width}} {sum(codes.values()):5}  {shown:44} {','.join(map(str, undocumented)) or '-':12}  "
              f"{report['slowest'][label][0]:.2f} s")
    print(f"\n5xx or exceptions: {len(report['errors'])}")
    first: dict[tuple[str, str], tuple[str, str, int]] = {}  # one reproduction per operation and error
    for label, mode, line, detail in report["errors"]:
        key = (label, detail)
        shown_mode, shown_line, count = first.get(key, (mode, line, 0))
        first[key] = (shown_mode, shown_line, count + 1)
    for (label, detail), (mode, line, count) in first.items():
        print(f"\n--- {label} ({mode}), {count}x\n{line}\n{detail}")
    for label in report["slowest"]:
        elapsed, line = report["slowest"][label]
        if elapsed > 2.0:
            print(f"\nslow ({elapsed:.1f} s), {label}: {line}")


if __name__ == "__main__":
    main()
