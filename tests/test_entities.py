"""Entities and normalisation on real caller-style Korean."""

import datetime as dt

import pytest

from nlu.entities import EntityExtractor, mask, parse_korean_number, spoken_digits
from nlu.normalize import MAX_CHARS, normalize

TODAY = dt.date(2026, 11, 25)  # a Wednesday


@pytest.fixture(scope="module")
def extractor(pack):
    return EntityExtractor.load(pack.gazetteer)


def found(extractor, text):
    return [(e.type, e.value) for e in extractor.extract(text, TODAY)]


@pytest.mark.parametrize("text, value", [
    ("삼만 오천", 35000), ("3만5천", 35000), ("35,000", 35000), ("백", 100), ("오백만", 5_000_000),
    ("이천이십육", 2026), ("1억 2천만", 120_000_000), ("십오", 15), ("만", 10000),
])
def test_korean_numbers(text, value):
    assert parse_korean_number(text) == value


@pytest.mark.parametrize("text, expected", [
    ("삼만 오천 원 결제했어요", [("amount", 35000)]),
    ("한도 오백만 원으로 올려줘", [("amount", 5_000_000)]),
    ("만 원만 보내줘", [("amount", 10000)]),
    ("결제일을 십오일로 바꿔줘", [("day_of_month", 15)]),
    ("결제일 25일로", [("day_of_month", 25)]),
    ("다음 주 월요일에 강남 지점 가도 돼?", [("date", "2026-11-30"), ("branch", "강남지점")]),
    ("12월 3일에 체크 카드 발급", [("date", "2026-12-03"), ("card_type", "체크카드")]),
    ("내일 현금 서비스 받을래", [("date", "2026-11-26"), ("service", "현금서비스")]),
    ("리볼비 해지", [("service", "리볼빙")]),  # a recogniser's near-miss
    ("잔엑 조회 좀", []),  # 조 of 조회 is not a trillion
    ("오늘 이사했어요", [("date", "2026-11-25")]),  # 이사 is no number
    ("이번 달 카드값 얼마예요", []),  # 이번 is "this", not number two
    ("ARS에서 삼번 눌렀어요", [("number", 3)]),
    ("십오일이요", [("day_of_month", 15)]),  # the copula's 이 is no two
    ("아니요 20일이 낫겠어요", [("day_of_month", 20)]),  # nor is the subject particle after a day
    ("이십 일이 좋아요", [("day_of_month", 20)]),
    ("일이 많아요", []),  # 일 (work) is no day
    ("신용카드입니다", [("card_type", "신용카드")]),  # the copula's endings after a term
    ("딸이 쓰는 가족 카드인데 잃어버렸대요", [("card_type", "가족카드")]),
    ("체크카드이고요", [("card_type", "체크카드")]),
    ("우리은행이여라", [("bank", "우리은행")]),  # a region's copula
    ("농협이여", [("bank", "농협은행")]),  # Chungcheong
    ("결제일25일로 바꿔줘", [("day_of_month", 25)]),  # digits typed against a word
    ("날짜 말고 통장을 바꾸는 게 낫겠어요 농협으로요", [("bank", "농협은행")]),  # 으로요
    ("아이고 벌써 삼 일 지났는데 어떻게 내요", [("number", 3)]),  # a number of days, no day of the month
    ("오 일 동안 연체됐어요", [("number", 5)]),
    ("매달 십일로요", [("day_of_month", 10)]),  # 십 alone before 일: the 10th
    ("월급날이 이십오 일이라서 결제일을 그날로 바꾸고 싶어서요", [("day_of_month", 25)]),  # 이라서: the copula
    ("카드값30만원 선결제", [("amount", 300000)]),
    ("신용카드지라", [("card_type", "신용카드")]),  # Jeolla
    ("신용카드랑께", [("card_type", "신용카드")]),
    ("한 이천 이천만 원으로 올려 주세요", [("amount", 20_000_000)]),  # a number started again
    ("백 백오십만 원", [("amount", 1_500_000)]),
    ("아 그럼 매달 일 일로 할게요", [("day_of_month", 1)]),  # 일 일: the 1st, no number started again
])
def test_entities_in_caller_sentences(extractor, text, expected):
    assert found(extractor, text) == expected


