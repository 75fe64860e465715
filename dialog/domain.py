"""The domain file: intents, the dialog model for each, responses, forms and FAQ.

A domain is data, not code (as in Rasa): a team writes its own YAML and points
``KOCALL_DIALOG__DOMAIN`` or ``--domain`` at it. Everything is checked when the
file is loaded, so a typo fails at start-up with the key that is wrong rather
than in the middle of a call.
"""

from __future__ import annotations

import csv
import re
import string
import unicodedata
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

OUT_OF_SCOPE = "out_of_scope"  # the intent of a turn the NLU reads as no request the domain knows
MODELS = ("greeting", "goodbye", "answer", "faq", "form", "handoff")
SLOT_ENTITIES = ("text",)  # besides the NLU's entity types: the turn's words, what `pattern` matches of them
REQUIRED_RESPONSES = ("greeting", "goodbye", "ask_what", "anything_else", "cancelled", "declined", "handoff",
                      "after_handoff", "no_agent", "switched", "correct_which", "did_you_mean", "fallback")


class DomainError(ValueError):
    """The domain file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Policy:
    confirm_below: float = 0.6
    switch_above: float = 0.8
    max_fallbacks: int = 2
    max_invalid: int = 2
    did_you_mean_margin: float = 15.0  # percentage points between the two likeliest FAQ answers (dialog.faq)


@dataclass(frozen=True)
class IntentRoute:
    model: str
    form: str | None = None
    offer: str | None = None  # the question asked when the caller only said a fragment
    reason: str | None = None  # hand-off reason
    reply: str | None = None  # overrides the model's usual reply


@dataclass(frozen=True)
class Slot:
    name: str
    title: str
    entity: tuple[str, ...]  # entity types that can fill it, first match wins
    ask: str
    invalid: str
    allowed: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None

    def accepts(self, value: Any) -> bool:
        """Whether a value of the right entity type is also a valid answer."""
        if self.allowed and value not in self.allowed:
            return False
        if isinstance(value, (int, float)):
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                return False
        if self.pattern is not None and not re.search(self.pattern, str(value)):
            return False
        return True

    def finds(self, text: str) -> bool:
        """Whether the slot's ``pattern`` finds a value of three words or more in the text: a slot filled from words
        it was not asked for (주소 좀 바꿔 주세요 새 주소는 서울시 마포구 월드컵북로 삼백 ...); two words that only end
        as its parts do (그래도 우편으로) are not taken for one."""
        found = re.search(self.pattern, text) if self.pattern is not None else None
        return found is not None and len(found.group(0).split()) >= 3

    def said(self, text: str) -> str:
        """The part of a turn that is this slot's value, for a slot filled from the turn's words (``text``): what
        its ``pattern`` matches, as a caller often says more than the value (대전시 유성구 대학로 이백일이요 딸네 아파트
        바로 옆이에요); the whole turn where it has none."""
        found = re.search(self.pattern, text) if self.pattern is not None else None
        return found.group(0) if found else text


@dataclass(frozen=True)
class Form:
    name: str
    title: str
    slots: tuple[Slot, ...]
    confirm: str
    done: str

    def slot(self, name: str) -> Slot:
        return next(s for s in self.slots if s.name == name)

    @property
    def entity_types(self) -> frozenset[str]:
        """The entity types its slots take (``text`` among them where a slot takes free text)."""
        return frozenset(t for slot in self.slots for t in slot.entity)

    @property
    def value_types(self) -> frozenset[str]:
        """The entity types its slots take but free text, which any turn is."""
        return self.entity_types - {"text"}


@dataclass(frozen=True)
class FaqEntry:
    id: str
    intent: str
    title: str
    questions: tuple[str, ...]
    answer: str
    lookup: str | None = None  # a back-end lookup (dialog.backend) that answers it for this caller ...
    lookup_answer: str | None = None  # ... spoken through this template of its fields; `answer` where it cannot
    more_questions: tuple[str, ...] = ()  # the pack's faq_questions.csv: read by the FAQ picker only


@dataclass(frozen=True)
class Words:
    """Short answers recognised by their words, before any model: 응, 아니, 취소; the words that name a
    person (상담원), which tell a request for one from a cancel word a model misread; words of anger; and words
    that hang up or give up."""

    affirm: tuple[str, ...]
    deny: tuple[str, ...]
    cancel: tuple[str, ...]
    person: tuple[str, ...]
    lead: tuple[str, ...] = ()  # words that only soften what follows (그냥, 아이고): skipped before the others
    complaint: tuple[str, ...] = ()  # plain anger (짜증, 어이없): in a form, a turn with one and no value hands off
    goodbye: tuple[str, ...] = ()  # hanging up (끊을게요): a turn that ends with one and is read as no request closes
    stop: tuple[str, ...] = ()  # giving up (그만할래, 안 할게요): in a form, a turn that ends with one cancels it
    repeat: tuple[str, ...] = ()  # not heard (뭐라고요, 잘 안 들려요): a turn with one and no value hears the last reply again
    acknowledge: tuple[str, ...] = ()  # taking an answer in (알겠습니다, 그렇구나): after one, a turn that ends so asks nothing
    thanks: tuple[str, ...] = ()  # thanks (고맙습니다), which may follow an `acknowledge` word at the end of a turn
    refer: tuple[str, ...] = ()  # pointing at what was just said (그거, 그걸): a word that opens with one
    not_that: tuple[str, ...] = ()  # turning away (그거 말고, 그거 자동이체 말고): of the two words after a `refer` one
    then: tuple[str, ...] = ()  # "then" (그럼, 그라믄): a question that opens with one goes on from the answer given
    asking: tuple[str, ...] = ()  # asking for information (어떻게, 얼마): a word that opens with one
    checking: tuple[str, ...] = ()  # a tag question (거죠, 맞죠): a turn whose last word is one checks what was said
    requesting: tuple[str, ...] = ()  # the last words of a request (해 주세요, 할게요): in a read-back, one asks again
    weighing: tuple[str, ...] = ()  # a request only weighed (할까 하는데요, 해지할까 싶어서): a turn with one is offered
    joins: tuple[str, ...] = ()  # "and" between two requests (그리고): in a form, what follows one is kept for after it
    searching: tuple[str, ...] = ()  # looking for a word (뭐더라, 뭐였지): a turn with one answers no yes or no
    nothing: tuple[str, ...] = ()  # "nothing" (없어요): after "anything else?", a turn that ends with one closes it
    sooner: tuple[str, ...] = ()  # "before that" (그 전에, 먼저): a question after a `joins` one in a form is answered first


@dataclass(frozen=True)
class Domain:
    name: str
    policy: Policy
    words: Words
    responses: dict[str, Any]
    intents: dict[str, IntentRoute]
    forms: dict[str, Form]
    faq: tuple[FaqEntry, ...]

    @classmethod
    def load(cls, path: Path) -> Domain:
        """Read and check a domain YAML file (a domain pack's ``domain.yaml``)."""
        try:
            text, where = Path(path).read_text("utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as e:
            raise DomainError(f"{path}: cannot read the domain file ({e})") from e
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise DomainError(f"{where}: not valid YAML ({e})") from e
        if not isinstance(data, dict):
            raise DomainError(f"{where}: expected a mapping with intents, responses, forms and faq")
        domain = _parse(data, where)
        more = _more_questions(Path(path).with_name(FAQ_QUESTIONS), {e.id for e in domain.faq})
        return replace(domain, faq=tuple(replace(e, more_questions=more.get(e.id, ())) for e in domain.faq))


FAQ_QUESTIONS = "faq_questions.csv"


def _more_questions(path: Path, ids: set[str]) -> dict[str, tuple[str, ...]]:
    """More ways callers ask for each FAQ entry (``entry,question``, beside ``domain.yaml``; optional): lines that
    tell an entry from its siblings (연체됐는데 어떻게 내면 돼요 is the payment, not the interest), for the picker
    among an intent's entries (:mod:`dialog.faq`). They are not intent examples, as an entry's ``questions`` are:
    the intent model is trained and measured apart (docs/understanding.md, "Picking among an intent's answers")."""
    if not path.is_file():
        return {}
    more: dict[str, list[str]] = {}
    try:
        with path.open(encoding="utf-8", newline="") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                entry, question = (row.get("entry") or "").strip(), (row.get("question") or "").strip()
                if entry not in ids or not question:
                    raise DomainError(f"{path}:{line}: expected an FAQ entry id of domain.yaml and a question "
                                      f"(entry,question), got {entry!r}, {question!r}")
                more.setdefault(entry, []).append(question)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DomainError(f"{path}: cannot read the FAQ questions ({e})") from e
    return {entry: tuple(questions) for entry, questions in more.items()}


def _parse(data: dict, where: str) -> Domain:
    def fail(key: str, problem: str) -> DomainError:
        return DomainError(f"{where}: {key}: {problem}")

    def need(mapping: dict, key: str, path: str) -> Any:
        if not isinstance(mapping, dict) or key not in mapping:
            raise fail(path, f"missing '{key}'")
        return mapping[key]

    try:
        policy = Policy(**data.get("policy", {}))
    except TypeError as e:
        raise fail("policy", str(e)) from e
    words = data.get("words", {})
    kinds = [f.name for f in fields(Words)]
    unknown = sorted(set(words) - set(kinds)) if isinstance(words, dict) else ["(not a mapping)"]
    if unknown:
        raise fail("words", f"unknown kinds {', '.join(map(str, unknown))}; known: {', '.join(kinds)}")
    # as the NLU writes the caller's text (NFKC, lower case): a chat user's ㅇㅇ reaches the dialog as ᄋᄋ
    words = Words(**{k: tuple(unicodedata.normalize("NFKC", str(w)).lower() for w in words.get(k, ())) for k in kinds})
    responses = need(data, "responses", "responses")
    for key in REQUIRED_RESPONSES:
        need(responses, key, "responses")
    if not isinstance(responses["fallback"], list) or not responses["fallback"]:
        raise fail("responses.fallback", "expected a list of re-prompts, gentlest first")

    forms = {}
    for name, spec in (data.get("forms") or {}).items():
        path = f"forms.{name}"
        slots = []
        for i, s in enumerate(need(spec, "slots", path)):
            entity = s.get("entity") if isinstance(s, dict) else None
            entity = (entity,) if isinstance(entity, str) else tuple(entity or ())
            if not entity:
                raise fail(f"{path}.slots[{i}]", "needs 'entity': the entity types that fill it")
            try:
                slots.append(Slot(**{**s, "entity": entity, "allowed": tuple(s.get("allowed", ()))}))
            except TypeError as e:
                raise fail(f"{path}.slots[{i}]", str(e)) from e
        names = {s.name for s in slots}
        for key in ("confirm", "done"):
            unknown = _fields(need(spec, key, path)) - names
            if unknown:
                raise fail(f"{path}.{key}", f"refers to unknown slots {sorted(unknown)}")
        forms[name] = Form(name, spec.get("title", name), tuple(slots), spec["confirm"], spec["done"])

    intents = {}
    for name, spec in need(data, "intents", "intents").items():
        path = f"intents.{name}"
        try:
            route = IntentRoute(**spec)
        except TypeError as e:
            raise fail(path, str(e)) from e
        if route.model not in MODELS:
            raise fail(path, f"unknown model '{route.model}' (one of {', '.join(MODELS)})")
        if route.model == "form" and route.form not in forms:
            raise fail(path, f"form '{route.form}' is not defined under forms")
        intents[name] = route

    faq = []
    for i, spec in enumerate(data.get("faq") or ()):
        try:
            entry = FaqEntry(**{**spec, "questions": tuple(spec.get("questions", ()))})
        except TypeError as e:
            raise fail(f"faq[{i}]", str(e)) from e
        if entry.intent not in intents:
            raise fail(f"faq[{i}]", f"intent '{entry.intent}' is not declared under intents")
        if (entry.lookup is None) != (entry.lookup_answer is None):
            raise fail(f"faq[{i}]", "'lookup' and 'lookup_answer' go together")
        faq.append(entry)
    for name, route in intents.items():
        if route.model == "faq" and not any(e.intent == name for e in faq):
            raise fail(f"intents.{name}", "routed to faq but no faq entry has this intent")
    return Domain(str(data.get("name", "domain")), policy, words, responses, intents, forms, tuple(faq))


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
