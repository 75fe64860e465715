"""Whisper's encoder under load: does batching turns across calls encode them sooner on this CPU?

Eight calls' turns arrive at once. The server encodes them two at a time, one thread each
(``SttSettings.num_workers`` 2, ``cpu_threads`` 1); a batched server would hand CTranslate2 several turns in one
call, from each worker or from one worker with both threads. Every layout is timed on the same features (the
speech_ko recording, zero-padded as faster-whisper pads a turn), for the default 20 s encoder window and stock's
30 s, on the model ``kocall serve`` loads. Per layout: seconds until all eight turns are encoded (the last
caller's wait for the encoder) and seconds per turn. Pin to two cores:

    taskset -c 0,1 .venv/bin/python bench/stt_encoder.py [--runs 5] [--turns 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import ctranslate2
import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import Settings  # noqa: E402
from stt.audio import decode_audio  # noqa: E402
from stt.model import FRAMES_PER_SECOND, FULL_WINDOW_FRAMES, resolve_model  # noqa: E402

RECORDING = ROOT.parent / "shared" / "data" / "speech_ko" / "leopard_test_ko.wav"


def padded_to(features: np.ndarray, window_s: float) -> np.ndarray:
    """Log-mel frames zero-padded to ``window_s``, as the encoder sees a short turn."""
    frames = round(window_s * FRAMES_PER_SECOND)
    padded = np.zeros((features.shape[0], frames), dtype=np.float32)
    padded[:, : min(frames, features.shape[1])] = features[:, :frames]
    return padded


def timed(encode: Callable[[], None], runs: int) -> float:
    encode()  # warm-up: first-call allocations
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        encode()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def encoder(model: ctranslate2.models.Whisper, features: np.ndarray, batch: int, turns: int,
            workers: int) -> Callable[[], None]:
    """Encode ``turns`` copies of ``features`` in batches of ``batch``, ``workers`` batches at a time."""
    stacked = ctranslate2.StorageView.from_array(np.stack([features] * batch))

    def encode() -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda _: model.encode(stacked), range(-(-turns // batch))))

    return encode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per layout (median)")
    parser.add_argument("--turns", type=int, default=8, help="turns arriving at once (one per call)")
    args = parser.parse_args()
    settings = Settings()
    path = str(resolve_model(settings.stt.model, settings.cache_dir))
    n = args.turns
    print(f"{n} turns at once, median of {args.runs} runs; model {settings.stt.model}, {settings.stt.compute_type}")
    print(f"  {'window':>6s}  {'layout':44s} {'all encoded':>11s} {'per turn':>9s}")
    workers, threads = settings.stt.num_workers, settings.stt.cpu_threads
    served = ctranslate2.models.Whisper(path, device="cpu", compute_type=settings.stt.compute_type,
                                        intra_threads=threads, inter_threads=workers)
    one_worker = ctranslate2.models.Whisper(path, device="cpu", compute_type=settings.stt.compute_type,
                                            intra_threads=workers * threads, inter_threads=1)
    recording = FeatureExtractor()(decode_audio(RECORDING).at_rate(16000).samples)
    for window_s in (settings.stt.encoder_window_s, FULL_WINDOW_FRAMES / FRAMES_PER_SECOND):
        features = padded_to(recording, window_s)
        layouts: dict[str, Callable[[], None]] = {}
        for batch in sorted({b for b in (1, 2, 4, n // workers) if 1 <= b <= n // workers}):
            served_layout = " (served)" if batch == 1 else ""
            layouts[f"{workers} workers x {threads} thread, batches of {batch}{served_layout}"] = encoder(
                served, features, batch, n, workers)
        for batch in (1, n):
            layouts[f"1 worker x {workers * threads} threads, batches of {batch}"] = encoder(
                one_worker, features, batch, n, 1)
        for name, encode in layouts.items():
            seconds = timed(encode, args.runs)
            print(f"  {window_s:5.0f}s  {name:44s} {seconds:10.2f}s {seconds / n:8.3f}s", flush=True)

if __name__ == "__main__":
    main()
