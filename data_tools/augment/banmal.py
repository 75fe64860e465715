"""Polite Korean (존댓말) -> informal banmal (반말), by morphological analysis.

Callers talk to a bot in banmal; the text we can train on is polite. Kiwi
(kiwipiepy, whose model ships on PyPI) splits a sentence into morphemes; the
rules below swap the polite morphemes for their plain counterparts — sentence
endings (합쇼체/해요체 -> 해체), the honorific pre-final ending 시, humble
pronouns and verbs, honorific particles and nouns — and Kiwi's ``join`` puts the
syllables back together (힘들+어 -> 힘들어, 주+어 -> 줘, 나+가 -> 내가) with the
original spacing. Questions keep their question marks and interrogative endings;
requests (주세요) become plain requests (줘). For augmentation,
``to_banmal_variants`` also gives the other plain endings the sentence's type
allows (먹었다 beside 먹었어, 먹냐/먹니 for a question, 먹어라 for a command).
"""

from __future__ import annotations

import os
import re
from typing import Iterable

from kiwipiepy import Kiwi, Token

from core.korean import kiwi

# Sentence-final endings (EF), as Kiwi normalises them -> 해체 ending.
FINAL_ENDINGS = {
    "ᆸ니다": "어", "습니다": "어", "ᆸ니까": "어", "습니까": "어",
    "어요": "어", "아요": "어", "여요": "어", "세요": "어", "으세요": "어", "요": "어",
    "에요": "야", "예요": "야", "이에요": "야",
    "나요": "어", "가요": "어", "ᆫ가요": "어", "은가요": "어", "는가요": "어",
    "ᆸ시다": "자", "읍시다": "자", "ᆸ시오": "어", "으십시오": "어", "십시오": "어",
    "죠": "지", "지요": "지",
}
# Interrogative endings; written without a question mark they become 냐, not 어.
POLITE_QUESTIONS = {"ᆸ니까", "습니까", "나요", "가요", "ᆫ가요", "은가요", "는가요"}
# Kiwi sometimes tags a mid-sentence 합쇼체 ending as connective (물론입니다, 하지만 ...).
POLITE_CONNECTIVES = {"ᆸ니다", "습니다", "ᆸ니까", "습니까"}
# After the copula 이다 or 아니다 the plain ending is 야 (고양이야, 아니야), not 어.
COPULAS = {"VCP", "VCN"}
COPULA_ENDINGS = {"어": "야"}
# Humble or honorific words -> plain ones (form, tag without its -R/-I suffix).
LEXICAL = {
    ("저", "NP"): ("나", "NP"), ("저희", "NP"): ("우리", "NP"), ("당신", "NP"): ("너", "NP"),
    ("드리", "VV"): ("주", "VV"), ("드리", "VX"): ("주", "VX"),
    ("계시", "VV"): ("있", "VV"), ("계시", "VX"): ("있", "VX"),
    ("주무시", "VV"): ("자", "VV"), ("드시", "VV"): ("먹", "VV"), ("잡수시", "VV"): ("먹", "VV"),
    ("말씀", "NNG"): ("말", "NNG"), ("성함", "NNG"): ("이름", "NNG"), ("연세", "NNG"): ("나이", "NNG"),
    ("댁", "NNG"): ("집", "NNG"),
    ("께서", "JKS"): ("가", "JKS"), ("께", "JKB"): ("에게", "JKB"),
    ("네", "IC"): ("응", "IC"), ("예", "IC"): ("응", "IC"), ("아니요", "IC"): ("아니", "IC"),
    ("아뇨", "IC"): ("아니", "IC"),
    # 여쭙다 becomes 묻다, which is irregular (물어): the -I tag asks join for that form.
    ("여쭈", "VV"): ("묻", "VV-I"), ("여쭙", "VV"): ("묻", "VV-I"),
    # Kiwi cannot conjugate the auxiliary 못하 (못하+어 -> 못하아); as a verb it gives 못해.
    ("못하", "VX"): ("못하", "VV"),
}
# Greetings and thanks that are one polite phrase rather than a plain verb.
PHRASES = [
    (re.compile(r"안녕하(세요|십니까|셨어요)"), "안녕"),
    (re.compile(r"감사 ?(합니다|해요|드립니다)"), "고마워"),
    (re.compile(r"고맙습니다"), "고마워"),
    (re.compile(r"죄송(합니다|해요)"), "미안해"),
]

Morph = tuple[str, str, bool]  # form, tag, space before it


