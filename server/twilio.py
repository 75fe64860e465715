"""Everything that is Twilio's format: signatures, TwiML, Media Streams messages.

The rest of the server never sees Twilio's JSON or XML (the serializer-at-the-edge
idea from Pipecat): a call is 8 kHz mu-law frames in and reply frames or text
out, whoever carries it.

* Webhooks are verified the way Twilio signs them: HMAC-SHA1 over the full URL
  plus the sorted POST parameters with the account's auth token, base64, in
  ``X-Twilio-Signature`` (``twilio.request_validator.RequestValidator``). The
  media websocket's upgrade request is signed over its ``wss://`` URL.
* Media Streams messages: ``connected``, ``start``, ``media`` (base64 mu-law,
  20 ms), ``mark``, ``dtmf``, ``stop`` in; ``media``, ``mark``, ``clear`` out.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Connect, VoiceResponse

FRAME_BYTES = 160  # 20 ms of 8 kHz mu-law


class BadMessage(ValueError):
    """A media stream message that is not valid JSON or not a Twilio message."""


def public_url(base: str | None, request_url: str) -> str:
    """The URL Twilio signed: the configured public base (behind a proxy) with the request's path and query."""
    if not base:
        return request_url
    parts = urlsplit(request_url)
    return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def signature_ok(auth_token: str, url: str, params: dict[str, str], signature: str | None) -> bool:
    return bool(signature) and RequestValidator(auth_token).validate(url, params, signature)


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """What Twilio would send for this request (tests and the load benchmark play Twilio with it)."""
    return RequestValidator(auth_token).compute_signature(url, params)


def websocket_base(http_url: str) -> str:
    """https://h -> wss://h, http://h -> ws://h."""
    return http_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)


def http_base(websocket_url: str) -> str:
    """wss://h -> https://h, ws://h -> http://h."""
    return websocket_url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)


def _base(http_url: str) -> str:
    return http_url.split("?", 1)[0].rsplit("/twilio/", 1)[0]


def stream_url(http_url: str) -> str:
    """The media websocket's URL beside a webhook URL: https://h/twilio/voice -> wss://h/twilio/media."""
    return websocket_base(_base(http_url)) + "/twilio/media"


def next_url(http_url: str) -> str:
    """Where Twilio asks what follows the stream: https://h/twilio/voice -> https://h/twilio/next."""
    return _base(http_url) + "/twilio/next"


def connect_twiml(said: str | None, media_url: str, call_sid: str, next_url: str, voice: str | None = None) -> str:
    """Say ``said`` (the greeting, a reply in Twilio's own voice, or nothing), stream the call's audio to us
    both ways, then ask ``next_url`` what follows.

    Twilio moves past ``<Connect>`` when we close the media stream (after a goodbye
    or a hand-off), so the ``<Redirect>`` is how a hand-off reaches a person. The
    stream carries the call SID as a parameter, so every stream of one call
    continues one dialog session.
    """
    response = VoiceResponse()
    if said:
        response.say(said, language="ko-KR", voice=voice)
    connect = Connect()
    stream = connect.stream(url=media_url)
    stream.parameter(name="call_sid", value=call_sid)
    response.append(connect)
    response.redirect(next_url, method="POST")
    return response.to_xml()


def after_stream_twiml(handoff: bool, agent_number: str | None, unavailable: str) -> str:
    """What the call does once the bot is done: put a hand-off through to a person, or hang up."""
    response = VoiceResponse()
    if handoff and agent_number:
        response.dial(agent_number)
    elif handoff:
        response.say(unavailable, language="ko-KR")
    response.hangup()
    return response.to_xml()


