import io

import numpy as np
import pytest
import soundfile as sf

from stt.audio import (
    AudioTooLong, EmptyAudio, TruncatedAudio, UnsupportedAudio, decode_audio, to_mulaw, to_pcm16,
)

from .conftest import LEOPARD


def wav_bytes(samples: np.ndarray, rate: int, subtype: str, fmt: str = "WAV") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, subtype=subtype, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "ULAW"])
def test_wav_sample_formats_decode_to_the_same_speech(leopard, subtype):
    audio = decode_audio(wav_bytes(leopard.samples, 16000, subtype))
    assert audio.sample_rate == 16000
    assert len(audio.samples) == len(leopard.samples)
    tolerance = {"PCM_U8": 0.02, "ULAW": 0.02}.get(subtype, 1e-3)
    assert np.max(np.abs(audio.samples - leopard.samples)) < tolerance * 10
    assert np.sqrt(np.mean((audio.samples - leopard.samples) ** 2)) < tolerance


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])
def test_any_sample_rate_is_kept_and_reported(leopard, rate):
    resampled = leopard.at_rate(rate)
    audio = decode_audio(wav_bytes(resampled.samples, rate, "PCM_16"))
    assert audio.sample_rate == rate
    assert audio.duration_s == pytest.approx(leopard.duration_s, abs=0.01)


def test_stereo_is_mixed_to_mono(leopard):
    stereo = np.stack([leopard.samples, np.zeros_like(leopard.samples)], axis=1)
    audio = decode_audio(wav_bytes(stereo, 16000, "FLOAT"))
    np.testing.assert_allclose(audio.samples, leopard.samples / 2, atol=1e-6)


def test_other_containers_are_read_by_libsndfile(leopard):
    audio = decode_audio(wav_bytes(leopard.samples, 16000, "PCM_16", fmt="FLAC"))
    assert audio.duration_s == pytest.approx(leopard.duration_s, abs=0.001)


def test_raw_pcm16_needs_its_rate(leopard):
    raw = to_pcm16(leopard.samples).tobytes()
    audio = decode_audio(raw, raw_rate=16000)
    assert audio.duration_s == pytest.approx(leopard.duration_s)
    assert np.max(np.abs(audio.samples - leopard.samples)) < 1e-4


def test_raw_mulaw_is_telephone_audio_at_8khz(leopard):
    mulaw = to_mulaw(leopard)
    assert len(mulaw) == pytest.approx(leopard.duration_s * 8000, abs=2)
    audio = decode_audio(mulaw, mulaw=True)
    assert audio.sample_rate == 8000
    assert audio.duration_s == pytest.approx(leopard.duration_s, abs=0.001)


def test_a_path_is_read_like_its_bytes(leopard):
    np.testing.assert_array_equal(decode_audio(LEOPARD).samples, decode_audio(LEOPARD.read_bytes()).samples)


def test_truncated_wav_is_reported_not_silently_shortened():
    data = LEOPARD.read_bytes()
    with pytest.raises(TruncatedAudio, match="truncated"):
        decode_audio(data[: len(data) // 2])


def test_header_only_wav_is_truncated():
    with pytest.raises(TruncatedAudio):
        decode_audio(LEOPARD.read_bytes()[:44])


def test_wav_with_zero_samples_is_empty():
    with pytest.raises(EmptyAudio, match="zero length"):
        decode_audio(wav_bytes(np.zeros(0, dtype=np.float32), 16000, "PCM_16"))


def test_zero_bytes_are_empty():
    with pytest.raises(EmptyAudio):
        decode_audio(b"")


@pytest.mark.parametrize("data", [
    "이것은 오디오가 아닙니다".encode() * 20,
    b"%PDF-1.7\n" + bytes(range(256)) * 8,
    b"RIFF\x24\x00\x00\x00AVI LIST",
])
def test_non_audio_bytes_are_unsupported(data):
    with pytest.raises(UnsupportedAudio):
        decode_audio(data)


def test_odd_length_raw_pcm16_is_truncated():
    with pytest.raises(TruncatedAudio):
        decode_audio(b"\x00\x01\x02", raw_rate=8000)


@pytest.mark.parametrize("rate", [0, 500, 400000])
def test_implausible_raw_rates_are_refused(rate):
    with pytest.raises(UnsupportedAudio, match="sample rate"):
        decode_audio(b"\x00\x00" * 100, raw_rate=rate)


def test_audio_over_the_limit_is_refused():
    with pytest.raises(AudioTooLong, match="limit is 2 s"):
        decode_audio(LEOPARD, max_seconds=2)


def test_an_hour_long_call_is_refused_from_its_size_alone():
    hour_and_a_second = bytes([0xFF]) * (8000 * 3601)  # mu-law silence
    with pytest.raises(AudioTooLong, match="3601.0 s"):
        decode_audio(hour_and_a_second, mulaw=True, max_seconds=3600)
