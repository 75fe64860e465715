"""The labeling tool: tokens, imports of real speech, the queue, conflicts, safe audio, exports, durability."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import soundfile
from fastapi.testclient import TestClient

from data_tools.augment.dataset import labeled_dataset
from data_tools.augment.dataset import load_any
from data_tools.calllog.turnlog import TurnLog, TurnRecord
from data_tools.evaluation.manifest import parse_line
from data_tools.evaluation.metrics import cer
from data_tools.labeling.export import training_rows
from data_tools.labeling.imports import from_task
from data_tools.labeling.label_studio import parse_tasks
from data_tools.labeling.store import LabelStore
from server.app import create_app
from stt.audio import decode_audio, to_pcm16

from .conftest import LEOPARD, RHINO_WITHIN, server_settings, telephone

REFERENCE = "그는 이리저리 피하면서 길 한 옆으로 걸어갔다"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wav_bytes(audio, subtype: str = "PCM_16") -> bytes:
    out = io.BytesIO()
    soundfile.write(out, to_pcm16(audio.samples), audio.sample_rate, format="WAV", subtype=subtype)
    return out.getvalue()


def upload(client, token: str, *files: tuple[str, bytes]):
    return client.post("/label/api/import", headers=bearer(token),
                       files=[("files", (name, data, "application/octet-stream")) for name, data in files])


@pytest.fixture(scope="module")
def label_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("label-data")


@pytest.fixture(scope="module")
def store(label_dir) -> LabelStore:
    """The store the server uses, opened a second time, as the CLI would while the server runs."""
    return LabelStore(label_dir / "labels.sqlite")


@pytest.fixture(scope="module")
def tokens(store) -> dict[str, str]:
    return {name: store.add_labeler(name) for name in ("kim", "lee")}


@pytest.fixture(scope="module")
def client(settings, models_dir, label_dir, intent_model, utterance_type_model, tokens):
    with TestClient(create_app(server_settings(settings, models_dir, label_dir))) as client:
        yield client


@pytest.fixture(scope="module")
def items(client, tokens, leopard) -> dict[str, int]:
    """The leopard recording as it is (16 kHz) and as a phone line delivers it (8 kHz), imported once."""
    answer = upload(client, tokens["kim"], ("leopard.wav", LEOPARD.read_bytes()),
                    ("leopard-phone.wav", wav_bytes(telephone(leopard))))
    assert answer.status_code == 200, answer.text
    first, second = answer.json()["imported"]
    return {"leopard": first, "leopard_8k": second}


def current(client, token: str, item_id: int) -> dict:
    answer = client.get(f"/label/api/items/{item_id}", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()["item"]


def edited(item: dict, text: str, intent: str | None, **segment) -> dict:
    """A save body: the item's first segment re-labeled, every other segment dropped."""
    first = {**item["segments"][0], "text": text, "intent": intent, **segment}
    return {"version": item["version"], "segments": [first], "flags": [], "status": "labeled"}


# Tokens


def test_page_and_api_refuse_requests_without_a_labeler_token(client, tokens):
    for path in ("/label", "/label/", "/label/api/items", "/label/api/me", "/label/static/app.js",
                 "/label/api/export/manifest", "/label/api/progress"):
        answer = client.get(path)
        assert answer.status_code == 401, path
        assert client.get(path, headers=bearer("not-a-token")).status_code == 401, path
    assert client.get("/label?token=not-a-token", follow_redirects=False).status_code == 401
    assert client.put("/label/api/items/1", json={"version": 1, "segments": []}).status_code == 401
    answer = client.get("/label/api/me", headers=bearer(tokens["lee"]))
    assert answer.status_code == 200
    assert answer.json()["labeler"] == "lee"
    assert {"lost_card", "out_of_scope"} <= set(answer.json()["intents"])


