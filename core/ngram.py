"""Scoring fitted character n-gram models (TF-IDF and logistic regression) on a served turn.

The intent model, its other-business model, the utterance-type model's second opinion
(``nlu.classifier``) and the FAQ picker (``dialog.faq``) are each such a model, fitted
with scikit-learn and scored here, one text at a time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


@dataclass(frozen=True)
class NgramScorer:
    """A fitted n-gram model's probabilities, as scikit-learn's ``predict_proba`` gives them, without it.

    The arithmetic is scikit-learn's (sublinear TF times IDF, L2-normalised, then the regression's softmax,
    or its sigmoid for two labels), but scikit-learn checks its input on every call: about 0.6 ms a text,
    where this takes about 0.03 ms (``bench/nlu.py``), and a served turn scores up to four such models.
    """

    analyzer: Callable[[str], list[str]]
    vocabulary: Mapping[str, int]
    idf: np.ndarray  # per term
    coef: np.ndarray  # terms x columns: one per label, or one for two labels
    intercept: np.ndarray
    classes: tuple  # the regression's labels, in column order

    @classmethod
    def of(cls, vectorizer: TfidfVectorizer, regression: LogisticRegression) -> NgramScorer:
        """The scorer of a fitted vectorizer (sublinear TF, IDF, L2 norm) and the regression fitted on its output."""
        if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
            raise ValueError("NgramScorer scores sublinear TF-IDF with L2 norm only")
        return cls(vectorizer.build_analyzer(), vectorizer.vocabulary_, np.asarray(vectorizer.idf_),
                   np.ascontiguousarray(regression.coef_.T), np.asarray(regression.intercept_),
                   tuple(regression.classes_))

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row per (normalised) text, one column per label in ``classes`` order, as ``predict_proba``."""
        scores = np.tile(self.intercept, (len(texts), 1)).astype(float)
        for row, text in enumerate(texts):
            counts = Counter(self.vocabulary[g] for g in self.analyzer(text) if g in self.vocabulary)
            if counts:
                terms = np.fromiter(counts, dtype=np.intp, count=len(counts))
                weights = (1 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * self.idf[terms]
                scores[row] += (weights / np.linalg.norm(weights)) @ self.coef[terms]
        if len(self.classes) == 2:
            positive = 1 / (1 + np.exp(-scores[:, 0]))
            return np.column_stack([1 - positive, positive])
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)
