"""Recombined rows: one sentence's content before another's predicate (data_tools/recombine.py)."""

import pytest

from core.korean import kiwi
from data_tools.augment.banmal import QUESTION_WORDS
from data_tools.augment.dataset import load_examples
from data_tools.augment.recombine import PREDICATE_TYPES, predicate_split, recombine

from .conftest import SHARED


@pytest.mark.parametrize("text, content, predicate", [
    ("안방에 에어컨 좀 꺼 줘", "안방에 에어컨 좀", "꺼 줘"),
    ("나 오늘 학교 가고 싶어", "나 오늘 학교", "가고 싶어"),
    ("내일 날씨 알려줘 ?", "내일 날씨", "알려줘 ?"),
    ("배고파", "", "배고파"),
    ("내일 비가 오는지 알려줘", "내일 비가", "오는지 알려줘"),  # an indirect question: 알려줘 asks only after 는지
    ("잔액이 얼마인지 알려줘", "잔액이", "얼마인지 알려줘"),
    ("영화는 바로 블루 라군 이다", "영화는 바로 블루 라군", "이다"),  # Kiwi reads 블루 라군 as one noun
])
def test_the_predicate_keeps_its_auxiliary_and_punctuation(text, content, predicate):
    assert predicate_split(text)[:2] == (content, predicate)


def test_content_with_a_question_word_is_flagged():
    assert predicate_split("어디 가서 밥 먹었어") == ("어디 가서 밥", "먹었어", True)
    assert predicate_split("어떻게 밥 먹었어")[2] is True
    assert predicate_split("어제 가서 밥 먹었어")[2] is False


@pytest.fixture(scope="module")
def i4k_rows():
    """Every 40th row of the real 3i4K training file: all seven utterance types."""
    examples = load_examples(SHARED / "3i4k" / "fci_train_val.txt")[::40]
    return [e.text for e in examples], [e.label for e in examples]


def test_recombined_rows_pair_a_predicate_with_other_content(i4k_rows):
    texts, labels = i4k_rows
    parts = [predicate_split(t) for t in texts]
    lenders = [i for i, ((_, _, asks), label) in enumerate(zip(parts, labels))
               if label in PREDICATE_TYPES and not asks]
    contents = {c for c, _, asks in parts if c and not asks}
    made = recombine(texts, labels)
    assert [i for i, _ in made] == lenders
    assert {labels[i] for i, _ in made} == PREDICATE_TYPES
    for i, text in made:
        predicate = parts[i][1]
        assert text.endswith(" " + predicate)
        content = text[:-len(predicate) - 1]
        assert content in contents
        assert not any(t.form.startswith(tuple(QUESTION_WORDS)) for t in kiwi().tokenize(content))
    assert len({text for _, text in made} - set(texts)) > 0.9 * len(made)  # new sentences, not copies


def test_recombination_repeats_with_its_seed(i4k_rows):
    texts, labels = i4k_rows
    assert recombine(texts, labels, seed=3) == recombine(texts, labels, seed=3)
    assert recombine(texts, labels, seed=3) != recombine(texts, labels, seed=4)
