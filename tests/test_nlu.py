"""NLU models trained here, on real data, and judged on rows they never saw."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from data_tools.augment.banmal import to_banmal
from data_tools.augment.perturb import CORRECTIONS
from data_tools.evaluation.priors import estimate_priors, shift
from data_tools.training.classifier import (
    SPECIALS, TrainConfig, choose_threshold, fit_temperature, train, train_tokenizer,
)
from core.ngram import NgramScorer
from nlu.classifier import NGRAM_FILE, OTHER_BUSINESS_FILE, OUT_OF_SCOPE, TextClassifier, model_inputs
from nlu.normalize import NORMALISATION, normalize
from data_tools.training.recipes import (
    INTENT_CHECKPOINT_CONFIG, INTENT_CONFIG, NGRAM, OTHER_BUSINESS_ABOVE, RECIPES, TRANSFORMER_NGRAM,
    chat_questions, informal_test_examples, intent_data, other_business_examples, train_other_business,
    unlabelled_corpus, utterance_type_data, why_retrain,
)
from dialog.domain import Domain
from nlu.understand import UTTERANCE_TYPE, EmptyText

from .conftest import SHARED


def test_utterance_type_model_learns_real_3i4k(utterance_type_model):
    # Measured on this small model: transformer 0.79 / 0.52 (accuracy / macro-F1), mixed with its n-gram
    # model 0.82 / 0.64, the baseline alone 0.82 / 0.69; on banmal rows 0.76, 0.80, 0.82.
    metrics = utterance_type_model.meta.metrics
    test = metrics["test"]
    assert test["transformer"]["n"] > 1000
    assert test["transformer"]["accuracy"] > 0.70 and test["transformer"]["macro_f1"] > 0.4
    assert test["baseline"]["accuracy"] > 0.70  # reported beside it, on the same rows
    assert test[TRANSFORMER_NGRAM]["accuracy"] > test["transformer"]["accuracy"]  # the second opinion pays
    banmal, polite = metrics["test_banmal"], metrics["test_polite"]  # the test rows by speech style
    assert banmal["transformer"]["n"] > 500 and polite["transformer"]["n"] > 100
    assert banmal[TRANSFORMER_NGRAM]["accuracy"] > 0.7


def test_utterance_type_folder_carries_its_ngram_model_as_arrays(utterance_type_model, models_dir, tmp_path):
    folder = models_dir / "utterance-type"
    with np.load(folder / NGRAM_FILE, allow_pickle=False) as arrays:  # plain arrays: loading runs no code
        assert set(arrays.files) == {"terms", "idf", "coef", "intercept", "classes"}
    reloaded = TextClassifier.load(folder)
    texts = ["불 좀 꺼 줘", "내일 비 오냐", "카드 분실", "오늘 진짜 피곤하다"]
    assert np.allclose(reloaded.probabilities(texts), utterance_type_model.probabilities(texts), atol=1e-6)
    assert not np.allclose(reloaded.probabilities(texts), reloaded.probabilities(texts, with_ngram=False))
    broken = shutil.copytree(folder, tmp_path / "utterance-type")
    (broken / NGRAM_FILE).unlink()
    with pytest.raises(FileNotFoundError, match="retrain it"):
        TextClassifier.load(broken)


def test_served_ngram_scores_are_scikit_learns(pack):
    # The served path scores n-gram models without scikit-learn's per-call input checks: the same numbers, for
    # a model of many labels (the shipped intent model's) and one of two (its other-business model).
    model = TextClassifier.load(pack.intent_model)
    texts = [normalize(e.text) for e in informal_test_examples(pack)] + ["", "ㅋㅋㅋ", "xyz 완전 처음 보는 말"]
    for pipeline, labels in ((model.ngram, 33), (model.other_business, 2)):
        expected = pipeline.predict_proba(texts)
        assert expected.shape == (len(texts), labels)
        assert np.allclose(NgramScorer.of(pipeline[0], pipeline[-1]).probabilities(texts), expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="sublinear"):  # raw counts would need other arithmetic
        NgramScorer.of(TfidfVectorizer(analyzer="char_wb"), model.ngram[-1])


def test_intent_model_on_polite_and_independent_informal_tests(intent_model, pack):
    # The shipped model, as its folder records it: 0.935 polite and 0.925 informal (chance is 1 in 33).
    metrics = intent_model.meta.metrics
    informal = metrics["informal_test"]
    assert informal[NGRAM]["n"] == len(informal_test_examples(pack)) > 500
    assert metrics["test"][NGRAM]["accuracy"] >= 0.85
    assert informal[NGRAM]["accuracy"] >= 0.85


def test_out_of_scope_triggers_on_unrelated_chat(intent_model):
    questions = chat_questions(SHARED)[::40]
    predicted = [p.label for p in intent_model.predict(questions)]
    # Measured 0.91 and 0.87 of all 11,823 questions (seeds 13, 14), while 11-16% of in-scope test rows are
    # turned away.
    assert sum(p == OUT_OF_SCOPE for p in predicted) / len(predicted) >= 0.75


def test_saved_model_folder_is_complete_and_reloads(intent_model, models_dir):
    folder = models_dir / "intent"
    names = {p.name for p in folder.iterdir()}
    # The n-gram model alone, no transformer to load, and the second model, for another business's requests.
    assert names == {"kocall_classifier.json", NGRAM_FILE, OTHER_BUSINESS_FILE}
    meta = json.loads((folder / "kocall_classifier.json").read_text("utf-8"))
    assert len(meta["fingerprint"]) == 64 and meta["train_rows"] > 1000 and "informal_test" in meta["metrics"]
    assert OUT_OF_SCOPE in meta["labels"] and 0 <= meta["threshold"] < 1 and meta["config"]["ngram_weight"] == 1
    assert meta["other_business_above"] == OTHER_BUSINESS_ABOVE
    reloaded = TextClassifier.load(folder)
    assert reloaded.ngram_only and reloaded.model is None and reloaded.other_business is not None
    # 케이티 요금 연체됐는데 어떻게 내요: the main model reads an overdue card bill; the second, another business.
    texts = ["카드 분실 신고할래", "케이티 요금 연체됐는데 어떻게 내요", "카드 해지할래"]
    assert reloaded.predict(texts) == intent_model.predict(texts)
    assert [p.label for p in reloaded.predict(texts)] == ["lost_card", OUT_OF_SCOPE, "card_cancel"]


def test_a_folder_that_asks_for_its_second_model_and_lacks_it_says_so(models_dir, tmp_path):
    folder = shutil.copytree(models_dir / "intent", tmp_path / "intent")
    (folder / OTHER_BUSINESS_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=f"has no {OTHER_BUSINESS_FILE}.*retrain it with `kocall train`"):
        TextClassifier.load(folder)


def test_another_business_said_in_the_domains_words_is_learnt_against_the_examples(pack):
    """The pack's other_business.csv rows, every one in every casual-speech form, against the in-scope rows of
    the train split: the second model finds the business a line names, not the domain's words it shares."""
    data = intent_data()
    elsewhere = data["other_business"]
    originals = [text for text, how in zip(elsewhere["text"], elsewhere["transform"]) if how == "original"]
    assert sorted(originals) == sorted(e.text for e in other_business_examples(pack))
    assert len(elsewhere) > 3 * len(originals) and set(elsewhere["label"]) == {OUT_OF_SCOPE}
    assert not set(originals) & set(data["train"]["text"])  # the main model never learns them
    model = train_other_business(data["train"], elsewhere)
    column = list(model.classes_).index(OUT_OF_SCOPE)
    named, unnamed = ["넷플릭스 해지할래", "한전 전기요금 얼마 나왔어"], ["카드 해지할래", "카드값 얼마 나왔어"]
    probs = model.predict_proba([normalize(t) for t in named + unnamed])[:, column]
    assert all(probs[:2] > OTHER_BUSINESS_ABOVE) and all(probs[2:] < 0.5), probs


