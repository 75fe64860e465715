"""Labeled items out: the timestamped evaluation manifest and training rows.

The manifest is what ``kocall eval`` reads (see :mod:`data_tools.evaluation.manifest`), one
JSON object per labeled recording::

    {"audio": "/abs/call.wav", "sample_rate": 8000, "duration_s": 4.2,
     "segments": [{"start": 0.52, "end": 2.1, "text": "카드 잃어버렸어요", "intent": "lost_card"}],
     "labeler": "kim", "labeled_at": "2026-11-25T10:00:00.000+00:00",
     "source": "turn", "flags": ["noise"], "item_id": 7, "version": 3}

Only items whose status is ``labeled`` are exported, and never those flagged
``unusable``: a recording a labeler could not make out is no reference for
anything. The training rows are one per segment with text and intent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator

from data_tools.labeling.store import Item


def usable(items: Iterable[Item]) -> list[Item]:
    return [i for i in items if i.status == "labeled" and "unusable" not in i.flags]


def manifest_line(item: Item, base: Path | None = None) -> dict:
    """One manifest object; the audio path is absolute, or relative to ``base`` (the manifest's folder) if given."""
    audio = os.path.relpath(item.audio, base) if base is not None else item.audio
    return {
        "audio": audio, "sample_rate": item.sample_rate, "duration_s": item.duration_s,
        "segments": [{"start": s.start, "end": s.end, "text": s.text, "intent": s.intent} for s in item.segments],
        "labeler": item.updated_by, "labeled_at": item.updated_at, "source": item.source,
        "flags": list(item.flags), "item_id": item.id, "version": item.version,
        **({"session_id": item.metadata["session_id"]} if "session_id" in item.metadata else {}),
    }


def manifest_lines(items: Iterable[Item], base: Path | None = None) -> Iterator[str]:
    for item in usable(items):
        yield json.dumps(manifest_line(item, base), ensure_ascii=False) + "\n"


def write_manifest(items: Iterable[Item], path: Path, relative: bool = False) -> int:
    """Write the manifest whole or not at all (a temporary file renamed over ``path``); returns the line count."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    lines = list(manifest_lines(items, path.parent if relative else None))
    partial.write_text("".join(lines), "utf-8")
    partial.replace(path)
    return len(lines)


def training_rows(items: Iterable[Item]) -> list[dict]:
    """One row per segment that has both text and an intent (``data_tools.augment.dataset.labeled_dataset``
    makes them a data set)."""
    rows = []
    for item in usable(items):
        for n, s in enumerate(item.segments):
            if s.text.strip() and s.intent:
                rows.append({"id": f"label-{item.id}-{n}", "text": s.text, "label": s.intent,
                             "source_id": f"label-{item.id}-{n}", "transform": "original", "audio": item.audio,
                             "start": s.start, "end": s.end, "labeler": item.updated_by, "item_id": item.id})
    return rows
