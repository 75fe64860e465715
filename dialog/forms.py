"""Slot-filling forms for transactions (lost card, address change, payment date, limit).

A form asks for each missing slot, fills slots from the NLU's entities (so a
caller who says everything at once is not asked again), validates each value
against the domain's rules, re-asks on invalid values, reads the request back
and completes it only after a yes. At the read-back the caller may correct any
slot by just saying the new value (아니 15일로), or say no and name the slot to
change (a form of one slot asks for it again), or cancel at any point. A
question on the side that an FAQ entry answers pauses the form: the answer is
given, the form's last question asked again, and the next turn is the form's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from rapidfuzz import fuzz

from dialog.domain import Domain, Form, Slot
from dialog.handoff import hand_off
from dialog.sessions import Session


LAST_DIGITS = "last_digits"  # the NLU's entity for the last four digits of a number, said again to correct them
IDENTIFIERS = frozenset({"phone", "account_number"})  # the numbers whose last digits may be corrected so


@dataclass(frozen=True)
class Value:
    """An entity as a form sees it (the NLU's Entity, or one kept in a session as JSON)."""

    type: str
    value: Any
    masked: str | None = None


@dataclass(frozen=True)
class Answer:
    """What the caller's turn says, as the dialog needs it."""

    text: str
    entities: tuple[Value, ...]
    affirm: bool
    deny: bool
    cancel: bool
    names_person: bool  # 상담원, 직원: a hand-off the caller asked for in words
    complains: bool = False  # 짜증나네, 어이없네: anger in words, whatever a model makes of the sentence
    fumes: bool = False  # 이게 말이 돼요 진짜 짜증나네: anger said twice, at places apart
    hangs_up: bool = False  # ... 나중에 다시 전화할게요 끊을게요: the turn ends with a goodbye word
    takes_in: bool = False  # 인증하면 된다고요 알겠습니다: the turn ends with an acknowledge word
    thanked: bool = False  # 교육비 납부 메뉴요 알겠어요 고맙습니다: it ends with one and then thanks
    yes_then_thanks: bool = False  # 메뉴요 네 감사합니다, 된다는 거지 오케이 됐어: a yes, then thanks or "enough"
    runner_up: str = ""  # the intent model's second reading (카드 끊을게요: goodbye, then card_cancel)
    # what the caller surely asks for after turning away (그거 말고 선결제부터 할래: prepayment), or after taking in what
    # was heard (… 많이 나왔네요 그럼 그중에 백이십만 원은 지금 미리 내 버릴게요: prepayment)
    instead: str = ""
    yes_no_said: bool = False  # a yes or no word opens the turn (네, 아니요), not only the model's reading of it
    repeat: bool = False  # 뭐라고요, 잘 안 들려요: the caller asks to hear the bot's last words again
    nothing: bool = False  # 네 없어요, 없습니다 감사합니다: the turn ends with "nothing", before any thanks
    searching: bool = False  # 아니 그거 뭐더라: the caller looks for a word, and says no yes or no, whatever its 아니
    also: Second | None = None  # the other request of a line that joins two (… 바꾸고 한도도 올려 줘), if any


@dataclass(frozen=True)
class Second:
    """The other request of a line that joins two, read at ``confirm_below`` or more (dialog.later)."""

    intent: str  # limit_increase
    text: str  # its words (한도도 올려 줘)
    entities: tuple[Value, ...]  # the values said in those words (among the turn's)
    marked: bool  # the line says it is another request (그리고, or 도: 한도도; 그 전에)
    clear: bool  # the model reads it at ``switch_above`` or more
    first: bool  # the caller asks for it first: said first, or said second with 그 전에 or 먼저


def start(domain: Domain, session: Session, form_name: str, entities: Iterable[Value], text: str = "") -> str:
    """Begin a form, keeping any slot values the opening utterance (``text``, its ``entities``) already gave."""
    form = domain.forms[form_name]
    session.model, session.form, session.slots, session.shown, session.invalid = "form", form_name, {}, {}, 0
    session.fallbacks = 0
    _, rejected = _fill(form, session, tuple(entities), text, asking=None)
    if rejected is not None and rejected.name not in session.slots:
        # 결제일을 30일로 바꾸고 싶어요: a value said with the request that the slot refuses is refused as it is when
        # asked for, and counts towards the hand-off for invalid values, rather than asked for as if unsaid.
        session.state = f"asking:{rejected.name}"
        return _invalid(domain, session, rejected.invalid)
    return _next(domain, session)


def answers_form(domain: Domain, session: Session, answer: Answer) -> bool:
    """Whether the turn carries a value for the form in progress, names the slot to correct when the form
    asked which one (희망 한도요), or answers its read-back with a yes or a no that names no person and says
    no anger (네 접수해 주세요): then it is no change of topic, whatever intent its words suggest."""
    form = domain.forms[session.form]
    if session.state == "correcting" and _named_slot(form, answer.text) is not None:
        return True
    if (session.state == "confirming" and (answer.affirm or answer.deny) and not answer.names_person
            and not answer.complains):
        return True
    asking = session.state.removeprefix("asking:")
    if any(e.type == LAST_DIGITS for e in answer.entities) and any(_corrects_tail(s, session) for s in form.slots):
        return True
    return any(e.type in form.entity_types for e in answer.entities) or any(
        "text" in slot.entity and slot.name == asking and slot.accepts(answer.text) for slot in form.slots)


def step(domain: Domain, session: Session, answer: Answer) -> str:
    """One caller turn inside a form."""
    form = domain.forms[session.form]
    if answer.cancel:
        session.form, session.state = None, "cancelled"
        return domain.responses["cancelled"]
    asking = session.state.removeprefix("asking:") if session.state.startswith("asking:") else None
    before = dict(session.slots)
    filled, rejected = _fill(form, session, answer.entities, answer.text, asking)
    # 네 이백만 원 맞습니다, to the read-back of 2,000,000원: a yes that says the values again changes nothing.
    if filled and not (session.state == "confirming" and answer.affirm and not answer.deny
                       and all(session.slots[name] == before.get(name) for name in filled)):
        session.invalid = 0
        return _next(domain, session)
    if session.state == "confirming":
        if answer.affirm:
            session.state = "completed"
            done = form.done.format(**session.shown)
            session.form = None
            return f"{done} {domain.responses['anything_else']}"
        if answer.deny:
            if len(form.slots) == 1:  # 아니 잘못 말했어: there is only one thing to change, so ask for it
                session.state = f"asking:{form.slots[0].name}"
                return form.slots[0].ask
            session.state = "correcting"
            return _which(domain, form)
        return _invalid(domain, session, form.confirm.format(**session.shown))
    if session.state == "correcting":
        slot = _named_slot(form, answer.text)
        if slot is not None:
            session.state = f"asking:{slot.name}"
            return slot.ask
        return _invalid(domain, session, _which(domain, form))
    slot = form.slot(asking)
    return _invalid(domain, session, rejected.invalid if rejected else slot.invalid)


def title_words(domain: Domain, form: str) -> tuple[str, ...]:
    """The words of the form's title a caller names it by (한도 상향: 한도, 상향; not a one-syllable word)."""
    return tuple(word for word in domain.forms[form].title.split() if len(word) >= 2)


def restates(domain: Domain, session: Session, text: str) -> bool:
    """Whether the turn's last word says a word of the form in progress's title (취소해주세요, in the approval
    cancel, 승인 취소): a stop word that is the form's own request."""
    words = text.split()
    return bool(words) and any(words[-1].startswith(word) for word in title_words(domain, session.form))


def says_again(domain: Domain, session: Session, answer: Answer) -> bool:
    """Whether the turn ends as a request (a ``requesting`` word: 바꿔 줘, 해 주세요, 할게요) and gives the form in
    progress no value it does not already hold (none given, too): the request said again, not a question about it."""
    return requests(domain, answer.text) and adds_nothing(domain, session, answer)


def requests(domain: Domain, text: str) -> bool:
    """Whether the turn ends as a request: a ``requesting`` word (바꿔 줘, 해 주세요, 할게요)."""
    return bool(domain.words.requesting) and text.endswith(domain.words.requesting)


def adds_nothing(domain: Domain, session: Session, answer: Answer) -> bool:
    """Whether the turn gives the form in progress no value it does not already hold (free text aside)."""
    types = domain.forms[session.form].value_types
    held = {str(value) for value in session.slots.values()}
    return all(str(e.value) in held for e in answer.entities if e.type in types)


def pause(session: Session) -> None:
    """Set the form in progress aside (its name, intent, state and re-asks; its values stay in the session, which
    an answer does not touch), to answer a question on the side: a caller who asks how to see the bill while
    changing the address still means to change it."""
    session.paused = {"form": session.form, "intent": session.intent, "state": session.state,
                      "invalid": session.invalid}
    session.form = None


def resume(session: Session) -> None:
    """Take the paused form up again where it stood."""
    paused, session.paused = session.paused, None
    session.model, session.form, session.intent = "form", paused["form"], paused["intent"]
    session.state, session.invalid = paused["state"], paused["invalid"]


def value_types(domain: Domain, intent: str) -> frozenset[str]:
    """The value types the intent's form fills (a card type for the revolving form; free text aside); none for an
    intent with no form."""
    route = domain.intents[intent]
    return domain.forms[route.form].value_types if route.model == "form" else frozenset()


def takes(domain: Domain, session: Session, answer: Answer) -> bool:
    """Whether the turn carries a value the paused form takes (free text aside, which any turn is)."""
    types = domain.forms[session.paused["form"]].value_types
    return any(e.type in types for e in answer.entities)


def taker(domain: Domain, answer: Answer) -> str | None:
    """The intent whose form takes the most of the value types the turn carries, if exactly one does (a day
    of the month points at the payment date; a card and a phone number at the lost card, though several forms
    take a card; an amount at no single form). Numbers and free text point at nothing."""
    types = {e.type for e in answer.entities} - {"number", "text"}
    taken = {name: len(types & domain.forms[route.form].entity_types)
             for name, route in domain.intents.items() if route.model == "form" and route.offer}
    most = max(taken.values(), default=0)
    takers = [name for name, n in taken.items() if n == most]
    return takers[0] if most and len(takers) == 1 else None


def going_on(domain: Domain, session: Session, reply: str) -> str:
    """The side question's answer, with the paused form's last question in place of "더 도와드릴 일이 있으신가요?"
    (after the domain's optional ``resumed`` line: "주소 변경 계속 진행하겠습니다.")."""
    paused = session.paused
    form = domain.forms[paused["form"]]
    state = paused["state"]
    if state == "confirming":
        asked = form.confirm.format(**session.shown)
    elif state == "correcting":
        asked = _which(domain, form)
    else:
        asked = form.slot(state.removeprefix("asking:")).ask
    resumed = domain.responses.get("resumed", "").format(form_title=form.title)
    said = reply.removesuffix(domain.responses["anything_else"]).rstrip()
    return " ".join(part for part in (said, resumed, asked) if part)


def _fill(form: Form, session: Session, entities: tuple[Value, ...], text: str,
          asking: str | None) -> tuple[list[str], Slot | None]:
    """Put valid entity values into their slots; returns the filled names and a slot whose value was refused."""
    filled, rejected = [], None
    tail = next((e.value for e in entities if e.type == LAST_DIGITS), None)
    for slot in form.slots:
        if tail is not None and _corrects_tail(slot, session):
            # 끝자리 9876이요, to the read-back of 010-****-9867: the number given before, its last digits said again
            value = f"{session.slots[slot.name][:-len(tail)]}{tail}"
            if slot.accepts(value):
                session.slots[slot.name] = value
                session.shown[slot.name] = f"{session.shown[slot.name][:-len(tail)]}{tail}"
                filled.append(slot.name)
            continue
        if "text" in slot.entity:
            # asked for, any words; else only what the slot's pattern finds (주소 좀 바꿔 주세요 새 주소는 서울시 마포구 ...)
            candidates = ([(slot.said(text), None)] if text and (slot.name == asking
                                                                 or asking is None and slot.finds(text)) else [])
        else:
            candidates = [(e.value, e.masked) for e in entities if e.type in slot.entity]
        for value, masked in reversed(candidates):  # the last said wins: 신한 아니고 하나은행, 오십 아니 육십만 원
            if slot.accepts(value):
                session.slots[slot.name] = value
                session.shown[slot.name] = masked or _spoken(value)
                filled.append(slot.name)
                break
            rejected = rejected or slot
    return filled, rejected


def _corrects_tail(slot: Slot, session: Session) -> bool:
    """Whether the slot holds a number whose last digits a caller may say again to correct it (a phone, an
    account; not one yet to be given)."""
    said = session.slots.get(slot.name)
    return bool(IDENTIFIERS & set(slot.entity)) and isinstance(said, str) and len(said) > 4


def _next(domain: Domain, session: Session) -> str:
    form = domain.forms[session.form]
    missing = [s for s in form.slots if s.name not in session.slots]
    if missing:
        session.state = f"asking:{missing[0].name}"
        return missing[0].ask
    session.state = "confirming"
    return form.confirm.format(**session.shown)


def _invalid(domain: Domain, session: Session, reprompt: str) -> str:
    session.invalid += 1
    if session.invalid > domain.policy.max_invalid:
        return hand_off(domain, session, "invalid_values")
    return reprompt


def _which(domain: Domain, form: Form) -> str:
    return domain.responses["correct_which"].format(slot_titles=", ".join(s.title for s in form.slots))


def _named_slot(form: Form, text: str) -> Slot | None:
    scored = sorted(((max(fuzz.partial_ratio(text, s.title), fuzz.partial_ratio(text, s.name)), s)
                     for s in form.slots), key=lambda pair: -pair[0])
    return scored[0][1] if scored and scored[0][0] >= 70 else None


def _spoken(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and value >= 10000 else str(value)
