"""The FastAPI application: one small factory that includes a router per concern.

Routers (``server.routes``): telephony (Twilio webhooks and media stream), chat,
transcription, labeling, operations (health, metrics, monitoring). Routes stay
thin: they validate at the edge, run every CPU-heavy step on the bounded worker
pool (never on the event loop), and turn the stages' exceptions into clear 4xx
answers. Models are loaded once, at start-up, by the lifespan; until they are,
routes that need them answer 503 with what is being done (``app.state.status``).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Callable

from fastapi import FastAPI

from core import __version__
from core.settings import Settings
from server.routes import chat, labeling, operations, telephony, transcription
from server.services import Services

log = logging.getLogger(__name__)


Prepare = Callable[[Callable[[str], None]], None]


def create_app(settings: Settings | None = None, prepare: Prepare | None = None) -> FastAPI:
    """The app. Without ``prepare`` the models load before it takes requests. With it (``kocall serve``),
    the app takes requests at once, ``prepare`` runs first on a thread (it trains a missing model) and reports
    what it is doing through the callable it is passed, and routes answer 503 with that until the models are
    loaded (``/healthz`` included)."""
    settings = settings or Settings()

    def start() -> Services:
        if prepare is not None:
            prepare(lambda doing: setattr(app.state, "status", doing))
        app.state.status = "loading the models"
        return Services.load(settings)

    async def load() -> None:
        try:
            app.state.services = await asyncio.to_thread(start)
            app.state.status = "ok"
        except Exception as exc:
            app.state.status = f"failed to start: {exc}"
            if prepare is None:
                raise  # no request taken yet: the server does not start
            log.exception("the models could not be loaded; /healthz says so")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        loading = asyncio.create_task(load())
        if prepare is None:
            await loading
        try:
            yield
        finally:
            loading.cancel()
            services = app.state.services
            app.state.services = None
            if services is not None:
                if services.twilio_api is not None:
                    await services.twilio_api.aclose()
                await asyncio.to_thread(services.close)

    app = FastAPI(title="kocall", version=__version__, lifespan=lifespan,
                  description="Korean call-center voice bot: telephone (Twilio) and chat.")
    app.state.settings = settings
    app.state.services = None
    app.state.status = "starting"
    app.state.labeling = labeling.Labeling.for_settings(settings)
    for router in (operations.router, chat.router, transcription.router, telephony.router, labeling.router):
        app.include_router(router)
    return app

