"""Does banmal augmentation close the polite -> banmal gap? (3i4K utterance types)

3i4K rows are sorted by speech style with Kiwi (polite = 해요체/합쇼체 final
ending, banmal = another final ending, none = no final ending). Utterance-type
models are trained on (a) polite training rows only, (b) those rows plus every
banmal form of each (the ``banmal_all`` transform: 먹었어/먹었다, 먹냐/먹니/먹는지
알려줘, 먹어/먹어라), (c) all training rows; all are tested on held-out banmal and polite
rows, for the transformer, the character n-gram baseline, and the two mixed as
the default model mixes them (``ngram_weight``). (b2) adds to (b) one recombined row
for each statement, question and command (``data_tools/augment/recombine.py``: its
predicate after another row's content), so that content stops standing for a
type the predicate decides. On banmal rows
each engine is also scored "+ label shift" (``nlu/priors.py``): its
probabilities re-weighed from its training mix (its mean probabilities on its
validation rows) to the banmal label mix, which EM estimates from the
unlabelled text of the banmal training rows (polite rows are two-thirds
statements; banmal rows mostly questions and commands). A fifth model,
(b+), adds self-training: the unlabelled banmal training texts, labelled by
the (b) baseline after label shift (the best reading of banmal that needs no
banmal label), are added to (b)'s rows. Develop against the validation rows;
the test rows are for the figures that get reported.

    .venv/bin/python bench/nlu_style.py --eval-split validation test   # about 30 minutes on 2 idle cores
    .venv/bin/python bench/nlu_style.py --eval-split validation --mlm-epochs 3 --subwords   # the alternatives
    .venv/bin/python bench/nlu_style.py --eval-split validation test --epochs 6   # every model with the default 6 epochs
    .venv/bin/python bench/nlu_style.py --eval-split validation --baseline-only    # about a minute
    .venv/bin/python bench/nlu_style.py --eval-split validation test --sets a b2 c --seed 14   # another draw, 15 min
    .venv/bin/python bench/nlu_style.py --eval-split validation test --no-end-positions   # positions from the start
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from datasets import Dataset, DatasetDict  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from tqdm import tqdm  # noqa: E402

from data_tools.augment.banmal import speech_style  # noqa: E402
from data_tools.augment.dataset import add_recombined, augment  # noqa: E402
from data_tools.augment.recombine import PREDICATE_TYPES  # noqa: E402
from data_tools.evaluation.accuracy import scores  # noqa: E402
from data_tools.evaluation.priors import estimate_priors, shift  # noqa: E402
from data_tools.training.classifier import train  # noqa: E402
from data_tools.training.recipes import (  # noqa: E402
    TRANSFORMER_NGRAM, UTTERANCE_TYPE_CONFIG, unlabelled_corpus, utterance_type_data,
)
from nlu.baseline import baseline_probabilities, train_baseline  # noqa: E402

FULL_ROWS = 44000  # epochs are scaled so that every model gets about the same number of updates
LABEL_SHIFT = " + label shift"


def styled(rows, style: str | None):
    return rows if style is None else rows.filter(lambda r: r["style"] == style)


def _baseline(rows, balanced: bool, model: Pipeline | None = None
              ) -> tuple[list[str], Callable[[list[str]], np.ndarray]]:
    """The baseline trained on ``rows`` (``model`` if it is already trained) as an engine: labels, probabilities."""
    model = train_baseline(rows["text"], rows["label"], balanced=balanced) if model is None else model
    return list(model.classes_), lambda texts: baseline_probabilities(model, texts)


def _label_mixes(probabilities: Callable[[list[str]], np.ndarray], validation, unlabelled: list[str]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A model's training label mix and the banmal mix EM estimates from ``unlabelled`` banmal text (no labels
    read). The training mix is the model's mean probability on its own validation rows, not the label counts:
    a type with 6 training rows gets far more than 6/6,866 of the calibrated probability, and EM then runs
    away with it."""
    train_priors = probabilities(validation["text"]).mean(axis=0)
    return train_priors, estimate_priors(probabilities(unlabelled), train_priors)


def _self_training_rows(rows, validation, unlabelled: list[str], balanced: bool) -> Dataset:
    """``rows`` plus the ``unlabelled`` banmal texts, labelled by the baseline trained on ``rows`` after label
    shift: no banmal label is read."""
    labels, probabilities = _baseline(rows, balanced)
    train_priors, banmal_priors = _label_mixes(probabilities, validation, unlabelled)
    pseudo = [labels[i] for i in shift(probabilities(unlabelled), train_priors, banmal_priors).argmax(axis=1)]
    return Dataset.from_dict({"text": [*rows["text"], *unlabelled], "label": [*rows["label"], *pseudo]})


