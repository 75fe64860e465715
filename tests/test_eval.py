"""``kocall eval``: error rates on hand-checked Korean, alignment by time, bad manifest lines, end to end."""

import copy
import json
from dataclasses import asdict

import pytest
import soundfile as sf

from data_tools.evaluation.scoring import Timed, align, compare, intent_quality, score, speech_errors, stt_rates
from kocall.cli import main
from stt.audio import decode_audio, to_mulaw

from .conftest import LEOPARD, RHINO_WITHIN


@pytest.mark.parametrize("ref, hyp, expected", [
    # Spacing (띄어쓰기) differs: no character error, one with spaces kept, and both eojeol wrong.
    ("카드 잃어버렸어요", "카드잃어버렸어요", dict(chars=8, char_edits=0, spaced_chars=9, spaced_edits=1,
                                              words=2, word_edits=2)),
    # Punctuation is not speech.
    ("잔액 조회요.", "잔액, 조회요?", dict(chars=5, char_edits=0, spaced_chars=6, spaced_edits=0,
                                         words=2, word_edits=0)),
    # Digits for a spoken number are errors: 삼만오천 -> 35000 is four substitutions and one insertion.
    ("삼만 오천 원", "35000원", dict(chars=5, char_edits=5, spaced_chars=7, spaced_edits=6, words=3, word_edits=3)),
    # Whisper's resyllabification: 이리저리 -> 이리절이 is two substitutions (저 -> 절, 리 -> 이) in one eojeol.
    ("그는 이리저리 피하면서", "그는 이리절이 피하면서", dict(chars=10, char_edits=2, spaced_chars=12, spaced_edits=2,
                                                     words=3, word_edits=1)),
])
def test_error_counts_on_hand_checked_korean(ref, hyp, expected):
    assert asdict(score(ref, hyp)) == expected


def _item(pairs, inserted_errors=0):
    """A results.json item holding only what the STT rates read."""
    segments = [{"ref": ref, "hyp": hyp, "errors": asdict(score(ref, hyp)),
                 "aligned_errors": asdict(score(ref, hyp))} for ref, hyp in pairs]
    return {"segments": segments, "inserted_errors": inserted_errors}


def test_overall_rate_is_total_edits_over_total_reference_not_a_mean():
    # 0 edits in 2 characters, 1 edit in 6: the corpus CER is 1/8, the mean of rates would be 1/12.
    rates = stt_rates([_item([("카드", "카드"), ("잃어버렸어요", "잃어버렸어")])])
    assert rates["cer"] == 0.125
    # Whole-file words outside every reference segment are insertions: 1 + 2 edits over 8 characters.
    rates = stt_rates([_item([("카드", "카드"), ("잃어버렸어요", "잃어버렸어")], inserted_errors=2)])
    assert rates["whole_file"]["cer"] == 0.375 and rates["cer"] == 0.125


def test_speech_heard_as_nothing_is_counted_apart_from_its_errors():
    """네 heard as nothing is one whole-segment error in the CER, and one of two spoken segments with no text."""
    rates = stt_rates([_item([("네", ""), ("아니요", "아니오")])])
    assert rates["n_empty"] == 1 and rates["empty_share"] == 0.5 and rates["cer"] == 0.5  # 1 + 1 edits of 4
    assert stt_rates([_item([("카드", "카드")])])["empty_share"] == 0.0


def test_hypothesis_words_go_to_the_reference_segment_they_overlap():
    refs = [(0.5, 2.0), (3.0, 4.5)]
    words = [Timed(0.3, 0.9, "카드"), Timed(1.0, 2.1, "잃어버렸어요"),
             Timed(2.4, 2.6, "음"),  # in the pause, beyond the 0.25 s collar of both: inserted
             Timed(1.9, 3.2, "근데"),  # straddles the pause, overlaps the second more
             Timed(3.3, 4.4, "잔액"), Timed(4.6, 4.7, "조회")]  # just after the end, inside the collar
    assigned, inserted = align(refs, words)
    assert [[w.text for w in seg] for seg in assigned] == [["카드", "잃어버렸어요"], ["근데", "잔액", "조회"]]
    assert [w.text for w in inserted] == ["음"]


