"""The telephone edge (Twilio): the call webhooks and the media stream.

Every webhook is refused (403) unless its ``X-Twilio-Signature`` verifies with
the account's auth token; without a configured token nothing can be verified,
so telephony stays off. Twilio's formats (form posts, TwiML, media-stream JSON)
are handled in ``server.twilio``; the call itself in ``server.calls``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from starlette.websockets import WebSocketState

from core.settings import Settings
from dialog.sessions import StoreUnavailable
from server import twilio
from server.calls import Call, TwilioVoice
from server.deps import read_limited, services_of, settings_of
from server.services import Services

ENDED = ("completed", "busy", "failed", "no-answer", "canceled")
MAX_RECONNECTS = 3  # a call's streams that may close before its end and be opened again; then a person
CALL_STATUSES = ["queued", "ringing", "in-progress", *ENDED]
# The webhooks' bodies are read by hand (the signature is checked over the raw form), so their schema is given here.
WEBHOOK = {
    "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
        "CallSid": {"type": "string"}, "CallStatus": {"type": "string", "enum": CALL_STATUSES},
        "From": {"type": "string"}, "To": {"type": "string"}}}}}},
    "parameters": [{"name": "X-Twilio-Signature", "in": "header", "required": False, "schema": {"type": "string"}}],
}
router = APIRouter(prefix="/twilio", tags=["telephony"])


async def signed_form(request: Request, s: Services = Depends(services_of),
                      settings: Settings = Depends(settings_of)) -> dict[str, str]:
    """The webhook's form parameters, once its signature is verified (403 otherwise)."""
    token = settings.server.twilio_auth_token
    if token is None:
        s.metrics.errors.labels("twilio", "not_configured").inc()
        raise HTTPException(403, "telephony is not configured: set KOCALL_SERVER__TWILIO_AUTH_TOKEN to the "
                                 "Twilio account's auth token so that requests can be verified")
    body = await read_limited(request, 64 * 1024)
    try:
        form = _parse_form(body)
    except ValueError as exc:
        raise HTTPException(400, f"malformed form data: {exc}") from exc
    url = twilio.public_url(settings.server.public_url, str(request.url))
    if not twilio.signature_ok(token.get_secret_value(), url, form, request.headers.get("X-Twilio-Signature")):
        s.metrics.errors.labels("twilio", "forbidden").inc()
        raise HTTPException(403, "invalid or missing X-Twilio-Signature")
    return form


@router.post("/voice", openapi_extra=WEBHOOK)
def voice(request: Request, params: dict[str, str] = Depends(signed_form), s: Services = Depends(services_of),
          settings: Settings = Depends(settings_of)) -> Response:
    """Twilio's incoming-call webhook: greet the caller and stream the call's audio to /twilio/media."""
    call_sid = params.get("CallSid")
    if not call_sid:
        raise HTTPException(400, "CallSid is missing from the webhook form")
    url = twilio.public_url(settings.server.public_url, str(request.url))
    xml = twilio.connect_twiml(s.dialog.domain.responses["greeting"], twilio.stream_url(url), call_sid,
                               twilio.next_url(url), settings.server.twilio_voice)
    return Response(xml, media_type="application/xml")


@router.post("/next", openapi_extra=WEBHOOK)
def next_step(request: Request, params: dict[str, str] = Depends(signed_form), s: Services = Depends(services_of),
              settings: Settings = Depends(settings_of)) -> Response:
    """Where Twilio goes when the media stream closes: a hand-off is put through to a person; a call the bot
    had not finished (its stream closed by a restart) streams again; else hang up. A call whose turns kept
    failing, or whose session cannot be read, goes to a person too."""
    call_sid = params.get("CallSid") or ""
    try:
        session = s.dialog.store.get(call_sid) if call_sid else None
        handoff = session is not None and session.handoff is not None
        unfinished = session is None or not session.ended  # no session: its first turn was never answered
    except StoreUnavailable:
        handoff, unfinished = True, False
    handoff = handoff or call_sid in s.failed_calls
    s.failed_calls.discard(call_sid)
    s.reconnects[call_sid] = s.reconnects.get(call_sid, 0) + 1
    if s.reconnects[call_sid] > MAX_RECONNECTS:  # streams that keep closing (a server full, or failing)
        handoff = True
    if unfinished and not handoff and not s.draining and call_sid:
        # The stream closed before the bot's last words: a server restarting or lost, maybe with the caller's
        # turn in flight. The caller is asked to say it again, the call streams here, and its session goes on.
        url = twilio.public_url(settings.server.public_url, str(request.url))
        responses = s.dialog.domain.responses
        xml = twilio.connect_twiml(responses.get("trouble", responses["fallback"][0]), twilio.stream_url(url),
                                   call_sid, twilio.next_url(url), settings.server.twilio_voice)
        return Response(xml, media_type="application/xml")
    s.reconnects.pop(call_sid, None)
    xml = twilio.after_stream_twiml(handoff, settings.server.agent_number, s.dialog.domain.responses["no_agent"])
    return Response(xml, media_type="application/xml")


