"""A whole text turn: understand the caller, let the dialog answer, report both.

``kocall chat``, the ``/chat`` endpoint and the telephone line all call
:meth:`Bot.turn`, so a conversation behaves the same typed, posted or spoken,
and all three print the same JSON (:meth:`BotTurn.as_json`).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialog.domain import Domain
from dialog.manager import Dialog, Turn
from dialog.sessions import open_store
from kocall.settings import DialogSettings, NluSettings
from nlu.understand import EmptyText, Understander, Understanding, get_understander, nothing_said


@dataclass(frozen=True)
class BotTurn:
    understood: Understanding
    turn: Turn
    nlu_ms: float
    dialog_ms: float

    def as_json(self) -> dict[str, Any]:
        """The per-turn JSON of ``kocall chat`` and ``POST /chat`` (identifiers masked)."""
        shown = self.understood.shown()
        return {
            "reply": self.turn.reply,
            "text": shown["text"],
            "intent": self.understood.intent,
            "confidence": round(self.understood.confidence, 4),
            "top_k": [[label, round(p, 4)] for label, p in self.understood.top_k],
            "utterance_type": self.understood.utterance_type,
            "entities": shown["entities"],
            "dialog": {"model": self.turn.model, "state": self.turn.state, "slots": self.turn.slots},
            "handoff": self.turn.handoff,
            "end": self.turn.end,
            "latency_ms": {"nlu": round(self.nlu_ms, 2), "dialog": round(self.dialog_ms, 2)},
        }


class Bot:
    def __init__(self, understander: Understander, dialog: Dialog) -> None:
        self.understander = understander
        self.dialog = dialog

    def turn(self, session_id: str, text: str) -> BotTurn:
        """One caller utterance in; an empty one (silence, only fillers) is a turn nobody understood."""
        start = time.perf_counter()
        try:
            understood = self.understander.understand(text)
        except EmptyText:
            understood = nothing_said()
        mid = time.perf_counter()
        turn = self.dialog.respond(session_id, understood, understood.shown()["text"])
        return BotTurn(understood, turn, (mid - start) * 1000, (time.perf_counter() - mid) * 1000)


@functools.lru_cache(maxsize=2)
def get_bot(nlu: NluSettings, dialog: DialogSettings, cache_dir: Path) -> Bot:
    """The process-wide bot: models, domain and session store opened once."""
    store = open_store(dialog.session_store, dialog.session_ttl_s)
    return Bot(get_understander(nlu, cache_dir), Dialog(Domain.load(dialog.domain), store))
