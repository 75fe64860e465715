"""FAQ answers: the information questions (opening hours, fees, documents).

One intent covers several answers (fees: annual fee, overseas fee, cash
advance), so the answer is picked among the entries of the intent the dialog
acts on (a long, hedged question shares more words with some other intent's
examples than with its own) by a small model of each entry's title and example
questions: logistic regression on character 1-3-grams within words, the intent
model's features, fitted once per set of entries when the dialog starts. When
the two likeliest entries are within ``did_you_mean_margin`` percentage points
the caller is asked which one they meant. A question that refers back to the
answer just given (그거 잔액은요) is about that answer's topic. Why a model and
not string similarity to the examples: docs/understanding.md, "The ninth and
tenth sets, and picking the FAQ answer".

An entry that names a ``lookup`` is answered from the call center's back-end
(:mod:`dialog.backend`) where it can be, with the entry's own answer where not.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from core.ngram import NgramScorer
from dialog.backend import Backend, BackendUnavailable
from dialog.domain import Domain, FaqEntry, Words
from dialog.sessions import Session

@dataclass(frozen=True)
class Scored:
    entry: FaqEntry
    score: float  # how likely the caller asks for this entry, in per cent (the intent's entries sum to 100)


def similarity(text: str, question: str) -> float:
    return max(fuzz.token_set_ratio(text, question),
               fuzz.token_set_ratio(text.replace(" ", ""), question.replace(" ", "")))


def rank(domain: Domain, text: str, intent: str | None) -> list[Scored]:
    """The intent's FAQ entries (every entry if it has none), likeliest first."""
    entries = tuple(e for e in domain.faq if e.intent == intent) or domain.faq
    if len(entries) == 1:
        return [Scored(entries[0], 100.0)]
    model = picker(entries)
    likely = model.probabilities([text])[0]
    return sorted((Scored(entries[i], 100.0 * float(p)) for i, p in zip(model.classes, likely)),
                  key=lambda s: -s.score)


def prepare(domain: Domain) -> None:
    """Fit every intent's picker now, so that no caller waits for it."""
    for intent in {e.intent for e in domain.faq}:
        rank(domain, "", intent)


@lru_cache(maxsize=256)
def picker(entries: tuple[FaqEntry, ...]) -> NgramScorer:
    """A model of which of these entries a question asks for, fitted on their titles and example questions
    (a few milliseconds for a dozen entries); C as the intent model's."""
    texts = [text for e in entries for text in (e.title, *e.questions)]
    labels = [i for i, e in enumerate(entries) for _ in (e.title, *e.questions)]
    return fit_questions(texts, labels)


def fit_questions(texts: list[str], labels: list) -> NgramScorer:
    """The picker's model (character 1-3-grams within words, logistic regression) fitted on these questions."""
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    regression = LogisticRegression(C=10.0, max_iter=2000).fit(vectorizer.fit_transform(texts), labels)
    return NgramScorer.of(vectorizer, regression)


def names_topic(domain: Domain, text: str, intent: str) -> bool:
    """Whether the caller names a topic only the intent's entries have (카드론 for card_loan; not 카드, which
    other intents' titles share): a question that says what it is about is answered even where the intent
    model is unsure of the rest of its words."""
    return bool(named_topics(domain, text, intent))


def named_topics(domain: Domain, text: str, intent: str) -> list[str]:
    """The topics only the intent's entries have that the text names (:func:`names_topic`)."""
    said = text.replace(" ", "")
    others = [e.title.replace(" ", "") for e in domain.faq if e.intent != intent]
    return [topic for e in domain.faq if e.intent == intent for topic in _topics(e)
            if topic in said and not any(topic in title for title in others)]


