"""One live phone call over a media stream: caller audio in, the bot's replies out.

Frames are endpointed on the event loop (G.711 decode, resampling and the
streaming VAD cost about 0.4 ms per 20 ms frame); each finished utterance is
handed to the worker pool for transcription, understanding and speech, so one
slow call cannot stall the others. When the caller pauses and a worker is free,
the utterance is transcribed at once (``decode_on_pause``): if the pause becomes
the end of the turn, its text is ready or nearly so when the endpointer ends it.
A call's utterances are answered in order, one at a time. When the pool's queue
is full a new utterance waits for a place (back-pressure) while frames keep
being read, so no audio is dropped.

Replies come as audio from a TTS engine, streamed into the call, or, without one,
in Twilio's own voice: the call is updated to say the reply and then open a new
stream, which continues the same session (:class:`TwilioVoice`); a caller
cannot interrupt a ``<Say>``. Barge-in: when the caller starts speaking while
reply audio is playing, the playback is cleared. After a goodbye or a hand-off has been said, the stream is
closed, and Twilio asks ``/twilio/next`` what the call does next. A turn that
fails (speech recognition, the session store, the dialog, the voice) is
answered with an apology and a re-prompt; a second failure in a row hands the
call to a person. Hanging up (``stop`` or a closed socket) cancels the
call's pending work; the dialog session expires on its own.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

import httpx

from server import twilio, twilio_rest
from server.services import Services
from server.turns import Heard, TurnFailed, VoiceReply
from stt.audio import to_mulaw
from stt.endpoint import Endpointer, Event, SpeechPaused, SpeechStarted, Utterance

log = logging.getLogger(__name__)
Send = Callable[[str], Awaitable[None]]
FAILURES_TO_HAND_OFF = 2  # turns in a row that fail before the call goes to a person


@dataclass(frozen=True)
class TwilioVoice:
    """Replies said in Twilio's own voice: each updates the call to say it, then to stream to us again."""

    client: httpx.AsyncClient  # Twilio's REST API
    auth_token: str
    voice: str
    media_url: str  # this media websocket, as Twilio reaches it
    next_url: str  # /twilio/next, as Twilio reaches it


