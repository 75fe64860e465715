"""Whole conversations, judged only on how they end: the share that ends as the caller would expect.

Each script (``bench/conversations/<pack>.jsonl``, written apart from the stories the tests use) is a
caller's lines and what the call must come to: a form completed with given values, a hand-off for a
given reason, a given FAQ answer (an entry, ``faq``, or any answer of an intent, ``faq_intent``), a cancelled
form, or the goodbye. Every line goes through the served models (NLU) and the pack's dialog, typed as in chat
(no STT), with a fresh in-memory session per script.

    .venv/bin/python bench/conversations.py                       # the default pack's scripts
    .venv/bin/python bench/conversations.py --show                # and every turn of the scripts that fail
    .venv/bin/python bench/conversations.py --scripts bench/conversations/card_bank_fresh.jsonl   # the second set
    .venv/bin/python bench/conversations.py --scripts bench/conversations/card_bank_fourth.jsonl  # the fourth
    .venv/bin/python bench/conversations.py --all                 # every set of the pack, each apart
    KOCALL_NLU__INTENT_MODEL=/tmp/model/intent .venv/bin/python bench/conversations.py   # another model
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import Settings  # noqa: E402
from dialog.domain import Domain  # noqa: E402
from dialog.manager import Dialog  # noqa: E402
from dialog.sessions import MemoryStore  # noqa: E402
from nlu.entities import EntityExtractor  # noqa: E402
from nlu.understand import get_understander  # noqa: E402
from server.turns import Bot  # noqa: E402


def outcome(turns: list[dict], forms_done: dict[int, tuple[str, dict]]) -> dict:
    """What the call came to, in the terms of a script's ``expect``: its last decisive event (a form
    completed, a cancel, an FAQ answer, a hand-off, the goodbye), or where it stood when the lines ran out.
    A goodbye right after a form completed, a cancel or an answer (네 감사합니다, to "더 도와드릴 일이 있으신가요?")
    also says what it closed (``after``)."""
    last: dict | None = None
    for n, turn in enumerate(turns):
        closing = n > 0 and last is not None and "goodbye" not in last and _asked_anything_else(turns[n - 1])
        state = turn["dialog"]["state"]
        if turn["handoff"]:
            return {"handoff": turn["handoff"]["reason"]}  # the bot's part is over
        if n in forms_done:
            name, slots = forms_done[n]
            last = {"form": name, "slots": slots}
        elif state == "cancelled":
            last = {"cancelled": True}
        elif state.startswith("answered:"):
            last = {"faq": state.removeprefix("answered:")}
        elif turn["dialog"]["model"] == "goodbye":
            last = {"goodbye": True, "after": last} if closing else {"goodbye": True}
    if last is not None:
        return last
    final = turns[-1]["dialog"]
    return {"unfinished": f"{final['model']}/{final['state']}"}


def _asked_anything_else(turn: dict) -> bool:
    state = turn["dialog"]["state"]
    return state in ("completed", "cancelled") or state.startswith("answered:")


def ends_as(got: dict, expect: dict) -> bool:
    """Whether the call ended as the script expects: its outcome, where a polite close after the expected form,
    cancel or answer ends it as that (the caller got what they called for) as well as a goodbye."""
    if "after" in got:
        return expect in ({"goodbye": True}, got["after"])
    return got == expect


def by_intent(got: dict, intent_of: dict[str, str]) -> dict:
    """The outcome with each FAQ answer (an entry id) read as its intent, for a script whose writer named the intent
    (``{"faq_intent": "events"}``: any of the events entries' answers), not the entry."""
    if "after" in got:
        return {**got, "after": got["after"] and by_intent(got["after"], intent_of)}
    return {"faq_intent": intent_of[got["faq"]]} if "faq" in got else got


def named(expect: dict, names: dict[str, str]) -> dict:
    """The expectation with each slot value a caller may say in another way as the pack names it (농협 is the bank
    the pack calls 농협은행): a script's writer sees no gazetteer."""
    if "slots" not in expect:
        return expect
    return {**expect, "slots": {slot: names.get(value, value) for slot, value in expect["slots"].items()}}


def run(bot: Bot, store: MemoryStore, script: dict, session_id: str) -> tuple[dict, list[dict]]:
    """One script's lines as one call in a session of its own (``session_id`` must be new to ``store``)."""
    turns: list[dict] = []
    forms_done: dict[int, tuple[str, dict]] = {}  # turn number -> the form it completed, with its slots
    for line in script["caller"]:
        before = store.get(session_id)
        turn = bot.turn(session_id, line).as_json()
        # the form in progress, or the one set aside to answer a question on its side
        form = before and (before.form or (before.paused or {}).get("form"))
        if turn["dialog"]["state"] == "completed" and form:
            forms_done[len(turns)] = (form, turn["dialog"]["slots"])
        turns.append(turn)
        if turn["end"]:
            break
    return outcome(turns, forms_done), turns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scripts", type=Path, nargs="+", help="JSONL files of scripts (default: the pack's)")
    parser.add_argument("--all", action="store_true", help="every set of the pack's scripts "
                        "(bench/conversations/<pack>*.jsonl), each reported apart")
    parser.add_argument("--show", action="store_true", help="print every turn of the scripts that fail")
    args = parser.parse_args()
    settings = Settings()
    pack = settings.pack()
    domain = Domain.load(pack.domain)
    # The sets are named after the domain (domain.yaml's name), so a copy of a pack in another folder reads them too.
    folder = ROOT / "bench" / "conversations"
    default = [folder / f"{domain.name}.jsonl"]
    paths = sorted(folder.glob(f"{domain.name}*.jsonl")) if args.all else args.scripts or default
    missing = [str(path) for path in paths if not path.is_file()]
    if not paths or missing:
        parser.error(f"no scripts at {', '.join(missing) or folder / (domain.name + '*.jsonl')}")
    understander = get_understander(settings.nlu, settings.cache_dir, pack)
    store = MemoryStore()
    bot = Bot(understander, Dialog(domain, store))
    names = EntityExtractor.load(pack.gazetteer).names
    totals = {path.stem: run_set(bot, store, path, args.show, names) for path in paths}
    if len(totals) > 1:
        print("\nper set: " + "; ".join(f"{name} {passed} of {n}" for name, (passed, n) in totals.items()))


def run_set(bot: Bot, store: MemoryStore, path: Path, show: bool, names: dict[str, str]) -> tuple[int, int]:
    """Run one file's scripts and print each outcome; returns (ended as expected, scripts)."""
    scripts = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    print(f"\n{path.name}")
    passed, kinds = 0, Counter()
    print(f"{'script':44s} {'ok':3s} expected -> got")
    for script in scripts:
        # The set's name in the session: sets may share a script's id, and a call must not go on from another's.
        got, turns = run(bot, store, script, f"{path.stem}/{script['id']}")
        if "faq_intent" in script["expect"]:
            got = by_intent(got, {entry.id: entry.intent for entry in bot.dialog.domain.faq})
        ok = ends_as(got, named(script["expect"], names))
        passed += ok
        kinds[next(iter(script["expect"])), ok] += 1
        print(f"{script['id'][:44]:44s} {'yes' if ok else 'NO':3s} {json.dumps(script['expect'], ensure_ascii=False)}"
              f"{'' if ok else ' -> ' + json.dumps(got, ensure_ascii=False)}")
        if show and not ok:
            for said, turn in zip(script["caller"], turns):
                print(f"      caller: {said}\n      bot:    {turn['reply']}   [{turn['intent']} {turn['confidence']:.2f}"
                      f" {turn['dialog']['model']}/{turn['dialog']['state']}]")
    print(f"\n{passed} of {len(scripts)} end as the caller would expect ({passed / len(scripts):.0%})")
    for kind in sorted({k for k, _ in kinds}):
        print(f"  {kind:10s} {kinds[kind, True]} of {kinds[kind, True] + kinds[kind, False]}")
    return passed, len(scripts)


if __name__ == "__main__":
    main()
