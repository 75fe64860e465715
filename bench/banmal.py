"""Polite -> banmal conversion judged against human-written informal text (SmileStyle).

Converts every formal sentence of ../shared/data/smilestyle and prints corpus chrF
(character 1-6-grams, beta 2, spaces removed), the exact-match rate (spaces and
punctuation ignored), sentence-type preservation, the floor of leaving the formal
text unchanged, and the most frequent remaining word-level differences.

    .venv/bin/python bench/banmal.py
"""

from __future__ import annotations

import collections
import csv
import difflib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data_tools.augment.banmal import sentence_type, to_banmal_many  # noqa: E402
from data_tools.evaluation.metrics import chrf, normalize  # noqa: E402

SMILESTYLE = ROOT.parent / "shared" / "data" / "smilestyle" / "smilestyle_dev.tsv"


def load_pairs() -> list[tuple[str, str]]:
    with open(SMILESTYLE, encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t")
        return [(r["formal"].strip(), r["informal"].strip()) for r in rows
                if (r.get("formal") or "").strip() and (r.get("informal") or "").strip()]


def exact(refs: list[str], hyps: list[str]) -> float:
    return sum(normalize(r) == normalize(h) for r, h in zip(refs, hyps)) / len(refs)


def word_differences(refs: list[str], hyps: list[str]) -> collections.Counter:
    """(ours, reference) word pairs where the two disagree."""
    counts: collections.Counter = collections.Counter()
    for ref, hyp in zip(refs, hyps):
        r, h = ref.split(), hyp.split()
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=h, b=r, autojunk=False).get_opcodes():
            if op != "equal":
                counts[(" ".join(h[i1:i2]), " ".join(r[j1:j2]))] += 1
    return counts


def main() -> None:
    pairs = load_pairs()
    formal, informal = [p[0] for p in pairs], [p[1] for p in pairs]
    start = time.perf_counter()
    converted = to_banmal_many(formal)
    seconds = time.perf_counter() - start
    kept = sum(sentence_type(f) == sentence_type(c) for f, c in zip(formal, converted)) / len(formal)
    print(f"{len(pairs)} formal/informal pairs; converted in {seconds:.1f} s (incl. loading Kiwi)\n")
    print(f"{'':28s} {'chrF':>6s} {'exact':>7s}")
    print(f"{'floor (formal unchanged)':28s} {chrf(informal, formal):6.2f} {exact(informal, formal):7.1%}")
    print(f"{'kocall data banmal':28s} {chrf(informal, converted):6.2f} {exact(informal, converted):7.1%}")
    print(f"\nsentence type (question/request/statement) preserved: {kept:.2%}")
    print("\n20 most frequent remaining differences (ours -> human reference):")
    for (ours, ref), n in word_differences(informal, converted).most_common(20):
        print(f"  {n:4d}  {ours or '∅'!s:24s} -> {ref or '∅'}")


if __name__ == "__main__":
    main()
