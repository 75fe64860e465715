import csv

import pytest

from core.lexicon import Lexicon, jamo, spoken

from .conftest import SHARED

THRESHOLD = 84.0


@pytest.fixture(scope="module")
def lexicon(pack) -> Lexicon:
    return Lexicon.load(pack.lexicon)


def corrected(lexicon: Lexicon, text: str) -> str:
    tokens = text.split()
    for edit in reversed(lexicon.corrections(tokens, THRESHOLD)):
        tokens[edit.start:edit.end] = [edit.text]
    return " ".join(tokens)


def test_jamo_spells_syllables_out_and_keeps_other_characters():
    assert jamo("잔액 A") == "ㅈㅏㄴㅐㄱ A"


def test_jamo_makes_liaison_spellings_equal():
    assert jamo("이리절이") == jamo("이리저리")
    assert jamo("잔액을") == jamo("자내글")


def test_latin_letters_are_spoken_as_korean_names_them():
    assert spoken("ATM") == "에이티엠" and spoken("qr코드") == "큐알코드" and spoken("SC제일은행") == "에스씨제일은행"
    assert spoken("잔액 조회") == "잔액 조회"


def test_file_format_skips_comments_blank_lines_and_duplicates(tmp_path):
    path = tmp_path / "terms.txt"
    path.write_text("# 용어\n카드 분실\n\n  잔액   조회  # 공백 정리\n카드 분실\n", encoding="utf-8")
    assert Lexicon.load(path).terms == ("카드 분실", "잔액 조회")


def test_unreadable_lexicon_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read lexicon"):
        Lexicon.load(tmp_path / "missing.txt")


def test_bundled_lexicon_covers_the_card_bank_intents(lexicon):
    for term in ["카드 분실", "잔액 조회", "결제일 변경", "한도 상향", "주소 변경", "상담원 연결", "영업시간", "연회비"]:
        assert term in lexicon.terms


@pytest.mark.parametrize("heard, meant", [
    ("잔엑 조회 좀 해줘", "잔액 조회 좀 해줘"),
    ("상담언 연결해 주세요", "상담원 연결해 주세요"),
    ("카드 분신 신고요", "카드 분실 신고요"),
    ("결재일을 바꾸고 싶어", "결제일을 바꾸고 싶어"),  # the particle 을 stays
    ("리볼비 해지", "리볼빙 해지"),
    ("영업 시간이 어떻게 되나요", "영업시간이 어떻게 되나요"),  # spacing error
    # a term in Latin letters, as a recogniser that writes only Hangul writes what is said
    ("에이티엠에서 돈을 뽑았는데", "ATM에서 돈을 뽑았는데"),
    ("에이 티 엠 수수료", "ATM 수수료"),
    ("에이알에스로 했어요", "ARS로 했어요"),
    ("에스씨제일은행 계좌요", "SC제일은행 계좌요"),
])
def test_near_misses_become_lexicon_terms(lexicon, heard, meant):
    assert corrected(lexicon, heard) == meant


@pytest.mark.parametrize("text", [
    "카드 분실을 신고하려고요",
    "오늘 날씨가 좋네요",
    "이제 제발 좀 잊자",  # 잊자 is one jamo from 이자, but two-syllable terms must match closely
    "집이 너무 지저분해",  # 지저+분해 is not 지점 + a particle
    "연애 상담 해줄래?",  # 상담 is a word, not a near-miss of 상담원
    "ATM 어디 있어요",  # typed as written, as a chat user does
    "이 티 엠",  # not how ATM is said
])
def test_correct_or_unrelated_text_is_left_alone(lexicon, text):
    assert corrected(lexicon, text) == text


def test_real_casual_chat_is_almost_never_rewritten(lexicon):
    with open(SHARED / "chatbot_data" / "ChatbotData.csv", encoding="utf-8") as f:
        questions = [row["Q"] for row in csv.DictReader(f)]
    changed = [q for q in questions if lexicon.corrections(q.split(), THRESHOLD)]
    assert len(questions) > 10000
    assert len(changed) / len(questions) < 0.001


def test_prompt_lists_the_first_terms(lexicon):
    prompt = lexicon.prompt()
    assert prompt.startswith("카드 분실, 분실 신고")
    assert "ATM" not in prompt  # only the first 40 terms
