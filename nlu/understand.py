"""What a caller's utterance means: intent, utterance type and entities, in one value.

:class:`Understanding` is the small value ``dialog`` sees; it never sees a model.
:class:`Understander` holds the two classifiers and the entity extractor, loaded
once per process by :func:`get_understander`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from kiwipiepy import Token

from core.domain_pack import DomainPack
from core.korean import kiwi
from core.settings import NluSettings
from nlu.classifier import META_FILE, OUT_OF_SCOPE, Prediction, TextClassifier
from nlu.entities import Entity, EntityExtractor, mask
from nlu.normalize import MAX_CHARS, normalize

INTENT, UTTERANCE_TYPE = "intent", "utterance-type"
SHIPPED_UTTERANCE_TYPE = Path(__file__).resolve().parent / "models" / UTTERANCE_TYPE
PREDICATE_TAGS = {"VV", "VA", "VX", "XSV", "XSA"}  # verbs, adjectives, and nouns made into them (분실하다)
CLAUSE_TAGS = PREDICATE_TAGS | {"VCP"}  # and the copula: 카드값 얼마예요 그리고 … is a clause too
UTTERANCE_TYPES = {"0": "fragment", "1": "statement", "2": "question", "3": "command",
                   "4": "rhetorical_question", "5": "rhetorical_command", "6": "intonation_dependent"}


@dataclass(frozen=True)
class Other:
    """The part of a line that joins two that the whole is not read as (한도도 좀 올리고 싶어요), and its reading."""

    intent: str
    confidence: float
    text: str  # the part's words
    start: int  # where they start in the line, in characters
    marked: bool  # the line says there are two (joined with 그리고, or its second part says 도, "also", or 그 전에),
    # and this part asks for something (not 앱에서 보면 되는구나 그리고 …, which takes in what was said)
    first: bool  # the caller asks for it first: said first, or said second with 그 전에 or 먼저


class EmptyText(ValueError):
    """Nothing to understand: the text is empty once fillers and punctuation are removed."""


@dataclass(frozen=True)
class Understanding:
    text: str
    intent: str
    confidence: float
    top_k: tuple[tuple[str, float], ...]
    utterance_type: str
    utterance_type_confidence: float
    entities: tuple[Entity, ...]
    truncated: bool = False
    # What the caller asks for instead of what they turn away from: the intent and confidence of the words after
    # the last 말고 (or 게 아니라, or 대신 after a "not"), where those words hold a verb (주소 변경 말고 선결제부터 할래 ->
    # prepayment, though the whole reads as the address change); None where the turn turns away from nothing, or only
    # corrects a value (체크카드 말고 신용카드).
    instead: tuple[str, float] | None = None
    # What the caller goes on to ask for after taking in what was said: the intent and confidence of the words after
    # a sentence that takes it in and a "then" (생각보다 많이 나왔네요 그럼 그중에 백이십만 원은 지금 미리 내 버릴게요 ->
    # prepayment, though the whole reads as out of scope); None where the turn has no such place.
    goes_on: tuple[str, float] | None = None
    # The other request of a line that joins two (결제일을 이십오 일로 바꾸고 한도도 좀 올리고 싶어요); where both parts
    # read as the whole does, the one asked for later, if the line marks it (연체되면 신용 점수 떨어져요 그리고 밀린 거
    # 오늘 낼 수 있어요: another question of the same intent), as it does one unsure alone that refers back (포인트
    # 얼마 쌓였는지 보고 그걸로 카드값도 낼 수 있나); None where the line joins no two parts, where neither part reads
    # as the whole, or where the other reads as out of scope.
    also: Other | None = None

    def shown(self) -> dict:
        """As a JSON-ready dict that may be printed or logged: phone and card numbers masked."""
        result = asdict(self)
        result["text"] = mask(self.text, self.entities)
        for entity in result["entities"]:
            if entity["masked"]:
                entity["value"] = entity["text"] = entity["masked"]
        return result


def nothing_said(text: str = "") -> Understanding:
    """What silence, or a turn of only fillers, means to the dialog: nothing it can act on."""
    return Understanding(text, OUT_OF_SCOPE, 0.0, (), "fragment", 0.0, ())


def trained_dir(cache_dir: Path, pack: DomainPack, name: str) -> Path:
    """Where ``kocall train`` puts model ``name`` for ``pack`` (and ``kocall serve`` when it must train one)."""
    return Path(cache_dir) / "models" / "nlu" / (pack.name if name == INTENT else "") / name


def shipped_dir(pack: DomainPack, name: str) -> Path:
    """The model that ships: the pack's intent model (if it has one), the bundled utterance-type model."""
    return pack.intent_model if name == INTENT else SHIPPED_UTTERANCE_TYPE