def test_missed_and_inserted_speech_from_intervals():
    reference, missed, inserted = speech_errors([(0.5, 2.0), (3.0, 4.5)], [(0.3, 2.1), (2.9, 4.0)])
    assert (round(reference, 3), round(missed, 3), round(inserted, 3)) == (3.0, 0.5, 0.4)


def test_intent_scores_from_audio_beside_text_and_unknown_intents_named():
    rows = [("lost_card", "lost_card", "lost_card"), ("lost_card", "balance", "lost_card"),
            ("balance", "balance", "balance"), ("changeColor", "out_of_scope", "out_of_scope")]
    items = [{"segments": [{"intent": g, "intent_audio": a, "intent_text": t} for g, a, t in rows]}]
    result = intent_quality(items, model_labels=["balance", "lost_card", "out_of_scope"])
    assert result["audio"]["accuracy"] == 0.5 and result["text"]["accuracy"] == 0.75
    assert result["confusion"]["labels"] == ["balance", "changeColor", "lost_card", "out_of_scope"]
    assert result["confusion"]["matrix"][2] == [1, 0, 1, 0]  # lost_card: once right, once heard as balance
    assert result["unknown_to_model"] == ["changeColor"]


@pytest.fixture
def env(cache_dir, monkeypatch, transcriber):
    """The CLI in this process, on the test cache (the transcriber fixture has joined the model there)."""
    monkeypatch.setenv("KOCALL_CACHE_DIR", str(cache_dir))


def _write(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                            for r in records), "utf-8")


def test_malformed_lines_are_reported_by_number_and_the_rest_runs(env, tmp_path, capsys):
    (tmp_path / "notes.wav").write_text("not audio", "utf-8")
    manifest = tmp_path / "manifest.jsonl"
    _write(manifest, [
        {"audio": str(LEOPARD), "text": "그는 이리저리 피하면서 길 한 옆으로 걸어갔다"},
        '{"audio": "x.wav", "text": ',
        {"text": "주소 바꿔줘"},
        {"audio": "gone.wav", "text": "주소 바꿔줘"},
        "",
        {"audio": "notes.wav", "text": "주소 바꿔줘"},
        {"audio": str(LEOPARD), "segments": [{"start": 2.1, "end": 0.5, "text": "카드"}]},
    ])
    out = tmp_path / "results.json"
    assert main(["eval", str(manifest), "--out", str(out)]) == 0
    results = json.loads(out.read_text("utf-8"))
    assert [i["line"] for i in results["items"]] == [1]
    reasons = {p["line"]: p["error"] for p in results["problems"]}
    assert set(reasons) == {2, 3, 4, 6, 7}
    assert "not valid JSON" in reasons[2] and "no 'audio'" in reasons[3] and "not found" in reasons[4]
    assert "audio cannot be used" in reasons[6] and "end 0.5 is not after start 2.1" in reasons[7]
    assert f"{manifest}:7:" in capsys.readouterr().err

    _write(manifest, ['{"audio": 1}', {"audio": "gone.wav"}])
    assert main(["eval", str(manifest)]) == 1


