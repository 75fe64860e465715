"""Training data for the two pipeline models, and ``kocall train``'s work.

* **intent** (a domain pack's ``intents.csv``, and the titles and example questions of its FAQ entries, which
  are how callers ask for those intents): the polite examples are split
  stratified (train / validation / polite test) *before* augmentation; train is
  augmented with every casual-speech transform, validation with banmal and
  fragments so that calibration and the out-of-scope threshold are chosen on
  text that looks like callers. Out-of-scope examples are the pack's own
  (``out_of_scope.csv``: requests near the domain it does not serve, wrong
  numbers), split and augmented with the intents' examples so that no style
  means "out of scope", and unrelated utterances from 3i4K (chat data from
  ``chatbot_data`` is kept for evaluating that). Requests about another
  business said in the domain's words (``other_business.csv``) train a second
  model against the examples instead (:func:`train_other_business`).
* **utterance type**: 3i4K, split stratified with identical texts kept together.

Why each setting is what it is, with the runs behind it: docs/understanding.md.
"""

from __future__ import annotations

import csv
import random
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from datasets import Dataset, DatasetDict, concatenate_datasets
from sklearn.pipeline import Pipeline
from tqdm import tqdm

from core.domain_pack import DEFAULT_PACK, DomainPack, find_pack
from core.lexicon import Lexicon
from data_tools.augment.banmal import speech_style
from data_tools.augment.checks import check
from data_tools.augment.dataset import Example, augment, examples_dataset, load_examples, rows_of, split
from data_tools.augment.perturb import phone_call, self_correction
from data_tools.evaluation.accuracy import scores
from data_tools.training.classifier import TrainConfig, train
from dialog.domain import Domain
from nlu.baseline import predict_baseline, train_baseline
from nlu.classifier import META_FILE, OUT_OF_SCOPE, TextClassifier, read_meta
from nlu.understand import INTENT, UTTERANCE_TYPE

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # beside the repository
I4K = "3i4k/fci_train_val.txt"
TRAIN_TRANSFORMS = ("banmal", "fragment", "drop_particles", "filler", "contraction", "spacing", "stt_confusion",
                    "phone_call")
VALIDATION_TRANSFORMS = ("banmal", "fragment", "phone_call")
# The intent examples are augmented in two passes of random draws (fillers, slips, contractions differ): on the dev
# sets every set read as well or better on every seed of five (docs/understanding.md, "Recipe 11").
TRAIN_DRAWS = 2
OOS_TRAIN, OOS_VALIDATION = 500, 150
# The share of the training requests (intents the pack routes to an FAQ, a form or a hand-off) said again after
# a turn from something else (아니 그거 말고 …): on the dev sets, seeds 13-17, the short and spoken requests and the
# callers' corrections read better, the dialog acts a row worse (docs/understanding.md, "Recipe 13").
SELF_CORRECTED = 0.5
# The polite examples kept out of training as a check: few, since the pack's informal and caller test sets,
# written apart from them, are what judges the model; every row more is one the model learns from.
POLITE_TEST = 0.05
# The intent model is its character n-gram model alone: on the pack's dev requests (written apart from the
# examples and the test sets) it read as many short requests as recipe 5's transformer mix or more, and more
# long caller lines, on every seed, in a fraction of the time. Out of scope is its out_of_scope class: a
# confidence threshold on top never read the dev requests better, and on one seed of five turned callers away
# (docs/understanding.md, "Recipe 6"). Once calibrated it learns the validation rows too (recipe 12: the dev requests
# read as well or better on every seed, and more chat is turned away).
INTENT_CONFIG = TrainConfig(ngram_weight=1.0, oos_threshold=False, refit=True)
# A line the second model gives another business's request at more than this is out of scope. Chosen on the dev
# sets and the twins' dev half (seeds 13-17) as the lowest of 0.5-0.9 that read the dev requests no worse than the
# main model alone and turned away no more of them (docs/understanding.md, "Other businesses in the domain's words").
OTHER_BUSINESS_ABOVE = 0.9
# A pretrained checkpoint (`kocall train --base-model`) knows words no example has: it is fine-tuned and mixed with
# the n-gram model, at recipe 5's share.
INTENT_CHECKPOINT_CONFIG = TrainConfig(epochs=40, batch_size=32, ngram_weight=0.7)
# Utterance type rests on sentence endings, which syllable tokens share across verbs (먹었냐, 갔냐), and which
# positions counted from the end put at one place; the n-gram model it carries errs on other rows.
UTTERANCE_TYPE_CONFIG = TrainConfig(epochs=6, syllables=True, ngram_weight=0.5, end_positions=True)
TRANSFORMER_NGRAM = "transformer + n-gram"  # the metrics of a model that carries an n-gram model (ngram_weight)
NGRAM = "n-gram"  # the metrics of a model that is its n-gram model alone (calibrated, its threshold if any)
# The version of each default model's recipe (data, config, what the folder holds), raised when a change makes
# folders trained before worth replacing: `kocall serve` retrains a default folder with a lower one (folders
# from before it was recorded: 1), and a test holds the shipped models to it.
RECIPES = {INTENT: 14, UTTERANCE_TYPE: 3}