class Understander:
    def __init__(self, intent: TextClassifier, utterance_type: TextClassifier, entities: EntityExtractor,
                 top_k: int = 3) -> None:
        self.intent = intent
        self.utterance_type = utterance_type
        self.entities = entities
        self.top_k = top_k

    def understand(self, text: str) -> Understanding:
        clean = normalize(text)
        if not clean:
            raise EmptyText("the text is empty (nothing but spaces, fillers or punctuation)")
        if not re.search(r"[^\W_]", clean):
            # Emoji or symbols only: the models would only guess; say plainly it is out of scope.
            return Understanding(clean, OUT_OF_SCOPE, 1.0, ((OUT_OF_SCOPE, 1.0),), "fragment", 1.0, ())
        intent = self.intent.predict([clean], k=self.top_k, normalized=True)[0]
        kind = self.utterance_type.predict([clean], k=2, normalized=True)[0]
        kind_label, kind_confidence = _utterance_type(kind, clean)
        rest, then = _after_instead(clean), _after_taken_then(clean)
        instead = self.intent.predict([rest], k=1, normalized=True)[0] if rest else None
        goes_on = self.intent.predict([then], k=1, normalized=True)[0] if then else None
        return Understanding(
            text=clean, intent=intent.label, confidence=intent.confidence, top_k=intent.top_k,
            utterance_type=kind_label, utterance_type_confidence=kind_confidence,
            entities=tuple(self.entities.extract(clean)), truncated=len(text.strip()) > MAX_CHARS,
            instead=(instead.label, instead.confidence) if instead else None,
            goes_on=(goes_on.label, goes_on.confidence) if goes_on else None,
            also=self._also(clean, intent.label, intent.confidence),
        )

    def _also(self, text: str, whole: str, confidence: float) -> Other | None:
        joined = _joined(text)
        if joined is None:
            return None
        readings = self.intent.predict([joined.before, joined.after], k=1, normalized=True)
        parts = [Other(r.label, r.confidence, part, start, marked, first != joined.after_first)
                 for r, part, start, marked, first in zip(
                     readings, (joined.before, joined.after), (0, len(text) - len(joined.after)),
                     (joined.marked and not joined.taken, joined.marked), (True, False))]
        later = next(part for part in parts if not part.first)
        other = [part for part in parts if part.intent != whole]
        asks_on = later.text.startswith(REFER) or confidence >= SURE_WHOLE and bool(ASKS.search(later.text))
        if joined.marked and not joined.listed and (
                not other or other == [later] and later.confidence < UNSURE and asks_on):
            # 연체되면 … 떨어져요 그리고 밀린 거 오늘 낼 수 있어요 (one intent, two questions); 포인트 얼마 쌓였는지
            # 보고 그걸로 카드값도 낼 수 있나 (the second, unsure alone, refers back to the first's topic); 연체하면 이자
            # 얼마나 붙는지 하고 지금 바로 어떻게 내는지 알려 주세요 (the second, unsure alone, asks, and the whole is
            # sure): another question about what the whole asks, read as surely as the whole
            return replace(later, intent=whole, confidence=max(later.confidence, confidence))
        return other[0] if len(other) == 1 and other[0].intent != OUT_OF_SCOPE else None


# how the word before 아니라 ends where it names what the caller does not mean (없애려는 게 아니라, 그건 아니고, 해지가
# 아니라, 날짜가 아니라)
NOT_THIS = ("게", "건", "거", "가", "이")
# "instead", after a "not" (분실 신고는 안 해도 되고요 대신 결제일 좀 바꿔 주세요); not after a request said before it
# (리볼빙 해지하고 대신 큰 거는 할부로 돌리고 싶은데: "and in its place", two requests)
INSTEAD = ("대신", "대신에")
# a word that says "not" (안 해도, 하지 않고, 필요 없고요, 안해도 as typed; not 안녕하세요): 안, or one that opens so
NOT = ("않", "없", "안해", "안하", "안할", "안돼", "안되")