def _score(validation, engines: dict, tests: dict, unlabelled: list[str]) -> dict:
    """Each engine's scores on each test set; on banmal rows also after label-shift correction to the
    banmal mix estimated from ``unlabelled`` banmal text."""
    result: dict = {"estimated_banmal_priors": {}}
    for engine, (labels, probabilities) in engines.items():
        train_priors, banmal_priors = _label_mixes(probabilities, validation, unlabelled)
        result["estimated_banmal_priors"][engine] = dict(zip(labels, banmal_priors.round(3).tolist()))
        for (split, style), test in tests.items():
            probs = probabilities(test["text"])
            cell = result.setdefault(split, {}).setdefault(style, {})
            cell[engine] = scores(test["label"], [labels[i] for i in probs.argmax(axis=1)])
            if style == "banmal":
                shifted = shift(probs, train_priors, banmal_priors)
                cell[engine + LABEL_SHIFT] = scores(test["label"], [labels[i] for i in shifted.argmax(axis=1)])
    return result


def report(results: dict, split: str) -> None:
    """The table for one held-out split, and the share of the (a) -> (c) gap on banmal rows that (b) and (b+)
    close."""
    engines = list(results[next(iter(results))][split]["banmal"])
    print(f"\nscored on {split} rows (label shift: the banmal label mix estimated from unlabelled banmal "
          "training text and applied to banmal rows)")
    print(f"{'train set':34s} {'rows':>6s} | {'test':6s} {'n':>5s} | "
          + " | ".join(f"{engine + ' acc / F1':>30s}" for engine in engines))
    for name, r in results.items():
        for style, cell in r[split].items():
            n = next(iter(cell.values()))["n"]
            cells = " | ".join(f"{cell[e]['accuracy']:22.3f} / {cell[e]['macro_f1']:.3f}" if e in cell
                               else f"{'-':>30s}" for e in engines)
            print(f"{name:34s} {r['train_rows']:6d} | {style:6s} {n:5d} | {cells}")
    names = list(results)
    if len(names) < 2 or not (names[0].startswith("(a)") and names[-1].startswith("(c)")):
        return  # a share of the gap needs both of its ends
    first, *middle, last = names
    for engine in engines:
        a, c = (results[name][split]["banmal"][engine]["accuracy"] for name in (first, last))
        for name in middle:
            b = results[name][split]["banmal"][engine]["accuracy"]
            closed = (b - a) / (c - a) if c != a else float("nan")
            print(f"{engine}: {name} closes {closed:.0%} of the polite-only -> all-styles gap on banmal rows "
                  f"({a:.3f} -> {b:.3f}, upper bound {c:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path,
                        help="JSON results (default bench/out/nlu_style[_validation][_baseline].json)")
    parser.add_argument("--eval-split", nargs="+", choices=("validation", "test"), default=["test"],
                        help="held-out rows to score on (default test; iterate on validation; both: one training)")
    parser.add_argument("--baseline-only", action="store_true", help="skip the transformer (seconds, not minutes)")
    parser.add_argument("--balanced", action="store_true",
                        help="weight every utterance type equally in training (both engines): polite rows are "
                        "two-thirds statements, banmal rows not")
    parser.add_argument("--mlm-epochs", type=int, default=UTTERANCE_TYPE_CONFIG.mlm_epochs,
                        help="masked-language pre-training passes over unlabelled text (SmileStyle, chatbot_data) "
                        "plus the condition's own training texts, before each transformer is fine-tuned "
                        f"(default {UTTERANCE_TYPE_CONFIG.mlm_epochs}, the default model's)")
    parser.add_argument("--subwords", action="store_true",
                        help="learnt WordPiece subwords instead of the default model's syllable tokens")
    parser.add_argument("--epochs", type=int,
                        help="the same passes for every model (default: scaled so that every model gets about "
                        "as many updates as the all-styles one)")
    parser.add_argument("--end-positions", action=argparse.BooleanOptionalAction,
                        default=UTTERANCE_TYPE_CONFIG.end_positions,
                        help="a [CLS] token first and positions counted back from the last token "
                        f"(default {UTTERANCE_TYPE_CONFIG.end_positions}, the default model's)")
    parser.add_argument("--sets", nargs="+", choices=("a", "b", "b2", "b+", "c"),
                        help="train only these conditions (default all; the gap needs a and c)")
    parser.add_argument("--seed", type=int, default=UTTERANCE_TYPE_CONFIG.seed,
                        help=f"seed of the recombination and of training (default {UTTERANCE_TYPE_CONFIG.seed})")
    parser.add_argument("--threads", type=int, default=UTTERANCE_TYPE_CONFIG.threads,
                        help="torch threads; 1 on a busy machine, where 2 threads wait on each other")
    args = parser.parse_args()
    data = utterance_type_data()
    data = DatasetDict({k: v.map(lambda r: {"style": speech_style(r["text"])}) for k, v in data.items()})
    polite_train = DatasetDict({"train": styled(data["train"], "polite")})
    polite_validation = styled(data["validation"], "polite")
    augmented = augment(polite_train, ["banmal_all"])["train"]
    recombined = add_recombined(DatasetDict({"train": augmented}), PREDICATE_TYPES, args.seed,
                                progress=lambda t: tqdm(t, file=sys.stderr, desc="recombining"))["train"]
    unlabelled_banmal = styled(data["train"], "banmal")["text"]  # text only: what a day of calls would give
    sets = {
        "(a) polite only": lambda: (styled(data["train"], "polite"), polite_validation),
        "(b) polite + banmal augmentation": lambda: (augmented, polite_validation),
        "(b2) (b) + recombined": lambda: (recombined, polite_validation),
        "(b+) (b) + self-training": lambda: (
            _self_training_rows(augmented, polite_validation, unlabelled_banmal, args.balanced), polite_validation),
        "(c) all styles": lambda: (data["train"], data["validation"]),
    }
    sets = {name: rows for name, rows in sets.items() if not args.sets or name[1:name.index(")")] in args.sets}
    tests = {(split, style): styled(data[split], style) for split in args.eval_split for style in ("banmal", "polite")}
    suffix = (("" if "test" in args.eval_split else "_validation") + ("_baseline" if args.baseline_only else "")
              + ("_balanced" if args.balanced else "") + (f"_mlm{args.mlm_epochs}" if args.mlm_epochs else "")
              + ("_subwords" if args.subwords else "") + (f"_epochs{args.epochs}" if args.epochs else "")
              + ("" if args.end_positions else "_absolute_positions")
              + ("" if args.seed == UTTERANCE_TYPE_CONFIG.seed else f"_seed{args.seed}"))
    out = args.out or ROOT / "bench" / "out" / f"nlu_style{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    corpus = unlabelled_corpus() if args.mlm_epochs else []
    results = {}
    for name, rows_of in sets.items():
        rows, validation = rows_of()
        epochs = args.epochs or min(30, math.ceil(UTTERANCE_TYPE_CONFIG.epochs * FULL_ROWS / len(rows)))
        print(f"... {name}: {len(rows)} rows, {epochs} epochs", file=sys.stderr)
        engines = {}
        if not args.baseline_only:
            model = train(rows["text"], rows["label"], validation["text"], validation["label"],
                          config=replace(UTTERANCE_TYPE_CONFIG, epochs=epochs, threads=args.threads,
                                         balanced=args.balanced, mlm_epochs=args.mlm_epochs,
                                         end_positions=args.end_positions, seed=args.seed,
                                         syllables=UTTERANCE_TYPE_CONFIG.syllables and not args.subwords),
                          tokenizer_corpus=corpus,
                          progress=lambda e: tqdm(e, file=sys.stderr, desc=name))
            engines["transformer"] = (model.labels, lambda texts, m=model: m.probabilities(texts, with_ngram=False))
            engines[TRANSFORMER_NGRAM] = (model.labels, model.probabilities)
        # the transformer carries the baseline trained on the same rows (UTTERANCE_TYPE_CONFIG.ngram_weight)
        engines["baseline"] = _baseline(rows, args.balanced, None if args.baseline_only else model.ngram)
        results[name] = {"train_rows": len(rows), "epochs": epochs,
                         "train_labels": dict(sorted(Counter(rows["label"]).items())),
                         **_score(validation, engines, tests, unlabelled_banmal)}
        out.write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")  # a long run keeps what it has
    for split in args.eval_split:
        report(results, split)


if __name__ == "__main__":
    main()
