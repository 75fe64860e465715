"""Turning recordings into items to label: decode, pre-transcribe, suggest intents, score uncertainty.

Sources are audio files (any format :func:`stt.audio.decode_audio` reads, at
their own rate: 8 kHz calls stay 8 kHz), uploads, and the phone turns of the
turn log. The caller passes the already-loaded transcriber and understander (the
server's, or the CLI's), so no model is loaded here.

How uncertain an item is decides where it comes in the queue
(:attr:`data_tools.labeling.store.NewItem.priority`): low STT confidence (mean word
probability), low NLU confidence (the least sure segment), and disagreement: how
close the top two intents are, and for a phone turn how far the live call's
transcript and intent are from the re-run's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from data_tools.calllog.turnlog import TurnRecord
from data_tools.evaluation.metrics import cer
from data_tools.labeling.label_studio import Task
from data_tools.labeling.store import LabelError, NewItem, Segment, check_label
from nlu.understand import EmptyText
from stt.audio import Audio, decode_audio

if TYPE_CHECKING:
    from nlu.understand import Understander, Understanding
    from stt.transcribe import Transcriber, Transcript

# What a folder walk picks up; a file named explicitly is tried whatever its name.
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".au", ".aiff", ".aif", ".caf", ".w64"}


def content_ref(data: bytes) -> str:
    """The same recording imported twice (under any name, from any source) is one item."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def audio_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and folders walked recursively for audio by extension."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES))
        else:
            found.append(path)
    return found


@dataclass(frozen=True)
class Prediction:
    """The machine's label of a recording and how unsure it is (each score 0-1)."""

    segments: tuple[Segment, ...]
    stt_confidence: float
    nlu_confidence: float
    disagreement: float

    def item_fields(self) -> dict:
        """As keyword arguments of :class:`NewItem`."""
        return {"segments": self.segments, "stt_confidence": self.stt_confidence,
                "nlu_confidence": self.nlu_confidence, "disagreement": self.disagreement}


def predict(audio: Audio, transcriber: Transcriber, understander: Understander,
            live: tuple[str, str] | None = None) -> Prediction:
    """The machine's label for ``audio``: segments with suggestions, and the three uncertainty scores.

    ``live`` is the (transcript, intent) a live call produced for the same
    audio; a difference from this re-run is disagreement worth a human's ear.
    """
    if audio.duration_s <= 0:
        raise LabelError("the audio has no samples")
    transcript = transcriber.transcribe(audio)
    understood = _segments(transcript, understander)
    segments = tuple(s for s, _ in understood)
    confidences = [s.suggested_confidence or 0.0 for s in segments]
    disagreement = max((_ambiguity(u) for _, u in understood if u), default=0.0)
    if live is not None:
        text, intent = live
        whole = _understand(understander)(transcript.text)
        disagreement = max(disagreement, float(whole is not None and whole.intent != intent),
                           _cer_or_one(text, transcript.text))
    return Prediction(segments, _stt_confidence(transcript), round(min(confidences, default=0.0), 4),
                      round(disagreement, 4))


def from_file(path: Path, transcriber: Transcriber, understander: Understander, max_seconds: float) -> NewItem:
    """One audio file, referenced where it lies. Raises AudioError (not audio, truncated ...) or OSError."""
    path = Path(path).resolve()
    data = path.read_bytes()
    audio = decode_audio(data, max_seconds=max_seconds)
    recorded = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).isoformat(timespec="seconds")
    return NewItem(audio=str(path), sample_rate=audio.sample_rate, duration_s=round(audio.duration_s, 3),
                   source="file", source_ref=content_ref(data), recorded_at=recorded,
                   metadata={"name": path.name}, **predict(audio, transcriber, understander).item_fields())


def keep_upload(data: bytes, name: str, folder: Path) -> Path:
    """Write an uploaded recording under ``folder`` by its content hash; the client's name never becomes a path."""
    suffix = Path(name).suffix.lower()
    path = Path(folder) / (hashlib.sha256(data).hexdigest() + (suffix if suffix in AUDIO_SUFFIXES else ".audio"))
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        partial = path.with_suffix(path.suffix + ".part")
        partial.write_bytes(data)
        partial.replace(path)
    return path.resolve()