def test_half_the_training_requests_are_said_again_after_a_turn_from_something_else(pack):
    """아니 그거 말고 … before a request: what follows decides what the line asks; never before a yes, a no, a
    greeting, a goodbye or an out-of-scope row, which 아니 may open on its own."""
    data = intent_data()
    train = data["train"]
    requests = {i for i, r in Domain.load(pack.domain).intents.items() if r.model in ("faq", "form", "handoff")}
    originals = {(t, label) for t, label, how in zip(train["text"], train["label"], train["transform"])
                 if how == "original" and label in requests}
    corrected = [(t, label) for t, label, how in zip(train["text"], train["label"], train["transform"])
                 if how == "self_correction"]
    assert 0.4 < len(corrected) / len(originals) < 0.6
    assert all(label in requests for _, label in corrected)
    assert all(any(t.startswith(f"{c} ") and (t[len(c) + 1:], label) in originals for c in CORRECTIONS)
               for t, label in corrected)


def test_an_ngram_only_model_trains_no_transformer_and_calibrates(tmp_path):
    """At an n-gram weight of 1 no transformer is trained: the n-gram model answers alone, its confidence
    calibrated on the validation rows, and its folder reloads to the same answers."""
    data = intent_data()
    rows = data["train"].shuffle(seed=1).select(range(3000))
    model = train(rows["text"], rows["label"], data["validation"]["text"], data["validation"]["label"],
                  config=INTENT_CONFIG)
    assert model.ngram_only and model.tokenizer is None and model.meta.temperature != 1.0
    texts = ["카드 잃어버렸어", "결제일 바꿔줘", "오늘 날씨 어때"]
    probs = model.probabilities(texts)
    assert np.allclose(probs.sum(axis=1), 1) and [model.labels[i] for i in probs.argmax(axis=1)][:2] == [
        "lost_card", "payment_date_change"]
    model.save(tmp_path / "intent")
    assert {p.name for p in (tmp_path / "intent").iterdir()} == {"kocall_classifier.json", NGRAM_FILE}
    assert np.allclose(TextClassifier.load(tmp_path / "intent").probabilities(texts), probs)
    with pytest.raises(ValueError, match="n-gram weight under 1"):
        train(rows["text"], rows["label"], [], [], config=INTENT_CONFIG, base_model="klue/roberta-small")