def _plain_ending(form: str, after_copula: bool) -> str:
    plain = FINAL_ENDINGS.get(form)
    if plain is None:
        # Other polite endings are a plain ending plus 요: 는데요, 네요, ᆯ게요, ᆯ까요, 거든요.
        plain = form[:-1] if form.endswith("요") and len(form) > 1 else form
    return COPULA_ENDINGS.get(plain, plain) if after_copula else plain


def _is_dropped(tokens: list[Token], i: int) -> bool:
    """The honorific 시, the polite particle 요, and the copula Kiwi invents in 계세요."""
    tok = tokens[i]
    base = tok.tag.split("-")[0]
    return ((base == "EP" and tok.form in ("시", "으시")) or (tok.form == "요" and base == "JX")
            or (base == "VCP" and i > 0 and (tokens[i - 1].form, tokens[i - 1].tag) == ("계", "NNG")))


def _plain_word(tokens: list[Token], i: int) -> tuple[str, str]:
    """Humble and honorific words -> plain words; other morphemes unchanged."""
    tok, following = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else None
    base = tok.tag.split("-")[0]
    after = (following.form, following.tag) if following is not None else None
    if (tok.form, base) == ("계", "NNG") and after == ("이", "VCP"):
        return "있", "VV"  # Kiwi reads 계세요 as the noun 계 + copula: it is 계시다, plainly 있다
    if (tok.form, base) == ("것", "NNB") and after == ("이", "VCP") and i + 2 < len(tokens) \
            and tokens[i + 2].tag == "EF":
        return "거", tok.tag  # speech contracts a final 것이야 to 거야 (not 것일 수도)
    if (tok.form, base) == ("드리", "VV") and i > 0 and tokens[i - 1].tag.startswith("NNG") \
            and tokens[i - 1].end == tok.start:
        return "하", "XSV"  # 축하드리다, 부탁드리다: the humble 하다 of a noun (축하해), not 주다 (축하줘)
    if tok.form == "제" and base in ("MM", "XPN") and following is not None and following.start > tok.start + 1:
        return "내", "MM"  # a free-standing 제 before a noun is 'my' (제 일), not the prefix of 제1회
    return LEXICAL.get((tok.form, base), (tok.form, tok.tag))


def _is_polite_ending(tok: Token) -> bool:
    base = tok.tag.split("-")[0]
    return base == "EF" or (base == "EC" and (tok.form in POLITE_CONNECTIVES or (tok.form.endswith("요")
                                                                                and len(tok.form) > 1)))


def _final_form(tokens: list[Token], i: int) -> tuple[str, Token | None]:
    """The ending at ``i`` with the 요 Kiwi splits off put back (있으신가요: ᆫ가 + 요); the token after it."""
    form = tokens[i].form
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    if following is not None and (following.form, following.tag) == ("요", "JX"):
        form += "요"
        following = tokens[i + 2] if i + 2 < len(tokens) else None
    return form, following


def _plain_final(tokens: list[Token], i: int, previous: Morph | None) -> str:
    """The 해체 counterpart of the polite ending at ``i``."""
    form, following = _final_form(tokens, i)
    if form in POLITE_QUESTIONS and not (following is not None and following.form == "?"):
        return "냐"  # 어 would read as a statement without its question mark
    if form in STATEMENT_ENDINGS and previous is not None and _is_giving(previous):
        return "ᆫ다"  # 알려 드립니다 states; 알려 줘 would ask for it: 알려 준다
    return _plain_ending(form, previous is not None and previous[1] in COPULAS)


def _convert(tokens: list[Token]) -> list[Morph | None]:
    """One entry per token: its plain replacement, itself, or None where it is dropped."""
    out: list[Morph | None] = []
    for i, tok in enumerate(tokens):
        if _is_dropped(tokens, i):
            out.append(None)
        elif _is_polite_ending(tok):
            previous = next((m for m in reversed(out) if m is not None), None)
            out.append((_plain_final(tokens, i, previous), tok.tag, False))
        else:
            out.append((*_plain_word(tokens, i), False))
    return out


def _eojeols(sentence: str, tokens: list[Token]) -> list[tuple[int, int, list[int]]]:
    """Whitespace-separated words of the source as (start, end, indices of their tokens)."""
    words = [(m.start(), m.end(), []) for m in re.finditer(r"\S+", sentence)]
    w = 0
    for i, tok in enumerate(tokens):
        while w + 1 < len(words) and tok.start >= words[w][1]:
            w += 1
        words[w][2].append(i)
    return words