def from_upload(data: bytes, name: str, audio: Audio, folder: Path, transcriber: Transcriber,
                understander: Understander) -> NewItem:
    """An uploaded recording, already decoded (so a bad one is refused before anything is written)."""
    path = keep_upload(data, name, folder)
    return NewItem(audio=str(path), sample_rate=audio.sample_rate, duration_s=round(audio.duration_s, 3),
                   source="file", source_ref=content_ref(data),
                   recorded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                   metadata={"name": Path(name).name[:200]}, **predict(audio, transcriber, understander).item_fields())


def from_task(task: Task, transcriber: Transcriber, understander: Understander, max_seconds: float) -> NewItem:
    """A Label Studio task: pre-transcribed like any file, and labeled already if it carries an annotation."""
    item = from_file(task.audio, transcriber, understander, max_seconds)
    item = replace(item, source="labelstudio", metadata={**item.metadata, "labelstudio_id": task.task_id})
    if task.segments is None:
        return item
    try:
        segments, flags = check_label(task.segments, task.flags, "labeled", item.duration_s)
    except LabelError as exc:
        raise LabelError(f"task {task.number}: {exc}") from exc
    understand = _understand(understander)
    suggested = []
    for s in segments:
        understood = understand(s.text)
        suggested.append(replace(s, suggested_intent=understood.intent if understood else None,
                                 suggested_confidence=round(understood.confidence, 4) if understood else None))
    return replace(item, segments=tuple(suggested), flags=flags, status="labeled",
                   labeler=task.labeler or "labelstudio")


def from_turns(turns: Iterable[TurnRecord], known: Callable[[str], bool], transcriber: Transcriber,
               understander: Understander, max_seconds: float) -> Iterator[NewItem | str]:
    """New phone turns with audio (all of a log's, or monitoring's pick), as items.

    A turn whose audio cannot be used is yielded as a message instead.
    """
    for turn in turns:
        ref = f"turn:{turn.id}"
        if not turn.audio or known(ref):
            continue
        try:
            audio = decode_audio(turn.audio, max_seconds=max_seconds)
        except (OSError, ValueError) as exc:
            yield f"turn {turn.id} ({turn.audio}): {exc}"
            continue
        yield NewItem(audio=str(Path(turn.audio).resolve()), sample_rate=audio.sample_rate,
                      duration_s=round(audio.duration_s, 3), source="turn", source_ref=ref, recorded_at=turn.at,
                      metadata={"session_id": turn.session_id, "turn": turn.turn, "live_transcript": turn.transcript,
                                "live_intent": turn.intent, "live_confidence": turn.confidence},
                      **predict(audio, transcriber, understander, live=(turn.transcript, turn.intent)).item_fields())


def _segments(transcript: Transcript, understander: Understander) -> list[tuple[Segment, Understanding | None]]:
    """Whisper's segments, tightened to their words, clipped to the audio and to each other, and understood."""
    understand = _understand(understander)
    segments, previous_end = [], 0.0
    for seg in transcript.segments:
        start, end = (seg.words[0].start, seg.words[-1].end) if seg.words else (seg.start, seg.end)
        start, end = max(start, previous_end), min(end, transcript.duration_s)
        if end - start < 0.01:
            continue
        words = [w.probability for w in seg.words]
        understood = understand(seg.text)
        segments.append((Segment(
            start=round(start, 3), end=round(end, 3), text=seg.text,
            suggested_intent=understood.intent if understood else None,
            suggested_confidence=round(understood.confidence, 4) if understood else None,
            stt_confidence=round(sum(words) / len(words), 4) if words else None), understood))
        previous_end = end
    if not segments:  # nothing heard: one empty segment over the whole file, for the labeler to fill or flag
        segments.append((Segment(0.0, round(transcript.duration_s, 3), ""), None))
    return segments


def _understand(understander: Understander) -> Callable[[str], Understanding | None]:
    def understand(text: str) -> Understanding | None:
        try:
            return understander.understand(text)
        except EmptyText:
            return None
    return understand


def _ambiguity(understood: Understanding) -> float:
    """1 - the margin between the top two intents: 1 when the model cannot tell them apart."""
    scores = [score for _, score in understood.top_k] + [0.0, 0.0]
    return max(0.0, 1.0 - (scores[0] - scores[1]))


def _stt_confidence(transcript: Transcript) -> float:
    words = [w.probability for s in transcript.segments for w in s.words]
    return round(sum(words) / len(words), 4) if words else 0.0


def _cer_or_one(reference: str, hypothesis: str) -> float:
    try:
        return min(1.0, cer(reference, hypothesis))
    except ValueError:  # empty reference
        return 0.0 if not hypothesis.strip() else 1.0
