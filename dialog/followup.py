"""A caller's turn about what the bot has just said: taking in an answer, checking it, asking on about it.

After an FAQ answer or a finished request the bot asks "더 도와드릴 일이 있으신가요?", and callers go on from
what they heard rather than start afresh: they take it in (삼 일에서 오 일 걸린다고요 알겠습니다), check it with a
tag question (앱 첫 화면에도 나온다 그 말이지라), or ask on about it with a word that points back (그거 이자는 몇
프로야) or a "then" (그라믄 석 달 전 꺼도 나오나). These rules read such turns; the pack's ``words`` (``refer``,
``not_that``, ``then``, ``asking``, ``checking``, ``acknowledge``) say which words do it, and
:mod:`dialog.router` decides where each rule stands in precedence (docs/conversations.md, "Precedence").
"""

from __future__ import annotations

import re
from dataclasses import replace

from core.lexicon import PARTICLES
from dialog import faq, forms
from dialog.domain import OUT_OF_SCOPE, Domain, FaqEntry, Words
from dialog.forms import Answer, Value
from dialog.sessions import Session
from dialog.wording import ends_last, without_last, words_of


def asked_anything_else(session: Session) -> bool:
    """The bot's last line ended with "더 도와드릴 일이 있으신가요?" (a request done, cancelled or answered, or a
    goodbye it was unsure of)."""
    return session.state in ("completed", "cancelled", "anything_else") or session.state.startswith("answered:")


def acknowledges(domain: Domain, answer: Answer, intent: str, confidence: float, utterance_type: str,
                 heard: str) -> bool:
    """Whether a turn after an answer or a finished request takes it in and asks nothing: it asks no question
    by its words (어떻게, 얼마) and gives no value a form takes, and it ends with an ``acknowledge`` word (본인
    휴대폰 인증하면 된다고요 알겠습니다, read as the identity-verification question), perhaps then thanks (교육비 납부
    메뉴요 알겠어요 고맙습니다), or, read as no question, it says what the caller will do where the model is unsure
    of the question it reads (어 알았어 그럼 앱에서 볼게, the app question at 0.60), after a yes (네 앱에서 확인해
    볼게요) or after words of the answer said back (간편 비밀번호 재설정이요 해 볼게요), or is a remark the model reads
    as out of scope (아 만 원에서 삼만 원이요 생각보다 꽤 되네, after the annual-fee answer): no line not understood."""
    fresh = tuple(e for e in answer.entities if not _echoes(e, heard))
    if asks(domain.words, answer.text) or forms.taker(domain, replace(answer, entities=fresh)) is not None:
        return False
    route = domain.intents.get(intent)
    if (answer.takes_in or answer.yes_then_thanks) and not (
            (answer.thanked or answer.yes_then_thanks) and route is not None and route.model == "goodbye"):
        # what the caller says last (아 앱 즉시 결제 메뉴 오케이, read as a question); not thanks the model reads as a
        # goodbye (알겠습니다 감사합니다), which closes the call
        return True
    faq_read = route is not None and route.model == "faq"
    # 네 앱에서 확인해 볼게요 (the app question at 0.91): a yes, and what the caller will do; 토요일은 안 받는다고요
    # 알았어요 월요일에 다시 할게요 (the branch hours at 0.85): taken in, and what the caller will do
    # (어 알았어 앱에서 볼게 됐어, 오케이 앱에서 볼게 끊어: what the caller will do, before thanks, a yes, "enough" or
    # a goodbye)
    done = without_last(domain.words.thanks + domain.words.affirm + domain.words.cancel + domain.words.goodbye,
                        answer.text)
    # (아 여섯 시까지구나 그럼 점심시간에 다시 걸게요, 재설정이요 네 해 볼게요: taken in, or a yes, before it; 아 간편
    # 비밀번호 재설정이요 해 볼게요, the password question at 0.98: the answer's words said back before it)
    promised = (faq_read and (confidence < domain.policy.switch_above or answer.affirm and answer.yes_no_said
                              or any(ends_last(domain.words.acknowledge, w) or w in domain.words.affirm
                                     for w in words_of(done)[:-1])
                              or _says_back(done, heard))
                and _promises(done))
    # a remark, but not one that goes on with "then" (그럼 한 사흘 늦은 건데 신용 점수에 올라가요), nor a caller
    # looking for a word (그 거시기 있잖아 그 저번에 그거), who has not understood the answer so much as not yet asked
    remark = intent == OUT_OF_SCOPE and not answer.searching and then_at(domain.words, answer.text) is None
    return utterance_type != "question" and (remark or promised)


