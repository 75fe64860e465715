"""``kocall data ...`` as a user runs it."""

import json
import subprocess
import sys

from datasets import DatasetDict

from data_tools.augment.recombine import predicate_split

from .conftest import SHARED


def kocall(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kocall.cli", *args], input=stdin, capture_output=True,
                          timeout=300)


def test_banmal_keeps_order_and_line_count_on_stdin():
    polite = "카드를 잃어버렸어요.\n\n잔액이 얼마인지 여쭤봐도 될까요?\n저희 지점은 몇 시에 문을 닫나요?\n"
    out = kocall("data", "banmal", stdin=polite.encode())
    assert out.returncode == 0
    assert out.stdout.decode().splitlines() == ["카드를 잃어버렸어.", "", "잔액이 얼마인지 물어봐도 될까?",
                                                "우리 지점은 몇 시에 문을 닫아?"]
    assert "4 lines, 3 changed" in out.stderr.decode()


def test_banmal_from_a_file_and_bad_encoding(tmp_path):
    good = tmp_path / "polite.txt"
    good.write_text("감사합니다.\n", encoding="utf-8")
    assert kocall("data", "banmal", str(good)).stdout.decode() == "고마워.\n"
    bad = tmp_path / "cp949.txt"
    bad.write_bytes("감사합니다.\n".encode("cp949"))
    out = kocall("data", "banmal", str(bad))
    assert out.returncode == 2 and "not UTF-8" in out.stderr.decode()


def test_build_augment_and_check(tmp_path):
    lines = (SHARED / "3i4k" / "fci_train_val.txt").read_text("utf-8").splitlines()[::100]
    source = tmp_path / "i4k.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    built = kocall("data", "build", str(source), "--out", str(tmp_path / "ds"))
    assert built.returncode == 0, built.stderr.decode()
    assert "split leakage" in built.stdout.decode()
    augmented = kocall("data", "augment", str(tmp_path / "ds"), str(tmp_path / "aug"), "--transforms", "banmal,filler")
    assert augmented.returncode == 0, augmented.stderr.decode()
    assert "by transform: banmal" in augmented.stderr.decode()
    data = DatasetDict.load_from_disk(str(tmp_path / "aug"))
    assert set(data["train"]["transform"]) == {"original", "banmal", "filler"}
    assert set(data["test"]["transform"]) == {"original"}
    checked = kocall("data", "check", str(tmp_path / "aug"), "--json")
    summary = json.loads(checked.stdout)
    assert set(summary["rows"]) == {"train", "validation", "test"}
    assert summary["leaks"] < 5


def test_augment_with_recombined_rows(tmp_path):
    lines = (SHARED / "3i4k" / "fci_train_val.txt").read_text("utf-8").splitlines()[::200]
    source = tmp_path / "i4k.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = kocall("data", "augment", str(source), str(tmp_path / "aug.jsonl"), "--transforms", "banmal_all",
                 "--recombine", "1,2,3")
    assert out.returncode == 0, out.stderr.decode()
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "aug.jsonl").read_text("utf-8").splitlines())}
    made = [r for r in rows.values() if r["transform"] == "recombine"]
    assert f"recombine {len(made)}" in out.stderr.decode() and len(made) > 0.3 * len(lines)
    for row in made:
        lender = rows[row["id"].removesuffix("#recombine")]  # the row whose predicate and label it keeps
        assert row["label"] == lender["label"] in {"1", "2", "3"}
        assert row["source_id"] == lender["source_id"]
        assert row["text"].endswith(" " + predicate_split(lender["text"])[1]) and row["text"] != lender["text"]


def test_augment_a_file_to_jsonl(tmp_path):
    source = tmp_path / "faq.csv"
    source.write_text("text,label\n카드를 분실했어요,lost_card\n잔액 조회하고 싶습니다,balance\n", encoding="utf-8")
    out = kocall("data", "augment", str(source), str(tmp_path / "aug.jsonl"), "--transforms", "banmal")
    assert out.returncode == 0
    rows = [json.loads(line) for line in (tmp_path / "aug.jsonl").read_text("utf-8").splitlines()]
    banmal = {r["text"]: r for r in rows if r["transform"] == "banmal"}
    assert banmal["카드를 분실했어"]["label"] == "lost_card"
    assert banmal["잔액 조회하고 싶어"]["source_id"] == "faq:2"


