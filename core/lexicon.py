"""Korean fuzzy term matching: domain terms found in text however a recogniser or a typist spelt them.

``nlu.entities`` finds gazetteer terms with it; ``stt.transcribe`` biases
recognition towards a domain pack's lexicon with it. A lexicon is a plain text
file of domain terms, one per line (product names, branch names, the key words
of intents); ``#`` starts a comment. STT uses it twice:

1. Before decoding, as Whisper's initial prompt: the decoder conditions on it as
   if it had just heard those words, which makes their spelling more likely.
2. After decoding, as a post-correction: word spans whose *jamo* (the letters
   inside Hangul syllables) are within a similarity threshold of a term are
   replaced by the term, keeping a trailing particle (잔액을, 한도는). Comparing
   jamo rather than syllables matters for Korean: 불닭 and 불을 differ in one
   syllable but in how many of its letters is what tells a near-miss from a
   different word.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from rapidfuzz import fuzz, process

_HANGUL_BASE, _HANGUL_LAST = 0xAC00, 0xD7A3
_NON_WORD = re.compile(r"[^\w]+")
MAX_WINDOW = 3  # a term may have been heard as up to this many words
FIRST_WORD_SCORE = 60.0  # how much the first word of a multi-word span must look like the term's start
SHORT_TERM_SCORE = 92.0  # two-syllable terms must match all but a trace (잊자 is not 이자)
# What may follow a corrected term inside its last word: Korean particles and the copula's endings (신용카드입니다,
# 체크카드예요: a caller's answer), the regions' too (우리은행이여라, 신한은행입니더, 체크카드여유, 농협이여, 신용카드지라,
# 체크카드라예, 신용카드랑께), not other syllables.
PARTICLES = frozenset(
    "을 를 이 가 은 는 에 의 도 로 와 과 만 요 랑 좀 으로 에서 까지 부터 이랑 하고 처럼 보다 이요 은요 는요 이나 이며 "
    "으로요 로요 에서요 도요 만요 "
    "예요 이에요 입니다 이야 야 인데 인데요 이고 이고요 이죠 이지 "
    "입니더 이라예 라예 이다 이여라 여라 이어라 이랑께 랑께 이유 여유 이에유 예유 이여 여 이지라 지라 이지예 지예".split()
) | {""}
LONGEST_PARTICLE = max(map(len, PARTICLES))
PROMPT_TERMS = 40  # Whisper's prompt holds at most 223 tokens; keep well inside it
# Latin letters as Korean names them: a term written in Latin letters (ATM, ARS) is also found as it is said
# (에이티엠), which is how a recogniser that writes only Hangul writes it.
LETTER_NAMES = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    "에이 비 씨 디 이 에프 지 에이치 아이 제이 케이 엘 엠 엔 오 피 큐 알 에스 티 유 브이 더블유 엑스 와이 지".split())))


_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINALS = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")


def jamo(text: str) -> str:
    """Hangul spelled out letter by letter, the way it sounds across syllable edges.

    Initial and final consonants map to the same letters and the silent initial ㅇ
    is dropped, so that liaison (연음) spellings compare equal: 절이 and 저리 are
    both ㅈㅓㄹㅣ, which is how Whisper's near-misses look. Other characters are kept.
    """
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if _HANGUL_BASE <= code <= _HANGUL_LAST:
            index = code - _HANGUL_BASE
            initial = _INITIALS[index // 588]
            out.append("" if initial == "ㅇ" else initial)
            out.append(_MEDIALS[(index % 588) // 28])
            out.append(_FINALS[index % 28])
        else:
            out.append(ch)
    return "".join(out)


def _key(text: str) -> str:
    return _NON_WORD.sub("", unicodedata.normalize("NFC", text))


def spoken(term: str) -> str:
    """``term`` with each Latin letter as Korean names it: ATM -> 에이티엠, SC제일은행 -> 에스씨제일은행."""
    return "".join(LETTER_NAMES.get(c.upper(), c) if c.isascii() else c for c in term)


def _forms(term: str) -> tuple[str, ...]:
    """The keys a term is found by: as written and, if it has Latin letters, as said."""
    return tuple(dict.fromkeys((_key(term), _key(spoken(term)))))


def _threshold_for(term: str, threshold: float) -> float:
    return threshold if len(_key(term)) >= 3 else max(threshold, SHORT_TERM_SCORE)


@dataclass(frozen=True)
class Match:
    """tokens[start:end] read as ``term`` followed by the particle ``suffix``."""

    start: int
    end: int
    term: str
    suffix: str
    score: float


@dataclass(frozen=True)
class Edit:
    """Replace tokens[start:end] by ``text``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> Lexicon:
        terms: list[str] = []
        for line in text.splitlines():
            term = " ".join(line.split("#", 1)[0].split())
            if term and term not in terms:
                terms.append(unicodedata.normalize("NFC", term))
        return cls(tuple(terms))

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """A lexicon file (a domain pack's ``lexicon.txt``)."""
        try:
            return cls.from_text(Path(path).read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read lexicon {path}: {exc}") from exc

    def prompt(self) -> str:
        """Initial prompt: the first terms of the file, so put the most important first."""
        return ", ".join(self.terms[:PROMPT_TERMS]) + "."

    def find(self, tokens: Sequence[str], threshold: float) -> list[Match]:
        """Spans of ``tokens`` (words as recognised) that are a lexicon term or a near-miss of one.

        Greedy left to right; at each position the best-scoring term over windows of
        1..MAX_WINDOW words wins. Only terms of two or more syllables are used: a
        single syllable is too short to tell a near-miss from chance.
        """
        keys = [_key(t) for t in tokens]
        found: list[Match] = []
        i = 0
        while i < len(tokens):
            best: Match | None = None
            for n in range(min(MAX_WINDOW, len(tokens) - i), 0, -1):
                joined = "".join(keys[i:i + n])
                # The term must reach into the last word; only that word may carry a particle.
                min_cut = len(joined) - len(keys[i + n - 1]) + 1
                for term_index, form, score, suffix in self._matches(joined, min_cut, threshold):
                    if n > 1 and not _starts(keys[i], form):
                        continue
                    if best is None or score > best.score:
                        best = Match(i, i + n, self.terms[term_index], suffix, score)
            if best is not None:
                found.append(best)
                i = best.end
            else:
                i += 1
        return found

    def corrections(self, tokens: Sequence[str], threshold: float) -> list[Edit]:
        """The matches that change the text: near-misses rewritten as the term (plus particle)."""
        edits = []
        for m in self.find(tokens, threshold):
            trailing = re.search(r"[^\w]*$", tokens[m.end - 1]).group(0)
            replacement = m.term + m.suffix + trailing
            if replacement != " ".join(tokens[m.start:m.end]).strip():
                edits.append(Edit(m.start, m.end, replacement))
        return edits

    @functools.cached_property
    def _choices(self) -> dict[tuple[int, str], str]:
        """(term index, form) -> the form's jamo, for each form of each term (:func:`_forms`); computed once."""
        return {(i, form): jamo(form) for i, t in enumerate(self.terms) for form in _forms(t) if len(_key(t)) >= 2}

    def _matches(self, joined: str, min_cut: int, threshold: float) -> list[tuple[int, str, float, str]]:
        """(term index, the form matched, score, particle suffix) for prefixes of ``joined`` that match a term."""
        found = []
        for cut in range(len(joined), max(min_cut, 2, len(joined) - LONGEST_PARTICLE) - 1, -1):
            suffix = joined[cut:]
            if suffix not in PARTICLES:
                continue
            hit = process.extractOne(jamo(joined[:cut]), self._choices, scorer=fuzz.ratio, score_cutoff=threshold)
            if hit is None:
                continue
            _, score, (term_index, form) = hit
            # A shorter part of a term (상담 of 상담원) is a word of its own, not a near-miss.
            if joined[:cut] in form and joined[:cut] != form:
                continue
            if score >= _threshold_for(self.terms[term_index], threshold):
                found.append((term_index, form, score, suffix))
        return found


def _starts(word: str, form: str) -> bool:
    """A multi-word span must begin like the term: 내일 현금 서비스 is not 현금서비스."""
    return fuzz.ratio(jamo(word), jamo(form[: len(word)])) >= FIRST_WORD_SCORE
