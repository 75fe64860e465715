"""Answers only the call center's systems hold: asked of the back-end, spoken through the domain's template,
with the how-to answer where the back-end cannot answer."""

from __future__ import annotations

import sys
import textwrap

import pytest

from dialog.backend import STUB_ANSWERS, BackendError, BackendUnavailable, StubBackend, load_backend
from dialog.domain import Domain, DomainError
from dialog.manager import Dialog
from dialog.sessions import MemoryStore
from tests.test_dialog import Reading


class CallCenter:
    """A call center's own back-end, as a team would plug it in: real figures, no example notice."""

    name = "ours"
    example = False

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.asked: list[tuple[str, str]] = []

    def lookup(self, query: str, caller: str) -> dict[str, str]:
        self.asked.append((query, caller))
        if self.down:
            raise BackendUnavailable("core banking is down")
        return {"amount": "1,234,000", "due_day": "25"}


def test_the_stub_answers_the_bill_amount_and_says_its_figures_are_examples(pack):
    domain = Domain.load(pack.domain)
    turn = Dialog(domain, MemoryStore()).respond("s", Reading("이번 달 카드값 얼마예요", "bill_amount", 0.95))
    figures = STUB_ANSWERS["bill_amount"]
    assert turn.state == "answered:bill_amount"
    assert turn.reply.startswith(domain.responses["example_data"])
    assert f"{figures['amount']}원" in turn.reply and f"{figures['due_day']}일" in turn.reply


def test_a_call_centers_backend_is_asked_for_this_caller_and_its_figures_are_spoken(pack):
    domain, ours = Domain.load(pack.domain), CallCenter()
    turn = Dialog(domain, MemoryStore(), ours).respond("CA123", Reading("카드값 얼마 나왔어", "bill_amount", 0.95))
    assert ours.asked == [("bill_amount", "CA123")]
    assert "1,234,000원" in turn.reply and "25일" in turn.reply
    assert domain.responses["example_data"] not in turn.reply


def test_when_the_backend_cannot_answer_the_caller_hears_how_to_find_it(pack):
    domain = Domain.load(pack.domain)
    turn = Dialog(domain, MemoryStore(), CallCenter(down=True)).respond(
        "d", Reading("카드값 얼마 나왔어", "bill_amount", 0.95))
    entry = next(e for e in domain.faq if e.id == "bill_amount")
    assert turn.state == "answered:bill_amount" and turn.reply.startswith(entry.answer)


def test_an_entry_without_a_lookup_never_asks_the_backend(pack):
    ours = CallCenter()
    turn = Dialog(Domain.load(pack.domain), MemoryStore(), ours).respond("h", Reading("영업시간 알려줘", "opening_hours", 0.95))
    assert turn.model == "faq" and ours.asked == []


def test_every_lookup_the_default_domain_names_is_one_the_stub_answers(pack):
    domain = Domain.load(pack.domain)
    lookups = [e for e in domain.faq if e.lookup]
    assert len(lookups) >= 3
    for entry in lookups:
        entry.lookup_answer.format(**StubBackend().lookup(entry.lookup, "any"))  # every field it speaks is there
    with pytest.raises(BackendUnavailable):
        StubBackend().lookup("mortgage_rate", "any")


def test_backends_load_by_name_and_bad_names_say_what_is_wrong(tmp_path, monkeypatch):
    assert load_backend("stub").name == "stub"
    (tmp_path / "our_systems.py").write_text(textwrap.dedent("""
        class Ours:
            name, example = "ours", False
            def lookup(self, query, caller):
                return {}
        def make():
            return Ours()
        def broken():
            return 42
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_backend("our_systems:make").name == "ours"
    for spec, problem in [("our_systems", "expected"), ("no_such_module:make", "cannot load"),
                          ("our_systems:nothing", "cannot load"), ("our_systems:broken", "lookup()")]:
        with pytest.raises(BackendError, match=problem):
            load_backend(spec)
    sys.modules.pop("our_systems", None)


def test_a_lookup_without_its_template_is_refused_when_the_domain_loads(tmp_path, pack):
    lines = pack.domain.read_text("utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.startswith("    lookup_answer: 이번 결제일인"))
    (tmp_path / "domain.yaml").write_text(text, "utf-8")
    with pytest.raises(DomainError, match="'lookup' and 'lookup_answer' go together"):
        Domain.load(tmp_path / "domain.yaml")