def test_unknown_transform_and_wrong_columns_fail_clearly(tmp_path):
    source = tmp_path / "x.csv"
    source.write_text("sentence,class\n안녕,0\n", encoding="utf-8")
    out = kocall("data", "check", str(source))
    assert out.returncode == 2 and "need a text column" in out.stderr.decode()
    source.write_text("text,label\n안녕,0\n", encoding="utf-8")
    out = kocall("data", "augment", str(source), str(tmp_path / "o.jsonl"), "--transforms", "shout")
    assert out.returncode == 2 and "unknown transform" in out.stderr.decode()


def test_check_of_a_domain_pack_reports_a_test_row_that_is_also_an_example(tmp_path, pack):
    import shutil

    own = shutil.copytree(pack.folder, tmp_path / "pack", ignore=shutil.ignore_patterns("models"))
    clean = json.loads(kocall("data", "check", str(own), "--json").stdout)
    assert set(clean["rows"]) == {"training", "dev_informal", "dev_caller", "informal_test", "caller_test"}
    assert clean["leaks"] == 0
    # One test request, copied into the examples with a question mark of its own: the same utterance.
    test_row = (own / "informal_test.csv").read_text("utf-8").splitlines()[1]
    with open(own / "intents.csv", "a", encoding="utf-8") as f:
        f.write(test_row.replace(",", "?,", 1) + "\n")
    out = kocall("data", "check", str(own))
    assert out.returncode == 0 and "split leakage (same or near-same text in two splits): 1" in out.stdout.decode()
    assert "training: " in out.stdout.decode() and "informal_test: " in out.stdout.decode()
    # A dev request that is also a test one: the recipe's choices would be made on a test row.
    dev_row = (own / "caller_test.csv").read_text("utf-8").splitlines()[1]
    with open(own / "dev_caller.csv", "a", encoding="utf-8") as f:
        f.write(dev_row + "\n")
    out = kocall("data", "check", str(own))
    assert "split leakage (same or near-same text in two splits): 2" in out.stdout.decode()
    assert "dev_caller: " in out.stdout.decode()


def test_check_reads_more_held_out_sets_that_no_other_may_share_a_row_with(tmp_path, pack):
    """A project's bench sets (`bench/callers/`) are held out too: an example that is also one of their rows is
    leakage, which the pack's own sets alone do not show."""
    example = (pack.intents).read_text("utf-8").splitlines()[1]
    bench = tmp_path / "card_bank_fresh_short.csv"
    bench.write_text(f"text,label\n{example}\n전혀 다른 요청이에요 정말로,out_of_scope\n", encoding="utf-8")
    alone = json.loads(kocall("data", "check", str(pack.folder), "--json").stdout)
    assert alone["leaks"] == 0
    out = kocall("data", "check", str(pack.folder), "--held-out", str(bench), "--json")
    report = json.loads(out.stdout)
    assert out.returncode == 0 and report["leaks"] == 1 and report["rows"]["card_bank_fresh_short"] == 2
    missing = kocall("data", "check", str(pack.folder), "--held-out", str(tmp_path / "nowhere.csv"))
    assert missing.returncode == 2 and b"no such file" in missing.stderr


def test_check_of_a_domain_pack_lists_examples_its_faq_answers_under_another_intent(tmp_path, pack):
    """An overdue-interest question labelled as a fee is answered from the fees' entries, which do not answer it."""
    import shutil

    own = shutil.copytree(pack.folder, tmp_path / "pack", ignore=shutil.ignore_patterns("models"))
    before = json.loads(kocall("data", "check", str(own), "--json").stdout)["answered_elsewhere"]
    with open(own / "intents.csv", "a", encoding="utf-8") as f:
        f.write("연체 이자율이 몇 프로예요,fees\n")
    out = kocall("data", "check", str(own))
    assert out.returncode == 0
    assert f"under another intent (review; a caller who says one gets its label's answers): {before + 1}" in (
        out.stdout.decode())
    assert "'연체 이자율이 몇 프로예요'=fees: the FAQ reads overdue_payment" in out.stdout.decode()


def test_answered_elsewhere_keeps_examples_their_own_faq_answers():
    from data_tools.augment.checks import answered_elsewhere

    faq = [("연체 이자 얼마예요", "overdue_payment"), ("연체 이자율", "overdue_payment"),
           ("연회비가 얼마예요", "fees"), ("해외 결제 수수료", "fees")]
    found = answered_elsewhere([("연체 이자율 알려줘", "fees"), ("연회비 얼마야", "fees"), ("카드 잃어버렸어", "lost_card")],
                               faq, above=0.5)
    assert [(e.text, e.faq_intent) for e in found] == [("연체 이자율 알려줘", "overdue_payment")]