def test_an_ngram_only_model_learns_its_validation_rows_once_calibrated():
    """With ``refit`` the n-gram model is fitted again on the training and validation rows, keeping the temperature
    the training rows' model was calibrated to: a word only the validation rows say is learnt."""
    train_texts = ["카드 잃어버렸어", "카드 분실 신고", "결제일 바꿔줘", "결제일 변경할래", "한도 얼마야", "한도 조회"] * 3
    train_labels = ["lost_card", "lost_card", "payment_date_change", "payment_date_change", "limit_inquiry",
                    "limit_inquiry"] * 3
    val_texts = ["지갑 통째로 흘렸어", "날짜 옮겨줘", "한도 알려줘"]
    val_labels = ["lost_card", "payment_date_change", "limit_inquiry"]
    config = TrainConfig(ngram_weight=1.0, oos_threshold=False)
    once = train(train_texts, train_labels, val_texts, val_labels, config=config)
    again = train(train_texts, train_labels, val_texts, val_labels, config=replace(config, refit=True))
    assert again.meta.temperature == once.meta.temperature
    assert (once.meta.train_rows, again.meta.train_rows) == (18, 21)
    assert again.meta.label_mix == {"limit_inquiry": 7, "lost_card": 7, "payment_date_change": 7}
    assert [p.label for p in once.predict(["날짜 옮겨"])] != ["payment_date_change"]
    assert [p.label for p in again.predict(["날짜 옮겨"])] == ["payment_date_change"]


