"""``kocall serve``: the web server on embedded defaults.

On a fresh machine the default NLU models do not exist yet: the first start
trains them from the shared data (once, about ten minutes on two cores; they
are then reused from the cache), so the two README commands are all it takes.
"""

from __future__ import annotations

import argparse
import sys


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "serve",
        help="start the web server",
        description="Start the kocall web server (FastAPI + uvicorn): Twilio voice webhook and media stream, "
        "chat, transcription, metrics. Docs at /docs, health at /healthz. The first start trains the default "
        "NLU models if `kocall train` has not.",
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from kocall.settings import Settings
    from nlu.training import SHARED_DATA, train_default_models, why_retrain
    from nlu.understand import INTENT, UTTERANCE_TYPE, model_dir
    from server.app import create_app

    settings = Settings()
    server = settings.server.model_copy(update={k: v for k, v in {"host": args.host, "port": args.port}.items()
                                                if v is not None})
    for name, configured in ((INTENT, settings.nlu.intent_model), (UTTERANCE_TYPE, settings.nlu.utterance_type_model)):
        why = None if configured is not None else why_retrain(model_dir(settings.cache_dir, name), name)
        if why is None:
            continue
        print(f"kocall serve: {why}, training the default {name} model (once; `kocall train` does the same)",
              file=sys.stderr)
        for _ in train_default_models(model_dir(settings.cache_dir, ""), SHARED_DATA, only=name):
            pass
    uvicorn.run(create_app(settings.model_copy(update={"server": server})), host=server.host, port=server.port)
    return 0
