"""The kocall command as a user runs it: a real process, real files."""

import json
import os
import subprocess
import sys

import pytest

from data_tools.evaluation.metrics import cer
from stt.audio import decode_audio, to_mulaw, to_pcm16

from .conftest import LEOPARD, LEOPARD_CER_BOUND, RHINO_OUT, RHINO_WITHIN


@pytest.fixture(scope="module")
def run(cache_dir):
    env = {**os.environ, "KOCALL_CACHE_DIR": str(cache_dir)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kocall.cli", *args], capture_output=True, text=True,
                              env=env, timeout=300)
    return run


def test_help_lists_the_subcommands(run):
    out = run("--help")
    assert out.returncode == 0
    assert "transcribe" in out.stdout and "serve" in out.stdout and "data" in out.stdout


def test_transcribe_help_explains_the_options(run):
    out = run("transcribe", "--help")
    assert out.returncode == 0
    for flag in ["--json", "--rate", "--mulaw", "--model", "--lexicon"]:
        assert flag in out.stdout


def test_json_output_for_every_shared_recording(run, leopard_reference):
    out = run("transcribe", "--json", str(LEOPARD), str(RHINO_WITHIN), str(RHINO_OUT))
    assert out.returncode == 0, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["file"] for r in results] == [str(LEOPARD), str(RHINO_WITHIN), str(RHINO_OUT)]
    for r in results:
        assert set(r) == {"file", "duration_s", "sample_rate", "text", "segments"}
        assert r["sample_rate"] == 16000 and r["text"]
        for seg in r["segments"]:
            assert set(seg) == {"start", "end", "text", "avg_logprob", "no_speech_prob", "words"}
            assert set(seg["words"][0]) == {"start", "end", "word", "probability"}
    assert cer(leopard_reference["text"], results[0]["text"]) <= LEOPARD_CER_BOUND


def test_headerless_mulaw_and_pcm(run, tmp_path, leopard_reference):
    audio = decode_audio(LEOPARD)
    (tmp_path / "call.ul").write_bytes(to_mulaw(audio))
    (tmp_path / "call.pcm").write_bytes(to_pcm16(audio.samples).tobytes())
    mulaw = run("transcribe", "--mulaw", str(tmp_path / "call.ul"))
    pcm = run("transcribe", "--rate", "16000", str(tmp_path / "call.pcm"))
    assert mulaw.returncode == 0 and pcm.returncode == 0
    assert cer(leopard_reference["text"], mulaw.stdout) <= LEOPARD_CER_BOUND
    assert cer(leopard_reference["text"], pcm.stdout) <= LEOPARD_CER_BOUND


@pytest.mark.parametrize("content, reason", [
    (LEOPARD.read_bytes()[:3000], "truncated"),
    ("안녕하세요, 텍스트 파일입니다".encode(), "not a readable audio file"),
    (b"", "empty"),
])
def test_bad_input_gives_one_line_reason_and_nonzero_exit(run, tmp_path, content, reason):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    out = run("transcribe", str(path))
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0] and str(path) in lines[0]
    assert out.stdout == ""


def test_missing_file_and_bad_model_are_reported(run, tmp_path):
    missing = run("transcribe", str(tmp_path / "nope.wav"))
    assert missing.returncode != 0 and "nope.wav" in missing.stderr
    bad_model = run("transcribe", "--model", str(tmp_path), str(LEOPARD))
    assert bad_model.returncode == 2 and "no model.bin" in bad_model.stderr


def test_train_names_the_pack_file_it_cannot_read(run, tmp_path):
    import shutil

    from core.domain_pack import find_pack

    pack = shutil.copytree(find_pack("card_bank").folder, tmp_path / "pack", ignore=shutil.ignore_patterns("models"))
    (pack / "intents.csv").write_text("wrong,columns\na,b\n", encoding="utf-8")
    out = run("train", "--domain", str(pack), "--only", "intent", "--out", str(tmp_path / "models"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"{pack / 'intents.csv'}: row 1 has columns" in out.stderr
    assert not (tmp_path / "models").exists()
