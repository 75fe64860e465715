"""The classical baseline every transformer result is reported beside.

Character 1-4-grams (within word boundaries) weighted by TF-IDF, and a
logistic regression: strong on short Korean text, where characters are
syllables that already carry much of the meaning. A classifier may also carry
one as a second opinion (``TrainConfig.ngram_weight``); it is then saved as
plain arrays (:func:`save_baseline`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from nlu.normalize import normalize


def _pipeline(balanced: bool = False) -> Pipeline:
    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), min_df=1, sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced" if balanced else None),
    )


def train_baseline(texts: Sequence[str], labels: Sequence[str], balanced: bool = False,
                   normalized: bool = False) -> Pipeline:
    """``balanced`` weights every label equally, as the transformer's ``TrainConfig.balanced``;
    ``normalized``: the texts are already as :func:`normalize` returns them (skips Kiwi)."""
    return _pipeline(balanced).fit(list(texts) if normalized else [normalize(t) for t in texts], list(labels))


def predict_baseline(model: Pipeline, texts: Sequence[str]) -> list[str]:
    return list(model.predict([normalize(t) for t in texts]))


def baseline_probabilities(model: Pipeline, texts: Sequence[str]) -> np.ndarray:
    """One row per text, one column per label in ``model.classes_`` order."""
    return model.predict_proba([normalize(t) for t in texts])


def save_baseline(model: Pipeline, path: Path) -> None:
    """The fitted model as arrays in one ``.npz``, not a pickle: loading a model folder from elsewhere runs
    no code, and a newer scikit-learn still reads it."""
    vectorizer, regression = model.steps[0][1], model.steps[1][1]
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    np.savez_compressed(path, terms=np.array(terms), idf=vectorizer.idf_, coef=regression.coef_,
                        intercept=regression.intercept_, classes=np.array(regression.classes_))


def load_baseline(path: Path) -> Pipeline:
    with np.load(path, allow_pickle=False) as arrays:
        model = _pipeline()
        vectorizer, regression = model.steps[0][1], model.steps[1][1]
        vectorizer.vocabulary_ = {term: i for i, term in enumerate(arrays["terms"].tolist())}
        vectorizer.idf_ = arrays["idf"]
        regression.coef_, regression.intercept_ = arrays["coef"], arrays["intercept"]
        regression.classes_ = arrays["classes"]
    return model
