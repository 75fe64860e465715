"""Hand-off to a human agent: on request, on complaints, after repeated failures.

The agent must not start from zero, so the hand-off carries a summary: why,
the intent, the slots filled so far (masked), and the conversation so far.
"""

from __future__ import annotations

from dialog.domain import Domain
from dialog.sessions import Session

REASONS = ("requested", "complaint", "repeated_misunderstanding", "invalid_values")


def hand_off(domain: Domain, session: Session, reason: str, reply: str | None = None) -> str:
    session.model, session.state = "handoff", reason
    session.handoff = {
        "reason": reason,
        "intent": session.intent,
        "form": session.form,
        "slots": dict(session.shown),
        "turns": session.turns,
        "transcript": list(session.history),
    }
    session.form, session.pending, session.ended = None, None, True
    return reply or domain.responses["handoff"]
