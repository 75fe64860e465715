"""Streaming endpointing for telephone calls: 20 ms frames in, utterances out.

A caller's audio arrives as 20 ms G.711 mu-law frames at 8 kHz. :class:`Endpointer`
decodes and resamples them to 16 kHz (keeping the resampler's state across
frames), scores every 32 ms with the streaming Silero VAD, and emits

* :class:`SpeechStarted` as soon as speech has lasted ``start_ms`` (a bot that is
  talking should stop: barge-in): a run that begins at a chunk over
  ``speech_threshold`` and stays over ``silence_threshold``,
* :class:`SpeechPaused` once the caller has been silent for ``KEEP_SILENCE_MS``:
  the utterance that ends if the silence lasts, whose audio is then final (an
  utterance keeps that much of its trailing silence), so a server may start
  transcribing it while the endpointer waits out the rest of ``end_silence_ms``,
* :class:`Utterance` once the caller has been silent for ``end_silence_ms``, or
  when the utterance reaches ``max_utterance_s``.

:class:`LiveRecognizer` adds the transcript to each utterance. It transcribes in
the calling thread, so an async server should hand the :class:`Endpointer`'s
utterances to a worker pool instead of using it on the event loop.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from core.settings import EndpointSettings
from stt import g711
from stt.audio import MODEL_RATE, TELEPHONE_RATE, Audio
from stt.resample import StreamResampler
from stt.transcribe import Transcriber, Transcript
from stt.vad import CHUNK, CHUNK_MS, StreamingVad

KEEP_SILENCE_MS = 200  # trailing silence an utterance keeps: word endings fade out slowly
_KEEP_CHUNKS = KEEP_SILENCE_MS // CHUNK_MS


@dataclass(frozen=True)
class SpeechStarted:
    """The caller started talking, ``at_s`` seconds into the stream."""

    at_s: float


@dataclass(frozen=True)
class Utterance:
    """One turn of the caller at 16 kHz; ``start_s``/``end_s`` are stream times of the speech."""

    audio: Audio
    start_s: float
    end_s: float
    cut_at_max_length: bool
    transcript: Transcript | None = None


@dataclass(frozen=True)
class SpeechPaused:
    """The caller has paused: ``utterance`` is the one emitted if the pause reaches ``end_silence_ms``."""

    utterance: Utterance


Event = SpeechStarted | SpeechPaused | Utterance


class Endpointer:
    """Finds where each caller utterance starts and ends; one instance per call."""

    def __init__(self, settings: EndpointSettings, input_rate: int = TELEPHONE_RATE) -> None:
        self.settings = settings
        self._resampler = StreamResampler(input_rate, MODEL_RATE) if input_rate != MODEL_RATE else None
        self._vad = StreamingVad()
        self._pending = np.zeros(0, dtype=np.float32)
        self._chunks_seen = 0
        self._preroll: deque[np.ndarray] = deque(maxlen=(settings.preroll_ms + settings.start_ms) // CHUNK_MS + 1)
        self._speech: list[np.ndarray] = []  # chunks of the utterance in progress
        self._in_speech = False
        self._voiced_run = 0  # consecutive speech chunks while idle
        self._silent_run = 0  # consecutive silent chunks while in speech
        self._start_chunk = 0

    def feed_mulaw(self, frame: bytes) -> list[Event]:
        """One telephone frame (any length; Twilio sends 160 bytes = 20 ms)."""
        return self.feed(g711.decode(frame).astype(np.float32) / 32768.0)

    def feed(self, samples: np.ndarray) -> list[Event]:
        """Samples at the input rate, float32 in [-1, 1]."""
        if self._resampler is not None:
            samples = self._resampler.process(samples)
        self._pending = np.concatenate([self._pending, samples])
        events: list[Event] = []
        while len(self._pending) >= CHUNK:
            chunk, self._pending = self._pending[:CHUNK], self._pending[CHUNK:]
            event = self._step(chunk, self._vad.score(chunk))
            if event is not None:
                events.append(event)
            self._chunks_seen += 1
        return events

    def flush(self) -> list[Event]:
        """End of the stream (the caller hung up): the utterance in progress, if long enough."""
        utterance = self._finish(cut=False) if self._in_speech else None
        return [utterance] if utterance is not None else []

    def _step(self, chunk: np.ndarray, prob: float) -> Event | None:
        s = self.settings
        if not self._in_speech:
            self._preroll.append(chunk)
            # A run of speech begins at a chunk over the speech threshold and goes on while chunks stay over the
            # silence threshold, as Silero's own segmentation does: on telephone audio speech scores hover about
            # 0.5, and a run that had to stay over 0.5 began so late in a one-word reply that it was dropped as
            # too short (tests/test_endpoint.py).
            voiced = prob >= (s.silence_threshold if self._voiced_run else s.speech_threshold)
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            if self._voiced_run * CHUNK_MS < s.start_ms:
                return None
            self._in_speech = True
            self._silent_run = 0
            self._start_chunk = self._chunks_seen - self._voiced_run + 1
            self._speech = list(self._preroll)
            self._preroll.clear()
            return SpeechStarted(at_s=round(self._start_chunk * CHUNK_MS / 1000, 3))

        self._speech.append(chunk)
        self._silent_run = self._silent_run + 1 if prob < s.silence_threshold else 0
        if self._silent_run * CHUNK_MS >= s.end_silence_ms:
            return self._finish(cut=False)
        if len(self._speech) * CHUNK_MS >= s.max_utterance_s * 1000:
            return self._finish(cut=True)
        if self._silent_run == _KEEP_CHUNKS:
            utterance = self._utterance(cut=False)
            return SpeechPaused(utterance) if utterance is not None else None
        return None

    def _finish(self, cut: bool) -> Utterance | None:
        utterance = self._utterance(cut)
        self._in_speech = cut  # a cut utterance goes on as the next one
        self._speech, self._silent_run, self._voiced_run = [], 0, 0
        self._start_chunk = self._chunks_seen + 1
        return utterance

    def _utterance(self, cut: bool) -> Utterance | None:
        """The utterance in progress as it ends now; None if too short to be speech."""
        trailing = max(0, self._silent_run - _KEEP_CHUNKS)
        chunks = self._speech[: len(self._speech) - trailing]
        start_chunk, end_chunk = self._start_chunk, self._chunks_seen + 1 - self._silent_run
        if (end_chunk - start_chunk) * CHUNK_MS < self.settings.min_utterance_ms:
            return None
        return Utterance(
            audio=Audio(np.concatenate(chunks), MODEL_RATE),
            start_s=round(start_chunk * CHUNK_MS / 1000, 3),
            end_s=round(end_chunk * CHUNK_MS / 1000, 3),
            cut_at_max_length=cut,
        )


class LiveRecognizer:
    """An :class:`Endpointer` whose utterances come back transcribed (its pauses are not passed on)."""

    def __init__(self, endpointer: Endpointer, transcriber: Transcriber) -> None:
        self.endpointer = endpointer
        self.transcriber = transcriber

    def feed_mulaw(self, frame: bytes) -> list[Event]:
        return [self._transcribed(e) for e in self.endpointer.feed_mulaw(frame) if not isinstance(e, SpeechPaused)]

    def flush(self) -> list[Event]:
        return [self._transcribed(e) for e in self.endpointer.flush()]

    def _transcribed(self, event: Event) -> Event:
        if isinstance(event, Utterance):
            return replace(event, transcript=self.transcriber.transcribe(event.audio))
        return event
