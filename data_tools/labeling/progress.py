"""The progress view's figures: what is labeled, by whom, and how far two labelers of one item agree.

Computed from the store's items and history on each request, so the view is
never stale; labeler names are as they saved (the machine's first version is left out).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations
from typing import Iterable

from data_tools.evaluation.metrics import cer
from data_tools.labeling.store import FLAGS, MACHINE, STATUSES, Change, Item


def progress(items: Iterable[Item], history: Iterable[Change]) -> dict:
    """Counts per status, source, intent, flag and labeler, and agreement between labelers."""
    items = list(items)
    labeled = [i for i in items if i.status == "labeled"]
    history = [c for c in history if c.labeler != MACHINE]
    per_labeler: dict[str, dict] = defaultdict(lambda: {"saves": 0, "items": set(), "labeled": set()})
    for change in history:
        entry = per_labeler[change.labeler]
        entry["saves"] += 1
        entry["items"].add(change.item_id)
        entry["last_at"] = change.at
        if change.status == "labeled":
            entry["labeled"].add(change.item_id)
    return {
        "items": len(items),
        "by_status": {s: sum(i.status == s for i in items) for s in STATUSES},
        "by_source": dict(Counter(i.source for i in items)),
        "labeled_segments_per_intent": dict(Counter(s.intent or "(none)" for i in labeled for s in i.segments)
                                            .most_common()),
        "flags": {f: sum(f in i.flags for i in items) for f in FLAGS},
        "per_labeler": {name: {"saves": e["saves"], "items": len(e["items"]), "labeled": len(e["labeled"]),
                               "last_at": e["last_at"]} for name, e in sorted(per_labeler.items())},
        "agreement": agreement(history),
    }


def agreement(history: Iterable[Change]) -> dict:
    """Labeler agreement on items saved as labeled by two or more people, from each one's last labeled version.

    Text agreement is the CER of the later labeler's text against the earlier
    one's (whole item, spaces ignored); intent agreement is the share of items
    where both gave the same intents in the same order. A reviewer who corrects a
    first pass counts here as a second labeler: disagreement is then what the
    review changed.
    """
    last: dict[int, dict[str, Change]] = defaultdict(dict)
    for change in history:
        if change.status == "labeled" and change.labeler != MACHINE:
            last[change.item_id][change.labeler] = change
    pairs: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    for by_labeler in last.values():
        ordered = sorted(by_labeler.values(), key=lambda c: c.version)
        for a, b in combinations(ordered, 2):
            key = tuple(sorted((a.labeler, b.labeler)))
            pairs[key].append((_text_cer(a, b), [s.intent for s in a.segments] == [s.intent for s in b.segments]))
    scores = [score for values in pairs.values() for score in values]
    return {
        "double_labeled_items": sum(len(v) > 1 for v in last.values()),
        "cer": _mean(s[0] for s in scores),
        "intent_agreement": _mean(float(s[1]) for s in scores),
        "pairs": [{"labelers": list(key), "items": len(values), "cer": _mean(v[0] for v in values),
                   "intent_agreement": _mean(float(v[1]) for v in values)} for key, values in sorted(pairs.items())],
    }


def _text_cer(a: Change, b: Change) -> float:
    ref, hyp = " ".join(s.text for s in a.segments), " ".join(s.text for s in b.segments)
    try:
        return round(cer(ref, hyp), 4)
    except ValueError:  # the earlier labeler heard nothing: agreement only if the later one did too
        return 0.0 if not hyp.strip() else 1.0


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else None
