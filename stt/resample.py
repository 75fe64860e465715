"""Sample-rate conversion: one shared utility for every stage.

soxr (the SoX resampler) is a polyphase windowed-sinc resampler: its "HQ" quality
keeps the pass band flat to about 0.91 of the lower Nyquist frequency and
attenuates the stop band by more than 100 dB, so down-sampling 16 kHz speech to
8 kHz does not alias and up-sampling telephone audio to 16 kHz leaves no images
above 4 kHz. Linear interpolation does neither; ``bench/resample.py`` measures both.
A live call's 20 ms frames are up-sampled by :class:`StreamResampler` instead, which
returns each frame as soon as it is given.
"""

from __future__ import annotations

import functools

import numpy as np
import soxr
from scipy import signal

QUALITY = "HQ"
PASS_BAND = 0.913  # of the lower Nyquist frequency, flat, as soxr's HQ
STOP_BAND_DB = 100.0


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample a whole mono float32 signal. Returns the input unchanged if the rates match."""
    samples = np.asarray(samples, dtype=np.float32)
    if from_rate == to_rate:
        return samples
    return soxr.resample(samples, from_rate, to_rate, quality=QUALITY).astype(np.float32, copy=False)


class StreamResampler:
    """Up-samples a stream by a whole factor frame by frame, with the filter's history kept between frames.

    Resampling 20 ms telephone frames one by one with :func:`resample` would restart the filter every frame
    and click at every frame edge. soxr's own stream keeps the history but hands its output back in blocks:
    at "HQ", 8 kHz -> 16 kHz, nothing for five 20 ms frames and then 104 ms at once, 64 ms held back on average
    and up to 115 ms, and every endpointing decision (barge-in, the pause, the end of a turn) waited for it
    (``bench/resample.py``). This is a linear-phase windowed-sinc (Kaiser) interpolator with soxr's "HQ"
    bands: flat to 0.913 of the input's Nyquist frequency, 100 dB down from that frequency on. Every frame
    comes back whole, ``delay_s`` (9 ms at 8 -> 16 kHz) late; the first frame is that much shorter, so that
    output sample times are input times. Holds state, so one instance per audio stream.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        if to_rate % from_rate:
            raise ValueError(f"a stream is up-sampled by a whole factor; {from_rate} -> {to_rate} Hz is not one")
        self.from_rate, self.to_rate = from_rate, to_rate
        self._up = to_rate // from_rate
        taps, self._delay = _interpolation_filter(from_rate, self._up)
        # Polyphase: output sample n * up + p is the input convolved with every up-th tap from p.
        self._phases = taps.reshape(-1, self._up).T.copy()
        self._history = np.zeros(self._phases.shape[1] - 1, dtype=np.float32)
        self._to_skip = self._delay  # output samples still to drop

    @property
    def delay_s(self) -> float:
        """How much later than its input an output sample is returned, in seconds."""
        return self._delay / self.to_rate

    def process(self, samples: np.ndarray) -> np.ndarray:
        """The next ``up * len(samples)`` output samples (the first call's fewer by the delay)."""
        samples = np.asarray(samples, dtype=np.float32)
        if not len(samples):
            return samples
        padded = np.concatenate([self._history, samples])
        self._history = padded[len(padded) - len(self._history):]
        out = np.empty((len(samples), self._up), dtype=np.float32)
        for p, phase in enumerate(self._phases):
            out[:, p] = np.convolve(padded, phase, mode="valid")
        skip = min(self._to_skip, out.size)
        self._to_skip -= skip
        return out.reshape(-1)[skip:]


@functools.lru_cache(maxsize=4)
def _interpolation_filter(from_rate: int, up: int) -> tuple[np.ndarray, int]:
    """Kaiser-windowed sinc taps at the output rate, zero-padded to a multiple of ``up``, with a gain of
    ``up`` (the zeros between input samples carry no energy); and their delay in output samples."""
    nyquist = from_rate / 2
    count, beta = signal.kaiserord(STOP_BAND_DB, width=(1 - PASS_BAND) / up)
    count += 1 - count % 2  # odd: the delay is a whole sample
    cutoff = (1 + PASS_BAND) / 2 * nyquist  # halfway: the stop band begins at the input's Nyquist frequency
    taps = signal.firwin(count, cutoff, window=("kaiser", beta), fs=2 * up * nyquist) * up
    return np.pad(taps, (0, -count % up)).astype(np.float32), (count - 1) // 2
