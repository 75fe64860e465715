"""A domain pack is one folder that a team can bring without touching code; KOCALL_DOMAIN picks it."""

from __future__ import annotations

import csv
import json
import shutil
import threading
import time

import pytest
from fastapi.testclient import TestClient

from core.domain_pack import DomainPackError, find_pack
from core.settings import Settings
from data_tools.training.recipes import RECIPES, why_retrain
from nlu.classifier import read_meta
from nlu.understand import INTENT, UTTERANCE_TYPE, model_path, shipped_dir, trained_dir
from server.app import create_app
from server.turns import get_bot

from .conftest import ROOT, server_settings


def test_the_card_bank_pack_is_complete_and_the_default(pack):
    assert Settings().pack() == pack and pack.name == "card_bank"
    for path in (pack.domain, pack.intents, pack.out_of_scope, pack.gazetteer, pack.lexicon, *pack.test_files,
                 *pack.dev_files, pack.intent_model):
        assert path.exists(), path


def test_no_test_or_dev_request_of_the_pack_is_also_a_training_example_or_another_sets(pack):
    """The informal and caller test sets judge the intent model only if it never learnt their rows, and the
    dev sets its recipe was chosen on are apart from both: no text of one is in another, nor nearly
    (`kocall data check`'s leakage: the same after normalisation, or at least 92 alike)."""
    from data_tools.augment.checks import check
    from data_tools.augment.dataset import load_any

    data = load_any(pack.folder)
    assert set(data) == {"training", "dev_informal", "dev_caller", "informal_test", "caller_test"}
    leaks = check(data).leaks
    assert not leaks, leaks[:5]


def test_the_callers_of_the_bench_are_in_none_of_the_packs_sets_nor_in_each_other(pack):
    """`bench/callers/` holds requests written after recipe 6 by other writers: fresh callers, read once,
    twins (a request and its near twin about another business), one half for choices and one read once, and,
    for choices, short spoken requests and a caller's yes, no, hello and goodbye (written after recipe 9), and
    short requests as said to a phone bot by three writers of three manners (written after recipe 12). They
    say how the model reads callers only while none of them is a training, dev or test row of the pack, or
    nearly, and no set of them holds another's rows."""
    from datasets import DatasetDict

    from data_tools.augment.checks import check
    from data_tools.augment.dataset import examples_dataset, load_any, load_examples

    sets = sorted((ROOT / "bench" / "callers").glob(f"{pack.name}_*.csv"))
    assert [path.stem.removeprefix(f"{pack.name}_") for path in sets] == [
        "acts_dev", "fresh_long", "fresh_short", "plain_dev", "spoken_dev", "twins_dev", "twins_test"]
    data = DatasetDict({**load_any(pack.folder),
                        **{path.stem: examples_dataset(load_examples(path)) for path in sets}})
    leaks = [leak for leak in check(data).leaks if pack.name in leak.split_a + leak.split_b]
    assert not leaks, leaks[:5]


def test_the_faq_questions_train_the_intent_model_but_none_of_the_held_out_sets_rows(tmp_path, pack):
    """An FAQ entry's title and questions are how callers ask for its intent, so they are intent examples too;
    those equal or near to a dev or test row (a title often is one: 연회비) are left out while those sets exist."""
    from datasets import DatasetDict

    from data_tools.augment.checks import check
    from data_tools.augment.dataset import examples_dataset, load_examples
    from data_tools.training.recipes import faq_examples, intent_examples
    from dialog.domain import Domain

    domain = Domain.load(pack.domain)
    rows = faq_examples(pack)
    assert {e.label for e in rows} == {e.intent for e in domain.faq}
    assert {e.text.replace(" ", "") for e in rows} <= {e.text.replace(" ", "") for e in intent_examples(pack)}
    held_out = [e for path in (*pack.dev_files, *pack.test_files) for e in load_examples(path)]
    assert not check(DatasetDict({"faq": examples_dataset(rows), "held_out": examples_dataset(held_out)})).leaks
    bare = find_pack(shutil.copytree(pack.folder, tmp_path / "bare", ignore=shutil.ignore_patterns(
        "models", *(path.name for path in (*pack.dev_files, *pack.test_files)))))
    left_out = {e.text for e in faq_examples(bare)} - {e.text for e in rows}
    assert left_out and left_out <= {e.title for e in domain.faq} | {q for e in domain.faq for q in e.questions}