def test_token_in_the_url_becomes_a_cookie_and_leaves_the_address(client, tokens):
    browser = TestClient(client.app)  # its own cookie jar; the app (and its loaded models) is the module's
    answer = browser.get(f"/label?token={tokens['kim']}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/label/"
    assert "httponly" in answer.headers["set-cookie"].lower()
    assert "samesite=strict" in answer.headers["set-cookie"].lower()
    page = browser.get("/label/")
    assert page.status_code == 200
    assert "kocall labeling" in page.text
    assert browser.get("/label/static/app.js").status_code == 200
    assert browser.get("/label/api/me").json()["labeler"] == "kim"


# Imports


def test_import_pre_transcribes_real_speech_at_16_and_8_khz(client, tokens, items):
    for name, rate in (("leopard", 16000), ("leopard_8k", 8000)):
        item = current(client, tokens["kim"], items[name])
        assert item["sample_rate"] == rate
        assert item["status"] == "todo" and item["version"] == 1 and item["updated_by"] == "stt"
        text = " ".join(s["text"] for s in item["segments"])
        assert cer(REFERENCE, text) < 0.35, text
        first = item["segments"][0]
        assert 0.0 <= first["start"] < 1.0 and 2.8 < item["segments"][-1]["end"] <= 3.9
        assert first["suggested_intent"] and 0 < first["suggested_confidence"] <= 1
        assert 0 < item["stt_confidence"] <= 1 and 0 < item["nlu_confidence"] <= 1
    again = upload(client, tokens["lee"], ("same-audio-other-name.wav", LEOPARD.read_bytes()))
    assert again.json() == {"imported": [], "already_in_store": 1}


def test_queue_puts_the_least_certain_first_and_filters(client, tokens, items, store):
    queue = client.get("/label/api/items", headers=bearer(tokens["kim"])).json()
    priorities = [row["priority"] for row in queue]
    assert priorities == sorted(priorities, reverse=True) and len(queue) >= 2
    for row in queue:
        assert row["priority"] == pytest.approx((1 - row["stt_confidence"]) + (1 - row["nlu_confidence"])
                                                + row["disagreement"], abs=1e-3)
    suggested = store.get(items["leopard"]).segments[0].suggested_intent
    by_intent = client.get("/label/api/items", params={"intent": suggested}, headers=bearer(tokens["kim"])).json()
    assert items["leopard"] in [row["id"] for row in by_intent]
    assert client.get("/label/api/items", params={"intent": "no_such_intent"}, headers=bearer(tokens["kim"])).json() == []
    assert client.get("/label/api/items", params={"since": "2999-01-01"}, headers=bearer(tokens["kim"])).json() == []
    assert client.get("/label/api/items", params={"since": "not-a-date"}, headers=bearer(tokens["kim"])).status_code == 422
    assert len(client.get("/label/api/items", params={"since": "2020-01-01", "until": "2999-12-31"},
                          headers=bearer(tokens["kim"])).json()) >= 2


def test_malformed_uploads_are_refused_and_store_nothing(client, tokens, items, store, label_dir):
    before = len(store.items())
    uploads = sorted((label_dir / "label_audio").iterdir())
    truncated = RHINO_WITHIN.read_bytes()[:5000]
    cases = [(("notes.txt", "카드 분실 신고".encode()),), (("cut.wav", truncated),), (("empty.wav", b""),),
             (("rhino.wav", RHINO_WITHIN.read_bytes()), ("cut.wav", truncated))]  # one bad file refuses the batch
    for files in cases:
        answer = upload(client, tokens["kim"], *files)
        assert answer.status_code in (400, 415), answer.text
        assert files[-1][0] in answer.json()["detail"] and "nothing was imported" in answer.json()["detail"]
    assert "truncated" in upload(client, tokens["kim"], ("cut.wav", truncated)).json()["detail"]
    assert len(store.items()) == before
    assert sorted((label_dir / "label_audio").iterdir()) == uploads


def test_phone_turns_from_the_turn_log_are_imported_once(client, tokens, leopard, label_dir, store):
    call = label_dir / "audio" / "CA-test" / "00001200ms.wav"
    call.parent.mkdir(parents=True)
    call.write_bytes(wav_bytes(telephone(leopard)))
    log = TurnLog(label_dir / "turns.sqlite")
    log.append(TurnRecord(channel="phone", session_id="CA-test", turn=1, transcript="그는 이리저리 피하면서",
                          intent="lost_card", confidence=0.41, reply="...", audio=str(call), sample_rate=8000,
                          stt_confidence=0.7))
    log.append(TurnRecord(channel="chat", session_id="chat-1", turn=1, transcript="카드 잃어버렸어요",
                          intent="lost_card", confidence=0.9, reply="..."))
    log.close()
    answer = client.post("/label/api/import/turns", headers=bearer(tokens["lee"]))
    assert answer.status_code == 200, answer.text
    [item_id] = answer.json()["imported"]
    item = store.get(item_id)
    assert item.source == "turn" and item.sample_rate == 8000 and item.metadata["session_id"] == "CA-test"
    assert item.metadata["live_intent"] == "lost_card"
    # The live call heard half the sentence and called it lost_card: that disagreement puts it near the front.
    assert item.disagreement >= 0.3
    assert client.post("/label/api/import/turns", headers=bearer(tokens["lee"])).json()["imported"] == []


# Saving and conflicts


def test_stale_save_from_a_second_labeler_gets_409_and_loses_nothing(client, tokens, items, store):
    item_id = items["leopard"]
    kim_sees = current(client, tokens["kim"], item_id)
    lee_sees = current(client, tokens["lee"], item_id)
    saved = client.put(f"/label/api/items/{item_id}", headers=bearer(tokens["kim"]),
                       json=edited(kim_sees, REFERENCE, "out_of_scope"))
    assert saved.status_code == 200, saved.text
    assert saved.json()["item"]["version"] == kim_sees["version"] + 1

    stale = client.put(f"/label/api/items/{item_id}", headers=bearer(tokens["lee"]),
                       json=edited(lee_sees, "그는 이리저리 피하면서", "lost_card"))
    assert stale.status_code == 409
    assert "kim" in stale.json()["detail"]
    assert stale.json()["current"]["segments"][0]["text"] == REFERENCE  # what lee must look at before saving again
    assert store.get(item_id).segments[0].text == REFERENCE

    resaved = client.put(f"/label/api/items/{item_id}", headers=bearer(tokens["lee"]),
                         json=edited(stale.json()["current"], REFERENCE + ".", "out_of_scope"))
    assert resaved.status_code == 200
    history = client.get(f"/label/api/items/{item_id}", headers=bearer(tokens["lee"])).json()["history"]
    assert [h["labeler"] for h in history][-3:] == ["stt", "kim", "lee"]
    assert any(REFERENCE in change and "text" in change for change in history[-2]["changes"])
    assert history[-2]["changes"][-1] == "status: todo -> labeled"


def test_a_save_to_a_full_disk_is_a_clear_507_and_the_label_saved_before_is_kept(client, tokens, items, store):
    """No file may grow while RLIMIT_FSIZE is 1 byte: writes fail as on a full disk (Python ignores SIGXFSZ)."""
    import resource

    item_id = items["leopard_8k"]
    before = current(client, tokens["kim"], item_id)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, hard))
    try:
        full = client.put(f"/label/api/items/{item_id}", headers=bearer(tokens["kim"]),
                          json=edited(before, "그는 이리저리", "out_of_scope"))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert full.status_code == 507 and "not saved" in full.json()["detail"]
    kept = store.get(item_id)
    assert kept.version == before["version"] and [s.text for s in kept.segments] == [
        s["text"] for s in before["segments"]]


