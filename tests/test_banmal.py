"""Polite -> banmal on real Korean sentences (SmileStyle's human-written pairs)."""

import csv
import re

import pytest

from data_tools.augment.banmal import (
    sentence_type, to_banmal, to_banmal_many, to_banmal_variants, to_banmal_variants_many,
)
from data_tools.evaluation.metrics import chrf, normalize

from .conftest import SHARED

CONJOINING_JAMO = re.compile("[\u1100-\u11ff]")


@pytest.fixture(scope="module")
def smilestyle():
    with open(SHARED / "smilestyle" / "smilestyle_dev.tsv", encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t")
        pairs = [(r["formal"].strip(), r["informal"].strip()) for r in rows
                 if (r.get("formal") or "").strip() and (r.get("informal") or "").strip()]
    converted = to_banmal_many([f for f, _ in pairs])
    return pairs, converted


@pytest.mark.parametrize("polite, plain", [
    ("안녕하세요. 저는 고양이 6마리 키워요.", "안녕. 나는 고양이 6마리 키워."),  # 세요 greeting, 저는, 어요
    ("제가 워낙 고양이를 좋아해서 크게 힘들진 않아요.", "내가 워낙 고양이를 좋아해서 크게 힘들진 않아."),
    ("여섯 살입니다. 갈색 고양이에요.", "여섯 살이야. 갈색 고양이야."),  # 입니다/이에요 after the copula
    ("키우는거 안 힘드세요?", "키우는거 안 힘들어?"),  # honorific 시 inside 세요
    ("저희 일곱은 다같이 한 가족입니다.", "우리 일곱은 다같이 한 가족이야."),
    ("카드 분실 신고 해 주세요.", "카드 분실 신고 해 줘."),  # request stays a request
    ("잔액을 여쭤봐도 될까요?", "잔액을 물어봐도 될까?"),  # 여쭙다 -> 묻다 (irregular 물어)
    ("제가 확인해 드릴게요.", "내가 확인해 줄게."),  # 드리다 -> 주다
    ("잔액 조회 부탁드려요.", "잔액 조회 부탁해."),  # after a noun 드리다 is a humble 하다: not 부탁줘
    ("다음에 다시 연락드릴게요.", "다음에 다시 연락할게."),
    ("지금 어디 계세요?", "지금 어디 있어?"),  # 계시다 -> 있다
    ("선생님께서 말씀하셨어요.", "선생님이 말했어."),  # 께서, 말씀, 시
    ("그럼 고양이들끼리 안 싸우나요?", "그럼 고양이들끼리 안 싸워?"),
    ("계절이 참 빨리 바뀌지 않나요.", "계절이 참 빨리 바뀌지 않냐."),  # a question without ? keeps a question ending
    ("네, 맞아요. 감사합니다.", "응, 맞아. 고마워."),
    ("장식을 하던게 엊그제 같아요.", "장식을 하던게 엊그제 같아."),  # untouched words keep the writer's contraction
])
def test_sentences_are_converted(polite, plain):
    assert to_banmal(polite) == plain


def test_plain_text_and_blank_lines_pass_through():
    assert to_banmal_many(["나는 학생이야.", "", "   "]) == ["나는 학생이야.", "", "   "]


def test_corpus_against_human_informal_references(smilestyle):
    pairs, converted = smilestyle
    formal, informal = [f for f, _ in pairs], [i for _, i in pairs]
    exact = sum(normalize(r) == normalize(h) for r, h in zip(informal, converted)) / len(pairs)
    floor = chrf(informal, formal)
    assert len(pairs) > 2500
    assert chrf(informal, converted) >= 89 > floor
    assert exact >= 0.45


def test_no_broken_syllables_and_no_polite_endings_left(smilestyle):
    pairs, converted = smilestyle
    assert not [c for c in converted if CONJOINING_JAMO.search(c)]
    polite_left = [c for c in converted if re.search(r"(습니다|ㅂ니다|세요|어요|아요)[.?!]?$", c)]
    assert len(polite_left) / len(converted) < 0.01


def test_sentence_type_is_kept(smilestyle):
    pairs, converted = smilestyle
    sample = list(zip([f for f, _ in pairs], converted))[::5]
    kept = sum(sentence_type(f) == sentence_type(c) for f, c in sample) / len(sample)
    assert kept >= 0.98


@pytest.mark.parametrize("text, kind", [
    ("잔액이 얼마예요?", "question"), ("결제일을 바꿀 수 있나요", "question"),
    ("분실 신고 해 주세요.", "request"), ("같이 갑시다.", "request"),
    ("카드를 잃어버렸어요.", "statement"), ("도와줬습니다.", "statement"),
    ("결과를 알려 드립니다.", "statement"), ("제가 확인해 드릴게요.", "statement"),  # giving, but stated or promised
])
def test_sentence_type(text, kind):
    assert sentence_type(text) == kind


@pytest.mark.parametrize("polite, variants", [
    ("카드를 잃어버렸습니다", ["카드를 잃어버렸어", "카드를 잃어버렸다"]),  # statement: 해체 and 해라체
    ("학교에 가요", ["학교에 가", "학교에 간다"]),  # a verb's plain statement is ㄴ다/는다
    ("오늘 점심은 김밥이에요", ["오늘 점심은 김밥이야", "오늘 점심은 김밥이다"]),
    # 나요 asks: 냐, 니, and as a request for the answer (있는지: 있 takes 는지 like a verb)
    ("이 열차는 침대차 있나요", ["이 열차는 침대차 있냐", "이 열차는 침대차 있니", "이 열차는 침대차 있는지 알려줘"]),
    ("어디 가세요?", ["어디 가?", "어디 가냐?", "어디 가니?", "어디 가지?", "어디 가는지 알려줘"]),  # a question word: 세요 asks
    ("뭐 먹어요", ["뭐 먹어", "뭐 먹냐", "뭐 먹니", "뭐 먹지", "뭐 먹는지 알려줘"]),  # Kiwi alone would join 먹+니 as 먹으니
    ("이거 얼마예요?", ["이거 얼마야?", "이거 얼마냐?", "이거 얼마니?", "이거 얼마지?", "이거 얼마인지 알려줘"]),  # 인지
    ("서울은 덥나요?", ["서울은 더워?", "서울은 덥냐?", "서울은 덥니?", "서울은 덥지?", "서울은 더운지 알려줘"]),
    ("여기 앉으세요", ["여기 앉아", "여기 앉아라"]),  # without one, 세요 after a verb commands
    ("공문 보내 주십시오", ["공문 보내 줘", "공문 보내 줘라", "공문 보내 줄래"]),  # a favour is also asked: 줄래
    ("물 좀 주세요", ["물 좀 줘", "물 좀 줘라", "물 좀 줄래"]),
    ("결과를 알려 드립니다", ["결과를 알려 준다"]),  # a giving verb stated: 알려 줘 would ask for the results
    ("요즘 많이 바쁘세요", ["요즘 많이 바빠", "요즘 많이 바쁘냐", "요즘 많이 바쁘니"]),  # 세요 on a state asks
    ("날씨 좋더라구요", ["날씨 좋더라구", "날씨 좋더라"]),
    ("거기 가지 마세요", ["거기 가지 마", "거기 가지 마라"]),
    ("같이 갑시다", ["같이 가자"]),  # a suggestion has one plain form
    ("뭔가 늘어났어요", ["뭔가 늘어났어", "뭔가 늘어났다"]),  # 뭔가 is 'something', not 'what'
    ("하지 않아요", ["하지 않아", "하지 않는다"]),  # after 않 the verb before 지 decides
    ("좋지 않아요", ["좋지 않아", "좋지 않다"]),
    ("엄청 피곤해 보이세요", ["엄청 피곤해 보여"]),  # describes the listener: no 보여라
    # the question word sits in another clause, and a full stop ends a statement
    ("몇 년이 지나야 하지만, 할 수 있는 일은 남아있어요.",
     ["몇 년이 지나야 하지만, 할 수 있는 일은 남아있어.", "몇 년이 지나야 하지만, 할 수 있는 일은 남아있다."]),
])
def test_banmal_variants_follow_the_sentence_type(polite, variants):
    assert to_banmal_variants(polite) == variants


def test_variants_start_with_to_banmal(smilestyle):
    pairs, converted = smilestyle
    formal = [f for f, _ in pairs][::10]
    variants = to_banmal_variants_many(formal)
    assert [v[0] for v in variants] == converted[::10]
    assert sum(len(v) > 1 for v in variants) / len(variants) > 0.5
    assert not [v for vs in variants for v in vs if CONJOINING_JAMO.search(v)]
    assert to_banmal_variants_many(["나는 학생이야.", ""]) == [["나는 학생이야."], [""]]