def intent_examples(pack: DomainPack | None = None) -> list[Example]:
    """The pack's intent examples (default: the bundled card/bank pack): ``intents.csv``, then each FAQ entry's
    title and questions that none of them already says, as examples of the entry's intent."""
    pack = pack or find_pack(DEFAULT_PACK)
    examples = load_examples(pack.intents)
    return examples + faq_examples(pack, {e.text.replace(" ", "") for e in examples})


def faq_examples(pack: DomainPack, known: Iterable[str] = ()) -> list[Example]:
    """The titles and example questions of the pack's FAQ entries as examples of their intents, once each and
    none in ``known`` (texts without spaces); none equal or near to a row of the pack's dev or test sets, which
    a title often is (연회비), so that those sets stay unseen."""
    rows, said = [], set(known)
    for entry in Domain.load(pack.domain).faq:
        for n, text in enumerate((entry.title, *entry.questions)):
            if text.replace(" ", "") not in said:
                said.add(text.replace(" ", ""))
                rows.append(Example(f"faq:{entry.id}:{n}", text, entry.intent))
    held_out = [e for path in (*pack.dev_files, *pack.test_files) if path.is_file() for e in load_examples(path)]
    if not rows or not held_out:
        return rows
    leaks = check(DatasetDict({"faq": examples_dataset(rows), "held_out": examples_dataset(held_out)})).leaks
    seen = {leak.text_a for leak in leaks if leak.split_a == "faq"} | {leak.text_b for leak in leaks
                                                                        if leak.split_b == "faq"}
    return [e for e in rows if e.text not in seen]


def pack_out_of_scope_examples(pack: DomainPack | None = None) -> list[Example]:
    """The pack's own out-of-scope requests; none if the pack has no ``out_of_scope.csv``."""
    return _out_of_scope_rows((pack or find_pack(DEFAULT_PACK)).out_of_scope)


def other_business_examples(pack: DomainPack | None = None) -> list[Example]:
    """The pack's requests about another business said in its words; none if it has no ``other_business.csv``."""
    return _out_of_scope_rows((pack or find_pack(DEFAULT_PACK)).other_business)


def _out_of_scope_rows(path: Path) -> list[Example]:
    """An optional pack file's rows, labelled ``out_of_scope`` whatever its label column says."""
    return [replace(e, label=OUT_OF_SCOPE) for e in load_examples(path)] if path.is_file() else []


def informal_test_examples(pack: DomainPack | None = None) -> list[Example]:
    """The pack's held-out informal requests; none if the pack has no ``informal_test.csv``."""
    path = (pack or find_pack(DEFAULT_PACK)).informal_test
    return load_examples(path) if path.is_file() else []


def out_of_scope_examples(data_dir: Path, n: int, seed: int = 13, pack: DomainPack | None = None) -> list[Example]:
    """Unrelated chat utterances: 3i4K rows of six or more characters without the pack's domain terms."""
    lexicon_terms = [t.replace(" ", "") for t in Lexicon.load((pack or find_pack(DEFAULT_PACK)).lexicon).terms]
    rows = [e for e in load_examples(data_dir / I4K)
            if len(e.text.replace(" ", "")) >= 6 and not any(t in e.text.replace(" ", "") for t in lexicon_terms)]
    return [replace(e, label=OUT_OF_SCOPE) for e in random.Random(seed).sample(rows, n)]


