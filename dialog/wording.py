"""Reading the pack's short words in a caller's turn: the phrase it opens with, the one it ends with, the one its
last part opens with (``dialog.domain.Words``). Matched word by word on the text as the NLU writes it, without
punctuation, so that 응 is no 응급 and 네. is 네.
"""

from __future__ import annotations

import re


def says(phrases: tuple[str, ...], text: str, lead: tuple[str, ...] = ()) -> bool:
    """Whether the text opens with one of the phrases as a whole word (응 but not 응급; 취소해 for 취소),
    after any ``lead`` words that only soften what follows (그냥 됐어요, 아이고 취소할게요)."""
    words = words_of(text)
    while len(words) > 1 and words[0] in lead:
        words = words[1:]
    first = " ".join(words)
    word = words[0] if words else ""
    return any(first == p or first.startswith(p + " ")
               or (len(p) >= 2 and word.startswith(p) and len(word) <= len(p) + 2) for p in phrases)


def ends_with(phrases: tuple[str, ...], text: str) -> bool:
    """Whether the turn's last words are one of the phrases (운전 중이라 나중에 다시 전화할게요 끊을게요; 주소를
    모르겠네 그만할래): what a caller says last is what they do."""
    words = " ".join(words_of(text))
    return any(words == p or words.endswith(" " + p) for p in phrases)


def ends_last(phrases: tuple[str, ...], text: str) -> bool:
    """Whether the turn ends with one of the phrases, or its last word ends with a one-word phrase (되는구나 for
    구나; 잘 알겠습니다)."""
    words = words_of(text)
    return ends_with(phrases, text) or bool(words) and words[-1].endswith(tuple(p for p in phrases if " " not in p))


def says_last(phrases: tuple[str, ...], text: str, lead: tuple[str, ...]) -> bool:
    """Whether the turn's last part, after its last softening word or its last question or sentence, opens with
    one of the phrases: a caller who thinks aloud first (아 그럼 다음 달에 다 나가요 음 그냥 그만할게요; 뭐라고? 전액
    나간다고? 그래 그렇게 해) ends with what they decided."""
    words = words_of(text)
    cuts = [i for i, word in enumerate(words[:-1]) if i > 0 and word in lead]
    sentences = [part for part in re.split(r"[?!.]\s+", text.strip()) if part]
    return (bool(cuts) and says(phrases, " ".join(words[cuts[-1] + 1:]))
            or len(sentences) > 1 and says(phrases, sentences[-1], lead))


def without_last(phrases: tuple[str, ...], text: str, keep: tuple[str, ...] = ()) -> str:
    """The turn without the words of ``phrases`` it ends with, up to one of ``keep`` (알겠어요 고맙습니다 -> 알겠어요;
    취소할게요 취소 -> 취소할게요): what the caller said before them."""
    words = words_of(text)
    while len(words) > 1 and words[-1] in phrases and words[-1] not in keep:
        words = words[:-1]
    return " ".join(words)


def words_of(text: str) -> list[str]:
    """The turn's words without punctuation (네. -> 네)."""
    return re.sub(r"[^\w\s]", "", text).split()


def said_apart(phrases: tuple[str, ...], text: str) -> int:
    """How many times the text says one of the phrases, at places apart (이게 말이 돼요 진짜 짜증나네: two; 이게
    말이 돼요 alone is one, though two phrases, 말이 돼요 and 이게 말이 돼, match it)."""
    spans = sorted((m.start(), m.start() + len(p)) for p in phrases if p for m in re.finditer(re.escape(p), text))
    count, end = 0, -1
    for start, stop in spans:
        count, end = (count + 1, stop) if start >= end else (count, max(end, stop))
    return count
