"""Does banmal augmentation close the polite -> banmal gap? (3i4K utterance types)

3i4K rows are sorted by speech style with Kiwi (polite = 해요체/합쇼체 final
ending, banmal = another final ending, none = no final ending). Utterance-type
models are trained on (a) polite training rows only, (b) those rows plus their
banmal conversions, (c) all training rows; all are tested on held-out banmal
and polite rows, for the transformer and the character n-gram baseline.

    .venv/bin/python bench/nlu_style.py            # about 10 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasets import DatasetDict  # noqa: E402
from tqdm import tqdm  # noqa: E402

from data_tools.banmal import speech_style  # noqa: E402
from data_tools.dataset import augment  # noqa: E402
from nlu.baseline import predict_baseline, train_baseline  # noqa: E402
from nlu.classifier import train  # noqa: E402
from nlu.evaluate import scores  # noqa: E402
from nlu.training import UTTERANCE_TYPE_CONFIG, utterance_type_data  # noqa: E402

FULL_ROWS = 44000  # epochs are scaled so that every model gets about the same number of updates


def styled(rows, style: str | None):
    return rows if style is None else rows.filter(lambda r: r["style"] == style)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "nlu_style.json")
    args = parser.parse_args()
    data = utterance_type_data()
    data = DatasetDict({k: v.map(lambda r: {"style": speech_style(r["text"])}) for k, v in data.items()})
    polite_train = DatasetDict({"train": styled(data["train"], "polite")})
    sets = {
        "(a) polite only": (styled(data["train"], "polite"), styled(data["validation"], "polite")),
        "(b) polite + banmal augmentation": (augment(polite_train, ["banmal"])["train"],
                                             styled(data["validation"], "polite")),
        "(c) all styles": (data["train"], data["validation"]),
    }
    tests = {style: styled(data["test"], style) for style in ("banmal", "polite")}
    results = {}
    for name, (rows, validation) in sets.items():
        epochs = min(30, math.ceil(UTTERANCE_TYPE_CONFIG.epochs * FULL_ROWS / len(rows)))
        print(f"... {name}: {len(rows)} rows, {epochs} epochs", file=sys.stderr)
        model = train(rows["text"], rows["label"], validation["text"], validation["label"],
                      config=replace(UTTERANCE_TYPE_CONFIG, epochs=epochs), tokenizer_corpus=rows["text"],
                      progress=lambda e: tqdm(e, file=sys.stderr, desc=name))
        baseline = train_baseline(rows["text"], rows["label"])
        results[name] = {"train_rows": len(rows)}
        for style, test in tests.items():
            gold = test["label"]
            results[name][style] = {
                "transformer": scores(gold, [p.label for p in model.predict(test["text"])]),
                "baseline": scores(gold, predict_baseline(baseline, test["text"])),
            }

    print(f"\n{'train set':34s} {'rows':>6s} | {'test':6s} {'n':>5s} | {'transformer acc / F1':>21s} | "
          f"{'baseline acc / F1':>18s}")
    for name, r in results.items():
        for style in tests:
            t, b = r[style]["transformer"], r[style]["baseline"]
            print(f"{name:34s} {r['train_rows']:6d} | {style:6s} {t['n']:5d} | {t['accuracy']:10.3f} / {t['macro_f1']:.3f} "
                  f"| {b['accuracy']:7.3f} / {b['macro_f1']:.3f}")
    names = list(results)
    for engine in ("transformer", "baseline"):
        a, b, c = (results[n]["banmal"][engine]["accuracy"] for n in names)
        closed = (b - a) / (c - a) if c != a else float("nan")
        print(f"{engine}: augmentation closes {closed:.0%} of the polite-only -> all-styles gap on banmal rows "
              f"({a:.3f} -> {b:.3f}, upper bound {c:.3f})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
