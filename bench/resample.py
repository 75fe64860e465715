"""Resampler benchmark: throughput per core and stop-band behaviour, soxr vs linear interpolation; how much
audio a 20 ms-frame stream holds back, soxr's stream against the live path's (``StreamResampler``).

    taskset -c 0 .venv/bin/python bench/resample.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stt.resample import StreamResampler, resample  # noqa: E402


def linear(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    n = int(len(x) * dst / src)
    return np.interp(np.arange(n) * src / dst, np.arange(len(x)), x).astype(np.float32)


def rms_db(y: np.ndarray, x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(y**2)) / np.sqrt(np.mean(x**2)) + 1e-30)


def band_db(x: np.ndarray, rate: int, lo: float, hi: float) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return 10 * np.log10(spectrum[(freqs >= lo) & (freqs < hi)].sum() / spectrum.sum() + 1e-30)


def throughput(fn, seconds_of_audio: float, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return seconds_of_audio / statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(0)
    minute16 = (0.1 * rng.standard_normal(16000 * 60)).astype(np.float32)
    minute8 = resample(minute16, 16000, 8000)
    print("throughput (x real time, one process; run under taskset -c 0 for one core):")
    for name, fn in [
        ("16k -> 8k  soxr HQ", lambda: resample(minute16, 16000, 8000)),
        ("8k -> 16k  soxr HQ", lambda: resample(minute8, 8000, 16000)),
        ("44.1k -> 16k soxr HQ", lambda: resample(resample(minute16, 16000, 44100), 44100, 16000)),
    ]:
        print(f"  {name:24s} {throughput(fn, 60):10.0f}x")

    def stream_frames(stream) -> None:
        for i in range(0, len(minute8), 160):
            stream.process(minute8[i:i + 160])
    live = throughput(lambda: stream_frames(StreamResampler(8000, 16000)), 60)
    print(f"  {'8k -> 16k 20 ms frames':24s} {live:10.0f}x  (soxr HQ stream "
          f"{throughput(lambda: stream_frames(SoxrStream()), 60):.0f}x)")
    print(f"  {'16k -> 8k linear interp':24s} {throughput(lambda: linear(minute16, 16000, 8000), 60):10.0f}x")

    t = np.arange(16000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 5000 * t)).astype(np.float32)
    print("\nstop band: 5 kHz tone, 16 kHz -> 8 kHz (must vanish: above the new 4 kHz Nyquist)")
    print(f"  soxr HQ        {rms_db(resample(tone, 16000, 8000)[200:-200], tone):8.1f} dB")
    print(f"  linear interp  {rms_db(linear(tone, 16000, 8000), tone):8.1f} dB  (aliases to 3 kHz)")
    noise8 = minute8[: 8000 * 5]
    print("\nimages: band-limited telephone noise, 8 kHz -> 16 kHz, energy in 4.2-8 kHz")
    print(f"  soxr HQ        {band_db(resample(noise8, 8000, 16000), 16000, 4200, 8000):8.1f} dB")
    print(f"  linear interp  {band_db(linear(noise8, 8000, 16000), 16000, 4200, 8000):8.1f} dB")
    streamed = np.concatenate(held_back(StreamResampler(8000, 16000), noise8)[1])
    print(f"  live stream    {band_db(streamed, 16000, 4000, 8000):8.1f} dB  (4-8 kHz)")

    print("\naudio held back, 8 kHz -> 16 kHz in 20 ms frames (what every endpointing decision waits for):")
    for name, stream in (("soxr HQ stream", SoxrStream()), ("live stream", StreamResampler(8000, 16000))):
        late, _ = held_back(stream, noise8)
        print(f"  {name:14s} mean {statistics.mean(late):5.1f} ms   max {max(late):5.1f} ms")


class SoxrStream:
    """soxr's own stream at "HQ": keeps the filter history, but returns its output in blocks."""

    def __init__(self) -> None:
        self._stream = soxr.ResampleStream(8000, 16000, 1, dtype="float32", quality="HQ")

    def process(self, samples: np.ndarray) -> np.ndarray:
        return self._stream.resample_chunk(samples)


def held_back(stream, telephone: np.ndarray) -> tuple[list[float], list[np.ndarray]]:
    """Per 20 ms frame fed, the milliseconds of audio given that have not come out yet; and the output."""
    late, out, given, returned = [], [], 0, 0
    for i in range(0, len(telephone) - 159, 160):
        out.append(stream.process(telephone[i:i + 160]))
        given, returned = given + 320, returned + len(out[-1])
        late.append((given - returned) / 16)
    return late, out


if __name__ == "__main__":
    main()
