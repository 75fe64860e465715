"""A second request said in the same line as the first, taken up once the first is done.

Callers often ask for two things at once (결제일을 이십오 일로 바꾸고 한도도 좀 올리고 싶어요). The NLU reads the part
of such a line that the whole is not read as (``Understanding.also``). Where that part is a request of its own
(the line says so with 그리고 or 도, or the part names what it asks for and the model is sure of it), the bot acts on
the request said first, with the values said in its part, and keeps the other; when the first is done, where the
bot would ask "더 도와드릴 일이 있으신가요?", it goes on to the second: a form starts (after the pack's optional
``next`` line, "이어서 한도 상향 진행하겠습니다."), an FAQ question is answered, a person is called.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Callable

from core.lexicon import PARTICLES
from dialog import clarify, faq, forms
from dialog.domain import Domain
from dialog.forms import Answer, Value
from dialog.sessions import Session
from dialog.wording import ends_last, says


def first(domain: Domain, session: Session, answer: Answer, intent: str) -> tuple[Answer, str]:
    """The turn and intent to act on now: where the turn is a fresh request (no form in progress, no offer
    pending) that says a second one (its part names what it asks for and the model is clear about it, or the line
    marks it as another request: 그리고, 도, 그 전에; not 앱에서 보면 되는구나 그리고 ..., 지점 가야 되는구나 알겠어요
    그리고 ..., a taking in read as a question), the request the caller asks for first, with its own part's values
    (결제 계좌를 신한은행으로 바꾸고 결제일도 이십오 일로 바꿔 주세요, read as the payment date as a whole: the account,
    with the bank; 결제일 이십 일로 바꿔 줄 수 있어 아 그 전에 카드값 얼마 나왔는지부터: the bill); the turn with no
    second request otherwise. A value said in one part that only the other's form takes is that form's (체크카드로
    … 내역 좀 확인해 주시고 그거 승인 취소 요청해 주세요: the card to the approval cancel). Two questions of one FAQ
    intent (연체되면 신용 점수 떨어져요 그리고 밀린 거 오늘 낼 수 있어요) are answered each from its own words, the
    first now."""
    also = answer.also
    route, other = domain.intents.get(intent), domain.intents.get(also.intent) if also is not None else None
    same = other is not None and also.intent == intent  # two questions of one FAQ intent: each gets its answer
    if (route is None or other is None or route.model not in ("form", "faq") or same and route.model != "faq"
            or not (other.model in ("form", "faq") or other.model == "handoff" and other.reason != "complaint")
            or session.form is not None or session.pending is not None
            or not (also.clear and names(domain, also.intent, also.text)
                    or also.marked and not (also.first and ends_last(domain.words.acknowledge, also.text)))):
        return replace(answer, also=None), intent
    rest = list(answer.entities)
    for value in also.entities:  # one each: 교통카드로 … 그 교통카드는: the card said in both parts is each one's
        rest.remove(value)
    said = " ".join(answer.text.replace(also.text, " ").split())  # the words of the request done now
    if same and faq.unsure(domain, said, intent) and not faq.unsure(domain, answer.text, intent):
        # 지난달에 이벤트 응모하고 조건도 채웠는데 캐시백이 아직 안 들어왔어요: the first part alone could be either
        # events answer, the whole line says which; one question, not two
        return replace(answer, also=None), intent
    if same:
        return replace(answer, text=said, entities=tuple(rest)), intent
    if also.first and other.model != "handoff":
        now, then = shared(domain, (also.intent, also.entities),
                           (intent, pointed_back(said, tuple(rest), also.entities)))
        return replace(answer, entities=now, also=replace(also, intent=intent, text=said, entities=then,
                                                          first=False)), also.intent
    now, then = shared(domain, (intent, tuple(rest)),
                       (also.intent, pointed_back(also.text, also.entities, tuple(rest))))
    return replace(answer, entities=now, also=replace(also, entities=then)), intent


def shared(domain: Domain, now: tuple[str, tuple[Value, ...]], then: tuple[str, tuple[Value, ...]]
           ) -> tuple[tuple[Value, ...], tuple[Value, ...]]:
    """The values of the request done now and of the later one (each an intent and the values said in its part),
    each with those said in the other's part that only it takes, of a kind it has none of: 체크카드로 모르는 결제가
    된 것 같은데 내역 좀 확인해 주시고 그거 승인 취소 요청해 주세요, the card to the approval cancel; 신용카드 분실 신고
    해 주시고 결과는 공일공 … 로 보내 주세요 그리고 비밀번호는 어떻게 바꾸는지도요, the number to the lost card."""
    def given(mine: tuple[str, tuple[Value, ...]], theirs: tuple[str, tuple[Value, ...]]) -> tuple[Value, ...]:
        kinds = forms.value_types(domain, mine[0]) - forms.value_types(domain, theirs[0]) - {e.type for e in mine[1]}
        return mine[1] + tuple(e for e in theirs[1] if e.type in kinds)

    return given(now, then), given(then, now)


def asked_now(answer: Answer) -> str:
    """The words of the request acted on now, where the turn keeps another for later (as :func:`first` left it):
    an FAQ question done first is answered from its own words (포인트 얼마 있는지 좀 알려 주시고요 결제일도 …: the
    points balance, which the date's words make as likely as the use of points)."""
    if answer.also is None:
        return answer.text
    return " ".join(answer.text.replace(answer.also.text, " ").split()) or answer.text


def pointed_back(text: str, own: tuple[Value, ...], first: tuple[Value, ...]) -> tuple[Value, ...]:
    """The later request's values (``own``, said in its ``text``), with those of the request done ``first`` that it
    points back to with 그 and a word that ends one, where it says none of their kind (신용카드 리볼빙 끊고 그 카드도
    해지해 주세요: 신용카드; 그 은행으로: 신한은행)."""
    words = [word for previous, word in zip(text.split(), text.split()[1:]) if previous == "그"]
    return own + tuple(v for v in first if isinstance(v.value, str) and v.type not in {e.type for e in own}
                       and any(word[cut:] in PARTICLES and v.value.endswith(word[:cut])
                               for word in words for cut in range(len(word), 1, -1)))


def keep(session: Session, answer: Answer, intent: str, aside: dict | None = None) -> None:
    """Keep the turn's second request (as :func:`first` left it: none where it is no sure request of its own), if
    the bot acted on ``intent`` (a form begun, an FAQ question answered) or offered it (결제일 변경을 도와드릴까요?,
    to 결제일을 십사 일로 좀 옮기고예 한도도 쫌 올리고 싶어서요); or the request said ``aside`` a form's answer
    (:func:`aside`), if the form went on with the answer or is done. One kept is dropped where the first request was
    cancelled or declined, or the bot did not understand the caller: the call has moved on."""
    if session.later is not None and (session.model == "fallback" or session.state == "cancelled"):
        session.later = None
    if session.later is not None or session.ended:
        return
    acted = (session.intent == intent and session.model in ("form", "faq")) or session.state == f"offered:{intent}"
    if answer.also is not None and acted:
        session.later = {"intent": answer.also.intent, "text": answer.also.text,
                         "entities": [asdict(e) for e in answer.also.entities]}
    elif aside is not None and (session.form is not None or session.state == "completed"):
        session.later = aside


def aside(domain: Domain, session: Session, answer: Answer, intent: str, confidence: float) -> dict | None:
    """Another request said in a turn that gives the form in progress its answer, after a ``joins`` word (네 해지해
    주세요 아 그리고 포인트는 지금 얼마나 쌓여 있는지 알 수 있어요, to the card cancel's read-back; 국민은행이요 아 그리고
    바꾸는 김에 결제일도 좀 바꿔 주세요, asked for the bank), read at ``switch_above`` or more as a form or FAQ intent not
    the form's: kept (as :func:`keep` keeps one) for when the form is done, with the values said that its form takes
    and the one in progress does not; None otherwise."""
    route = domain.intents.get(intent)
    words = answer.text.split()
    joined = [i for i, word in enumerate(words) if word in domain.words.joins]
    if (session.form is None or not joined or route is None or route.model not in ("form", "faq")
            or intent == session.intent or confidence < domain.policy.switch_above
            or not forms.answers_form(domain, session, answer)):
        return None
    kinds = forms.value_types(domain, intent) - forms.value_types(domain, session.intent)
    return {"intent": intent, "text": " ".join(words[joined[-1] + 1:]),
            "entities": [asdict(e) for e in answer.entities if e.type in kinds]}


def sooner(domain: Domain, kept: dict | None) -> bool:
    """Whether a request said aside a form's answer (as :func:`aside` keeps it) asks to be answered before the form
    goes on: an FAQ question whose words open with a ``sooner`` one (신용카드요 아 근데 그 전에 카드값 연체되면 이자가
    몇 프로 붙는지도 좀 알려 주세요, asked which card). A form asked for so still waits for the one in progress."""
    return (kept is not None and domain.intents[kept["intent"]].model == "faq"
            and says(domain.words.sooner, kept["text"], domain.words.lead))


def names(domain: Domain, intent: str, text: str) -> bool:
    """Whether ``text`` says what it asks for: a word of the form's title no other form's title has (한도, 결제일,
    선결제; not 카드 or 변경), or every word of its title where no other form's title is said whole (체크카드
    해지하려고: 카드 해지, though 카드 and 해지 are each another title's too; not 신용카드 리볼빙 해지, which says 리볼빙
    해지 whole too); for an FAQ intent, a topic only its entries have (:func:`dialog.faq.names_topic`); for a
    hand-off, a person word (상담원). A part that names nothing and is not said to be another request (연휴 끝나고,
    read as the opening hours) is no request of its own."""
    route = domain.intents[intent]
    if route.model == "faq":
        return faq.names_topic(domain, text, intent)
    if route.model == "handoff":  # 상담원 좀 연결해 주세요
        return bool(domain.words.person) and any(word.startswith(domain.words.person) for word in text.split())
    others = {word for name in domain.forms if name != route.form for word in forms.title_words(domain, name)}
    said = text.replace(" ", "")
    whole = [name for name in domain.forms if all(word in said for word in forms.title_words(domain, name))]
    return (any(word not in others and word in said for word in forms.title_words(domain, route.form))
            or whole == [route.form])


def went_on(domain: Domain, session: Session, answer: Answer) -> tuple[str, tuple[Value, ...]] | None:
    """The kept request (its intent and values) the turn goes on to, where the bot asked which answer was meant and
    the caller gave, in place of a choice, a value the kept request's form takes (연체된 거 어떻게 내는지 알려 주시고
    결제일도 바꾸고 싶어요, asked which overdue answer: 음 십오 일로 해 주세요); None otherwise."""
    kept = session.later
    if kept is None or not any(e.type in forms.value_types(domain, kept["intent"]) for e in answer.entities):
        return None
    session.later = None
    return kept["intent"], tuple(Value(**e) for e in kept["entities"]) + answer.entities


def take_up(domain: Domain, session: Session, reply: str,
            begin: Callable[[str, tuple[Value, ...], str], str]) -> str:
    """``reply`` with the kept request begun in place of "더 도와드릴 일이 있으신가요?", once the first request is
    done (a form completed, a question answered, no side question pending); ``begin(intent, entities, text)``
    starts its dialog model."""
    later, anything_else = session.later, domain.responses["anything_else"]
    if (later is None or session.ended or session.form is not None or session.paused is not None
            or not reply.endswith(anything_else)
            or not (session.state == "completed" or session.state.startswith("answered:"))):
        return reply
    session.later = None
    route = domain.intents[later["intent"]]
    best = faq.rank(domain, later["text"], later["intent"])[0].entry.id if route.model == "faq" else None
    # the question just answered, asked again in other words; the form just completed, which the caller came to by
    # another way (a value for it, given to the offer of the first request)
    if session.state == f"answered:{best}" or session.state == "completed" and session.intent == later["intent"]:
        return reply
    said = reply.removesuffix(anything_else).rstrip()
    if route.model == "form" and any(word in later["text"] for word in domain.words.weighing):
        # 선결제를 좀 할까 하는데요 그 전에 카드값 얼마인지부터: a request the caller was only weighing is offered
        return f"{said} {clarify.offer_with(domain, session, later['intent'], later['entities'])}"
    going = (domain.responses.get("next", "").format(form_title=domain.forms[route.form].title)
             if route.model == "form" else "")
    started = begin(later["intent"], tuple(Value(**e) for e in later["entities"]), later["text"])
    return " ".join(part for part in (said, going, started) if part)
