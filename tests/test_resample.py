"""The resampler must be a real anti-aliasing filter; linear interpolation fails these same checks."""

import numpy as np
import pytest

from stt.resample import StreamResampler, resample


def tone(freq: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def band_energy_db(x: np.ndarray, rate: int, lo: float, hi: float) -> float:
    """Energy in [lo, hi) Hz relative to the whole signal, in dB (Hann window)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return 10 * np.log10(spectrum[(freqs >= lo) & (freqs < hi)].sum() / spectrum.sum() + 1e-30)


def rms_db_of(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-30)


def linear(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    n = int(len(x) * dst / src)
    return np.interp(np.arange(n) * src / dst, np.arange(len(x)), x).astype(np.float32)


def test_a_tone_above_the_new_nyquist_is_suppressed_by_80_db():
    x = tone(5000, 16000)  # above 4 kHz: cannot exist at 8 kHz
    y = resample(x, 16000, 8000)
    rms_ratio_db = 20 * np.log10(np.sqrt(np.mean(y[200:-200] ** 2)) / np.sqrt(np.mean(x**2)))
    assert rms_ratio_db < -80
    linear_db = 20 * np.log10(np.sqrt(np.mean(linear(x, 16000, 8000) ** 2)) / np.sqrt(np.mean(x**2)))
    assert linear_db > -10  # interpolation folds it down to 3 kHz almost untouched


def test_upsampled_telephone_audio_has_no_images_above_4khz():
    rng = np.random.default_rng(0)
    noise = resample(rng.standard_normal(8000 * 2).astype(np.float32) * 0.1, 16000, 8000)  # band-limited
    up = resample(noise, 8000, 16000)
    assert band_energy_db(up, 16000, 4200, 8000) < -80
    assert band_energy_db(linear(noise, 8000, 16000), 16000, 4200, 8000) > -40


def test_speech_band_passes_unchanged():
    x = tone(1000, 16000)
    y = resample(resample(x, 16000, 8000), 8000, 16000)
    assert np.sqrt(np.mean(y[400:-400] ** 2)) == pytest.approx(np.sqrt(np.mean(x[400:-400] ** 2)), rel=0.01)


def test_equal_rates_are_a_no_op():
    x = tone(440, 16000)
    assert np.array_equal(resample(x, 16000, 16000), x)


def streamed(telephone: np.ndarray) -> tuple[list[np.ndarray], StreamResampler]:
    stream = StreamResampler(8000, 16000)
    return [stream.process(telephone[i:i + 160]) for i in range(0, len(telephone), 160)], stream


def test_streaming_20ms_frames_matches_whole_signal_resampling(leopard):
    telephone = leopard.at_rate(8000).samples
    frames, _ = streamed(telephone)
    stream, whole = np.concatenate(frames), resample(telephone, 8000, 16000)
    assert len(whole) - len(stream) < 0.01 * 16000  # only the filter's delay is still inside it
    difference = stream - whole[: len(stream)]  # sample for sample: output times are input times
    assert rms_db_of(difference) - rms_db_of(whole) < -40


def test_every_20ms_frame_comes_back_at_once_not_in_blocks(leopard):
    frames, stream = streamed(leopard.at_rate(8000).samples)
    assert stream.delay_s < 0.01
    assert len(frames[0]) == 320 - round(stream.delay_s * 16000)
    assert {len(f) for f in frames[1:-1]} == {320}


def test_frames_of_any_length_give_the_same_stream(leopard):
    telephone = leopard.at_rate(8000).samples
    frames, _ = streamed(telephone)
    stream, rng, odd, at = StreamResampler(8000, 16000), np.random.default_rng(2), [], 0
    while at < len(telephone):  # empty frames and frames of 1 to 400 samples, shorter than the filter too
        n = int(rng.choice([0, 1, 7, 80, 400]))
        odd.append(stream.process(telephone[at:at + n]))
        at += n
    assert np.allclose(np.concatenate(odd), np.concatenate(frames), atol=1e-6)


def test_the_stream_leaves_no_images_above_4khz():
    rng = np.random.default_rng(1)
    noise = resample(rng.standard_normal(8000 * 2).astype(np.float32) * 0.1, 16000, 8000)
    frames, _ = streamed(noise)
    assert band_energy_db(np.concatenate(frames), 16000, 4000, 8000) < -80


def test_a_stream_is_up_sampled_by_a_whole_factor_only():
    with pytest.raises(ValueError, match="whole factor"):
        StreamResampler(16000, 8000)