def follow_up(domain: Domain, session: Session, text: str, intent: str, confidence: float, checks: bool = False
              ) -> tuple[str, str] | None:
    """A question about the answer just given: the answered entry's intent, and the question to pick among its
    entries with; None where it asks something new.

    It refers back to the answer (그거 잔액 어떻게 봐요 after the 국민행복카드 answer: the topic then takes the place
    of 그거, 국민행복카드 잔액 어떻게 봐요; asked under the intent the model surely reads where that has an entry on
    the topic: 그거 이자는 몇 프로야, after the cash-advance answer, asks its fee), or opens with "then" where the
    model is unsure of its own reading (그라믄 석 달 전 꺼도 그 앱에서 다 나오나, after the history answer). It asks something new where it names a
    topic only ``intent`` (the model's reading) has: 그거 말고 카드론은요, and so does 그게 아니라 ... ; unless the
    answer spoke of that topic and the caller only asks whether it holds, then at any confidence: 그럼 무이자 할부도
    되는 거예요, after a tuition answer that says 무이자 할부, is the tuition's; 그럼 제 가상계좌 번호는 어디서
    확인해요, after an overdue answer that says 가상계좌, asks where, and is the virtual account's. ``checks``: the
    turn only checks what was said (승인 나면 다른 은행 통장으로도 받을 수 있는 거죠, after the card-loan answer),
    whatever it reads as, and goes on from it too."""
    last = next((e for e in domain.faq if session.state == f"answered:{e.id}"), None)
    if last is None or last.intent == intent:
        return None
    named = named_topics(domain, text, intent)
    heard = (session.last_reply or "").replace(" ", "")
    echoed = bool(named) and not asks(domain.words, text) and all(topic in heard for topic in named)
    at = refers_back(domain.words, text)
    then = (_then(domain.words, text) if at is None and (confidence < domain.policy.switch_above or echoed)
            else None)
    if (at is None and then is None and not checks) or (named and not echoed):
        return None
    if at is None:  # after a "then", the caller's words as said: they may name another of its entries (학원비)
        return last.intent, text
    words, topic = text.split(), _topics(last)[:1]
    read = " ".join([*words[:at], *topic, *words[at + 1:]])
    if (confidence >= domain.policy.switch_above and topic
            and any(e.intent == intent and topic[0] in _topics(e) for e in domain.faq)):
        return intent, read  # the question the model surely reads has an entry on that topic: 현금서비스 수수료
    return last.intent, read


def refers_back(words: Words, text: str) -> int | None:
    """The place of the word that points at what was just said (a ``refer`` word: 그거, 그걸), or None: none,
    or one the caller turns away from (그거 말고, 그게 아니라: ``not_that``)."""
    said = text.split()
    return next((i for i, word in enumerate(said) if words.refer and word.startswith(words.refer)
                 and not (words.not_that and i + 1 < len(said) and said[i + 1].startswith(words.not_that))), None)


def _then(words: Words, text: str) -> int | None:
    """The place of the "then" (a ``then`` word) among the words that open the turn before what it says (아 그럼,
    근데 그러면), or None."""
    for i, word in enumerate(text.split()):
        if word in words.then:
            return i
        if word not in words.lead:
            return None
    return None


def asks(words: Words, text: str) -> bool:
    """Whether the turn asks for information (an ``asking`` word: 어떻게, 얼마, 언제): a caller's question often
    ends in a fragment (그거 미리 갚으려면 어떻게 해요 중도 상환이요), which the utterance type then reads as a
    statement."""
    return bool(words.asking) and any(word.startswith(words.asking) for word in text.split())


def _topics(entry: FaqEntry) -> tuple[str, ...]:
    """The entry's topics: the first word of its title, or each of its parts where the title joins several
    with · (카드론·현금서비스 상환: 카드론 and 현금서비스; a caller says one of them, never both with the dot)."""
    return tuple(topic for topic in entry.title.split()[0].split("·") if len(topic) >= 2)


def answer(domain: Domain, session: Session, text: str, intent: str | None, backend: Backend) -> str:
    """Answer the likeliest entry, or ask which of the two likeliest was meant where they are close."""
    best, *others = rank(domain, text, intent)[:2]
    second = others[0] if others else None
    if second and best.score - second.score <= domain.policy.did_you_mean_margin:
        session.model, session.state = "faq", "did_you_mean"
        session.pending = {"choices": [best.entry.id, second.entry.id]}
        return domain.responses["did_you_mean"].format(first=best.entry.title, second=second.entry.title)
    return give(domain, session, best.entry, backend)


def choose(domain: Domain, session: Session, text: str, affirmed: bool, backend: Backend) -> str | None:
    """The caller's pick among offered entries (by its words; a plain yes takes the first); None if unclear."""
    entries = [e for e in domain.faq if e.id in session.pending["choices"]]
    scored = sorted(((max(similarity(text, q) for q in (e.title, *e.questions)), e) for e in entries),
                    key=lambda pair: -pair[0])
    if scored[0][0] >= 60 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return give(domain, session, scored[0][1], backend)
    if affirmed:
        return give(domain, session, entries[0], backend)
    return None


def give(domain: Domain, session: Session, entry: FaqEntry, backend: Backend) -> str:
    session.model, session.state, session.pending = "faq", f"answered:{entry.id}", None
    session.fallbacks = 0
    return f"{_looked_up(domain, session, entry, backend) or entry.answer} {domain.responses['anything_else']}"


def _looked_up(domain: Domain, session: Session, entry: FaqEntry, backend: Backend) -> str | None:
    """The entry's ``lookup_answer`` with the back-end's fields; None where it names no lookup or the back-end
    cannot answer (then the entry's own answer stands)."""
    if entry.lookup is None:
        return None
    try:
        fields = backend.lookup(entry.lookup, session.id)
        said = entry.lookup_answer.format(**fields)
    except (BackendUnavailable, KeyError):  # KeyError: the back-end left out a field the template speaks
        return None
    notice = domain.responses.get("example_data", "") if getattr(backend, "example", False) else ""
    return f"{notice} {said}".strip()
