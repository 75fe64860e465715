"""Text classifiers as served: load a trained folder, predict with calibrated confidence.

A folder holds a compact BERT (or a fine-tuned checkpoint), its tokenizer,
``kocall_classifier.json`` (:class:`Meta`: labels, calibration temperatures,
out-of-scope threshold, the label mix it was trained on, recipe and
normalisation versions) and, where the config asks for it, the character n-gram
model it carries as a second opinion: it then answers with the weighted
geometric mean of the two, which err on different rows (docs/understanding.md,
"Utterance type"). With an n-gram weight of 1 the folder holds the n-gram model
alone, and no transformer. ``data_tools.training`` trains such folders.

Confidence is calibrated by temperature scaling fitted on validation data, so a
0.8 means right about 80% of the time; where the label set has an
``out_of_scope`` class, answers under the folder's confidence threshold become
``out_of_scope``. An intent folder may also carry a second n-gram model that
tells requests about another business, which the caller names, from the
domain's own (``OTHER_BUSINESS_FILE``): the main model reads 케이티 요금
연체됐는데 어떻게 내요 by its domain words, as an overdue card bill, and
learning such lines as out of scope makes it turn away the domain's own
requests that share those words; the second model, trained on the domain's
examples against them, weighs whose product a line names.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
from sklearn.pipeline import Pipeline
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from transformers.utils import logging as hf_logging

from core.ngram import NgramScorer
from nlu.baseline import load_baseline, save_baseline
from nlu.normalize import NORMALISATION, normalize

OUT_OF_SCOPE = "out_of_scope"
META_FILE = "kocall_classifier.json"
NGRAM_FILE = "ngram_baseline.npz"
OTHER_BUSINESS_FILE = "other_business.npz"  # the second model: another business named, or the domain's request
MAX_LENGTH = 48  # tokens a text is cut to, unless the folder's config says otherwise


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    top_k: tuple[tuple[str, float], ...]


@dataclass
class Meta:
    labels: list[str]
    temperature: float = 1.0
    mix_temperature: float = 1.0  # calibrates the transformer + n-gram mix (with ngram_weight)
    threshold: float = 0.0
    base_model: str | None = None
    fingerprint: str = ""
    train_rows: int = 0
    train_seconds: float = 0.0
    config: dict = field(default_factory=dict)
    normalisation: int = 1  # the NORMALISATION it was trained under (folders from before it was recorded: 1)
    recipe: int = 1  # for a default model, the version of `kocall train`'s recipe (data_tools.training.recipes)
    label_mix: dict[str, int] = field(default_factory=dict)  # training rows per label: monitoring's reference
    other_business_above: float = 0.0  # a line the second model gives a higher probability is out_of_scope; 0: none
    metrics: dict = field(default_factory=dict)

    @property
    def outdated(self) -> bool:
        """Trained on text normalised otherwise than this code normalises it: its answers may be off."""
        return self.normalisation != NORMALISATION


def read_meta(path: Path) -> Meta:
    """What a saved model folder says of itself, without loading its weights."""
    meta_path = Path(path) / META_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"{path} is not a kocall classifier folder (no {META_FILE}); "
                                "train one with `kocall train`")
    return Meta(**json.loads(meta_path.read_text("utf-8")))


def model_inputs(batch: Mapping[str, torch.Tensor], end_positions: bool) -> dict[str, torch.Tensor]:
    """The encoder's inputs for a right-padded, tokenized ``batch``.

    With ``end_positions`` the [CLS] token, first, has position 0 and the
    others count back from the last token (1, 2, ...). Korean puts what makes
    a sentence a question or a command, its predicate, last: at a fixed
    distance from the end, at any distance from the start.
    """
    input_ids, attention_mask = batch["input_ids"], batch["attention_mask"]
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    if end_positions:
        positions = (attention_mask.sum(dim=1, keepdim=True) - torch.arange(input_ids.shape[1])).clamp(min=0)
        positions[:, 0] = 0
        inputs["position_ids"] = positions
    return inputs


def ngram_alone(ngram_weight: float) -> bool:
    """Whether a model of this n-gram weight is its n-gram model alone, with no transformer."""
    return ngram_weight >= 1.0


class TextClassifier:
    """A trained model folder, loaded once and used for many predictions."""

    def __init__(self, model, tokenizer, meta: Meta, max_length: int, ngram: Pipeline | None = None,
                 other_business: Pipeline | None = None) -> None:
        """``model`` and ``tokenizer`` are None for a folder that holds the n-gram model alone (``ngram_only``);
        ``other_business`` is the second model, with labels ``out_of_scope`` and anything else (the domain's)."""
        self.model = model.eval() if model is not None else None
        self.tokenizer = tokenizer
        self.meta = meta
        self.max_length = max_length
        self.ngram = ngram
        self.other_business = other_business
        self.end_positions = bool(meta.config.get("end_positions"))  # folders from before it: positions from the start
        self._ngram_columns = [meta.labels.index(label) for label in ngram.classes_] if ngram is not None else []
        self._ngram_scorer = _scorer(ngram)

    @property
    def other_business(self) -> Pipeline | None:
        return self._other_business

    @other_business.setter
    def other_business(self, model: Pipeline | None) -> None:
        """Training adds it to a trained folder; it is scored with :mod:`core.ngram`, as the n-gram model is."""
        self._other_business = model
        self._other_business_scorer = _scorer(model)

    @property
    def labels(self) -> list[str]:
        return self.meta.labels

    @property
    def ngram_only(self) -> bool:
        """The answer is the n-gram model's alone: the folder holds no transformer."""
        return self.model is None

    @classmethod
    def load(cls, path: Path | str) -> TextClassifier:
        path = Path(path)
        meta = read_meta(path)
        if meta.outdated:
            warnings.warn(f"{path} was trained on text normalised another way (version {meta.normalisation}, "
                          f"this code: {NORMALISATION}); its answers may be off: retrain it with `kocall train`",
                          stacklevel=2)
        ngram = other_business = None
        missing = [name for name, needed in ((NGRAM_FILE, meta.config.get("ngram_weight")),
                                             (OTHER_BUSINESS_FILE, meta.other_business_above))
                   if needed and not (path / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{path} has no {missing[0]}, which its {META_FILE} asks for; retrain it "
                                    "with `kocall train`")
        if meta.config.get("ngram_weight"):
            ngram = load_baseline(path / NGRAM_FILE)
        if meta.other_business_above:
            other_business = load_baseline(path / OTHER_BUSINESS_FILE)
        if ngram is not None and ngram_alone(meta.config["ngram_weight"]):
            return cls(None, None, meta, meta.config.get("max_length", MAX_LENGTH), ngram, other_business)
        shown = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # its "Loading weights" bar for a few MB is noise in CLI and server output
        try:
            model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True)
        finally:
            if shown:
                hf_logging.enable_progress_bar()
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return cls(model, tokenizer, meta, meta.config.get("max_length", MAX_LENGTH), ngram, other_business)

    def save(self, path: Path | str) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            self.model.save_pretrained(path)
            self.tokenizer.save_pretrained(path)
        if self.ngram is not None:
            save_baseline(self.ngram, path / NGRAM_FILE)
        if self.other_business is not None:
            save_baseline(self.other_business, path / OTHER_BUSINESS_FILE)
        (path / META_FILE).write_text(json.dumps(asdict(self.meta), ensure_ascii=False, indent=1), "utf-8")

    @torch.inference_mode()
    def logits(self, texts: Sequence[str], batch_size: int = 256, normalized: bool = False) -> np.ndarray:
        """Uncalibrated log-scores, one row per text; an n-gram-only folder's are its log-probabilities.
        ``normalized``: the texts are already as :func:`normalize` returns them (skips Kiwi)."""
        if self.ngram_only:
            texts = list(texts) if normalized else [normalize(t) for t in texts]
            return np.log(self._ngram_probabilities(texts) + 1e-9)
        out = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start:start + batch_size]
            batch = list(batch) if normalized else [normalize(t) for t in batch]
            enc = self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_length,
                                 return_tensors="pt", return_token_type_ids=False)
            out.append(self.model(**model_inputs(enc, self.end_positions)).logits.float().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), dtype=np.float32)

    def probabilities(self, texts: Sequence[str], normalized: bool = False, with_ngram: bool = True) -> np.ndarray:
        """Calibrated probabilities, one row per text: the transformer's mix with the n-gram model it carries,
        if any, unless ``with_ngram`` is false (the transformer alone, for comparison); an n-gram-only model's
        own, either way."""
        texts = list(texts) if normalized else [normalize(t) for t in texts]
        probs = softmax(self.logits(texts, normalized=True) / self.meta.temperature)
        if self.ngram is None or self.ngram_only or not with_ngram:
            return probs
        return softmax(self.mix(probs, texts) / self.meta.mix_temperature)

    def mix(self, probs: np.ndarray, texts: list[str]) -> np.ndarray:
        """Log-scores of the weighted geometric mean of the transformer's ``probs`` and the n-gram model's
        probabilities on the same (normalised) ``texts``."""
        weight = self.meta.config["ngram_weight"]
        return (1 - weight) * np.log(probs + 1e-9) + weight * np.log(self._ngram_probabilities(texts) + 1e-9)

    def _ngram_probabilities(self, texts: list[str]) -> np.ndarray:
        """The n-gram model's probabilities on normalised ``texts``, in this model's label columns; a label
        it never saw gets none."""
        probs = np.zeros((len(texts), len(self.labels)))
        if texts:
            probs[:, self._ngram_columns] = self._ngram_scorer.probabilities(texts)
        return probs

    def predict(self, texts: Sequence[str], k: int = 3, normalized: bool = False) -> list[Prediction]:
        """Each text's answer: out-of-scope threshold applied, and ``out_of_scope`` where the folder's second
        model finds another business named (the top readings stay as the main model gave them)."""
        texts = list(texts) if normalized else [normalize(t) for t in texts]
        answers = [self.answer(p, k) for p in self.probabilities(texts, normalized=True)]
        if self.other_business is None or not texts:
            return answers
        column = list(self.other_business.classes_).index(OUT_OF_SCOPE)
        elsewhere = self._other_business_scorer.probabilities(texts)[:, column] > self.meta.other_business_above
        return [replace(a, label=OUT_OF_SCOPE) if named else a for a, named in zip(answers, elsewhere)]

    def answer(self, probs: np.ndarray, k: int = 3) -> Prediction:
        """The prediction one row of :meth:`probabilities` makes: top ``k``, out-of-scope threshold applied."""
        order = np.argsort(-probs)
        top = tuple((self.labels[i], round(float(probs[i]), 4)) for i in order[:k])
        label, confidence = top[0]
        if OUT_OF_SCOPE in self.labels and confidence < self.meta.threshold:
            label = OUT_OF_SCOPE
        return Prediction(label, confidence, top)


def _scorer(model: Pipeline | None) -> NgramScorer | None:
    return NgramScorer.of(model[0], model[-1]) if model is not None else None


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
