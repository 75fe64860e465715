"""Decoding caller audio into mono float32 samples, with clear errors for bad input.

Accepted: anything libsndfile reads (WAV at any rate, mono or multi-channel,
8/16/24/32-bit integer or float, G.711 inside WAV, FLAC, OGG, MP3 ...), raw
headerless PCM16 little-endian at a rate the caller states, and raw G.711 mu-law
bytes (8 kHz unless stated) as Twilio sends them. Everything else raises a
subclass of :class:`AudioError` whose message can be shown to a user as is.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from stt import g711
from stt.resample import resample

MODEL_RATE = 16000
TELEPHONE_RATE = 8000


class AudioError(ValueError):
    """Audio that cannot be used; the message says why, in one line."""


class EmptyAudio(AudioError):
    pass


class TruncatedAudio(AudioError):
    pass


class UnsupportedAudio(AudioError):
    pass


class AudioTooLong(AudioError):
    pass


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def at_rate(self, rate: int) -> Audio:
        return Audio(resample(self.samples, self.sample_rate, rate), rate)


def decode_audio(
    source: bytes | str | Path,
    *,
    raw_rate: int | None = None,
    mulaw: bool = False,
    max_seconds: float | None = None,
) -> Audio:
    """Decode a file or its bytes.

    ``raw_rate`` declares headerless PCM16 at that rate; ``mulaw`` declares
    headerless G.711 mu-law (at ``raw_rate`` or 8000 Hz). Without either, the
    container's header decides. ``max_seconds`` refuses longer audio before any
    expensive work is done on it.
    """
    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else bytes(source)
    if not data:
        raise EmptyAudio("the audio is empty (0 bytes)")
    if raw_rate is not None and not 1000 <= raw_rate <= 192000:
        raise UnsupportedAudio(f"sample rate {raw_rate} Hz is outside 1000-192000 Hz")
    if mulaw:
        rate = raw_rate or TELEPHONE_RATE
        _check_length(len(data), rate, max_seconds)
        return Audio(g711.decode(data).astype(np.float32) / 32768.0, rate)
    if raw_rate is not None:
        if len(data) % 2:
            raise TruncatedAudio(f"raw PCM16 needs an even number of bytes; got {len(data)} (truncated?)")
        _check_length(len(data) // 2, raw_rate, max_seconds)
        return Audio(np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0, raw_rate)
    return _decode_container(data, max_seconds)


def _check_length(n_samples: int, rate: int, max_seconds: float | None) -> None:
    """Checked from the header or byte count, before an hour of audio is decoded."""
    if n_samples == 0:
        raise EmptyAudio("the audio holds no samples (zero length)")
    if max_seconds is not None and n_samples / rate > max_seconds:
        raise AudioTooLong(f"the audio lasts {n_samples / rate:.1f} s; the limit is {max_seconds:g} s")


def _decode_container(data: bytes, max_seconds: float | None) -> Audio:
    if data[:4] in (b"RIFF", b"RIFX"):
        _check_wav_complete(data)
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            # Compressed streams may not know their length up front (frames == 0 or huge);
            # then the decoded length is checked below.
            if 0 < f.frames < 2**62:
                _check_length(f.frames, f.samplerate, max_seconds)
            samples, rate = f.read(dtype="float32", always_2d=True), f.samplerate
    except sf.LibsndfileError as exc:
        raise UnsupportedAudio(f"not a readable audio file ({exc.error_string}); "
                               "for headerless audio give its rate (PCM16) or say it is mu-law") from exc
    except (RuntimeError, TypeError) as exc:
        raise UnsupportedAudio(f"not a readable audio file ({exc})") from exc
    _check_length(len(samples), rate, max_seconds)
    return Audio(samples.mean(axis=1, dtype=np.float32), int(rate))


def _check_wav_complete(data: bytes) -> None:
    """libsndfile quietly reads a WAV whose data was cut off; a caller should hear about it."""
    if len(data) < 12 or data[8:12] != b"WAVE":
        raise UnsupportedAudio("RIFF file that is not WAVE audio (or a truncated header)")
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if chunk_id == b"data":
            # 0 and 0xFFFFFFFF mark a WAV written as a stream, whose length was never filled in.
            if size not in (0, 0xFFFFFFFF) and pos + 8 + size > len(data):
                raise TruncatedAudio(
                    f"the WAV file is truncated: its header announces {size} bytes of audio, "
                    f"{len(data) - pos - 8} are there")
            return
        pos += 8 + size + (size & 1)
    raise TruncatedAudio("the WAV file has no audio data chunk (truncated?)")


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16, clipping rather than wrapping around."""
    return (np.clip(samples, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)


def to_mulaw(audio: Audio) -> bytes:
    """Audio at any rate -> 8 kHz G.711 mu-law bytes, as a telephone line carries it."""
    return g711.encode(to_pcm16(audio.at_rate(TELEPHONE_RATE).samples))