def _after_instead(text: str) -> str:
    """The words after the last word that ends in 말고 ("not ... but"), or after a thing said not to be it (카드를
    없애려는 게 아니라, 그건 아니고, 해지가 아니라), or after 대신 ("instead") where a "not" comes before it, if they
    hold a verb or adjective: what the caller wants instead. Empty where there is no such word, nothing after it, or
    only a value."""
    words = text.split()
    last = max((i for i, word in enumerate(words) if word.endswith(("말고", "말고요"))
                or (word in INSTEAD and any(w == "안" or w.startswith(NOT) for w in words[:i]))
                or (i > 0 and word in ("아니라", "아니고", "아니고요") and words[i - 1].endswith(NOT_THIS))),
               default=None)
    rest = " ".join(words[last + 1:]) if last is not None else ""
    return rest if rest and any(t.tag in PREDICATE_TAGS for t in kiwi().tokenize(rest)) else ""


THEN = ("그럼", "그러면")  # "then", after a sentence that takes in what was said


def _after_taken_then(text: str) -> str:
    """The words after a sentence that takes in what was said and a "then" (생각보다 많이 나왔네요 그럼 그중에
    백이십만 원은 지금 미리 내 버릴게요): what the caller goes on to ask for. Empty where there is no such place."""
    words = text.split()
    if not any(word in THEN for word in words[1:-1]):
        return ""
    for i, inside in enumerate(_word_tokens(words)[:-2]):
        if words[i + 1] in THEN and _takes_in(inside[-1:]):
            return " ".join(words[i + 2:])
    return ""


JOINS = ("그리고", "그리구", "그라고", "그다음에")  # words that join two requests said in one line
# words after a verb in -고 that make one predicate with it (바꾸고 싶어요, 쓰고 있어요), not a second request
ONE_PREDICATE = ("싶", "있", "계시", "말")
# 선결제하고 나서 한도 알려 줘: the join's own word, not the second request's (and 하고 before it is a verb, which
# Kiwi may read as the particle "and")
AFTER = ("나서", "나면")
# 결제일 이십 일로 바꿔 줄 수 있어 아 그 전에 카드값 얼마 나왔는지부터: a second part that opens so asks to be done first
SOONER = re.compile(r"^(?:(?:아|어|음|참|근데|그럼) )*(?:그 ?전에|그거 ?하기 ?전에|그(?:것)?보다 ?먼저|먼저) ")
# 그보다 카드 잃어버린 게 급하니까 분실 신고부터 해 주세요: "rather than that" asks to be done first where what
# follows says 부터 or 먼저 (아 아니다 그보다 이번 달 카드값이 궁금해요 says instead)
RATHER = re.compile(r"^(?:(?:아|어|음|참|근데|그럼) )*그(?:것)?보다 .*(?:부터|먼저)")
REFER = ("그걸로", "그거로", "그걸", "그것도", "그거")  # words that point back to what was just said
SURE_WHOLE = 0.9  # a whole read at this (0-1) or more says what a part that asks, unsure alone, asks about
ASKS = re.compile("어떻게|얼마|어디|언제|몇|뭐|무슨|왜|어느")  # words that ask (not 두 가지 문의드릴게요)
UNSURE = 0.5  # a part read below this (0-1) alone means little by itself
AND = ("이랑", "랑")  # the particle "and" after a noun (갚는 방법이랑 카드론은 얼마까지 되는지도)
BOTH = re.compile(r"(?:^| )(?:둘 ?다|두 ?개|두 ?가지)(?:를|를요|요)?(?= |$)")  # "both", after two things listed
# how final endings that take in what was said, or what both know, end (된다고요, 거죠, 되는구나, 빠지잖아요): no
# request
MAY_MARK = re.compile("도|전에|먼저")  # what a line needs to mark a second sentence as another request
TAKEN = ("다고", "라고", "군요", "구나", "구먼", "죠", "지요", "네요", "네", "잖아", "잖아요")