def test_invalid_labels_are_refused_with_a_reason(client, tokens, items, store):
    item_id = items["leopard_8k"]
    item = current(client, tokens["kim"], item_id)
    a, b = dict(item["segments"][0], start=0.5, end=2.0), dict(item["segments"][0], start=1.5, end=3.0)
    bad = {
        "overlap": {**edited(item, "가", None), "segments": [a, b]},
        "past the end": edited(item, "가", None, end=60.0),
        "after start": edited(item, "가", None, start=2.0, end=1.0),
        "unknown intent": edited(item, "가", "order_pizza"),
        "unknown flag": {**edited(item, "가", None), "flags": ["loud"]},
        "status": {**edited(item, "가", None), "status": "done"},
        "audio": {**edited(item, "가", None), "audio": "/etc/passwd"},  # the path is never the client's to set
    }
    for reason, body in bad.items():
        answer = client.put(f"/label/api/items/{item_id}", headers=bearer(tokens["kim"]), json=body)
        assert answer.status_code == 422, (reason, answer.text)
    assert "overlap" in client.put(f"/label/api/items/{item_id}", headers=bearer(tokens["kim"]),
                                   json=bad["overlap"]).json()["detail"]
    assert store.get(item_id).version == item["version"]
    assert client.put("/label/api/items/999999", headers=bearer(tokens["kim"]),
                      json=edited(item, "가", None)).status_code == 404


