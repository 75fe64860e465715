"""Running the pipeline (decode -> stt -> nlu) on manifest items and scoring it.

Per item (:func:`evaluate_item`) the file is decoded, transcribed whole, and each
labelled segment is also cut out (by its reference times, :data:`PAD_S` either
side) and transcribed on its own, as the endpointer hands single utterances to the
server. The whole-file hypothesis is then split between the reference segments by
time (:func:`align`), which scores what the recogniser does on a long recording
with pauses, and how well its timestamps land. Where a segment carries an intent,
the NLU classifies both the reference text and the audio's transcript, so the
part of the intent errors that STT causes shows as the gap between the two.

Error rates are corpus-level (total edits / total reference length, as
``data_tools.evaluation.metrics`` computes them), never a mean of per-segment rates: a
one-word segment with one error would otherwise weigh as much as a long one.
Each segment stores its edit and reference counts so that any grouping (sample
rate, metadata column) sums them again (:func:`summarize`).

Scaling out. :func:`evaluate_row` is the same per-item function on plain JSON
rows, with the models loaded once per process (``get_transcriber`` and
``get_understander`` are cached per process). ``kocall eval --workers N`` runs it in
a process pool; a cluster engine runs it unchanged, e.g. with Hugging Face
``datasets``::

    rows = [{"line": i + 1, "record": text, "base": str(folder)}
            for i, text in enumerate(open(manifest, encoding="utf-8")) if text.strip()]
    ds = datasets.Dataset.from_list(rows)
    out = ds.map(functools.partial(evaluate_row, settings=Settings(), with_nlu=True), num_proc=32)
    items = [json.loads(r) for r in out["result"] if r]
    summary = summarize(items)

(or with Ray: ``ray.data.from_items(rows).map(functools.partial(evaluate_row, ...))``).
Audio paths must be readable from every worker (a shared file system or absolute
paths on the same mount).
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from core.settings import Settings
from data_tools.evaluation.manifest import ManifestError, ManifestItem, RefSegment, parse_line
from data_tools.evaluation.metrics import cer, normalize, wer
from stt.audio import Audio, AudioError, decode_audio

PAD_S = 0.1  # reference times are tight word edges; a clipped onset costs Whisper the first syllable
COLLAR_S = 0.25  # a hypothesis word this close to a reference segment still belongs to it
NO_SPEECH = "(no speech)"  # the intent "predicted" when the transcript is empty
STAGES = ("decode", "stt", "stt_segments", "nlu")


@dataclass(frozen=True)
class Timed:
    """A stretch of hypothesis (a word, or a segment without words), seconds from file start."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Errors:
    """Edit counts against one reference, so that any set of them sums to a corpus rate."""

    chars: int
    char_edits: int
    spaced_chars: int
    spaced_edits: int
    words: int
    word_edits: int


@dataclass(frozen=True)
class SegmentResult:
    index: int
    start: float
    end: float
    ref: str | None
    hyp: str  # transcript of the cut segment
    hyp_aligned: str  # the whole-file words that fall in this segment
    errors: Errors | None  # of ``hyp``; None without a reference text
    aligned_errors: Errors | None  # of ``hyp_aligned``
    cer: float | None
    start_error_ms: float | None  # hypothesis minus reference; None when not timed or nothing aligned
    end_error_ms: float | None
    intent: str | None
    intent_audio: str | None
    intent_text: str | None
    stt_s: float
    nlu_s: float


@dataclass(frozen=True)
class ItemResult:
    line: int
    audio: str
    sample_rate: int  # as decoded
    duration_s: float
    metadata: dict
    segments: tuple[SegmentResult, ...]
    hypothesis: str  # the whole-file transcript
    inserted_text: str  # whole-file words outside every reference segment
    inserted_errors: int  # their characters (spaces ignored), counted as insertions
    reference_speech_s: float | None  # None when the reference has no timestamps
    missed_speech_s: float | None
    inserted_speech_s: float | None
    latency_s: dict  # stage -> seconds, for STAGES
    stage_audio_s: dict  # stage -> seconds of audio it processed (for real-time factors)


def score(ref: str, hyp: str) -> Errors:
    """Edit counts of ``hyp`` against ``ref`` (which must have text after normalisation)."""
    chars, spaced = len(normalize(ref)), len(normalize(ref, keep_spaces=True))
    words = len(normalize(ref, keep_spaces=True).split())
    return Errors(chars, round(cer(ref, hyp) * chars), spaced, round(cer(ref, hyp, keep_spaces=True) * spaced),
                  words, round(wer(ref, hyp) * words))