@dataclass(frozen=True)
class Parts:
    """A line that joins two clauses, split at the join."""

    before: str  # the words before the join (결제 계좌를 신한은행으로 바꾸고)
    after: str  # the words after it, without a joining word (결제일도 이십오 일로 바꿔 주세요)
    marked: bool  # the line says the second is another request: 그리고, 도 on it, 그 전에, or a list of questions
    after_first: bool  # the second asks to be done first (아 그 전에 …, 먼저 …)
    taken: bool  # the first takes in what was said rather than asking (앱에서 보면 되는구나 그리고 …)
    listed: bool = False  # two things listed as nouns (A랑 B 둘 다 …): where both read alike, one request about two


def _joined(text: str) -> Parts | None:
    """The two parts of a line that joins two clauses, each with a verb, an adjective or the copula, and whether
    the line marks the second as another request: 그리고 or 그다음에; 도 on the second part (한도도, 있는지도,
    이메일로도); 그 전에 or 먼저 at its start; two questions or two of a kind listed (붙는지 하고 …; 확인하는 방법이랑 …
    내는 방법), or "and" said apart after a clause (확인하는 방법이랑요 …); or, after -고, a new topic (큰 거 하나는
    할부로 돌리고 나머지는 미리 내려고요). The join is the first of: 그리고; a verb in the connective -고 (바꾸고,
    해 주시고요, 해지하고 나서; not 써가지고, "because", 말고, nor 하고 싶어요); a noun then 하고, which Kiwi may read as
    "and" (선결제하고), or then (이)랑 after a clause with a verb (갚는 방법이랑), and a sentence's end (한도도 올릴 수
    있어요 아 그거 하기 전에 …), where the second part is marked; or else two things to do listed as nouns before
    "both" (:func:`_listed`). A part may be a request of its own, which the dialog takes up before or after the
    other (``Understanding.also``)."""
    words = text.split()
    within = _join(words, sentences=False) or _listed(words)
    if within is not None or not MAY_MARK.search(text):  # a sentence's end joins only where the second is marked
        return within
    return _join(words, sentences=True)


def _listed(words: list[str]) -> Parts | None:
    """Two things to do said as nouns joined by "and" and then "both", before the verb they share, if any (한도
    상향이랑 결제일 변경 둘 다 해 주세요): the first said with that verb (… 한도 상향 해 주세요), and the rest of the line. The
    first is read with the verb because a noun alone may name a thing rather than a request (폰이랑 지갑 둘 다
    잃어버렸어요: 폰 잃어버렸어요 is the lost card, as the whole is, not the app)."""
    for i, word in enumerate(words[:-1]):
        rest = " ".join(words[i + 1:])
        both = BOTH.search(rest)
        if not _and(word) or both is None:
            continue
        first = _and_noun(word)
        # 결제일 변경이랑 … 확인하는 방법 두 가지요: "both" may end the line, with no verb to share
        return Parts(" ".join([*words[:i], first, rest[both.end():].strip()]).strip(), rest, True, False, False, True)
    return None


