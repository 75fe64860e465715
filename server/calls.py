"""One live phone call over a media stream: caller audio in, the bot's replies out.

Frames are endpointed on the event loop (G.711 decode, resampling and the
streaming VAD cost about 0.4 ms per 20 ms frame); each finished utterance is
handed to the worker pool for transcription, understanding and speech, so one
slow call cannot stall the others. A call's utterances are answered in order,
one at a time. When the pool's queue is full a new utterance waits for a place
(back-pressure) while frames keep being read, so no audio is dropped.

Barge-in: when the caller starts speaking while a reply is playing, the
playback is cleared. After a goodbye or a hand-off has been said, the stream is
closed, and Twilio asks ``/twilio/next`` what the call does next. Hanging up (``stop`` or a closed socket) cancels the
call's pending work; the dialog session expires on its own.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Awaitable, Callable

from server import twilio
from server.services import Services
from server.turns import VoiceReply
from stt.endpoint import Endpointer, SpeechStarted, Utterance

log = logging.getLogger(__name__)
Send = Callable[[str], Awaitable[None]]


class Call:
    def __init__(self, services: Services, send: Send) -> None:
        self.services = services
        self.send = send
        self.endpointer = Endpointer(services.settings.endpoint)
        self.stream_sid: str | None = None
        self.call_sid: str | None = None
        self.playing: str | None = None  # the mark of the reply being played
        self._marks = itertools.count(1)
        self._last_sequence: int | None = None
        self._tasks: set[asyncio.Task] = set()
        self._previous: asyncio.Task | None = None  # the last reply in the chain
        # After a goodbye or a hand-off: the mark of the closing reply, or "said" once it is out as text.
        # The stream is then closed and Twilio goes on to /twilio/next.
        self._last_words: str | None = None

    async def handle(self, msg: twilio.Inbound) -> bool:
        """One message; False once the call is over."""
        self._count_gaps(msg.sequence)
        if msg.event == "start":
            self.stream_sid, self.call_sid = msg.stream_sid, msg.call_sid or msg.stream_sid
        elif msg.event == "media":
            self.services.metrics.media_frames.inc()
            for event in self.endpointer.feed_mulaw(msg.audio):
                await self._on_event(event)
        elif msg.event == "mark" and msg.mark == self.playing:
            self.playing = None  # the reply finished playing
            if msg.mark == self._last_words:
                return False
        elif msg.event == "stop":
            return False
        return self._last_words != "said"

    async def close(self) -> None:
        """The caller hung up or the socket closed: stop everything this call started."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _on_event(self, event: SpeechStarted | Utterance) -> None:
        if isinstance(event, SpeechStarted):
            if self.playing is not None and self.stream_sid:
                await self.send(twilio.clear_message(self.stream_sid))
                self.playing = None
            return
        previous = self._previous
        task = asyncio.create_task(self._answer(event, time.perf_counter(), previous))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._previous = task

    async def _answer(self, utterance: Utterance, ended_at: float, previous: asyncio.Task | None) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)  # answer in the order spoken
        async with self.services.queue:
            try:
                reply = await self.services.run(self.services.pipeline.voice, self.call_sid or "call", utterance,
                                                ended_at)
            except Exception:
                log.exception("turn failed in call %s", self.call_sid)
                self.services.metrics.errors.labels("media", "turn_failed").inc()
                return
        if reply is not None:
            await self._speak(reply)

    async def _speak(self, reply: VoiceReply) -> None:
        sid = self.stream_sid or ""
        if reply.mulaw is None:
            await self.send(twilio.text_message(sid, reply.turn["reply"], reply.turn))
            if reply.turn["end"]:
                self._last_words = "said"
            return
        for message in twilio.media_messages(sid, reply.mulaw):
            await self.send(message)
        self.playing = f"reply-{next(self._marks)}"
        await self.send(twilio.mark_message(sid, self.playing))
        if reply.turn["end"]:
            self._last_words = self.playing

    def _count_gaps(self, sequence: int | None) -> None:
        if sequence is None:
            return
        if self._last_sequence is not None and sequence > self._last_sequence + 1:
            self.services.metrics.media_gaps.inc(sequence - self._last_sequence - 1)
        self._last_sequence = sequence
