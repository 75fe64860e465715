"""Which dialog model answers this turn, and the one-line models (greeting, goodbye, bare yes/no).

The order of precedence, each rule for a reason:

Before all: a fresh request whose line says a second one (결제일 바꾸고 한도도 올려 줘) is read as the request said
first, with its own part's values, however unsure the other's words make the whole, and the other is taken up when it
is done (``dialog.later``). What the caller turns to after 말고 (or 게 아니라), or goes on to ask after taking in what
was heard (… 많이 나왔네요 그럼 …, where the whole is unsure), read surely, is what the turn asks for. In a form, a
request said surely after a ``joins`` word in the turn that gives the form its answer (네 해지해 주세요 아 그리고
포인트는 …) is kept, and taken up once the form is done (``later.aside``); an FAQ question said so with a ``sooner``
word (… 아 근데 그 전에 이자가 몇 프로예요) is answered at once, the form's value taken, and the form goes on after it.

0. A caller who did not hear the bot (뭐라고요, 잘 안 들려요), giving no value, naming no person, saying no anger
   or cancel, asking for nothing the model is sure of and ending with no yes, hears its last reply again;
   nothing else changes.
1. A request for a person or a complaint is honoured at once, even mid-form
   (unless the turn is the value the form asked for, or a cancel word that names no person);
   in a form, a turn that names a person, says anger or reads as a hand-off at any confidence (a complaint only
   when sure of it), and gives the form nothing, is one too.
   A turn read as no request, or as a bare yes, no or greeting, whose last words hang up (나중에 다시 전화할게요 끊을게요)
   ends the call; one that says anger (진짜 어이없네요) is a complaint out of a form too, and so is one that says
   anger and reads as the FAQ question just answered, or as a request the model is unsure of (or not sure of, with
   a complaint its next reading) and gives no value. Out of a form, a complaint with no anger and no person in
   words is a line not understood where the model is unsure of it, a goodbye where its last words hang up, and
   no complaint where it ends taking in what it heard (헐 진짜 많이 썼네 알겠어요).
2. A form in progress owns the turn, unless the caller clearly (``switch_above``)
   asks for something else, gives no value the form could use, and does not refer back to it (그거 해지하고
   싶어요, asked which card's revolving to cancel, is the revolving, not a card to cancel); a cancel word that
   opens the turn or its last part, or a ``stop`` word that ends it (주소를 모르겠네 그만할래), cancels the form;
   a caller who turns away from it (말고, 게 아니라) and plainly asks for another thing gets that thing (a ``stop``
   word that says the form's own request again, 그중에 하나 취소해 주세요 in the approval cancel, cancels nothing). Asked
   clearly, a question an FAQ entry answers is answered on the side, and the form goes on where it stood; a
   goodbye whose last words hang up ends the call even where it opens with a yes or no (아니요 괜찮아요 끊을게요),
   and so does one the model is unsure of with no value any form takes (… 다시 전화드리겠습니다).
3. A pending offer or FAQ choice takes the answer to it (an offer of a form: a yes, or a value the form takes
   given with no other request the model is sure of; a word or two that is such a value or the offer's own word,
   whatever the model reads; not a yes beside another sure request with its values, nor a turn that only takes
   in what it heard; a cancel or ``stop`` word takes the request back; a no that says again a value kept with the
   offer corrects the value); an offered answer is given to a turn that goes on about it (no request the model
   is sure of, or the offered question however unsure).
   After an answer or a finished request, a no or a ``nothing`` word (없어요) closes the call; a turn that takes it
   in and asks nothing (... 알겠습니다; 어 알았어 그럼 앱에서 볼게; a remark read as out of scope, once), or a
   greeting (여보세요 끊겼나), is asked what else the caller needs, and nothing changes.
4. A question that refers back to the FAQ answer just given (그거 잔액 어떻게 봐요), opens with "then" (그럼,
   그라믄) where the model is unsure of it, or checks it with a tag question (... 받을 수 있는 거죠), and names no
   topic of another intent that the answer did not speak of, is answered from that answer's intent, whatever
   intent its bare words suggest (a form's too, where the turn asks how, what or when; not a turn read as no
   request that gives a value only one form takes and asks nothing, which is that form's); so is a bare question
   read as out of scope (어떻게 내요) or as a goodbye the model is unsure of that opens with "then", and a
   question of a few words, asking no how or what, that opens with a word the answer said (수수료도 있어요); a
   tag question read as the answered intent gets that answer again; a question read as another intent with an
   entry on the topic just answered, naming no topic of its own, gets that entry (그럼 수수료는 얼마나 붙어요,
   after the cash advance: its fee).
5. Otherwise the intent's own model: out-of-scope goes to fallback, unless the
   turn carries values one form takes more of than any other (then that form is offered, the values
   kept); so does a yes or no the model is unsure of (under ``switch_above``) that says neither in words, and
   a goodbye it is unsure of (under ``confirm_below``) with none in words and nothing done to close;
   an unsure intent, or a fragment that would start a form, is offered first (a question that names the
   topic of one of its answers, or asks about the topic just answered, is answered); a goodbye under
   ``switch_above`` is asked about rather than hung up, unless its last words hang up and its next reading is
   no form; everything else is acted on.
"""

