"""FastAPI application: health and transcription for now; telephony and chat come next.

Routes stay thin: they validate at the edge, run the CPU-heavy model call in a
worker thread (never on the event loop), and turn the stages' exceptions into
clear 4xx answers.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import asdict

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool

from kocall import __version__
from kocall.settings import Settings
from stt.audio import AudioError, AudioTooLong, UnsupportedAudio, decode_audio
from stt.transcribe import Transcriber, get_transcriber


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Load the model before the first request, not during it.
        app.state.transcriber = await run_in_threadpool(get_transcriber, settings.stt, settings.cache_dir)
        yield

    app = FastAPI(title="kocall", version=__version__, lifespan=lifespan,
                  description="Korean call-center voice bot pipeline.")
    app.state.settings = settings

    def transcriber(request: Request) -> Transcriber:
        return request.app.state.transcriber

    @app.get("/healthz")
    def healthz(request: Request) -> dict:
        """200 once the models are loaded."""
        if getattr(request.app.state, "transcriber", None) is None:
            raise HTTPException(503, "models are still loading")
        return {"status": "ok", "stt_model": settings.stt.model}

    @app.post("/transcribe")
    async def transcribe(
        request: Request,
        rate: int | None = Query(None, description="headerless PCM16 at this rate (Hz)"),
        mulaw: bool = Query(False, description="headerless G.711 mu-law (8000 Hz unless rate)"),
        model: Transcriber = Depends(transcriber),
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
        return asdict(await run_in_threadpool(model.transcribe, audio))

    return app


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