def test_a_model_trained_under_older_normalisation_warns_on_load(intent_model, models_dir, tmp_path):
    assert intent_model.meta.normalisation == NORMALISATION
    old = shutil.copytree(models_dir / "intent", tmp_path / "intent")
    meta = json.loads((old / "kocall_classifier.json").read_text("utf-8"))
    del meta["normalisation"]  # as folders saved before the version was recorded
    (old / "kocall_classifier.json").write_text(json.dumps(meta), "utf-8")
    with pytest.warns(UserWarning, match="retrain it with `kocall train`"):
        TextClassifier.load(old)


def test_serve_retrains_a_default_folder_from_an_older_recipe(utterance_type_model, models_dir, tmp_path):
    assert why_retrain(tmp_path / UTTERANCE_TYPE, UTTERANCE_TYPE) == "first start"
    old = shutil.copytree(models_dir / UTTERANCE_TYPE, tmp_path / UTTERANCE_TYPE)
    meta = json.loads((old / "kocall_classifier.json").read_text("utf-8"))
    del meta["recipe"]  # as folders saved before the recipe was recorded, which lack the n-gram model
    (old / "kocall_classifier.json").write_text(json.dumps(meta), "utf-8")
    assert "recipe" in why_retrain(old, UTTERANCE_TYPE)
    meta["recipe"] = RECIPES[UTTERANCE_TYPE]  # what `kocall train` writes
    (old / "kocall_classifier.json").write_text(json.dumps(meta), "utf-8")
    assert why_retrain(old, UTTERANCE_TYPE) is None


@pytest.mark.parametrize("text, intent", [
    ("카드를 잃어버렸어요", "lost_card"),
    (to_banmal("카드를 잃어버렸어요"), "lost_card"),
    ("잔액 얼마 남았어", "balance"),
    ("상담원 바꿔줘", "agent"),
    ("결제일 십오일로 바꿔줘", "payment_date_change"),
])
def test_understanding(understander, text, intent):
    result = understander.understand(text)
    assert result.intent == intent
    assert 0 < result.confidence <= 1 and result.top_k[0][0] in (intent, OUT_OF_SCOPE)
    assert len(result.top_k) == 3


def test_understanding_carries_entities_and_utterance_type(understander):
    result = understander.understand("결제일 십오일로 바꿔줘")
    assert [(e.type, e.value) for e in result.entities] == [("day_of_month", 15)]
    assert result.utterance_type in {"command", "statement", "question", "fragment", "rhetorical_question",
                                     "rhetorical_command", "intonation_dependent"}
    assert understander.understand("카드 분실").utterance_type == "fragment"


def test_bad_input_gets_a_clear_answer(understander):
    with pytest.raises(EmptyText):
        understander.understand("   ...  ")
    long = understander.understand("카드를 잃어버렸어요 " * 1000)
    assert long.truncated and long.intent == "lost_card"
    assert understander.understand("ATM 수수료 how much?").intent in ("fees", OUT_OF_SCOPE)
    assert understander.understand("😀😀😀").intent == OUT_OF_SCOPE


def test_syllable_tokens_share_an_ending_across_verbs():
    texts = utterance_type_data()["train"]["text"][:3000]
    syllables = train_tokenizer(texts, 6000, syllables=True)
    assert syllables.tokenize("밥 먹었냐") == ["▁밥", "▁먹", "었", "냐"]
    assert syllables.tokenize("어디 갔냐")[-1] == "냐"  # the same ending token on another verb
    assert syllables.tokenize("밥 똵었냐") == ["▁밥", "[UNK]", "었", "냐"]  # an unseen syllable costs one token
    assert all(len(t.removeprefix("▁")) == 1 for t in syllables.tokenize(" ".join(texts[:50])) if t != "[UNK]")
    subwords = train_tokenizer(texts, 6000)
    assert any(len(t.removeprefix("##")) > 1 for t in subwords.tokenize(" ".join(texts[:50])))


