"""Text normalisation shared by training and inference.

What a classifier sees must not depend on whether the text came from a keyboard,
from Whisper, or from an FAQ page: Unicode forms (full-width digits, decomposed
Hangul), spacing, repeated punctuation and hesitation fillers at the start of a
turn are evened out here, once, for both paths. ``?`` and ``!`` are kept: they
carry the difference between a question and a statement.

Korean spelling allows an auxiliary verb both apart from its verb and joined
to it (바꿔 줘, 바꿔줘; 하고 싶어, 하고싶어), and callers, typists and Whisper use
both. A model trained on one form read the other differently (상담원 바꿔줘
scored 0.45 where 상담원 바꿔 줘 scored 0.95), so auxiliaries, found by Kiwi's
tag VX, are always joined.
"""

from __future__ import annotations

import re
import unicodedata

from core.korean import kiwi

NORMALISATION = 2  # raised whenever normalize() changes what a model sees (2: auxiliaries joined)
MAX_CHARS = 256  # longer input is cut (a caller turn is a sentence or two)
FILLERS = ("음", "으음", "어", "어어", "아", "저기", "저기요", "그", "그러니까", "뭐지")
_FILLER_RUN = re.compile(r"^(?:(?:%s)[\s,.~…]+)+" % "|".join(sorted(map(re.escape, FILLERS), key=len, reverse=True)))
_REPEATED = re.compile(r"([?!.~])\1+")
_PUNCT = re.compile(r"[\"'`“”‘’()\[\]{}<>«»…·,;:~]+")


def normalize(text: str) -> str:
    """Canonical form of one utterance (may be empty if it held only fillers or punctuation)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _PUNCT.sub(" ", text)
    text = _REPEATED.sub(r"\1", text)
    text = re.sub(r"\s*([?!.])", r"\1", text)
    text = _join_auxiliaries(" ".join(text.split())[:MAX_CHARS * 2])
    stripped = _FILLER_RUN.sub("", text + " ").strip()
    return (stripped or text)[:MAX_CHARS].strip(" .")


def _join_auxiliaries(text: str) -> str:
    if " " not in text:
        return text
    joined = {t.start - 1 for t in kiwi().tokenize(text) if t.tag == "VX" and t.start > 0}
    return "".join(c for i, c in enumerate(text) if not (c == " " and i in joined))