def _says_back(text: str, heard: str) -> bool:
    """Whether the turn says two words running of the bot's last line again (아 간편 비밀번호 재설정이요 해 볼게요, after
    "… '간편 비밀번호 재설정'에서 휴대폰 본인 인증을 하고 …"): what was heard, said back."""
    words = words_of(text)
    return any(f"{a} {b}" in heard for a, b in zip(words, words[1:]))


def _echoes(value: Value, heard: str) -> bool:
    """Whether the bot's last line said the value in digits (아 오 일 넘기면 안 되는구나, after "5영업일 이상 연체되면"):
    the caller reads it back, and gives no new value."""
    return isinstance(value.value, int) and any(re.search(rf"(?<![\d,.]){n}(?!,?\d)", heard)
                                                for n in {f"{value.value}", f"{value.value:,}"})


def checks(words: Words, text: str) -> bool:
    """Whether the turn ends by checking what was said (a ``checking`` word: 받을 수 있는 거죠, 된다는 거쥬; typed
    without its space, 되는거죠; before the caller's own yes, 되는거죠 넵): a question that asks for no form,
    whatever form its words suggest."""
    said = without_last(words.affirm, text).split()
    return bool(said) and bool(words.checking) and said[-1].endswith(words.checking)


def checked(domain: Domain, session: Session, intent: str) -> FaqEntry | None:
    """The answer a tag question read as the intent just answered checks: that answer again, not another of its
    intent's (그럼 백만 원 쓰면 만 이천오백 원 정도 더 나오는 거네요, after the overseas fee, is no question about the
    annual fee, which the picker found as likely); None after anything else."""
    last = next((e for e in domain.faq if session.state == f"answered:{e.id}"), None)
    return last if last is not None and last.intent == intent else None


def _promises(text: str) -> bool:
    """Whether the turn ends with what the caller will do (볼게, 해 볼게요, 할께): a verb in ㄹ게(요)."""
    words = text.rstrip("?.!, ").split()
    last = words[-1].removesuffix("요") if words else ""
    if len(last) < 2 or not last.endswith(("게", "께")):
        return False
    syllable = ord(last[-2]) - 0xAC00  # Hangul syllables: 28 finals per vowel, ㄹ the 8th
    return 0 <= syllable < 11172 and syllable % 28 == 8