def _join(words: list[str], sentences: bool) -> Parts | None:
    """The first join of :func:`_joined` within a sentence, or (``sentences``) between two: a sentence's end is
    a join only where the line has no other (카드를 잃어버렸어요 분실 신고 해 주시고 그동안 쓰인 거 있는지도 봐
    주세요 joins at 주시고; 안녕하세요 is no request)."""
    ends = _sentence_ends(words) if sentences else set()
    for i, word in enumerate(words[:-1]):
        nxt = words[i + 1]
        if sentences:
            if i not in ends:
                continue
            before, after = words[:i + 1], words[i + 1:]
        elif word in JOINS:
            before, after = words[:i], words[i + 1:]
        elif word.endswith("고" + AFTER[0]) or (_spoken_end(word).endswith("고")
                                                and not nxt.startswith(ONE_PREDICATE)) or _and(word):
            before, after = words[:i + 1], words[i + 2:] if nxt in AFTER else words[i + 1:]
        else:
            continue
        # each part says what to do (the -고 word is itself a verb)
        parts = [kiwi().tokenize(" ".join(part)) for part in (before, after)]
        clauses = [any(t.tag in CLAUSE_TAGS for t in tokens) for tokens in parts]
        if not after or not all(clauses[word not in JOINS:]):
            continue
        rest = " ".join(after[1:] if after[0] in JOINS else after)
        sooner = _sooner(rest)
        noun = _and_noun(word) if _and(word) else ""
        listed = ((words[i - 1] if word == "하고" and i > 0 else noun).endswith("지")  # 붙는지 하고 어떻게 내는지
                  # 확인하는 방법이랑 학원비를 내는 방법: two of a kind, each with its clause
                  or len(noun) >= 2 and any(w.startswith(noun) for w in after) and clauses[0]
                  # 한도 올리는 거랑 무이자 할부 되는 데가 어딘지: a clause made a noun (거, 것), then another
                  or noun in ("거", "것") and clauses[0])
        verb = _spoken_end(word.removesuffix(AFTER[0]))
        connective = _connective(verb) and not _and(word)
        particles = [(k, t.form) for k, t in enumerate(parts[1]) if t.tag == "JX"]
        # 큰 거 하나는 할부로 돌리고 나머지는 미리 내려고요: after -고, a new topic (은/는 on the second part's first
        # noun) that the second part says something else about
        topic = (connective and bool(particles) and particles[0][1] in ("은", "는")
                 and parts[1][particles[0][0] - 1].tag.startswith("N"))
        # 확인하는 방법이랑요 …: "and" said apart, with 요, after a clause, lists one thing to do before another
        apart = _and(word) and word.endswith("요") and clauses[0]
        marked = (word in JOINS or after[0] in JOINS or sooner or listed or topic or apart
                  or any(form == "도" and _says_also(parts[1], k) for k, form in particles))
        if (word in JOINS or connective
                or (verb.endswith("하고") and (marked or nxt in AFTER or word.endswith(AFTER[0])))
                or _and(word) and marked
                or sentences and marked and (sooner or len(words) - 1 in ends)):  # not 은행도 안 하고: a reason
            return Parts(" ".join(before), rest, marked, sooner, _takes_in(_spoken(parts[0])[-1:]))
    return None


def _sooner(part: str) -> bool:
    """Whether a part opens by asking to be done before what was said (그 전에, 먼저, 그보다 … 부터)."""
    return bool(SOONER.match(part + " ") or RATHER.match(part))


def _says_also(tokens: list[Token], k: int) -> bool:
    """Whether the 도 at ``k`` says "also": after a noun, an ending or a particle (한도도, 있는지도, 이메일로도), not
    한도's own 도 nor 아직도 ("still"); not before 않 or 못, nor between a count and 안 (쓰지도 않는데, 한 번도 안 써
    봤는데: "not even"; 로그인도 안 돼요 is "also"), nor after -는데 (안 쓰는데도: "even though")."""
    before = tokens[k - 1] if k > 0 else None
    return (before is not None and before.tag.startswith(("N", "EC", "JKB"))
            and not (before.tag == "EC" and before.form.endswith("데"))
            and (k + 1 == len(tokens) or tokens[k + 1].form not in ("않", "못")
                 and not (tokens[k + 1].form == "안" and before.tag in ("NNB", "NR"))))


def _spoken_end(word: str) -> str:
    """The word without a closing politeness (요) or its regional forms (예, 유): 물어보고유 -> 물어보고."""
    return word.removesuffix("요").removesuffix("예").removesuffix("유")


def _and(word: str) -> bool:
    """Whether the word ends with the particle "and" (방법이랑, 방법이랑요)."""
    return word.removesuffix("요").endswith(AND)


def _and_noun(word: str) -> str:
    """The word without its "and" (방법이랑요 -> 방법, 거랑 -> 거)."""
    return word.removesuffix("요").removesuffix("랑").removesuffix("이")