class Call:
    def __init__(self, services: Services, send: Send, twilio_voice: TwilioVoice | None = None) -> None:
        """``twilio_voice``: say replies that come without audio in Twilio's voice (else as text events)."""
        self.services = services
        self.send = send
        self.twilio_voice = twilio_voice
        self.account_sid: str | None = None
        self._redirected = False  # the call now runs TwiML that says a reply: this stream is about to end
        self._failures = 0  # turns in a row that failed
        self.endpointer = Endpointer(services.settings.endpoint)
        self.stream_sid: str | None = None
        self.call_sid: str | None = None
        self.playing: str | None = None  # the mark of the reply being played
        self._marks = itertools.count(1)
        self._last_sequence: int | None = None
        self._tasks: set[asyncio.Task] = set()
        self._previous: asyncio.Task | None = None  # the last reply in the chain
        self._early: tuple[Utterance, asyncio.Task[Heard | None]] | None = None  # decoding since the caller paused
        # After a goodbye or a hand-off: the mark of the closing reply, or "said" once it is out as text.
        # The stream is then closed and Twilio goes on to /twilio/next.
        self._last_words: str | None = None

    async def handle(self, msg: twilio.Inbound) -> bool:
        """One message; False once the call is over."""
        self._count_gaps(msg.sequence)
        if msg.event == "start":
            self.stream_sid, self.call_sid = msg.stream_sid, msg.call_sid or msg.stream_sid
            self.account_sid = msg.account_sid
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

    async def _on_event(self, event: Event) -> None:
        if isinstance(event, SpeechStarted):
            if self.playing is not None and self.stream_sid:
                await self.send(twilio.clear_message(self.stream_sid))
                self.playing = None
            return
        if self._redirected:
            return  # said while Twilio switches to saying the reply: this stream is closing
        if isinstance(event, SpeechPaused):
            self._decode_early(event.utterance)
            return
        early, self._early = self._early, None
        heard = early[1] if early is not None and early[0].end_s == event.end_s else None
        if heard is not None:
            self.services.metrics.early_decodes.labels("used").inc()
        previous = self._previous
        task = self._start(self._answer(event, time.perf_counter(), previous, heard))
        self._previous = task

    def _decode_early(self, utterance: Utterance) -> None:
        """Transcribe a paused utterance now, if a worker is free: the pause may be the end of the turn."""
        services = self.services
        if not services.settings.endpoint.decode_on_pause:
            return
        if services.busy >= services.settings.server.workers:
            services.metrics.early_decodes.labels("no_worker").inc()
            return
        services.metrics.early_decodes.labels("started").inc()
        self._early = (utterance, self._start(self._hear(utterance)))

    async def _hear(self, utterance: Utterance) -> Heard | None:
        """What an early decode heard; None where it failed (the turn then decodes again, and a second failure
        is the turn's)."""
        try:
            return await self.services.run(self.services.pipeline.hear, utterance)
        except Exception:
            log.warning("call %s: an early decode failed; the utterance is decoded again", self.call_sid,
                        exc_info=True)
            return None

    def _start(self, work: Awaitable) -> asyncio.Task:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _answer(self, utterance: Utterance, ended_at: float, previous: asyncio.Task | None,
                      heard: asyncio.Task[Heard | None] | None) -> None:
        self.services.answering += 1
        try:
            await self._answer_in_turn(utterance, ended_at, previous, heard)
        finally:
            self.services.answering -= 1

    async def _answer_in_turn(self, utterance: Utterance, ended_at: float, previous: asyncio.Task | None,
                              heard: asyncio.Task[Heard | None] | None) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)  # answer in the order spoken
        async with self.services.queue:
            try:
                reply = await self.services.run(self.services.pipeline.voice, self.call_sid or "call", utterance,
                                                ended_at, await heard if heard is not None else None)
                self._failures = 0
            except Exception as exc:  # TurnFailed names the stage; anything else failed around the stages
                log.exception("call %s: the turn failed", self.call_sid)
                self.services.metrics.errors.labels("turn", exc.stage if isinstance(exc, TurnFailed) else "turn").inc()
                self._failures += 1
                reply = await self._trouble(last=self._failures >= FAILURES_TO_HAND_OFF)
        if reply is not None:
            await self._speak(reply)

    async def _trouble(self, last: bool) -> VoiceReply:
        """What the caller hears when a turn failed: an apology and a re-prompt, or after repeated failures
        the hand-off line (the call then goes to /twilio/next, which puts it through to a person)."""
        responses = self.services.dialog.domain.responses
        text = responses["handoff"] if last else responses.get("trouble", responses["fallback"][0])
        tts, mulaw = self.services.pipeline.tts, None
        if tts is not None:
            try:
                mulaw = to_mulaw(await self.services.run(tts.synthesize, text))
            except Exception:
                log.exception("call %s: the apology could not be voiced either", self.call_sid)
        if last:
            self.services.failed_calls.add(self.call_sid or "")
        return VoiceReply({"reply": text, "end": last, "trouble": True}, mulaw)

    async def _speak(self, reply: VoiceReply) -> None:
        sid = self.stream_sid or ""
        if reply.mulaw is None and self.twilio_voice is not None and self.account_sid and self.call_sid:
            if await self._said_by_twilio(reply):
                return
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

    async def _said_by_twilio(self, reply: VoiceReply) -> bool:
        """Update the call to say the reply in Twilio's voice and then stream to us again (or, after the last
        words, ask /twilio/next what follows). False where Twilio refused: the reply then goes out as text."""
        voice, text = self.twilio_voice, reply.turn["reply"]
        twiml = (twilio.closing_twiml(text, voice.next_url, voice.voice) if reply.turn["end"]
                 else twilio.connect_twiml(text, voice.media_url, self.call_sid, voice.next_url, voice.voice))
        try:
            await twilio_rest.update_call(voice.client, self.account_sid, self.call_sid, voice.auth_token, twiml)
        except twilio_rest.TwilioRestError:
            log.exception("call %s: the reply could not be said through Twilio", self.call_sid)
            self.services.metrics.errors.labels("twilio", "update_failed").inc()
            return False
        self._redirected = True
        return True

    def _count_gaps(self, sequence: int | None) -> None:
        if sequence is None:
            return
        if self._last_sequence is not None and sequence > self._last_sequence + 1:
            self.services.metrics.media_gaps.inc(sequence - self._last_sequence - 1)
        self._last_sequence = sequence