def align(refs: Sequence[tuple[float, float]], hyps: Sequence[Timed],
          collar_s: float = COLLAR_S) -> tuple[list[list[Timed]], list[Timed]]:
    """Give each hypothesis stretch to the reference segment it overlaps most.

    Reference segments are widened by ``collar_s`` either side for this, because
    Whisper's word times drift by a few hundred ms; on a tie the nearer segment
    (by midpoint) wins. Returns the stretches of each reference segment, in time
    order, and those that fall in none (inserted speech).
    """
    assigned: list[list[Timed]] = [[] for _ in refs]
    inserted = []
    for hyp in sorted(hyps, key=lambda h: h.start):
        best, best_key = None, (0.0, 0.0)
        for i, (start, end) in enumerate(refs):
            overlap = min(end + collar_s, hyp.end) - max(start - collar_s, hyp.start)
            if overlap < 0 or (overlap == 0 and hyp.end > hyp.start):  # a zero-length word inside still counts
                continue
            key = (overlap, -abs((start + end) / 2 - (hyp.start + hyp.end) / 2))
            if best is None or key > best_key:
                best, best_key = i, key
        (inserted if best is None else assigned[best]).append(hyp)
    return assigned, inserted


def union(intervals: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def speech_errors(ref: Sequence[tuple[float, float]], hyp: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """(reference speech, missed speech, inserted speech) in seconds, from the two sets of intervals."""
    ref, hyp = union(ref), union(hyp)
    both = sum(max(0.0, min(a1, b1) - max(a0, b0)) for a0, a1 in ref for b0, b1 in hyp)
    ref_s, hyp_s = sum(e - s for s, e in ref), sum(e - s for s, e in hyp)
    return ref_s, ref_s - both, hyp_s - both


def cut(audio: Audio, start: float, end: float) -> Audio:
    """The stretch from ``start`` to ``end`` seconds, widened by :data:`PAD_S` either side within the file."""
    rate = audio.sample_rate
    return Audio(audio.samples[int(max(start - PAD_S, 0.0) * rate):int((end + PAD_S) * rate)], rate)


def evaluate_item(item: ManifestItem, transcriber, understander=None) -> ItemResult:
    """Decode, transcribe and (with an ``understander``) classify one item, and score it.

    Raises :class:`stt.audio.AudioError` (or OSError) when the audio cannot be used.
    """
    started = time.perf_counter()
    audio = decode_audio(item.audio, max_seconds=transcriber.settings.max_audio_s)
    decode_s = time.perf_counter() - started

    started = time.perf_counter()
    transcript = transcriber.transcribe(audio)
    stt_s = time.perf_counter() - started
    units = [Timed(w.start, w.end, w.word) for s in transcript.segments for w in s.words] or \
            [Timed(s.start, s.end, s.text) for s in transcript.segments]
    spans = [(s.words[0].start, s.words[-1].end) if s.words else (s.start, s.end) for s in transcript.segments]

    refs = [(seg.start, seg.end if seg.end is not None else audio.duration_s) for seg in item.segments]
    assigned, inserted = align(refs, units)
    segments = [_segment(i, seg, refs[i], assigned[i], audio, transcript.text, stt_s, transcriber, understander)
                for i, seg in enumerate(item.segments)]

    timed = all(seg.timed for seg in item.segments)
    ref_s, missed_s, inserted_s = speech_errors(refs, spans) if timed else (None, None, None)
    inserted_text = " ".join(u.text for u in inserted)
    transcribed_s = sum(cut(audio, s.start, s.end).duration_s for s in segments if s.stt_s)
    classified_s = sum(cut(audio, s.start, s.end).duration_s for s in segments if s.nlu_s)
    return ItemResult(
        line=item.line, audio=str(item.audio), sample_rate=audio.sample_rate, duration_s=round(audio.duration_s, 3),
        metadata=item.metadata, segments=tuple(segments), hypothesis=transcript.text, inserted_text=inserted_text,
        inserted_errors=len(normalize(inserted_text)),
        reference_speech_s=_round(ref_s), missed_speech_s=_round(missed_s), inserted_speech_s=_round(inserted_s),
        latency_s={"decode": round(decode_s, 4), "stt": round(stt_s, 4),
                   "stt_segments": round(sum(s.stt_s for s in segments), 4),
                   "nlu": round(sum(s.nlu_s for s in segments), 4)},
        stage_audio_s={"decode": round(audio.duration_s, 3), "stt": round(audio.duration_s, 3),
                       "stt_segments": round(transcribed_s, 3), "nlu": round(classified_s, 3)},
    )


def _segment(index: int, seg: RefSegment, times: tuple[float, float], aligned: list[Timed], audio: Audio,
             whole_text: str, whole_stt_s: float, transcriber, understander) -> SegmentResult:
    start, end = times
    if not seg.timed:  # the segment is the whole file: its transcript is the whole-file one
        hyp, stt_s = whole_text, whole_stt_s
    elif seg.text is None and (seg.intent is None or understander is None):
        hyp, stt_s = "", 0.0  # nothing to score it against
    else:
        piece = cut(audio, start, end)
        started = time.perf_counter()
        hyp = transcriber.transcribe(piece, word_timestamps=False).text if len(piece.samples) else ""
        stt_s = time.perf_counter() - started
    hyp_aligned = " ".join(u.text for u in aligned)
    errors = score(seg.text, hyp) if seg.text else None
    intent_audio = intent_text = None
    nlu_s = 0.0
    if seg.intent is not None and understander is not None:
        started = time.perf_counter()
        intent_audio = _intent(understander, hyp)
        nlu_s = time.perf_counter() - started
        intent_text = _intent(understander, seg.text) if seg.text else None
    timed = seg.timed and aligned
    return SegmentResult(
        index=index, start=round(start, 3), end=round(end, 3), ref=seg.text, hyp=hyp, hyp_aligned=hyp_aligned,
        errors=errors, aligned_errors=score(seg.text, hyp_aligned) if seg.text else None,
        cer=round(errors.char_edits / errors.chars, 4) if errors else None,
        start_error_ms=round(1000 * (aligned[0].start - start), 1) if timed else None,
        end_error_ms=round(1000 * (max(u.end for u in aligned) - end), 1) if timed else None,
        intent=seg.intent, intent_audio=intent_audio, intent_text=intent_text,
        stt_s=round(stt_s, 4), nlu_s=round(nlu_s, 4),
    )


def _intent(understander, text: str) -> str:
    from nlu.understand import EmptyText

    try:
        return understander.understand(text).intent
    except EmptyText:
        return NO_SPEECH


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def load_models(settings: Settings, with_nlu: bool):
    """The process's transcriber and (if wanted) understander, loaded on first call only."""
    from nlu.understand import get_understander
    from stt.transcribe import get_transcriber

    transcriber = get_transcriber(settings.stt, settings.cache_dir, settings.pack().lexicon)
    return transcriber, _warmed(get_understander(settings.nlu, settings.cache_dir, settings.pack())) if with_nlu else None


@functools.lru_cache(maxsize=2)
def _warmed(understander):
    """The understander after one utterance: its first loads Kiwi's model (seconds), which is no item's latency."""
    understander.understand("카드 분실 신고")
    return understander


def evaluate_row(row: dict, settings: Settings, with_nlu: bool) -> dict:
    """:func:`evaluate_item` on a plain row, for process pools and ``datasets.Dataset.map``.

    ``row`` holds ``line`` (its number in the manifest), ``record`` (the JSON line)
    and ``base`` (the folder relative audio paths start from). Returns
    ``{"line", "result", "error"}`` with ``result`` the item's JSON (empty on error)
    and ``error`` the reason (empty on success): strings only, so that Arrow
    tables store every row alike.
    """
    try:
        item = parse_line(row["record"], row["line"], Path(row["base"]))
    except ManifestError as exc:
        return {"line": row["line"], "result": "", "error": str(exc)}
    transcriber, understander = load_models(settings, with_nlu)  # a missing model is no fault of the line
    try:
        result = evaluate_item(item, transcriber, understander)
    except (AudioError, OSError) as exc:
        return {"line": row["line"], "result": "", "error": f"audio cannot be used: {exc}"}
    return {"line": row["line"], "result": json.dumps(asdict(result), ensure_ascii=False), "error": ""}


def _rates(errors: Sequence[dict], extra_char_edits: int = 0) -> dict:
    """Corpus CER (spaces ignored), CER with spaces and WER over a set of :class:`Errors` dicts."""
    def rate(edits: str, total: str, extra: int = 0) -> float | None:
        n = sum(e[total] for e in errors)
        return round((sum(e[edits] for e in errors) + extra) / n, 4) if n else None

    return {"cer": rate("char_edits", "chars", extra_char_edits),
            "cer_spaced": rate("spaced_edits", "spaced_chars", extra_char_edits),
            "wer": rate("word_edits", "words"), "ref_chars": sum(e["chars"] for e in errors)}


def stt_rates(items: Sequence[dict]) -> dict:
    """Error rates of the cut segments and of the whole-file transcripts over ``items``.

    Whole-file words outside every reference segment count as insertions, but
    only in items whose every segment has a reference text (otherwise words may
    belong to an unlabelled segment).
    """
    segments = [s for item in items for s in item["segments"]]
    cut = _rates([s["errors"] for s in segments if s["errors"]])
    scored = [i for i in items if all(s["ref"] for s in i["segments"])]
    whole = _rates([s["aligned_errors"] for i in items for s in i["segments"] if s["aligned_errors"]],
                   sum(i["inserted_errors"] for i in scored))
    # Speech heard as nothing: on a call, a turn with no text gets no answer at all (short replies, mostly).
    said = [s for s in segments if s["errors"] and s["errors"]["chars"]]
    empty = sum(1 for s in said if not normalize(s["hyp"]))
    return {"n_items": len(items), "n_scored_segments": sum(1 for s in segments if s["errors"]),
            **cut, "n_empty": empty, "empty_share": round(empty / len(said), 4) if said else None,
            "whole_file": whole}


def _percentiles(values: Sequence[float]) -> dict:
    if not len(values):
        return {"n": 0, "median": None, "p90": None}
    return {"n": len(values), "median": round(float(np.median(values)), 1),
            "p90": round(float(np.percentile(values, 90)), 1)}


def timestamp_quality(items: Sequence[dict]) -> dict:
    """Boundary error (|hyp - ref| of starts and ends pooled, ms) and missed/inserted speech (s)."""
    boundaries = [abs(s[k]) for i in items for s in i["segments"] for k in ("start_error_ms", "end_error_ms")
                  if s[k] is not None]
    timed = [i for i in items if i["reference_speech_s"] is not None]
    return {
        "boundary_error_ms": _percentiles(boundaries),
        "start_error_ms": _percentiles([abs(s["start_error_ms"]) for i in items for s in i["segments"]
                                        if s["start_error_ms"] is not None]),
        "end_error_ms": _percentiles([abs(s["end_error_ms"]) for i in items for s in i["segments"]
                                      if s["end_error_ms"] is not None]),
        "n_items": len(timed),
        "reference_speech_s": round(sum(i["reference_speech_s"] for i in timed), 3),
        "missed_speech_s": round(sum(i["missed_speech_s"] for i in timed), 3),
        "inserted_speech_s": round(sum(i["inserted_speech_s"] for i in timed), 3),
    }


def intent_quality(items: Sequence[dict], model_labels: Sequence[str] = ()) -> dict | None:
    """Accuracy and macro-F1 from audio and from the reference text, and the audio confusion matrix.

    Only segments that carry an intent and were classified count. Gold intents
    the model was never trained on are listed, since no model can get them right.
    """
    from data_tools.evaluation.accuracy import scores

    rows = [s for i in items for s in i["segments"] if s["intent"] is not None and s["intent_audio"] is not None]
    if not rows:
        return None
    gold, audio = [s["intent"] for s in rows], [s["intent_audio"] for s in rows]
    with_text = [s for s in rows if s["intent_text"] is not None]
    labels = sorted(set(gold) | set(audio))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, audio):
        matrix[index[g]][index[p]] += 1
    return {
        "audio": scores(gold, audio),
        "text": scores([s["intent"] for s in with_text], [s["intent_text"] for s in with_text]) if with_text else None,
        "confusion": {"labels": labels, "matrix": matrix},
        "unknown_to_model": sorted(set(gold) - set(model_labels)) if model_labels else [],
    }


def latency(items: Sequence[dict]) -> dict:
    """Per stage: total seconds, per-item median and p90 (ms), and real-time factor (time / audio time)."""
    out = {}
    for stage in STAGES:
        times = [i["latency_s"][stage] for i in items if i["latency_s"][stage] > 0]
        audio_s = sum(i["stage_audio_s"][stage] for i in items if i["latency_s"][stage] > 0)
        out[stage] = {"n": len(times), "total_s": round(sum(times), 3),
                      "median_ms": round(1000 * float(np.median(times)), 1) if times else None,
                      "p90_ms": round(1000 * float(np.percentile(times, 90)), 1) if times else None,
                      "rtf": round(sum(times) / audio_s, 4) if audio_s else None}
    return out


def breakdowns(items: Sequence[dict], max_values: int = 20) -> dict:
    """STT rates per sample rate and per value of each scalar metadata column.

    Columns with more than ``max_values`` distinct values (ids, dates) are left
    out: a table row per call says nothing a per-item list does not.
    """
    def by(key) -> dict:
        groups: dict[str, list[dict]] = {}
        for item in items:
            groups.setdefault(str(key(item)), []).append(item)
        return {value: stt_rates(group) for value, group in sorted(groups.items())}

    columns = sorted({k for i in items for k, v in i["metadata"].items()
                      if v is None or isinstance(v, (str, int, float, bool))})
    metadata = {}
    for column in columns:
        if len({str(i["metadata"].get(column)) for i in items}) <= max_values:
            metadata[column] = by(lambda i, c=column: i["metadata"].get(c))
    return {"sample_rate": by(lambda i: i["sample_rate"]), "metadata": metadata}


def summarize(items: Sequence[dict], model_labels: Sequence[str] = ()) -> dict:
    """Everything results.json reports over the items (dicts as in results.json's ``items``)."""
    stt = stt_rates(items)
    return {
        "n_items": len(items),
        "n_segments": sum(len(i["segments"]) for i in items),
        "audio_s": round(sum(i["duration_s"] for i in items), 3),
        "stt": stt,
        "by": breakdowns(items),
        "timestamps": timestamp_quality(items),
        "intent": intent_quality(items, model_labels),
        "latency": latency(items),
    }


# (name, path into the summary, lower is better)
HEADLINE = (
    ("CER", ("stt", "cer"), True),
    ("CER with spaces", ("stt", "cer_spaced"), True),
    ("WER", ("stt", "wer"), True),
    ("whole-file CER", ("stt", "whole_file", "cer"), True),
    ("whole-file WER", ("stt", "whole_file", "wer"), True),
    ("segments heard as nothing", ("stt", "empty_share"), True),
    ("boundary error median (ms)", ("timestamps", "boundary_error_ms", "median"), True),
    ("boundary error p90 (ms)", ("timestamps", "boundary_error_ms", "p90"), True),
    ("missed speech (s)", ("timestamps", "missed_speech_s"), True),
    ("inserted speech (s)", ("timestamps", "inserted_speech_s"), True),
    ("intent accuracy, audio", ("intent", "audio", "accuracy"), False),
    ("intent macro-F1, audio", ("intent", "audio", "macro_f1"), False),
    ("intent accuracy, text", ("intent", "text", "accuracy"), False),
    ("STT real-time factor", ("latency", "stt", "rtf"), True),
    ("segment STT real-time factor", ("latency", "stt_segments", "rtf"), True),
    ("NLU median (ms)", ("latency", "nlu", "median_ms"), True),
)


def headline(summary: dict) -> dict[str, float | None]:
    out = {}
    for name, path, _ in HEADLINE:
        value = summary
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        out[name] = value
    return out


def compare(old: dict, new: dict) -> dict:
    """Headline metrics old/new/delta, and the segments whose CER or intent got better or worse.

    Segments are matched by audio path and segment start, so a manifest that
    gained or lost lines still compares on what the two runs share.
    """
    lower = {name: low for name, _, low in HEADLINE}
    old_h, new_h = headline(old["summary"]), headline(new["summary"])
    metrics = [{"name": name, "old": old_h[name], "new": new_h[name],
                "delta": round(new_h[name] - old_h[name], 4) if None not in (old_h[name], new_h[name]) else None,
                "lower_is_better": lower[name]} for name in new_h]

    def keyed(results: dict) -> dict:
        return {(i["audio"], s["start"]): s for i in results["items"] for s in i["segments"]}

    before, after = keyed(old), keyed(new)
    better, worse = [], []
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        change = {"audio": key[0], "start": key[1], "ref": b["ref"], "old_hyp": a["hyp"], "new_hyp": b["hyp"],
                  "old_cer": a["cer"], "new_cer": b["cer"], "intent": b["intent"],
                  "old_intent": a["intent_audio"], "new_intent": b["intent_audio"]}
        delta = (b["cer"] - a["cer"]) if None not in (a["cer"], b["cer"]) else 0.0
        right = [s["intent_audio"] == s["intent"] for s in (a, b)] if b["intent"] and None not in (
            a["intent_audio"], b["intent_audio"]) else [False, False]
        if delta < 0 or right == [False, True]:
            better.append(change)
        elif delta > 0 or right == [True, False]:
            worse.append(change)
    return {"metrics": metrics, "better": better, "worse": worse, "shared_segments": len(before.keys() & after.keys())}
