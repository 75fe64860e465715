"""The dialog manager: one caller turn in, the bot's move out, session state kept in a store.

:class:`Dialog` is what the chat CLI and the server hold (one per process). It
sees an understood utterance (anything shaped like ``nlu.understand.Understanding``),
never a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from dialog import faq, router
from dialog.backend import Backend, StubBackend
from dialog.domain import Domain, Words
from dialog.forms import Answer, Second, Value
from dialog.sessions import Session, SessionStore
from dialog.wording import ends_last, ends_with, said_apart, says, says_last, without_last, words_of

HISTORY_LINES = 50  # caller and bot lines kept for the hand-off summary


class EntityLike(Protocol):
    type: str
    value: Any
    text: str
    start: int
    end: int
    masked: str | None


class OtherLike(Protocol):
    intent: str
    confidence: float
    text: str
    start: int
    marked: bool
    first: bool


class UnderstandingLike(Protocol):
    text: str
    intent: str
    confidence: float
    top_k: tuple[tuple[str, float], ...]
    utterance_type: str
    entities: tuple[EntityLike, ...]
    instead: tuple[str, float] | None  # the reading of the words after 말고 (... 말고 선결제부터 할래), if any
    goes_on: tuple[str, float] | None  # the reading of the words after a taken-in sentence and 그럼, if any
    also: OtherLike | None  # the other request of a line that joins two (결제일 바꾸고 한도도 올려 줘), if any


@dataclass(frozen=True)
class Turn:
    """The bot's move: what to say, and where the conversation stands."""

    reply: str
    model: str  # the dialog model that answered
    state: str
    slots: dict[str, str]  # the form's slots, as may be shown and logged (phone and card numbers masked)
    handoff: dict[str, Any] | None  # the summary for the agent when the call is handed off
    end: bool  # the bot's part of the conversation is over (goodbye or hand-off)
    number: int = 0  # the turn's number in its session, from 1


class Dialog:
    def __init__(self, domain: Domain, store: SessionStore, backend: Backend | None = None) -> None:
        """``backend``: the call center's systems for answers only they hold (default: the stub's examples)."""
        self.domain = domain
        self.store = store
        self.backend = backend or StubBackend()
        faq.prepare(domain)

    def respond(self, session_id: str, understood: UnderstandingLike, shown_text: str | None = None) -> Turn:
        """Answer one turn. ``shown_text`` is the caller's text as it may be logged (identifiers masked)."""
        session = self.store.get(session_id)
        if session is None or (session.ended and session.handoff is None):
            session = Session(session_id)  # first turn, or a new conversation after a goodbye
        session.turns += 1
        session.history.append({"speaker": "caller", "text": shown_text or understood.text,
                                "intent": understood.intent, "confidence": round(understood.confidence, 3)})
        if session.ended:  # handed off: the agent takes it from here
            reply = self.domain.responses["after_handoff"]
        else:
            answer = read_answer(self.domain.words, understood, self.domain.policy.confirm_below,
                                 self.domain.policy.switch_above)
            reply = router.respond(self.domain, session, answer, understood.intent, understood.confidence,
                                   understood.utterance_type, self.backend)
        session.history.append({"speaker": "bot", "text": reply})
        session.history = session.history[-HISTORY_LINES:]
        self.store.put(session)
        slots = dict(session.shown) if session.model in ("form", "handoff") else {}
        return Turn(reply, session.model, session.state, slots, session.handoff, session.ended, session.turns)

    def hang_up(self, session_id: str) -> None:
        self.store.delete(session_id)


def read_answer(words: Words, understood: UnderstandingLike, sure: float, clear: float) -> Answer:
    """Yes, no and cancel by their words first (응, 아니, 취소: too short to trust a model with), then by intent;
    what the caller asks for instead of something (주소 변경 말고 선결제부터 할래), or goes on to ask for after taking
    in what was heard where the whole is read under ``clear``, where it is read at ``clear``
    (``switch_above``) or more, and the other of two requests in one line where it is read at ``sure``
    (``confirm_below``) or more."""
    text = understood.text
    confident = understood.confidence >= sure
    # 생각보다 많이 나왔네요 그럼 그중에 백이십만 원은 지금 미리 내 버릴게요 (out of scope 0.51): what the caller goes
    # on to ask for after taking in what was heard, where the model is not sure of the whole; read surely as a whole,
    # the words after 그럼 are a question about it (… 받으면 되는 거죠 그럼 다음 결제일 전에 … 미리 갚을 수도 있어요:
    # the card loan's repayment, not a prepayment)
    instead = understood.instead or (understood.goes_on if understood.confidence < clear else None)
    other = understood.also
    also = None if other is None or other.confidence < sure else Second(
        other.intent, other.text, tuple(Value(e.type, e.value, e.masked) for e in understood.entities
                                        if other.start <= e.start and e.end <= other.start + len(other.text)),
        other.marked, other.confidence >= clear, other.first)
    # 아니 그거 뭐더라, 네 그 뭐시기: a caller looking for a word answers nothing yet, in words or by the model
    searching = any(w in text for w in words.searching)
    said_no = says(words.deny, text, words.lead) and not searching
    # 아 다음 결제일부터 전부 나가는 거예요 음 네 그래도 해주세요: a caller who thinks aloud first ends with the answer;
    # so does one who takes it in first (아 그라믄 됐심더 해주이소)
    before_yes = without_last(words.affirm, text)
    yes_after_taking_in = before_yes != " ".join(words_of(text)) and ends_last(words.acknowledge, before_yes)
    said_yes = not searching and (says(words.affirm, text, words.lead) or (
        (says_last(words.affirm, text, words.lead) or yes_after_taking_in) and not said_no))
    taken_in = ends_with(words.acknowledge, text) or ends_last(words.acknowledge, text)
    # 알겠어요 고맙습니다, 앱에서 하면 되는구나 네, 앱에서 보라고 알았어 됐어: taken in, then thanks, a yes or enough
    thanked = not taken_in and ends_last(words.acknowledge,
                                         without_last(words.thanks + words.affirm + words.cancel, text))
    # 아 교육비 납부 메뉴요 네 감사합니다, 일 년 치 된다는 거지 오케이 됐어: what was heard said back, a yes, and thanks
    # or "enough"
    before_thanks = words_of(without_last(words.thanks + words.cancel, text))
    yes_then_thanks = len(before_thanks) < len(words_of(text)) and before_thanks[-1:] in ([w] for w in words.affirm)
    return Answer(
        text=text,
        entities=tuple(Value(e.type, e.value, e.masked) for e in understood.entities),
        affirm=said_yes or (understood.intent == "affirm" and confident and not searching),
        deny=said_no or (understood.intent == "deny" and confident and not searching),
        cancel=(says(words.cancel, text, words.lead + words.deny) or says_last(words.cancel, text, words.lead)
                or ends_with(words.stop, without_last(words.cancel, text, words.stop))),  # 취소할게요 취소
        names_person=any(word.startswith(words.person) for word in text.split()) if words.person else False,
        complains=any(w in text for w in words.complaint),
        fumes=said_apart(words.complaint, text) >= 2,
        hangs_up=ends_with(words.goodbye, text),
        takes_in=taken_in or thanked,
        thanked=thanked,
        yes_then_thanks=yes_then_thanks,
        runner_up=understood.top_k[1][0] if len(understood.top_k) > 1 else "",
        instead=instead[0] if instead is not None and instead[1] >= clear else "",
        yes_no_said=said_yes or said_no,
        repeat=any(w in text for w in words.repeat),
        nothing=ends_with(words.nothing, without_last(words.thanks, text)),
        searching=searching,
        also=also,
    )