def intent_data(data_dir: Path = SHARED_DATA, seed: int = 13, pack: DomainPack | None = None) -> DatasetDict:
    """Splits of the pack's intent data; train and validation augmented, test left polite; where the pack has
    requests about another business, an ``other_business`` split of them all, augmented as train is."""
    data = split(intent_examples(pack) + pack_out_of_scope_examples(pack), validation=0.15, test=POLITE_TEST,
                 seed=seed)
    data = augment(data, TRAIN_TRANSFORMS, seed, draws=TRAIN_DRAWS)
    validation = augment(DatasetDict({"train": data["validation"]}), VALIDATION_TRANSFORMS, seed)["train"]
    oos = split(out_of_scope_examples(data_dir, OOS_TRAIN + OOS_VALIDATION, seed, pack),
                validation=OOS_VALIDATION / (OOS_TRAIN + OOS_VALIDATION), test=0.0, seed=seed)
    # Half the unrelated rows as said on the phone too, each beside its original in the same split: an opening
    # and a hedge must not mean "in scope".
    rng = random.Random(seed)

    def with_phone_calls(rows: list[Example]) -> list[Dataset]:
        called = [replace(e, id=f"{e.id}#phone_call", text=phone_call(e.text, rng)) for e in rows[::2]]
        return [examples_dataset(rows), examples_dataset(called, "phone_call")]

    splits = {
        "train": concatenate_datasets([data["train"], *with_phone_calls(rows_of(oos["train"]))]),
        "validation": concatenate_datasets([validation, *with_phone_calls(rows_of(oos["validation"]))]),
        "test": data["test"],
    }
    splits["train"] = concatenate_datasets([splits["train"], examples_dataset(
        self_corrected(rows_of(data["train"]), data["train"]["transform"], pack, seed), "self_correction")])
    elsewhere = other_business_examples(pack)
    if elsewhere:
        splits["other_business"] = augment(DatasetDict({"train": examples_dataset(elsewhere)}), TRAIN_TRANSFORMS,
                                           seed)["train"]
    return DatasetDict(splits)


def self_corrected(rows: list[Example], transforms: list[str], pack: DomainPack | None, seed: int) -> list[Example]:
    """A share (``SELF_CORRECTED``) of the original requests among ``rows``, said after the caller turns from
    something else (아니 그거 말고 결제일 바꿔 줘): a line that opens so asks for what follows, where callers' lines
    read as a no. Not the yes, no, greeting and goodbye rows, nor out of scope, which 아니 may well open."""
    routes = Domain.load((pack or find_pack(DEFAULT_PACK)).domain).intents
    requests = {intent for intent, route in routes.items() if route.model in ("faq", "form", "handoff")}
    rng = random.Random(seed + 7)
    return [replace(e, id=f"{e.id}#self_correction", text=self_correction(e.text, rng))
            for e, transform in zip(rows, transforms)
            if transform == "original" and e.label in requests and rng.random() < SELF_CORRECTED]


def train_other_business(train_rows: Dataset, elsewhere: Dataset) -> Pipeline:
    """The second model of an intent folder: ``elsewhere``'s requests (``out_of_scope``) against the in-scope rows
    of ``train_rows`` (``domain``), every label weighted alike. Both share the domain's words, so what tells them
    apart is whose product or service a line names."""
    domain = [text for text, label in zip(train_rows["text"], train_rows["label"]) if label != OUT_OF_SCOPE]
    return train_baseline([*domain, *elsewhere["text"]], ["domain"] * len(domain) + [OUT_OF_SCOPE] * len(elsewhere),
                          balanced=True)


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
    """Train the model and the baseline on the same rows; record both on every test set: the transformer
    alone and its mix with the n-gram model it carries (which is then that baseline), or, for a model that is
    its n-gram model alone, its answers with calibration and out-of-scope threshold."""
    train_rows, val_rows = data["train"], data["validation"]
    model = train(train_rows["text"], train_rows["label"], val_rows["text"], val_rows["label"], config=config,
                  base_model=base_model, tokenizer_corpus=tokenizer_corpus, progress=progress)
    if "other_business" in data:
        model.other_business = train_other_business(train_rows, data["other_business"])
        model.meta.other_business_above = OTHER_BUSINESS_ABOVE
    baseline = (model.ngram if model.ngram is not None and not config.balanced
                else train_baseline(train_rows["text"], train_rows["label"]))
    tests = {"test": (data["test"]["text"], data["test"]["label"]), **(extra_tests or {})}
    metrics: dict = {}
    for name, (texts, gold) in tests.items():
        if model.ngram_only:
            metrics[name] = {NGRAM: _summary(scores(gold, _labels(model, texts)))}
        else:
            metrics[name] = {"transformer": _summary(scores(gold, _labels(model, texts, with_ngram=False)))}
            if model.ngram is not None:
                metrics[name][TRANSFORMER_NGRAM] = _summary(scores(gold, _labels(model, texts)))
        metrics[name]["baseline"] = _summary(scores(gold, predict_baseline(baseline, texts)))
    model.meta.metrics = metrics
    return model