def test_eval_end_to_end_on_real_speech_at_16_and_8_khz(env, tmp_path, leopard_reference, capsys, monkeypatch):
    # No intent model where the settings point: said plainly, and STT is still scored.
    monkeypatch.setenv("KOCALL_NLU__INTENT_MODEL", str(tmp_path / "no-model"))
    telephone = decode_audio(to_mulaw(decode_audio(LEOPARD)), mulaw=True)
    sf.write(tmp_path / "leopard_8k.wav", telephone.samples, telephone.sample_rate, subtype="ULAW")
    words = leopard_reference["words"]
    manifest = tmp_path / "manifest.jsonl"
    _write(manifest, [
        {**leopard_reference, "audio": str(LEOPARD), "channel": "studio"},
        {"audio": "leopard_8k.wav", "sample_rate": 8000, "channel": "phone", "labeler": "test",
         "segments": [{"start": words[0]["start"], "end": words[2]["end"], "text": "그는 이리저리 피하면서"},
                      {"start": words[3]["start"], "end": words[-1]["end"], "text": "길 한 옆으로 걸어갔다"}]},
        {"audio": str(RHINO_WITHIN), "text": None, "intent": "changeColor"},
    ])
    out, report = tmp_path / "results.json", tmp_path / "report.html"
    assert main(["eval", str(manifest), "--out", str(out), "--report", str(report)]) == 0
    results = json.loads(out.read_text("utf-8"))
    assert len(results["items"]) == 3 and not results["problems"]
    # Cut at the reference timestamps the leopard segments may come out word-perfect; the whole files
    # never do (이리저리 is always heard 이리절이), so the whole-file rates show the errors are counted.
    assert 0 <= results["cer"] <= 0.2 and 0 <= results["wer"] <= 0.5
    assert results["summary"]["stt"]["n_empty"] == 0 and results["summary"]["stt"]["empty_share"] == 0.0
    whole = results["summary"]["stt"]["whole_file"]
    assert 0 < whole["cer"] <= 0.35 and 0 < whole["wer"] <= 0.6
    by_rate = results["summary"]["by"]["sample_rate"]
    assert set(by_rate) == {"8000", "16000"} and all(r["cer"] is not None for r in by_rate.values())
    assert set(results["summary"]["by"]["metadata"]["channel"]) == {"phone", "studio", "None"}
    rhino = results["items"][2]
    assert rhino["segments"][0]["errors"] is None and rhino["latency_s"]["stt"] > 0
    timestamps = results["summary"]["timestamps"]
    assert timestamps["boundary_error_ms"]["n"] == 6 and timestamps["boundary_error_ms"]["median"] < 500
    assert timestamps["missed_speech_s"] < 0.5
    assert results["summary"]["latency"]["stt"]["rtf"] > 0
    assert "kocall train" in results["nlu_note"] and results["summary"]["intent"] is None
    assert "kocall train" in capsys.readouterr().err

    page = report.read_text("utf-8")
    assert page.count("<svg") >= 2 and "CER distribution" in page and "Headline figures" in page
    assert "data:audio/wav;base64," in page
    assert 'src="http' not in page and "<link" not in page and "<script" not in page


def test_compare_names_what_got_better_and_worse(env, tmp_path, capsys):
    manifest = tmp_path / "manifest.jsonl"
    _write(manifest, [{"audio": str(LEOPARD), "text": "그는 이리저리 피하면서 길 한 옆으로 걸어갔다"}])
    new_path, old_path, report = tmp_path / "new.json", tmp_path / "old.json", tmp_path / "report.html"
    assert main(["eval", str(manifest), "--out", str(new_path)]) == 0
    new = json.loads(new_path.read_text("utf-8"))
    old = copy.deepcopy(new)  # an older run that heard the segment worse
    old["items"][0]["segments"][0]["cer"] = 0.5
    old["summary"]["stt"]["cer"] = 0.5
    old_path.write_text(json.dumps(old, ensure_ascii=False), "utf-8")
    capsys.readouterr()

    assert main(["eval", str(manifest), "--compare", str(old_path), "--report", str(report)]) == 0
    terminal = capsys.readouterr().out
    assert "1 segments got better" in terminal and "0 segments got worse" in terminal
    cer_row = next(r for r in compare(old, new)["metrics"] if r["name"] == "CER")
    assert cer_row["delta"] == round(new["cer"] - 0.5, 4) < 0
    page = report.read_text("utf-8")
    assert "Compared with the old results" in page and "1 segments got better" in page