def say_twiml(text: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Say language="ko-KR">{escape(text)}</Say></Response>'


def closing_twiml(said: str, next_url: str, voice: str | None = None) -> str:
    """Say the bot's last words (a goodbye, a hand-off) in Twilio's voice, then ask ``next_url`` what follows."""
    response = VoiceResponse()
    response.say(said, language="ko-KR", voice=voice)
    response.redirect(next_url, method="POST")
    return response.to_xml()


@dataclass(frozen=True)
class Inbound:
    event: str  # connected, start, media, mark, dtmf, stop
    stream_sid: str | None = None
    call_sid: str | None = None
    account_sid: str | None = None  # on start: whose call it is, for Twilio's REST API
    audio: bytes = b""  # mu-law, for media
    sequence: int | None = None
    mark: str | None = None
    digit: str | None = None


def parse(text: str | bytes) -> Inbound:
    """One websocket message from Twilio; :class:`BadMessage` says what is wrong with it."""
    try:
        msg = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadMessage(f"not JSON: {exc}") from exc
    if not isinstance(msg, dict) or not isinstance(msg.get("event"), str):
        raise BadMessage("expected a JSON object with an 'event'")
    event = msg["event"]
    sequence = msg.get("sequenceNumber")
    sequence = int(sequence) if isinstance(sequence, (str, int)) and str(sequence).isdigit() else None
    if event == "start":
        start = _object(msg, "start")
        params = start.get("customParameters") or {}
        fmt = start.get("mediaFormat") or {}
        if fmt and (fmt.get("encoding") != "audio/x-mulaw" or int(fmt.get("sampleRate", 8000)) != 8000):
            raise BadMessage(f"unsupported media format {fmt}: expected audio/x-mulaw at 8000 Hz")
        return Inbound("start", msg.get("streamSid") or start.get("streamSid"),
                       start.get("callSid") or params.get("call_sid"), start.get("accountSid"), sequence=sequence)
    if event == "media":
        media = _object(msg, "media")
        if media.get("track", "inbound") != "inbound":
            return Inbound("ignored", msg.get("streamSid"), sequence=sequence)
        try:
            audio = base64.b64decode(media.get("payload", ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadMessage(f"media payload is not base64: {exc}") from exc
        return Inbound("media", msg.get("streamSid"), audio=audio, sequence=sequence)
    if event == "mark":
        return Inbound("mark", msg.get("streamSid"), mark=_object(msg, "mark").get("name"), sequence=sequence)
    if event == "dtmf":
        return Inbound("dtmf", msg.get("streamSid"), digit=_object(msg, "dtmf").get("digit"), sequence=sequence)
    if event in ("connected", "stop"):
        return Inbound(event, msg.get("streamSid"), sequence=sequence)
    raise BadMessage(f"unknown event {event!r}")


def _object(msg: dict, key: str) -> dict[str, Any]:
    value = msg.get(key)
    if not isinstance(value, dict):
        raise BadMessage(f"'{msg['event']}' message without a '{key}' object")
    return value


def media_messages(stream_sid: str, mulaw: bytes) -> list[str]:
    """Reply audio as Twilio ``media`` messages of 20 ms each."""
    return [json.dumps({"event": "media", "streamSid": stream_sid,
                        "media": {"payload": base64.b64encode(mulaw[i:i + FRAME_BYTES]).decode()}})
            for i in range(0, len(mulaw), FRAME_BYTES)]


def mark_message(stream_sid: str, name: str) -> str:
    """Twilio echoes a mark back once everything sent before it has played."""
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    """Stop playing what was sent (the caller barged in)."""
    return json.dumps({"event": "clear", "streamSid": stream_sid})


def text_message(stream_sid: str, text: str, turn: dict) -> str:
    """Without a TTS engine: the reply as text and TwiML, for clients that speak it themselves.

    This ``kocall.reply`` event is ours, not Twilio's: a real Twilio call hears a
    reply through a TTS engine or Twilio's own voice (``server.twilio_rest``).
    """
    return json.dumps({"event": "kocall.reply", "streamSid": stream_sid, "text": text, "twiml": say_twiml(text),
                       "turn": turn}, ensure_ascii=False)