def _labels(model: TextClassifier, texts: list[str], with_ngram: bool = True) -> list[str]:
    """The model's answers, out-of-scope threshold applied; with its n-gram model, as served (the second model's
    answers too)."""
    if with_ngram:
        return [p.label for p in model.predict(texts)]
    return [model.answer(p).label for p in model.probabilities(texts, with_ngram=False)]


def _summary(result: dict) -> dict:
    return {k: result[k] for k in ("n", "accuracy", "macro_f1")}


def unlabelled_corpus(data_dir: Path = SHARED_DATA) -> list[str]:
    """Korean text without our labels, for the tokenizer and masked-language pre-training: SmileStyle in
    all its styles and chatbot_data's questions and answers. Held-out test rows are never included."""
    texts: list[str] = []
    with open(data_dir / "smilestyle" / "smilestyle_dev.tsv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            texts += [v.strip() for v in row.values() if v and v.strip()]
    return texts + [text for row in _chat_rows(data_dir) for text in (row["Q"], row["A"])]


def chat_questions(data_dir: Path = SHARED_DATA) -> list[str]:
    """chatbot_data's questions: casual chat that no intent model trains on, to judge out-of-scope."""
    return [row["Q"] for row in _chat_rows(data_dir)]


def _chat_rows(data_dir: Path) -> list[dict[str, str]]:
    with open(data_dir / "chatbot_data" / "ChatbotData.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def train_default_models(folders: dict[str, Path], pack: DomainPack, data_dir: Path = SHARED_DATA,
                         base_model: str | None = None, epochs: int | None = None
                         ) -> Iterator[tuple[str, TextClassifier]]:
    """Train and save the models the server uses (``kocall train``; ``kocall serve`` when a pack ships none).

    ``folders`` maps each model to train (``intent``, ``utterance-type``) to the folder it is saved in; the
    intent model learns ``pack``'s intents. Yields each model once it is saved; progress goes to standard error.
    """
    jobs = []
    if INTENT in folders:
        informal = informal_test_examples(pack)
        tests = {"informal_test": ([e.text for e in informal], [e.label for e in informal])} if informal else {}
        jobs.append((INTENT, lambda: intent_data(data_dir, pack=pack),
                     INTENT_CHECKPOINT_CONFIG if base_model else INTENT_CONFIG, lambda data: [], lambda data: tests))
    if UTTERANCE_TYPE in folders:
        jobs.append((UTTERANCE_TYPE, lambda: utterance_type_data(data_dir), UTTERANCE_TYPE_CONFIG,
                     lambda data: data["train"]["text"], lambda data: tests_by_style(data["test"])))
    for name, load, config, corpus, extra in jobs:
        config = replace(config, epochs=epochs) if epochs else config
        data = load()
        print(f"training {name}: {len(data['train'])} train / {len(data['validation'])} validation / "
              f"{len(data['test'])} test rows -> {folders[name]}", file=sys.stderr)
        model = train_and_report(
            data, config, base_model=base_model, tokenizer_corpus=corpus(data),
            progress=lambda steps, name=name: tqdm(steps, desc=f"{name} epochs", file=sys.stderr),
            extra_tests=extra(data))
        model.meta.recipe = RECIPES[name]
        model.save(folders[name])
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
