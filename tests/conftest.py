"""Shared fixtures: the real data in ../shared/data and one Whisper model per test run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kocall.settings import Settings
from stt.audio import Audio, decode_audio, to_mulaw

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SPEECH = SHARED / "speech_ko"
LEOPARD = SPEECH / "leopard_test_ko.wav"
RHINO_WITHIN = SPEECH / "rhino_within_context_ko.wav"
RHINO_OUT = SPEECH / "rhino_out_of_context_ko.wav"


def pytest_configure(config):
    if not LEOPARD.is_file():
        raise pytest.UsageError(f"the shared data is missing: expected {LEOPARD}")


@pytest.fixture(scope="session")
def leopard_reference() -> dict:
    """The manifest line with the word-timestamped reference transcript."""
    for line in (SPEECH / "manifest.jsonl").read_text("utf-8").splitlines():
        item = json.loads(line)
        if item["audio"] == LEOPARD.name:
            return item
    raise AssertionError("leopard reference missing from manifest.jsonl")


@pytest.fixture(scope="session")
def leopard() -> Audio:
    return decode_audio(LEOPARD)


def telephone(audio: Audio) -> Audio:
    """16 kHz -> 8 kHz G.711 mu-law -> decoded, as a phone call delivers it."""
    return decode_audio(to_mulaw(audio), mulaw=True)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """A fresh model cache: the bundled model is joined into it once per test run."""
    return tmp_path_factory.mktemp("kocall-cache")


@pytest.fixture(scope="session")
def settings(cache_dir) -> Settings:
    return Settings(cache_dir=cache_dir)


@pytest.fixture(scope="session")
def transcriber(settings):
    from stt.transcribe import get_transcriber

    return get_transcriber(settings.stt, settings.cache_dir)


def silence(seconds: float, rate: int = 16000) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)