def test_end_positions_put_a_sentence_ending_at_one_position_whatever_the_length():
    texts = utterance_type_data()["train"]["text"][:3000]
    tokenizer = train_tokenizer(texts, 6000, syllables=True, cls=True)
    enc = tokenizer(["밥 먹었냐", "오늘 저녁에 친구랑 밥 먹었냐"], padding=True, return_tensors="pt",
                    return_token_type_ids=False)
    inputs = model_inputs(enc, end_positions=True)
    ids, positions = inputs["input_ids"], inputs["position_ids"]
    assert (ids[:, 0] == tokenizer.cls_token_id).all()  # the token the classifier reads
    assert positions[0].tolist() == [0, 4, 3, 2, 1] + [0] * 8  # [CLS] ▁밥 ▁먹 었 냐, then padding
    ending = tokenizer.convert_tokens_to_ids("냐")
    assert [positions[i][ids[i] == ending].tolist() for i in range(2)] == [[1], [1]]
    assert "position_ids" not in model_inputs(enc, end_positions=False)
    assert train_tokenizer(texts, 6000, syllables=True)("밥 먹었냐")["input_ids"][0] != tokenizer.cls_token_id


@pytest.mark.slow
def test_subword_vocabulary_is_the_same_on_every_training():
    """Left to itself the tokenizers trainer numbers its ## pieces in hash-map order, which differs from run
    to run even in one process, and so learns different vocabularies (huggingface/tokenizers#1794)."""
    texts = [normalize(t) for t in unlabelled_corpus()]
    runs = [train_tokenizer(texts, 8000) for _ in range(2)]
    vocabularies = [sorted(t.get_vocab().items()) for t in runs]
    assert vocabularies[0] == vocabularies[1] and len(vocabularies[0]) == 8000
    assert set(runs[0].all_special_tokens) == set(SPECIALS)  # the ## pieces declared to the trainer are not
    tokens = runs[0].tokenize("[CLS] 카드 [MASK]")
    assert tokens[0] == "[CLS]" and tokens[-1] == "[MASK]" and "".join(tokens[1:-1]).replace("##", "") == "카드"


def test_out_of_scope_threshold_weighs_a_caller_turned_away_twice_a_chat_line_answered():
    # 100 in-scope rows answered right with confidence spread over 0.30-0.69, and 10 chat rows answered
    # "balance" with one confidence. At 0.5, turning the chat away would turn away half the callers as well:
    # the chat is kept. At 0.4, it costs a third of them: it is turned away at the first step over 0.4.
    labels = ["balance", *(f"other_{i}" for i in range(9)), OUT_OF_SCOPE]
    gold = ["balance"] * 100 + [OUT_OF_SCOPE] * 10
    for chat, threshold in ((0.5, 0.0), (0.4, 0.425)):
        conf = np.concatenate([np.linspace(0.30, 0.69, 100), np.full(10, chat)])
        probs = np.column_stack([conf, *[(1 - conf) / 10] * 10])  # "balance" first on every row
        assert choose_threshold(probs, gold, labels) == threshold
        assert choose_threshold(probs[:100], gold[:100], labels) == 0.0  # no chat to turn away: keep every answer


def test_temperature_scaling_tames_overconfident_logits():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, 500)
    logits = rng.normal(0, 1, (500, 3))
    logits[np.arange(500), gold] += 1.0
    assert fit_temperature(logits * 8, gold) > 4  # confidence 8x too sharp -> a large temperature