def test_the_packs_more_faq_questions_are_no_held_out_row_nor_a_scripts_line(pack):
    """`faq_questions.csv` fits the FAQ picker, so none of it may be a row the picker or the dialog is judged on:
    the pack's dev and test sets, `bench/callers/`, the lines `bench/faq_entries/` labels, a script's caller line."""
    from datasets import DatasetDict

    from data_tools.augment.checks import check
    from data_tools.augment.dataset import Example, examples_dataset, load_examples
    from dialog.domain import Domain

    more = [Example(f"more:{e.id}:{n}", q, e.intent) for e in Domain.load(pack.domain).faq
            for n, q in enumerate(e.more_questions)]
    assert more
    judged = [e for path in (*pack.dev_files, *pack.test_files, *(ROOT / "bench" / "callers").glob(
        f"{pack.name}_*.csv")) for e in load_examples(path)]
    judged += [Example(f"entry:{n}", row["text"], row["intent"]) for n, row in enumerate(
        row for path in (ROOT / "bench" / "faq_entries").glob(f"{pack.name}_*.csv")
        for row in csv.DictReader(path.open(encoding="utf-8")))]
    judged += [Example(f"script:{n}", line, "script") for n, line in enumerate(
        line for path in (ROOT / "bench" / "conversations").glob(f"{pack.name}*.jsonl")
        for script in path.read_text("utf-8").splitlines() if script.strip() for line in json.loads(script)["caller"])]
    leaks = [leak for leak in check(DatasetDict({"more": examples_dataset(more), "judged": examples_dataset(judged)})).leaks
             if {leak.split_a, leak.split_b} == {"more", "judged"}]
    assert not leaks, leaks[:5]


def test_the_faq_entry_labels_of_the_bench_name_entries_of_their_lines_intent_and_their_sets_lines(pack):
    """`bench/faq_entries/` labels lines of the pack's sets with the FAQ entry that answers them (bench/faq.py):
    each label is an entry of the line's intent (or either / none), and each line is its set's, with that intent."""
    import csv

    from dialog.domain import Domain

    domain = Domain.load(pack.domain)
    entries = {e.id: e.intent for e in domain.faq}
    sources = {"dev_informal": pack.folder / "dev_informal.csv", "dev_caller": pack.folder / "dev_caller.csv",
               "informal_test": pack.folder / "informal_test.csv", "caller_test": pack.folder / "caller_test.csv",
               "fresh_short": ROOT / "bench" / "callers" / f"{pack.name}_fresh_short.csv",
               "fresh_long": ROOT / "bench" / "callers" / f"{pack.name}_fresh_long.csv"}
    labelled = sorted((ROOT / "bench" / "faq_entries").glob(f"{pack.name}_*.csv"))
    assert sorted(path.stem.removeprefix(f"{pack.name}_") for path in labelled) == sorted(sources)
    for path in labelled:
        source = sources[path.stem.removeprefix(f"{pack.name}_")]
        lines = {(row["text"], row["label"]) for row in csv.DictReader(source.open(encoding="utf-8-sig"))}
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert rows and all((row["text"], row["intent"]) in lines for row in rows), path.name
        assert all(row["entry"] in ("either", "none") or entries.get(row["entry"]) == row["intent"]
                   for row in rows), path.name


