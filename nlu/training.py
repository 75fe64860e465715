"""Training data for the two pipeline models, and ``kocall train``'s work.

* **intent** (card/bank domain): the polite examples in ``nlu/resources`` are split
  stratified (train / validation / polite test) *before* augmentation; train is
  augmented with every casual-speech transform, validation with banmal and
  fragments so that calibration and the out-of-scope threshold are chosen on
  text that looks like callers. Out-of-scope examples are unrelated utterances
  from 3i4K (chat data from ``chatbot_data`` is kept for evaluating that).
* **utterance type**: 3i4K, split stratified with identical texts kept together.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable, Iterator

from datasets import DatasetDict, concatenate_datasets
from tqdm import tqdm

from data_tools.banmal import speech_style
from data_tools.dataset import Example, augment, load_examples, split
from nlu.baseline import predict_baseline, train_baseline
from nlu.classifier import META_FILE, OUT_OF_SCOPE, TextClassifier, TrainConfig, read_meta, train
from nlu.evaluate import scores
from nlu.understand import INTENT, UTTERANCE_TYPE
from stt.lexicon import Lexicon

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"  # beside the repository
I4K = "3i4k/fci_train_val.txt"
TRAIN_TRANSFORMS = ("banmal", "fragment", "drop_particles", "filler", "contraction", "spacing", "stt_confusion")
VALIDATION_TRANSFORMS = ("banmal", "fragment")
OOS_TRAIN, OOS_VALIDATION = 500, 150
# 200 written examples are few for a transformer from scratch: its tokenizer and a masked-language
# pre-training pass come from unlabelled Korean text (3i4K, SmileStyle), which lifted informal-test
# accuracy from 0.68 to 0.76 in our runs.
INTENT_CONFIG = TrainConfig(epochs=40, batch_size=32, learning_rate=1e-3, hidden_size=128, layers=2,
                            vocab_size=8000, mlm_epochs=2)
# Utterance type rests on sentence endings, which syllable tokens share across verbs (먹었냐, 갔냐):
# trained on 3i4K's polite rows only, it reads 0.558 of the banmal test rows right, against 0.409 with
# learnt subwords; trained on all rows, the same either way (0.836, 0.837). Ten epochs were no better than six.
# Mixed with the n-gram baseline it carries, it reads 0.856 of the banmal test rows (alone 0.837, baseline 0.850).
# Positions counted back from the last token put the predicate at one place: trained on all rows 0.846 alone
# (0.831 before, bench/nlu_style.py), and banmal augmentation of polite rows closes 57% of the gap, not 42%.
UTTERANCE_TYPE_CONFIG = TrainConfig(epochs=6, syllables=True, ngram_weight=0.5, end_positions=True)
TRANSFORMER_NGRAM = "transformer + n-gram"  # the metrics of a model that carries an n-gram model (ngram_weight)
# The version of each default model's recipe (data, config, what the folder holds), raised when a change makes
# folders trained before worth replacing: `kocall serve` retrains a default folder with a lower one (folders
# from before it was recorded: 1). Utterance type 2: it carries its n-gram model. Intent 2: its out-of-scope
# threshold balances callers answered against chat turned away (classifier.choose_threshold); utterance type 3:
# positions counted from the end (TrainConfig.end_positions).
RECIPES = {INTENT: 2, UTTERANCE_TYPE: 3}


def intent_examples() -> list[Example]:
    path = resources.files("nlu.resources").joinpath("card_bank_intents.csv")
    with resources.as_file(path) as file:
        return load_examples(file)


def intent_mix() -> dict[str, float]:
    """How many polite examples each intent was trained from: the reference mix for drift monitoring."""
    return {k: float(v) for k, v in Counter(e.label for e in intent_examples()).items()}


def informal_test_examples() -> list[Example]:
    path = resources.files("nlu.resources").joinpath("card_bank_intents_informal_test.csv")
    with resources.as_file(path) as file:
        return load_examples(file)


def out_of_scope_examples(data_dir: Path, n: int, seed: int = 13) -> list[Example]:
    """Unrelated chat utterances: 3i4K rows of six or more characters without domain terms."""
    lexicon_terms = [t.replace(" ", "") for t in Lexicon.load(None).terms]
    rows = [e for e in load_examples(data_dir / I4K)
            if len(e.text.replace(" ", "")) >= 6 and not any(t in e.text.replace(" ", "") for t in lexicon_terms)]
    return [replace(e, label=OUT_OF_SCOPE) for e in random.Random(seed).sample(rows, n)]


def intent_data(data_dir: Path = SHARED_DATA, seed: int = 13) -> DatasetDict:
    """Splits of the intent data; train and validation augmented, test left polite."""
    data = split(intent_examples(), validation=0.15, test=0.2, seed=seed)
    data = augment(data, TRAIN_TRANSFORMS, seed)
    validation = augment(DatasetDict({"train": data["validation"]}), VALIDATION_TRANSFORMS, seed)["train"]
    oos = out_of_scope_examples(data_dir, OOS_TRAIN + OOS_VALIDATION, seed)
    oos_data = split(oos, validation=OOS_VALIDATION / len(oos), test=0.0, seed=seed)
    return DatasetDict({
        "train": concatenate_datasets([data["train"], oos_data["train"]]),
        "validation": concatenate_datasets([validation, oos_data["validation"]]),
        "test": data["test"],
    })


def utterance_type_data(data_dir: Path = SHARED_DATA, seed: int = 13) -> DatasetDict:
    return split(load_examples(data_dir / I4K), validation=0.1, test=0.1, seed=seed)


def tests_by_style(rows) -> dict[str, tuple[list[str], list[str]]]:
    """``rows`` split by speech style (Kiwi's reading of the final ending): banmal is what callers speak."""
    styles = [speech_style(text) for text in rows["text"]]
    return {f"test_{style}": ([t for t, s in zip(rows["text"], styles) if s == style],
                              [label for label, s in zip(rows["label"], styles) if s == style])
            for style in ("banmal", "polite")}


def train_and_report(
    data: DatasetDict, config: TrainConfig, *, base_model: str | None = None,
    tokenizer_corpus: Iterable[str] = (), progress: Callable[[Iterable], Iterable] = lambda x: x,
    extra_tests: dict[str, tuple[list[str], list[str]]] | None = None,
) -> TextClassifier:
    """Train the transformer and the baseline on the same rows; record both on every test set, and the
    transformer's mix with its n-gram model where it carries one (which is then that baseline)."""
    train_rows, val_rows = data["train"], data["validation"]
    model = train(train_rows["text"], train_rows["label"], val_rows["text"], val_rows["label"], config=config,
                  base_model=base_model, tokenizer_corpus=tokenizer_corpus, progress=progress)
    baseline = (model.ngram if model.ngram is not None and not config.balanced
                else train_baseline(train_rows["text"], train_rows["label"]))
    tests = {"test": (data["test"]["text"], data["test"]["label"]), **(extra_tests or {})}
    metrics: dict = {}
    for name, (texts, gold) in tests.items():
        metrics[name] = {"transformer": _summary(scores(gold, _labels(model, texts, with_ngram=False)))}
        if model.ngram is not None:
            metrics[name][TRANSFORMER_NGRAM] = _summary(scores(gold, _labels(model, texts)))
        metrics[name]["baseline"] = _summary(scores(gold, predict_baseline(baseline, texts)))
    model.meta.metrics = metrics
    return model


def _labels(model: TextClassifier, texts: list[str], with_ngram: bool = True) -> list[str]:
    """The model's answers, out-of-scope threshold applied."""
    return [model.answer(p).label for p in model.probabilities(texts, with_ngram=with_ngram)]


def _summary(result: dict) -> dict:
    return {k: result[k] for k in ("n", "accuracy", "macro_f1")}


def intent_corpus(data_dir: Path = SHARED_DATA) -> list[str]:
    """Unlabelled text for the intent model: chatbot_data is left out, it judges out-of-scope."""
    return unlabelled_corpus(data_dir, include_chat=False) + [e.text for e in load_examples(data_dir / I4K)]


def unlabelled_corpus(data_dir: Path = SHARED_DATA, include_chat: bool = True) -> list[str]:
    """Korean text without our labels, for the tokenizer and masked-language pre-training.

    SmileStyle in all its styles, and (unless it is being kept for evaluation)
    chatbot_data's questions and answers. Held-out test rows are never included.
    """
    import csv

    texts: list[str] = []
    with open(data_dir / "smilestyle" / "smilestyle_dev.tsv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            texts += [v.strip() for v in row.values() if v and v.strip()]
    if include_chat:
        texts += [text for row in _chat_rows(data_dir) for text in (row["Q"], row["A"])]
    return texts


def chat_questions(data_dir: Path = SHARED_DATA) -> list[str]:
    """chatbot_data's questions: casual chat that no intent model trains on, to judge out-of-scope."""
    return [row["Q"] for row in _chat_rows(data_dir)]


def _chat_rows(data_dir: Path) -> list[dict[str, str]]:
    import csv

    with open(data_dir / "chatbot_data" / "ChatbotData.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def train_default_models(out: Path, data_dir: Path = SHARED_DATA, only: str | None = None,
                         base_model: str | None = None, epochs: int | None = None
                         ) -> Iterator[tuple[str, TextClassifier]]:
    """Train and save the models the server uses (``kocall train``; ``kocall serve`` on first start).

    Yields each model once it is saved in ``out/<name>``; progress goes to standard error.
    """
    jobs = []
    if only in (None, INTENT):
        informal = informal_test_examples()
        jobs.append((INTENT, lambda: intent_data(data_dir), INTENT_CONFIG, lambda data: intent_corpus(data_dir),
                     lambda data: {"informal_test": ([e.text for e in informal], [e.label for e in informal])}))
    if only in (None, UTTERANCE_TYPE):
        jobs.append((UTTERANCE_TYPE, lambda: utterance_type_data(data_dir), UTTERANCE_TYPE_CONFIG,
                     lambda data: data["train"]["text"], lambda data: tests_by_style(data["test"])))
    for name, load, config, corpus, extra in jobs:
        config = replace(config, epochs=epochs) if epochs else config
        data = load()
        print(f"training {name}: {len(data['train'])} train / {len(data['validation'])} validation / "
              f"{len(data['test'])} test rows -> {Path(out) / name}", file=sys.stderr)
        model = train_and_report(
            data, config, base_model=base_model, tokenizer_corpus=corpus(data),
            progress=lambda steps, name=name: tqdm(steps, desc=f"{name} epochs", file=sys.stderr),
            extra_tests=extra(data))
        model.meta.recipe = RECIPES[name]
        model.save(Path(out) / name)
        yield name, model


def why_retrain(folder: Path, name: str) -> str | None:
    """Why the default ``name`` model saved in ``folder`` must be trained (again) before it serves; None if not."""
    if not (folder / META_FILE).is_file():
        return "first start"
    meta = read_meta(folder)
    if meta.outdated:
        return "its text normalisation changed with this version"
    if meta.recipe < RECIPES[name]:
        return "its training recipe changed with this version"
    return None
