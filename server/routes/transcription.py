"""Speech to text over HTTP: ``POST /transcribe`` with audio bytes as the body."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from core.settings import Settings
from server.deps import read_limited, services_of, settings_of
from server.services import Services
from stt.audio import AudioError, AudioTooLong, UnsupportedAudio, decode_audio

router = APIRouter(tags=["transcription"])


@router.post("/transcribe", openapi_extra={"requestBody": {  # read by hand, so that the size limit comes first
    "required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def transcribe(
    request: Request,
    rate: int | None = Query(None, description="headerless PCM16 at this rate (Hz)"),
    mulaw: bool = Query(False, description="headerless G.711 mu-law (8000 Hz unless rate)"),
    s: Services = Depends(services_of),
    settings: Settings = Depends(settings_of),
) -> dict:
    """Audio bytes as the request body (any format `kocall transcribe` reads) -> segments with timestamps."""
    body = await read_limited(request, settings.server.max_upload_bytes)
    try:
        audio = decode_audio(body, raw_rate=rate, mulaw=mulaw, max_seconds=settings.stt.max_audio_s)
    except AudioTooLong as exc:
        raise HTTPException(413, str(exc)) from exc
    except UnsupportedAudio as exc:
        raise HTTPException(415, str(exc)) from exc
    except AudioError as exc:
        raise HTTPException(400, str(exc)) from exc
    return asdict(await s.run(s.pipeline.transcriber.transcribe, audio))
