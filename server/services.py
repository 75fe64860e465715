"""What the server loads once per process, and the bounded pool that every CPU-heavy step runs on.

The event loop only moves bytes: a turn (:class:`server.turns.Pipeline`), a
transcription or a labeling import runs on the worker pool through
:meth:`Services.run`. ``queue`` bounds the utterances waiting for or in the pool
across calls, so a burst of calls applies back-pressure instead of a growing queue.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from starlette.websockets import WebSocket

from core.settings import Settings
from data_tools.calllog.turnlog import TurnLog
from dialog.manager import Dialog
from server.metrics import Metrics
from server.tts import open_tts
from server.turns import Pipeline, get_bot
from stt.transcribe import get_transcriber


@dataclass
class Services:
    settings: Settings
    pipeline: Pipeline
    pool: ThreadPoolExecutor
    queue: asyncio.Semaphore  # utterances waiting for or in the pool, across calls
    label_mix: dict[str, int]  # intents the served intent model was trained on: drift monitoring's reference
    twilio_api: httpx.AsyncClient | None = None  # Twilio's REST API: replies in Twilio's voice, or a fallback
    open_calls: int = 0
    failed_calls: set[str] = field(default_factory=set)  # calls handed off because their turns kept failing
    reconnects: dict[str, int] = field(default_factory=dict)  # calls streamed again after a stream was lost
    busy: int = 0  # steps running or waiting on the pool
    answering: int = 0  # caller utterances being answered (recognised, understood, voiced, sent)
    draining: bool = False  # SIGTERM: finishing what is in flight, taking nothing new
    streams: set[WebSocket] = field(default_factory=set)  # the open media streams, closed at the end of a drain

    @classmethod
    def load(cls, settings: Settings) -> Services:
        """Load every model (blocking: call it from a worker thread at start-up)."""
        s, pack = settings.server, settings.pack()
        bot = get_bot(settings.nlu, settings.dialog, settings.cache_dir, pack)
        pipeline = Pipeline(
            transcriber=get_transcriber(settings.stt, settings.cache_dir, pack.lexicon),
            bot=bot,
            tts=open_tts(s, settings.cache_dir),
            turn_log=TurnLog(s.turn_log or settings.data_dir / "turns.sqlite"),
            metrics=Metrics.create(),
            audio_dir=settings.data_dir / "audio",
        )
        if pipeline.tts is not None:  # a wrong key or an unreachable engine stops the start, not a caller's turn
            pipeline.tts.synthesize(bot.dialog.domain.responses["greeting"])
        return cls(settings=settings, pipeline=pipeline,
                   pool=ThreadPoolExecutor(max_workers=s.workers, thread_name_prefix="kocall-worker"),
                   queue=asyncio.Semaphore(s.max_queued_utterances),
                   label_mix=bot.understander.intent.meta.label_mix,
                   twilio_api=httpx.AsyncClient(base_url=s.twilio_api_url) if s.twilio_auth_token else None)

    @property
    def metrics(self) -> Metrics:
        return self.pipeline.metrics

    @property
    def dialog(self) -> Dialog:
        return self.pipeline.bot.dialog

    async def run(self, fn, *args):
        """Run a blocking step on the worker pool."""
        self.busy += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        finally:
            self.busy -= 1

    async def drain(self, deadline_s: float) -> None:
        """Take nothing new, let the steps in flight finish (at most ``deadline_s``), then close the media
        streams: Twilio then asks /twilio/next, which another server sharing the session store answers."""
        self.draining = True
        deadline = asyncio.get_running_loop().time() + deadline_s
        await asyncio.sleep(0.05)  # a reply being sent gets out
        while (self.busy or self.answering) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        for websocket in list(self.streams):
            try:
                await websocket.close(code=1001, reason="the server is restarting")
            except RuntimeError:
                pass  # closed meanwhile

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pipeline.turn_log.close()
