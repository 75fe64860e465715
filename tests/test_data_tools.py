"""Perturbations, data set building and checks on real Korean data."""

import random

import pytest
from datasets import Dataset, DatasetDict

from data_tools.augment.checks import check, render
from data_tools.augment.dataset import DatasetError, augment, load_any, load_examples, split
from data_tools.augment.perturb import TRANSFORMS

from .conftest import SHARED

THREE_I4K = SHARED / "3i4k" / "fci_train_val.txt"
CHATBOT = SHARED / "chatbot_data" / "ChatbotData.csv"

POLITE = ["카드를 분실해서 분실 신고를 하고 싶어요.", "잔액이 얼마인지 알려 주세요.", "결제일을 어떻게 변경하나요?",
          "상담원과 통화하고 싶습니다.", "그런데 이것은 무엇이에요?"]


@pytest.fixture(scope="module")
def i4k_sample(tmp_path_factory):
    """Every 40th 3i4K line (about 1,400 real utterances, all seven types) as a small file."""
    lines = THREE_I4K.read_text("utf-8").splitlines()[::40]
    path = tmp_path_factory.mktemp("i4k") / "sample.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_each_transform_changes_real_sentences(name):
    rng = random.Random(0)
    outputs = [TRANSFORMS[name](s, rng) for s in POLITE]
    changed = [v for s, o in zip(POLITE, outputs) for v in ([o] if isinstance(o, str) else o or []) if v != s]
    assert changed, f"{name} changed nothing"
    assert all(v.strip() for v in changed)


@pytest.mark.parametrize("name, source, expected", [
    ("fragment", "카드를 분실해서 분실 신고를 하고 싶어요.", "카드 분실 신고"),
    ("drop_particles", "잔액이 얼마인지 알려 주세요.", "잔액 얼마인지 알려 주세요."),
    ("contraction", "그런데 이것은 무엇이에요?", "근데 이건 뭐야?"),
    ("banmal", "결제일을 어떻게 변경하나요?", "결제일을 어떻게 변경해?"),
])
def test_transform_outputs(name, source, expected):
    assert TRANSFORMS[name](source, random.Random(0)) == expected


def test_banmal_all_gives_every_form_of_the_sentence_type():
    assert TRANSFORMS["banmal_all"]("결제일을 어떻게 변경하나요?", random.Random(0)) == [
        "결제일을 어떻게 변경해?", "결제일을 어떻게 변경하냐?", "결제일을 어떻게 변경하니?",
        "결제일을 어떻게 변경하지?", "결제일을 어떻게 변경하는지 알려줘"]
    assert TRANSFORMS["banmal_all"]("분실 신고 해 주세요", random.Random(0)) == [
        "분실 신고 해 줘", "분실 신고 해 줘라", "분실 신고 해 줄래"]
    assert TRANSFORMS["banmal_all"]("나는 학생이야", random.Random(0)) is None


def test_transforms_with_several_variants_add_one_row_each():
    data = DatasetDict({"train": Dataset.from_dict({
        "id": ["q", "s"], "text": ["어디 가세요?", "카드를 잃어버렸습니다"], "label": ["2", "1"],
        "source_id": ["q", "s"], "transform": ["original", "original"]})})
    train = augment(data, ["banmal_all"])["train"].to_list()
    assert [(r["id"], r["text"], r["source_id"], r["transform"], r["label"]) for r in train[2:]] == [
        ("q#banmal_all", "어디 가?", "q", "banmal_all", "2"),
        ("q#banmal_all2", "어디 가냐?", "q", "banmal_all", "2"),
        ("q#banmal_all3", "어디 가니?", "q", "banmal_all", "2"),
        ("q#banmal_all4", "어디 가지?", "q", "banmal_all", "2"),
        ("q#banmal_all5", "어디 가는지 알려줘", "q", "banmal_all", "2"),
        ("s#banmal_all", "카드를 잃어버렸어", "s", "banmal_all", "1"),
        ("s#banmal_all2", "카드를 잃어버렸다", "s", "banmal_all", "1"),
    ]


def test_stt_confusion_changes_one_letter():
    out = TRANSFORMS["stt_confusion"]("잔액이 얼마인지 알려 주세요.", random.Random(3))
    assert out is not None and len(out) == len("잔액이 얼마인지 알려 주세요.")
    assert sum(a != b for a, b in zip(out, "잔액이 얼마인지 알려 주세요.")) == 1


def test_phone_call_wraps_the_request_as_callers_state_it_and_keeps_it_whole():
    rng = random.Random(5)
    request = "카드를 잃어버렸어요"
    calls = [TRANSFORMS["phone_call"](request, rng) for _ in range(40)]
    assert all(request in call for call in calls)
    assert len(set(calls)) > 20  # openings, hedges and closings vary
    assert sum(len(call.split()) > len(request.split()) + 2 for call in calls) > 30  # most are long, as on the phone


