"""Live monitoring from the turn log: is traffic drifting away from what the models know?

The turn log is cut into consecutive windows (by time, or by a number of turns
for quiet systems and tests). For each window:

* **intent drift**: the Jensen-Shannon divergence (base 2, 0 = same mix, 1 =
  disjoint) between the window's in-scope intent mix and the training mix. The
  training examples are spread evenly over intents, live traffic never is, so
  the first window's own divergence is the reference: a window is flagged when
  its divergence exceeds the reference by ``alert`` (default 0.1) or when the
  out-of-scope rate doubles;
* the out-of-scope, low-confidence and hand-off rates; STT no-speech and
  low-confidence rates (phone turns); latency percentiles per stage.

It also picks the most informative turns for the labeling queue: phone turns
the models were least sure of.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from data_tools.calllog.turnlog import TurnRecord

OUT_OF_SCOPE = "out_of_scope"
LOW_CONFIDENCE = 0.6  # the dialog's confirm_below: under it the bot had to ask
STT_LOW_CONFIDENCE = 0.5
NO_SPEECH = 0.5


@dataclass(frozen=True)
class Window:
    start: str
    end: str
    turns: int
    intents: dict[str, int]
    drift: float | None  # JSD to the training mix, None without in-scope turns
    out_of_scope_rate: float
    low_confidence_rate: float
    handoff_rate: float
    stt_no_speech_rate: float | None  # phone turns only
    stt_low_confidence_rate: float | None
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # stage -> p50/p95
    alerts: tuple[str, ...] = ()


def jensen_shannon(p: dict[str, float], q: dict[str, float]) -> float:
    """Base-2 Jensen-Shannon divergence of two (unnormalised) distributions, in [0, 1]."""
    keys = set(p) | set(q)
    ps, qs = sum(p.values()) or 1.0, sum(q.values()) or 1.0
    total = 0.0
    for k in keys:
        a, b = p.get(k, 0.0) / ps, q.get(k, 0.0) / qs
        m = (a + b) / 2
        total += (a * math.log2(a / m) if a else 0.0) + (b * math.log2(b / m) if b else 0.0)
    return round(total / 2, 4)


def parse_duration(text: str) -> dt.timedelta:
    """'30m', '1h', '2d', '45s' -> a timedelta."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if not match:
        raise ValueError(f"bad duration {text!r}: use a number and s, m, h or d (e.g. 30m, 1h)")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    try:
        span = dt.timedelta(**{unit: float(match.group(1))})
    except OverflowError as exc:
        raise ValueError(f"duration {text!r} is too long") from exc
    if span <= dt.timedelta(0):
        raise ValueError(f"duration {text!r} must be positive")
    return span


def windows(turns: list[TurnRecord], *, every: dt.timedelta | None = None, per: int | None = None) -> list[list[TurnRecord]]:
    """Consecutive windows of a time span or of a number of turns (turns in log order)."""
    if per:
        return [turns[i:i + per] for i in range(0, len(turns), per)]
    if not turns:
        return []
    every = every or dt.timedelta(hours=1)
    first = dt.datetime.fromisoformat(turns[0].at)
    out: dict[int, list[TurnRecord]] = {}
    for t in turns:
        out.setdefault(int((dt.datetime.fromisoformat(t.at) - first) / every), []).append(t)
    return [out[k] for k in sorted(out)]


def summarise(window: list[TurnRecord], training_mix: dict[str, float]) -> Window:
    """One window's figures; ``training_mix`` is the served intent model's rows per label (its folder records
    them), compared in scope only, as the window's; drift is None without in-scope turns or a mix."""
    n = len(window)
    intents = Counter(t.intent for t in window)
    in_scope = {k: float(v) for k, v in intents.items() if k != OUT_OF_SCOPE}
    reference = {k: float(v) for k, v in training_mix.items() if k != OUT_OF_SCOPE}
    phone = [t for t in window if t.channel == "phone"]
    latency: dict[str, dict[str, float]] = {}
    for stage in sorted({s for t in window for s in t.latency_ms}):
        values = sorted(t.latency_ms[stage] for t in window if stage in t.latency_ms)
        latency[stage] = {"p50": round(statistics.median(values), 1),
                          "p95": round(values[min(len(values) - 1, int(0.95 * len(values)))], 1)}
    return Window(
        start=window[0].at, end=window[-1].at, turns=n, intents=dict(intents.most_common()),
        drift=jensen_shannon(in_scope, reference) if in_scope and reference else None,
        out_of_scope_rate=_rate(intents[OUT_OF_SCOPE], n),
        low_confidence_rate=_rate(sum(t.confidence < LOW_CONFIDENCE for t in window), n),
        handoff_rate=_rate(sum(bool(t.handoff) for t in window), n),
        stt_no_speech_rate=_rate(sum((t.no_speech_prob or 0) > NO_SPEECH for t in phone), len(phone)) if phone else None,
        stt_low_confidence_rate=(_rate(sum((t.stt_confidence or 0) < STT_LOW_CONFIDENCE for t in phone), len(phone))
                                 if phone else None),
        latency_ms=latency,
    )


def monitor(turns: Iterable[TurnRecord], training_mix: dict[str, float], *, every: dt.timedelta | None = None,
            per: int | None = None, alert: float = 0.1) -> list[Window]:
    """Windows with alerts against the first window (the reference)."""
    summaries = [summarise(w, training_mix) for w in windows(list(turns), every=every, per=per)]
    if not summaries:
        return []
    reference = summaries[0]
    out = [reference]
    for w in summaries[1:]:
        alerts = []
        if w.drift is not None and reference.drift is not None and w.drift - reference.drift > alert:
            alerts.append(f"intent mix drifted: divergence {w.drift:.2f} vs {reference.drift:.2f} at the start")
        if w.out_of_scope_rate > max(2 * reference.out_of_scope_rate, 0.05):
            alerts.append(f"out-of-scope rate {w.out_of_scope_rate:.0%} vs {reference.out_of_scope_rate:.0%}")
        if w.handoff_rate > max(2 * reference.handoff_rate, 0.05):
            alerts.append(f"hand-off rate {w.handoff_rate:.0%} vs {reference.handoff_rate:.0%}")
        out.append(Window(**{**w.__dict__, "alerts": tuple(alerts)}))
    return out


def to_label(turns: Iterable[TurnRecord], n: int = 20) -> list[TurnRecord]:
    """Phone turns most worth a person's ear: least sure STT and NLU first, no-speech noise last."""
    phone = [t for t in turns if t.channel == "phone" and t.audio]
    return sorted(phone, key=lambda t: ((t.no_speech_prob or 0) > NO_SPEECH,
                                        (t.stt_confidence or 0) * t.confidence))[:n]


def _rate(count: int, n: int) -> float:
    return round(count / n, 4) if n else 0.0
