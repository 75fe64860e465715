"""Error rates for Korean speech recognition.

Korean spacing (띄어쓰기) is inconsistent even between careful human writers, so
the headline character error rate ignores spaces and punctuation; the spaced
variant is available for comparison. Texts are NFC-normalised and lower-cased
first, so composed and decomposed Hangul compare equal. Corpus-level rates
(total edits / total reference length) via jiwer.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Sequence

import jiwer

_PUNCTUATION = re.compile(r"[^\w\s]")


def normalize(text: str, keep_spaces: bool = False) -> str:
    text = _PUNCTUATION.sub(" ", unicodedata.normalize("NFC", text).lower())
    return " ".join(text.split()) if keep_spaces else "".join(text.split())


def _pairs(refs: str | Sequence[str], hyps: str | Sequence[str], keep_spaces: bool) -> tuple[list[str], list[str]]:
    refs = [refs] if isinstance(refs, str) else list(refs)
    hyps = [hyps] if isinstance(hyps, str) else list(hyps)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    refs = [normalize(r, keep_spaces) for r in refs]
    if not any(refs):
        raise ValueError("the references are empty after normalisation")
    return refs, [normalize(h, keep_spaces) for h in hyps]


def cer(refs: str | Sequence[str], hyps: str | Sequence[str], keep_spaces: bool = False) -> float:
    """Character error rate; spaces ignored unless ``keep_spaces``."""
    r, h = _pairs(refs, hyps, keep_spaces)
    return float(jiwer.cer(r, h))


def wer(refs: str | Sequence[str], hyps: str | Sequence[str]) -> float:
    """Word (eojeol) error rate on space-separated words, punctuation removed."""
    r, h = _pairs(refs, hyps, keep_spaces=True)
    return float(jiwer.wer(r, h))


def chrf(refs: Sequence[str], hyps: Sequence[str], order: int = 6, beta: float = 2.0) -> float:
    """Corpus chrF (0-100) on characters with spaces removed, as sacrebleu computes it.

    Character n-gram matches for n = 1..order are summed over the whole corpus,
    precision and recall are averaged over n, and combined with recall weighted
    ``beta`` times as much as precision.
    """
    from collections import Counter

    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    matches, hyp_total, ref_total = [0] * order, [0] * order, [0] * order
    for ref, hyp in zip(refs, hyps):
        ref, hyp = "".join(ref.split()), "".join(hyp.split())
        for n in range(1, order + 1):
            r = Counter(ref[i:i + n] for i in range(len(ref) - n + 1))
            h = Counter(hyp[i:i + n] for i in range(len(hyp) - n + 1))
            matches[n - 1] += sum((r & h).values())
            hyp_total[n - 1] += sum(h.values())
            ref_total[n - 1] += sum(r.values())
    precision = [m / t for m, t in zip(matches, hyp_total) if t] or [0.0]
    recall = [m / t for m, t in zip(matches, ref_total) if t] or [0.0]
    p, r = sum(precision) / len(precision), sum(recall) / len(recall)
    if p + r == 0:
        return 0.0
    return 100 * (1 + beta**2) * p * r / (beta**2 * p + r)
