"""What every router may depend on: the settings, the loaded services, and bodies read within a limit.

Routes take these with ``Depends``; the app factory puts the settings and (once
the lifespan has loaded them) the services on ``app.state``.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.requests import HTTPConnection

from core.settings import Settings
from server.services import Services


def settings_of(connection: HTTPConnection) -> Settings:
    return connection.app.state.settings


def services_of(connection: HTTPConnection) -> Services:
    """The loaded services; 503 with what is being done (training, loading) until they are."""
    loaded = connection.app.state.services
    if loaded is None:
        raise HTTPException(503, f"not ready: {connection.app.state.status}")
    return loaded


async def read_limited(request: Request, limit: int) -> bytes:
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


def first_error(exc: ValueError) -> str:
    """The first of a validation error's complaints, as ``where: what``."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        return f"{where}: {first.get('msg')}"
    return str(exc)
