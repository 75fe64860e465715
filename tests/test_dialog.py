"""Dialog, specified as conversations: the caller says this, the bot does that.

Every story runs through the bundled card/bank domain twice over: with scripted
understandings (the intent each line is meant to have, real entity extraction),
which tests the dialog policy whatever a model makes of the words; and, marked
slow, through the NLU models the project ships. Each runs once with the
in-memory session store and once with a real redis-server, and must come out the same.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, replace

import pytest

from dialog.domain import Domain, DomainError
from dialog.manager import Dialog
from dialog.sessions import MemoryStore, RedisStore, Session, open_store
from dialog.wording import says
from nlu.entities import EntityExtractor
from nlu.normalize import normalize
from nlu.understand import Other, Understanding, _joined
from server.turns import Bot

# (caller says, what the bot must do). Keys: model/state/slots compare with the turn's `dialog`;
# reply: a phrase the reply contains; handoff: the hand-off reason; end: the conversation is over.
STORIES = {
    "polite caller reports a lost card, slot by slot": [
        ("안녕하세요", {"model": "greeting", "reply": "무엇을 도와드릴까요"}),
        ("카드를 분실했어요", {"model": "form", "state": "asking:card_type"}),
        ("신용카드요", {"state": "asking:phone", "slots": {"card_type": "신용카드"}}),
        ("제 번호는 공일공 일이삼사 오육칠팔이에요",
         {"state": "confirming", "slots": {"card_type": "신용카드", "phone": "010-****-5678"}, "reply": "010-****-5678"}),
        ("네", {"state": "completed", "reply": "사용을 바로 정지했습니다", "end": False}),
        ("아니요 없어요", {"model": "goodbye", "end": True}),  # nothing else: the call ends politely
    ],
    "banmal caller changes the payment date, gives an invalid day, then corrects it": [
        ("결제일 바꾸고 싶어", {"model": "form", "state": "asking:day"}),
        ("십칠일로 해 줘", {"state": "asking:day", "reply": "중에서만 정하실 수 있습니다", "slots": {}}),
        ("십오일", {"state": "confirming", "slots": {"day": "15"}, "reply": "매월 15일로"}),
        ("아니 이십오일로 해 줘", {"state": "confirming", "slots": {"day": "25"}, "reply": "매월 25일로"}),
        ("응", {"state": "completed", "reply": "매월 25일로 변경되었습니다"}),
    ],
    "a day the form cannot take, said with the request, is refused and counts towards a person": [
        ("결제일 삼십일로 바꿔 줘", {"model": "form", "state": "asking:day", "reply": "중에서만 정하실 수 있습니다",
                               "slots": {}}),
        ("그럼 삼십일일로", {"state": "asking:day", "reply": "중에서만 정하실 수 있습니다"}),
        ("이십팔 일은요", {"handoff": "invalid_values", "end": True}),
    ],
    "caller says everything at once, then corrects a slot by naming it": [
        ("신용카드 한도를 오백만 원으로 올려 주세요",
         {"state": "confirming", "slots": {"card_type": "신용카드", "amount": "5,000,000"}}),
        ("아니요", {"state": "correcting", "reply": "어느 항목을 바꿀까요"}),
        ("희망 한도요", {"state": "asking:amount"}),
        ("천만 원", {"state": "confirming", "slots": {"card_type": "신용카드", "amount": "10,000,000"}}),
        ("네", {"state": "completed", "reply": "심사가 접수되었습니다"}),
    ],
    "caller cancels a form halfway": [
        ("한도 좀 올려 줘", {"model": "form", "state": "asking:card_type"}),
        ("그만할래", {"state": "cancelled", "reply": "취소했습니다", "slots": {}}),
    ],
    "fragment-only caller is offered the service, and the fragment's value is kept": [
        ("카드 분실", {"model": "offer", "reply": "카드 분실 신고를 도와드릴까요"}),
        ("응", {"model": "form", "state": "asking:card_type"}),
        ("체크카드", {"state": "asking:phone", "slots": {"card_type": "체크카드"}}),
    ],
    # Chat of six or more characters: the intent model turns away more of such chat than of shorter lines
    # (docs/understanding.md).
    "repeated misunderstanding ends with a person": [
        ("오늘 날씨 어때", {"model": "fallback", "state": "reprompt:1"}),
        ("내일 비 온대", {"model": "fallback", "state": "reprompt:2", "reply": "카드 분실 신고, 결제일 변경"}),
        ("요즘 볼만한 드라마 추천해 줘", {"model": "handoff", "handoff": "repeated_misunderstanding", "end": True}),
        ("여보세요", {"model": "handoff", "reply": "상담원 연결을 기다리고", "end": True}),
    ],
    "asking for a person mid-form hands off with what was collected": [
        ("카드 잃어버렸어", {"state": "asking:card_type"}),
        ("체크카드", {"state": "asking:phone"}),
        ("상담원 연결해 주세요", {"handoff": "requested", "end": True, "slots": {"card_type": "체크카드"}}),
    ],
    "a complaint goes straight to a person with an apology": [
        ("서비스가 너무 불친절해요", {"handoff": "complaint", "reply": "죄송합니다", "end": True}),
    ],
    "an ambiguous FAQ question asks which answer was meant": [
        ("바우처 남은 돈 어떻게 돼요", {"model": "faq", "state": "did_you_mean", "reply": "혹시"}),
        ("해외 결제 수수료", {"state": "answered:overseas_fee", "reply": "해외 이용 수수료"}),
        ("연회비는 얼마예요", {"state": "answered:annual_fee"}),
    ],
    "a new address is taken as free text and read back": [
        ("이사해서 주소를 바꿔야 해요", {"state": "asking:address"}),
        ("서울시 강남구 테헤란로 백이십삼", {"state": "confirming", "reply": "서울시 강남구 테헤란로 백이십삼"}),
        ("네 맞아요", {"state": "completed"}),
    ],
    "a question on the side of a form is answered, and the form goes on where it stood": [
        ("이사해서 주소를 바꿔야 해요", {"state": "asking:address"}),
        ("아 근데 이번 달 결제 금액은 얼마예요", {"model": "faq", "state": "answered:bill_amount",
                                     "reply": "주소 변경 계속 진행하겠습니다. 새 주소를"}),
        ("서울시 강남구 테헤란로 백이십삼", {"model": "form", "state": "confirming", "reply": "테헤란로 백이십삼"}),
        ("네 맞아요", {"state": "completed"}),
    ],
    "goodbye ends the conversation": [
        ("고맙습니다 이만 끊을게요", {"model": "goodbye", "end": True}),
    ],
}


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    return RedisStore(request.getfixturevalue("redis_url"), ttl_s=60)


def check(turn: dict, expected: dict, said: str) -> None:
    where = f"after {said!r}: {json.dumps(turn, ensure_ascii=False)}"
    for key, want in expected.items():
        if key == "reply":
            assert want in turn["reply"], where
        elif key == "handoff":
            assert turn["handoff"] is not None and turn["handoff"]["reason"] == want, where
        elif key == "end":
            assert turn["end"] is want, where
        else:
            assert turn["dialog"][key] == want, where


# What each line of the stories means: (intent, utterance type). Slot answers carry the form's intent.
MEANT = {
    "안녕하세요": ("greeting", "statement"), "카드를 분실했어요": ("lost_card", "statement"),
    "신용카드요": ("lost_card", "fragment"), "제 번호는 공일공 일이삼사 오육칠팔이에요": ("lost_card", "statement"),
    "네": ("affirm", "fragment"), "응": ("affirm", "fragment"), "아니요": ("deny", "fragment"),
    "아니요 없어요": ("deny", "statement"), "네 맞아요": ("affirm", "statement"),
    "결제일 바꾸고 싶어": ("payment_date_change", "statement"), "십칠일로 해 줘": ("payment_date_change", "command"),
    "결제일 삼십일로 바꿔 줘": ("payment_date_change", "command"), "그럼 삼십일일로": ("payment_date_change", "fragment"),
    "이십팔 일은요": ("payment_date_change", "fragment"),
    "십오일": ("payment_date_change", "fragment"), "아니 이십오일로 해 줘": ("payment_date_change", "command"),
    "신용카드 한도를 오백만 원으로 올려 주세요": ("limit_increase", "command"),
    "희망 한도요": ("limit_increase", "fragment"), "천만 원": ("limit_increase", "fragment"),
    "한도 좀 올려 줘": ("limit_increase", "command"), "그만할래": ("out_of_scope", "statement"),
    "카드 분실": ("lost_card", "fragment"), "체크카드": ("lost_card", "fragment"),
    "오늘 날씨 어때": ("out_of_scope", "question"), "내일 비 온대": ("out_of_scope", "statement"),
    "요즘 볼만한 드라마 추천해 줘": ("out_of_scope", "command"), "여보세요": ("greeting", "fragment"),
    "카드 잃어버렸어": ("lost_card", "statement"), "상담원 연결해 주세요": ("agent", "command"),
    "서비스가 너무 불친절해요": ("complaint", "statement"), "바우처 남은 돈 어떻게 돼요": ("government_voucher", "question"),
    "해외 결제 수수료": ("fees", "fragment"), "연회비는 얼마예요": ("fees", "question"),
    "이사해서 주소를 바꿔야 해요": ("address_change", "statement"),
    "서울시 강남구 테헤란로 백이십삼": ("address_change", "fragment"),
    "고맙습니다 이만 끊을게요": ("goodbye", "statement"),
    "아 근데 이번 달 결제 금액은 얼마예요": ("bill_amount", "question"),
}


class ScriptedUnderstander:
    """Understands each story line as :data:`MEANT` says, with the real entity extractor: the dialog policy
    is tested whatever a trained model makes of the words."""

    def __init__(self, entities: EntityExtractor) -> None:
        self.entities = entities

    def understand(self, text: str) -> Understanding:
        intent, kind = MEANT[text]
        return Understanding(text, intent, 0.95, ((intent, 0.95),), kind, 0.95, tuple(self.entities.extract(text)))


def run_story(bot: Bot, story: str) -> None:
    session = uuid.uuid4().hex
    for said, expected in STORIES[story]:
        check(bot.turn(session, said).as_json(), expected, said)


def test_every_story_line_has_a_scripted_meaning():
    assert {said for story in STORIES.values() for said, _ in story} <= set(MEANT)


@pytest.mark.parametrize("story", list(STORIES))
def test_story_policy(story, store, pack):
    run_story(Bot(ScriptedUnderstander(EntityExtractor.load(pack.gazetteer)), Dialog(Domain.load(pack.domain), store)),
              story)


@pytest.mark.slow
@pytest.mark.parametrize("story", list(STORIES))
def test_story_with_the_shipped_models(story, store, understander, pack):
    run_story(Bot(understander, Dialog(Domain.load(pack.domain), store)), story)


def test_handoff_summary_carries_the_conversation_masked(understander, pack):
    bot = Bot(understander, Dialog(Domain.load(pack.domain), MemoryStore()))
    for said in ("카드 잃어버렸어요", "공일공 일이삼사 오육칠팔", "상담원 바꿔 주세요"):
        turn = bot.turn("s", said).as_json()
    summary = turn["handoff"]
    assert summary["intent"] == "lost_card" and summary["form"] == "lost_card"
    assert summary["slots"] == {"phone": "010-****-5678"}
    caller_lines = [line["text"] for line in summary["transcript"] if line["speaker"] == "caller"]
    assert caller_lines[0] == "카드 잃어버렸어요" and len(caller_lines) == 3
    assert "010-****-5678" in caller_lines[1] and "오육칠팔" not in json.dumps(summary, ensure_ascii=False)


def test_two_processes_share_a_call_through_redis(redis_url, understander, pack):
    """Each turn may land on another server process: the second one picks up the form."""
    first = Bot(understander, Dialog(Domain.load(pack.domain), open_store(redis_url, 60)))
    second = Bot(understander, Dialog(Domain.load(pack.domain), open_store(redis_url, 60)))
    session = uuid.uuid4().hex
    assert first.turn(session, "결제일 변경하고 싶어요").as_json()["dialog"]["state"] == "asking:day"
    turn = second.turn(session, "십오일로 해 주세요").as_json()
    assert turn["dialog"] == {"model": "form", "state": "confirming", "slots": {"day": "15"}}


def test_sessions_expire_in_both_stores(redis_url):
    now = [0.0]
    memory = MemoryStore(ttl_s=30, clock=lambda: now[0])
    memory.put(Session("a", model="form", slots={"day": 15}))
    assert memory.get("a").slots == {"day": 15}
    now[0] = 31.0
    assert memory.get("a") is None and len(memory) == 0

    import redis

    store = RedisStore(redis_url, ttl_s=30)
    store.put(Session("b"))
    assert 0 < redis.Redis.from_url(redis_url).ttl(store.prefix + "b") <= 30
    store.delete("b")
    assert store.get("b") is None


def test_a_session_round_trips_through_json():
    session = Session("x", model="form", state="confirming", slots={"amount": 5000000}, shown={"amount": "5,000,000"},
                      pending={"intent": "lost_card", "entities": []}, history=[{"speaker": "caller", "text": "응"}])
    assert Session.from_json(session.to_json()) == session


def test_unreachable_or_unknown_store_is_a_clear_error():
    with pytest.raises(ConnectionError, match="cannot reach the session store"):
        open_store("redis://127.0.0.1:1/0", 60)
    with pytest.raises(ValueError, match="unknown session store"):
        open_store("postgres://x", 60)


@dataclass(frozen=True)
class Reading:
    """A fixed NLU reading, so the rule is tested whatever the trained model makes of the words."""

    text: str
    intent: str
    confidence: float = 0.9
    utterance_type: str = "statement"
    entities: tuple = ()
    top_k: tuple = ()
    instead: tuple | None = None
    goes_on: tuple | None = None
    also: Other | None = None


@pytest.mark.parametrize("said, intent, state", [
    ("그만할래", "complaint", "cancelled"),  # a cancel word the model hears as a complaint still cancels
    ("됐어요", "complaint", "cancelled"),
    ("그만할래", "agent", "cancelled"),  # or a request for a person
    ("그만하고 상담원 바꿔 줘", "agent", "requested"),  # a person named beside the cancel word outranks it
    ("취소하고 직원 연결해", "complaint", "complaint"),
    ("진짜 너무하네요", "complaint", "complaint"),  # no cancel word: the complaint is honoured mid-form
])
def test_a_cancel_word_mid_form_cancels_unless_a_person_is_asked_for(said, intent, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("c", Reading("한도 좀 올려 줘", "limit_increase")).state == "asking:card_type"
    assert dialog.respond("c", Reading(said, intent)).state == state


@pytest.mark.parametrize("said, state, amount", [
    ("네 오십만 원 맞습니다", "completed", "500,000"),  # the yes says the value read back again
    ("네 육십만 원이요", "confirming", "600,000"),  # another value: read back again
    ("아니 오십만 원이 아니라 육십만 원", "confirming", "600,000"),
])
def test_a_yes_that_says_the_value_again_completes(said, state, amount, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    entities = EntityExtractor.load(pack.gazetteer)
    dialog.respond("y", Reading("선결제 할게 지금 바로", "prepayment", 0.99))
    assert dialog.respond("y", Reading("오십만 원", "prepayment", 0.9, "fragment",
                                       tuple(entities.extract("오십만 원")))).state == "confirming"
    turn = dialog.respond("y", Reading(said, "affirm", 0.9, "statement", tuple(entities.extract(said))))
    assert turn.state == state and turn.slots["amount"] == amount


@pytest.mark.parametrize("said, state", [
    ("빨리 해줘", "completed"),  # a hurry word before the yes (the normaliser has dropped 어 어)
    ("얼른 해주세요", "completed"),
    ("빨리 좀", "confirming"),  # no yes after it
    ("아 그럼 다음 달에 전부 나가는 거예요 음 네 그래도 해주세요", "completed"),  # thinking aloud, then the yes
    ("아 그럼 다음 달에 전부 나가는 거예요 음 좀 생각해 볼게요", "confirming"),
    ("하모 그래 해 주소", "completed"),  # Gyeongsang's yes
    ("네네 접수해주세요", "completed"),  # a yes said twice
    ("잉 해주쇼", "completed"),  # Jeolla
])
def test_a_hurried_yes_at_the_read_back_completes(said, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("p", Reading("선결제 할게 지금 바로", "prepayment", 0.99))
    amount = tuple(EntityExtractor.load(pack.gazetteer).extract("오십만 원"))
    assert dialog.respond("p", Reading("오십만 원", "out_of_scope", 0.41, "fragment", amount)).state == "confirming"
    assert dialog.respond("p", Reading(said, "out_of_scope", 0.9)).state == state


@pytest.mark.parametrize("phrases, text, expected", [
    (("응", "네"), "응", True), (("응", "네"), "네 맞아요", True), (("응",), "응급실", False),
    (("취소",), "취소해 줘", True), (("취소",), "카드 취소", False), (("아니",), "아니 15일로", True),
])
def test_short_answers_are_read_by_whole_words(phrases, text, expected):
    assert says(phrases, text) is expected


@pytest.mark.parametrize("yaml_text, problem", [
    ("intents: [", "not valid YAML"),
    ("- a list", "expected a mapping"),
    ("intents: {}\n", "missing 'responses'"),
])
def test_malformed_domain_files_name_the_problem(tmp_path, yaml_text, problem):
    path = tmp_path / "domain.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(DomainError, match=problem):
        Domain.load(path)


def test_domain_mistakes_name_the_key(tmp_path, pack):
    bundled = pack.domain.read_text("utf-8")
    cases = {
        "lost_card: {model: form, form: lost_card,": ("lost_card: {model: from, form: lost_card,", "unknown model 'from'"),
        "{card_type} 분실 신고를 접수하고": ("{card} 분실 신고를 접수하고", r"forms.lost_card.confirm: refers to unknown slots \['card'\]"),
        "form: limit_increase,": ("form: raise_limit,", "form 'raise_limit' is not defined"),
        "  acknowledge: [": ("  acknowledged: [", "words: unknown kinds acknowledged; known: affirm"),
    }
    for original, (broken, message) in cases.items():
        path = tmp_path / "domain.yaml"
        path.write_text(bundled.replace(original, broken, 1), encoding="utf-8")
        with pytest.raises(DomainError, match=message):
            Domain.load(path)
    assert not (tmp_path / "missing.yaml").exists()
    with pytest.raises(DomainError, match="cannot read"):
        Domain.load(tmp_path / "missing.yaml")


def test_the_packs_faq_questions_go_to_their_entries_and_a_wrong_entry_is_named(tmp_path, pack):
    domain = Domain.load(pack.domain)
    assert all(e.more_questions for e in domain.faq if sum(o.intent == e.intent for o in domain.faq) > 1)
    path = tmp_path / "domain.yaml"
    path.write_text(pack.domain.read_text("utf-8"), encoding="utf-8")
    assert not any(e.more_questions for e in Domain.load(path).faq)  # the file is optional
    (tmp_path / "faq_questions.csv").write_text("entry,question\npoints_use,적립된 거 어디 써\n", encoding="utf-8")
    assert [e.more_questions for e in Domain.load(path).faq if e.id == "points_use"] == [("적립된 거 어디 써",)]
    (tmp_path / "faq_questions.csv").write_text("entry,question\npoint_use,적립된 거 어디 써\n", encoding="utf-8")
    with pytest.raises(DomainError, match=r"faq_questions.csv:2: expected an FAQ entry id .* 'point_use'"):
        Domain.load(path)


def test_a_team_can_write_its_own_domain(tmp_path, understander):
    """A domain without forms: every intent answered from the FAQ, in the team's own words."""
    path = tmp_path / "mini.yaml"
    path.write_text("""
name: mini
responses:
  greeting: 어서 오세요.
  goodbye: 안녕히 가세요.
  ask_what: 무엇을 도와드릴까요?
  anything_else: 또 있으신가요?
  cancelled: 취소했습니다.
  declined: 알겠습니다.
  handoff: 연결합니다.
  after_handoff: 기다려 주세요.
  no_agent: 상담원이 없습니다.
  switched: 멈춥니다.
  correct_which: "{slot_titles}?"
  did_you_mean: "{first}? {second}?"
  fallback: [다시 말씀해 주세요.]
intents:
  greeting: {model: greeting}
  opening_hours: {model: faq}
faq:
  - {id: hours, intent: opening_hours, title: 영업시간, questions: [몇 시까지 해요], answer: 밤 10시까지 합니다.}
""", encoding="utf-8")
    bot = Bot(understander, Dialog(Domain.load(path), MemoryStore()))
    assert bot.turn("m", "안녕하세요").as_json()["reply"] == "어서 오세요."
    assert bot.turn("m", "상담 시간이 어떻게 되나요").as_json()["reply"].startswith("밤 10시까지 합니다.")
    assert bot.turn("m", "카드를 잃어버렸어요").as_json()["dialog"]["model"] == "fallback"  # not in this domain