def follow_up(domain: Domain, session: Session, text: str, intent: str, confidence: float,
              only_checks: bool = False) -> tuple[str, str] | None:
    """A question about the answer just given: the answered entry's intent, and the question to pick among its
    entries with; None where it asks something new.

    It refers back to the answer (그거 잔액 어떻게 봐요 after the 국민행복카드 answer: the topic then takes the place
    of 그거, 국민행복카드 잔액 어떻게 봐요; asked under the intent the model reads more likely than not where that has
    an entry on the topic: 그거 이자는 몇 프로야, after the cash-advance answer, asks its fee, though fees at 0.52),
    or opens with "then" where the model is unsure of its own reading (그라믄 석 달 전 꺼도 그 앱에서 다 나오나, after the history answer). It asks
    something new where it names a topic only ``intent`` (the model's reading) has: 그거 말고 카드론은요, and so
    does 그게 아니라 ... ; unless the
    answer spoke of that topic and the caller only asks whether it holds, then at any confidence: 그럼 무이자 할부도
    되는 거예요, after a tuition answer that says 무이자 할부, is the tuition's; 그럼 제 가상계좌 번호는 어디서
    확인해요, after an overdue answer that says 가상계좌, asks where, and is the virtual account's. ``only_checks``: the
    turn only checks what was said (승인 나면 다른 은행 통장으로도 받을 수 있는 거죠, after the card-loan answer),
    whatever it reads as, and goes on from it too. A question read as another intent that has an entry on the
    answer's topic, naming none of its own, is asked on that topic (그럼 수수료는 얼마나 붙어요, after the
    cash-advance answer, asks its fee)."""
    last = next((e for e in domain.faq if session.state == f"answered:{e.id}"), None)
    if last is None:
        return None
    if last.intent == intent:
        # 몇 개월까지 돼요, after the instalment conversion: a bare question of a few words, naming none of the
        # intent's topics, is read beside the answer's title (alone, the interest-free instalments are likelier)
        bare = len(text.split()) <= 4 and asks(domain.words, text) and not faq.named_topics(domain, text, intent)
        return (intent, f"{last.title} {text}") if bare else None
    named = faq.named_topics(domain, text, intent)
    heard = (session.last_reply or "").replace(" ", "")
    echoed = bool(named) and not asks(domain.words, text) and all(topic in heard for topic in named)
    at = refers_back(domain.words, text)
    then = (then_at(domain.words, text) if at is None and (confidence < domain.policy.switch_above or echoed)
            else None)
    if at is None and then is None and intent == OUT_OF_SCOPE and asks(domain.words, text) and len(text.split()) <= 3:
        return last.intent, text  # 어떻게 내요, after the overdue interest: a bare question on the answer's intent
    if (at is None and then is None and not named and len(text.split()) <= 3 and not asks(domain.words, text)
            and _said_back(text, heard)):
        # 수수료도 있어요, after an answer that says 할부 수수료: whether what was said holds (잔액 어떻게 봐요 asks anew)
        return last.intent, f"{last.title} {text}"
    topic = faq.topics(last)[:1]
    if (at is None and not named and intent != OUT_OF_SCOPE and topic
            and any(e.intent == intent and topic[0] in faq.topics(e) for e in domain.faq)):
        # 그럼 수수료는 얼마나 붙어요, after the cash-advance answer: the fees have an entry on its topic, 현금서비스
        return intent, f"{topic[0]} {text}"
    if (at is None and then is None and not only_checks) or (named and not echoed):
        return None
    if at is None:
        # after a "then", the caller's words as said where they name another of its entries (학원비); else read beside
        # the answer's title (그럼 최대 몇개월까지 돼요, after the instalment conversion, is no question about the
        # interest-free instalments, which the bare words are likelier to be)
        return last.intent, text if faq.named_topics(domain, text, last.intent) else f"{last.title} {text}"
    words = text.split()
    pointer = max((r for r in domain.words.refer if words[at].startswith(r)), key=len)
    ending = words[at][len(pointer):]  # 그걸로: the topic takes 로 with it (포인트로)
    read = " ".join([*words[:at], *(t + ending for t in topic), *words[at + 1:]])
    if (confidence > 0.5 and topic
            and any(e.intent == intent and topic[0] in faq.topics(e) for e in domain.faq)):
        # the question the model reads more likely than all else has an entry on that topic (현금서비스 수수료):
        # the answer just given again would tell the caller nothing new
        return intent, read
    return last.intent, read


def _said_back(text: str, heard: str) -> bool:
    """Whether a short question opens with a word the bot's last line said (수수료도 있어요, after "할부 수수료는 회원
    등급에 따라 부과됩니다"; ``heard`` without spaces): the caller asks about what it heard."""
    first = text.split()[0] if text.split() else ""
    return any(first[cut:] in PARTICLES and first[:cut] in heard for cut in range(len(first), 1, -1))


def refers_back(words: Words, text: str) -> int | None:
    """The place of the word that points at what was just said (a ``refer`` word: 그거, 그걸), or None: none,
    or one the caller turns away from, at once or after naming it (그거 말고, 그게 아니라, 그거 자동이체 말고:
    ``not_that``)."""
    said = text.split()
    return next((i for i, word in enumerate(said) if words.refer and word.startswith(words.refer)
                 and not (words.not_that and any(w.startswith(words.not_that) for w in said[i + 1:i + 3]))), None)


def then_at(words: Words, text: str) -> int | None:
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
