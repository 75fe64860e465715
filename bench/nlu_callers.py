"""How well the intent model reads card callers, against the simple peer it must beat, per seed.

Test sets (the domain pack's, written apart from its training examples and never used for a choice):

* ``informal_test.csv``: short requests the way people talk to a phone bot, out-of-scope rows included;
* ``caller_test.csv``: long lines the way callers state their reason on the phone (greeting, hedges,
  back-references, 10-40 words), where the pack has one.

``--dev`` reads the pack's dev sets instead (``dev_informal.csv``, ``dev_caller.csv``: the same two kinds,
written apart from both), the rows a recipe's choices are made on.
``--rows`` reads any labelled CSV files instead, such as ``bench/callers/``'s fresh callers (written after the
recipe was chosen, read once), its twins (card requests beside their twins about another business the caller
names: ``_dev`` for choices, ``_test`` read once), its short spoken requests, short requests as said to a
phone bot and dialog acts (``_spoken_dev``, ``_plain_dev``, ``_acts_dev``: for choices) or a team's own.

Engines, on the same rows:

* **model, seed N**: the intent model ``kocall train`` makes, trained here with seed N (its data split and
  augmentation follow the seed; about 30 s each on 2 cores);
* **shipped**: the model ``kocall serve`` serves (``--shipped`` evaluates only it and the peer, in seconds);
* **peer**: character (1-4, within words) + word (1-2) n-gram TF-IDF with logistic regression, trained
  on every example of the pack the recipe trains on (``intents.csv`` and the FAQ entries' titles and questions)
  plus the ``kocall data banmal`` form of each, no out-of-scope rows,
  out of scope when its top probability is under 0.3 (the peer of issue 20, at its best threshold).

Per engine and set: accuracy, the share of in-scope rows turned away as out of scope, the share of
out-of-scope rows answered as an intent; then the model's most frequent confusions on the short set.

    .venv/bin/python bench/nlu_callers.py --shipped                 # the served model and the peer
    .venv/bin/python bench/nlu_callers.py --seeds 13 14 15          # three trainings of the recipe, ~2 min
    .venv/bin/python bench/nlu_callers.py --dev                     # the same on the dev sets
    .venv/bin/python bench/nlu_callers.py --shipped --rows mine.csv # your own labelled rows (text,label)
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from scipy.sparse import hstack  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from core.settings import Settings  # noqa: E402
from data_tools.augment.banmal import to_banmal_many  # noqa: E402
from data_tools.augment.dataset import DatasetError, load_examples  # noqa: E402
from data_tools.training.recipes import INTENT_CONFIG, intent_data, intent_examples, train_and_report  # noqa: E402
from nlu.classifier import OUT_OF_SCOPE, TextClassifier  # noqa: E402
from nlu.normalize import normalize  # noqa: E402
from nlu.understand import INTENT, model_path  # noqa: E402

PEER_THRESHOLD = 0.3
Engine = Callable[[Sequence[str]], list[str]]


def peer(texts: Sequence[str], labels: Sequence[str]) -> Engine:
    """The simple peer: char + word n-gram TF-IDF, logistic regression, a probability floor for out of scope."""
    texts = [normalize(t) for t in [*texts, *to_banmal_many(texts)]]
    labels = [*labels, *labels]
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True).fit(texts)
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+").fit(texts)
    features = lambda rows: hstack([chars.transform(rows), words.transform(rows)]).tocsr()  # noqa: E731
    regression = LogisticRegression(C=10.0, max_iter=3000).fit(features(texts), labels)

    def predict(rows: Sequence[str]) -> list[str]:
        probs = regression.predict_proba(features([normalize(r) for r in rows]))
        best = probs.argmax(axis=1)
        return [OUT_OF_SCOPE if p[b] < PEER_THRESHOLD else regression.classes_[b] for p, b in zip(probs, best)]

    return predict


def model_engine(model: TextClassifier) -> Engine:
    return lambda rows: [p.label for p in model.predict(list(rows))]


def scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    gold, predicted = np.array(gold, dtype=object), np.array(predicted, dtype=object)
    in_scope, oos = gold != OUT_OF_SCOPE, gold == OUT_OF_SCOPE
    return {
        "n": len(gold),
        "accuracy": float((gold == predicted).mean()),
        "turned_away": float((predicted[in_scope] == OUT_OF_SCOPE).mean()) if in_scope.any() else float("nan"),
        "oos_answered": float((predicted[oos] != OUT_OF_SCOPE).mean()) if oos.any() else float("nan"),
    }


def confusions(gold: Sequence[str], predicted: Sequence[str], top: int = 12) -> list[tuple[str, str, int]]:
    pairs = collections.Counter((g, p) for g, p in zip(gold, predicted) if g != p)
    return [(g, p, n) for (g, p), n in pairs.most_common(top)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="*", default=[13, 14, 15], help="train the recipe with each")
    parser.add_argument("--shipped", action="store_true", help="only the served model and the peer, no training")
    parser.add_argument("--dev", action="store_true", help="the pack's dev sets instead of its test sets")
    parser.add_argument("--rows", type=Path, nargs="+", metavar="CSV",
                        help="read these sets instead (text,label CSV files, out_of_scope for what the pack "
                             "does not serve), each reported under its file name")
    args = parser.parse_args()
    settings = Settings()
    pack = settings.pack()
    training = intent_examples(pack)
    if args.rows:
        try:
            sets = {path.stem: load_examples(path) for path in args.rows}
        except DatasetError as exc:
            parser.error(str(exc))
        known = {e.label for e in training} | {OUT_OF_SCOPE}
        unknown = sorted({e.label for rows in sets.values() for e in rows} - known)
        if unknown:
            parser.error(f"labels the pack has no intent for: {', '.join(unknown)}")
    else:
        short, long = pack.dev_files if args.dev else pack.test_files
        sets = {"short informal": load_examples(short)}
        if long.is_file():
            sets["long caller lines"] = load_examples(long)
    engines: dict[str, Engine] = {"peer": peer([e.text for e in training], [e.label for e in training]),
                                  "shipped": model_engine(TextClassifier.load(
                                      model_path(settings.nlu, settings.cache_dir, pack, INTENT)))}
    for seed in [] if args.shipped else args.seeds:
        print(f"training the intent recipe with seed {seed} ...", file=sys.stderr, flush=True)
        data = intent_data(seed=seed, pack=pack)
        engines[f"model seed {seed}"] = model_engine(train_and_report(
            data, replace(INTENT_CONFIG, seed=seed)))

    results: dict[tuple[str, str], dict] = {}
    predictions: dict[tuple[str, str], list[str]] = {}
    for name, engine in engines.items():
        for set_name, rows in sets.items():
            predictions[name, set_name] = engine([e.text for e in rows])
            results[name, set_name] = scores([e.label for e in rows], predictions[name, set_name])

    for set_name, rows in sets.items():
        print(f"\n{set_name} ({len(rows)} rows, {sum(e.label == OUT_OF_SCOPE for e in rows)} out of scope)")
        print(f"  {'engine':16s} {'accuracy':>8s} {'in-scope turned away':>21s} {'out of scope answered':>22s}")
        for name in engines:
            r = results[name, set_name]
            print(f"  {name:16s} {r['accuracy']:8.3f} {r['turned_away']:21.3f} {r['oos_answered']:22.3f}")
        seeds = [results[name, set_name]["accuracy"] for name in engines if name.startswith("model seed")]
        if seeds:
            print(f"  {'model, median':16s} {statistics.median(seeds):8.3f}   (min {min(seeds):.3f}, max {max(seeds):.3f};"
                  f" peer {results['peer', set_name]['accuracy']:.3f})")

    model = next(name for name in reversed(list(engines)) if name != "peer")
    first = next(iter(sets))
    print(f"\n{model}: most frequent confusions on {first} (gold -> predicted, count)")
    gold_labels = [e.label for e in sets[first]]
    for gold, predicted, n in confusions(gold_labels, predictions[model, first]):
        print(f"  {gold:24s} -> {predicted:24s} {n}")


if __name__ == "__main__":
    main()
