"""Casual-speech perturbations: make polite training text look like what callers say.

Each transform takes a sentence and a seeded random generator and returns a new
sentence (or several), or None when it does not apply (a sentence with no
particles cannot lose one). They model what live calls show: banmal, fragments
that keep only the key phrase (카드 분실, 잔액), dropped particles, fillers, spoken
contractions, spacing noise, the letter-level confusions a recogniser makes, and
a request said after the caller turns from something else (아니 그거 말고 …).
"""

from __future__ import annotations

import random
import re
from typing import Callable

from core.korean import kiwi
from data_tools.augment.banmal import to_banmal, to_banmal_variants

FILLERS = ("음", "어", "저기", "그", "아", "저기요")
# How callers open and wrap a request on the phone (phone_call); "" leaves that part out.
PHONE_OPENINGS = ("", "네", "네 여보세요", "여보세요", "아 예", "아 네 안녕하세요", "안녕하세요", "네 수고하십니다", "저기요",
                  "예 저기", "아 여보세요 네")
PHONE_HEDGES = ("", "다름이 아니라", "제가 좀", "혹시", "그 뭐지", "제가 그", "좀 여쭤보려고 하는데요", "어 그게", "다른 게 아니고",
                "아까 문자 받았는데", "제가 어제")
PHONE_CLOSINGS = ("", "", "그래서 전화드렸어요", "그거 때문에 전화했는데요", "좀 알아보려고요", "그거 좀 부탁드릴게요",
                  "어떻게 하면 돼요", "그거 되나 해서요")
# How callers turn from what they said, or were offered, before saying what they want (self_correction).
CORRECTIONS = ("아니 그거 말고", "아니 그게 아니라", "그거 말고", "아니 아니", "아니요 그거 말고요", "아니 이거 말고",
               "아니 그런 거 말고")
# Written forms -> how they are said (applied after banmal conversion), most specific first.
CONTRACTIONS = [(re.compile(pattern), spoken) for pattern, spoken in [
    (r"무엇이야", "뭐야"), (r"무엇을", "뭘"), (r"무엇이(?=\s|$)", "뭐가"), (r"무엇", "뭐"),
    (r"([이그저])것은", r"\1건"), (r"([이그저])것이(?=\s|$)", r"\1게"), (r"([이그저])것을", r"\1걸"),
    (r"것을", "걸"), (r"것이(?=\s|$)", "게"),
    (r"그런데", "근데"), (r"그러면", "그럼"), (r"(^|\s)나는", r"\1난"), (r"(^|\s)너는", r"\1넌"),
    (r"어떻게 해", "어떡해"), (r"해 주", "해주"),
]]
# Vowels and finals a recogniser mixes up on 8 kHz audio (compatibility jamo indices).
_VOWEL_SWAPS = {1: 5, 5: 1, 11: 10, 10: 11, 16: 15, 15: 16}  # ㅐ<->ㅔ, ㅚ<->ㅙ, ㅞ<->ㅝ
_HANGUL_BASE = 0xAC00

Transform = Callable[[str, random.Random], "str | list[str] | None"]


def banmal(text: str, rng: random.Random) -> str | None:
    out = to_banmal(text)
    return out if out != text else None


def banmal_all(text: str, rng: random.Random) -> list[str] | None:
    """Every banmal form its sentence type allows (먹었어/먹었다, 먹냐/먹니, 먹어/먹어라), one row each."""
    out = [v for v in to_banmal_variants(text) if v != text]
    return out or None


def fragment(text: str, rng: random.Random) -> str | None:
    """Only the content nouns, as callers say them: '카드를 분실했어요' -> '카드 분실'."""
    nouns = list(dict.fromkeys(t.form for t in kiwi().tokenize(text) if t.tag in ("NNG", "NNP", "SL", "SN")))
    if not nouns or len(nouns) > 4:
        return None
    return " ".join(nouns[:3])


