"""The labeling tool's web edge: the page at ``/label`` and its JSON API under ``/label/api``.

Every route needs a labeler's token (``kocall label add-labeler NAME`` prints
one): as ``Authorization: Bearer TOKEN``, or once as ``/label?token=TOKEN``,
which sets an HttpOnly, SameSite=Strict cookie and redirects to the bare URL, so
the token does not stay in the address bar or the history. Audio is found by item
id in the store; no path ever comes from the client. Saves are checked against
the item's version (409 with the current item when someone saved first).
Transcription and intent suggestions run on the server's worker pool with the
models it already loaded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import io
import json
import sqlite3
from importlib import resources
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Callable, Literal

import soundfile
from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import HTTPConnection

from data_tools.labeling.export import manifest_lines
from data_tools.labeling.imports import content_ref, from_turns, from_upload
from data_tools.labeling.progress import progress
from data_tools.labeling.store import (
    FLAGS, STATUSES, Change, Item, LabelError, LabelStore, Segment, StaleVersion, UnknownItem, open_store,
)
from core.settings import Settings
from data_tools.labeling.label_studio import to_tasks
from dialog.domain import Domain
from nlu.classifier import OUT_OF_SCOPE
from nlu.understand import EmptyText
from server.deps import services_of, settings_of
from server.services import Services
from stt.audio import AudioError, AudioTooLong, UnsupportedAudio, decode_audio, to_pcm16

COOKIE = "kocall_label"
ASSETS = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
DATE = r"^\d{4}-\d{2}-\d{2}$"
ItemId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="the item's id in the store")]  # SQLite's INTEGER
UNAUTHORIZED_PAGE = """<!doctype html><meta charset="utf-8"><title>kocall labeling: sign in</title>
<p>This labeling tool needs a labeler token. Ask for one (<code>kocall label add-labeler NAME</code>) and open
<code>/label?token=TOKEN</code>.</p>"""


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    start: float = Field(..., ge=0, description="seconds from the start of the audio")
    end: float = Field(..., gt=0, description="seconds from the start of the audio")
    text: str = Field("", max_length=2000)
    intent: str | None = None
    suggested_intent: str | None = Field(None, max_length=100)
    suggested_confidence: float | None = Field(None, ge=0, le=1)
    stt_confidence: float | None = Field(None, ge=0, le=1)


class SaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(..., ge=1, description="the version the edit was made from")
    segments: list[SegmentIn] = Field(..., max_length=1000)
    flags: list[str] = Field(default_factory=list, max_length=len(FLAGS))
    status: Literal["todo", "labeled", "skipped"] = "labeled"


class SuggestIn(BaseModel):
    text: str = Field(..., max_length=2000)


@dataclass(frozen=True)
class Labeling:
    """What the labeling routes share: the store (opened on first use), the domain's intents, the uploads folder."""

    store: Callable[[], LabelStore]
    intents: list[str]  # the domain's intents, and out_of_scope: what the model says of speech the bot is not for
    uploads: Path

    @classmethod
    def for_settings(cls, settings: Settings) -> Labeling:
        # Opened on first use, not here: building the app (for its OpenAPI schema, say) must not create files.
        return cls(store=functools.cache(lambda: open_store(settings)),
                   intents=sorted(set(Domain.load(settings.pack().domain).intents) | {OUT_OF_SCOPE}),
                   uploads=settings.label.uploads or settings.data_dir / "label_audio")


def labeling(connection: HTTPConnection) -> Labeling:
    return connection.app.state.labeling


router = APIRouter(prefix="/label", tags=["labeling"])


def labeler(request: Request, lab: Labeling = Depends(labeling)) -> str:
    """The signed-in labeler's name (401 without a known token)."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE)
    name = lab.store().labeler(token) if token else None
    if name is None:
        raise HTTPException(401, "a labeler token is needed: Authorization: Bearer TOKEN, or open "
                                 "/label?token=TOKEN (kocall label add-labeler NAME prints one)",
                            headers={"WWW-Authenticate": "Bearer"})
    return name


def item_or_404(lab: Labeling, item_id: int) -> Item:
    try:
        return lab.store().get(item_id)
    except UnknownItem as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("", response_class=HTMLResponse, include_in_schema=False)
@router.get("/", response_class=HTMLResponse)
def page(request: Request, token: str | None = Query(None, max_length=200),
         lab: Labeling = Depends(labeling)) -> Response:
    """The labeling page; ``?token=`` signs the browser in (a cookie) and redirects to the bare URL."""
    if token is not None:
        if lab.store().labeler(token) is None:
            return HTMLResponse(UNAUTHORIZED_PAGE, 401, headers={"WWW-Authenticate": "Bearer"})
        response = RedirectResponse("/label/", 303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/label",
                            secure=request.url.scheme == "https", max_age=30 * 24 * 3600)
        return response
    try:
        labeler(request, lab)
    except HTTPException:
        return HTMLResponse(UNAUTHORIZED_PAGE, 401, headers={"WWW-Authenticate": "Bearer"})
    return HTMLResponse(_asset("index.html"), headers={"Cache-Control": "no-store"})


@router.get("/static/{name}", include_in_schema=False)
def asset(name: str, _: str = Depends(labeler)) -> Response:
    if name not in ASSETS:  # a fixed list: the name is never a path
        raise HTTPException(404, f"no asset {name!r}")
    return Response(_asset(name), media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


@router.get("/api/me")
def me(who: str = Depends(labeler), lab: Labeling = Depends(labeling)) -> dict:
    """Who is signed in, and the lists the page offers: the domain's intents, flags and statuses."""
    return {"labeler": who, "intents": lab.intents, "flags": list(FLAGS), "statuses": list(STATUSES)}


