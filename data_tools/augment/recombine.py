"""Recombined sentences: one sentence's content before another's predicate.

Whether a sentence states, asks or commands is mostly said by its last words,
the predicate and its ending (…켜 줘, …먹었니, …봤어); what comes before is
content. Polite training rows tie the two together: 3i4K's polite rows are
chat, two-thirds statements, so a model trained on them (and on their banmal
forms) learns that unfamiliar content means a statement, and calls a banmal
request to an assistant (정원에 있는 모든 불들을 켜 줘) a statement too. Giving each
predicate the content of other rows, keeping its label, unties them.

Only for labels the predicate decides (a statement, a question, a command):
a rhetorical question or an intonation-dependent sentence needs its content,
and intents are all content. Content with a question word (뭐, 어디 …) is
neither lent nor replaced, since the word can make a statement a question.
"""

from __future__ import annotations

import random
import re
from typing import Callable, Iterable, Sequence

from core.korean import kiwi
from data_tools.augment.banmal import PUNCTUATION, QUESTION_WORDS

# 3i4K's statement, question and command: the types a sentence's predicate decides.
PREDICATE_TYPES = frozenset({"1", "2", "3"})
_QUESTION_WORDS = tuple(QUESTION_WORDS)


def predicate_split(text: str) -> tuple[str, str, bool]:
    """(content, predicate, content has a question word).

    The predicate is the last word, with the words before it while it starts
    with an auxiliary verb (Kiwi's VX: 꺼 줘, 가고 싶어) or is only punctuation,
    and the clause of an indirect question (비가 오는지 알려줘: 오는지 goes with
    알려줘, which asks only after it). A one-word sentence is all predicate.
    """
    words = [m.start() for m in re.finditer(r"\S+", text)]
    if len(words) < 2:
        return "", text, False
    tokens = kiwi().tokenize(text)
    first, last = {}, {}
    for token in tokens:
        word = sum(start <= token.start for start in words) - 1
        first.setdefault(word, token)
        last[word] = token
    k, indirect = len(words) - 1, False
    while k > 0:
        if k not in first or first[k].tag.startswith("VX") or first[k].tag in PUNCTUATION:
            k -= 1
        elif not indirect and k - 1 in last and last[k - 1].tag == "EC" and last[k - 1].form.endswith("지"):
            k, indirect = k - 1, True
        else:
            break
    cut = words[k]
    asks = any(t.form.startswith(_QUESTION_WORDS) for t in tokens if t.start < cut)  # 어떻게 is one adverb
    return text[:cut].strip(), text[cut:], asks


def recombine(texts: Sequence[str], labels: Sequence[str], seed: int = 13, types: Iterable[str] = PREDICATE_TYPES,
              progress: Callable[[Sequence[str]], Iterable[str]] = lambda rows: rows) -> list[tuple[int, str]]:
    """New rows as (index of the row whose predicate, and so label, the row keeps; its text): one for each
    row of ``types`` whose content has no question word, its predicate after the content of a random other row.

    One per row: two per row did no better (docs/understanding.md).
    """
    rng = random.Random(seed)
    types = set(types)
    parts = [predicate_split(t) for t in progress(texts)]
    contents = [content for content, _, asks in parts if content and not asks]
    if not contents:
        return []
    return [(i, f"{rng.choice(contents)} {predicate}") for i, ((_, predicate, asks), label)
            in enumerate(zip(parts, labels)) if label in types and not asks]