# Audio


def test_audio_is_served_by_item_id_and_never_by_path(client, tokens, items, leopard):
    answer = client.get(f"/label/api/items/{items['leopard_8k']}/audio", headers=bearer(tokens["kim"]))
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/wav"
    served = decode_audio(answer.content)
    assert served.sample_rate == 8000 and served.duration_s == pytest.approx(leopard.duration_s, abs=0.01)
    for path in ("/label/api/items/999999/audio", "/label/api/items/..%2F..%2F..%2Fetc%2Fpasswd/audio",
                 "/label/api/items/%2Fetc%2Fpasswd/audio", "/label/api/items/1%00/audio",
                 "/label/static/..%2Flabeling.py", "/label/static/%2e%2e%2f%2e%2e%2fkocall%2fsettings.py",
                 "/label/static/../labeling.py", "/label/static/index.html%00.js"):
        answer = client.get(path, headers=bearer(tokens["kim"]))
        assert answer.status_code in (404, 422), path
        assert b"import" not in answer.content and b"root:" not in answer.content, path


# Exports


TWO_SEGMENTS = [{"start": 0.6, "end": 1.9, "text": "그는 이리저리 피하면서", "intent": "out_of_scope"},
                {"start": 2.05, "end": 3.3, "text": "길 한 옆으로 걸어갔다", "intent": "out_of_scope"}]


def label_in_two_segments(client, token: str, item_id: int) -> None:
    """The leopard sentence labeled as a labeler would: two stretches, corrected text, a noise flag."""
    item = current(client, token, item_id)
    body = {"version": item["version"], "flags": ["noise"], "status": "labeled", "segments": TWO_SEGMENTS}
    assert client.put(f"/label/api/items/{item_id}", headers=bearer(token), json=body).status_code == 200


def test_manifest_export_has_the_eval_shape_and_reads_back(client, tokens, items, tmp_path):
    item_id = items["leopard"]
    label_in_two_segments(client, tokens["kim"], item_id)
    answer = client.get("/label/api/export/manifest", headers=bearer(tokens["kim"]))
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    lines = [json.loads(line) for line in answer.text.splitlines()]
    [line] = [line for line in lines if line["item_id"] == item_id]
    assert line["segments"] == TWO_SEGMENTS
    assert line["sample_rate"] == 16000 and line["labeler"] == "kim" and line["flags"] == ["noise"]
    assert Path(line["audio"]).is_absolute() and Path(line["audio"]).read_bytes() == LEOPARD.read_bytes()
    datetime.fromisoformat(line["labeled_at"])
    parsed = parse_line(json.dumps(line, ensure_ascii=False), 1, tmp_path)  # what `kocall eval` reads
    assert [(s.start, s.end, s.text, s.intent) for s in parsed.segments] == [
        (0.6, 1.9, "그는 이리저리 피하면서", "out_of_scope"), (2.05, 3.3, "길 한 옆으로 걸어갔다", "out_of_scope")]
    assert parsed.metadata["labeler"] == "kim"


def test_unusable_items_stay_out_of_the_exports(client, tokens, items, store, tmp_path):
    item_id = items["leopard_8k"]
    item = current(client, tokens["lee"], item_id)
    body = {**edited(item, REFERENCE, "out_of_scope"), "flags": ["unusable"]}
    assert client.put(f"/label/api/items/{item_id}", headers=bearer(tokens["lee"]), json=body).status_code == 200
    lines = client.get("/label/api/export/manifest", headers=bearer(tokens["lee"])).text.splitlines()
    assert item_id not in [json.loads(line)["item_id"] for line in lines]
    assert item_id not in labeled_dataset(training_rows(store.items()))["all"]["item_id"]


def test_training_dataset_has_a_text_label_row_per_segment(client, tokens, items, store, tmp_path):
    label_in_two_segments(client, tokens["kim"], items["leopard"])
    labeled_dataset(training_rows(store.items())).save_to_disk(str(tmp_path / "labels"))
    data = load_any(tmp_path / "labels")["all"]
    rows = [r for r in data if r["item_id"] == items["leopard"]]
    assert [(r["text"], r["label"]) for r in rows] == [("그는 이리저리 피하면서", "out_of_scope"),
                                                      ("길 한 옆으로 걸어갔다", "out_of_scope")]
    assert rows[0]["start"] == 0.6 and rows[0]["labeler"] == "kim"


