"""Which FAQ answer the dialog gives, apart from the intent model: the pack's entry choice on labelled lines.

Each file (``bench/faq_entries/<pack>_<set>.csv``: ``text,intent,entry``) holds the lines of a dev, test or
fresh set whose intent has several FAQ entries, labelled by another writer with the entry that answers it,
``either`` where the words do not tell the entries apart, or ``none`` where no entry answers (left out). Given
the labelled intent, a line is answered right, asked about ("혹시 A, 아니면 B?"), or answered wrong; for the
``either`` lines a question is the better outcome. The dev sets (``*_dev_*``) are for choices; read the others
once per change.

    .venv/bin/python bench/faq.py                  # the dev sets
    .venv/bin/python bench/faq.py --all --show     # every set, and each line not answered right
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import Settings  # noqa: E402
from dialog import faq  # noqa: E402
from dialog.domain import Domain  # noqa: E402


def outcome(domain: Domain, text: str, intent: str, entry: str) -> tuple[str, list[str]]:
    """("right" | "asked" | "wrong" | "either asked" | "either answered", the entries answered or offered)."""
    best, *others = faq.rank(domain, text, intent)[:2]
    asked = faq.unsure(domain, text, intent)
    given = [best.entry.id, others[0].entry.id] if asked else [best.entry.id]
    if entry == "either":
        return ("either asked" if asked else "either answered"), given
    return ("asked" if asked else "right" if best.entry.id == entry else "wrong"), given


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="the held-out sets too, not only the dev sets")
    parser.add_argument("--show", action="store_true", help="print each line not answered right")
    args = parser.parse_args()
    domain = Domain.load(Settings().pack().domain)
    folder = ROOT / "bench" / "faq_entries"
    paths = sorted(folder.glob(f"{domain.name}_*.csv"))
    if not args.all:
        paths = [p for p in paths if "_dev_" in p.name]
    if not paths:
        parser.error(f"no labelled lines at {folder / (domain.name + '_*.csv')}")
    faq.prepare(domain)
    print(f"{'set':34s} {'lines':>5s} {'right':>11s} {'asked':>6s} {'wrong':>6s}   either: asked / answered")
    for path in paths:
        counts: Counter[str] = Counter()
        for row in csv.DictReader(path.open(encoding="utf-8")):
            if row["entry"] == "none":
                continue
            kind, given = outcome(domain, row["text"], row["intent"], row["entry"])
            counts[kind] += 1
            if args.show and kind in ("asked", "wrong"):
                print(f"    {kind:5s} {row['entry']:24s} -> {', '.join(given):45s} {row['text']}")
        n = counts["right"] + counts["asked"] + counts["wrong"]
        print(f"{path.stem:34s} {n:5d} {counts['right']:4d} ({counts['right'] / n:.3f}) {counts['asked']:6d}"
              f" {counts['wrong']:6d}   {counts['either asked']} / {counts['either answered']}")


if __name__ == "__main__":
    main()