@pytest.mark.parametrize("text, kind, masked", [
    ("제 번호는 010-1234-5678 이에요", "phone", "010-****-5678"),
    ("공일공 일이삼사 오육칠팔로 연락 주세요", "phone", "010-****-5678"),
    ("제 번호는 공일공 일이삼사 오육칠팔이에요", "phone", "010-****-5678"),  # 이 is the copula here
    ("공일공 구팔칠육 오사삼이", "phone", "010-****-5432"),  # a two: 010 numbers have eight digits after it
    ("공일공 일이삼사 오육칠팔이", "phone", "010-****-5678"),  # without 이 a phone number, with it none
    ("공일공에 구팔칠육에 오사삼이", "phone", "010-****-5432"),  # 에, "and", between the groups
    ("전화번호 말이지예 공일공 다음에 팔팔이삼 그라고 사칠칠공", "phone", "010-****-4770"),  # "then", "and"
    ("공일공 구구팔칠 육오사이예요", "phone", "010-****-6542"),  # after 사 the copula is 예요: 이 is a two
    ("공일공 구팔칠육 오사삼이요", "phone", "010-****-5432"),  # 3-4-4 with the 이: a two, though 이요 may be the copula
    ("영일영 이이삼삼 음 사사오오요", "phone", "010-****-4455"),  # a filler between the groups
    ("공일공 육육이삼 아 잠깐만요 육육삼이 사사공구요", "phone", "010-****-4409"),  # corrected after 잠깐만요
    ("공일공 구팔칠육 오사삼이 아 아니다 끝자리 오사삼팔", "phone", "010-****-5438"),  # the last group, said so
    ("카드번호 1234 5678 9012 3456", "card_number", "****-****-****-3456"),
    ("카드 번호는 일이삼사 오육칠팔 구공일이 삼사오육", "card_number", "****-****-****-3456"),
])
def test_phone_and_card_numbers_are_found_and_masked(extractor, text, kind, masked):
    (entity,) = [e for e in extractor.extract(text, TODAY) if e.type in ("phone", "card_number")]
    assert entity.type == kind and entity.masked == masked
    assert "1234" not in entity.masked and "5678" not in entity.masked[-9:-4]


@pytest.mark.parametrize("text, phone", [
    ("011-123-4567", "0111234567"),  # an older prefix takes seven digits after it
    ("공일칠 일이삼사 오육칠팔", "01712345678"),
    ("010-123-4567", None),  # 010 takes eight: a digit was lost, and a lost card's report must not take it
    ("공일공 일이삼 사오육칠이요", None),
    ("공일오 일이삼사 오육칠팔", None),  # 015 is no mobile prefix
    ("공일이 삼사오 육칠팔구공 계좌요", None),
])
def test_only_a_korean_mobile_number_is_a_phone_number(extractor, text, phone):
    """The written and the spoken forms are held to the same rule: 010 and eight digits, or an older prefix and
    seven or eight; other runs of ten or eleven digits from 01 are no phone number."""
    phones = [e.value for e in extractor.extract(text, TODAY) if e.type == "phone"]
    assert phones == ([phone] if phone else [])


@pytest.mark.parametrize("text, kind, digits", [
    ("공일공 구팔칠육 어 아니다 구팔칠칠 오사삼이요", "phone", "01098775432"),  # the group before 아니다 replaced
    ("공일공 구이 아니 구삼일이 칠칠사공", "phone", "01093127740"),  # by all that follows it
    ("공일공 일이삼사 오육칠팔 아니 오육칠구", "phone", "01012345679"),
    ("일일공 이이삼 사오육칠 아니요 사오육칠팔구", "account_number", "110223456789"),
    ("공일공 일이삼사 오육칠팔 아니 이 번호 말고요", "phone", "01012345678"),  # 이 번호: no digits after 아니
    ("공일공 팔팔칠칠 아 아이다 팔팔칠육 에 이공일구", "phone", "01088762019"),  # Gyeongsang 아이다; 에 between groups
    ("공일공 구구팔칠 아 아니 구구칠팔 이공공삼이요", "phone", "01099782003"),  # 이요: a phone, not 12 digits
])
def test_digits_corrected_as_they_are_said_are_read_as_corrected(extractor, text, kind, digits):
    found = [(e.type, e.value) for e in extractor.extract(text, TODAY) if e.type in ("phone", "account_number")]
    assert found == [(kind, digits)]


