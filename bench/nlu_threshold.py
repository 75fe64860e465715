"""The intent model's out-of-scope rule against the threshold rules before it, per seed.

Rules: kocall's (no confidence threshold: only the model's out_of_scope class is out of scope), and three
thresholds chosen on the validation rows: a caller turned away counts twice a chat line answered (recipe 5),
the two count alike (recipe 4), and best macro-F1 (earlier still). Trains the default intent model once per
seed (about 20 s each on 2 cores), applies every rule to the same probabilities and prints, for each, the
threshold, the polite and the independently written informal test accuracy, and the share of
chatbot_data's questions (every fourth) turned away; then the median over the seeds. Training repeats
(docs/understanding.md, "Training repeats"): a seed gives the same figures on every run on one machine.

    .venv/bin/python bench/nlu_threshold.py --seeds 13 14 15 16
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data_tools.training.classifier import choose_threshold, train  # noqa: E402
from data_tools.training.recipes import (  # noqa: E402
    INTENT_CONFIG, chat_questions, informal_test_examples, intent_data,
)
from nlu.classifier import OUT_OF_SCOPE, TextClassifier  # noqa: E402


def macro_f1_threshold(probs: np.ndarray, gold: list[str], labels: list[str]) -> float:
    """The rule used earlier: the best validation macro-F1 (the lowest threshold on a tie)."""
    from sklearn.metrics import f1_score

    top, conf = probs.argmax(axis=1), probs.max(axis=1)

    def f1(threshold: float) -> float:
        predicted = [OUT_OF_SCOPE if c < threshold else labels[i] for i, c in zip(top, conf)]
        return f1_score(gold, predicted, average="macro", zero_division=0)

    return round(float(max(np.arange(0.0, 0.96, 0.025), key=f1)), 3)


def figures(model: TextClassifier, threshold: float, sets: dict[str, tuple[list[str], list[str] | None]],
            probs: dict[str, np.ndarray]) -> dict[str, float]:
    model.meta.threshold = threshold
    out = {"threshold": threshold}
    for name, (texts, gold) in sets.items():
        answers = [model.answer(p).label for p in probs[name]]
        out[name] = (float(np.mean([a == OUT_OF_SCOPE for a in answers])) if gold is None
                     else float(np.mean([a == g for a, g in zip(answers, gold)])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[13, 14], help="training seeds (default 13 14)")
    args = parser.parse_args()
    informal = informal_test_examples()
    rules = {"none (kocall)": lambda *args: 0.0,
             "weighted 2:1 (recipe 5)": choose_threshold,
             "balanced 1:1 (recipe 4)": lambda *args: choose_threshold(*args, in_scope_weight=1.0),
             "macro-F1 (earlier)": macro_f1_threshold}
    results: dict[str, list[dict[str, float]]] = {rule: [] for rule in rules}
    columns = ["threshold", "polite", "informal", "chat turned away"]
    print(f"{'seed':>4}  {'rule':24s}" + "".join(f"{c:>18s}" for c in columns), flush=True)
    for seed in args.seeds:
        data = intent_data(seed=seed)  # the seed draws the split and the augmentation
        sets = {"polite": (data["test"]["text"], data["test"]["label"]),
                "informal": ([e.text for e in informal], [e.label for e in informal]),
                "chat turned away": (chat_questions()[::4], None)}
        validation = (data["validation"]["text"], data["validation"]["label"])
        model = train(data["train"]["text"], data["train"]["label"], *validation,
                      config=replace(INTENT_CONFIG, seed=seed))
        val_probs = model.probabilities(validation[0])
        probs = {name: model.probabilities(texts) for name, (texts, _) in sets.items()}
        for rule, choose in rules.items():
            row = figures(model, choose(val_probs, validation[1], model.meta.labels), sets, probs)
            results[rule].append(row)
            print(f"{seed:>4}  {rule:24s}" + "".join(f"{row[c]:18.3f}" for c in columns), flush=True)
    for rule, rows in results.items():
        print(f"{'p50':>4}  {rule:24s}" + "".join(f"{statistics.median(r[c] for r in rows):18.3f}" for c in columns))
    print("worst informal: " + ", ".join(f"{rule} {min(r['informal'] for r in rows):.3f}"
                                         for rule, rows in results.items()))


if __name__ == "__main__":
    main()
