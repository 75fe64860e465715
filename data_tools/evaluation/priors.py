"""Label shift: re-weigh a classifier's probabilities to the label mix of new, unlabelled text.

A model trained on polite 3i4K rows learns that two utterances in three are
statements; people talking to a bot in banmal mostly ask and command. The
EM procedure of Saerens, Latinne and Decaestecker (2002) estimates the label
mix of the new text from the model's own calibrated probabilities on it (no
labels needed: a day of unlabelled call transcripts will do), then scales
each probability by new prior / training prior. The estimate is only as good
as the model's reading of the new text: a model that cannot read banmal at all
misjudges its mix, which is why this comes after banmal augmentation, not
instead of it. Take the training mix from the model's mean probabilities on
held-out rows of the training kind rather than from label counts: the
calibrated probabilities of a rare label sit far above its count, and EM
measured against the counts runs away with that label.
"""

from __future__ import annotations

import numpy as np


def estimate_priors(probs: np.ndarray, train_priors: np.ndarray, iterations: int = 200,
                    tolerance: float = 1e-6) -> np.ndarray:
    """The label mix of the texts behind ``probs`` (rows: texts, columns: labels, each row sums to 1)."""
    if probs.ndim != 2 or probs.shape[1] != train_priors.shape[0] or probs.shape[0] == 0:
        raise ValueError(f"probabilities of shape {probs.shape} do not match {train_priors.shape[0]} labels")
    priors = train_priors.copy()
    for _ in range(iterations):
        new = shift(probs, train_priors, priors).mean(axis=0)
        if np.abs(new - priors).max() < tolerance:
            return new
        priors = new
    return priors


def shift(probs: np.ndarray, train_priors: np.ndarray, new_priors: np.ndarray) -> np.ndarray:
    """Probabilities as they would be under ``new_priors`` instead of the training mix (Bayes' rule)."""
    weighted = probs * (new_priors / np.maximum(train_priors, 1e-12))
    return weighted / np.maximum(weighted.sum(axis=1, keepdims=True), 1e-12)