def test_label_studio_export_imports_back_with_segments_and_labeler(client, tokens, items, transcriber,
                                                                   understander, tmp_path):
    label_in_two_segments(client, tokens["kim"], items["leopard"])
    answer = client.get("/label/api/export/labelstudio", headers=bearer(tokens["kim"]))
    tasks = answer.json()
    [task] = [t for t in tasks if t["id"] == items["leopard"]]
    assert task["predictions"][0]["model_version"] == "kocall-stt"
    texts = [r["value"]["text"] for r in task["annotations"][0]["result"] if r["type"] == "textarea"]
    assert texts == [["그는 이리저리 피하면서"], ["길 한 옆으로 걸어갔다"]]
    (tmp_path / "ls.json").write_text(json.dumps([task], ensure_ascii=False), "utf-8")
    [parsed] = parse_tasks((tmp_path / "ls.json").read_bytes(), tmp_path)
    item = from_task(parsed, transcriber, understander, 60.0)
    assert item.status == "labeled" and item.labeler == "kim" and item.flags == ("noise",)
    assert [(s.start, s.end, s.text, s.intent) for s in item.segments] == [
        (0.6, 1.9, "그는 이리저리 피하면서", "out_of_scope"), (2.05, 3.3, "길 한 옆으로 걸어갔다", "out_of_scope")]


