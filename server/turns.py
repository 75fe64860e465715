"""One turn through the stages: STT -> NLU -> dialog -> TTS, the same for every channel.

:class:`Bot` is the text part (understand the caller, let the dialog answer):
``kocall chat``, ``POST /chat`` and the telephone line all go through it, so a
conversation behaves the same typed, posted or spoken, and all three print the
same JSON (:meth:`BotTurn.as_json`). :class:`Pipeline` adds speech on either
side for calls, and records every turn in the turn log and the metrics. Its
methods block (models run in them): the server calls them on its worker pool.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import logging
import math
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import soundfile
from rapidfuzz import fuzz

from core.domain_pack import DomainPack
from core.lexicon import jamo
from core.settings import DialogSettings, NluSettings
from data_tools.calllog.turnlog import TurnLog, TurnRecord
from dialog.backend import load_backend
from dialog.domain import Domain
from dialog.manager import Dialog, Turn
from dialog.sessions import StoreUnavailable, open_store
from nlu.understand import OUT_OF_SCOPE, EmptyText, Understander, Understanding, get_understander, nothing_said
from server.metrics import Metrics
from server.tts import TextToSpeech
from stt.audio import Audio, to_mulaw, to_pcm16
from stt.endpoint import Utterance
from stt.transcribe import Transcriber, Transcript, letters

log = logging.getLogger(__name__)
MAX_PENDING = 10_000  # turns held in memory while the turn log cannot be written
# How alike (rapidfuzz ratio of the letters as they sound, core.lexicon.jamo, 0-100) another reading must be to
# the first to be tried: a reading of the same words (카드 이러버려써 / 카드 잃어버렸어: 92), not a short guess the
# beam also holds (네.: 0).
SAME_WORDS = 60.0


@dataclass(frozen=True)
class BotTurn:
    understood: Understanding
    turn: Turn
    nlu_ms: float
    dialog_ms: float
    reading: int = 0  # which of the recogniser's readings was understood: 0, the first (typed text: always 0)

    def as_json(self) -> dict[str, Any]:
        """The per-turn JSON of ``kocall chat`` and ``POST /chat`` (identifiers masked)."""
        shown = self.understood.shown()
        return {
            "reply": self.turn.reply,
            "text": shown["text"],
            "intent": self.understood.intent,
            "confidence": round(self.understood.confidence, 4),
            "top_k": [[label, round(p, 4)] for label, p in self.understood.top_k],
            "utterance_type": self.understood.utterance_type,
            "entities": shown["entities"],
            "dialog": {"model": self.turn.model, "state": self.turn.state, "slots": self.turn.slots},
            "handoff": self.turn.handoff,
            "end": self.turn.end,
            "latency_ms": {"nlu": round(self.nlu_ms, 2), "dialog": round(self.dialog_ms, 2)},
        }


class Bot:
    """The understander and the dialog of one process."""

    def __init__(self, understander: Understander, dialog: Dialog) -> None:
        self.understander = understander
        self.dialog = dialog

    def turn(self, session_id: str, text: str, readings: Callable[[], Sequence[str]] | None = None) -> BotTurn:
        """One caller utterance in; an empty one (silence, only fillers) is a turn nobody understood.
        ``readings``: as :meth:`read` takes them."""
        start = time.perf_counter()
        understood, reading = self.read(text, readings)
        return self.answer(session_id, understood, reading, (time.perf_counter() - start) * 1000)

    def read(self, text: str, readings: Callable[[], Sequence[str]] | None = None) -> tuple[Understanding, int]:
        """What the caller means, and which reading said it (0: ``text``).

        ``readings``: the recogniser's other readings of a spoken turn, asked for only when ``text`` is out of
        scope; the first of them understood as a request the dialog would act on (in scope, at a
        confidence it does not question) is taken instead.
        """
        understood = self._understand(text)
        if understood.intent == OUT_OF_SCOPE and readings is not None:
            sure = self.dialog.domain.policy.confirm_below
            for n, other in enumerate(readings(), 1):
                candidate = self._understand(other)
                if candidate.intent != OUT_OF_SCOPE and candidate.confidence >= sure:
                    return candidate, n
        return understood, 0

    def answer(self, session_id: str, understood: Understanding, reading: int = 0, nlu_ms: float = 0.0) -> BotTurn:
        """The dialog's answer to an understood turn."""
        start = time.perf_counter()
        turn = self.dialog.respond(session_id, understood, understood.shown()["text"])
        return BotTurn(understood, turn, nlu_ms, (time.perf_counter() - start) * 1000, reading)

    def _understand(self, text: str) -> Understanding:
        try:
            return self.understander.understand(text)
        except EmptyText:
            return nothing_said()


