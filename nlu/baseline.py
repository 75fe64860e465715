"""The classical baseline every transformer result is reported beside.

Character 1-4-grams (within word boundaries) weighted by TF-IDF, and a
logistic regression: strong on short Korean text, where characters are
syllables that already carry much of the meaning.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from nlu.normalize import normalize


def train_baseline(texts: Sequence[str], labels: Sequence[str], balanced: bool = False) -> Pipeline:
    """``balanced`` weights every label equally, as the transformer's ``TrainConfig.balanced``."""
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), min_df=1, sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced" if balanced else None),
    )
    return model.fit([normalize(t) for t in texts], list(labels))


def predict_baseline(model: Pipeline, texts: Sequence[str]) -> list[str]:
    return list(model.predict([normalize(t) for t in texts]))


def baseline_probabilities(model: Pipeline, texts: Sequence[str]) -> np.ndarray:
    """One row per text, one column per label in ``model.classes_`` order."""
    return model.predict_proba([normalize(t) for t in texts])
