"""Label Studio's JSON task format, both ways, so a team can move between that tool and this one.

A labeled segment is a Label Studio audio region: three results sharing one
region ``id`` (a ``labels`` span, its ``textarea`` transcription and its
``choices`` intent), all on ``<Audio name="audio">``; item flags are one
region-less ``choices`` result named ``flags``. This labeling config reads them::

    <View>
      <Audio name="audio" value="$audio"/>
      <Labels name="segment" toName="audio"><Label value="speech"/></Labels>
      <TextArea name="transcription" toName="audio" perRegion="true" editable="true"/>
      <Choices name="intent" toName="audio" perRegion="true"> <Choice value="lost_card"/> ... </Choices>
      <Choices name="flags" toName="audio" choice="multiple">
        <Choice value="noise"/><Choice value="overlap"/><Choice value="unusable"/>
      </Choices>
    </View>

Export puts the STT pre-transcription under ``predictions`` and the current label
under ``annotations``. Import reads the last non-cancelled annotation of each
task; ``data.audio`` may be a path (absolute, or relative to the JSON file), a
``file://`` URL, or Label Studio's local-files URL ``/data/local-files/?d=REL``
(REL relative to ``root``). Anything else is refused with the task's number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from urllib.parse import parse_qs, unquote, urlparse

from data_tools.labeling.store import FLAGS, Change, Item, LabelError, Segment

MACHINE_MODEL = "kocall-stt"


class LabelStudioError(LabelError):
    pass


@dataclass(frozen=True)
class Task:
    """One imported Label Studio task: the audio on this machine and, if it was annotated, the annotation."""

    number: int  # 1-based position in the file, for messages
    audio: Path
    segments: tuple[Segment, ...] | None  # None: not annotated
    flags: tuple[str, ...]
    labeler: str | None
    task_id: str


def to_tasks(items: Iterable[Item], history: Iterable[Change]) -> list[dict]:
    """Items as Label Studio tasks; the first version in ``history`` of each is its prediction."""
    first = {c.item_id: c for c in history if c.version == 1}
    tasks = []
    for item in items:
        task = {"id": item.id, "data": {"audio": item.audio, "kocall_item": item.id, "source": item.source,
                                        "sample_rate": item.sample_rate},
                "predictions": [], "annotations": []}
        machine = first.get(item.id)
        if machine is not None:
            task["predictions"].append({"model_version": MACHINE_MODEL, "score": item.stt_confidence,
                                        "result": _results(machine.segments, ())})
        if item.status == "labeled":
            task["annotations"].append({"completed_by": item.updated_by, "created_at": item.updated_at,
                                        "updated_at": item.updated_at, "was_cancelled": False,
                                        "result": _results(item.segments, item.flags)})
        tasks.append(task)
    return tasks


def parse_tasks(raw: str | bytes, base: Path, root: Path | None = None) -> list[Task]:
    """A Label Studio JSON export -> tasks; raises LabelStudioError naming the first bad task."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelStudioError(f"not a Label Studio JSON export: {exc}") from exc
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list) or not document:
        raise LabelStudioError("expected a JSON list of tasks (Label Studio's JSON export)")
    return [_task(task, number, Path(base), Path(root or base)) for number, task in enumerate(document, start=1)]


def _results(segments: Iterable[Segment], flags: tuple[str, ...]) -> list[dict]:
    results = []
    for n, s in enumerate(segments):
        span = {"start": s.start, "end": s.end, "channel": 0}
        rid = f"seg{n}"
        results.append({"id": rid, "from_name": "segment", "to_name": "audio", "type": "labels",
                        "value": {**span, "labels": ["speech"]}})
        results.append({"id": rid, "from_name": "transcription", "to_name": "audio", "type": "textarea",
                        "value": {**span, "text": [s.text]}})
        intent = s.intent or s.suggested_intent
        if intent:
            results.append({"id": rid, "from_name": "intent", "to_name": "audio", "type": "choices",
                            "value": {**span, "choices": [intent]}})
    if flags:
        results.append({"from_name": "flags", "to_name": "audio", "type": "choices", "value": {"choices": list(flags)}})
    return results


def _task(task, number: int, base: Path, root: Path) -> Task:
    def fail(message: str) -> LabelStudioError:
        return LabelStudioError(f"task {number}: {message}")

    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        raise fail("expected an object with a 'data' object")
    audio = task["data"].get("audio")
    if not isinstance(audio, str) or not audio:
        raise fail("'data.audio' must name the audio file")
    path = _local_path(audio, base, root)
    if path is None:
        raise fail(f"audio {audio!r} is not a local file path, file:// URL or /data/local-files/?d= URL")
    if not path.is_file():
        raise fail(f"audio file not found: {path}")
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
        raise fail("'annotations' must be a list of objects")
    done = [a for a in annotations if not a.get("was_cancelled")]
    if not done:
        return Task(number, path, None, (), None, str(task.get("id", number)))
    annotation = done[-1]
    segments, flags = _regions(annotation.get("result"), fail)
    who = annotation.get("completed_by")
    labeler = str(who.get("email") or who.get("id")) if isinstance(who, dict) else (None if who is None else str(who))
    return Task(number, path, segments, flags, labeler, str(task.get("id", number)))


def _regions(results, fail) -> tuple[tuple[Segment, ...], tuple[str, ...]]:
    if not isinstance(results, list):
        raise fail("an annotation's 'result' must be a list")
    regions: dict[str, dict] = {}
    flags: list[str] = []
    for r in results:
        if not isinstance(r, dict) or not isinstance(r.get("value"), dict):
            raise fail("each result must be an object with a 'value' object")
        value = r["value"]
        if "start" not in value:
            choices = value.get("choices") or []
            flags.extend(c for c in choices if c in FLAGS)
            continue
        start, end = value.get("start"), value.get("end")
        if not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in (start, end)):
            raise fail(f"region {r.get('id')!r}: start and end must be numbers of seconds")
        region = regions.setdefault(str(r.get("id", f"{start}-{end}")), {"start": float(start), "end": float(end)})
        if r.get("type") == "textarea":
            text = value.get("text")
            if not isinstance(text, list) or not all(isinstance(t, str) for t in text):
                raise fail(f"region {r.get('id')!r}: 'text' must be a list of strings")
            region["text"] = " ".join(text)
        elif r.get("type") == "choices" and value.get("choices"):
            region["intent"] = str(value["choices"][0])
    if not regions:
        raise fail("the annotation has no audio regions")
    return tuple(Segment(g["start"], g["end"], g.get("text", ""), g.get("intent")) for g in regions.values()), \
        tuple(dict.fromkeys(flags))


def _local_path(audio: str, base: Path, root: Path) -> Path | None:
    url = urlparse(audio)
    if url.scheme == "file":
        return Path(unquote(url.path))
    if url.path.rstrip("/") == "/data/local-files" and "d" in parse_qs(url.query):
        return (root / parse_qs(url.query)["d"][0]).resolve()
    if url.scheme or url.netloc or audio.startswith("/data/upload/"):
        return None  # http(s), s3, Label Studio's own uploads: not on this machine
    return (base / audio).resolve()