from __future__ import annotations

from dataclasses import replace

from dialog import clarify, faq, followup, forms, later
from dialog.backend import Backend
from dialog.domain import OUT_OF_SCOPE, Domain
from dialog.forms import Answer, Value
from dialog.handoff import hand_off
from dialog.sessions import Session
from dialog.wording import says_last


def respond(domain: Domain, session: Session, answer: Answer, intent: str, confidence: float,
            utterance_type: str, backend: Backend) -> str:
    """The bot's reply to one caller turn; the session is updated in place."""
    if session.paused is not None and session.state.startswith("answered:"):
        forms.resume(session)  # the side question was answered last turn: this turn is the form's again
    elif session.paused is not None and session.state == "did_you_mean" and forms.takes(domain, session, answer):
        # 아 네 공일공 이오팔칠 육공일구, asked which answer the side question meant: the caller went on with the form.
        session.pending = None
        forms.resume(session)
    elif session.paused is not None and session.state != "did_you_mean":
        session.paused = None  # the caller went elsewhere than the side question's answer
    instead = domain.intents.get(answer.instead)
    if (instead is not None and instead.model in ("faq", "form")
            and (session.form is None or answer.instead != session.intent)):
        # 아 잠깐 주소 변경 말고 선결제부터 할래, 그거 말고 체크카드 해지부터 할게요: the caller turns away and plainly
        # asks for something else, whatever the whole reads as or the values it carries; out of a form too (할부 해지 아
        # 할부가 아니고 그 일부만 결제되고 이월되는 거 … 그만하고 싶어요, instalments at 0.58)
        intent, confidence = answer.instead, max(confidence, domain.policy.switch_above)
    answer, first = later.first(domain, session, answer, intent)
    if first != intent:  # the line's first part, which the caller surely asked for (Answer.also)
        intent, confidence = first, max(confidence, domain.policy.switch_above)
    elif answer.also is not None:
        # 현금서비스 어떻게 받는지 좀 알려주시고 카드 한도도 올려야겠어요 (the card loan at 0.51; its part alone 0.92): the
        # whole is read as the request said first, however unsure the other's words make it
        confidence = max(confidence, domain.policy.confirm_below)
    kept = later.aside(domain, session, answer, intent, confidence)
    if later.sooner(domain, kept):
        # 신용카드요 아 근데 그 전에 … 이자가 몇 프로 붙는지도 좀 알려 주세요, asked which card: the value is the form's,
        # and the question, asked to come first, is answered before the form goes on (its next question after it)
        reply = forms.step(domain, session, answer)
        if session.form is not None:
            forms.pause(session)
            reply = begin(domain, session, kept["intent"], tuple(Value(**e) for e in kept["entities"]), kept["text"],
                          backend)
            kept = None
    else:
        reply = _respond(domain, session, answer, intent, confidence, utterance_type, backend)
    later.keep(session, answer, intent, kept)
    reply = later.take_up(domain, session, reply, lambda i, e, text: begin(domain, session, i, e, text, backend))
    if session.paused is not None and session.state.startswith("answered:") and not session.ended:
        reply = forms.going_on(domain, session, reply)
    return reply