def _convert_sentence(analyser: Kiwi, sentence: str, tokens: list[Token], converted: list[Morph | None]) -> str:
    """Re-spell only the words that change; every other word is copied as written.

    Kiwi's join writes morphemes out in full (하던게 -> 하던것이), so joining the
    whole sentence would undo the writer's contractions. Within a changed word the
    untouched beginning is kept too: the source keeps whatever its joined form has
    in common with the plain one, and only the differing tail is replaced
    (사먹잖아요 -> 사먹잖아, not 사먹지않아).
    """
    pieces, last = [], 0
    for start, end, indices in _eojeols(sentence, tokens):
        source = sentence[start:end]
        pieces.append(sentence[last:start])
        last = end
        original = [(tokens[i].form, tokens[i].tag, False) for i in indices]
        plain = [converted[i] for i in indices if converted[i] is not None]
        if plain == original:
            pieces.append(source)
            continue
        joined_original = analyser.join(original)
        joined_plain = analyser.join(plain) if plain else ""
        common = len(os.path.commonprefix([joined_original, joined_plain]))
        old_tail, new_tail = joined_original[common:], joined_plain[common:]
        if source.endswith(old_tail):
            pieces.append(source[: len(source) - len(old_tail)] + new_tail)
        else:
            pieces.append(joined_plain)
    pieces.append(sentence[last:])
    return "".join(pieces)


def to_banmal(sentence: str) -> str:
    """One polite sentence (or several in one line) -> banmal."""
    return to_banmal_many([sentence])[0]


def to_banmal_many(sentences: Iterable[str]) -> list[str]:
    """Batch conversion (Kiwi analyses the batch in one call)."""
    prepared = [_phrases(s) for s in sentences]
    analyser = kiwi()
    return [_convert_sentence(analyser, sentence, tokens, _convert(tokens)) if sentence.strip() else sentence
            for sentence, tokens in zip(prepared, analyser.tokenize(prepared))]


# What a sentence-final polite ending says about the sentence, for choosing other banmal endings.
STATEMENT_ENDINGS = {"ᆸ니다", "습니다"}
COMMAND_ENDINGS = {"십시오", "으십시오", "ᆸ시오"}
# 해요체 uses one ending for statements and questions; 세요 also for commands (가세요: 'go', or 'are you going').
OPEN_ENDINGS = {"어요", "아요", "여요", "요", "에요", "예요", "이에요"}
HONORIFIC_ENDINGS = {"세요", "으세요"}
QUESTION_WORDS = {"뭐", "무엇", "어디", "언제", "누구", "왜", "어떻", "무슨", "어떤", "어느", "몇", "얼마"}
# After these a question word is indefinite (뭔가 'something', 누구든 'anyone', 어디나 'everywhere').
INDEFINITE = {"ᆫ가", "든", "든지", "나", "라도", "도"}
# Predicates whose plain statement ends in 다, not ㄴ다/는다, even after a verb (먹고 있다, 가고 싶다).
STATIVE = {"있", "없", "싶"}
# Verbs of seeming: 피곤해 보이세요 describes the listener, it does not tell them to look tired.
SEEMING = {"보이", "들리"}
# What the speaker saw or heard (더라구요); speech shortens it to 더라.
REPORTED_ENDINGS = {"더라구요", "더라고요"}
PUNCTUATION = {"SF", "SP", "SS", "SE", "SO", "SW"}
# A question put as a request for its answer (내일 비가 오는지 알려줘): how people ask an assistant or an agent.
INDIRECT, TELL_ME = "는지", "알려줘"


def to_banmal_variants(sentence: str) -> list[str]:
    """Several banmal renderings of one polite sentence, ``to_banmal``'s first."""
    return to_banmal_variants_many([sentence])[0]


