"""Reading a timestamped evaluation manifest (JSONL), with every bad line reported by number.

Two forms of line are accepted, and both become a :class:`ManifestItem` with one or
more reference :class:`RefSegment` s (times in seconds from the start of the file):

- segmented, as the labeling tool exports it::

    {"audio": "call.wav", "sample_rate": 8000, "labeler": "kim",
     "segments": [{"start": 0.52, "end": 2.1, "text": "카드 잃어버렸어요", "intent": "lost_card"}]}

- whole-file, as in ``../shared/data/speech_ko/manifest.jsonl``: ``text`` (may be
  null: no transcript) with optional word timestamps ``words``, and optional
  ``intent``. The words' first start and last end give the segment's times; without
  words the segment is the whole file and is left out of timestamp scoring.

Audio paths are relative to the manifest's folder unless absolute. Keys this module
does not interpret (speaker, labeler, channel ...) are kept as ``metadata`` so that
results can be broken down by them. A line that cannot be used raises
:class:`ManifestError`, which the evaluation reports with the line number and
goes on: a manifest of ten thousand calls should not be lost to one typo.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

# Keys with a meaning here; every other top-level key is metadata.
_KNOWN = {"audio", "sample_rate", "segments", "text", "words", "intent", "duration_s",
          "text_with_punctuation", "slots"}


class ManifestError(ValueError):
    """One manifest line that cannot be evaluated; the message says why."""


@dataclass(frozen=True)
class RefSegment:
    """A labelled stretch of a file. ``end`` is None for "to the end of the file"."""

    start: float
    end: float | None
    text: str | None
    intent: str | None
    timed: bool = True  # False when the times are not a labeller's: the whole file


@dataclass(frozen=True)
class ManifestItem:
    line: int
    audio: Path
    sample_rate: int | None  # as declared; the decoded rate is what results are grouped by
    segments: tuple[RefSegment, ...]
    metadata: dict = field(default_factory=dict, hash=False)


def read_rows(path: Path) -> list[dict]:
    """The manifest's non-blank lines as rows for :func:`data_tools.evaluation.scoring.evaluate_row`.

    Lines are parsed where they are evaluated (possibly in another process), so
    a bad line is reported with its number among the results, not here. Raises
    OSError when the manifest itself cannot be read.
    """
    base = str(Path(path).resolve().parent)
    return [{"line": number, "record": line, "base": base}
            for number, line in enumerate(Path(path).read_text("utf-8-sig").splitlines(), start=1) if line.strip()]


def parse_line(line: str, number: int, base: Path) -> ManifestItem:
    """One JSONL line -> item; raises :class:`ManifestError` with the reason."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(record, dict):
        raise ManifestError("not a JSON object")
    return _item(record, number, base)


def _item(record: dict, number: int, base: Path) -> ManifestItem:
    """A decoded manifest object -> item."""
    audio = record.get("audio")
    if not isinstance(audio, str) or not audio:
        raise ManifestError("no 'audio' path")
    path = Path(audio) if Path(audio).is_absolute() else Path(base) / audio
    if not path.is_file():
        raise ManifestError(f"audio file not found: {path}")
    rate = record.get("sample_rate")
    if rate is not None and (not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0):
        raise ManifestError(f"'sample_rate' must be a positive integer, not {rate!r}")
    if "segments" in record:
        segments = _segments(record["segments"])
    else:
        segments = (_whole_file(record),)
    metadata = {k: v for k, v in record.items() if k not in _KNOWN}
    return ManifestItem(number, path, rate, segments, metadata)


def _segments(raw) -> tuple[RefSegment, ...]:
    if not isinstance(raw, list) or not raw:
        raise ManifestError("'segments' must be a non-empty list")
    segments = []
    for i, seg in enumerate(raw):
        if not isinstance(seg, dict):
            raise ManifestError(f"segment {i} is not an object")
        start, end = _time(seg, "start", i), _time(seg, "end", i)
        if end <= start:
            raise ManifestError(f"segment {i}: end {end} is not after start {start}")
        segments.append(RefSegment(start, end, _text(seg.get("text"), i), _label(seg.get("intent"), i)))
    segments.sort(key=lambda s: s.start)
    for a, b in zip(segments, segments[1:]):
        if b.start < a.end:
            raise ManifestError(f"segments overlap: {a.start}-{a.end} and {b.start}-{b.end}")
    return tuple(segments)


def _whole_file(record: dict) -> RefSegment:
    text, intent = _text(record.get("text"), None), _label(record.get("intent"), None)
    words = record.get("words") or []
    if not isinstance(words, list) or not all(isinstance(w, dict) for w in words):
        raise ManifestError("'words' must be a list of objects with start and end")
    if not words:
        return RefSegment(0.0, None, text, intent, timed=False)
    start, end = _time(words[0], "start", None), _time(words[-1], "end", None)
    if end <= start:
        raise ManifestError(f"words: last end {end} is not after first start {start}")
    return RefSegment(start, end, text, intent)


def _where(index: int | None) -> str:
    return "" if index is None else f"segment {index}: "


def _time(obj: dict, key: str, index: int | None) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ManifestError(f"{_where(index)}'{key}' must be a time in seconds >= 0, not {value!r}")
    return float(value)


def _text(value, index: int | None) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ManifestError(f"{_where(index)}'text' must be a string or null")
    return value if value and value.strip() else None


def _label(value, index: int | None) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ManifestError(f"{_where(index)}'intent' must be a string or null")
    return value or None