def _respond(domain: Domain, session: Session, answer: Answer, intent: str, confidence: float,
             utterance_type: str, backend: Backend) -> str:
    route = domain.intents.get(intent)
    sure = confidence >= domain.policy.confirm_below
    asks_surely = route is not None and route.model in ("faq", "form") and confidence >= domain.policy.switch_above
    said = (session.last_reply if answer.repeat and not answer.entities and not answer.names_person
            and not answer.complains and not answer.cancel and not asks_surely
            and not says_last(domain.words.affirm, answer.text, domain.words.lead) else None)
    if said is not None:
        # 뭐라고요 잘 안 들려요, 잘 안 들려요 다시 한 번 말해 줘요 (complaint 0.30): the caller did not hear the bot; its
        # last words again, as a person would, with nothing counted against the call and nothing changed. Not where
        # the caller goes on to say yes (뭐라고? 전액 나간다고? 그래 그렇게 해): they heard it.
        return said
    if (session.form is None and route is not None and route.model == "handoff" and route.reason == "complaint"
            and (not sure or answer.hangs_up or answer.takes_in) and not answer.complains and not answer.names_person):
        # 어제 본 드라마 진짜 재밌더라 (complaint 0.41): no anger and no person in words, and the model unsure, is no
        # complaint but a line the bot did not understand (159 of chatbot_data's chat questions read so, 1 complaint,
        # which names a person); so is one whose last words hang up (아 미안해요 잘못 전화했어요 ... 끊을게요, complaint
        # 0.84), which the rule below then ends, or one that takes in what it heard (헐 진짜 많이 썼네 알겠어요, 0.66).
        intent, route = OUT_OF_SCOPE, None
    if (answer.searching and (not sure or route is not None and route.model == "greeting") and not answer.entities
            and not answer.complains and not answer.names_person):
        # 여보세요 어 잘 안 들리는데 그 뭐냐 그거 있잖아요 그거 (app help 0.42): the caller is still looking for the
        # word, and the model only guesses at it; a line not understood, not an offer of the guess. So too where it
        # reads the hello before the search (여보세요 아 거기 그 뭐냐, greeting 0.99): the caller has begun to say what
        # they want, and the bot's opening again would not help.
        intent, route = OUT_OF_SCOPE, None
    if (session.form is not None and answer.cancel and forms.restates(domain, session, answer.text)
            and (intent == session.intent and confidence >= domain.policy.switch_above
                 or forms.answers_form(domain, session, answer))):
        # 편의점에서 두 번 찍힌 게 있어서요 그중에 하나 취소해 주세요, asked which card the approval to cancel was on:
        # the caller says the form's own request again (승인 취소), which is no cancel of it; so too where the turn
        # gives the form a value (체크카드로 한 거니까 그거 취소해 주세요)
        answer = replace(answer, cancel=False)
    if (session.form is not None and session.state == "confirming" and intent == session.intent
            and confidence >= domain.policy.switch_above and not answer.deny and not answer.cancel
            and not answer.names_person and forms.says_again(domain, session, answer)):
        # 어 이십 일로 바꿔 줘, to "결제일을 매월 20일로 바꿀까요?": the request said again, with the values read back,
        # is a yes (not a question about it: 이거 바꾸면 이번 달 결제부터 바로 새 통장에서 나가요)
        answer = replace(answer, affirm=True)
    if (session.form is not None and session.state == "confirming" and not answer.deny and not answer.cancel
            and not answer.names_person and len(answer.text.split()) <= 2
            and forms.restates(domain, session, answer.text) and forms.adds_nothing(domain, session, answer)):
        # 어 해지해 (해지해 once the filler is dropped; the card cancel at 0.97), to "… 리볼빙을 해지하면 … 해지를
        # 진행할까요?": the form's own word said back in a word or two is a yes, whatever the model reads
        answer = replace(answer, affirm=True)
    # A value the form in progress asked for (a phone number, a day) settles what the turn is about,
    # whatever the intent model makes of the words around it.
    answers_form = session.form is not None and forms.answers_form(domain, session, answer)
    # A cancel word in a form (그만할래, 됐어) ends the form, even where the intent model hears a complaint or a
    # request for a person in it: only a person named beside it outranks it (그만하고 상담원 바꿔 줘).
    cancels_form = session.form is not None and answer.cancel and not answer.names_person
    # 신용카드랑 체크카드 둘 다 ... 그냥 상담원 연결해 주세요: a person asked for in words, which the model surely
    # reads as a request for one, wins over the values said beside it.
    asks_person = (answer.names_person and route is not None and route.model == "handoff"
                   and route.reason != "complaint" and confidence >= domain.policy.switch_above)
    if (route is not None and route.model == "handoff" and sure and (not answers_form or asks_person)
            and not cancels_form):
        session.intent = session.intent or intent  # the summary keeps the task the caller was on
        return hand_off(domain, session, route.reason or "requested", route.reply)
    if session.form is not None and (answer.names_person or answer.complains) and not answers_form:
        # 그냥 사람이랑 얘기할래요, 왜 이렇게 물어보는 게 많아요 짜증나네: a person named, or anger, in a turn that
        # gives the form nothing, whatever the model heard; asking again would only anger the caller more.
        return hand_off(domain, session, "requested" if answer.names_person else "complaint")
    # a value some form takes (not 오늘, a date no form asks for: 오늘은 취소해 주시고 ... 다시 전화드리겠습니다)
    valued = any(e.type in form.value_types for form in domain.forms.values() for e in answer.entities)
    if (session.form is not None and route is not None and route.model == "handoff" and not answers_form
            and not cancels_form and (sure or route.reason != "complaint" and not valued)):
        # 이거 번호 불러주고 하는 거 말고요 그냥 직접 통화하고 싶어요: no person word, but the model's best reading
        # is a hand-off, however unsure, and the form got nothing from the turn: re-asking would not help. Not an
        # unsure complaint with no anger in words (그거 꼭 금액을 말해야 돼요 그냥 최대로는 안 되나요, 0.43): that is a
        # question about the slot, which the form answers by asking again, as it does out of a form; nor an unsure
        # one of a turn that gives a value another form takes (이십만 원이요, asked for the account: agent 0.35).
        session.intent = session.intent or intent
        return hand_off(domain, session, route.reason or "requested", route.reply)
    runner_up = domain.intents.get(answer.runner_up)
    # the model's other reading starts a form the turn names a word of (카드 끊을게요: the card cancel; not 잘못
    # 눌렀어요 끊을게요), and not the one in progress (다시 전화드리겠습니다 in the card cancel)
    form_next = runner_up is not None and runner_up.model == "form" and not (
        session.form is not None and answer.runner_up == session.intent) and any(
        word in answer.text for word in forms.title_words(domain, runner_up.form))
    no_request = (route is not None and not valued and not form_next
                  and (route.model in ("answer", "greeting") or (route.model == "goodbye" and not cancels_form)))
    if (intent == OUT_OF_SCOPE or no_request) and answer.hangs_up and not answers_form:
        # 아 잠깐만요 지금 운전 중이라 나중에 다시 전화할게요 끊을게요: no request, and the caller's last words hang up;
        # so too a bare yes or no (아 그렇구나 알겠습니다 수고하세요, read as a yes) or a greeting (여보세요 ... 제가 잘못
        # 걸었어요 끊을게요, greeting 0.32). Only for a turn read as no request: 카드 그냥 끊을게요 is a card cancelled,
        # however unsure the model.
        return _close(domain, session)
    complaint_next = runner_up is not None and runner_up.model == "handoff" and runner_up.reason == "complaint"
    if answer.complains and session.form is None and (intent == OUT_OF_SCOPE or answer.fumes or not valued and (
            not sure or complaint_next and confidence < domain.policy.switch_above)):
        # 지난주에 처리해 준다더니 아직도 그대로예요 진짜 어이없네요 (out of scope 0.57): anger in words and no request
        # the model knows, or none it is sure of, or a complaint its next reading, and no value given (재발급 카드가
        # 아직도 안 왔어요 … 이게 말이 돼요 진짜 너무하네요: the lost card at 0.64, then a complaint), or anger said twice
        # whatever the model reads (주소 바꿔 달라고 했는데 또 옛날 집으로 갔잖아요 도대체 … 진짜 화가 나네: the address
        # change at 0.81); a re-prompt, an offer or a form would only anger the caller more (in a form, the rule above
        # hands off).
        return hand_off(domain, session, "complaint")
    if answer.complains and intent == session.intent and session.state.startswith("answered:"):
        # 두 달이 넘었는데 아직도 못 받았어요 진짜 어이없네요, read as the events question just answered: the same answer
        # again would only anger the caller more.
        return hand_off(domain, session, "complaint")
    prefix = ""
    if session.form is not None:
        refers_back = followup.refers_back(domain.words, answer.text) is not None
        switching = (route is not None and route.model in ("faq", "form", "goodbye") and intent != session.intent
                     and confidence >= domain.policy.switch_above and not answer.cancel
                     and (intent == answer.instead or (not answers_form and not refers_back
                                                       and ((not answer.affirm and not answer.deny)
                                                            or (route.model == "goodbye" and answer.hangs_up)))))
        if not switching:
            return forms.step(domain, session, answer)
        if route.model == "faq" and intent != answer.instead:
            # 아 그런데 이번 달 결제 금액은 어떻게 봐요, asked for the new address: a question on the side, which is
            # answered, and the form goes on (its question asked again) rather than being dropped.
            forms.pause(session)
            return begin(domain, session, intent, answer.entities, answer.text, backend)
        prefix = domain.responses["switched"].format(form_title=domain.forms[session.form].title) + " "
        session.form = None
    # the values given with an offer the caller did not take (신용카드요, to "카드 해지를 도와드릴까요?"), kept for one
    # the next values point at (공일공 사칠이일 팔삼오구: the lost card)
    unanswered = list(session.pending.get("entities", ())) if session.pending is not None else []
    if session.pending is not None:
        # A request the caller surely made, which a value said with it does not make an answer to the offer.
        clear = (intent if route is not None and route.model in ("faq", "form")
                 and confidence >= domain.policy.switch_above else None)
        # no request the model is sure of, or the offered question itself, however unsure: the caller goes on about it
        on = (intent == OUT_OF_SCOPE and not sure) or intent == session.pending.get("intent")
        asked_which = "choices" in session.pending
        reply = clarify.resolve(domain, session, answer, backend, clear, on,
                                lambda i, e: begin(domain, session, i, e, answer.text, backend))
        if reply is not None:
            return reply
        kept = later.went_on(domain, session, answer) if asked_which else None
        if kept is not None:
            # 음 십오 일로 해 주세요, asked which of the overdue answers was meant, with the date change said after it:
            # the caller went on to the request kept, with its value
            return prefix + begin(domain, session, *kept, answer.text, backend)
    if (answer.deny or answer.nothing) and not answer.entities and followup.asked_anything_else(session):
        return _close(domain, session)  # "더 도와드릴 일이 있으신가요?" - "아니요", "네 없어요"
    if (route is not None and route.model == "greeting" and not answer.entities
            and followup.asked_anything_else(session)):
        # 여보쇼 여보쇼 끊겼는가, after the limit answer: a caller checking the line asks for nothing new, and where the
        # call stands does not change (the greeting would start it afresh)
        return prefix + domain.responses["anything_else"]
    if (followup.asked_anything_else(session)
            and followup.acknowledges(domain, answer, intent, confidence, utterance_type, session.last_reply or "")
            and not (intent == OUT_OF_SCOPE and session.last_reply == domain.responses["anything_else"])):
        # Where the call stands does not change. A second remark in a row read as out of scope is a line not
        # understood, which counts towards a hand-off.
        return prefix + domain.responses["anything_else"]
    if (session.state == "completed" and answer.affirm and answer.yes_no_said and not answer.entities
            and (intent == session.intent
                 or forms.requests(domain, answer.text) and (route is None or route.model == "answer"))):
        # 네 해지해 주세요, 예 해 줘요, right after the card cancel was done: a yes said late, not the same request
        # again nor a yes to "what else?"
        return prefix + domain.responses["anything_else"]
    if (route is not None and route.model == "answer" and not answer.entities
            and (session.model == "fallback" or answer.searching
                 or not answer.yes_no_said and confidence < domain.policy.switch_above)):
        # 아 그 뭐였더라 그거 있잖아요 그거 (affirm 0.62), with nothing asked that it answers: no yes or no in words and
        # the model unsure is a line not understood, which counts towards a hand-off, not a yes to "what can I do?".
        # Right after a re-prompt ("다시 한 번 말씀해 주시겠어요?") no yes or no was asked for at all, so a yes or no
        # there is not understood, in words or not, however sure the model (아니 그 저번에 그 뭐시기 했던 거, deny 0.50;
        # 그거 그 뭐더라 아 그거요 그거, affirm 0.95), nor is a caller looking for a word (아니 그거 뭐더라, deny 0.96,
        # to "anything else?": not a no that closes the call). Read so, it may still ask on about the answer just
        # given (그라믄 그걸로 카드값을 낼 수도 있는 거요, affirm 0.37, after the points balance).
        intent, route = OUT_OF_SCOPE, None
    # a tag question (… 다 나오는 거죠) read as a question or a form, or as anything the model is unsure of
    checks = ((route is None or route.model in ("faq", "form") or not sure)
              and followup.checks(domain.words, answer.text))
    again = followup.checked(domain, session, intent) if checks else None
    if again is not None:
        return prefix + faq.give(domain, session, again, backend)
    # 아 그럼 이메일로도 받아 볼 수 있는 거예요 (goodbye 0.22), after the history answer: no close but a "then"
    goes_on = (route is not None and route.model == "goodbye" and not sure and not answer.hangs_up
               and followup.then_at(domain.words, answer.text) is not None)
    # 아 그거 빠지는 통장을 바꾸고 싶은데요 카카오뱅크로요 (out of scope 0.95), after the bill: a value only one form
    # takes, said with no question, is that form's request, not one about the answer
    taker = forms.taker(domain, answer)
    asks = followup.asks(domain.words, answer.text)
    requests = intent == OUT_OF_SCOPE and not asks and taker is not None
    # 아니 그거 뭐더라, after the annual fee: its 그거 points at a word not yet found, not at the answer given
    searches = intent == OUT_OF_SCOPE and answer.searching and not asks
    if (route is None or route.model == "faq" or intent == OUT_OF_SCOPE or goes_on
            or (route.model == "form" and asks) or checks) and not (
            requests or searches):
        # 그거 잔액 어떻게 봐요 after the 국민행복카드 answer: its balance, not the bank account's; 그거 미리 갚으려면
        # 어떻게 해요 after the 카드론 answer: its repayment, not a card bill's prepayment (a form). A request that
        # refers back (그거 때문에 해지할래요) asks no question, and starts its form.
        followed = followup.follow_up(domain, session, answer.text, intent, confidence, checks)
        if followed is not None:
            asked_about, read = followed
            return prefix + begin(domain, session, asked_about, answer.entities, read, backend)
    if (route is not None and route.model == "goodbye" and not sure and not answer.hangs_up
            and not followup.asked_anything_else(session)):
        # 그럼 그거 어디 가서 찾아야 돼요 (goodbye 0.23), after two re-prompts: a goodbye the model is unsure of, with
        # no goodbye in words and nothing done to close, is a line not understood, as an unsure yes or no is. After
        # an answer it is likelier a close (아 그래예 고맙심더), which is asked about.
        intent, route = OUT_OF_SCOPE, None
    if (route is not None and route.model == "handoff" and route.reason != "complaint" and not sure
            and not answer.names_person and valued):
        # 이백만 원이요 (agent 0.29), after an answer: a value the model reads, unsurely, as a request for a person,
        # with no person in words, asks for none: it is the value (which one form may take) or a line not understood
        intent, route = OUT_OF_SCOPE, None
    if route is None or intent == OUT_OF_SCOPE:
        if taker is not None:  # a bare value (십오일) that only one form takes: offer that form, value kept
            return prefix + clarify.offer(domain, session, taker, answer, unanswered)
        return clarify.fallback(domain, session)
    # A fragment is offered before a transaction starts; an answer to a question costs nothing, so only an
    # unsure intent is offered there, and not when the caller named the topic of one of its answers (카드론), nor
    # right after one of its answers: the caller is on that topic (그럼 거기서 현금서비스 이자는 몇 프로예요, fees at
    # 0.60 after the overseas fee, asks the cash-advance fee, not whether fees are wanted).
    on_topic = session.state.startswith("answered:") and session.intent == intent
    if route.offer and ((route.model == "form" and (utterance_type == "fragment" or not sure or checks))
                        or (route.model == "faq" and not sure and not on_topic
                            and not faq.names_topic(domain, answer.text, intent))):
        return prefix + clarify.offer(domain, session, intent, answer)
    if route.model == "goodbye" and confidence < domain.policy.switch_above:
        # 카드 끊을게요 (cancel the card) read as a goodbye at 0.69, card_cancel next: a call hung up cannot be taken
        # back, so an unsure goodbye is asked about ("더 도와드릴 일이 있으신가요?"), and a no then ends the call;
        # unless the caller's last words hang up and the model's other reading is no transaction (잘못 걸었네요
        # 끊을게요: goodbye 0.71, then out of scope).
        if answer.hangs_up and not form_next:
            return prefix + begin(domain, session, intent, answer.entities, answer.text, backend)
        session.model, session.state = "answer", "anything_else"
        return prefix + domain.responses["anything_else"]
    said = later.asked_now(answer) if route.model == "faq" else answer.text
    return prefix + begin(domain, session, intent, answer.entities, said, backend)


def begin(domain: Domain, session: Session, intent: str, entities: tuple[Value, ...], text: str,
          backend: Backend) -> str:
    """Act on an intent with its dialog model."""
    route = domain.intents[intent]
    if route.model == "answer":  # a yes or no with nothing asked
        session.model, session.state = "answer", "ask_what"
        return domain.responses["ask_what"]
    session.intent = intent
    if route.model == "form":
        return forms.start(domain, session, route.form, entities, text)
    if route.model == "faq":
        return faq.answer(domain, session, text, intent, backend)
    if route.model == "handoff":
        return hand_off(domain, session, route.reason or "requested", route.reply)
    if route.model == "goodbye":
        return _close(domain, session, route.reply)
    session.fallbacks = 0
    session.model, session.state = route.model, "said"
    return route.reply or domain.responses[route.model]


def _close(domain: Domain, session: Session, reply: str | None = None) -> str:
    """End the call; a form in progress is said to stop ("한도 상향 진행은 멈추겠습니다.")."""
    stopped = (domain.responses["switched"].format(form_title=domain.forms[session.form].title) + " "
               if session.form is not None else "")
    session.model, session.state, session.ended = "goodbye", "said", True
    return stopped + (reply or domain.responses["goodbye"])