def to_banmal_variants_many(sentences: Iterable[str]) -> list[list[str]]:
    """Each sentence in every plain ending its own sentence type allows, for augmentation.

    Informal speech does not use one ending per sentence type: a statement is
    먹어 or 먹는다 (해라체), a question 먹어? or 먹냐 or 먹니, a command 먹어 or 먹어라.
    A model trained on the 해체 form alone learns that banmal means 어. The type
    comes from the last polite ending itself (습니다 states, 십시오 commands, 나요
    asks; 어요 and 세요 ask when a question word or ? goes with them, and 세요
    after a verb otherwise commands), never from a label, so it serves any data set.
    """
    prepared = [_phrases(s) for s in sentences]
    analyser = kiwi()
    out = []
    for sentence, tokens in zip(prepared, analyser.tokenize(prepared)):
        if not sentence.strip():
            out.append([sentence])
            continue
        converted = _convert(tokens)
        renderings = [_convert_sentence(analyser, sentence, tokens, converted)]
        last = _last_ending(tokens)
        for ending in _other_endings(tokens, converted, last) if last is not None else []:
            if ending == INDIRECT:
                renderings.append(_indirect_question(analyser, sentence, tokens, converted, last))
                continue
            # Kiwi joins 먹+니 as 먹으니 ('as I eat'); the question 니 conjugates like 냐 (먹냐, 아냐 -> 먹니, 아니).
            morph = ("냐" if ending == "니" else ending, tokens[last].tag, False)
            text = _convert_sentence(analyser, sentence, tokens, converted[:last] + [morph] + converted[last + 1:])
            renderings.append(re.sub(r"냐(?=\W*$)", "니", text) if ending == "니" else text)
        out.append(list(dict.fromkeys(renderings)))
    return out


def _indirect_question(analyser: Kiwi, sentence: str, tokens: list[Token], converted: list[Morph | None],
                       i: int) -> str:
    """The question ending at ``i`` as 는지/ᆫ지 before 알려줘, its question mark dropped (와요? -> 오는지 알려줘)."""
    before = next(m for m in reversed(converted[:i]) if m is not None)
    stative = before[1].split("-")[0] in ("VA", "VCP") and before[0] not in STATIVE  # 바쁜지, 학생인지; 있는지
    morph = ("ᆫ지" if stative else "는지", "EC", False)
    text = _convert_sentence(analyser, sentence, tokens, converted[:i] + [morph] + [None] * (len(tokens) - i - 1))
    return f"{text.rstrip()} {TELL_ME}"


def _last_ending(tokens: list[Token]) -> int | None:
    """The final ending that ends the line, if only punctuation (or its split-off 요) follows it."""
    for i in range(len(tokens) - 1, -1, -1):
        if _is_polite_ending(tokens[i]):
            return i
        if tokens[i].tag not in PUNCTUATION and (tokens[i].form, tokens[i].tag) != ("요", "JX"):
            return None
    return None


def _other_endings(tokens: list[Token], converted: list[Morph | None], i: int) -> list[str]:
    """Plain endings besides the 해체 one for the ending at ``i``.

    ㄴ다/다 for a statement, 냐/니 (and 지 after a question word) and the indirect
    는지 알려줘 for a question,
    어라 for a command (and ᆯ래 for a favour: 줄래); none for endings that have
    one plain form (ᆸ시다 -> 자, ᆯ게요 -> ᆯ게, 네요 -> 네).
    """
    form, following = _final_form(tokens, i)
    before = [m for m in converted[:i] if m is not None]
    if not before:
        return []
    # A question word asks only in the ending's own clause, and not when a full stop follows.
    clause = max((j + 1 for j in range(i) if tokens[j].tag in ("EF", "SF", "SP")), default=0)
    mark = following.form if following is not None and following.tag == "SF" else None
    asked = mark == "?" or (mark is None and _has_question_word(tokens[clause:i]))
    if form in POLITE_QUESTIONS or (asked and form in OPEN_ENDINGS | HONORIFIC_ENDINGS):
        return ["냐", "니", "지", INDIRECT] if asked else ["냐", "니", INDIRECT]  # 뭐 먹었지 asks; 밥 먹었지 checks
    if form in HONORIFIC_ENDINGS and before[-1][0] in SEEMING:
        return []  # nor is 피곤해 보인다 a statement the speaker makes about themself
    if form in COMMAND_ENDINGS or (form in HONORIFIC_ENDINGS and _is_action_verb(before)):
        # A favour asked (해 주세요) is as often put as a question: 해 줄래.
        return ["어라", "ᆯ래"] if _is_giving(before[-1]) else ["어라"]
    if form in HONORIFIC_ENDINGS:
        return ["냐", "니"]  # 세요 on a state asks after the listener's (바쁘세요, 괜찮으세요); never 바쁘다
    if form in REPORTED_ENDINGS:
        return ["더라"]  # 좋더라구요 -> 좋더라구, 좋더라
    if form in STATEMENT_ENDINGS | OPEN_ENDINGS:
        return ["ᆫ다" if _is_action_verb(before) else "다"]  # Kiwi's join writes 먹는다 for 먹+ᆫ다
    return []