@functools.lru_cache(maxsize=2)
def get_bot(nlu: NluSettings, dialog: DialogSettings, cache_dir: Path, pack: DomainPack) -> Bot:
    """The process-wide bot: models, the pack's domain, the session store and the back-end opened once."""
    store = open_store(dialog.session_store, dialog.session_ttl_s)
    return Bot(get_understander(nlu, cache_dir, pack),
               Dialog(Domain.load(pack.domain), store, load_backend(dialog.backend)))


@dataclass(frozen=True)
class Heard:
    """The first reading of a caller utterance, and the seconds its decode took."""

    transcript: Transcript
    seconds: float


@dataclass(frozen=True)
class VoiceReply:
    turn: dict  # the same JSON as a chat turn, plus the transcript's confidence
    mulaw: bytes | None  # the spoken reply at 8 kHz, when a TTS engine is configured


class Health:
    """Whether a part the bot can answer without is working: ``problem`` says why it last failed (None while
    it works). Turns are answered all the same; /healthz says what is degraded. ``pending``: turns the turn log
    could not take yet, written first once it can (at most ``MAX_PENDING``, the oldest dropped after)."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.pending: collections.deque[TurnRecord] = collections.deque(maxlen=MAX_PENDING)
        self.lock = threading.Lock()  # turns are recorded from the worker threads: one writes the backlog


@dataclass(frozen=True)
class Pipeline:
    """The stages a turn goes through, and where it is recorded."""

    transcriber: Transcriber
    bot: Bot
    tts: TextToSpeech | None
    turn_log: TurnLog
    metrics: Metrics
    audio_dir: Path  # callers' utterances are kept here, one folder per call
    recording: Health = field(default_factory=Health)  # the turn log and callers' audio on disk
    speaking: Health = field(default_factory=Health)  # the TTS engine

    def chat(self, session_id: str, text: str) -> dict:
        """One typed turn -> its JSON, with latencies in milliseconds."""
        start = time.perf_counter()
        turn = self.bot.turn(session_id, text)
        latency = {"nlu": turn.nlu_ms, "dialog": turn.dialog_ms, "total": (time.perf_counter() - start) * 1000}
        shown = turn.as_json()
        self._record("chat", session_id, turn, shown, latency)
        return {"session_id": session_id, **shown, "latency_ms": _rounded(latency)}

    def hear(self, utterance: Utterance) -> Heard:
        """The first reading of a caller utterance (the live path's decode: no word timings, which the dialog
        does not use and which cost ~30% of the STT time; a turn, in which the endpointer found speech)."""
        start = time.perf_counter()
        transcript = self.transcriber.transcribe(utterance.audio, word_timestamps=False, turn=True)
        return Heard(transcript, time.perf_counter() - start)

    def voice(self, call_id: str, utterance: Utterance, ended_at: float, heard: Heard | None = None
              ) -> VoiceReply | None:
        """Transcribe, understand, answer and voice one caller utterance; None if it held no words.

        ``ended_at`` is the ``time.perf_counter()`` at which the end of speech was
        detected, so ``total`` is what the caller waits: end of speech to reply audio.
        ``heard``: the utterance already transcribed (decoded while the endpointer waited out the silence), so
        ``total`` may be less than the stages' sum.
        """
        if heard is None:
            with _stage("stt"):
                heard = self.hear(utterance)
        transcript, stt_ms = heard.transcript, heard.seconds * 1000
        if not transcript.text.strip():
            # A cough, line noise: no turn. Not even when another reading says something: on noise the beam holds
            # 네. and 감사합니다. (docs/speech-recognition.md, "Other readings").
            return None

        def readings() -> list[str]:  # a second decode, only for a turn the first reading left out of scope
            nonlocal stt_ms
            again = time.perf_counter()
            found = self.transcriber.alternatives(utterance.audio, self.transcriber.settings.alternatives)
            stt_ms += (time.perf_counter() - again) * 1000
            return other_readings(transcript.text, found)

        with _stage("dialog"):
            nlu_start, stt_before = time.perf_counter(), stt_ms
            understood, reading = self.bot.read(transcript.text,
                                                readings if self.transcriber.settings.alternatives else None)
            nlu_ms = (time.perf_counter() - nlu_start) * 1000 - (stt_ms - stt_before)
            turn = self.bot.answer(call_id, understood, reading, nlu_ms)
        mulaw, tts_ms = None, 0.0
        if self.tts is not None:
            tts_start = time.perf_counter()
            try:
                mulaw = to_mulaw(self.tts.synthesize(turn.turn.reply))
            except Exception as exc:  # slow or unreachable: the reply is said another way (Call._speak)
                log.warning("TTS failed, the reply goes out without its audio: %s", exc)
                self.metrics.errors.labels("tts", "failed").inc()
                self.speaking.problem = f"the TTS engine {self.tts.name} failed: {exc}"
            else:
                self.speaking.problem = None
            tts_ms = (time.perf_counter() - tts_start) * 1000
        latency = {"stt": stt_ms, "nlu": turn.nlu_ms, "dialog": turn.dialog_ms, "tts": tts_ms,
                   "total": (time.perf_counter() - ended_at) * 1000}
        try:
            audio_path = str(_save_audio(self.audio_dir / _safe(call_id),
                                         f"{round(utterance.start_s * 1000):08d}ms.wav", utterance.audio))
        except (OSError, soundfile.SoundFileError) as exc:  # a full or read-only data folder: answered all the same
            audio_path = None
            self._cannot_record("audio", f"the caller's audio cannot be saved: {exc}")
        confidence, no_speech = _confidence(transcript)
        shown = turn.as_json()
        self._record("phone", call_id, turn, shown, latency, audio=audio_path,
                     sample_rate=utterance.audio.sample_rate, stt_confidence=confidence, no_speech_prob=no_speech)
        shown.update(stt_confidence=confidence, stt_reading=turn.reading, latency_ms=_rounded(latency))
        return VoiceReply(shown, mulaw)

    def _record(self, channel: str, session_id: str, turn: BotTurn, shown: dict, latency: dict[str, float],
                **audio) -> None:
        self.metrics.observe(channel, latency)
        recording, pending = self.recording, self.recording.pending
        record = TurnRecord(
            channel=channel, session_id=session_id, turn=turn.turn.number, transcript=shown["text"],
            intent=shown["intent"], confidence=shown["confidence"], reply=shown["reply"],
            utterance_type=shown["utterance_type"], dialog_model=turn.turn.model, dialog_state=turn.turn.state,
            handoff=(turn.turn.handoff or {}).get("reason"), ended=turn.turn.end, latency_ms=_rounded(latency),
            at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), **audio)
        with recording.lock:
            pending.append(record)
            try:
                while pending:  # the turns a full disk held back first, in order
                    self.turn_log.append(pending[0])
                    pending.popleft()
            except (sqlite3.Error, OSError) as exc:
                self._cannot_record("turn_log", f"the turn log cannot be written ({len(pending)} turns held in "
                                                f"memory until it can): {exc}")
            else:
                recording.problem = None

    def _cannot_record(self, what: str, problem: str) -> None:
        log.warning(problem)
        self.metrics.errors.labels(what, "write_failed").inc()
        self.recording.problem = problem


class TurnFailed(RuntimeError):
    """A stage of a live turn failed (``stage``: stt, session_store, dialog); the cause is chained."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"the turn failed in {stage}")
        self.stage = stage