def test_load_formats(tmp_path, i4k_sample):
    examples = load_examples(i4k_sample)
    assert len(examples) > 1000 and {e.label for e in examples} == {str(i) for i in range(7)}
    chat = load_examples(CHATBOT)
    assert len(chat) == 11823 and chat[0].label in {"0", "1", "2"}
    jsonl = tmp_path / "faq.jsonl"
    jsonl.write_text('{"question": "영업시간이 어떻게 되나요?", "intent": "hours"}\n', encoding="utf-8")
    assert load_examples(jsonl)[0].label == "hours"


@pytest.mark.parametrize("name, content, message", [
    ("empty.csv", b"", "empty"),
    ("cols.csv", "문장,분류\n안녕,0\n".encode(), "need a text column"),
    ("legacy.csv", "text,label\n카드 분실,lost\n".encode("cp949"), "not UTF-8"),
    ("bad.jsonl", b'{"text": "x", "label": 1}\n{oops\n', ":2: not valid JSON"),
    ("notab.txt", "0 만화\n".encode(), "expected LABEL<TAB>TEXT"),
])
def test_bad_input_is_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message):
        load_examples(path)


def test_splits_are_stratified_and_made_before_augmentation(i4k_sample):
    data = split(load_examples(i4k_sample), validation=0.1, test=0.1, seed=1)
    total = sum(len(d) for d in data.values())
    for name, fraction in (("validation", 0.1), ("test", 0.1)):
        assert len(data[name]) == pytest.approx(total * fraction, rel=0.15)
        for label in map(str, range(7)):
            share_split = data[name]["label"].count(label) / len(data[name])
            share_all = sum(d["label"].count(label) for d in data.values()) / total
            assert share_split == pytest.approx(share_all, abs=0.03)
    augmented = augment(data, ["banmal", "filler", "fragment"], seed=1)
    assert augmented["validation"].to_list() == data["validation"].to_list()
    assert augmented["test"].to_list() == data["test"].to_list()
    train = augmented["train"].to_list()
    assert len(train) > len(data["train"]) * 1.5
    originals = {r["id"]: r for r in data["train"].to_list()}
    held_out = set(data["validation"]["id"]) | set(data["test"]["id"])
    for row in train:
        assert row["source_id"] in originals and row["source_id"] not in held_out
        assert row["label"] == originals[row["source_id"]]["label"]  # labels kept
    assert {r["transform"] for r in train} == {"original", "banmal", "filler", "fragment"}


def test_a_second_draw_adds_only_variants_no_row_has(i4k_sample):
    data = split(load_examples(i4k_sample), validation=0.1, test=0.1, seed=1)
    once = augment(data, ["filler", "stt_confusion"], seed=1)["train"].to_list()
    twice = augment(data, ["filler", "stt_confusion"], seed=1, draws=2)["train"].to_list()
    assert twice[:len(once)] == once  # the first draw is the one-draw augmentation, row for row
    more = twice[len(once):]
    assert more and all(r["id"].endswith("@2") and r["transform"] != "original" for r in more)
    first = {(r["text"], r["label"]) for r in once}
    assert not any((r["text"], r["label"]) in first for r in more)
    assert len({(r["text"], r["label"]) for r in more}) == len(more)
    held_out = set(data["validation"]["id"]) | set(data["test"]["id"])
    assert not any(r["source_id"] in held_out for r in more)


def test_identical_texts_never_straddle_splits(i4k_sample):
    report = check(split(load_examples(i4k_sample)), near=False)
    assert report.leaks == []


def test_check_finds_the_real_label_conflicts_of_3i4k():
    report = check(load_any(THREE_I4K))
    assert report.rows == {"all": 55134}
    conflicting = {t for c in report.conflicts for t in c.texts}
    assert "안녕" in conflicting  # labelled both fragment (0) and intonation-dependent (6)
    assert 100 < len(report.conflicts) < 1000
    assert report.imbalance > 10
    assert "label conflicts" in render(report)


def test_check_finds_near_duplicate_leaks():
    data = DatasetDict({
        "train": Dataset.from_dict({"text": ["카드 분실 신고하고 싶어요", "잔액 알려줘"], "label": ["lost", "balance"]}),
        "test": Dataset.from_dict({"text": ["카드 분실 신고하고 싶어요!", "한도 올려줘"], "label": ["lost", "limit"]}),
    })
    leaks = check(data).leaks
    assert [(leak.split_a, leak.split_b) for leak in leaks] == [("train", "test")]


def test_saved_folder_round_trip(tmp_path, i4k_sample):
    data = split(load_examples(i4k_sample))
    data.save_to_disk(str(tmp_path / "ds"))
    assert load_any(tmp_path / "ds")["train"].to_list() == data["train"].to_list()
    with pytest.raises(DatasetError, match="not a saved data set folder"):
        load_any(tmp_path)
