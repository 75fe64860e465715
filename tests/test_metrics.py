import pytest

from data_tools.evaluation.metrics import cer, normalize, wer


def test_spacing_and_punctuation_do_not_count_in_the_default_cer():
    assert cer("그는 이리저리 피하면서", "그는이리저리 피하면서.") == 0.0


def test_cer_counts_character_edits_over_reference_length():
    # 19 characters without spaces; 이리저리 -> 이리절이 is two substitutions.
    assert cer("그는 이리저리 피하면서 길 한 옆으로 걸어갔다", "그는 이리절이 피하면서 길 한 옆으로 걸어갔다") == pytest.approx(2 / 19)


def test_spaced_cer_counts_spacing_errors():
    assert cer("카드 분실", "카드분실", keep_spaces=True) == pytest.approx(1 / 5)


def test_corpus_cer_pools_edits_over_all_references():
    assert cer(["잔액 조회", "한도"], ["잔액 조회", "한두"]) == pytest.approx(1 / 6)


def test_numbers_are_compared_as_written():
    assert cer("삼만 원", "3만 원") == pytest.approx(1 / 3)


def test_wer_works_on_eojeol():
    assert wer("카드 분실 신고", "카드 분실 신고요") == pytest.approx(1 / 3)


def test_normalize_composes_decomposed_hangul():
    decomposed = "\u1100\u1161\u11ab"  # 간 as conjoining jamo
    assert normalize(decomposed) == "간"


def test_empty_reference_is_refused():
    with pytest.raises(ValueError):
        cer("...", "잔액")
