"""Training transformer text classifiers: tokenizer, optional pre-training, fine-tuning, calibration.

No pretrained Korean encoder can be downloaded here, so by default the project
trains its own: a WordPiece tokenizer over Hangul syllables learnt from our
corpus, and a compact BERT trained from scratch for the task. Given
``base_model`` (any Hugging Face checkpoint folder or cached name, such as a
KLUE model) that model and its tokenizer are fine-tuned instead.

With ``TrainConfig.ngram_weight`` the model carries the character n-gram
baseline as a second opinion (``nlu.classifier``). Confidence is calibrated by
temperature scaling on the validation rows, and where the label set has an
``out_of_scope`` class, a confidence threshold is chosen on them too (unless
``TrainConfig.oos_threshold`` is off: then only that class is out of scope).
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    AutoModelForSequenceClassification, AutoTokenizer, BertConfig, BertForSequenceClassification,
    PreTrainedTokenizerFast,
)

from nlu.baseline import train_baseline
from nlu.classifier import MAX_LENGTH, OUT_OF_SCOPE, Meta, TextClassifier, model_inputs, ngram_alone, softmax
from nlu.normalize import NORMALISATION, normalize

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 1e-3
    max_length: int = MAX_LENGTH
    vocab_size: int = 6000
    hidden_size: int = 192
    layers: int = 3
    heads: int = 4
    seed: int = 13
    threads: int = 2
    mlm_epochs: int = 0  # masked-language-model pre-training passes over the unlabelled corpus
    balanced: bool = False  # weight the loss so that every label counts as much as the others
    syllables: bool = False  # one token per syllable instead of learnt subwords (see train_tokenizer)
    ngram_weight: float = 0.0  # share of the character n-gram model in the answer; 0: the transformer alone
    end_positions: bool = False  # a [CLS] first, and positions counted back from the last token (see model_inputs)
    oos_threshold: bool = True  # choose a confidence under which an answer is out_of_scope; off: only that class is
    # an n-gram model alone: once calibrated, fitted again on the training and validation rows together, keeping its
    # temperature (the validation rows are a sixth of the examples, and every row is one more the model learns from)
    refit: bool = False


def fingerprint(texts: Sequence[str], labels: Sequence[str]) -> str:
    """sha256 of the training rows: which data a saved model was trained on."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels):
        digest.update(f"{label}\t{text}\n".encode("utf-8"))
    return digest.hexdigest()


def train_tokenizer(texts: Iterable[str], vocab_size: int, syllables: bool = False, cls: bool = False
                    ) -> PreTrainedTokenizerFast:
    """WordPiece over Hangul syllables (NFC, so a syllable is one symbol, never split into jamo).

    ``texts`` are as :func:`normalize` returns them (``train`` normalises each once).

    With ``syllables`` every token is one syllable, marked where a word starts
    (먹었어요 -> ▁먹 었 어 요): a sentence ending is then the same tokens on every
    verb, where learnt subwords make 먹었어요 and 갔어 unrelated whole-word tokens.
    A syllable never seen becomes one [UNK], not its whole word.

    With ``cls`` every text starts with [CLS], the token the classifier reads.
    """
    texts = list(texts)
    if syllables:
        pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex("▁?."), behavior="isolated")])
        counts = Counter(piece for t in texts for piece, _ in pre_tokenizer.pre_tokenize_str(t))
        pieces = [p for p, n in counts.most_common(vocab_size - len(SPECIALS) - 1) if n >= 2 and p != "▁"]
        tokenizer = Tokenizer(models.WordPiece({t: i for i, t in enumerate(SPECIALS + ["▁"] + pieces)},
                                               unk_token="[UNK]"))
        tokenizer.pre_tokenizer = pre_tokenizer
    else:
        pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        # The trainer numbers the `##` pieces of single syllables in hash-map order, and ties between merges go
        # by number, so two runs learnt different vocabularies (huggingface/tokenizers#1794). Declared up front,
        # sorted, as special tokens, they are numbered alike on every run; the tokenizer is then rebuilt from
        # the learnt vocabulary with only the real special tokens.
        inner = sorted({"##" + c for t in texts for word, _ in pre_tokenizer.pre_tokenize_str(t) for c in word[1:]})
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIALS + inner,
                                            min_frequency=2)
        learnt = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        learnt.pre_tokenizer = pre_tokenizer
        learnt.train_from_iterator(texts, trainer=trainer)
        tokenizer = Tokenizer(models.WordPiece(learnt.get_vocab(), unk_token="[UNK]"))
        tokenizer.pre_tokenizer = pre_tokenizer
        tokenizer.add_special_tokens(SPECIALS)
    tokenizer.normalizer = normalizers.NFC()
    if cls:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="[CLS] $A", special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]"))])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def _length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Shuffled batches of rows of similar length, so little work goes into padding."""
    order = list(range(len(lengths)))
    random.shuffle(order)
    chunks = [order[i:i + batch_size * 20] for i in range(0, len(order), batch_size * 20)]
    batches = [sorted(c, key=lambda j: lengths[j])[k:k + batch_size]
               for c in chunks for k in range(0, len(c), batch_size)]
    random.shuffle(batches)
    return batches