@contextlib.contextmanager
def _stage(name: str) -> Iterator[None]:
    """Name the stage of whatever fails inside (the session store apart from the dialog around it)."""
    try:
        yield
    except StoreUnavailable as exc:
        raise TurnFailed("session_store") from exc
    except Exception as exc:
        raise TurnFailed(name) from exc


def other_readings(first: str, found: Sequence[str]) -> list[str]:
    """The readings in ``found`` worth trying after ``first``: other words, but a reading of the same speech
    (at least ``SAME_WORDS`` alike), not a short guess the beam also holds."""
    said = letters(first)
    return [r for r in found if letters(r) != said and fuzz.ratio(jamo(letters(r)), jamo(said)) >= SAME_WORDS]


def _confidence(transcript: Transcript) -> tuple[float | None, float | None]:
    """Mean word probability (or exp of the mean log-probability) and the worst no-speech probability."""
    words = [w.probability for s in transcript.segments for w in s.words]
    if words:
        confidence = sum(words) / len(words)
    elif transcript.segments:
        confidence = math.exp(sum(s.avg_logprob for s in transcript.segments) / len(transcript.segments))
    else:
        return None, None
    return round(confidence, 4), round(max(s.no_speech_prob for s in transcript.segments), 4)


def _save_audio(folder: Path, name: str, audio: Audio) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    soundfile.write(path, to_pcm16(audio.samples), audio.sample_rate, subtype="PCM_16")
    return path


def _safe(name: str) -> str:
    """A call id as a folder name: never a path (no separators, no dots first)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80] or "call"


def _rounded(latency: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in latency.items()}
