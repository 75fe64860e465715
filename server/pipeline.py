"""The server's shared services, and one turn through them for each channel.

:class:`Services` holds what is loaded once per process: the transcriber, the
bot (NLU + dialog + sessions), the TTS engine, the turn log, the metrics, and
the bounded worker pool that every CPU-heavy step runs on, so the event loop
only moves bytes. :func:`chat_turn` and :func:`voice_turn` are plain blocking
functions meant for that pool; each records its turn in the turn log and the
metrics before returning.
"""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import soundfile

from data_tools.turnlog import TurnLog, TurnRecord
from dialog.bot import Bot, BotTurn, get_bot
from kocall.settings import Settings
from nlu.training import intent_mix
from server.metrics import Metrics
from server.tts import TextToSpeech, open_tts
from stt.audio import Audio, to_mulaw, to_pcm16
from stt.endpoint import Utterance
from stt.transcribe import Transcriber, Transcript, get_transcriber


@dataclass
class Services:
    settings: Settings
    transcriber: Transcriber
    bot: Bot
    tts: TextToSpeech | None
    turn_log: TurnLog
    metrics: Metrics
    pool: ThreadPoolExecutor
    queue: asyncio.Semaphore  # utterances waiting for or in the pool, across calls
    training_mix: dict[str, float]  # intent counts the model was trained on, for drift monitoring
    open_calls: int = 0

    @classmethod
    def load(cls, settings: Settings) -> Services:
        """Load every model (blocking: call it from a worker thread at start-up)."""
        s = settings.server
        return cls(
            settings=settings,
            transcriber=get_transcriber(settings.stt, settings.cache_dir),
            bot=get_bot(settings.nlu, settings.dialog, settings.cache_dir),
            tts=open_tts(s.tts),
            turn_log=TurnLog(s.turn_log or settings.data_dir / "turns.sqlite"),
            metrics=Metrics.create(),
            pool=ThreadPoolExecutor(max_workers=s.workers, thread_name_prefix="kocall-worker"),
            queue=asyncio.Semaphore(s.max_queued_utterances),
            training_mix=intent_mix(),
        )

    async def run(self, fn, *args):
        """Run a blocking step on the worker pool."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.turn_log.close()


@dataclass(frozen=True)
class VoiceReply:
    turn: dict  # the same JSON as a chat turn, plus the transcript's confidence
    mulaw: bytes | None  # the spoken reply at 8 kHz, when a TTS engine is configured


def chat_turn(services: Services, session_id: str, text: str) -> dict:
    start = time.perf_counter()
    turn = services.bot.turn(session_id, text)
    latency = {"nlu": turn.nlu_ms, "dialog": turn.dialog_ms, "total": (time.perf_counter() - start) * 1000}
    shown = turn.as_json()
    _record(services, "chat", session_id, turn, shown, latency)
    return {"session_id": session_id, **shown, "latency_ms": _rounded(latency)}


def voice_turn(services: Services, call_id: str, utterance: Utterance, ended_at: float) -> VoiceReply | None:
    """Transcribe, understand, answer and voice one caller utterance; None if it held no words.

    ``ended_at`` is the ``time.perf_counter()`` at which the end of speech was
    detected, so ``total`` is what the caller waits: end of speech to reply audio.
    """
    start = time.perf_counter()
    # No word timings on the live path: the dialog does not use them and they cost ~30% of the STT time.
    transcript = services.transcriber.transcribe(utterance.audio, word_timestamps=False)
    stt_ms = (time.perf_counter() - start) * 1000
    if not transcript.text.strip():
        return None  # a cough, line noise: no turn
    turn = services.bot.turn(call_id, transcript.text)
    mulaw, tts_ms = None, 0.0
    if services.tts is not None:
        tts_start = time.perf_counter()
        mulaw = to_mulaw(services.tts.synthesize(turn.turn.reply))
        tts_ms = (time.perf_counter() - tts_start) * 1000
    latency = {"stt": stt_ms, "nlu": turn.nlu_ms, "dialog": turn.dialog_ms, "tts": tts_ms,
               "total": (time.perf_counter() - ended_at) * 1000}
    audio_path = _save_audio(services.settings.data_dir / "audio" / _safe(call_id),
                             f"{round(utterance.start_s * 1000):08d}ms.wav", utterance.audio)
    confidence, no_speech = _confidence(transcript)
    shown = turn.as_json()
    _record(services, "phone", call_id, turn, shown, latency, audio=str(audio_path),
            sample_rate=utterance.audio.sample_rate, stt_confidence=confidence, no_speech_prob=no_speech)
    shown.update(stt_confidence=confidence, latency_ms=_rounded(latency))
    return VoiceReply(shown, mulaw)


def _record(services: Services, channel: str, session_id: str, turn: BotTurn, shown: dict,
            latency: dict[str, float], **audio) -> None:
    services.turn_log.append(TurnRecord(
        channel=channel, session_id=session_id, turn=turn.turn.number, transcript=shown["text"],
        intent=shown["intent"], confidence=shown["confidence"], reply=shown["reply"],
        utterance_type=shown["utterance_type"], dialog_model=turn.turn.model, dialog_state=turn.turn.state,
        handoff=(turn.turn.handoff or {}).get("reason"), ended=turn.turn.end, latency_ms=_rounded(latency), **audio))
    services.metrics.observe(channel, latency)


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