def test_label_shift_recovers_the_label_mix_of_unlabelled_text():
    """Exact posteriors under a 80/20 training mix, on texts drawn 30/70: EM finds 30/70 without labels,
    and re-weighing the posteriors to it makes fewer mistakes than the training mix does."""
    rng = np.random.default_rng(0)
    gold = (rng.random(4000) < 0.7).astype(int)
    x = rng.normal(np.where(gold == 1, 1.0, -1.0), 1.0)
    train_priors = np.array([0.8, 0.2])
    likelihood = np.stack([np.exp(-(x + 1) ** 2 / 2), np.exp(-(x - 1) ** 2 / 2)], axis=1)
    probs = likelihood * train_priors
    probs /= probs.sum(axis=1, keepdims=True)
    estimated = estimate_priors(probs, train_priors)
    assert abs(estimated[1] - gold.mean()) < 0.03
    shifted = shift(probs, train_priors, estimated)
    assert (shifted.argmax(1) == gold).mean() > (probs.argmax(1) == gold).mean() + 0.05
    with pytest.raises(ValueError, match="do not match"):
        estimate_priors(probs[:, :1], train_priors)


@pytest.mark.slow
def test_cli_predict_and_eval(models_dir, intent_model, utterance_type_model, tmp_path):
    env = {**os.environ, "KOCALL_NLU__INTENT_MODEL": str(models_dir / "intent"),
           "KOCALL_NLU__UTTERANCE_TYPE_MODEL": str(models_dir / "utterance-type")}
    run = lambda *a: subprocess.run([sys.executable, "-m", "kocall.cli", *a], capture_output=True, text=True,
                                    env=env, timeout=300)
    out = run("nlu", "predict", "카드를 잃어버렸어요")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["label"] == "lost_card" and {"confidence", "top_k", "utterance_type", "entities"} <= set(result)
    assert "Loading weights" not in out.stderr  # transformers' loading bar, noise for a one-line answer
    out = run("nlu", "predict", "제 카드 번호는 1234 5678 9012 3456이에요")
    result = json.loads(out.stdout)
    assert result["entities"][0]["value"] == "****-****-****-3456"  # never printed in full
    assert "1234 5678" not in out.stdout
    assert run("nlu", "predict", "  ").returncode == 2

    sample = tmp_path / "sample.txt"
    sample.write_text("\n".join((SHARED / "3i4k" / "fci_train_val.txt").read_text("utf-8").splitlines()[::200]),
                      encoding="utf-8")
    evaluated = json.loads(run("nlu", "eval", "--model", str(models_dir / "utterance-type"), "--data",
                               str(sample)).stdout)
    assert {"accuracy", "macro_f1", "n", "per_label"} <= set(evaluated) and evaluated["n"] > 250
    csv_file = tmp_path / "intents.csv"
    csv_file.write_text("text,label\n카드 잃어버렸어,lost_card\n잔액 알려줘,balance\n", encoding="utf-8")
    evaluated = json.loads(run("nlu", "eval", "--model", str(models_dir / "intent"), "--data", str(csv_file)).stdout)
    assert evaluated["n"] == 2
    missing = run("nlu", "eval", "--model", str(tmp_path), "--data", str(csv_file))
    assert missing.returncode == 2 and "kocall train" in missing.stderr


def test_base_model_fine_tunes_a_local_checkpoint(models_dir, utterance_type_model):
    """--base-model takes any Hugging Face checkpoint folder; here the utterance-type model stands in for KLUE."""
    data = intent_data()
    rows = data["train"].shuffle(seed=1).select(range(300))
    model = train(rows["text"], rows["label"], data["validation"]["text"], data["validation"]["label"],
                  config=replace(INTENT_CHECKPOINT_CONFIG, epochs=1), base_model=str(models_dir / "utterance-type"))
    assert model.meta.base_model == str(models_dir / "utterance-type")
    assert set(model.labels) == set(data["train"]["label"]) | set(data["validation"]["label"])
    assert model.tokenizer.vocab_size == utterance_type_model.tokenizer.vocab_size  # its tokenizer, not a new one
    assert len(model.predict(["카드 분실"])[0].top_k) == 3
