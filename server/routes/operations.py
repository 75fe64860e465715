"""For whoever runs the server: health, Prometheus metrics, and live-traffic monitoring."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core.settings import Settings
from data_tools.calllog.monitor import monitor, parse_duration
from dialog.sessions import StoreUnavailable
from server.deps import services_of, settings_of
from server.services import Services

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(response: Response, s: Services = Depends(services_of),
            settings: Settings = Depends(settings_of)) -> dict:
    """200 once the models are loaded and the parts the bot depends on answer; 503 before, or naming the part
    that failed (``failed``: part -> why). ``degraded``: what is not working while the bot still answers."""
    tts = s.pipeline.tts
    says_by_twilio = s.twilio_api is not None and settings.server.tts in ("auto", "twilio")
    voice = tts.name if tts else f"twilio:{settings.server.twilio_voice}" if says_by_twilio else None
    failed = {"server": "restarting: finishing the turns in flight"} if s.draining else {}
    try:
        s.dialog.store.check()
    except StoreUnavailable as exc:
        failed["session_store"] = str(exc)
    if failed:
        response.status_code = 503
    # Answering, but not recording turns (a full data folder) or not in its voice (a slow engine): said,
    # without taking the bot away.
    degraded = {part: health.problem for part, health in (("recording", s.pipeline.recording),
                                                           ("tts", s.pipeline.speaking)) if health.problem}
    return {"status": "unavailable" if failed else "degraded" if degraded else "ok", "failed": failed,
            "degraded": degraded, "stt_model": settings.stt.model, "tts": voice, "domain": settings.pack().name,
            "session_store": settings.dialog.session_store, "backend": s.pipeline.bot.dialog.backend.name}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(s: Services = Depends(services_of)) -> Response:
    """Prometheus text format: turns, per-stage latency, errors, live calls, media frames."""
    return Response(generate_latest(s.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/monitor")
def monitor_view(turns: int | None = Query(None, ge=1, le=100_000, description="windows of this many turns"),
                 window: str = Query("1h", description="window length when not by turns: 30m, 1h, 1d"),
                 s: Services = Depends(services_of)) -> list[dict]:
    """Live traffic over time from the turn log: intent drift against the mix the served intent model was
    trained on, out-of-scope, hand-off, STT and latency."""
    try:
        every = parse_duration(window)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return [asdict(w) for w in monitor(s.pipeline.turn_log.read(), s.label_mix, every=every, per=turns)]