def kocall(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kocall.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


@pytest.mark.slow
def test_bad_label_studio_files_get_a_clear_message_and_import_nothing(tmp_path, store):
    env = {"KOCALL_LABEL__DB": str(store.path)}
    before = len(store.items())
    cases = {
        "not json": ("{not json", "not a Label Studio JSON export"),
        "not a list": ('"tasks"', "expected a JSON list of tasks"),
        "no data": ('[{"id": 1}]', "task 1: expected an object with a 'data' object"),
        "missing audio": ('[{"data": {"audio": "nowhere.wav"}}]', "task 1: audio file not found"),
        "remote audio": ('[{"data": {"audio": "https://example.com/a.wav"}}]', "not a local file path"),
        "bad region": (json.dumps([{"data": {"audio": str(LEOPARD)}}, {"data": {"audio": str(LEOPARD)}, "annotations": [
            {"result": [{"id": "a", "type": "textarea", "value": {"start": "soon", "end": 1, "text": ["x"]}}]}]}]),
            "task 2: region 'a': start and end must be numbers"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.json"
        path.write_text(content, "utf-8")
        result = kocall("label", "import-labelstudio", str(path), env=env)
        assert result.returncode == 2, (name, result.stderr)
        assert message in result.stderr and "nothing was imported" in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr
    assert len(store.items()) == before


@pytest.mark.slow
def test_cli_imports_a_folder_and_names_each_file_it_cannot_use(settings, models_dir, intent_model,
                                                                utterance_type_model, transcriber, tmp_path):
    env = serve_env(settings, models_dir, tmp_path / "data")
    calls = tmp_path / "calls"
    (calls / "day1").mkdir(parents=True)
    (calls / "day1" / "leopard.wav").write_bytes(LEOPARD.read_bytes())
    (calls / "day1" / "notes.wav").write_text("통화 메모", "utf-8")
    (calls / "cut.wav").write_bytes(RHINO_WITHIN.read_bytes()[:5000])
    (calls / "readme.txt").write_text("not audio, and not picked up by the folder walk", "utf-8")
    result = kocall("label", "import", str(calls), env=env)
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout) == {"imported": 1, "already_in_store": 0, "failed": 2}
    assert "notes.wav: not usable audio" in result.stderr and "cut.wav: not usable audio" in result.stderr
    assert "truncated" in result.stderr and "readme.txt" not in result.stderr and "Traceback" not in result.stderr
    again = kocall("label", "import", str(calls / "day1" / "leopard.wav"), env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["already_in_store"] == 1
    [item] = LabelStore(tmp_path / "data" / "labels.sqlite").items()
    assert item.audio == str(calls / "day1" / "leopard.wav") and item.status == "todo"


# Progress


def test_progress_counts_and_agreement_between_labelers(client, tokens, items):
    item_id = items["leopard"]
    for who, text, intent in (("kim", REFERENCE, "out_of_scope"), ("lee", "그는 이리저리 피하면서 길 옆으로 걸어갔다", "lost_card")):
        item = current(client, tokens[who], item_id)
        assert client.put(f"/label/api/items/{item_id}", headers=bearer(tokens[who]),
                          json=edited(item, text, intent)).status_code == 200
    progress = client.get("/label/api/progress", headers=bearer(tokens["kim"])).json()
    assert progress["items"] >= 2 and progress["by_status"]["labeled"] >= 1
    assert progress["per_labeler"]["kim"]["labeled"] >= 1 and progress["per_labeler"]["lee"]["saves"] >= 1
    assert "stt" not in progress["per_labeler"]
    [pair] = [p for p in progress["agreement"]["pairs"] if p["labelers"] == ["kim", "lee"]]
    assert pair["items"] >= 1
    assert 0 < pair["cer"] < 0.2  # lee dropped one syllable of twenty
    assert pair["intent_agreement"] < 1
    assert progress["labeled_segments_per_intent"]["lost_card"] >= 1


# A real server, killed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(settings, models_dir, data_dir: Path) -> dict[str, str]:
    """``kocall serve`` on the test run's models, keeping everything under ``data_dir``."""
    return {"KOCALL_CACHE_DIR": str(settings.cache_dir), "KOCALL_DATA_DIR": str(data_dir),
            "KOCALL_NLU__INTENT_MODEL": str(models_dir / "intent"),
            "KOCALL_NLU__UTTERANCE_TYPE_MODEL": str(models_dir / "utterance-type"),
            "KOCALL_SERVER__TTS": "none", "KOCALL_SERVER__WORKERS": "1"}


@contextmanager
def kocall_serve(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen]:
    """A real ``python -m kocall.cli serve`` process, up once /healthz answers 200; killed at the end."""
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "kocall.cli", "serve", "--port", str(port)],
                                   env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise AssertionError(f"kocall serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"kocall serve did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.mark.slow
def test_saved_edits_survive_kill_9_of_the_server(settings, models_dir, intent_model, utterance_type_model,
                                                  transcriber, tmp_path):
    env = serve_env(settings, models_dir, tmp_path / "data")
    made = kocall("label", "add-labeler", "park", env=env)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}/label/api"
    saved = []
    with kocall_serve(env, port, tmp_path / "serve-1.log") as server:
        http = httpx.Client(base_url=base, headers=bearer(token), timeout=120)
        answer = http.post("/import", files=[("files", ("leopard.wav", LEOPARD.read_bytes(), "audio/wav"))])
        assert answer.status_code == 200, answer.text
        [item_id] = answer.json()["imported"]
        words = REFERENCE.split()
        for n in range(1, len(words) + 1):  # a labeler typing word by word, saving each time
            item = http.get(f"/items/{item_id}").json()["item"]
            answer = http.put(f"/items/{item_id}", json=edited(item, " ".join(words[:n]), "out_of_scope"))
            assert answer.status_code == 200, answer.text
            saved.append(answer.json()["item"])
        server.send_signal(signal.SIGKILL)  # the moment the last 200 arrived: no shutdown, no flush
        server.wait(timeout=30)
    assert (tmp_path / "data" / "labels.sqlite-wal").exists()  # killed in WAL mode, not closed cleanly

    with kocall_serve(env, port, tmp_path / "serve-2.log"):
        http = httpx.Client(base_url=base, headers=bearer(token), timeout=60)
        after = http.get(f"/items/{item_id}").json()
        assert after["item"]["version"] == saved[-1]["version"] == len(words) + 1
        assert after["item"]["segments"][0]["text"] == REFERENCE
        assert [h["version"] for h in after["history"]] == list(range(1, len(words) + 2))
        assert all(h["labeler"] == "park" for h in after["history"][1:])
        # The labeler goes on where they were: the version they hold is still the current one.
        answer = http.put(f"/items/{item_id}", json=edited(saved[-1], REFERENCE + ".", "out_of_scope"))
        assert answer.status_code == 200
