"""``kocall serve``: the web server on embedded defaults."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "serve",
        help="start the web server",
        description="Start the kocall web server (FastAPI + uvicorn) with the bundled models. "
        "Docs at /docs, health at /healthz.",
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from kocall.settings import Settings
    from server.app import create_app

    settings = Settings()
    server = settings.server.model_copy(update={k: v for k, v in {"host": args.host, "port": args.port}.items()
                                                if v is not None})
    uvicorn.run(create_app(settings.model_copy(update={"server": server})), host=server.host, port=server.port)
    return 0
