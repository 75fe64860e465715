"""The chat edge: one typed turn at ``POST /chat``, and where a conversation stands."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from core.settings import Settings
from dialog.sessions import StoreUnavailable
from server.deps import first_error, read_limited, services_of, settings_of
from server.services import Services

SESSION_ID = r"^[A-Za-z0-9_.:\-]{1,128}$"
RETRY_AFTER_S = 5  # seconds a client is asked to wait when the session store is down
router = APIRouter(tags=["chat"])


class ChatRequest(BaseModel):
    session_id: str = Field(..., pattern=SESSION_ID, description="The conversation; the first message opens it.")
    text: str = Field(..., min_length=1, description="What the user typed.")


@router.post("/chat", openapi_extra={"requestBody": {  # read by hand, so that the size limit comes first
    "required": True, "content": {"application/json": {"schema": ChatRequest.model_json_schema()}}}})
async def chat(request: Request, s: Services = Depends(services_of),
               settings: Settings = Depends(settings_of)) -> dict:
    """One chat turn: ``{"session_id", "text"}`` -> the same JSON per turn as ``kocall chat``."""
    limit = settings.server.max_text_chars
    body = await read_limited(request, 6 * limit + 1024)  # room for \uXXXX escapes
    try:
        message = ChatRequest.model_validate_json(body)
    except ValueError as exc:
        s.metrics.errors.labels("chat", "malformed").inc()
        raise HTTPException(422, first_error(exc)) from exc
    if len(message.text) > limit:
        s.metrics.errors.labels("chat", "too_long").inc()
        raise HTTPException(413, f"text of {len(message.text)} characters is over the {limit}-character limit")
    if s.draining:
        raise HTTPException(503, "the server is restarting; send the turn again (the conversation is kept where "
                                 "the session store is shared)", headers={"Retry-After": str(RETRY_AFTER_S)})
    try:
        return await s.run(s.pipeline.chat, message.session_id, message.text)
    except StoreUnavailable as exc:
        s.metrics.errors.labels("chat", "session_store").inc()
        raise HTTPException(503, f"the conversation cannot go on now: {exc}; try again shortly",
                            headers={"Retry-After": str(RETRY_AFTER_S)}) from exc


@router.get("/chat/{session_id}")
def chat_session(session_id: str, s: Services = Depends(services_of)) -> dict:
    """Where a conversation stands (dialog model, state, slots, turns); 404 if unknown or expired."""
    try:
        session = s.dialog.store.get(session_id) if re.match(SESSION_ID, session_id) else None
    except StoreUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": str(RETRY_AFTER_S)}) from exc
    if session is None:
        raise HTTPException(404, f"no session {session_id!r} (never opened, or expired)")
    return {"session_id": session.id, "model": session.model, "state": session.state, "form": session.form,
            "slots": session.shown, "turns": session.turns, "ended": session.ended, "handoff": session.handoff}