@pytest.mark.slow
def test_kocall_chat_scripted_prints_one_json_object_per_turn(cache_dir, tmp_path):
    env = {"KOCALL_CACHE_DIR": str(cache_dir), "PATH": "/usr/bin:/bin"}  # the shipped models
    lines = "카드를 분실했어요\n\n체크카드요\n공일공 일이삼사 오육칠팔\n네\n"
    result = subprocess.run([sys.executable, "-m", "kocall.cli", "chat"], input=lines, capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    turns = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(turns) == 4  # the empty line is skipped
    assert set(turns[0]) >= {"reply", "intent", "confidence", "utterance_type", "entities", "dialog", "handoff", "end"}
    assert [t["dialog"]["state"] for t in turns] == ["asking:card_type", "asking:phone", "confirming", "completed"]
    assert turns[2]["entities"][0]["value"] == "010-****-5678"


@pytest.mark.slow
def test_kocall_chat_reports_a_broken_domain_pack(tmp_path, pack, cache_dir):
    broken = shutil.copytree(pack.folder, tmp_path / "bad_pack", ignore=shutil.ignore_patterns("models"))
    (broken / "domain.yaml").write_text("intents: [", encoding="utf-8")
    env = {"KOCALL_CACHE_DIR": str(cache_dir), "KOCALL_NLU__INTENT_MODEL": str(pack.intent_model),
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "kocall.cli", "chat", "--domain", str(broken)], input="안녕\n",
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1 and "not valid YAML" in result.stderr
    result = subprocess.run([sys.executable, "-m", "kocall.cli", "chat", "--domain", str(tmp_path / "nowhere")],
                            input="안녕\n", capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1 and "no domain pack" in result.stderr


def test_a_bare_value_after_a_misunderstanding_points_at_the_form_that_takes_it(pack):
    """Nobody understood the first line; 십오일 alone is a payment day, so that form is offered, the day kept."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    entities = EntityExtractor.load(pack.gazetteer)
    read = lambda text: Reading(text, "out_of_scope", 0.3, "fragment", tuple(entities.extract(text)))  # noqa: E731
    assert dialog.respond("v", read("그 저번에 말한 거 있잖아요")).model == "fallback"
    offered = dialog.respond("v", read("십오일"))
    assert offered.model == "offer" and "결제일" in offered.reply
    assert dialog.respond("v", Reading("네", "affirm")).state == "confirming"  # the day was kept
    # A value several forms take (an amount: prepayment or a limit) points at none of them.
    assert dialog.respond("w", read("오십만 원")).model == "fallback"


@pytest.mark.parametrize("said", ["그냥 됐어요", "아이고 취소할게요", "에이 그만할래"])
def test_a_cancel_word_after_a_softener_still_cancels(said, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("c", Reading("한도 좀 올려 줘", "limit_increase")).state == "asking:card_type"
    assert dialog.respond("c", Reading(said, "out_of_scope", 0.4)).state == "cancelled"


def test_in_a_form_a_person_named_without_a_value_hands_off_and_the_last_value_said_wins(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    entities = EntityExtractor.load(pack.gazetteer)
    read = lambda text, intent="payment_account_change", confidence=0.9: Reading(  # noqa: E731
        text, intent, confidence, "statement", tuple(entities.extract(text)))
    assert dialog.respond("a", read("결제 계좌 바꾸려고요")).state == "asking:bank"
    assert dialog.respond("a", read("신한 아니고 하나은행이요")).slots == {"bank": "하나은행"}
    turn = dialog.respond("a", read("그냥 사람이랑 직접 얘기할래요", "address_change", 0.45))
    assert turn.model == "handoff" and turn.handoff["reason"] == "requested"


def test_an_faq_answer_comes_from_the_intent_the_dialog_acts_on(pack):
    """A long, hedged question shares words with other intents' examples; the intent decides among its own."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "네 안녕하세요 다름이 아니라 제가 지난달에 카드 쓴 내역을 좀 확인하고 싶은데요 어디서 볼 수 있어요"
    assert dialog.respond("f", Reading(said, "transaction_history", 0.95)).state == "answered:transaction_history"


def test_an_address_needs_two_parts_not_any_word_ending_in_ro(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("d", Reading("주소 바꾸려고요", "address_change")).state == "asking:address"
    assert dialog.respond("d", Reading("아 그 새로 이사 간 데요", "address_change")).state == "asking:address"
    assert dialog.respond("d", Reading("경기도 성남시 분당구 판교역로 이백삼십오", "out_of_scope", 0.3)).state == "confirming"


@pytest.mark.parametrize("said, address", [
    ("부산시 해운대구 센텀중앙로 칠십구 여기로 바꿔주세요 아파트 동 호수는 나중에 앱에서 넣을게요",
     "부산시 해운대구 센텀중앙로 칠십구"),
    ("대전시 유성구 대학로 이백일이요 딸네 아파트 바로 옆이에요", "대전시 유성구 대학로 이백일"),  # 이요: the copula
    ("네 서울 마포구 월드컵북로 사십이", "서울 마포구 월드컵북로 사십이"),  # a last 이 is a two
    ("대구시 수성구 범어로 이십오 현대아파트 백이 동 삼백사 호", "대구시 수성구 범어로 이십오 현대아파트 백이 동 삼백사 호"),
])
def test_the_address_is_what_the_caller_says_of_it_not_the_words_around_it(said, address, pack):
    """The pack's address pattern says which part of the turn is the address: the read-back and the request
    carry that, not the caller's reasons around it."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("d", Reading("주소 바꾸려고요", "address_change"))
    turn = dialog.respond("d", Reading(said, "out_of_scope", 0.6))
    assert turn.state == "confirming" and turn.slots == {"address": address}


@pytest.mark.parametrize("said, reading", [
    ("아니 지금 급해 죽겠는데 왜 이렇게 물어보는 게 많아요 진짜 짜증나네", ("complaint", 0.55)),
    ("아까 ARS에서 다 눌렀는데 이게 뭐예요 진짜", ("out_of_scope", 0.6)),
    ("아니 지금 또 카드 종류를 물어보세요 이게 벌써 세 번째 전화예요 도대체 일을 어떻게 하시는 거예요", ("out_of_scope", 0.45)),
])
def test_in_a_form_anger_without_a_value_hands_off_as_a_complaint(said, reading, pack):
    """Below the confidence the model's complaint needs, the words of anger still reach a person."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("c", Reading("카드 잃어버렸어요", "lost_card")).state == "asking:card_type"
    turn = dialog.respond("c", Reading(said, *reading))
    assert turn.model == "handoff" and turn.handoff["reason"] == "complaint"


@pytest.mark.parametrize("confidence, handed_off", [(0.43, False), (0.9, True)])
def test_in_a_form_an_unsure_complaint_without_anger_asks_again(confidence, handed_off, pack):
    """그거 꼭 금액을 말해야 돼요 그냥 최대로는 안 되나요, read as a complaint at 0.43 with no anger in words, is a
    question about the slot: the form asks again; read surely, it reaches a person."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("q", Reading("결제일 바꿔줘", "payment_date_change"))
    turn = dialog.respond("q", Reading("그거 꼭 날짜를 말해야 돼요 그냥 아무 날이나 안 되나요", "complaint", confidence))
    assert (turn.handoff is not None, turn.state) == ((True, "complaint") if handed_off else (False, "asking:day"))
    assert handed_off or "그 날짜" not in turn.reply  # no day was said: the re-ask must not speak of one


def test_anger_beside_the_value_asked_for_fills_the_slot(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    entities = EntityExtractor.load(pack.gazetteer)
    dialog.respond("c", Reading("결제일 바꿔줘", "payment_date_change"))
    said = "아 짜증나 십오일이요"
    turn = dialog.respond("c", Reading(said, "complaint", 0.5, "statement", tuple(entities.extract(said))))
    assert turn.state == "confirming" and turn.slots == {"day": "15"}


@pytest.mark.parametrize("said, cancelled", [
    ("아 그럼 다음 달에 한 번에 다 나가요 음 그냥 그만할게요", True),  # thinking aloud, then the decision
    ("그냥 그만할게요", True),
    ("그만 좀 물어보고 빨리 해 주세요", True),  # opens with a cancel word: read as before
    ("취소 수수료 있어요 그냥 궁금해서요", True),
    ("다음 달에 다 나가요 그럼 그냥 진행해 주세요", False),  # the last part decides: go on
    ("아 근데 아직 계약서를 안 써서 주소를 모르겠네 그만할래", True),  # ends with giving up (the domain's stop words)
    ("아버지가 옆에서 그냥 두라고 하시네요 해지 안 할게요", True),
    ("아 통장이 지금 옆에 없어서 계좌번호를 모르겠네요 취소할게요", True),  # the verb a caller decides with
    ("잠깐만요 남편한테 물어봐야 돼요 오늘 안 해요 그만해요", True),
    ("어 찾았다 가방 안주머니에 있네요 죄송해요 신고 취소해주세요", True),  # as the normaliser writes 취소해 주세요
    ("고만 취소해 주쇼 안 할라요", True),  # Jeolla
    ("고마 취소하소 안 할랍니더", True),  # Gyeongsang
    ("아 가방 안쪽 주머니에 있네요 죄송해요 신고 안 해도 될 것 같아요", True),
    ("음 생각해 보니 지금 당장은 필요 없을 것 같습니다 그냥 취소하겠습니다", True),  # formal speech
    ("아니 그만둘게요 가게에 먼저 물어보고 다시 할게요", True),  # a no, then the cancel
    ("잠깐만 그냥 하지마요 취소할게요 와이프랑 얘기해보고 다시 할게", True),  # 하지마요, as the normaliser writes it
    ("어제 결제한 거 승인 취소", False),  # a bare 취소 also ends requests: not a stop word
    ("포인트 적립 안 됐어", False),
])
def test_a_cancel_word_that_ends_a_long_turn_cancels(said, cancelled, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("r", Reading("리볼빙 해지하고 싶어요", "revolving_cancel"))
    card = tuple(EntityExtractor.load(pack.gazetteer).extract("신용카드요"))
    assert dialog.respond("r", Reading("신용카드요", "revolving_cancel", 0.5, "fragment", card)).state == "confirming"
    assert (dialog.respond("r", Reading(said, "out_of_scope", 0.3)).state == "cancelled") is cancelled


@pytest.mark.parametrize("said, reading, outcome", [
    ("이벤트 끝난 지가 두 달이 넘었는데 아직도 못 받았어요 진짜 어이없네요", "events", "complaint"),
    ("이벤트 끝난 지가 두 달이 넘었는데 아직도 못 받았어요", "events", "answered:events_benefit"),  # no anger
    ("진짜 어이없네요 연회비는 얼마예요", "fees", "answered:annual_fee"),  # anger, but another question
])
def test_anger_at_the_answer_just_given_goes_to_a_person(said, reading, outcome, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    asked = "지난달에 캐시백 이벤트에 응모를 했는데요 캐시백은 언제 받아요"
    assert dialog.respond("e", Reading(asked, "events")).state == "answered:events_benefit"
    turn = dialog.respond("e", Reading(said, reading, 0.99))
    assert (turn.handoff["reason"] if turn.handoff else turn.state) == outcome


@pytest.mark.parametrize("said, state", [
    ("아 잠깐만요 아버지가 옆에서 그냥 두라고 하시네요 해지 안 할게요", "cancelled"),  # a stop word takes it back
    ("아니요", "reprompt:1"),  # a plain no declines: "그럼 어떤 업무를 도와드릴까요?"
])
def test_an_offer_taken_back_with_a_stop_word_is_cancelled(said, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    opener = "아버지가 안 쓰시는 신용카드를 해지하고 싶다고 하셔서요"
    assert dialog.respond("o", Reading(opener, "card_cancel", 0.56)).state == "offered:card_cancel"
    assert dialog.respond("o", Reading(said, "card_cancel", 0.52)).state == state


@pytest.mark.parametrize("said, reading, state", [
    ("그 앱을 내가 할 줄 모르는디 이메일로도 받을 수 있다고", ("out_of_scope", 0.56), "answered:transaction_history"),
    ("그 앱을 내가 할 줄 모르는디 이메일로도 받을 수 있다고", ("out_of_scope", 0.9), "reprompt:1"),  # surely not the domain's
    ("아 알았어", ("out_of_scope", 0.5), "reprompt:1"),  # taking in, not going on
    ("그럼 석 달 전 것도 나와요", ("transaction_history", 0.45), "answered:transaction_history"),  # the offered question
])
def test_a_caller_who_goes_on_about_an_offered_answer_is_answered(said, reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    opener = "우리 딸이 내 카드를 들고 다니는디 뭘 샀는지 좀 알아볼라고"
    assert dialog.respond("a", Reading(opener, "transaction_history", 0.53)).state == "offered:transaction_history"
    assert dialog.respond("a", Reading(said, *reading)).state == state


@pytest.mark.parametrize("said, reading, ended", [
    ("아 그렇구나 알겠습니다 수고하세요", ("affirm", 0.57, "statement", (), (("affirm", 0.57), ("out_of_scope", 0.3))), True),
    # the card cancel read next, but no word of it said
    ("아 그렇구나 알겠습니다 수고하세요", ("affirm", 0.57, "statement", (), (("affirm", 0.57), ("card_cancel", 0.3))), True),
    ("아 그렇구나 카드 끊을게요", ("affirm", 0.57, "statement", (), (("affirm", 0.57), ("card_cancel", 0.3))), False),  # maybe
])
def test_a_bare_yes_whose_last_words_hang_up_ends_the_call(said, reading, ended, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("g", Reading("고객센터 주말에도 해요", "opening_hours"))
    assert dialog.respond("g", Reading(said, *reading)).end is ended


@pytest.mark.parametrize("said", ["내가 뭘 물어볼라 캤는데 생각이 안 나네 생각나면 다시 걸게예 끊심더",
                                  "아이고 됐심더 끊을게예"])
def test_a_regional_hang_up_after_a_greeting_ends_the_call(said, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("w", Reading("여보세요 거기 카드 회사 맞지예", "greeting", 0.98))
    assert dialog.respond("w", Reading(said, "out_of_scope", 0.75)).end


def test_a_greeting_whose_last_words_hang_up_ends_the_call(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "여보세요 아 여기 카드사네요 죄송합니다 제가 잘못 걸었어요 끊을게요"
    assert dialog.respond("w", Reading(said, "greeting", 0.32, "statement", (), (("greeting", 0.32),))).end
    assert not dialog.respond("v", Reading("여보세요 안녕하세요", "greeting", 0.9)).end


@pytest.mark.parametrize("said, confidence, outcome", [
    ("어제 본 드라마 진짜 재밌더라", 0.41, "reprompt:1"),  # unsure, no anger, no person: not understood
    ("어제 본 드라마 진짜 재밌더라", 0.89, "complaint"),  # the model sure: a complaint
    ("아 진짜 짜증나네", 0.41, "complaint"),  # anger in words
    ("상담원이 막말을 했어요", 0.49, "complaint"),  # a person named
    ("아 미안해요 잘못 전화했어요 남편이 나중에 할 거예요 끊을게요", 0.84, "goodbye"),  # sure, but hanging up
    ("진짜 짜증나네 끊을게요", 0.84, "complaint"),  # anger in words, hanging up or not
])
def test_a_complaint_with_no_anger_or_person_in_words_is_not_understood_when_unsure_or_hanging_up(
        said, confidence, outcome, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("c", Reading(said, "complaint", confidence))
    assert (turn.handoff["reason"] if turn.handoff else "goodbye" if turn.end else turn.state) == outcome


@pytest.mark.parametrize("said, confidence, state", [
    ("아 그 뭐였더라 그거 있잖아요 그거", 0.62, "reprompt:1"),  # read as a yes, none in words: not understood
    ("네 그거요", 0.62, "ask_what"),  # a yes in words
    ("아니 그거 말고", 0.62, "ask_what"),  # a no in words
    ("그거요", 0.93, "ask_what"),  # the model sure
    ("네 그거 있잖아요", 0.93, "reprompt:1"),  # a caller looking for a word says no yes, however sure the model
])
def test_an_unsure_yes_with_nothing_asked_and_no_yes_in_words_is_not_understood(said, confidence, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("y", Reading("여보세요", "greeting", 0.99))
    assert dialog.respond("y", Reading(said, "affirm", confidence)).state == state


@pytest.mark.parametrize("said, intent, confidence, after_greeting", [
    ("그거 그요 아 그거요 그거", "affirm", 0.95, "ask_what"),  # read surely as a yes
    ("아니 그 저번에 그 했던 거", "deny", 0.5, "ask_what"),  # a no in words
    ("네 그거요", "affirm", 0.95, "ask_what"),  # a yes in words
    # looking for a word (뭐더라, 뭐시기): no yes or no after a greeting either
    ("그거 그 뭐더라 아 그거요 그거", "affirm", 0.95, "reprompt:1"),
    ("아니 그 저번에 그 뭐시기 했던 거", "deny", 0.5, "reprompt:1"),
])
def test_a_yes_or_no_right_after_a_reprompt_is_not_understood(said, intent, confidence, after_greeting, pack):
    """After "다시 한 번 말씀해 주시겠어요?" nothing was asked that a yes or a no answers, however sure the model
    is; the same line after a greeting, where the caller may be saying yes to "what can I do for you?", is not
    turned away, unless the caller is still looking for a word."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("r", Reading("어 그 저기 그 뭐냐", "out_of_scope", 0.6)).state == "reprompt:1"
    assert dialog.respond("r", Reading(said, intent, confidence)).state == "reprompt:2"
    dialog.respond("g", Reading("여보세요", "greeting", 0.99))
    assert dialog.respond("g", Reading(said, intent, confidence)).state == after_greeting


def test_a_caller_who_did_not_hear_the_bot_hears_its_last_words_again(pack):
    """뭐라고요, 잘 안 들려요: the last reply again, the form where it was and nothing counted against the call; a
    value, a person or a sure request said with it is acted on as without it."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    asked = dialog.respond("h", Reading("결제일 바꾸고 싶어", "payment_date_change", 0.99))
    dialog.respond("h", Reading("삼십일로 해 줘", "payment_date_change", 0.9,
                                entities=tuple(EntityExtractor.load(pack.gazetteer).extract("삼십일로 해 줘"))))
    refused = dialog.store.get("h")
    for said, intent, confidence in (("뭐라고요 잘 안 들려요", "out_of_scope", 0.85),
                                     ("잘 안 들려요 다시 한 번 말해 줘요", "complaint", 0.3)):
        turn = dialog.respond("h", Reading(said, intent, confidence))
        assert turn.reply == refused.history[-1]["text"] and turn.state == "asking:day" and not turn.handoff
    assert dialog.store.get("h").invalid == refused.invalid
    assert asked.state == "asking:day"
    answered = dialog.respond("f", Reading("카드론 있잖아요", "card_loan", 0.99))
    assert dialog.respond("f", Reading("뭐라고요 다시 한 번 말해 줘요", "out_of_scope", 0.38)).reply == answered.reply
    assert dialog.respond("p", Reading("뭐라고요 그냥 상담원 바꿔 줘요", "agent", 0.6)).handoff  # a person named
    dialog.respond("w", Reading("결제일 바꾸고 싶어", "payment_date_change", 0.99))
    assert dialog.respond("w", Reading("아니 잘못 알아들었어", "deny", 0.9)).reply != asked.reply  # "you misheard"


ADDRESS, LIMIT = ("청구서 주소 바꾸려고요", "address_change"), ("신용카드 한도 좀 올리고 싶은데요", "limit_increase")


@pytest.mark.parametrize("opener, said, whole, instead, form", [
    (ADDRESS, "아 잠깐 주소 변경 말고 선결제부터 할래", ("address_change", 0.88), ("prepayment", 0.99), "prepayment"),
    # the card is the new request's, though the limit form also takes one
    (LIMIT, "그거 말고 체크카드 해지부터 할게요", ("card_cancel", 0.87), ("card_cancel", 0.99), "card_cancel"),
    (ADDRESS, "그거 말고 앱 로그인이 안 돼요 그것부터 알려 주세요", ("app_help", 0.99), ("app_help", 0.99), None),
    (ADDRESS, "아 잠깐 주소 변경 말고 선결제부터 할래", ("address_change", 0.88), ("prepayment", 0.5), "address_change"),
    (ADDRESS, "서울시 말고 경기도 성남시 분당구 판교역로 이백삼십오", ("address_change", 0.9), None, "address_change"),
    (LIMIT, "신용카드 말고 체크카드요", ("card_cancel", 0.85), None, "limit_increase"),  # a value said instead
    (("카드를 잃어버린 것 같아서 분실 신고 하려고요", "lost_card", 0.99),
     "아 잠깐만요 지갑 찾았어요 분실 신고는 안 해도 되고요 대신 결제일 좀 바꿔 주세요", ("lost_card", 0.99),
     ("payment_date_change", 0.99), "payment_date_change"),  # 대신, "instead"
])
def test_a_turn_that_turns_away_from_the_form_and_asks_for_another_thing_switches(opener, said, whole, instead,
                                                                                  form, pack):
    """The words after 말고, read apart by the NLU, are what the caller wants instead, when read surely; a value
    said instead of another (서울시 말고 경기도 ...) stays the form's."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("s", Reading(*opener)).state.startswith("asking:")
    card = tuple(EntityExtractor.load(pack.gazetteer).extract(said))
    dialog.respond("s", Reading(said, *whole, "statement", card, instead=instead))
    session = dialog.store.get("s")
    assert session.form == form
    if form is None:
        assert session.state == "answered:app_login"
    if form == "card_cancel":
        assert session.slots == {"card_type": "체크카드"}


def test_the_nlu_reads_what_the_caller_asks_for_after_turning_away(understander):
    turned = understander.understand("아 잠깐 주소 변경 말고 선결제부터 할래")
    assert turned.intent == "address_change" and turned.instead[0] == "prepayment"
    assert understander.understand("체크카드 말고 신용카드요").instead is None  # a value, no request
    assert understander.understand("선결제 할래").instead is None
    # a thing said not to be it (게 아니라): what follows is what the caller wants
    said = "아 잠깐만요 사실 카드를 없애려는 게 아니라 그 리볼빙인가 그거 때문에 이자가 자꾸 나가서요 그것만 끊을 수 있어요"
    assert understander.understand(said).instead[0] == "revolving_cancel"
    assert understander.understand("그게 아니라 체크카드요").instead is None  # a value, no request
    # the request said not to be it (해지가 아니라, 날짜가 아니라), and 아니고요
    for said, intent in [("아 잠깐만요 해지가 아니라 교통카드를 잃어버려서 정지만 해 주시면 돼요", "lost_card"),
                         ("아니 카드를 없애는 게 아니고요 어제 결제한 게 잘못돼서 그 결제를 취소하려는 거예요", "approval_cancel")]:
        assert understander.understand(said).instead[0] == intent, said
    assert understander.understand("제가 아니라 남편이요").instead is None  # no verb after it
    # 대신, "instead": what follows is what the caller wants (the whole still reads as the lost card)
    found_it = understander.understand("아 잠깐만요 지갑 찾았어요 분실 신고는 안 해도 되고요 대신 결제일 좀 바꿔 주세요")
    assert found_it.intent == "lost_card" and found_it.instead[0] == "payment_date_change"
    assert understander.understand("현금 대신 카드로요").instead is None  # no verb after it
    # after a request, not a "not": "in its place", a second request (Understanding.also)
    assert understander.understand("리볼빙 해지하고 대신 큰 거는 할부로 돌리고 싶은데 그건 어떻게 해요").instead is None


def test_a_no_at_the_read_back_of_a_one_slot_form_asks_for_the_slot_again(pack):
    """There is only one thing to change, so the caller is not asked which (the two-slot limit form still asks:
    the story "caller says everything at once, then corrects a slot by naming it")."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("a", Reading("주소 바꾸려고", "address_change")).state == "asking:address"
    assert dialog.respond("a", Reading("서울시 관악구 봉천로 삼백사십오", "out_of_scope")).state == "confirming"
    turn = dialog.respond("a", Reading("아니 잘못 말했어 다시 불러 줄게", "deny", 0.83))
    assert turn.state == "asking:address" and "새 주소" in turn.reply
    turn = dialog.respond("a", Reading("서울시 관악구 남부순환로 이천백", "out_of_scope"))
    assert turn.state == "confirming" and turn.slots == {"address": "서울시 관악구 남부순환로 이천백"}


@pytest.mark.parametrize("said, reading, confidence, form", [
    ("신용카드요", "card_cancel", 0.69, "revolving_cancel"),  # the value the offered form asks for takes the offer
    ("신용카드 한도 좀 올려 주세요", "limit_increase", 0.95, "limit_increase"),  # another request, said plainly
])
def test_an_offer_answered_with_the_value_its_form_asks_for_is_taken(said, reading, confidence, form, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    opener = "카드값 다 낸 줄 알았는데 리볼빙이 걸려 있었대요 그거 해지하고 싶어요"
    assert dialog.respond("o", Reading(opener, "revolving_cancel", 0.56)).state == "offered:revolving_cancel"
    card = tuple(EntityExtractor.load(pack.gazetteer).extract(said))
    dialog.respond("o", Reading(said, reading, confidence, "statement", card))
    session = dialog.store.get("o")
    assert session.form == form and session.slots["card_type"] == "신용카드"


def test_an_faq_answer_prefers_the_entry_whose_topic_the_caller_names(pack):
    """카드론 and 현금서비스 are both asked how to apply; the caller who says 카드론 means 카드론."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "여보세요 수고하십니다 저 카드론을 좀 받아 보려고 하는데요 어떻게 신청하는 건지 해서요"
    assert dialog.respond("l", Reading(said, "card_loan", 0.9)).state == "answered:card_loan"
    said = "현금서비스 좀 받아 보려고 하는데요 어떻게 신청하는 건지 해서요"
    assert dialog.respond("m", Reading(said, "card_loan", 0.9)).state == "answered:cash_advance"


@pytest.mark.parametrize("said, intent, state", [
    ("주말엔 지점 몇 시까지 해요", "opening_hours", "answered:branch_hours"),
    ("토요일에도 상담원이랑 통화 되나요 몇 시까지 해요", "opening_hours", "answered:opening_hours"),
    # described, not named; string similarity to the examples picked the balance, which shares 포인트 쌓인
    ("포인트 쌓인 거 카드값 내는 데 쓸 수 있어", "points", "answered:points_use"),
    ("포인트 얼마 있어", "points", "answered:points_balance"),
    ("바우처 남은 돈 어떻게 돼요", "government_voucher", "did_you_mean"),  # either entry: which one is asked
    # 내면 is in the interest's questions (제때 못 내면); the pack's faq_questions.csv says how callers ask to pay
    ("아들 카드값이 연체됐다고 문자가 왔는데요 제가 대신 넣어주려고요 어떻게 내면 돼요", "overdue_payment",
     "answered:overdue_payment"),
])
def test_the_faq_answer_is_the_likeliest_entry_and_two_close_ones_are_asked_about(said, intent, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("h", Reading(said, intent, 0.9)).state == state


@pytest.mark.parametrize("said, model", [
    ("저기 카드론 그거 어떻게 받는 거예요", "faq"),  # 카드론: only card_loan's answers have that topic
    ("카드 그거 어떻게 하는 거예요", "offer"),  # 카드: every intent's titles share it, so the model's doubt stands
])
def test_an_unsure_faq_intent_is_answered_when_the_caller_names_its_own_topic(said, model, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    intent = "card_loan" if "카드론" in said else "card_application"
    assert dialog.respond("u", Reading(said, intent, 0.45)).model == model


def test_an_out_of_scope_reading_gives_way_to_the_recognisers_next_reading_in_scope(pack):
    """A spoken turn first read as "오늘 날씨 어때" (out of scope) whose second reading is a request is answered
    as that request; a turn read in scope at once never asks the recogniser again."""
    bot = Bot(ScriptedUnderstander(EntityExtractor.load(pack.gazetteer)), Dialog(Domain.load(pack.domain), MemoryStore()))
    turn = bot.turn("n", "오늘 날씨 어때", lambda: ["내일 비 온대", "카드 잃어버렸어"])
    assert (turn.reading, turn.understood.intent, turn.turn.model) == (2, "lost_card", "form")
    assert bot.turn("o", "오늘 날씨 어때", lambda: ["내일 비 온대"]).reading == 0  # none better: the first stands

    def never() -> list[str]:
        raise AssertionError("asked for other readings of a turn already understood")

    assert bot.turn("p", "카드를 분실했어요", never).reading == 0


def test_an_unsure_reading_in_scope_does_not_replace_the_first(pack):
    class Unsure(ScriptedUnderstander):
        def understand(self, text: str) -> Understanding:
            meant = super().understand(text)
            return replace(meant, confidence=0.4) if meant.intent != "out_of_scope" else meant

    bot = Bot(Unsure(EntityExtractor.load(pack.gazetteer)), Dialog(Domain.load(pack.domain), MemoryStore()))
    assert bot.turn("q", "오늘 날씨 어때", lambda: ["카드 잃어버렸어"]).reading == 0


def test_only_readings_of_the_same_speech_are_tried_after_the_first():
    from server.turns import other_readings

    found = ["카드 이러버려써.", "카드 잃어버렸어", "네.", "감사합니다."]
    assert other_readings("카드 이러버려써", found) == ["카드 잃어버렸어"]


@pytest.mark.parametrize("said, reading, state", [
    ("아 그게 신용카드랑 체크카드 둘 다 있었는데 그냥 상담원 연결해 주세요", ("agent", 0.98), "handoff"),
    ("신용카드요 근데 상담원이랑은 통화 못 해요", ("agent", 0.55), "asking:phone"),  # unsure: the value counts
])
def test_in_a_form_a_person_surely_asked_for_wins_over_the_values_beside_it(said, reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    entities = tuple(EntityExtractor.load(pack.gazetteer).extract(said))
    assert dialog.respond("h", Reading("카드를 분실했어요", "lost_card")).state == "asking:card_type"
    turn = dialog.respond("h", Reading(said, *reading, "command", entities))
    assert (turn.model if state == "handoff" else turn.state) == state


def test_in_a_form_an_unsure_hand_off_reading_that_gives_the_form_nothing_hands_off(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    entities = EntityExtractor.load(pack.gazetteer)
    assert dialog.respond("d", Reading("카드를 분실했어요", "lost_card")).state == "asking:card_type"
    card = tuple(entities.extract("신용카드요"))
    assert dialog.respond("d", Reading("신용카드요", "lost_card", 0.9, "fragment", card)).state == "asking:phone"
    turn = dialog.respond("d", Reading("이거 말고요 그냥 직접 통화할래요", "agent", 0.45))
    assert turn.model == "handoff" and turn.handoff["reason"] == "requested"
    # The same unsure reading beside the number the form asked for fills the slot instead.
    dialog.respond("e", Reading("카드를 분실했어요", "lost_card"))
    dialog.respond("e", Reading("신용카드요", "lost_card", 0.9, "fragment", card))
    said = "통화는 공일공 일이삼사 오육칠팔로 해 주세요"
    turn = dialog.respond("e", Reading(said, "agent", 0.45, "command", tuple(entities.extract(said))))
    assert turn.state == "confirming" and turn.slots["phone"] == "010-****-5678"


@pytest.mark.parametrize("said, reading, state", [
    ("네 접수해 주세요", ("complaint", 0.6), "completed"),  # 접수 is also a complaint's word
    ("아니요 다시 할게요", ("agent", 0.5), "asking:card_type"),  # the form's one slot is asked again
    ("네 근데 상담원 바꿔 주세요", ("agent", 0.5), "handoff"),  # a person named beside the yes
    ("아니 이게 뭐예요 진짜", ("complaint", 0.5), "handoff"),  # anger beside the no
])
def test_a_yes_or_no_at_the_read_back_answers_it_whatever_hand_off_the_model_hears(said, reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    card = tuple(EntityExtractor.load(pack.gazetteer).extract("신용카드"))
    dialog.respond("a", Reading("결제 취소 좀 하려고요", "approval_cancel"))
    assert dialog.respond("a", Reading("신용카드", "card_cancel", 0.9, "fragment", card)).state == "confirming"
    turn = dialog.respond("a", Reading(said, *reading))
    assert (turn.model if state == "handoff" else turn.state) == state


@pytest.mark.parametrize("said, reading, state", [
    ("네 그거 잔액 어떻게 봐요", ("balance", 1.0), "answered:national_happiness_card"),  # the voucher's balance
    ("그럼 그거 신청은 어디서 해요", ("card_application", 0.9), "answered:national_happiness_card"),
    ("이거 신청은 어디서 해요", ("card_application", 0.9), "answered:national_happiness_card"),  # 이거 as 그거
    ("이거 말고 카드 신청은 어디서 해요", ("card_application", 0.9), "answered:card_application"),
    ("그거 바우처 말고 카드 신청은 어디서 해요", ("card_application", 0.9), "answered:card_application"),  # named, then
    ("잔액 어떻게 봐요", ("balance", 1.0), "answered:balance"),  # no reference back: a new question
    ("그거 말고 카드론은 어떻게 신청해요", ("card_loan", 0.9), "answered:card_loan"),  # names another topic
    ("그게 아니라 계좌 잔액이요", ("balance", 0.9), "answered:balance"),  # turns away from the answer
    ("거기 주말에도 해요", ("opening_hours", 0.9), "answered:opening_hours"),  # 거기: the center, not the card
])
def test_a_question_that_refers_back_is_about_the_answer_just_given(said, reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("q", Reading("저 국민행복카드 있잖아요 그 바우처", "government_voucher"))
    assert turn.state == "answered:national_happiness_card"
    assert dialog.respond("q", Reading(said, *reading)).state == state


@pytest.mark.parametrize("reading, state", [
    (("fees", 0.83), "answered:cash_advance_fee"),  # the fees have an entry on the topic: 현금서비스 수수료
    (("fees", 0.52), "answered:cash_advance_fee"),  # more likely than not: still the fee
    (("fees", 0.45), "answered:cash_advance"),  # unsure: the answer just given goes on
    (("balance", 0.9), "answered:cash_advance"),  # no balance entry on the topic
])
def test_a_question_that_refers_back_may_ask_another_question_on_the_same_topic(reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("r", Reading("급하게 현금이 필요한데 현금서비스 오늘 통장으로 받을 수 있어", "card_loan"))
    assert turn.state == "answered:cash_advance"
    assert dialog.respond("r", Reading("그거 이자는 몇 프로야", *reading)).state == state


@pytest.mark.parametrize("said, reading, state", [
    # After the tuition answer, which says 무이자 할부: "then" goes on from it, and whether what it said holds is
    # the tuition's, though the words read as interest-free instalments in general.
    ("그럼 무이자 할부도 되는 거예요", ("installment", 0.99), "answered:tuition"),
    ("그라믄 학원비도 되나", ("card_application", 0.7), "answered:school_fees"),  # regional "then", no topic
    ("무이자 할부도 되는 거예요", ("installment", 0.99), "answered:interest_free_installment"),  # no "then"
    ("그럼 무이자 할부는 어떻게 해요", ("installment", 0.99), "answered:interest_free_installment"),  # asks how
    ("그럼 카드론은 얼마까지 돼요", ("card_loan", 0.95), "answered:card_loan"),  # a topic the answer never said
    ("아 그럼 할부도 되는 거예요", ("goodbye", 0.22), "answered:tuition"),  # an unsure goodbye: no close, a "then"
    ("아 그럼 감사합니다", ("goodbye", 0.7), "anything_else"),  # a close, which is asked about
])
def test_a_question_that_opens_with_then_goes_on_from_the_answer_just_given(said, reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("t", Reading("대학교 등록금 카드로 낼 수 있어요", "education_fee"))
    assert turn.state == "answered:tuition" and "무이자 할부" in turn.reply
    assert dialog.respond("t", Reading(said, *reading)).state == state


@pytest.mark.parametrize("then, state", [
    (None, "answered:tuition"),  # the pack's own words, 그럼 among them
    (("그라믄",), "answered:interest_free_installment"),  # a pack that does not list 그럼
])
def test_the_packs_words_say_what_opens_a_follow_up(then, state, pack):
    domain = Domain.load(pack.domain)
    if then is not None:
        domain = replace(domain, words=replace(domain.words, then=then))
    dialog = Dialog(domain, MemoryStore())
    assert dialog.respond("p", Reading("대학교 등록금 카드로 낼 수 있어요", "education_fee")).state == "answered:tuition"
    assert dialog.respond("p", Reading("그럼 무이자 할부도 되는 거예요", "installment", 0.99)).state == state


@pytest.mark.parametrize("said, reading, acknowledged", [
    ("어 알았어 그럼 앱에서 볼게", ("app_help", 0.6, "statement"), True),  # says what they will do
    ("네 앱에서 확인해 볼께요", ("app_help", 0.5, "statement"), True),
    ("앱에서 볼 수 있어요", ("app_help", 0.6, "question"), False),  # a question
    ("앱 로그인이 안 되는데 어떻게 할게요", ("app_help", 0.6, "statement"), False),  # asks how
    ("그럼 앱 비밀번호 바꿀게요", ("app_help", 0.9, "statement"), False),  # a request the model is sure of
    ("일 년 치까지 나온다고요 알았어요 저녁에 다시 볼게요", ("app_help", 0.9, "statement"), True),  # taken in first
    ("어 알았어 앱에서 볼게 됐어", ("app_help", 0.65, "statement"), True),  # what they will do, then "enough"
])
def test_after_an_answer_a_caller_who_says_what_they_will_do_is_asked_what_else(said, reading, acknowledged, pack):
    domain = Domain.load(pack.domain)
    dialog = Dialog(domain, MemoryStore())
    turn = dialog.respond("k", Reading("최근 카드 쓴 거 좀 보려고요", "transaction_history"))
    assert turn.state == "answered:transaction_history"
    turn = dialog.respond("k", Reading(said, *reading))
    assert (turn.reply == domain.responses["anything_else"]) == acknowledged
    # Nothing changes where it is: a question about the history that follows is still about the history.
    assert (turn.state == "answered:transaction_history") == acknowledged


@pytest.mark.parametrize("said, reading, acknowledged", [
    ("본인 휴대폰 인증하면 된다고요 알겠습니다", ("app_help", 0.95, "statement"), True),  # ends taking it in
    ("아 앱 이용 내역 메뉴 오케이", ("prepayment", 0.51, "question"), True),  # whatever the type model says
    ("이용 내역은 어디서 봐요 알겠습니다", ("app_help", 0.95, "statement"), False),  # asks where
    ("아 생각보다 많이 썼네", ("out_of_scope", 0.8, "statement"), True),  # a remark
    ("그럼 지난달 것도 나와요", ("out_of_scope", 0.8, "statement"), False),  # no remark: it goes on with "then"
    ("오늘 날씨 어때요", ("out_of_scope", 0.9, "question"), False),  # a question not understood
    ("십오일", ("out_of_scope", 0.9, "fragment"), False),  # a value that points at a form
    ("아 사 일 편의점 그거 맞네요 알겠습니다", ("out_of_scope", 0.8, "statement"), True),  # the answer's 12월 4일
    ("이십 일이요 알겠습니다", ("out_of_scope", 0.8, "statement"), False),  # a day the answer did not say
    ("아 앱에서 일 년 치 된다는 거지 오케이 됐어", ("app_help", 0.72, "statement"), True),  # a yes, then "enough"
])
def test_after_an_answer_a_turn_that_takes_it_in_is_asked_what_else(said, reading, acknowledged, pack):
    domain = Domain.load(pack.domain)
    dialog = Dialog(domain, MemoryStore())
    dialog.respond("a", Reading("최근 카드 쓴 거 좀 보려고요", "transaction_history"))
    entities = tuple(EntityExtractor.load(pack.gazetteer).extract(said))
    turn = dialog.respond("a", Reading(said, *reading, entities))
    assert (turn.reply == domain.responses["anything_else"] and turn.state == "answered:transaction_history") == \
        acknowledged


def test_a_second_remark_not_understood_in_a_row_counts_as_a_line_not_understood(pack):
    domain = Domain.load(pack.domain)
    dialog = Dialog(domain, MemoryStore())
    dialog.respond("b", Reading("최근 카드 쓴 거 좀 보려고요", "transaction_history"))
    assert dialog.respond("b", Reading("아 생각보다 많이 썼네", "out_of_scope", 0.8)).reply == \
        domain.responses["anything_else"]
    turn = dialog.respond("b", Reading("우리 집 강아지가 밥을 안 먹네", "out_of_scope", 0.9))
    assert turn.model == "fallback" and turn.state == "reprompt:1"


@pytest.mark.parametrize("first, said, state", [
    # Right after the overseas-fee answer, an unsure reading of fees is answered from the fees entries.
    (("해외에서 카드 쓰면 수수료 얼마예요", "fees"), ("현금서비스 이자는 몇 프로예요", "fees", 0.5),
     "answered:cash_advance_fee"),
    # Out of that topic, the same unsure reading is offered first.
    (("포인트 얼마나 있어요", "points"), ("현금서비스 이자는 몇 프로예요", "fees", 0.5), "offered:fees"),
])
def test_an_unsure_reading_of_the_topic_just_answered_is_answered_not_offered(first, said, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("o", Reading(*first)).state.startswith("answered:")
    assert dialog.respond("o", Reading(*said)).state == state


@pytest.mark.parametrize("said, reading, state", [
    # After the card-loan answer, a tag question that checks it is about it, though its words read as a form.
    ("승인 나면 다른 은행 통장으로도 받을 수 있는 거죠", ("payment_account_change", 0.82), "answered:card_loan"),
    ("다른 은행 통장으로 바꿀게요", ("payment_account_change", 0.82), "asking:bank"),  # a request: the form
])
def test_a_tag_question_after_an_answer_checks_it_and_starts_no_form(said, reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("c", Reading("카드론 받고 싶어요", "card_loan")).state == "answered:card_loan"
    assert dialog.respond("c", Reading(said, *reading)).state == state


@pytest.mark.parametrize("said, state", [
    ("근데 그거 하면 한도도 바로 풀리는 거죠", "offered:limit_increase"),  # checks something: the form is offered
    ("그럼 한도도 좀 올려 주세요", "asking:card_type"),  # a request: the form starts
])
def test_a_tag_question_with_no_answer_to_check_offers_the_form_it_reads_as(said, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    amount = tuple(EntityExtractor.load(pack.gazetteer).extract("오십만 원"))
    dialog.respond("f", Reading("선결제 할게요 오십만 원이요", "prepayment", 0.99, "statement", amount))
    assert dialog.respond("f", Reading("네", "affirm", 0.99)).state == "completed"
    assert dialog.respond("f", Reading(said, "limit_increase", 0.63)).state == state


@pytest.mark.parametrize("said, state", [
    ("그라믄 앱 첫 화면에도 나온다 그 말이지라", "answered:bill_amount"),  # 앱 첫 화면: as the answer said it
    ("그라믄 앱 첫 화면에도 나오나", "answered:app_login"),  # no tag word: the app question the words read as
])
def test_a_tag_question_after_an_answer_checks_it_whatever_question_it_reads_as(said, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("b", Reading("이번 달 카드값 얼마 나왔어요", "bill_amount")).state == "answered:bill_amount"
    assert dialog.respond("b", Reading(said, "app_help", 0.92)).state == state


def answered(pack, asked: str, intent: str, entry: str) -> Dialog:
    """A dialog whose call has just had ``asked`` answered from the FAQ entry ``entry``."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("a", Reading(asked, intent, 0.99)).state == f"answered:{entry}"
    return dialog


def cancelling(pack, card: str) -> Dialog:
    """A dialog whose call is at the read-back of the card cancel, for ``card`` (신용카드, 체크카드)."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    found = tuple(EntityExtractor.load(pack.gazetteer).extract(card))
    assert dialog.respond("a", Reading(f"{card} 해지할게요", "card_cancel", 0.99, entities=found)).state == \
        "confirming"
    return dialog


@pytest.mark.parametrize("said", ["아 앱에서 보면 되는거죠 넵", "앱에서 보면 되는 거죠 네"])
def test_a_tag_question_typed_without_its_space_or_before_a_yes_checks_the_answer(said, pack):
    dialog = answered(pack, "모르는데서 결제된게 있는거같아서요 최근 사용내역 좀 확인하고 싶은데", "transaction_history", "transaction_history")
    assert dialog.respond("a", Reading(said, "app_help", 0.63)).state == "answered:transaction_history"


def test_an_unsure_goodbye_with_nothing_to_close_is_a_line_not_understood(pack):
    domain = Domain.load(pack.domain)
    dialog = Dialog(domain, MemoryStore())
    assert dialog.respond("g", Reading("버스에 우산을 두고 내렸어요", "out_of_scope", 0.9)).state == "reprompt:1"
    turn = dialog.respond("g", Reading("그럼 그거 어디 가서 찾아야 돼요", "goodbye", 0.23))
    assert turn.model == "fallback" and turn.state == "reprompt:2"
    # After an answer the same reading is a close the bot asks about, and its last words hanging up end the call.
    dialog.respond("h", Reading("최근 카드 쓴 거 좀 보려고요", "transaction_history"))
    assert dialog.respond("h", Reading("아 그래예 고맙심더", "goodbye", 0.4)).reply == domain.responses["anything_else"]
    assert dialog.respond("i", Reading("잘못 걸었네요 끊을게요", "goodbye", 0.4)).end


@pytest.mark.parametrize("said, reading", [
    ("아니 그거 뭐더라", ("deny", 0.96)),
    ("네 그 뭐시기 있잖아요", ("affirm", 0.9)),
])
def test_a_caller_looking_for_a_word_after_anything_else_is_not_answering_it(said, reading, pack):
    """Its 아니 is no "nothing else" that closes the call, its 그거 no question about the answer just given: a line
    not understood, which counts towards a hand-off. The same 아니 without the word search still closes."""
    dialog = answered(pack, "연회비 얼마예요", "fees", "annual_fee")
    turn = dialog.respond("a", Reading(said, *reading))
    assert (turn.model, turn.state, turn.end) == ("fallback", "reprompt:1", False)
    assert dialog.respond("a", Reading("포인트 얼마 있어요", "points", 0.99)).state == "answered:points_balance"
    closing = answered(pack, "연회비 얼마예요", "fees", "annual_fee")
    assert closing.respond("a", Reading("아니 그거면 돼요", "deny", 0.96)).end


@pytest.mark.parametrize("said, reading", [
    ("없어요", ("greeting", 0.74)),  # 거기 아무도 없어요 is a line check: the model may hear one
    ("네 없어요", ("greeting", 0.55)),
    ("없어", ("out_of_scope", 0.34)),
    ("없습니다 감사합니다", ("goodbye", 0.5)),
])
def test_nothing_said_to_anything_else_closes_the_call(said, reading, pack):
    """없어요, to "더 도와드릴 일이 있으신가요?", is "nothing more", whatever the model reads; said at the start it is
    not."""
    dialog = answered(pack, "연회비 얼마예요", "fees", "annual_fee")
    turn = dialog.respond("a", Reading(said, *reading))
    assert (turn.model, turn.end) == ("goodbye", True)
    fresh = Dialog(Domain.load(pack.domain), MemoryStore())
    assert not fresh.respond("b", Reading(said, *reading)).end


def test_a_caller_checking_the_line_after_an_answer_stays_where_the_call_stands(pack):
    """여보쇼 여보쇼 끊겼는가, after the answer: asked what else, not greeted afresh, and the answer stays the call's
    last; a greeting at the start is greeted."""
    domain = Domain.load(pack.domain)
    dialog = answered(pack, "연회비 얼마예요", "fees", "annual_fee")
    turn = dialog.respond("a", Reading("여보쇼 여보쇼 끊겼는가", "greeting", 0.49))
    assert turn.reply == domain.responses["anything_else"] and turn.state == "answered:annual_fee"
    assert dialog.respond("a", Reading("아 알았소 고맙소", "goodbye", 0.89)).end
    fresh = Dialog(domain, MemoryStore())
    assert fresh.respond("b", Reading("여보세요", "greeting", 0.99)).reply == domain.responses["greeting"]


def test_the_models_guess_at_a_word_the_caller_still_looks_for_is_not_offered(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("a", Reading("여보세요 잘 안 들리는데 그 뭐냐 그거 있잖아요 그거", "app_help", 0.42))
    assert (turn.model, turn.state) == ("fallback", "reprompt:1")
    # nor its hello, however sure: the caller has begun to say what they want; a hello alone is greeted
    turn = dialog.respond("b", Reading("여보세요 아 거기 그 뭐냐", "greeting", 0.99))
    assert (turn.model, turn.state) == ("fallback", "reprompt:1")
    assert dialog.respond("c", Reading("여보세요 거기 카드사 맞죠", "greeting", 0.99)).model == "greeting"
    # Without the search, the same guess is offered; with it, a sure reading is acted on.
    assert dialog.respond("b", Reading("여보세요 잘 안 들리는데 앱이요", "app_help", 0.42)).model == "offer"
    assert dialog.respond("c", Reading("그 뭐더라 카드 잃어버렸어요", "lost_card", 0.95)).state.startswith("asking")


def test_values_one_form_takes_most_of_point_at_it_after_a_misunderstanding(pack):
    """A card and a phone number: several forms take a card, only the lost card takes both."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "지하철에서 지갑째 없어졌는데 신용카드요 연락은 공일공 일이삼사 오육칠팔로 주세요"
    entities = tuple(EntityExtractor.load(pack.gazetteer).extract(said))
    offered = dialog.respond("f", Reading(said, "out_of_scope", 0.5, "statement", entities))
    assert offered.model == "offer" and "분실" in offered.reply
    assert dialog.respond("f", Reading("네", "affirm")).state == "confirming"  # both values kept


def test_naming_the_slot_to_correct_is_no_change_of_topic(pack):
    """Asked which item to change, 희망 한도요 names the limit slot, though its words read as a limit inquiry."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "신용카드 한도를 오백만 원으로 올려 주세요"
    entities = tuple(EntityExtractor.load(pack.gazetteer).extract(said))
    assert dialog.respond("s", Reading(said, "limit_increase", 0.95, "command", entities)).state == "confirming"
    assert dialog.respond("s", Reading("아니요", "deny")).state == "correcting"
    assert dialog.respond("s", Reading("희망 한도요", "limit_inquiry", 0.93, "fragment")).state == "asking:amount"


@pytest.mark.parametrize("said, reading, form", [
    ("그거 해지하고 싶어요", ("card_cancel", 0.99), "revolving_cancel"),  # 그거: the revolving asked about
    ("그거 말고 카드 해지하고 싶어요", ("card_cancel", 0.99), "card_cancel"),  # turns away from it: a new request
])
def test_in_a_form_a_turn_that_refers_back_stays_in_the_form(said, reading, form, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("r", Reading("리볼빙 해지하고 싶어요", "revolving_cancel")).state == "asking:card_type"
    assert dialog.respond("r", Reading(said, *reading)).state == "asking:card_type"
    assert dialog.store.get("r").form == form


@pytest.mark.parametrize("said, reading, state", [
    # A question (어떻게) about the loan just explained: its repayment, though its words read as a card bill's
    # prepayment, a form; the utterance type reads it as a statement for its last fragment.
    ("음 그거 미리 갚으려면 어떻게 해요 중도 상환이요", ("prepayment", 0.94), "answered:loan_repayment"),
    ("그거 때문에 카드 해지할래요", ("card_cancel", 0.95), "asking:card_type"),  # a request, no question: the form
    ("뭐 그거 때문에 카드 해지할래요", ("card_cancel", 0.95), "asking:card_type"),  # 뭐 only softens here
])
def test_a_question_that_refers_back_to_an_answer_is_about_it_whatever_form_its_words_suggest(said, reading, state,
                                                                                              pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("c", Reading("카드론 받고 싶어요", "card_loan")).state == "answered:card_loan"
    assert dialog.respond("c", Reading(said, *reading)).state == state


@pytest.mark.parametrize("said, intent, state", [
    # A title that joins topics with · is named by either: 학원비 of 유치원비·학원비 납부, 카드론 of 카드론·현금서비스 상환.
    ("학원비 카드로 자동 납부 돼요", "education_fee", "answered:school_fees"),
    ("카드론 갚는 방법", "card_loan", "answered:loan_repayment"),
    ("현금서비스 미리 갚고 싶어요", "card_loan", "answered:loan_repayment"),
])
def test_a_topic_joined_with_a_dot_in_an_faq_title_is_named_by_either_part(said, intent, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("t", Reading(said, intent, 0.84)).state == state


def test_a_turn_read_as_no_request_that_ends_hanging_up_closes_the_call(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("g", Reading("아 잠깐만요 지금 운전 중이라 나중에 다시 전화할게요 끊을게요", "out_of_scope", 0.57))
    assert (turn.model, turn.end) == ("goodbye", True)
    # In a form too, where the turn gives the form nothing.
    dialog.respond("h", Reading("카드를 분실했어요", "lost_card"))
    assert dialog.respond("h", Reading("아 나중에 다시 전화할게요 끊을게요", "out_of_scope", 0.6)).end
    # 끊다 is also to cancel a card: a turn read as that, however unsure, is offered it, not hung up.
    turn = dialog.respond("i", Reading("카드 그냥 끊을게요", "card_cancel", 0.54))
    assert (turn.model, turn.end) == ("offer", False)


def test_an_unsure_goodbye_asks_whether_anything_else_is_needed_instead_of_hanging_up(pack):
    """끊다 is to hang up and to cancel a card: 카드 끊을게요 read as a goodbye at 0.69, a card cancel next, must not
    end the call."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    card = (("goodbye", 0.69), ("card_cancel", 0.28))
    turn = dialog.respond("b", Reading("카드 끊을게요", "goodbye", 0.69, top_k=card))
    assert not turn.end and "더 도와드릴 일이 있으신가요" in turn.reply
    assert dialog.respond("b", Reading("카드 해지요", "card_cancel", 0.95)).state == "asking:card_type"
    dialog.respond("c", Reading("카드 끊을게요", "goodbye", 0.69, top_k=card))
    assert dialog.respond("c", Reading("아니요", "deny")).end  # nothing else: then the call ends
    assert dialog.respond("d", Reading("고맙습니다 이만 끊을게요", "goodbye", 0.95)).end
    # An unsure goodbye whose last words hang up, with no transaction as the other reading, lets the caller go.
    wrong_number = Reading("아 죄송합니다 잘못 걸었네요 끊을게요", "goodbye", 0.71,
                           top_k=(("goodbye", 0.71), ("out_of_scope", 0.24)))
    assert dialog.respond("e", wrong_number).end
    # So does one whose other reading is a transaction it names no word of (the card cancel, 카드 해지: no 카드).
    misdial = Reading("아 죄송해요 잘못 눌렀어요 끊을게요", "goodbye", 0.76, top_k=(("goodbye", 0.76), ("card_cancel", 0.1)))
    assert dialog.respond("e2", misdial).end
    after_answer = Reading("아 평일만 되는구나 월요일에 다시 할게요 수고하세요", "goodbye", 0.78,
                           top_k=(("goodbye", 0.78), ("opening_hours", 0.11)))
    assert dialog.respond("f", after_answer).end
    # Without a goodbye word at the end it is still asked about.
    unsure = Reading("아 네 알겠습니다 다음에 할게요", "goodbye", 0.7, top_k=(("goodbye", 0.7), ("out_of_scope", 0.2)))
    assert not dialog.respond("g", unsure).end
    # A region's goodbye word hangs up as the standard one does (충청도: 수고하세유).
    regional = Reading("아 그류 알겄슈 수고하세유", "goodbye", 0.79, top_k=(("goodbye", 0.79), ("affirm", 0.1)))
    assert dialog.respond("h", regional).end


def test_anger_read_as_no_request_hands_off_as_a_complaint(pack):
    """Out of a form too: 진짜 어이없네요 with no request the model knows goes to a person, not a re-prompt."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("a", Reading("지난주에 처리해 준다더니 아직도 그대로예요 진짜 어이없네요", "out_of_scope", 0.57))
    assert (turn.model, turn.state, turn.end) == ("handoff", "complaint", True)
    # No anger word: the caller is asked again.
    turn = dialog.respond("b", Reading("지난주에 처리해 준다더니 아직도 그대로예요", "out_of_scope", 0.57))
    assert (turn.model, turn.end) == ("fallback", False)


def test_a_side_question_asked_which_answer_goes_on_with_the_form_once_answered(pack):
    """The side question's two close answers are asked about first; the form's question follows the answer."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    entities = EntityExtractor.load(pack.gazetteer)
    assert dialog.respond("s", Reading("결제일 바꾸고 싶어요", "payment_date_change", 0.99)).state == "asking:day"
    assert dialog.respond("s", Reading("근데 할부 문의", "installment", 0.9)).state == "did_you_mean"
    answered = dialog.respond("s", Reading("무이자 할부", "installment", 0.9))
    assert answered.state.startswith("answered:") and answered.reply.endswith(
        "결제일 변경 계속 진행하겠습니다. 결제일을 며칠로 바꾸시겠어요? 1일, 5일, 10일, 14일, 15일, 20일, 25일 중에서 고르실 수 "
        "있습니다.")
    assert "더 도와드릴 일이" not in answered.reply
    day = dialog.respond("s", Reading("십오일이요", "out_of_scope", 0.5, "fragment", tuple(entities.extract("십오일이요"))))
    assert day.model == "form" and day.state == "confirming" and day.slots == {"day": "15"}


def test_a_side_question_at_the_read_back_reads_the_request_back_again(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    entities = EntityExtractor.load(pack.gazetteer)
    said = "신용카드 한도를 오백만 원으로 올려 주세요"
    dialog.respond("r", Reading(said, "limit_increase", 0.99, "command", tuple(entities.extract(said))))
    answered = dialog.respond("r", Reading("아 그리고 포인트는 얼마나 있어요", "points", 0.99, "question"))
    assert answered.state == "answered:points_balance" and "5,000,000" in answered.reply
    done = dialog.respond("r", Reading("네", "affirm", 0.99))
    assert done.state == "completed" and dialog.store.get("r").paused is None


def test_a_form_set_aside_is_dropped_when_the_caller_goes_elsewhere(pack):
    """After the side answer the caller starts another request: the paused form is not taken up again later."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("d", Reading("이사해서 주소를 바꿔야 해요", "address_change", 0.99))
    assert dialog.respond("d", Reading("근데 상담 시간이 어떻게 돼요", "opening_hours", 0.99)).state.startswith("answered:")
    assert dialog.respond("d", Reading("한도 좀 올려 줘", "limit_increase", 0.99)).state == "asking:card_type"
    assert dialog.respond("d", Reading("연회비는 얼마예요", "fees", 0.99)).state == "answered:annual_fee"
    session = dialog.store.get("d")
    assert session.paused["form"] == "limit_increase"  # the limit's form, not the address's, is set aside now
    assert dialog.respond("d", Reading("아니요 괜찮아요 끊을게요", "goodbye", 0.99)).end


def test_the_conversation_bench_counts_a_form_completed_after_a_side_question(understander, pack):
    """The bench judges how a call ends: a form finished after a question on its side (set aside, then taken up
    again) is that form, not the side question's answer."""
    from bench.conversations import ends_as, run

    bot = Bot(understander, Dialog(Domain.load(pack.domain), MemoryStore()))
    script = {"caller": ["신용카드 한도를 천만 원으로 좀 올리고 싶은데요", "아 그 전에 지금 제 한도가 얼마인지도 알 수 있어요",
                         "네 그럼 천만 원으로 신청해 주세요"]}
    got, turns = run(bot, bot.dialog.store, script, "bench")
    assert [t["dialog"]["state"] for t in turns] == ["confirming", "answered:limit_inquiry", "completed"]
    assert ends_as(got, {"form": "limit_increase", "slots": {"card_type": "신용카드", "amount": "10,000,000"}})


def test_the_conversation_bench_judges_a_value_by_the_name_the_pack_gives_it(understander, pack):
    """A script's writer sees no gazetteer: a bank the caller calls 농협, which the pack names 농협은행, is the
    value the script expects."""
    from bench.conversations import ends_as, named, run

    bot = Bot(understander, Dialog(Domain.load(pack.domain), MemoryStore()))
    script = {"caller": ["결제 계좌를 농협으로 바꾸고 싶어요", "삼공일 이이삼 사오육칠팔구", "네"]}
    got, _ = run(bot, bot.dialog.store, script, "bench")
    expect = {"form": "payment_account_change", "slots": {"bank": "농협", "account": "********6789"}}
    assert got["slots"]["bank"] == "농협은행" and not ends_as(got, expect)
    assert ends_as(got, named(expect, EntityExtractor.load(pack.gazetteer).names))


def test_the_conversation_bench_judges_an_faq_intent_by_any_of_its_answers(understander, pack):
    """A script may name the FAQ intent it expects (``faq_intent``) where its writer did not choose among the
    intent's answers: the instalment conversion is an instalment answer, and a bill answer is none."""
    from bench.conversations import by_intent, ends_as, run

    domain = Domain.load(pack.domain)
    bot = Bot(understander, Dialog(domain, MemoryStore()))
    got, _ = run(bot, bot.dialog.store, {"caller": ["일시불로 긁은 거 할부로 돌리고 싶어요", "네 알겠습니다 감사합니다"]},
                 "bench")
    intent_of = {entry.id: entry.intent for entry in domain.faq}
    assert got == {"goodbye": True, "after": {"faq": "installment_conversion"}}
    assert ends_as(by_intent(got, intent_of), {"faq_intent": "installment"})
    assert not ends_as(by_intent(got, intent_of), {"faq_intent": "bill_amount"})
    assert not ends_as(got, {"faq_intent": "installment"})


@pytest.mark.parametrize("said", ["ㅇㅇ", "ㅇㅋ", "ㄱㄱ", "넵"])
def test_a_chat_users_yes_completes_the_read_back(said, understander, pack):
    """The NLU writes ㅇㅇ as NFKC makes it (ᄋᄋ); the pack's words are read the same way."""
    bot = Bot(understander, Dialog(Domain.load(pack.domain), MemoryStore()))
    bot.turn("c", "선결제 할래요")
    assert bot.turn("c", "30만").as_json()["dialog"]["state"] == "confirming"
    assert bot.turn("c", said).as_json()["dialog"]["state"] == "completed"


@pytest.mark.parametrize("said, reading, state", [
    ("그럼 백만 원 쓰면 만 이천오백 원 정도 더 나오는 거네요", ("fees", 0.45), "answered:overseas_fee"),
    ("그럼 연회비는 얼마예요", ("fees", 0.95), "answered:annual_fee"),  # no tag word: the question it asks
])
def test_a_tag_question_read_as_the_intent_just_answered_checks_that_answer(said, reading, state, pack):
    dialog = answered(pack, "다음 달에 일본 여행 가는데 거기서 카드 쓰면 수수료 얼마나 붙어요", "fees", "overseas_fee")
    assert dialog.respond("a", Reading(said, *reading)).state == state


@pytest.mark.parametrize("said, reading, state", [
    ("교육비 납부 메뉴요 알겠어요 고맙습니다", ("education_fee", 0.89), "answered:tuition"),  # taken in, then thanks
    ("네 앱에서 확인해 볼게요", ("education_fee", 0.91), "answered:tuition"),  # a yes, and what the caller will do
    ("아 앱에서 하면 되는구나 네", ("app_help", 0.79), "answered:tuition"),  # a last word in 구나, then a yes
    ("앱에서 확인해 볼게요", ("education_fee", 0.91), "answered:school_fees"),  # no yes: the question it reads as
    ("알겠습니다 감사합니다", ("goodbye", 0.95), "said"),  # thanks read as a goodbye closes the call
    ("아 교육비 납부 메뉴요 네 감사합니다", ("education_fee", 0.96), "answered:tuition"),  # said back, a yes, thanks
    ("아 교육비 납부 메뉴요 감사합니다", ("education_fee", 0.96), "answered:school_fees"),  # no yes: its question
    ("교육비 납부 메뉴요 네 한번 볼게요", ("education_fee", 0.96), "answered:tuition"),  # a yes before the promise
    ("제휴 학교면 되는구나 그 메뉴에서 찾아볼게요", ("education_fee", 1.0), "answered:tuition"),  # 되는구나 first
    ("아 교육비 납부 메뉴요 거기서 해 볼게요", ("education_fee", 0.96), "answered:tuition"),  # said back, a promise
])
def test_after_an_answer_thanks_or_a_yes_with_what_the_caller_will_do_take_it_in(said, reading, state, pack):
    dialog = answered(pack, "우리 애 대학 등록금을 카드로 나눠서 낼 수 있어요", "education_fee", "tuition")
    assert dialog.respond("a", Reading(said, *reading)).state == state


@pytest.mark.parametrize("said, reading, state", [
    ("아 잠깐만 잠깐만요 통장에 돈이 없네 취소할게요 취소", "approval_cancel", "cancelled"),  # a stop word, then 취소
    ("아 다음 달에 전액 다 나가요 그럼 지금은 안 되겠다 그냥 두세요", "out_of_scope", "cancelled"),
    # 그냥 두고: not the end of the turn, which says the request again: a yes
    ("아 결제일에 나가는 거 그냥 두고 선결제만 할게요", "prepayment", "completed"),
])
def test_a_read_back_given_up_is_cancelled(said, reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    amount = tuple(EntityExtractor.load(pack.gazetteer).extract("칠십만 원"))
    assert dialog.respond("p", Reading("선결제 칠십만 원", "prepayment", 0.99, "statement", amount)).state == "confirming"
    assert dialog.respond("p", Reading(said, reading, 0.9)).state == state


def test_a_caller_who_will_call_back_ends_the_call(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("w", Reading("여보세요 아 네 잠깐만요", "greeting", 0.93))
    assert dialog.respond("w", Reading("아 죄송해요 지금 손님 와서 나중에 다시 걸게요", "out_of_scope", 0.58)).end


def test_the_values_given_with_an_offer_not_taken_go_with_the_next_offer(pack):
    """신용카드요, offered the card cancel, then a phone number, which points at the lost card: the card is kept."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    entities = EntityExtractor.load(pack.gazetteer)
    dialog.respond("l", Reading("여보세요 카드 잃어버렸어요 지금 운전 중이라 빨리 좀요", "out_of_scope", 0.48))
    card = tuple(entities.extract("신용카드요 신용"))
    assert dialog.respond("l", Reading("신용카드요 신용", "card_cancel", 0.27, "fragment", card)).state == \
        "offered:card_cancel"
    phone = tuple(entities.extract("공일공 사칠이일 팔삼오구"))
    assert dialog.respond("l", Reading("공일공 사칠이일 팔삼오구", "out_of_scope", 0.98, "fragment", phone)).state == \
        "offered:lost_card"
    turn = dialog.respond("l", Reading("네 네 그렇게 해 주세요", "affirm", 0.99))
    assert turn.state == "confirming" and turn.slots == {"card_type": "신용카드", "phone": "010-****-8359"}


def test_a_connective_is_no_yes_to_an_offer(pack):
    """그래도 ("even so") opens with 그래 ("yes") but says no yes: the request that follows it is the caller's."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "음 명세서가 자꾸 옛날 집으로 가서요 혹시 명세서를 이메일로 받을 수도 있어요"
    assert dialog.respond("a", Reading(said, "transaction_history", 0.59)).state == "offered:transaction_history"
    turn = dialog.respond("a", Reading("아 그래도 우편으로도 받고 싶으니까 주소는 바꿔 주세요", "address_change", 0.69))
    assert turn.state == "asking:address"


@pytest.mark.parametrize("said, reading, state", [
    ("그라믄 그걸로 카드값을 낼 수도 있는 거요", ("affirm", 0.37), "answered:points_use"),  # 그걸로: 포인트로
    ("오 꽤 많네 그걸로 이번 달 카드값 까도 돼", ("bill_amount", 0.81), "answered:points_use"),
])
def test_a_question_that_refers_back_keeps_its_particle_with_the_topic(said, reading, state, pack):
    """An unsure yes that asks on about the answer just given is no line not understood."""
    dialog = answered(pack, "아 여보세요 내가 카드 포인트가 얼마나 쌓였는지 좀 알고 싶은데", "points", "points_balance")
    assert dialog.respond("a", Reading(said, *reading)).state == state


def test_a_jeolla_goodbye_after_an_answer_ends_the_call(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("j", Reading("이번 달 카드값 얼마 나왔소", "bill_amount", 0.99)).state == "answered:bill_amount"
    assert dialog.respond("j", Reading("아이고 그라믄 안 되것네 알겄소 수고허쇼", "affirm", 0.4)).end


def test_a_word_that_only_ends_in_a_person_word_names_no_person(pack):
    """집사람 (one's wife) ends in 사람: in a form it is no request for an agent."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    entities = EntityExtractor.load(pack.gazetteer)
    said = "체크카드 분실 신고요 공일공 구팔칠육 오사삼사"
    assert dialog.respond("p", Reading(said, "lost_card", 0.99, "statement", tuple(entities.extract(said)))).state == \
        "confirming"
    turn = dialog.respond("p", Reading("죄송합니다 그건 집사람 번호를 불러 드렸네요 연락처를 제 번호로 바꿔 주십시오",
                                       "password_change", 0.31))
    assert turn.model == "form" and turn.handoff is None
    dialog.respond("q", Reading("카드 잃어버렸어요", "lost_card"))
    assert dialog.respond("q", Reading("그냥 사람이랑 얘기할래요", "out_of_scope", 0.5)).model == "handoff"


@pytest.mark.parametrize("said", ["잠깐만요 자동이체부터 정리하고 다시 전화드리겠습니다",
                                  "오늘은 취소해주시고 정리한 다음에 다시 전화드리겠습니다"])  # 오늘: a date no form takes
def test_in_a_form_an_unsure_goodbye_that_hangs_up_ends_the_call_and_says_the_form_stopped(said, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("g", Reading("카드 해지해 주세요", "card_cancel", 0.99))
    found = tuple(EntityExtractor.load(pack.gazetteer).extract(said))
    turn = dialog.respond("g", Reading(said, "goodbye", 0.38, "statement", found))
    assert turn.end and turn.reply.startswith("카드 해지 진행은 멈추겠습니다")


@pytest.mark.parametrize("said, reading, entities, state", [
    ("네 바꿔 주세요 십오 일로 해 주세요", ("payment_date_change", 0.81), "십오 일로", "confirming"),  # another request
    ("네 그렇게 해 주세요", ("affirm", 0.99), "", "answered:bill_amount"),  # the offer taken
    ("아 그렇구나 생각보다 많이 썼네요 알겠습니다", ("affirm", 0.93), "", "ask_what"),  # taken in, no yes in words
])
def test_a_yes_to_an_offer_is_no_yes_beside_another_request_or_when_it_only_takes_in(said, reading, entities, state,
                                                                                     pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said_first = "월급이 십 일에 들어오는데 카드값은 오 일에 빠져나가니까 자꾸 잔액이 모자라요"
    assert dialog.respond("o", Reading(said_first, "bill_amount", 0.33)).state == "offered:bill_amount"
    found = tuple(EntityExtractor.load(pack.gazetteer).extract(entities)) if entities else ()
    assert dialog.respond("o", Reading(said, *reading, "statement", found)).state == state


def test_a_then_question_away_from_the_models_reading_is_read_beside_the_answer_given(pack):
    dialog = answered(pack, "지난주에 노트북 일시불로 긁은게 있는데 그거 할부로 돌릴수 있어요", "installment", "installment_conversion")
    assert dialog.respond("a", Reading("그럼 최대 몇개월까지 돼요", "out_of_scope", 0.45)).state == \
        "answered:installment_conversion"


@pytest.mark.parametrize("opener, offered, said, reading, state", [
    ("카드 분실", "lost_card", "교통카드", ("card_application", 0.96), "asking:phone"),  # a bare value the form takes
    ("리볼빙", "revolving_cancel", "해지요", ("card_cancel", 0.98), "asking:card_type"),  # the offer's own word
    ("결제일", "payment_date_change", "변경요", ("payment_account_change", 0.42), "asking:day"),
    ("카드 분실", "lost_card", "교통카드 새로 만들고 싶어요", ("card_application", 0.96), "answered:card_application"),
])
def test_a_word_or_two_that_answers_an_offer_takes_it_whatever_the_model_reads(opener, offered, said, reading, state,
                                                                                pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("f", Reading(opener, offered, 0.99, "fragment")).state == f"offered:{offered}"
    found = tuple(EntityExtractor.load(pack.gazetteer).extract(said))
    turn = dialog.respond("f", Reading(said, *reading, "fragment", found))
    assert turn.state == state
    if offered == "revolving_cancel":
        assert dialog.store.get("f").form == "revolving_cancel"


def test_a_bare_question_read_as_out_of_scope_after_an_answer_asks_the_answers_intent(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("b", Reading("연체됐어요", "overdue_payment", 0.99)).state == "answered:overdue_interest"
    assert dialog.respond("b", Reading("어떻게 내요", "out_of_scope", 0.6)).state == "answered:overdue_payment"
    assert dialog.respond("c", Reading("연체됐어요", "overdue_payment", 0.99)).state == "answered:overdue_interest"
    assert dialog.respond("c", Reading("근데 오늘 날씨는 어떻게 될까요", "out_of_scope", 0.9)).state == "reprompt:1"



@pytest.mark.parametrize("said, reading, state", [
    ("몇 개월까지 돼요", ("installment", 0.87), "answered:installment_conversion"),  # beside the answer's title
    ("무이자 할부는 몇 개월까지 돼요", ("installment", 0.9), "answered:interest_free_installment"),  # names its topic
])
def test_a_bare_question_on_the_intent_just_answered_is_read_beside_the_answer(said, reading, state, pack):
    dialog = answered(pack, "지난주에 노트북을 일시불로 긁었는데 그거 할부로 바꿀 수 있어요", "installment", "installment_conversion")
    assert dialog.respond("a", Reading(said, *reading)).state == state


def test_a_tag_question_the_model_reads_as_an_unsure_goodbye_checks_the_answer(pack):
    dialog = answered(pack, "석 달 치 카드 쓴 거 한 번에 뽑아볼 수 있어요", "transaction_history", "transaction_history")
    assert dialog.respond("a", Reading("그럼 작년 거까지는 다 나오는 거죠", "goodbye", 0.39)).state == \
        "answered:transaction_history"


@pytest.mark.parametrize("said, reading, state", [
    ("야 그래 해주소", ("affirm", 0.52), "completed"),  # 야 only calls attention before the yes
    ("아 그라믄 됐심더 해주이소", ("out_of_scope", 0.67), "completed"),  # taken in, then the yes
    ("잘 모르겠는데 일단 그렇게 해주세요", ("out_of_scope", 0.67), "confirming"),  # no yes opens or follows a taking in
    ("다시 못 쓰는 거면 좀 생각해볼게요 일단 하지마세요", ("deny", 0.64), "cancelled"),  # the form given up at the end
    ("이게 말이 됩니까", ("out_of_scope", 0.6), "handoff"),  # anger in words
])
def test_at_the_read_back_a_yes_a_stop_or_anger_said_the_callers_way(said, reading, state, pack):
    turn = cancelling(pack, "체크카드").respond("a", Reading(said, *reading))
    assert (turn.model if state == "handoff" else turn.state) == state


@pytest.mark.parametrize("said, reading, taken_in", [
    ("앱에서 보라고 알았어 됐어", ("app_help", 0.71), True),  # taken in, then "enough"
    ("알았어 근데 앱 로그인이 안 돼", ("app_help", 0.71), False),  # then a question
])
def test_after_an_answer_taken_in_then_enough_asks_nothing(said, reading, taken_in, pack):
    domain = Domain.load(pack.domain)
    dialog = Dialog(domain, MemoryStore())
    assert dialog.respond("w", Reading("내 카드로 최근에 결제된 거", "transaction_history")).state == \
        "answered:transaction_history"
    turn = dialog.respond("w", Reading(said, *reading))
    assert (turn.reply == domain.responses["anything_else"]) == taken_in


@pytest.mark.parametrize("said, state, address", [
    ("주소 좀 바꿔 주세요 새 주소는 서울시 마포구 월드컵북로 삼백 상암아파트 백일 동 천이백이 호예요", "confirming",
     "서울시 마포구 월드컵북로 삼백 상암아파트 백일 동 천이백이 호"),  # said with the request: not asked again
    ("그래도 우편으로 받고 싶으니까 주소는 바꿔 주세요", "asking:address", None),  # two words that only end like places
])
def test_an_address_said_with_the_request_fills_the_form(said, state, address, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("m", Reading(said, "address_change", 0.99))
    assert turn.state == state and turn.slots.get("address") == address


@pytest.mark.parametrize("said, reading, state", [
    ("아 다시는 못 쓰는 거예요 음 그럼 일단 취소할게요 좀 더 생각해볼게요", ("approval_cancel", 0.22), "cancelled"),
    ("아니요 좀 더 생각해볼게요", ("deny", 0.96), "cancelled"),  # the form given up at the end
    ("잠깐 생각해볼게요", ("out_of_scope", 0.5), "confirming"),  # only a pause
])
def test_a_caller_who_will_think_it_over_gives_the_form_up(said, reading, state, pack):
    assert cancelling(pack, "신용카드").respond("a", Reading(said, *reading)).state == state


def test_a_chat_users_bye_ends_the_call(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("c", Reading("연회비 얼마야", "fees"))
    assert dialog.respond("c", Reading(normalize("ㅇㅋ ㅂㅂ"), "affirm", 0.5)).end


@pytest.mark.parametrize("said, reading, handed_off", [
    ("헐 진짜 많이 썼네 알겠어요", ("complaint", 0.66), False),  # no anger in words, and it takes the answer in
    ("명세서 보니까 조금씩 더 나와 있던데 이게 뭐예요", ("out_of_scope", 0.4), False),  # a question, not anger
    ("아니 또 빠져나갔어요 이게 뭐예요 진짜", ("out_of_scope", 0.4), True),
])
def test_after_an_answer_only_anger_in_words_or_a_sure_reading_is_a_complaint(said, reading, handed_off, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("h", Reading("이번 달 카드값 얼마 빠져나가", "bill_amount"))
    assert (dialog.respond("h", Reading(said, *reading)).model == "handoff") == handed_off


def test_in_a_form_a_value_another_form_takes_read_as_an_unsure_hand_off_is_asked_again(pack):
    """이십만 원이요, asked for the account number (agent 0.35): the caller gives a value, and asks for no one."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    extract = EntityExtractor.load(pack.gazetteer).extract
    said = "결제 계좌를 하나은행으로 바꿀 거예요"
    assert dialog.respond("v", Reading(said, "payment_account_change", entities=tuple(extract(said)))).state == \
        "asking:account"
    turn = dialog.respond("v", Reading("이십만 원이요", "agent", 0.35, entities=tuple(extract("이십만 원이요"))))
    assert turn.model == "form" and turn.state == "asking:account"
    assert dialog.respond("v", Reading("그냥 연결해 줘요", "agent", 0.35)).model == "handoff"  # no value: handed off


@pytest.mark.parametrize("said, reading, phone", [
    ("카드를 잃어버렸어요", ("lost_card", 0.99), "010-****-5678"),  # the offered request said plainly: the number kept
    ("카드 해지할게요", ("card_cancel", 0.99), None),  # another request: it starts afresh
])
def test_the_offered_request_said_plainly_takes_the_offer_with_its_values(said, reading, phone, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    first = "제 번호가 공일공 일이삼사 오육칠팔인데요"
    found = tuple(EntityExtractor.load(pack.gazetteer).extract(first))
    assert dialog.respond("p", Reading(first, "out_of_scope", 0.74, entities=found)).state == "offered:lost_card"
    turn = dialog.respond("p", Reading(said, *reading))
    assert turn.state == "asking:card_type" and turn.slots.get("phone") == phone


def test_a_no_that_gives_an_offered_forms_value_again_corrects_it(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    extract = EntityExtractor.load(pack.gazetteer).extract
    first, again = "공일공 삼삼칠이 구공일사", "아 아니 번호 틀렸다 공일공 삼삼칠이 구공일칠"
    assert dialog.respond("n", Reading(first, "out_of_scope", 0.98, entities=tuple(extract(first)))).state == \
        "offered:lost_card"
    turn = dialog.respond("n", Reading(again, "out_of_scope", 0.55, entities=tuple(extract(again))))
    assert turn.state == "asking:card_type" and turn.slots["phone"] == "010-****-9017"


@pytest.mark.parametrize("said, reading, state", [
    ("수수료도 있어요?", ("fees", 1.0), "answered:installment_conversion"),  # the answer said 할부 수수료
    ("연회비도 있어요?", ("fees", 1.0), "answered:annual_fee"),  # a word the answer did not say
])
def test_a_short_question_on_a_word_the_answer_said_is_about_that_answer(said, reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("s", Reading("일시불로 긁은 거 할부로 돌릴 수 있나요", "installment")).state == \
        "answered:installment_conversion"
    assert dialog.respond("s", Reading(said, *reading)).state == state


@pytest.mark.parametrize("said, phone", [
    ("앗 잘못쳤다 끝자리 9876이요", "010-****-9876"),  # the last digits corrected
    ("아이고 아니여 끝에가 사사오육이여", "010-****-4456"),
])
def test_at_the_read_back_the_last_digits_said_again_correct_the_number(said, phone, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    extract = EntityExtractor.load(pack.gazetteer).extract
    dialog.respond("l", Reading("교통카드 잃어버렸어요", "lost_card", 0.99, entities=tuple(extract("교통카드"))))
    number = "010-4321-9867"
    assert dialog.respond("l", Reading(number, "out_of_scope", 0.97, entities=tuple(extract(number)))).state == \
        "confirming"
    turn = dialog.respond("l", Reading(said, "complaint", 0.5, entities=tuple(extract(said))))
    assert turn.state == "confirming" and turn.slots["phone"] == phone


@pytest.mark.parametrize("said, reading, state", [
    ("그럼 이자는 얼마나 붙어요", ("fees", 0.76), "answered:cash_advance_fee"),  # the fees' entry on 현금서비스
    ("아 그럼 수수료는 얼마나 붙어요", ("fees", 1.0), "answered:cash_advance_fee"),  # surely the fees: still that entry
    ("해외에서 쓰면 수수료는 얼마나 붙어요", ("fees", 1.0), "answered:overseas_fee"),  # names another entry's topic
])
def test_a_question_on_the_topic_just_answered_gets_its_intents_entry_on_that_topic(said, reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("f", Reading("카드로 현금 좀 받을 수 있나요", "card_loan", 0.96)).state == "answered:cash_advance"
    assert dialog.respond("f", Reading(said, *reading)).state == state


@pytest.mark.parametrize("said, state", [
    ("뭐라고? 다음 결제일부터 전액 나간다고? 그래 그렇게 해", "completed"),  # heard it, then the yes
    ("네? 잘 안 들리는데 다시 말해 주실래요", "confirming"),  # 네? is no yes: the read-back again
])
def test_a_caller_who_asks_what_was_said_and_then_says_yes_says_yes(said, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    card = tuple(EntityExtractor.load(pack.gazetteer).extract("신용카드"))
    assert dialog.respond("r", Reading("신용카드 리볼빙 해지해 주세요", "revolving_cancel", entities=card)).state == \
        "confirming"
    assert dialog.respond("r", Reading(said, "affirm", 0.48)).state == state


@pytest.mark.parametrize("said, reading, top_k, handed_off", [
    # anger in words, the model's next reading a complaint, and no value: a complaint, not a lost card's form
    ("재발급 카드가 아직도 안 왔어요 이게 말이 돼요 진짜 너무하네요", ("lost_card", 0.64), "complaint", True),
    ("카드값이 왜 이렇게 많이 나왔나 해서 이용 내역 좀 보려고요", ("transaction_history", 0.68), "bill_amount", False),
    ("오늘 또 결제 문자가 왔어요 이게 말이 됩니까", ("lost_card", 0.45), "out_of_scope", True),  # unsure of any request
    # anger said twice, at places apart: a complaint however sure the model of a form
    ("지난주에 주소 바꿔 달라고 했는데 청구서가 또 옛날 집으로 갔잖아요 도대체 뭐 하는 거예요 진짜 화가 나네",
     ("address_change", 0.81), "out_of_scope", True),
    ("지난주에 주소 바꿔 달라고 했는데 청구서가 또 옛날 집으로 갔잖아요 이게 말이 돼요", ("address_change", 0.81),
     "out_of_scope", False),  # once (two of the pack's words, one place): the form
    ("지난달에도 선결제했는데 반영이 안 돼서 연체 처리됐잖아요 도대체 일을 어떻게 하는 거예요 정말 화나네요",
     ("overdue_payment", 0.9), "out_of_scope", True),  # 화나네요, without the 가 of 화가 나
])
def test_anger_in_words_with_no_sure_request_is_a_complaint(said, reading, top_k, handed_off, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("a", Reading(said, *reading, top_k=((reading[0], reading[1]), (top_k, 0.2))))
    assert (turn.model == "handoff" and turn.handoff["reason"] == "complaint") == handed_off


def test_after_an_answer_a_value_only_one_form_takes_is_that_forms_request(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("v", Reading("십오 일에 빠지는 카드값 얼마예요", "bill_amount"))
    said = "아 그거 빠지는 통장을 바꾸고 싶은데요 카카오뱅크로요"  # refers back, but gives a bank
    bank = tuple(EntityExtractor.load(pack.gazetteer).extract(said))
    assert dialog.respond("v", Reading(said, "out_of_scope", 0.95, entities=bank)).state == \
        "offered:payment_account_change"


def test_a_banmal_hang_up_after_an_answer_ends_the_call(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("b", Reading("카드값 얼마 나왔어", "bill_amount"))
    assert dialog.respond("b", Reading("어 알았어 끊어", "affirm", 0.7)).end


def found(pack, said: str) -> tuple:
    return tuple(EntityExtractor.load(pack.gazetteer).extract(said))


def test_the_second_of_two_requests_in_one_line_is_taken_up_once_the_first_is_done(pack):
    """결제일 바꾸고 한도도 올려: the payment date first, then, in place of "더 도와드릴 일이 있으신가요?", the limit."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "결제일을 이십오 일로 바꾸고 한도도 좀 올리고 싶어요"
    first = dialog.respond("t", Reading(said, "payment_date_change", 0.89, entities=found(pack, said),
                                        also=Other("limit_increase", 0.99, "한도도 좀 올리고 싶어요", said.index("한도도"),
                                                   True, False)))
    assert first.state == "confirming" and first.slots == {"day": "25"}
    done = dialog.respond("t", Reading("네", "affirm", 0.99))
    assert "이어서 한도 상향 진행하겠습니다." in done.reply and "변경되었습니다" in done.reply
    assert done.state == "asking:card_type" and dialog.store.get("t").form == "limit_increase"
    assert dialog.store.get("t").later is None  # taken up once


def test_a_line_that_opens_with_the_other_request_is_done_in_the_order_said(pack):
    """Read as the payment date as a whole, the line asks for the account first: the account form starts with the
    bank said in its part, and the date follows with the day said in the other."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "결제 계좌를 신한은행으로 바꾸고 결제일도 이십오 일로 바꿔 주세요"
    turn = dialog.respond("o", Reading(said, "payment_date_change", 0.93, entities=found(pack, said),
                                       also=Other("payment_account_change", 1.0, "결제 계좌를 신한은행으로 바꾸고", 0,
                                                  True, True)))
    assert turn.state == "asking:account" and turn.slots == {"bank": "신한은행"}
    number = "일일공 사오육 칠팔구공일이"
    assert dialog.respond("o", Reading(number, "out_of_scope", 0.5, entities=found(pack, number))).state == \
        "confirming"
    turn = dialog.respond("o", Reading("네 맞아요", "affirm", 0.99))
    assert "이어서 결제일 변경 진행하겠습니다." in turn.reply
    assert turn.state == "confirming" and turn.slots == {"day": "25"}


def test_a_second_request_said_with_an_unsure_first_one_follows_it(pack):
    """결제일을 십사 일로 좀 옮기고예 한도도 쫌 올리고 싶어서요, the whole read as the date at 0.59: the other request's
    words make the whole unsure, not the first's, which is acted on (its read-back asks anyway), then the limit.
    Said alone, the same unsure reading is offered."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "결제일을 십사 일로 좀 옮기고예 한도도 쫌 올리고 싶어서요"
    part = "한도도 쫌 올리고 싶어서요"
    alone = dialog.respond("a", Reading(said.removesuffix(part), "payment_date_change", 0.59,
                                        entities=found(pack, said)))
    assert alone.state == "offered:payment_date_change"
    turn = dialog.respond("f", Reading(said, "payment_date_change", 0.59, entities=found(pack, said),
                                       also=Other("limit_increase", 0.9, part, said.index(part), True, False)))
    assert turn.state == "confirming"
    turn = dialog.respond("f", Reading("예", "affirm", 0.99))
    assert "이어서 한도 상향 진행하겠습니다." in turn.reply and turn.state == "asking:card_type"


@pytest.mark.parametrize("said, reading, state", [
    ("해지해", ("card_cancel", 0.97), "completed"),  # 어 해지해, the filler dropped: the form's own word said back
    ("리볼빙 해지해", ("revolving_cancel", 0.99), "completed"),
    ("체크카드 해지해", ("card_cancel", 0.97), "confirming"),  # a value: another card than the one read back
    ("해지는 언제 돼요 그럼 이월된 건 어떻게 돼요", ("revolving_cancel", 0.9), "confirming"),  # a question about it
])
def test_the_forms_own_word_said_back_to_the_read_back_is_a_yes(said, reading, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    opener = "가족카드 리볼빙 해지해 줘"
    assert dialog.respond("h", Reading(opener, "revolving_cancel", 0.99, entities=found(pack, opener))).state == \
        "confirming"
    turn = dialog.respond("h", Reading(said, *reading, entities=found(pack, said)))
    assert turn.state == state and dialog.store.get("h").slots.get("card_type") in ("가족카드", "체크카드")


def test_a_value_said_in_the_part_whose_request_takes_none_goes_to_the_other(pack):
    """체크카드로 모르는 결제가 된 것 같은데 내역 좀 확인해 주시고 그거 승인 취소 요청해 주세요: the card, said in the
    history question's part, is the approval cancel's; a card said in both parts is each one's."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "어제 체크카드로 모르는 결제가 된 것 같은데요 최근 이용 내역 좀 확인해 주시고 그거 승인 취소 요청해 주세요"
    part = "그거 승인 취소 요청해 주세요"
    turn = dialog.respond("v", Reading(said, "transaction_history", 0.99, entities=found(pack, said),
                                       also=Other("approval_cancel", 0.95, part, said.index(part), True, False)))
    assert turn.state == "confirming" and turn.slots == {"card_type": "체크카드"}
    said = "교통카드로 잘못 결제된 게 있어서 승인 취소해 주시고요 그 교통카드는 이제 안 쓸 거라 해지도 해 주세요"
    part = "그 교통카드는 이제 안 쓸 거라 해지도 해 주세요"
    turn = dialog.respond("w", Reading(said, "approval_cancel", 0.97, entities=found(pack, said),
                                       also=Other("card_cancel", 0.9, part, said.index(part), True, False)))
    assert turn.state == "confirming" and turn.slots == {"card_type": "교통카드"}
    assert dialog.respond("w", Reading("네", "affirm", 0.99)).slots == {"card_type": "교통카드"}  # the cancel's own


def test_a_part_names_a_form_by_its_whole_title_where_no_other_title_is_said_whole(pack):
    """카드 해지's words are each another form's too (카드 분실 신고, 리볼빙 해지): said together, they name it."""
    from dialog import later

    domain = Domain.load(pack.domain)
    assert later.names(domain, "card_cancel", "체크카드 해지하려고")
    assert not later.names(domain, "card_cancel", "신용카드 리볼빙 해지해 주세요")  # the revolving's title too
    assert later.names(domain, "revolving_cancel", "신용카드 리볼빙 해지해 주세요")
    assert not later.names(domain, "card_cancel", "해지하려고요")
    dialog = Dialog(domain, MemoryStore())
    said, part = "어 나 포인트 어떻게 되는지 좀 알려 주고 체크카드 해지하려고", "체크카드 해지하려고"
    dialog.respond("n", Reading(said, "points", 0.98, entities=found(pack, said),
                                also=Other("card_cancel", 1.0, part, said.index(part), False, False)))
    assert dialog.store.get("n").later["intent"] == "card_cancel"  # kept, though the line marks no second request
    turn = dialog.respond("n", Reading("응 해 줘", "affirm", 0.99))  # the first of the two points answers
    assert turn.reply.index("포인트는") < turn.reply.index("이어서 카드 해지") and turn.slots == {"card_type": "체크카드"}


def test_a_value_for_the_kept_request_given_in_place_of_a_choice_goes_on_to_it(pack):
    """카드값이 연체가 돼 버렸는데요 그거 좀 알려주시고 결제일도 바꾸고 싶어요, asked which overdue answer was meant:
    십오 일로 해 주세요 is the date change's, with its day."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "제가 이번 달에 카드값이 연체가 돼 버렸는데요 그거 좀 알려주시고 결제일도 좀 바꾸고 싶어서요"
    part = "결제일도 좀 바꾸고 싶어서요"
    turn = dialog.respond("d", Reading(said, "overdue_payment", 0.75,
                                       also=Other("payment_date_change", 0.99, part, said.index(part), True, False)))
    assert turn.state == "did_you_mean"
    said = "음 십오 일로 해 주세요"
    turn = dialog.respond("d", Reading(said, "payment_date_change", 0.57, entities=found(pack, said)))
    assert turn.state == "confirming" and turn.slots == {"day": "15"}


@pytest.mark.parametrize("instead, state", [(("revolving_cancel", 0.8), "confirming"),
                                            (("revolving_cancel", 0.7), "did_you_mean")])
def test_a_fresh_turn_that_turns_away_from_one_thing_asks_for_what_follows(instead, state, pack):
    """할부 해지 아 할부가 아니고 그 일부만 결제되고 이월되는 거 … 그만하고 싶어요, read as instalments at 0.58: the
    revolving cancel, where the words after 아니고 read so surely."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "할부 해지 아 할부가 아니고 그 일부만 결제되고 이월되는 거 있잖아요 그거 그만하고 싶어요 가족카드에 걸려 있어요"
    turn = dialog.respond("i", Reading(said, "installment", 0.58, entities=found(pack, said), instead=instead))
    assert turn.state == state


def test_a_kept_request_for_the_form_just_completed_is_not_begun_again(pack):
    """카드 분실 그리고 계좌 변경은 전화로 해 주세요, the lost card offered (a fragment): a bank given to the offer leads
    to the account change, which done, is not begun a second time."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said, part = "카드 분실 그리고 계좌 변경은 그냥 전화로 해 주세요", "계좌 변경은 그냥 전화로 해 주세요"
    turn = dialog.respond("k", Reading(said, "lost_card", 0.9, "fragment",
                                       also=Other("payment_account_change", 0.95, part, said.index(part), True, False)))
    assert turn.state == "offered:lost_card" and dialog.store.get("k").later["intent"] == "payment_account_change"
    assert dialog.respond("k", Reading("농협이요", "out_of_scope", 0.78, entities=found(pack, "농협이요"))).state == \
        "offered:payment_account_change"
    number = "삼공일 일이삼사 오육칠팔 구일"
    turn = dialog.respond("k", Reading(number, "out_of_scope", 0.98, entities=found(pack, number)))
    assert turn.state == "confirming"
    turn = dialog.respond("k", Reading("네 맞습니다", "affirm", 0.99))
    assert turn.state == "completed" and "이어서" not in turn.reply and dialog.store.get("k").later is None


def test_an_faq_question_done_first_is_answered_from_its_own_words(pack):
    """포인트 좀 알려 주시고요 결제일도 바꾸려고 하는데요: the points balance (the whole line's words make the use of
    points as likely, and the bot would ask which), then the date."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said, part = "포인트 좀 알려 주시고요 결제일도 바꾸려고 하는데요", "결제일도 바꾸려고 하는데요"
    turn = dialog.respond("p", Reading(said, "points", 0.98,
                                       also=Other("payment_date_change", 0.97, part, said.index(part), True, False)))
    assert turn.state == "asking:day" and turn.reply.index("포인트는") < turn.reply.index("이어서 결제일 변경")
    whole = dialog.respond("q", Reading(said, "points", 0.98))  # the same line read as one request
    assert whole.state == "did_you_mean"


def test_each_request_of_a_line_gets_the_values_said_with_it(pack):
    """체크카드 잃어버려서 분실 신고하고 안 쓰는 신용카드도 하나 해지해 주세요: the check card is the lost one (the last
    card said would have won), the credit card the one to cancel."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "체크카드 잃어버려서 분실 신고하고 안 쓰는 신용카드도 하나 해지해 주세요"
    part = "안 쓰는 신용카드도 하나 해지해 주세요"
    assert dialog.respond("e", Reading(said, "lost_card", 0.99, entities=found(pack, said),
                                       also=Other("card_cancel", 0.9, part, said.index(part), True, False))).slots == \
        {"card_type": "체크카드"}
    phone = "공일공 삼삼삼삼 사사사사"
    dialog.respond("e", Reading(phone, "out_of_scope", 0.9, entities=found(pack, phone)))
    turn = dialog.respond("e", Reading("네", "affirm", 0.99))
    assert "이어서 카드 해지 진행하겠습니다." in turn.reply
    assert turn.state == "confirming" and turn.slots == {"card_type": "신용카드"}


def test_a_question_asked_with_a_request_is_answered_when_the_request_is_done(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("q", Reading("선결제 좀 하고 한도가 얼마 남았는지도 알고 싶어요", "limit_inquiry", 0.99,
                                       also=Other("prepayment", 1.0, "선결제 좀 하고", 0, True, True)))
    assert turn.state == "asking:amount"
    dialog.respond("q", Reading("오십만 원이요", "out_of_scope", 0.5, entities=found(pack, "오십만 원이요")))
    turn = dialog.respond("q", Reading("네", "affirm", 0.99))
    assert turn.state == "answered:limit_inquiry" and "선결제가 접수되었습니다" in turn.reply


def test_a_person_asked_for_after_a_question_is_called_once_it_is_answered(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said = "상담 시간이 몇 시까지인지 알려 주시고 지금 되면 상담원 좀 연결해 주세요"
    part = "지금 되면 상담원 좀 연결해 주세요"
    turn = dialog.respond("h", Reading(said, "opening_hours", 0.99,
                                       also=Other("agent", 0.99, part, said.index(part), False, False)))
    assert turn.handoff is not None and turn.reply.startswith("상담원 연결은 평일")


@pytest.mark.parametrize("said, whole, also", [
    # the other part names nothing of its reading, and the line does not say it is another request
    ("연휴 끝나고 카드값을 삼 일 늦게 내면 신용 점수 떨어지나요", ("overdue_payment", 0.99),
     Other("opening_hours", 0.93, "연휴 끝나고", 0, False, True)),
    # the other part names its request, but the model is not clear about it
    ("선결제 좀 하고 한도가 얼마 남았는지 알고 싶어요", ("limit_inquiry", 0.99), Other("prepayment", 0.7, "선결제 좀 하고", 0, False, True)),
    # said first, before 그리고, and naming nothing: a taking in, not a request, which the NLU does not mark
    ("앱에서 보면 되는구나 그리고 포인트도 얼마인지 알려 줘요", ("points", 0.99),
     Other("app_help", 0.9, "앱에서 보면 되는구나", 0, False, True)),
    # marked, but said first and ending in a word that takes in what was heard (알겠어요)
    ("지점 가야 되는구나 알겠어요 그리고 연회비 면제 안 되나요", ("fees", 0.99),
     Other("password_change", 0.9, "지점 가야 되는구나 알겠어요", 0, True, True)),
])
def test_a_part_that_is_no_sure_request_of_its_own_is_not_taken_up(said, whole, also, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    turn = dialog.respond("n", Reading(said, *whole, also=also))
    alone = dialog.respond("m", Reading(said, *whole))  # the same line read with no other request
    assert turn.reply == alone.reply and turn.state.startswith("answered:") and dialog.store.get("n").later is None


def test_right_after_a_form_is_done_a_yes_with_its_request_again_is_no_new_request(pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    card = tuple(EntityExtractor.load(pack.gazetteer).extract("체크카드"))
    assert dialog.respond("y", Reading("체크카드 해지해 주세요", "card_cancel", entities=card)).state == "confirming"
    assert dialog.respond("y", Reading("네 해지해 주세요", "card_cancel", 0.95)).state == "completed"
    turn = dialog.respond("y", Reading("네 해지해 주세요", "card_cancel", 0.99))  # said late: no second cancel
    assert turn.state == "completed" and turn.reply == Domain.load(pack.domain).responses["anything_else"]
    turn = dialog.respond("y", Reading("예 해 줘요", "affirm", 0.76))  # read as a yes: no yes to "what else?" either
    assert turn.state == "completed" and turn.reply == Domain.load(pack.domain).responses["anything_else"]
    assert dialog.respond("y", Reading("해지해 주세요", "card_cancel", 0.99)).state == "asking:card_type"  # no yes


def test_the_nlu_reads_the_other_request_of_a_line_that_joins_two(understander):
    joined = understander.understand("결제일을 이십오 일로 바꾸고 한도도 좀 올려 주세요").also
    assert (joined.intent, joined.text, joined.start, joined.marked) == ("limit_increase", "한도도 좀 올려주세요", 16, True)
    assert not understander.understand("카드 연체된 거 어떻게 내는지 알려 주시고 상담원 좀 연결해 주세요").also.marked
    for said, parts in [("리볼빙 해지하고 나서 이번 달 얼마 나오는지 알려 줘", ("리볼빙 해지하고나서", "이번 달 얼마 나오는지 알려줘")),
                        ("백만 원 선결제하고 결제일도 십 일로 바꿔 주세요", ("백만 원 선결제하고", "결제일도 십 일로 바꿔주세요")),
                        ("오십만 원 선결제하고요 결제 계좌도 바꿀게요", ("오십만 원 선결제하고요", "결제 계좌도 바꿀게요")),
                        ("결제일을 십사 일로 좀 옮기고예 한도도 쫌 올리고 싶어서예", ("결제일을 십사 일로 좀 옮기고예", "한도도 쫌 올리고싶어서예")),
                        ("지점이 토요일에도 문을 여는가 물어보고유 주소도 좀 바꿔야 되는디", ("지점이 토요일에도 문을 여는가 물어보고유", "주소도 좀 바꿔야 되는디")),
                        ("포인트 쓰는 법 알려 주시고요 그다음에 카드 해지해 주세요", ("포인트 쓰는 법 알려주시고요", "카드 해지해주세요")),
                        # a noun joined with 이랑 after a verb, the second marked
                        ("미리 갚는 방법이랑 카드론은 얼마까지 되는지도 알고 싶어요", ("미리 갚는 방법이랑", "카드론은 얼마까지 되는지도 알고싶어요")),
                        # 이랑요: "and" said apart after a clause marks the second request itself
                        ("바우처 남은 거 확인하는 방법이랑요 카드 새로 만드는 법 알려 주세요", ("바우처 남은 거 확인하는 방법이랑요", "카드 새로만드는 법 알려주세요")),
                        # two sentences, the second marked; a join within a sentence comes before a sentence's end
                        ("한도도 올릴 수 있어요 아 그 전에 결제일부터 바꿔 주세요", ("한도도 올릴 수 있어요", "아 그 전에 결제일부터 바꿔주세요")),
                        # -는데요 ends a spoken sentence; 그보다 먼저 asks to be done first
                        ("카드 하나 해지하려고 하는데요 아 그 전에 주소부터 바꿔 주세요", ("카드 하나 해지하려고 하는데요", "아 그 전에 주소부터 바꿔주세요")),
                        ("안녕하세요 결제일을 바꾸고 한도도 올려 주세요", ("안녕하세요 결제일을 바꾸고", "한도도 올려주세요"))]:
        assert (_joined(normalize(said)).before, _joined(normalize(said)).after) == parts, said
    assert _joined("연체하면 이자 얼마나 붙는지 하고 어떻게 내는지 알려주세요").marked  # two questions listed
    assert _joined("바우처 얼마 남았는지 확인하는 방법이랑 학원비를 카드로 내는 방법 좀 알려주세요").marked  # two of a kind
    assert not _joined("카드를 가지고만 있고 잘 쓰지도 않는데 안 쓰는데도 연회비를 내야 돼요").marked  # "not even", "even though"
    once = _joined("쌓인다고 하더라고요 나는 한 번도 안 써봤는데 얼마나 쌓여있는지 알 수 있어요")
    assert once is None or not once.marked  # "not even once"
    assert _joined("카드 비밀번호를 까먹었는데요 그거 바꾸려고 앱에 들어가 보니까 로그인도 안 돼요 어떡해요").marked  # "also"
    assert _joined("이번 달 카드값 얼마예요 그리고 결제일도 좀 바꾸고싶은데").after == "결제일도 좀 바꾸고싶은데"  # copula
    assert _joined("청구서 주소 좀 바꿔주시고요 이메일로도 받을 수 있어요").marked  # 도 after 로
    sooner = understander.understand("결제일 이십 일로 바꿔 줄 수 있어 아 그 전에 이번 달 카드값 얼마 나왔는지부터 좀").also
    assert (sooner.intent, sooner.first) == ("payment_date_change", False)  # said first, asked for second
    assert _joined("카드값 어떻게 내는지 알려주시고요 아 그보다 먼저 가상계좌 번호는 어디서 보는지부터 알려주세요").after_first
    # -는데 then what asks to be done first ends a sentence; 그보다 asks so where what follows says 부터 or 먼저
    for said, before in [("주소도 바꿔야 되는데 아 그것보다 분실 신고부터 먼저 해주세요", "주소도 바꿔야 되는데"),
                         ("결제일도 바꿔야 되는데 그보다 신용카드를 잃어뿟다 그거부터 정지시키도", "결제일도 바꿔야 되는데"),
                         ("신용카드 한도를 올리려고 하는데 그 전에 지금 한도가 얼마인지부터 알려 주세요", "신용카드 한도를 올리려고하는데")]:
        parts = _joined(normalize(said))
        assert parts is not None and (parts.before, parts.after_first) == (before, True), said
    rather = _joined(normalize("한도가 얼마 남았는지 보려고 했는데 아 아니다 그보다 이번 달 카드값이 얼마인지가 궁금해요"))
    assert rather is None or not rather.after_first  # "rather": the caller says instead

    # the first part of a line that marks two: a request of its own, unless it takes in what was said
    assert _joined("좀 미리 갚아놓고 그다음에 한도가 얼마나 남는지 확인하려고요").marked
    assert _joined("앱에서 보면 되는구나 그리고 포인트도 얼마인지 알려줘요").taken
    # after -고, a new topic the second part says something else about
    assert _joined("큰 거 하나는 할부로 돌리고 나머지는 좀 미리 내려고요").marked
    # unsure alone, the second refers back to the first's topic: another question of the whole's intent
    assert understander.understand("포인트 얼마 쌓였는지 보고 그걸로 카드값도 낼 수 있나 알려 줘").also.intent == "points"
    # or, the whole read surely, the second asks (어떻게, 얼마 …) and reads unsurely as another intent alone
    two = understander.understand("카드값을 못 내서요 연체하면 이자 얼마나 붙는지 하고 지금 바로 어떻게 내는지 알려 주세요")
    assert two.intent == two.also.intent == "overdue_payment"
    # not where it asks nothing: a reason (다음 주에 미국 출장을 가서요)
    reason = understander.understand("네 수고 많으십니다 저희 회사 법인카드 관련해서 두 가지 문의드릴게요 먼저 해외 결제 "
                                     "수수료가 얼마나 되나요 다음 주에 미국 출장을 가서요")
    assert reason.also is None or reason.also.intent != reason.intent
    for said in ("카드를 다 써가지고 한도가 꽉 찼거든요",  # 가지고: because
                 "한도 좀 올리고 싶어요",  # one predicate
                 "분실 신고 말고 승인 취소 할게요",  # 말고: instead
                 "그건 이미 냈고요 결제일을 좀 바꾸려고 해요",  # what happened, then the request
                 "네 그리고 결제일도 바꿀 수 있나요",  # no request before 그리고
                 "신용카드 비밀번호랑 체크카드 비밀번호를 둘 다 까먹었어요",  # no verb before 이랑: one request about two things
                 "신용카드 비밀번호랑요 체크카드 비밀번호를 둘 다 까먹었어요",  # 이랑요, but no verb before it
                 "확인하는 방법이랑 카드 새로 만드는 법 알려 주세요",  # 이랑 after a clause, the second not marked
                 "카드를 잃어버렸어요 정지해 주세요",  # two sentences, the second not marked as another request
                 "넣으면 바로 반영된다고요 그럼 막힌 카드도 입금하면 바로 풀려요",  # the first takes in what was heard
                 "오늘 돈 넣으면 바로 다시 쓸 수 있어요 일요일이라 은행도 안 하고"):  # the second is a reason
        assert understander.understand(said).also is None, said
    # 아직도 is "still", not "also": the part after it is no request said as another (the model may read its
    # cashback as the auto-instalment's, unsurely, which the dialog does not act on)
    still = understander.understand("이벤트 응모하고 캐시백이 아직도 안 들어왔어요").also
    assert still is None or not still.marked and still.confidence < 0.6


def test_two_things_to_do_listed_as_nouns_are_two_requests(understander):
    """A랑 B 둘 다 V: the first is read with the verb the two share, so a thing named (폰) is no request of its own."""
    listed = _joined("그럼 한도 상향이랑 결제일 변경 둘 다 해주세요")
    assert (listed.before, listed.after, listed.marked) == ("그럼 한도 상향 해주세요", "결제일 변경 둘 다 해주세요", True)
    both = understander.understand("결제일이랑 결제 계좌를 둘 다 바꾸려고요")
    assert {both.intent, both.also.intent} == {"payment_date_change", "payment_account_change"}
    assert understander.understand("폰이랑 지갑 둘 다 잃어버렸어요").also is None  # 폰 is no app question here
    assert _joined("카드랑 통장을 잃어버렸어요") is None  # no "both": one request about two things
    ending = _joined("결제일 변경이랑 바우처 남은 거 확인하는 방법 두 가지요")  # "both" ends the line: no verb to share
    assert (ending.before, ending.listed) == ("결제일 변경", True)
    # a clause made a noun (올리는 거), then another: two things to do, each with its clause
    assert _joined("한도 올리는 거랑 무이자 할부 되는 데가 어딘지 물어보려고요").before == "한도 올리는 거랑"


@pytest.mark.parametrize("said, intent, state", [
    ("편의점에서 두 번 찍힌 게 있어서요 그중에 하나 취소해주세요", "approval_cancel", "asking:card_type"),  # the request again
    ("아 그냥 안 할게요", "approval_cancel", "cancelled"),  # a stop word that says no word of the form's title
    ("그중에 하나 취소해주세요", "out_of_scope", "cancelled"),  # not surely the form's own request
    ("아 네 체크카드로 한 거니까 그거 취소해주세요", "affirm", "confirming"),  # a value for the form, and the request
])
def test_a_stop_word_that_says_the_forms_own_request_again_does_not_cancel_it(said, intent, state, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("r", Reading("결제 승인 취소 요청하려고요", "approval_cancel", 0.99)).state == "asking:card_type"
    assert dialog.respond("r", Reading(said, intent, 0.97, entities=found(pack, said))).state == state


def test_two_questions_of_one_faq_intent_in_one_line_get_both_answers_once_each(pack):
    """연체되면 신용 점수 떨어져요 그리고 밀린 거 오늘 낼 수 있어요: two entries of one intent, each answered from its own
    words; the same question said twice is answered once."""
    domain = Domain.load(pack.domain)
    interest, payment = (next(e.answer for e in domain.faq if e.id == entry)
                         for entry in ("overdue_interest", "overdue_payment"))
    dialog = Dialog(domain, MemoryStore())
    said, part = "연체되면 신용 점수 바로 떨어지는 거예요 그리고 밀린 거 오늘 바로 낼 수 있어요", "밀린 거 오늘 바로 낼 수 있어요"
    turn = dialog.respond("w", Reading(said, "overdue_payment", 0.99,
                                       also=Other("overdue_payment", 0.9, part, said.index(part), True, False)))
    assert turn.reply.index(interest) < turn.reply.index(payment) and turn.state == "answered:overdue_payment"
    said, part = "연체 이자 얼마나 붙어요 그리고 연체 이자율도 알려 주세요", "연체 이자율도 알려 주세요"
    turn = dialog.respond("v", Reading(said, "overdue_payment", 0.99,
                                       also=Other("overdue_payment", 0.9, part, said.index(part), True, False)))
    assert turn.reply.count(interest) == 1 and turn.state == "answered:overdue_interest"
    # the first part alone could be either events answer, the whole line says which: one question, answered
    said, part = "지난달에 이벤트 응모하고 조건도 채웠는데 캐시백이 아직 안 들어왔어요", "조건도 채웠는데 캐시백이 아직 안 들어왔어요"
    turn = dialog.respond("u", Reading(said, "events", 1.0,
                                       also=Other("events", 0.99, part, said.index(part), True, False)))
    assert turn.state == "answered:events_benefit"


def test_a_request_the_line_asks_to_do_first_is_done_first(pack):
    """결제일 이십 일로 바꿔 줄 수 있어 아 그 전에 카드값 얼마 나왔는지부터 좀: the bill first, then the date, with
    the day said in its part."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said, part = "결제일 이십 일로 바꿔 줄 수 있어 아 그 전에 이번 달 카드값 얼마 나왔는지부터 좀", "결제일 이십 일로 바꿔 줄 수 있어"
    turn = dialog.respond("s", Reading(said, "bill_amount", 0.92, entities=found(pack, said),
                                       also=Other("payment_date_change", 0.99, part, 0, True, False)))
    assert turn.reply.index("결제하실 금액은") < turn.reply.index("이어서 결제일 변경 진행하겠습니다.")
    assert turn.state == "confirming" and turn.slots == {"day": "20"}


def test_a_request_only_weighed_is_offered_once_the_first_is_done(pack):
    """선결제를 좀 할까 하는데요 그 전에 …: the bill, then "선결제를 도와드릴까요?", not the prepayment begun."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said, part = "선결제를 좀 할까 하는데요 그 전에 이번 달에 청구될 금액이 얼마인지부터 알고 싶어서요", "선결제를 좀 할까 하는데요"
    turn = dialog.respond("w", Reading(said, "bill_amount", 0.99, also=Other("prepayment", 0.95, part, 0, True, False)))
    assert "결제하실 금액은" in turn.reply and turn.state == "offered:prepayment"
    assert dialog.respond("w", Reading("네", "affirm", 0.99)).state == "asking:amount"


def test_a_later_request_that_points_back_to_the_card_takes_it(pack):
    """신용카드 리볼빙 끊고 그 카드도 아예 해지해 주세요: the card to cancel is the credit card."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    said, part = "신용카드 리볼빙 끊고 그 카드도 아예 해지해 주세요", "신용카드 리볼빙 끊고"
    turn = dialog.respond("p", Reading(said, "card_cancel", 0.9, entities=found(pack, said),
                                       also=Other("revolving_cancel", 0.99, part, 0, True, True)))
    assert turn.state == "confirming" and dialog.store.get("p").form == "revolving_cancel"
    turn = dialog.respond("p", Reading("네", "affirm", 0.99))
    assert "이어서 카드 해지 진행하겠습니다." in turn.reply
    assert turn.state == "confirming" and turn.slots == {"card_type": "신용카드"}


@pytest.mark.parametrize("said, state, day", [
    ("어 이십 일로 바꿔 줘", "completed", "20"),  # the request again with the value read back: a yes
    ("결제일 바꿔 줘", "completed", "20"),  # the request again, no value
    ("어 이십오 일로 바꿔 줘", "confirming", "25"),  # another value: read back again
    ("아니 이십 일로 바꿔 달라고", "confirming", "20"),  # a no: read back again
    ("결제일 바꾸면 이번 달부터 바로 적용돼요", "confirming", "20"),  # a question about it, not the request again
])
def test_the_request_said_again_with_the_values_read_back_is_a_yes(said, state, day, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("y", Reading("결제일 이십 일로 바꿔 줘", "payment_date_change", 0.99,
                                       entities=found(pack, "이십 일로"))).state == "confirming"
    turn = dialog.respond("y", Reading(said, "payment_date_change", 0.95, entities=found(pack, said)))
    assert (turn.state, dialog.store.get("y").slots["day"]) == (state, int(day))


def test_a_value_read_unsurely_as_a_request_for_a_person_hands_off_no_one(pack):
    dialog = answered(pack, "이번 달 카드값 얼마 나왔어요", "bill_amount", "bill_amount")
    turn = dialog.respond("a", Reading("이백만 원이요", "agent", 0.29, entities=found(pack, "이백만 원이요")))
    assert turn.handoff is None and turn.model == "fallback"
    turn = dialog.respond("b", Reading("그냥 직접 얘기할래요", "agent", 0.45))  # no value: the model's reading stands
    assert turn.handoff is not None


@pytest.mark.parametrize("whole, state", [(("out_of_scope", 0.51), "confirming"), (("prepayment", 0.51), "confirming"),
                                          (("card_loan", 0.94), "answered:loan_repayment")])
def test_what_the_caller_goes_on_to_ask_after_taking_in_the_answer_is_read_where_the_whole_is_unsure(whole, state,
                                                                                                    pack):
    """생각보다 많이 나왔네요 그럼 그중에 백이십만 원은 지금 미리 내 버릴게요, after the bill: the prepayment the words
    after 그럼 ask for, with its amount, where the model is unsure of the whole; read surely as a whole (the card
    loan's repayment at 0.94), those words are a question about it."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("t", Reading("이번 달 카드값이 얼마 나왔는지 좀 알려 주세요", "bill_amount", 0.99))
    said = "생각보다 많이 나왔네요 그럼 그중에 백이십만 원은 지금 미리 내 버릴게요"
    turn = dialog.respond("t", Reading(said, *whole, entities=found(pack, said), goes_on=("prepayment", 0.97)))
    assert turn.state == state
    if state == "confirming":
        assert turn.slots == {"amount": "1,200,000"}


def test_the_nlu_reads_what_the_caller_goes_on_to_ask_after_taking_in_what_was_said(understander):
    went_on = understander.understand("생각보다 많이 나왔네요 그럼 그중에 백이십만 원은 지금 미리 내 버릴게요")
    assert went_on.goes_on[0] == "prepayment" and went_on.instead is None
    assert understander.understand("그럼 선결제 할래").goes_on is None  # "then" opens the turn: nothing taken in
    assert understander.understand("한도 얼마예요 그럼 올려 주세요").goes_on is None  # a question, not taken in


def test_a_yes_beside_another_sure_request_takes_no_offered_answer(pack):
    """네 해지해 주세요 (the card cancel at 0.99), asked which of two answers was meant: the card cancel, not the first
    answer offered; a bare yes still takes the first."""
    domain = Domain.load(pack.domain)
    for said, intent in (("네 해지해 주세요", "card_cancel"), ("네", "affirm")):
        dialog = Dialog(domain, MemoryStore())
        dialog.respond("y", Reading("바우처 남은 돈 어떻게 돼요", "government_voucher", 0.9))
        asked = dialog.store.get("y")
        assert asked.state == "did_you_mean"
        state = "asking:card_type" if intent == "card_cancel" else f"answered:{asked.pending['choices'][0]}"
        assert dialog.respond("y", Reading(said, intent, 0.99)).state == state


def test_of_two_close_answers_the_one_not_just_given_is_answered(pack):
    """약정 이자에 삼 프로 더 붙는 거면 꽤 크네요 그럼 지금 바로 밀린 거 내려면 어떻게 해야 돼요, after the overdue interest:
    the interest and the payment are close, and the caller has just heard the interest: the payment. Asked afresh,
    the same line asks which was meant."""
    said = "약정 이자에 삼 프로 더 붙는 거면 꽤 크네요 그럼 지금 바로 밀린 거 내려면 어떻게 해야 돼요"
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("j", Reading(said, "overdue_payment", 0.92)).state == "did_you_mean"
    assert dialog.respond("k", Reading("연체 이자율이 어떻게 되나요", "overdue_payment", 0.99)).state == (
        "answered:overdue_interest")
    assert dialog.respond("k", Reading(said, "overdue_payment", 0.92)).state == "answered:overdue_payment"


@pytest.mark.parametrize("said, reading, kept", [
    # a yes to the read-back, then another request after 그리고: done once the form is
    ("네 해지해 주세요 아 그리고 포인트는 지금 얼마나 쌓여 있는지 알 수 있어요", ("points", 0.99), "answered:points_balance"),
    ("네 해지해 주세요 아 그리고 포인트는 지금 얼마나 쌓여 있는지 알 수 있어요", ("points", 0.7), None),  # unsure
    ("네 해지해 주세요 아 근데 포인트는 지금 얼마나 쌓여 있는지 알 수 있어요", ("points", 0.99), "answered:points_balance"),
    ("네 해지해 주세요 포인트는 지금 얼마나 쌓여 있는지 알 수 있어요", ("points", 0.99), None),  # no "and"
])
def test_another_request_said_with_the_forms_answer_is_done_after_it(said, reading, kept, pack):
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    opener = "안 쓰는 체크카드 하나 해지하려고요"
    assert dialog.respond("a", Reading(opener, "card_cancel", 0.99, entities=found(pack, opener))).state == \
        "confirming"
    turn = dialog.respond("a", Reading(said, *reading))
    assert "해지가 완료되었습니다" in turn.reply
    assert turn.state == (kept or "completed")


@pytest.mark.parametrize("said, first", [
    ("신용카드요 아 근데 그 전에 카드값 연체되면 이자가 몇 프로 붙는지도 좀 알려 주세요", True),
    ("신용카드요 그리고 먼저 연체되면 이자가 몇 프로 붙는지 알려 주세요", True),
    ("신용카드요 아 근데 카드값 연체되면 이자가 몇 프로 붙는지도 좀 알려 주세요", False),  # after the form, as said
])
def test_a_question_said_with_the_forms_answer_before_that_is_answered_first(said, first, pack):
    """신용카드요 아 근데 그 전에 … 이자가 몇 프로 붙는지도 좀 알려 주세요, asked which card: the card is the form's, the
    question is answered now, and the form goes on with its read-back; said with no 그 전에, it waits for the form."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    assert dialog.respond("c", Reading("리볼빙 해지하려고 전화했어요", "revolving_cancel", 0.99)).state == "asking:card_type"
    turn = dialog.respond("c", Reading(said, "overdue_payment", 0.98, entities=found(pack, said)))
    if first:
        assert turn.state == "answered:overdue_interest"
        assert "연체 이자율" in turn.reply and turn.reply.endswith("해지를 진행할까요?")
        assert "리볼빙 해지 계속 진행하겠습니다" in turn.reply
        turn = dialog.respond("c", Reading("네 그럼 리볼빙 해지 진행해 주세요", "revolving_cancel", 0.99))
        assert "해지가 완료되었습니다" in turn.reply and turn.state == "completed"
    else:
        assert turn.state == "confirming" and "연체 이자율" not in turn.reply
        turn = dialog.respond("c", Reading("네 진행해 주세요", "affirm", 0.99))
        assert "해지가 완료되었습니다" in turn.reply and turn.state == "answered:overdue_interest"


def test_another_request_said_with_a_slot_value_follows_the_form(pack):
    """국민은행이요 아 그리고 바꾸는 김에 결제일도 이십 일로 바꿔 주세요, asked for the bank: the account change goes on,
    and once it is done the date change begins, with its day."""
    dialog = Dialog(Domain.load(pack.domain), MemoryStore())
    dialog.respond("b", Reading("카드값 빠져나가는 통장을 바꾸려고 하는데요", "payment_account_change", 0.99))
    said = "국민은행이요 아 그리고 바꾸는 김에 결제일도 이십 일로 바꿔 주세요"
    assert dialog.respond("b", Reading(said, "payment_date_change", 0.91, entities=found(pack, said))).state == \
        "asking:account"
    number = "공 공 육 이 공 일 삼 사 오 육 칠 팔 구 공"
    assert dialog.respond("b", Reading(number, "out_of_scope", 0.98, entities=found(pack, number))).state == \
        "confirming"
    turn = dialog.respond("b", Reading("네 맞아요", "affirm", 0.99))
    assert "결제 계좌 변경이 접수되었습니다" in turn.reply and turn.state == "confirming"
    assert turn.slots == {"day": "20"}