@pytest.mark.parametrize("text, digits", [
    ("일일공 이이삼 사오육칠팔구", "110223456789"),
    ("계좌는 110-123-456789 이에요", "110123456789"),  # 이에요: the copula, not a digit
    ("국민은행 삼삼삼삼 공일 일이삼사오육칠이요", "3333011234567"),
    ("일일공 사오육 칠팔구공 일이 통장 보고 읽는 거야", "110456789012"),  # 일이: one, two
    ("일일공 사오육 칠팔구공 일 이 통장으로 해 줘", "11045678901"),  # 이 통장: "this" bankbook
    ("번호가 일공공이 삼사오 육칠팔구공일 이렇게 돼 있네", "1002345678901"),  # 이렇게 opens with no digit
])
def test_bank_account_numbers_are_found_and_masked_in_what_is_logged(extractor, text, digits):
    (entity,) = [e for e in extractor.extract(text, TODAY) if e.type == "account_number"]
    assert entity.value == digits and entity.masked == "*" * (len(digits) - 4) + digits[-4:]
    shown = mask(text, extractor.extract(text, TODAY))
    assert digits[-4:] in shown and not any(part in shown for part in ("일일공 이이삼", "110-123", "삼삼삼삼"))


def test_spoken_digits_need_pure_digit_words():
    assert spoken_digits("공일공 일이삼사") == "0101234"
    assert spoken_digits("삼만") is None


def test_gazetteer_file_errors_are_clear(tmp_path):
    bad = tmp_path / "g.txt"
    for line in ("신용카드", "bank\t신한\t신한은행\t은행", "bank\t\t신한은행"):
        bad.write_text(f"{line}\n", encoding="utf-8")
        with pytest.raises(ValueError, match="line 1: expected CATEGORY<TAB>term"):
            EntityExtractor.load(bad)


@pytest.mark.parametrize("text, bank", [
    ("결제 통장 신한으로 바꿔 줘", "신한은행"),  # the short name callers say stands for the bank's name
    ("카뱅으로 할게요", "카카오뱅크"),
    ("씨티로 해 주세요", "씨티은행"),
    ("신한은행이요", "신한은행"),
])
def test_a_bank_said_by_its_short_name_is_reported_by_its_name(extractor, text, bank):
    assert found(extractor, text) == [("bank", bank)]


@pytest.mark.parametrize("text, expected", [
    ("신용", [("card_type", "신용카드")]),  # asked which card, the start of its name
    ("체크요", [("card_type", "체크카드")]),
    ("하나요", [("bank", "하나은행")]),  # 하나 is no bank in a sentence, but it is the answer to "which bank?"
    ("신용 점수", []),  # in a sentence, no card
    ("카드요", []),  # 카드론 is 카드 and one syllable: no name with a head noun
    ("부산", []),  # 부산지점 and 부산은행: which one is not said
])
def test_a_lone_word_that_starts_one_name_is_that_name(extractor, text, expected):
    assert found(extractor, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("앗 잘못쳤다 끝자리 9876이요", [("last_digits", "9876")]),
    ("아이고 아니여 끝에가 사사오육이여", [("last_digits", "4456")]),  # 이여: the copula after the four digits
    ("끝자리 공일공 구팔칠육 오사삼이", [("phone", "01098765432")]),  # a whole number: no last digits
    ("뒷자리 일이삼", []),  # three digits: not the last four
    ("마지막으로 하나만 물어볼게요", []),
])
def test_the_last_four_digits_said_again_are_found(extractor, text, expected):
    assert found(extractor, text) == expected


@pytest.mark.parametrize("raw, clean", [
    ("음, 저기 카드 잃어버렸어요!!", "카드 잃어버렸어요!"),
    ("잔액  조회 해줘??", "잔액 조회 해줘?"),
    ("ＡＴＭ 수수료 얼마？", "atm 수수료 얼마?"),
    ("어", "어"),  # a filler alone is what was said
    ("…", ""),
    ("😀 안녕", "😀 안녕"),
    ("상담원 바꿔 줘", "상담원 바꿔줘"),  # an auxiliary verb (Kiwi: VX) joins its verb, as typists often write it
    ("한도 좀 올려 주세요", "한도 좀 올려주세요"),
    ("주소 바꾸고 싶어", "주소 바꾸고싶어"),
    ("사과 주스 주세요", "사과 주스 주세요"),  # 주다 as the main verb stays apart
])
def test_normalisation(raw, clean):
    assert normalize(raw) == clean


def test_long_text_is_cut():
    assert len(normalize("카드 " * 5000)) <= MAX_CHARS


def test_mask_hides_every_identifier(extractor):
    text = "카드 1234 5678 9012 3456, 연락처 010-9876-5432"
    masked = mask(text, extractor.extract(text, TODAY))
    assert masked == "카드 ****-****-****-3456, 연락처 010-****-5432"