def _sentence_ends(words: list[str]) -> set[int]:
    """The indexes of the words that end a sentence that may ask for something (있어요, 해 주세요, 줄 수 있어,
    하려고 하는데요): a final ending that takes in nothing (not 된다고요, 되는 거죠), then at most 요, or -는데 then 요
    or then what asks to be done first (주소도 바꿔야 되는데 아 그것보다 분실 신고부터 …); read in the line, where
    그럼 is "then", not an ending."""
    ends = set()
    for i, (word, inside) in enumerate(zip(words, _word_tokens(words))):
        if inside and (inside[-1].tag == "EF" and not _takes_in(inside[-1:])
                       # 해지하려고 하는데요: -는데 with 요 ends a spoken sentence as a final ending would
                       or inside[-1].tag == "EC" and inside[-1].form.endswith("데") and (
                           word.endswith("요") or _sooner(" ".join(words[i + 1:])))):
            ends.add(i)
    return ends


def _word_tokens(words: list[str]) -> list[list[Token]]:
    """Kiwi's tokens of each word, read in the line (:func:`_spoken`: without a closing 요)."""
    tokens = _spoken(kiwi().tokenize(" ".join(words)))
    per, start = [], 0
    for word in words:
        per.append([t for t in tokens if start <= t.start < start + len(word)])
        start += len(word) + 1
    return per


def _spoken(tokens: list[Token]) -> list[Token]:
    """Kiwi's tokens without a closing politeness (요) or regional 예, which end a word but change nothing."""
    return [t for t in tokens if (t.form, t.tag) not in (("요", "JX"), ("예", "IC"))]


def _takes_in(last: list[Token]) -> bool:
    """Whether the (one) last token is a final ending that takes in what was said (되는구나, 된다고, 거죠)."""
    return bool(last) and last[-1].tag == "EF" and last[-1].form.endswith(TAKEN)


def _connective(word: str) -> bool:
    """Whether the word is a verb in the connective -고 (바꾸고, 확인하고, 주시고요, 옮기고예, 물어보고유), not 가지고
    ("because") or 말고, nor one in the past (이미 냈고요: what happened, not a request)."""
    tokens = _spoken(kiwi().tokenize(word))
    if any(t.tag == "EP" and t.form != "시" for t in tokens):
        return False
    tokens = [t for t in tokens if t.tag != "EP"]
    return (len(tokens) >= 2 and (tokens[-1].form, tokens[-1].tag) == ("고", "EC")
            and tokens[-2].tag in PREDICATE_TAGS and tokens[-2].form not in ("가지", "말"))


def _utterance_type(prediction: Prediction, text: str) -> tuple[str, float]:
    """The model's utterance type, except that a sentence with a verb or adjective is no fragment.

    3i4K's fragments are phrases without a predicate (카드 분실). On short banmal the
    model sometimes calls a full request one (한도 좀 올려 줘), and the dialog would
    then ask before acting; Kiwi's tags settle it, and the model's next guess stands.
    """
    (first, p1), *rest = prediction.top_k
    if UTTERANCE_TYPES.get(first) == "fragment" and rest and any(t.tag in PREDICATE_TAGS
                                                                  for t in kiwi().tokenize(text)):
        first, p1 = rest[0]
    return UTTERANCE_TYPES.get(first, first), p1


def model_path(settings: NluSettings, cache_dir: Path, pack: DomainPack, name: str) -> Path:
    """The folder of model ``name``: the one configured, else one ``kocall train`` made, else the shipped one.

    The shipped folder may not exist (a team's pack without a trained model): ``kocall serve`` then
    trains one into :func:`trained_dir` before it starts.
    """
    configured = {INTENT: settings.intent_model, UTTERANCE_TYPE: settings.utterance_type_model}[name]
    if configured:
        return Path(configured)
    trained = trained_dir(cache_dir, pack, name)
    return trained if (trained / META_FILE).is_file() else shipped_dir(pack, name)


@functools.lru_cache(maxsize=2)
def get_understander(settings: NluSettings, cache_dir: Path, pack: DomainPack) -> Understander:
    """The process-wide understander (models loaded once)."""
    torch.set_num_threads(settings.threads)
    intent = TextClassifier.load(model_path(settings, cache_dir, pack, INTENT))
    kind = TextClassifier.load(model_path(settings, cache_dir, pack, UTTERANCE_TYPE))
    return Understander(intent, kind, EntityExtractor.load(pack.gazetteer), settings.top_k)