def _is_giving(morph: Morph) -> bool:
    """주 (드리 is 주 by now) as a verb or auxiliary, alone or in Kiwi's compounds (도와주, 가르쳐주)."""
    return morph[1].split("-")[0] in ("VV", "VX") and any(morph[0].endswith(v) for v in GIVING_VERBS)


def _has_question_word(tokens: list[Token]) -> bool:
    """A question word used as one (어디 가요, 뭐예요), not as an indefinite (뭔가, 누구든, 어디나)."""
    for j, tok in enumerate(tokens):
        if tok.form in QUESTION_WORDS and tok.tag != "IC":
            after = [t.form for t in tokens[j + 1:j + 3]]
            if after[:1] == ["이"]:  # 뭔가 is 뭐 + 이 + ᆫ가
                after = after[1:]
            if not after or after[0] not in INDEFINITE:
                return True
    return False


def _is_action_verb(morphs: list[Morph]) -> bool:
    """Whether the predicate before the ending is a verb of action (간다), not a state (좋다, 했다, 학생이다, 있다).

    After 않 the predicate before its 지 decides (먹지 않는다, 좋지 않다).
    """
    form, tag = morphs[-1][0], morphs[-1][1].split("-")[0]
    if (form, tag) == ("않", "VX") and len(morphs) >= 3:
        form, tag = morphs[-3][0], morphs[-3][1].split("-")[0]
    return tag in ("VV", "XSV", "VX") and form not in STATIVE and form != "않"


def _phrases(sentence: str) -> str:
    for pattern, plain in PHRASES:
        sentence = pattern.sub(plain, sentence)
    return sentence


QUESTION_ENDINGS = {"ᆸ니까", "습니까", "나요", "가요", "ᆫ가요", "은가요", "는가요", "니", "냐", "느냐", "ᆯ까", "ᆯ까요",
                    "을까", "을까요", "나", "가", "ᆫ가", "은가", "는가"}
REQUEST_ENDINGS = {"십시오", "으십시오", "ᆸ시오", "어라", "아라", "라", "자", "ᆸ시다", "읍시다"}
GIVING_VERBS = {"주", "드리"}
# Endings that state or promise, never ask, even after a giving verb (알려 드립니다, 알려 준다, 해 줄게),
# unlike 줘 or 주세요.
DECLARATIVE_ENDINGS = STATEMENT_ENDINGS | {"ᆫ다", "는다", "다", "ᆯ게", "ᆯ게요", "을게", "을게요"}


def sentence_type(text: str) -> str:
    """'question', 'request' or 'statement', from the last sentence's ending and punctuation.

    Used to check that conversion keeps what a sentence does: a question must stay a
    question (?, 니/냐/ᆯ까 ...), a request a request (imperative endings, or a
    giving verb before the final ending: 해 주세요 -> 해 줘).
    """
    tokens = kiwi().tokenize(text)
    if not tokens:
        return "statement"
    if tokens[-1].form == "?" or any(t.form == "?" for t in tokens[-2:]):
        return "question"
    finals = [i for i, t in enumerate(tokens) if t.tag == "EF"]
    if not finals:
        return "statement"
    last = finals[-1]
    ending = tokens[last].form
    if ending in QUESTION_ENDINGS:
        return "question"
    if ending in REQUEST_ENDINGS:
        return "request"
    previous = [t for t in tokens[:last] if t.form not in ("시", "으시")]
    if (ending not in DECLARATIVE_ENDINGS and previous and previous[-1].form in GIVING_VERBS
            and previous[-1].tag.startswith(("VX", "VV"))):
        return "request"
    return "statement"


POLITE_FINALS = re.compile(r"(요|ᆸ니다|습니다|ᆸ니까|습니까|ᆸ시다|읍시다|ᆸ시오|십시오)$")


def speech_style(text: str) -> str:
    """'polite' (해요체/합쇼체 final ending), 'banmal' (any other final ending) or 'none' (no final ending)."""
    tokens = kiwi().tokenize(text)
    finals = [t for t in tokens if t.tag == "EF"]
    if not finals:
        # 카드요, 잔액이요?: a bare noun made polite by the particle 요.
        words = [t.form for t in tokens if not t.tag.startswith("S")]
        return "polite" if words and words[-1] == "요" else "none"
    return "polite" if POLITE_FINALS.search(finals[-1].form) else "banmal"
