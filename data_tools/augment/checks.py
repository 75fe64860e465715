"""Checks that keep a data set honest: label consistency, split leakage, class balance, and, for a domain pack,
examples whose words its FAQ answers under another intent.

Near-duplicates are found with rapidfuzz among texts that share a block (the
first two characters and roughly the same length after removing spaces and
punctuation): comparing every pair of 55k utterances would take hours, while
near-duplicates almost always agree on their beginning and length.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from datasets import DatasetDict
from rapidfuzz import fuzz
from data_tools.evaluation.metrics import normalize
from dialog.faq import fit_questions

NEAR = 92.0  # rapidfuzz ratio above which two texts count as the same utterance
ELSEWHERE = 0.6  # the FAQ model's probability of another intent above which an example is listed for review


@dataclass(frozen=True)
class Conflict:
    """Texts that are (nearly) the same but carry different labels."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    exact: bool


@dataclass(frozen=True)
class Leak:
    split_a: str
    text_a: str
    split_b: str
    text_b: str
    score: float


@dataclass(frozen=True)
class Elsewhere:
    """An example of an FAQ intent whose words the pack's FAQ answers under another intent."""

    text: str
    label: str
    faq_intent: str
    probability: float  # the FAQ model's, of ``faq_intent``


@dataclass
class Report:
    rows: dict[str, int]
    classes: dict[str, dict[str, int]]
    conflicts: list[Conflict] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    empty_texts: int = 0
    elsewhere: list[Elsewhere] | None = None  # for a domain pack: see answered_elsewhere

    @property
    def imbalance(self) -> float:
        """Largest class over smallest class, over all splits together."""
        totals = Counter()
        for counts in self.classes.values():
            totals.update(counts)
        return max(totals.values()) / max(1, min(totals.values())) if totals else 0.0

    def summary(self) -> dict:
        return {"rows": self.rows, "classes": self.classes, "imbalance": round(self.imbalance, 2),
                "label_conflicts": len(self.conflicts),
                "exact_conflicts": sum(c.exact for c in self.conflicts),
                "leaks": len(self.leaks), "empty_texts": self.empty_texts,
                **({} if self.elsewhere is None else {"answered_elsewhere": len(self.elsewhere)})}


def _block(key: str) -> tuple[str, int]:
    return key[:2], len(key) // 4


def _near_pairs(keys: list[str]) -> Iterable[tuple[int, int, float]]:
    """Index pairs of keys whose similarity is at least NEAR (exact duplicates excluded)."""
    blocks: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        if key:
            blocks[_block(key)].append(i)
    for members in blocks.values():
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                i, j = members[a], members[b]
                if keys[i] != keys[j]:
                    score = fuzz.ratio(keys[i], keys[j], score_cutoff=NEAR)
                    if score:
                        yield i, j, score


def check(data: DatasetDict, near: bool = True) -> Report:
    rows = {name: len(ds) for name, ds in data.items()}
    classes = {name: dict(sorted(Counter(ds["label"]).items())) for name, ds in data.items()}
    report = Report(rows=rows, classes=classes)
    texts, labels, splits = [], [], []
    for name, ds in data.items():
        original = [t == "original" for t in ds["transform"]] if "transform" in ds.column_names else None
        for i, (text, label) in enumerate(zip(ds["text"], ds["label"])):
            if original is None or original[i]:
                texts.append(text)
                labels.append(str(label))
                splits.append(name)
    keys = [normalize(t) for t in texts]
    report.empty_texts = sum(not k for k in keys)

    by_key: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        if key:
            by_key[key].append(i)
    for members in by_key.values():
        if len({labels[i] for i in members}) > 1:
            report.conflicts.append(Conflict(tuple(texts[i] for i in members),
                                             tuple(labels[i] for i in members), exact=True))
        split_names = {splits[i] for i in members}
        if len(split_names) > 1:
            first = members[0]
            other = next(i for i in members if splits[i] != splits[first])
            report.leaks.append(Leak(splits[first], texts[first], splits[other], texts[other], 100.0))
    if near:
        for i, j, score in _near_pairs(keys):
            if labels[i] != labels[j]:
                report.conflicts.append(Conflict((texts[i], texts[j]), (labels[i], labels[j]), exact=False))
            if splits[i] != splits[j]:
                report.leaks.append(Leak(splits[i], texts[i], splits[j], texts[j], score))
    return report


def answered_elsewhere(examples: Iterable[tuple[str, str]], faq: Iterable[tuple[str, str]],
                       above: float = ELSEWHERE) -> list[Elsewhere]:
    """Examples (text, label) of the FAQ's intents that a model of the FAQ entries' titles and questions (text,
    intent; character 1-3-grams within words and a logistic regression, as the dialog's FAQ picker) gives to
    another intent with probability ``above`` or more, likeliest first. A caller who says such an example is read
    as its label and answered from that intent's entries, which may not answer it: 연체 이자율 알려줘 labelled
    ``fees``, where the overdue-interest answer is ``overdue_payment``'s. A list to review, not an error: some
    are right where they are (교육비 무이자 할부 돼요: the tuition answer says so too)."""
    faq = list(faq)
    intents = {intent for _, intent in faq}
    rows = [(text, label) for text, label in examples if label in intents]
    if len(intents) < 2 or not rows:
        return []
    model = fit_questions([t for t, _ in faq], [i for _, i in faq])
    found = []
    for (text, label), probs in zip(rows, model.probabilities([t for t, _ in rows])):
        best = int(probs.argmax())
        if model.classes[best] != label and probs[best] >= above:
            found.append(Elsewhere(text, label, str(model.classes[best]), round(float(probs[best]), 2)))
    return sorted(found, key=lambda e: -e.probability)


def render(report: Report, examples: int = 10) -> str:
    """A readable plain-text report."""
    s = report.summary()
    lines = ["Data set check", "==============", ""]
    lines.append("rows: " + ", ".join(f"{k} {v}" for k, v in s["rows"].items()))
    lines.append(f"class balance (largest/smallest class): {s['imbalance']}")
    for name, counts in report.classes.items():
        total = sum(counts.values()) or 1
        lines.append(f"  {name}: " + ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in counts.items()))
    lines.append("")
    lines.append(f"label conflicts: {s['label_conflicts']} ({s['exact_conflicts']} identical texts, "
                 f"{s['label_conflicts'] - s['exact_conflicts']} near-identical)")
    for c in report.conflicts[:examples]:
        kind = "same" if c.exact else "near"
        lines.append(f"  [{kind}] " + " | ".join(f"{t!r}={lab}" for t, lab in zip(c.texts[:4], c.labels[:4])))
    lines.append("")
    lines.append(f"split leakage (same or near-same text in two splits): {s['leaks']}")
    for leak in report.leaks[:examples]:
        lines.append(f"  {leak.split_a}: {leak.text_a!r}  ~  {leak.split_b}: {leak.text_b!r}  ({leak.score:.0f})")
    if report.elsewhere is not None:
        lines.append("")
        lines.append(f"examples the FAQ answers under another intent (review; a caller who says one gets its "
                     f"label's answers): {len(report.elsewhere)}")
        for e in report.elsewhere[:examples]:
            lines.append(f"  {e.text!r}={e.label}: the FAQ reads {e.faq_intent} ({e.probability:.2f})")
    if report.empty_texts:
        lines.append(f"\nrows with no text after normalisation: {report.empty_texts}")
    return "\n".join(lines)
