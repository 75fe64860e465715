"""Accuracy, macro-F1 and per-label figures, the same for every model and baseline."""

from __future__ import annotations

from typing import Sequence

from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support


def scores(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    labels = sorted(set(gold) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0)
    return {
        "n": len(gold),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "macro_f1": round(float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro",
                                         zero_division=0)), 4),
        "per_label": {label: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                              "f1": round(float(f), 4), "n": int(s)}
                      for label, p, r, f, s in zip(labels, precision, recall, f1, support)},
    }