@router.get("/api/items")
def queue(
    status: Literal["todo", "labeled", "skipped"] | None = None,
    intent: str | None = Query(None, max_length=100),
    since: str | None = Query(None, pattern=DATE, description="recorded on or after (YYYY-MM-DD)"),
    until: str | None = Query(None, pattern=DATE, description="recorded on or before (YYYY-MM-DD)"),
    limit: int = Query(200, ge=1, le=2000),
    _: str = Depends(labeler),
    lab: Labeling = Depends(labeling),
) -> list[dict]:
    """The queue, least certain first (low STT and NLU confidence, high disagreement)."""
    return [_summary(i) for i in lab.store().queue(status, intent, since, until, limit)]


@router.get("/api/items/{item_id}")
def item(item_id: ItemId, _: str = Depends(labeler), lab: Labeling = Depends(labeling)) -> dict:
    """One item with its labels and the history of who changed what."""
    found = item_or_404(lab, item_id)
    return {"item": found.as_json(), "history": [_change(c) for c in lab.store().history(item_id)]}


@router.put("/api/items/{item_id}")
def save(item_id: ItemId, body: SaveIn, who: str = Depends(labeler),
         lab: Labeling = Depends(labeling)) -> JSONResponse:
    """Save a label edited from ``version``; 409 with the current item if someone saved since."""
    unknown = sorted({s.intent for s in body.segments if s.intent} - set(lab.intents))
    if unknown:
        raise HTTPException(422, f"unknown intent(s) {', '.join(unknown)}: not in the domain")
    try:
        saved = lab.store().save(item_id, body.version, who, [Segment(**s.model_dump()) for s in body.segments],
                                 body.flags, body.status)
    except UnknownItem as exc:
        raise HTTPException(404, str(exc)) from exc
    except StaleVersion as exc:
        return JSONResponse({"detail": f"not saved: {exc}. Your edit is kept in the page; compare it with the "
                                       "current version and save again.", "current": exc.current.as_json()}, 409)
    except LabelError as exc:
        raise HTTPException(422, str(exc)) from exc
    except (sqlite3.Error, OSError) as exc:  # a full or read-only data folder; the transaction rolled back
        raise HTTPException(507, f"not saved: the label store cannot be written ({exc}). Your edit is kept in the "
                                 "page, and every label saved before is unchanged; save again once there is room.") from exc
    return JSONResponse({"item": saved.as_json()})