def _optimise(model, loss_of: Callable[[list[int]], torch.Tensor], lengths: Sequence[int], epochs: int,
              batch_size: int, learning_rate: float, progress: Callable[[Iterable], Iterable]) -> None:
    """AdamW with linear warm-up and decay over ``epochs`` passes of length-bucketed batches."""
    total = math.ceil(len(lengths) / batch_size) * epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / max(1, total // 10)) * max(0.0, 1 - s / total))
    model.train()
    for _ in progress(range(epochs)):
        for batch in _length_batches(lengths, batch_size):
            loss = loss_of(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
    model.eval()


def _pretrain_mlm(tokenizer, texts: Sequence[str], bert_config: BertConfig, config: TrainConfig,
                  progress: Callable[[Iterable], Iterable]) -> dict:
    """Masked-language-model pre-training of the encoder on normalised unlabelled text; returns its weights."""
    from transformers import BertForMaskedLM, DataCollatorForLanguageModeling

    texts = list(dict.fromkeys(t for t in texts if t))
    encoded = tokenizer(texts, truncation=True, max_length=config.max_length,
                        return_token_type_ids=False)["input_ids"]
    mlm = BertForMaskedLM(bert_config)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)

    def step(batch: list[int]) -> torch.Tensor:
        enc = collator([{"input_ids": encoded[j]} for j in batch])
        return mlm(**model_inputs(enc, config.end_positions), labels=enc["labels"]).loss

    _optimise(mlm, step, [len(e) for e in encoded], config.mlm_epochs, config.batch_size * 2,
              config.learning_rate, progress)
    return mlm.bert.state_dict()


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """Temperature minimising validation negative log-likelihood (golden-section search on log T)."""
    def nll(log_t: float) -> float:
        p = softmax(logits / math.exp(log_t))
        return -float(np.mean(np.log(p[np.arange(len(gold)), gold] + 1e-12)))
    lo, hi = math.log(0.05), math.log(20.0)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return round(math.exp((lo + hi) / 2), 4)


def _calibrate(classifier: TextClassifier, texts: list[str], gold: np.ndarray) -> np.ndarray:
    """Fit the classifier's temperatures on normalised validation ``texts``; their calibrated probabilities.

    The transformer is calibrated first, so that ``ngram_weight`` weighs two calibrated opinions; the mix
    then gets its own temperature, since a geometric mean of two is sharper or flatter than either.
    """
    meta = classifier.meta
    logits = classifier.logits(texts, normalized=True)
    meta.temperature = fit_temperature(logits, gold)
    probs = softmax(logits / meta.temperature)
    if classifier.ngram is None or classifier.ngram_only:
        return probs
    mixed = classifier.mix(probs, texts)
    meta.mix_temperature = fit_temperature(mixed, gold)
    return softmax(mixed / meta.mix_temperature)


# A caller turned away counts twice an unrelated line answered: the ceilings a call center sets on the two,
# at most 5% of requests turned away and 10% of unrelated lines answered (issue 20).
IN_SCOPE_WEIGHT = 2.0


def choose_threshold(probs: np.ndarray, gold: Sequence[str], labels: list[str],
                     in_scope_weight: float = IN_SCOPE_WEIGHT) -> float:
    """Confidence below which an answer becomes out_of_scope: on validation rows, the best weighted mean of two
    shares, whatever the rows' mix: in-scope rows answered right (weight ``in_scope_weight``) and out-of-scope
    rows turned away (1); the lowest such threshold on a tie.

    Not the best macro-F1: that weighs out_of_scope as one label in eighteen on a nearly flat curve, so its
    best point swings with the seed (docs/understanding.md, "Intent").
    """
    gold = np.asarray(gold, dtype=object)
    right = np.asarray(labels, dtype=object)[probs.argmax(axis=1)] == gold
    conf, oos = probs.max(axis=1), gold == OUT_OF_SCOPE

    def score(threshold: float) -> float:
        kept = conf >= threshold
        # in scope: kept and right; out of scope: turned away, or answered out_of_scope (right) anyway
        shares = [(in_scope_weight, (kept & right)[~oos]), (1.0, (~kept | right)[oos])]
        shares = [(weight, share) for weight, share in shares if share.size]
        return sum(weight * share.mean() for weight, share in shares) / sum(weight for weight, _ in shares)

    return round(float(max(np.arange(0.0, 0.96, 0.025), key=score)), 3)  # max keeps the first, lowest, best


def class_weights(targets: Sequence[int], n_labels: int) -> torch.Tensor:
    """n / (labels x count) per label, as scikit-learn's class_weight="balanced" (labels never seen weigh 0)."""
    counts = np.bincount(np.asarray(targets), minlength=n_labels).astype(np.float64)
    weights = np.divide(len(targets), n_labels * counts, out=np.zeros_like(counts), where=counts > 0)
    return torch.tensor(weights, dtype=torch.float32)


def _fine_tune(model, tokenizer, texts: list[str], targets: list[int], n_labels: int, config: TrainConfig,
               learning_rate: float, progress: Callable[[Iterable], Iterable]) -> None:
    """Train the classifier on normalised ``texts`` and their label indices."""
    encoded = tokenizer(texts, truncation=True, max_length=config.max_length, return_token_type_ids=False)["input_ids"]
    weights = class_weights(targets, n_labels) if config.balanced else None

    def step(batch: list[int]) -> torch.Tensor:
        enc = tokenizer.pad({"input_ids": [encoded[j] for j in batch]}, return_tensors="pt")
        logits = model(**model_inputs(enc, config.end_positions)).logits
        return torch.nn.functional.cross_entropy(logits, torch.tensor([targets[j] for j in batch]), weight=weights)

    _optimise(model, step, [len(e) for e in encoded], config.epochs, config.batch_size, learning_rate, progress)


def train(
    train_texts: Sequence[str], train_labels: Sequence[str],
    val_texts: Sequence[str], val_labels: Sequence[str],
    *, config: TrainConfig = TrainConfig(), base_model: str | None = None,
    tokenizer_corpus: Iterable[str] = (), progress: Callable[[Iterable], Iterable] = lambda x: x,
) -> TextClassifier:
    """Train a classifier; calibrate it (and its out-of-scope threshold) on the validation rows.

    ``tokenizer_corpus`` is unlabelled text: the tokenizer is learnt from it (with the
    training texts) and, when ``config.mlm_epochs`` > 0, the encoder is first
    pre-trained on it by masked-language modelling. With ``config.ngram_weight`` 1 no
    transformer is trained: the n-gram model answers alone, calibrated the same way.
    """
    if not train_texts:
        raise ValueError("no training rows")
    started = time.perf_counter()
    ngram_only = ngram_alone(config.ngram_weight)
    if base_model and ngram_only:
        raise ValueError("a base model is fine-tuned only with an n-gram weight under 1; at 1 the n-gram model "
                         "answers alone")
    if base_model:  # a checkpoint brings its own [CLS] and positions
        config = replace(config, end_positions=False)
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    torch.set_num_threads(config.threads)
    labels = sorted(set(train_labels) | set(val_labels))
    index = {label: i for i, label in enumerate(labels)}
    corpus = [] if base_model or ngram_only else list(tokenizer_corpus)
    # Normalising runs Kiwi (about 0.5 ms a text): once per distinct text, though the corpus may repeat them.
    normal = {t: normalize(t) for t in dict.fromkeys([*corpus, *train_texts])}

    if ngram_only:
        model = tokenizer = None
    elif base_model:
        tokenizer = AutoTokenizer.from_pretrained(base_model, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            base_model, num_labels=len(labels), local_files_only=True, ignore_mismatched_sizes=True,
            id2label=dict(enumerate(labels)), label2id=index)
        learning_rate = min(config.learning_rate, 5e-5)
    else:
        texts = [normal[t] for t in [*corpus, *train_texts]]
        tokenizer = train_tokenizer(texts, config.vocab_size, config.syllables, cls=config.end_positions)
        bert_config = BertConfig(
            vocab_size=len(tokenizer), hidden_size=config.hidden_size, num_hidden_layers=config.layers,
            num_attention_heads=config.heads, intermediate_size=config.hidden_size * 2,
            max_position_embeddings=config.max_length + 2, num_labels=len(labels),
            id2label=dict(enumerate(labels)), label2id=index, hidden_dropout_prob=0.1,
            attention_probs_dropout_prob=0.1)
        model = BertForSequenceClassification(bert_config)
        if config.mlm_epochs:
            model.bert.load_state_dict(_pretrain_mlm(tokenizer, texts, bert_config, config, progress), strict=False)
        learning_rate = config.learning_rate

    if model is not None:
        _fine_tune(model, tokenizer, [normal[t] for t in train_texts], [index[label] for label in train_labels],
                   len(labels), config, learning_rate, progress)

    refit = ngram_only and config.refit and bool(val_texts)
    learnt_texts, learnt_labels = ([*train_texts, *val_texts], [*train_labels, *val_labels]) if refit else (
        train_texts, train_labels)
    meta = Meta(labels=labels, base_model=base_model, fingerprint=fingerprint(learnt_texts, learnt_labels),
                train_rows=len(learnt_texts), config=asdict(config), normalisation=NORMALISATION,
                label_mix=dict(sorted(Counter(learnt_labels).items())))
    ngram = (train_baseline([normal[t] for t in train_texts], train_labels, config.balanced, normalized=True)
             if config.ngram_weight else None)
    classifier = TextClassifier(model, tokenizer, meta, config.max_length, ngram)
    if val_texts:
        val_normal = [normalize(t) for t in val_texts]
        probs = _calibrate(classifier, val_normal, np.array([index[label] for label in val_labels]))
        if OUT_OF_SCOPE in labels and config.oos_threshold:
            meta.threshold = choose_threshold(probs, val_labels, labels)
        if refit:
            ngram = train_baseline([*(normal[t] for t in train_texts), *val_normal], learnt_labels, config.balanced,
                                   normalized=True)
            classifier = TextClassifier(None, None, meta, config.max_length, ngram)
    meta.train_seconds = round(time.perf_counter() - started, 1)
    return classifier
