"""Sample-rate conversion: one shared utility for every stage.

soxr (the SoX resampler) is a polyphase windowed-sinc resampler: its "HQ" quality
keeps the pass band flat to about 0.91 of the lower Nyquist frequency and
attenuates the stop band by more than 100 dB, so down-sampling 16 kHz speech to
8 kHz does not alias and up-sampling telephone audio to 16 kHz leaves no images
above 4 kHz. Linear interpolation does neither; ``bench/resample.py`` measures both.
"""

from __future__ import annotations

import numpy as np
import soxr

QUALITY = "HQ"


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample a whole mono float32 signal. Returns the input unchanged if the rates match."""
    samples = np.asarray(samples, dtype=np.float32)
    if from_rate == to_rate:
        return samples
    return soxr.resample(samples, from_rate, to_rate, quality=QUALITY).astype(np.float32, copy=False)


class StreamResampler:
    """Resamples a stream chunk by chunk with the filter state kept between chunks.

    Resampling 20 ms telephone frames one by one with :func:`resample` would restart
    the filter every frame and click at every frame edge; this keeps its history.
    Holds state, so one instance per audio stream.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream = soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32", quality=QUALITY)

    def process(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        """Feed the next chunk; ``last=True`` flushes the filter's delay line."""
        return self._stream.resample_chunk(np.asarray(samples, dtype=np.float32), last=last)