def drop_particles(text: str, rng: random.Random) -> str | None:
    """Remove case particles (이/가/을/를/에/의 ...), which callers often leave out."""
    tokens = kiwi().tokenize(text)
    dropped = {i for i, t in enumerate(tokens) if t.tag.startswith("JK") or (t.tag == "JX" and t.form in ("은", "는"))}
    if not dropped:
        return None
    out = _rejoin(tokens, dropped)
    return out if out != text else None


def filler(text: str, rng: random.Random) -> str | None:
    return f"{rng.choice(FILLERS)} {text}"


def phone_call(text: str, rng: random.Random) -> str:
    """The request as a caller states it on the phone: an opening, a hedge, the request, sometimes a close.

    Callers rarely say only the request (네 여보세요, 다름이 아니라 카드 한도 때문에 전화드렸는데요);
    a model that saw only short requests reads such a line as something else.
    """
    parts = [rng.choice(PHONE_OPENINGS), rng.choice(PHONE_HEDGES), text.rstrip(" .?!"), rng.choice(PHONE_CLOSINGS)]
    return " ".join(p for p in parts if p)


def self_correction(text: str, rng: random.Random) -> str:
    """The request after the caller turns from something else (아니 그거 말고 카드 해지해 줘): the request decides
    what the line asks, not its 아니. For requests only: a yes or a no after it is no longer that answer."""
    return f"{rng.choice(CORRECTIONS)} {text}"


def contraction(text: str, rng: random.Random) -> str | None:
    plain = out = to_banmal(text)
    for pattern, spoken in CONTRACTIONS:
        out = pattern.sub(spoken, out)
    return out if out != plain else None


def spacing(text: str, rng: random.Random) -> str | None:
    """Spacing noise: drop some spaces, or add one inside a long word."""
    words = text.split()
    if len(words) > 1 and rng.random() < 0.7:
        cut = rng.randrange(1, len(words))
        return " ".join(words[: cut - 1] + [words[cut - 1] + words[cut]] + words[cut + 1:])
    long_words = [i for i, w in enumerate(words) if len(w) >= 4]
    if not long_words:
        return None
    i = rng.choice(long_words)
    at = rng.randrange(2, len(words[i]) - 1)
    words[i] = words[i][:at] + " " + words[i][at:]
    return " ".join(words)


def stt_confusion(text: str, rng: random.Random) -> str | None:
    """One recogniser-like slip: a confusable vowel (ㅐ/ㅔ, ㅚ/ㅙ, ㅝ/ㅞ) or a lost final ㅎ/ㅇ."""
    positions = [i for i, ch in enumerate(text) if _HANGUL_BASE <= ord(ch) <= 0xD7A3]
    rng.shuffle(positions)
    for i in positions:
        index = ord(text[i]) - _HANGUL_BASE
        initial, vowel, final = index // 588, (index % 588) // 28, index % 28
        if vowel in _VOWEL_SWAPS:
            vowel = _VOWEL_SWAPS[vowel]
        elif final in (21, 27):  # ㅇ, ㅎ
            final = 0
        else:
            continue
        return text[:i] + chr(_HANGUL_BASE + initial * 588 + vowel * 28 + final) + text[i + 1:]
    return None


TRANSFORMS: dict[str, Transform] = {
    "banmal": banmal,
    "banmal_all": banmal_all,
    "fragment": fragment,
    "drop_particles": drop_particles,
    "filler": filler,
    "contraction": contraction,
    "phone_call": phone_call,
    "spacing": spacing,
    "stt_confusion": stt_confusion,
    "self_correction": self_correction,
}


def _rejoin(tokens, dropped: set[int]) -> str:
    """Join the morphemes not dropped, keeping the source's spacing before each."""
    morphs = []
    prev_end = None
    for i, t in enumerate(tokens):
        spaced = prev_end is not None and t.start > prev_end
        prev_end = t.start + t.len
        if i not in dropped:
            morphs.append((t.form, t.tag, spaced))
    return kiwi().join(morphs)
