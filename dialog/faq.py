"""FAQ answers: the information questions (opening hours, fees, documents).

One intent covers several answers (fees: annual fee, overseas fee, cash
advance), so the answer is picked among the entries of the intent the dialog
acts on (a long, hedged question shares more words with some other intent's
examples than with its own) by a small model of each entry's title and example
questions (and the pack's ``faq_questions.csv``): logistic regression on character 1-3-grams within words,
the intent model's features, fitted once per set of entries when the dialog starts. When
the two likeliest entries are within ``did_you_mean_margin`` percentage points
the caller is asked which one they meant (a question about the answer just
given is read in :mod:`dialog.followup`). Why a model and
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
from dialog.domain import Domain, FaqEntry
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
    """A model of which of these entries a question asks for, fitted on their titles and questions, the pack's
    ``faq_questions.csv`` with them (a few milliseconds for a dozen entries)."""
    texts = [text for e in entries for text in (e.title, *e.questions, *e.more_questions)]
    labels = [i for i, e in enumerate(entries) for _ in (e.title, *e.questions, *e.more_questions)]
    return fit_questions(texts, labels)


def fit_questions(texts: list[str], labels: list) -> NgramScorer:
    """The picker's model (character 1-3-grams within words, logistic regression) fitted on these questions. C is
    100, less regularised than the intent model's 10: an entry has a few dozen questions, and at 10 a long line's
    likeliest two stayed within the margin where its words told them apart (chosen on `bench/faq.py`'s dev lines)."""
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    regression = LogisticRegression(C=100.0, max_iter=2000).fit(vectorizer.fit_transform(texts), labels)
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
    return [topic for e in domain.faq if e.intent == intent for topic in topics(e)
            if topic in said and not any(topic in title for title in others)]


def topics(entry: FaqEntry) -> tuple[str, ...]:
    """The entry's topics: the first word of its title, or each of its parts where the title joins several
    with · (카드론·현금서비스 상환: 카드론 and 현금서비스; a caller says one of them, never both with the dot)."""
    return tuple(topic for topic in entry.title.split()[0].split("·") if len(topic) >= 2)


def unsure(domain: Domain, text: str, intent: str | None) -> bool:
    """Whether the two likeliest entries for the text are within ``did_you_mean_margin`` points (the caller would be
    asked which one was meant)."""
    return _close(domain, rank(domain, text, intent))


def _close(domain: Domain, ranked: list[Scored]) -> bool:
    return len(ranked) > 1 and ranked[0].score - ranked[1].score <= domain.policy.did_you_mean_margin


def answer(domain: Domain, session: Session, text: str, intent: str | None, backend: Backend) -> str:
    """Answer the likeliest entry, or ask which of the two likeliest was meant where they are close; not where one
    of the two is the answer just given (… 꽤 크네요 그럼 지금 바로 밀린 거 내려면 어떻게 해야 돼요, after the overdue
    interest: the caller heard that one, and asks on for the other)."""
    ranked = rank(domain, text, intent)
    if _close(domain, ranked):
        best, second = ranked[:2]
        if session.state in (f"answered:{best.entry.id}", f"answered:{second.entry.id}"):
            return give(domain, session, (second if session.state == f"answered:{best.entry.id}" else best).entry,
                        backend)
        session.model, session.state = "faq", "did_you_mean"
        session.pending = {"choices": [best.entry.id, second.entry.id]}
        return domain.responses["did_you_mean"].format(first=best.entry.title, second=second.entry.title)
    return give(domain, session, ranked[0].entry, backend)


def choose(domain: Domain, session: Session, text: str, affirmed: bool, backend: Backend) -> str | None:
    """The caller's pick among offered entries (by its words; a plain yes takes the first); None if unclear."""
    by_id = {e.id: e for e in domain.faq}
    entries = [by_id[choice] for choice in session.pending["choices"]]  # in the order they were offered
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
