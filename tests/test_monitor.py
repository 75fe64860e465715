"""Live monitoring: drift found in a turn log written by the real server under scripted traffic."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from data_tools.calllog.monitor import jensen_shannon, monitor, parse_duration, to_label, windows
from data_tools.calllog.turnlog import TurnRecord
from nlu.classifier import META_FILE
from server.app import create_app

from .conftest import server_settings

USUAL = ["카드를 잃어버렸어요", "결제일 바꾸고 싶어요", "연회비가 얼마예요", "한도 좀 올려 주세요", "주소 변경하려고요",
         "상담 시간이 어떻게 되나요", "비밀번호를 잊어버렸어요", "카드 해지하고 싶어요", "이용 내역 조회하고 싶어요"]
# A stolen-card wave: the mix shifts to lost cards and angry callers.
SHIFTED = ["카드를 도난당했어요", "카드를 잃어버렸어요", "지갑을 잃어버려서 카드도 없어요", "서비스가 너무 불친절해요",
           "몇 번을 전화했는데 해결이 안 되네요"]


def test_jensen_shannon_on_hand_checked_mixes():
    assert jensen_shannon({"a": 1, "b": 1}, {"a": 5, "b": 5}) == 0.0  # same mix, any counts
    assert jensen_shannon({"a": 1}, {"b": 1}) == 1.0  # disjoint
    # p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4); JSD = 1/2 [log2(4/3)] + 1/2 [1/2 log2(2/3) + 1/2 log2(2)]
    assert jensen_shannon({"a": 1}, {"a": 1, "b": 1}) == pytest.approx(0.3113, abs=1e-4)


def test_windows_by_time_and_by_turns():
    start = dt.datetime(2026, 11, 25, 9, tzinfo=dt.timezone.utc)
    turns = [TurnRecord("chat", "s", 1, "t", "lost_card", 0.9, "r", at=(start + dt.timedelta(minutes=m)).isoformat())
             for m in (0, 10, 59, 61, 130)]
    assert [len(w) for w in windows(turns, every=parse_duration("1h"))] == [3, 1, 1]
    assert [len(w) for w in windows(turns, per=2)] == [2, 2, 1]
    for bad, reason in (("an hour", "bad duration"), ("1000000000d", "too long"), ("0m", "must be positive")):
        with pytest.raises(ValueError, match=reason):
            parse_duration(bad)


def test_drift_is_detected_when_the_scripted_intent_mix_shifts(settings, models_dir, tmp_path, intent_model,
                                                               utterance_type_model):
    """Drive the real server's chat endpoint: 40 usual conversations, then 40 of a stolen-card wave."""
    random.seed(3)
    with TestClient(create_app(server_settings(settings, models_dir, tmp_path))) as client:
        for phase, texts in enumerate((USUAL, SHIFTED)):
            for i in range(40):
                response = client.post("/chat", json={"session_id": f"p{phase}-{i}", "text": random.choice(texts)})
                assert response.status_code == 200
        live = client.get("/monitor?turns=40").json()
    assert [w["turns"] for w in live] == [40, 40]
    usual, wave = live
    assert usual["alerts"] == []
    assert wave["drift"] > usual["drift"] + 0.1
    assert any("intent mix drifted" in a for a in wave["alerts"])
    assert any("hand-off rate" in a for a in wave["alerts"])  # complaints go to people
    assert set(list(wave["intents"])[:2]) <= {"lost_card", "complaint"}

    # The same log through the command line.
    result = subprocess.run([sys.executable, "-m", "kocall.cli", "monitor", "--log", str(tmp_path / "turns.sqlite"),
                             "--turns", "40", "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [w["alerts"] != [] for w in json.loads(result.stdout)] == [False, True]


def test_least_sure_phone_turns_are_picked_for_labeling():
    def turn(stt: float, nlu: float, no_speech: float = 0.0) -> TurnRecord:
        return TurnRecord("phone", "c", 1, "t", "fees", nlu, "r", audio=f"/a/{stt}-{nlu}.wav", stt_confidence=stt,
                          no_speech_prob=no_speech)

    picked = to_label([turn(0.9, 0.9), turn(0.4, 0.5), turn(0.1, 0.1, no_speech=0.9), turn(0.7, 0.3)], n=3)
    assert [(t.stt_confidence, t.confidence) for t in picked] == [(0.4, 0.5), (0.7, 0.3), (0.9, 0.9)]


def test_monitor_without_a_log_says_so(tmp_path):
    result = subprocess.run([sys.executable, "-m", "kocall.cli", "monitor", "--log", str(tmp_path / "none.sqlite")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "no turn log" in result.stderr


def test_monitor_on_an_empty_window_list():
    assert monitor([], {"lost_card": 20.0}) == []
    log_turns = [TurnRecord("chat", "s", 1, "t", "out_of_scope", 0.2, "r", at="2026-11-25T09:00:00+00:00")]
    (only,) = monitor(log_turns, {"lost_card": 20.0})
    assert only.drift is None and only.out_of_scope_rate == 1.0


def test_drift_is_measured_against_the_mix_of_the_intent_model_served(settings, models_dir, tmp_path):
    """A model folder records the rows per intent it was trained on; /monitor compares with that folder's."""
    skewed = shutil.copytree(models_dir / "intent", tmp_path / "intent")
    meta = json.loads((skewed / META_FILE).read_text("utf-8"))
    meta["label_mix"] = {"lost_card": 1, "out_of_scope": 1000}  # as if trained on lost cards alone
    (skewed / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    drift = {}
    for name, folder in (("shipped", models_dir / "intent"), ("skewed", skewed)):
        served = server_settings(settings, models_dir, tmp_path / name)
        served = served.model_copy(update={"nlu": served.nlu.model_copy(update={"intent_model": folder})})
        with TestClient(create_app(served)) as client:
            for i, text in enumerate(USUAL):
                assert client.post("/chat", json={"session_id": f"s{i}", "text": text}).status_code == 200
            drift[name] = client.get(f"/monitor?turns={len(USUAL)}").json()[0]["drift"]
    assert drift["skewed"] > drift["shipped"] + 0.15
