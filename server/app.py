"""FastAPI application: telephone webhook and media stream, chat, transcription, health, metrics.

Routes stay thin: they validate at the edge, run every CPU-heavy step on the
bounded worker pool (never on the event loop), and turn the stages' exceptions
into clear 4xx answers. Models are loaded once, at start-up, by the lifespan;
``/healthz`` answers 503 until they are.
"""

from __future__ import annotations

import asyncio
import logging
import re
from contextlib import asynccontextmanager
from dataclasses import asdict
from urllib.parse import parse_qsl

from fastapi import Depends, FastAPI, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.websockets import WebSocketState

from data_tools.monitor import monitor, parse_duration
from kocall import __version__
from kocall.settings import Settings
from server import twilio
from server.calls import Call
from server.labeling import label_router
from server.pipeline import Services, chat_turn
from stt.audio import AudioError, AudioTooLong, UnsupportedAudio, decode_audio

log = logging.getLogger(__name__)
SESSION_ID = r"^[A-Za-z0-9_.:\-]{1,128}$"


class ChatRequest(BaseModel):
    session_id: str = Field(..., pattern=SESSION_ID, description="The conversation; the first message opens it.")
    text: str = Field(..., min_length=1, description="What the user typed.")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        services = await asyncio.to_thread(Services.load, settings)
        app.state.services = services
        try:
            yield
        finally:
            app.state.services = None
            await asyncio.to_thread(services.close)

    app = FastAPI(title="kocall", version=__version__, lifespan=lifespan,
                  description="Korean call-center voice bot: telephone (Twilio) and chat.")
    app.state.services = None

    def services(request: Request) -> Services:
        loaded = request.app.state.services
        if loaded is None:
            raise HTTPException(503, "models are still loading")
        return loaded

    app.include_router(label_router(settings, services))

    @app.get("/healthz")
    def healthz(request: Request) -> dict:
        """200 once the models are loaded."""
        loaded = services(request)
        return {"status": "ok", "stt_model": settings.stt.model, "tts": loaded.tts.name if loaded.tts else None,
                "session_store": settings.dialog.session_store}

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics(s: Services = Depends(services)) -> Response:
        """Prometheus text format: turns, per-stage latency, errors, live calls, media frames."""
        return Response(generate_latest(s.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/monitor")
    def monitor_view(turns: int | None = Query(None, ge=1, le=100_000, description="windows of this many turns"),
                     window: str = Query("1h", description="window length when not by turns: 30m, 1h, 1d"),
                     s: Services = Depends(services)) -> list[dict]:
        """Live traffic over time from the turn log: intent drift, out-of-scope, hand-off, STT and latency."""
        try:
            every = parse_duration(window)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        return [asdict(w) for w in monitor(s.turn_log.read(), s.training_mix, every=every, per=turns)]

    @app.post("/chat")
    async def chat(request: Request, s: Services = Depends(services)) -> dict:
        """One chat turn: ``{"session_id", "text"}`` -> the same JSON per turn as ``kocall chat``."""
        body = await _read_limited(request, 6 * settings.server.max_text_chars + 1024)  # \uXXXX escapes
        try:
            message = ChatRequest.model_validate_json(body)
        except ValueError as exc:
            s.metrics.errors.labels("chat", "malformed").inc()
            raise HTTPException(422, _first_error(exc)) from exc
        if len(message.text) > settings.server.max_text_chars:
            s.metrics.errors.labels("chat", "too_long").inc()
            raise HTTPException(413, f"text of {len(message.text)} characters is over the "
                                     f"{settings.server.max_text_chars}-character limit")
        return await s.run(chat_turn, s, message.session_id, message.text)

    @app.get("/chat/{session_id}")
    def chat_session(session_id: str, s: Services = Depends(services)) -> dict:
        """Where a conversation stands (dialog model, state, slots, turns); 404 if unknown or expired."""
        session = s.bot.dialog.store.get(session_id) if re.match(SESSION_ID, session_id) else None
        if session is None:
            raise HTTPException(404, f"no session {session_id!r} (never opened, or expired)")
        return {"session_id": session.id, "model": session.model, "state": session.state, "form": session.form,
                "slots": session.shown, "turns": session.turns, "ended": session.ended, "handoff": session.handoff}

    @app.post("/transcribe")
    async def transcribe(
        request: Request,
        rate: int | None = Query(None, description="headerless PCM16 at this rate (Hz)"),
        mulaw: bool = Query(False, description="headerless G.711 mu-law (8000 Hz unless rate)"),
        s: Services = Depends(services),
    ) -> dict:
        """Audio bytes as the request body (any format `kocall transcribe` reads) -> segments with timestamps."""
        body = await _read_limited(request, settings.server.max_upload_bytes)
        try:
            audio = decode_audio(body, raw_rate=rate, mulaw=mulaw, max_seconds=settings.stt.max_audio_s)
        except AudioTooLong as exc:
            raise HTTPException(413, str(exc)) from exc
        except UnsupportedAudio as exc:
            raise HTTPException(415, str(exc)) from exc
        except AudioError as exc:
            raise HTTPException(400, str(exc)) from exc
        return asdict(await s.run(s.transcriber.transcribe, audio))

    @app.post("/twilio/voice")
    async def twilio_voice(request: Request, s: Services = Depends(services)) -> Response:
        """Twilio's incoming-call webhook: greet the caller and stream the call's audio to /twilio/media."""
        params = await _twilio_form(request, s)
        call_sid = params.get("CallSid")
        if not call_sid:
            raise HTTPException(400, "CallSid is missing from the webhook form")
        url = twilio.public_url(settings.server.public_url, str(request.url))
        xml = twilio.connect_twiml(s.bot.dialog.domain.responses["greeting"], twilio.stream_url(url), call_sid,
                                   twilio.next_url(url))
        return Response(xml, media_type="application/xml")

    @app.post("/twilio/next")
    async def twilio_next(request: Request, s: Services = Depends(services)) -> Response:
        """Where Twilio goes when the media stream closes: a hand-off is put through to a person, else hang up."""
        params = await _twilio_form(request, s)
        session = s.bot.dialog.store.get(params.get("CallSid", "")) if params.get("CallSid") else None
        handoff = session is not None and session.handoff is not None
        xml = twilio.after_stream_twiml(handoff, settings.server.agent_number,
                                        s.bot.dialog.domain.responses["no_agent"])
        return Response(xml, media_type="application/xml")

    @app.post("/twilio/status")
    async def twilio_status(request: Request, s: Services = Depends(services)) -> dict:
        """Twilio's call-status callback: a completed call's dialog session is dropped."""
        params = await _twilio_form(request, s)
        if params.get("CallStatus") in ("completed", "busy", "failed", "no-answer", "canceled") and params.get("CallSid"):
            s.bot.dialog.hang_up(params["CallSid"])
        return {"ok": True}

    @app.websocket("/twilio/media")
    async def twilio_media(websocket: WebSocket) -> None:
        """Twilio Media Streams: 20 ms mu-law frames in; reply audio (or text), marks and clears out."""
        s: Services | None = websocket.app.state.services
        if s is None:
            await websocket.close(code=1013, reason="models are still loading")
            return
        if not _signed_websocket(websocket, s):
            s.metrics.errors.labels("media", "forbidden").inc()
            await websocket.close(code=1008, reason="invalid or missing X-Twilio-Signature")
            return
        if s.open_calls >= settings.server.max_calls:
            s.metrics.errors.labels("media", "too_many_calls").inc()
            await websocket.close(code=1013, reason="too many calls")
            return
        await websocket.accept()
        s.open_calls += 1
        s.metrics.calls_active.inc()
        call = Call(s, websocket.send_text)
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
            await call.close()
            s.open_calls -= 1
            s.metrics.calls_active.dec()
            if websocket.application_state == WebSocketState.CONNECTED:
                await websocket.close()

    async def _twilio_form(request: Request, s: Services) -> dict[str, str]:
        """The webhook's form parameters, once its signature is verified (403 otherwise)."""
        token = settings.server.twilio_auth_token
        if token is None:
            s.metrics.errors.labels("twilio", "not_configured").inc()
            raise HTTPException(403, "telephony is not configured: set KOCALL_SERVER__TWILIO_AUTH_TOKEN to the "
                                     "Twilio account's auth token so that requests can be verified")
        body = await _read_limited(request, 64 * 1024)
        try:
            form = _parse_form(body)
        except ValueError as exc:
            raise HTTPException(400, f"malformed form data: {exc}") from exc
        url = twilio.public_url(settings.server.public_url, str(request.url))
        if not twilio.signature_ok(token.get_secret_value(), url, form, request.headers.get("X-Twilio-Signature")):
            s.metrics.errors.labels("twilio", "forbidden").inc()
            raise HTTPException(403, "invalid or missing X-Twilio-Signature")
        return form

    def _signed_websocket(websocket: WebSocket, s: Services) -> bool:
        token = settings.server.twilio_auth_token
        if token is None:
            return False
        base = settings.server.public_url
        url = twilio.public_url(base and twilio.websocket_base(base), str(websocket.url))
        return twilio.signature_ok(token.get_secret_value(), url, {}, websocket.headers.get("X-Twilio-Signature"))

    return app


def _parse_form(body: bytes) -> dict[str, str]:
    """application/x-www-form-urlencoded, strictly: bad percent-encoding or UTF-8 is an error."""
    text = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict"))


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        return f"{where}: {first.get('msg')}"
    return str(exc)


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, refusing it as soon as it grows past ``limit`` bytes (a Content-Length can lie)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body of {declared} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)