@router.get("/api/items/{item_id}/audio")
def audio(item_id: ItemId, _: str = Depends(labeler), lab: Labeling = Depends(labeling)) -> Response:
    """The item's audio as 16-bit PCM WAV at its own rate, which every browser's WebAudio decodes."""
    found = item_or_404(lab, item_id)
    try:
        decoded = decode_audio(found.audio)
    except (OSError, AudioError) as exc:
        raise HTTPException(404, f"the audio of item {item_id} cannot be read: {exc}") from exc
    out = io.BytesIO()
    soundfile.write(out, to_pcm16(decoded.samples), decoded.sample_rate, format="WAV", subtype="PCM_16")
    return Response(out.getvalue(), media_type="audio/wav", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/api/suggest")
async def suggest(body: SuggestIn, s: Services = Depends(services_of), _: str = Depends(labeler)) -> dict:
    """The model's intent for a corrected text (the page asks again after an edit)."""
    try:
        understood = await s.run(s.pipeline.bot.understander.understand, body.text)
    except EmptyText:
        return {"intent": None, "confidence": None, "top_k": []}
    return {"intent": understood.intent, "confidence": round(understood.confidence, 4),
            "top_k": [[name, round(p, 4)] for name, p in understood.top_k]}


@router.post("/api/import")
async def import_files(request: Request, files: list[UploadFile] = File(...), s: Services = Depends(services_of),
                       _: str = Depends(labeler), lab: Labeling = Depends(labeling),
                       settings: Settings = Depends(settings_of)) -> dict:
    """Upload recordings; all are decoded first, so one bad file refuses the batch and stores nothing."""
    limit = settings.server.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit * max(1, len(files)) + 64 * 1024:
        raise HTTPException(413, f"upload of {declared} bytes is over {limit} bytes per file")
    decoded = []
    for upload in files:
        data = await upload.read(limit + 1)
        name = upload.filename or "upload"
        if len(data) > limit:
            raise HTTPException(413, f"{name}: over the {limit}-byte limit; nothing was imported")
        try:
            audio = await s.run(functools.partial(decode_audio, data, max_seconds=settings.stt.max_audio_s))
            decoded.append((data, name, audio))
        except AudioTooLong as exc:
            raise HTTPException(413, f"{name}: {exc}; nothing was imported") from exc
        except UnsupportedAudio as exc:
            raise HTTPException(415, f"{name}: not usable audio ({exc}); nothing was imported") from exc
        except AudioError as exc:
            raise HTTPException(400, f"{name}: not usable audio ({exc}); nothing was imported") from exc
    new = [(d, n, a) for d, n, a in decoded if not lab.store().known(content_ref(d))]
    items = [await s.run(from_upload, d, n, a, lab.uploads, s.pipeline.transcriber, s.pipeline.bot.understander)
             for d, n, a in new]
    added, known = await asyncio.to_thread(lab.store().add, items)  # an fsync: off the event loop
    return {"imported": added, "already_in_store": len(decoded) - len(new) + len(known)}


@router.post("/api/import/turns")
async def import_turns(since: str | None = Query(None, pattern=DATE), s: Services = Depends(services_of),
                       _: str = Depends(labeler), lab: Labeling = Depends(labeling),
                       settings: Settings = Depends(settings_of)) -> dict:
    """The phone turns of the turn log not yet in the store."""
    pipeline = s.pipeline
    found = await s.run(lambda: list(from_turns(pipeline.turn_log.read(since=since, channel="phone"),
                                                lab.store().known, pipeline.transcriber,
                                                pipeline.bot.understander, settings.stt.max_audio_s)))
    added, _known = await asyncio.to_thread(lab.store().add, [f for f in found if not isinstance(f, str)])
    return {"imported": added, "skipped": [f for f in found if isinstance(f, str)]}


@router.get("/api/export/manifest")
def export_manifest(_: str = Depends(labeler), lab: Labeling = Depends(labeling)) -> Response:
    """The timestamped evaluation manifest (JSONL, absolute audio paths) of every usable labeled item."""
    return Response("".join(manifest_lines(lab.store().items())), media_type="application/x-ndjson",
                    headers=_attachment("labels", "jsonl"))


@router.get("/api/export/labelstudio")
def export_labelstudio(_: str = Depends(labeler), lab: Labeling = Depends(labeling)) -> Response:
    """Every item as Label Studio tasks (STT predictions, labels as annotations)."""
    tasks = to_tasks(lab.store().items(), lab.store().history())
    return Response(json.dumps(tasks, ensure_ascii=False), media_type="application/json",
                    headers=_attachment("labelstudio", "json"))


@router.get("/api/progress")
def progress_view(_: str = Depends(labeler), lab: Labeling = Depends(labeling)) -> dict:
    """Counts per status, intent and labeler, and agreement on items two labelers saved."""
    return progress(lab.store().items(), lab.store().history())



def _asset(name: str) -> bytes:
    return resources.files("server").joinpath("static", "label", name).read_bytes()


def _attachment(stem: str, suffix: str) -> dict[str, str]:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return {"Content-Disposition": f'attachment; filename="{stem}-{stamp}.{suffix}"'}


def _summary(item: Item) -> dict:
    """A queue row: enough to choose, not the whole label."""
    return {"id": item.id, "name": item.metadata.get("name") or item.metadata.get("session_id") or item.source_ref,
            "source": item.source, "recorded_at": item.recorded_at, "status": item.status, "version": item.version,
            "priority": item.priority, "stt_confidence": item.stt_confidence, "nlu_confidence": item.nlu_confidence,
            "disagreement": item.disagreement, "duration_s": item.duration_s, "updated_by": item.updated_by,
            "text": " ".join(s.text for s in item.segments)[:120],
            "intents": sorted({s.intent or s.suggested_intent for s in item.segments} - {None})}


def _change(change: Change) -> dict:
    return {"version": change.version, "labeler": change.labeler, "at": change.at, "status": change.status,
            "changes": list(change.changes)}

