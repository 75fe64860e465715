"""The models that ask before acting: offers for fragments and unsure intents, and fallback.

* **Offer**: a caller who says only "카드 분실", or whose intent the model is
  unsure of, is asked "카드 분실 신고를 도와드릴까요?" instead of being dropped
  into a form. A yes, or a value the offered form takes, starts it with whatever values the fragment and the
  answer carried.
* **Fallback**: an utterance nobody understood gets a re-prompt, each one
  narrower than the last; after ``max_fallbacks`` the call goes to a person.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Callable

from dialog import faq, forms
from dialog.backend import Backend
from dialog.domain import Domain
from dialog.forms import Answer, Value
from dialog.handoff import hand_off
from dialog.sessions import Session


def offer(domain: Domain, session: Session, intent: str, answer: Answer, earlier: list[dict] | None = None) -> str:
    """Ask whether the caller wants ``intent``, keeping the values the turn gave (and ``earlier`` ones, as JSON)
    for its form."""
    return offer_with(domain, session, intent, [*(earlier or ()), *(asdict(e) for e in answer.entities)])


def offer_with(domain: Domain, session: Session, intent: str, values: list[dict]) -> str:
    """Ask whether the caller wants ``intent``, keeping ``values`` (entities as JSON) for its form."""
    session.model, session.state = "offer", f"offered:{intent}"
    session.pending = {"intent": intent, "entities": values}
    return domain.intents[intent].offer


def resolve(domain: Domain, session: Session, answer: Answer, backend: Backend, clear: str | None, on: bool,
            begin: Callable[[str, tuple[Value, ...]], str]) -> str | None:
    """The answer to a pending offer or FAQ choice; None when the caller moved on (route it afresh).

    ``clear``: the form or FAQ intent the model reads the turn as at ``switch_above`` or more, if any (a value
    given with another request said plainly answers no offer); ``on``: the model reads the turn as no request,
    under ``confirm_below``, or as the offered intent; ``begin(intent, entities)`` starts the dialog model of an
    accepted intent.
    """
    pending, session.pending = session.pending, None
    elsewhere = clear is not None and clear != pending.get("intent") and _takes(domain, clear, answer)
    said = answer.text.split()
    bare = len(said) <= 2  # 교통카드, 해지요: a word or two, which no model reads well
    if "choices" in pending:
        session.pending = pending
        # a yes beside another request the model is sure of (네 해지해 주세요, asked which points answer was meant)
        # takes no answer: the caller asks for that request
        reply = faq.choose(domain, session, answer.text, answer.affirm and clear in (None, session.intent), backend)
        if reply is not None:
            return reply
        session.pending = None
    elif (((answer.affirm and not elsewhere and not (answer.takes_in and not answer.yes_no_said))
           or (_takes(domain, pending["intent"], answer) and (bare or clear in (None, pending["intent"])))
           or (bare and "intent" in pending and _in_offer(domain.intents[pending["intent"]].offer, said))
           or clear == pending.get("intent"))
          and not answer.deny) or _corrects(domain, pending, answer):
        # 네, or the value the offered form asks for (리볼빙 해지를 도와드릴까요? - 신용카드요; said bare, 교통카드, whatever
        # the model makes of one word), or the offer's own words (해지요), or its request said plainly (카드를
        # 잃어버렸어요, offered the lost card for the number just given): the offer is taken, with the values kept; not
        # a yes with another request surely made and its values (네 바꿔 주세요 십오 일로 해 주세요, offered the bill
        # amount: the payment date), nor a turn that takes in what it heard (아 그렇구나 ... 알겠습니다).
        kept = tuple(Value(**e) for e in pending["entities"])
        return begin(pending["intent"], kept + answer.entities)
    elif (on and domain.intents[pending["intent"]].model == "faq"
          and not (answer.cancel or answer.deny or answer.hangs_up or answer.takes_in)):
        # 그 앱을 내가 할 줄 모르는디 이메일로도 받을 수 있다고, asked "이용 내역 조회 방법을 안내해 드릴까요?"
        # (out of scope 0.56), or 아 그럼 많이 쓰면 안 내도 되는 거예요, asked "수수료를 안내해 드릴까요?" (fees 0.48):
        # no yes, but the caller goes on about what was offered, which is answered.
        return begin(pending["intent"], answer.entities)
    if answer.cancel and not answer.affirm and "choices" not in pending:
        # 아버지가 그냥 두라고 하시네요 해지 안 할게요, asked "카드 해지를 도와드릴까요?": the caller takes the request back.
        session.model, session.state = "offer", "cancelled"
        return domain.responses["cancelled"]
    if answer.deny:
        return misunderstood(domain, session, domain.responses["declined"])
    return None


def _corrects(domain: Domain, pending: dict, answer: Answer) -> bool:
    """Whether a no says again a value kept with the offer, which the offered form takes (아 아니 번호 틀렸다
    공일공 삼삼칠이 구공일칠, offered the lost card for the number just given): the value is corrected, and the
    offer stands."""
    kept = {e["type"] for e in pending.get("entities", ())}
    return (answer.deny and "intent" in pending and _takes(domain, pending["intent"], answer)
            and any(e.type in kept for e in answer.entities))


def _in_offer(offered: str | None, said: list[str]) -> bool:
    """Whether every word of a short answer is in the offer it answers (해지요, to "리볼빙 해지를 도와드릴까요?"; 변경요,
    to "결제일 변경을 도와드릴까요?"): the caller takes it up in its own words."""
    stems = [word.removesuffix("요").removesuffix("이") for word in said]
    return bool(offered) and all(len(stem) >= 2 and stem in offered for stem in stems)


def _takes(domain: Domain, intent: str, answer: Answer) -> bool:
    """Whether the turn carries a value of a type the intent's form fills (a card type for the revolving form)."""
    types = forms.value_types(domain, intent)
    return any(e.type in types for e in answer.entities)


def fallback(domain: Domain, session: Session) -> str:
    prompts = domain.responses["fallback"]
    return misunderstood(domain, session, prompts[min(session.fallbacks, len(prompts) - 1)])


def misunderstood(domain: Domain, session: Session, reprompt: str) -> str:
    """Count one more turn the bot got wrong; hand off once there have been too many."""
    session.fallbacks += 1
    if session.fallbacks > domain.policy.max_fallbacks:
        return hand_off(domain, session, "repeated_misunderstanding")
    session.model, session.state = "fallback", f"reprompt:{session.fallbacks}"
    return reprompt
