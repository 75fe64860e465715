"""``kocall serve``: the web server on embedded defaults.

The default models ship with the project (the card/bank pack's intent model,
the utterance-type model), so a fresh clone answers as soon as they and Whisper
are loaded. Only a model that is missing or out of date (a team's own pack
without a trained intent model, or a folder trained by an older recipe) is
trained first: the server is already listening then, ``/healthz`` answers 503
with what is being trained, and the progress goes to standard error.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from typing import TYPE_CHECKING, Callable

from kocall.commands.domain_option import add_domain_option, settings_for

if TYPE_CHECKING:
    from core.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "serve",
        help="start the web server",
        description="Start the kocall web server (FastAPI + uvicorn): Twilio voice webhook and media stream, "
        "chat, transcription, labeling, metrics. Docs at /docs, health at /healthz. Serves the shipped models "
        "(or those `kocall train` made); a domain pack that ships no intent model has one trained first.",
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    add_domain_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from core.domain_pack import DomainPackError
    from server.app import create_app

    overrides = {"host": args.host, "port": args.port}
    settings = settings_for(args)
    settings = settings.model_copy(update={"server": settings.server.model_copy(
        update={k: v for k, v in overrides.items() if v is not None})})
    try:
        settings.pack()
    except DomainPackError as exc:
        print(f"kocall serve: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings, prepare=partial(train_missing_models, settings))

    class DrainingServer(uvicorn.Server):
        """On SIGTERM (or Ctrl-C), the turns in flight are finished first (``drain_s``), then uvicorn's own
        shutdown closes what is left."""

        async def shutdown(self, sockets=None) -> None:
            services = app.state.services
            if services is not None:
                await services.drain(settings.server.drain_s)
            await super().shutdown(sockets)

    config = uvicorn.Config(app, host=settings.server.host, port=settings.server.port,
                            timeout_graceful_shutdown=max(1, round(settings.server.drain_s)))
    DrainingServer(config).run()
    return 0


def train_missing_models(settings: Settings, report: Callable[[str], None]) -> None:
    """Train each default model that is missing or out of date into the cache, saying what it does."""
    from data_tools.training.recipes import SHARED_DATA, train_default_models, why_retrain
    from nlu.understand import INTENT, UTTERANCE_TYPE, model_path, trained_dir

    pack = settings.pack()
    for name, configured in ((INTENT, settings.nlu.intent_model), (UTTERANCE_TYPE, settings.nlu.utterance_type_model)):
        why = None if configured is not None else why_retrain(model_path(settings.nlu, settings.cache_dir, pack, name),
                                                               name)
        if why is None:
            continue
        doing = f"training the {name} model for domain pack {pack.name} ({why}; once, several minutes on 2 cores)"
        print(f"kocall serve: {doing}", file=sys.stderr)
        report(doing)
        for _ in train_default_models({name: trained_dir(settings.cache_dir, pack, name)}, pack, SHARED_DATA):
            pass