def test_a_pack_that_is_missing_or_incomplete_is_named_with_what_to_do(tmp_path, pack):
    with pytest.raises(DomainPackError, match="no domain pack 'nowhere'.*card_bank"):
        find_pack("nowhere")
    partial = shutil.copytree(pack.folder, tmp_path / "partial", ignore=shutil.ignore_patterns("models"))
    (partial / "lexicon.txt").unlink()
    with pytest.raises(DomainPackError, match="lacks lexicon.txt"):
        find_pack(partial)


@pytest.mark.parametrize("name", [INTENT, UTTERANCE_TYPE])
def test_the_shipped_models_are_current_so_a_first_start_trains_nothing(pack, name):
    folder = shipped_dir(pack, name)
    assert why_retrain(folder, name) is None
    meta = read_meta(folder)
    assert meta.recipe == RECIPES[name]
    assert sum(meta.label_mix.values()) == meta.train_rows and set(meta.label_mix) == set(meta.labels)


def test_the_served_model_is_the_configured_one_else_the_trained_one_else_the_shipped_one(tmp_path, pack, models_dir):
    settings = Settings(cache_dir=tmp_path)
    assert model_path(settings.nlu, tmp_path, pack, INTENT) == pack.intent_model
    trained = trained_dir(tmp_path, pack, INTENT)
    shutil.copytree(models_dir / INTENT, trained)
    assert model_path(settings.nlu, tmp_path, pack, INTENT) == trained
    configured = settings.nlu.model_copy(update={"intent_model": models_dir / INTENT})
    assert model_path(configured, tmp_path, pack, INTENT) == models_dir / INTENT
    # A pack of a team's own, with no model: it is trained first, into the cache.
    own = find_pack(shutil.copytree(pack.folder, tmp_path / "own", ignore=shutil.ignore_patterns("models")))
    assert model_path(settings.nlu, tmp_path / "other-cache", own, INTENT) == own.intent_model
    assert why_retrain(own.intent_model, INTENT) == "first start"


def test_a_teams_own_pack_changes_what_the_bot_says_and_knows(tmp_path, pack, models_dir):
    own = shutil.copytree(pack.folder, tmp_path / "insurance", ignore=shutil.ignore_patterns("models"))
    domain = (own / "domain.yaml").read_text("utf-8")
    greeting = "안녕하세요, 카드 고객센터입니다"
    assert greeting in domain
    (own / "domain.yaml").write_text(domain.replace(greeting, "안녕하세요, 보험 고객센터입니다"), "utf-8")
    (own / "gazetteer.tsv").write_text((own / "gazetteer.tsv").read_text("utf-8") + "card_type\t골드카드\n", "utf-8")
    settings = Settings(domain=str(own), cache_dir=tmp_path, nlu={"intent_model": models_dir / INTENT})
    bot = get_bot(settings.nlu, settings.dialog, settings.cache_dir, settings.pack())
    assert bot.dialog.domain.responses["greeting"].startswith("안녕하세요, 보험 고객센터입니다")
    turn = bot.turn("t", "골드카드 잃어버렸어요").as_json()
    assert {"type": "card_type", "value": "골드카드"}.items() <= turn["entities"][0].items()


def test_while_a_model_trains_the_server_listens_and_healthz_says_what_it_does(settings, models_dir, tmp_path):
    """``kocall serve`` trains a missing model in ``prepare``; the doing is reported, not hidden."""
    release = threading.Event()

    def prepare(report):
        report("training the intent model for domain pack insurance (first start)")
        release.wait(30)

    app = create_app(server_settings(settings, models_dir, tmp_path), prepare=prepare)
    with TestClient(app) as client:
        busy = client.get("/healthz")
        assert busy.status_code == 503 and "training the intent model" in busy.json()["detail"]
        assert client.post("/chat", json={"session_id": "a", "text": "안녕"}).status_code == 503
        release.set()
        for _ in range(300):
            if client.get("/healthz").status_code == 200:
                break
            time.sleep(0.1)
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.post("/chat", json={"session_id": "a", "text": "안녕하세요"}).status_code == 200