@router.post("/status", openapi_extra=WEBHOOK)
def status(params: dict[str, str] = Depends(signed_form), s: Services = Depends(services_of)) -> dict:
    """Twilio's call-status callback: a completed call's dialog session is dropped."""
    if params.get("CallStatus") in ENDED and params.get("CallSid"):
        s.failed_calls.discard(params["CallSid"])
        s.reconnects.pop(params["CallSid"], None)
        try:
            s.dialog.hang_up(params["CallSid"])
        except StoreUnavailable:
            pass  # the session expires on its own (session_ttl_s)
    return {"ok": True}


@router.websocket("/media")
async def media(websocket: WebSocket) -> None:
    """Twilio Media Streams: 20 ms mu-law frames in; reply audio (or text), marks and clears out."""
    s: Services | None = websocket.app.state.services
    settings: Settings = websocket.app.state.settings
    if s is None:
        await websocket.close(code=1013, reason=f"not ready: {websocket.app.state.status}"[:120])
        return
    if not _signed_websocket(websocket, settings):
        s.metrics.errors.labels("media", "forbidden").inc()
        await websocket.close(code=1008, reason="invalid or missing X-Twilio-Signature")
        return
    if s.open_calls >= settings.server.max_calls or s.draining:
        s.metrics.errors.labels("media", "draining" if s.draining else "too_many_calls").inc()
        await websocket.close(code=1013, reason="the server is restarting" if s.draining else "too many calls")
        return
    await websocket.accept()
    s.streams.add(websocket)
    s.open_calls += 1
    s.metrics.calls_active.inc()
    call = Call(s, websocket.send_text, _twilio_voice(websocket, s, settings))
    try:
        while True:
            try:
                msg = twilio.parse(await websocket.receive_text())
            except twilio.BadMessage as exc:
                s.metrics.errors.labels("media", "bad_message").inc()
                await websocket.close(code=1003, reason=str(exc)[:120])
                break
            if not await call.handle(msg):
                break
    except WebSocketDisconnect:
        pass
    finally:
        s.streams.discard(websocket)
        await call.close()
        s.open_calls -= 1
        s.metrics.calls_active.dec()
        if websocket.application_state == WebSocketState.CONNECTED:
            await websocket.close()


def _twilio_voice(websocket: WebSocket, s: Services, settings: Settings) -> TwilioVoice | None:
    """Twilio's own voice for the replies that come without audio: all of them ('auto', 'twilio'), or those a
    TTS engine could not voice in time; none where text was asked for ('none', espeak-ng)."""
    if settings.server.tts in ("none", "espeak-ng") or s.twilio_api is None:
        return None
    media_url = _websocket_url(websocket, settings).split("?", 1)[0]
    return TwilioVoice(s.twilio_api, settings.server.twilio_auth_token.get_secret_value(),
                       settings.server.twilio_voice, media_url, twilio.next_url(twilio.http_base(media_url)))


def _websocket_url(websocket: WebSocket, settings: Settings) -> str:
    """The media websocket's URL as Twilio reaches it (and signs it)."""
    base = settings.server.public_url
    return twilio.public_url(base and twilio.websocket_base(base), str(websocket.url))


def _signed_websocket(websocket: WebSocket, settings: Settings) -> bool:
    token = settings.server.twilio_auth_token
    if token is None:
        return False
    url = _websocket_url(websocket, settings)
    return twilio.signature_ok(token.get_secret_value(), url, {}, websocket.headers.get("X-Twilio-Signature"))


def _parse_form(body: bytes) -> dict[str, str]:
    """application/x-www-form-urlencoded, strictly: bad percent-encoding or UTF-8 is an error."""
    text = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict"))
