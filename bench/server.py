"""Simultaneous phone calls over loopback: end-of-speech-to-reply latency and dropped frames.

Starts `kocall serve` in a subprocess (default models, a throw-away data folder),
then for each N plays N simulated Twilio calls at once: each call streams real
Korean speech from ../shared/data as 20 ms mu-law media messages in real time
(three utterances with pauses; calls start within --spread seconds), and measures, per
utterance, the time from the end of its speech (Silero VAD on the clip) to the reply. This includes the
endpointer's 500 ms of silence: it is what a caller waits. Dropped frames are
frames sent that the server never counted; early decodes are the caller pauses the server started decoding
(``decode_on_pause``), those whose decode the turn used, and those it skipped for want of a free worker.
Then /chat requests per second. ``KOCALL_ENDPOINT__DECODE_ON_PAUSE=false`` (or any setting) in the
environment reaches the server.

What "the reply" is depends on the voice (--tts):

* ``none``: the reply's text event (no voice: the pipeline's own latency);
* ``twilio``: Twilio's REST call update that says the reply (Twilio's voice; a local fake of Twilio's API
  receives it), each utterance on its own media stream as Twilio would open them;
* ``google``: the first reply audio frame, spoken by a local fake of Google's API that takes --engine-delay
  seconds a request; ``google-uncached`` turns the prompt cache off, so every reply asks the engine.

    taskset -c 0,1 .venv/bin/python bench/server.py                 # N = 1 2 4 8 12, independent calls
    .venv/bin/python bench/server.py --spread 2                     # turns that end together: the worst case
    .venv/bin/python bench/server.py --calls 1 8 --hesitation 0.3   # callers who stop mid-sentence
    .venv/bin/python bench/server.py --calls 1 8 --tts twilio google google-uncached
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import websockets  # noqa: E402
from faster_whisper.vad import VadOptions, get_speech_timestamps  # noqa: E402

from bench.fakehttp import FakeHttp, google_tts, twilio_calls  # noqa: E402
from bench.loopback import free_port, healthy  # noqa: E402
from core.settings import Settings  # noqa: E402
from server.twilio import sign  # noqa: E402
from stt import g711  # noqa: E402
from stt.audio import decode_audio, to_mulaw  # noqa: E402

SPEECH = ROOT.parent / "shared" / "data" / "speech_ko"
CLIPS = ("leopard_test_ko.wav", "rhino_within_context_ko.wav", "rhino_out_of_context_ko.wav")
TOKEN = "bench-token"
ACCOUNT = "AC" + "0" * 32
ENGINE_KEY = "bench-engine-key"
TTS_MODES = ("none", "twilio", "google", "google-uncached")
FRAME = 160
SILENCE = b"\xff" * FRAME


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def speech_end_frame(path: Path) -> int:
    """The 20 ms frame in which Silero VAD says the speech of a clip ends (no padding: a conservative start)."""
    audio = decode_audio(path)
    spans = get_speech_timestamps(audio.samples, VadOptions(min_silence_duration_ms=300, speech_pad_ms=0))
    return int(spans[-1]["end"] / audio.sample_rate / 0.02)


def hesitant(clip: tuple[bytes, int], seconds: float) -> tuple[bytes, int]:
    """``clip`` with ``seconds`` of silence put in at its quietest 20 ms frame in the middle fifth of its speech:
    a caller who stops mid-sentence and goes on (with decode_on_pause, a decode thrown away)."""
    mulaw, end = clip
    frames = range(int(0.4 * end), int(0.6 * end))
    quietest = min(frames, key=lambda k: float(np.abs(g711.decode(mulaw[k * FRAME:(k + 1) * FRAME])).mean()))
    return (mulaw[:quietest * FRAME] + SILENCE * round(seconds / 0.02) + mulaw[quietest * FRAME:],
            end + round(seconds / 0.02))


async def call(port: int, n: int, clips: list[tuple[bytes, int]], pause_s: float, spread_s: float,
               results: dict, twilio_api: FakeHttp | None = None) -> None:
    call_sid = f"CA-bench-{n:04d}-{random.randrange(1 << 30)}"
    await asyncio.sleep(random.uniform(0, spread_s))
    if twilio_api is None:
        await stream(port, f"MZ{n:04d}", call_sid, clips, pause_s, results)
        return
    for k, clip in enumerate(clips):  # Twilio's voice: every reply ends the stream, and Twilio opens another
        await stream(port, f"MZ{n:04d}-{k}", call_sid, [clip], pause_s, results, twilio_api)


def updates_of(twilio_api: FakeHttp, call_sid: str) -> list[float]:
    return [r.at for r in twilio_api.requests if r.path.endswith(f"/Calls/{call_sid}.json")]


async def stream(port: int, stream_sid: str, call_sid: str, clips: list[tuple[bytes, int]], pause_s: float,
                 results: dict, twilio_api: FakeHttp | None = None) -> None:
    url = f"ws://127.0.0.1:{port}/twilio/media"
    async with websockets.connect(url, additional_headers={"X-Twilio-Signature": sign(TOKEN, url, {})},
                                  max_size=None) as ws:
        await ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
                                  "start": {"accountSid": ACCOUNT, "streamSid": stream_sid, "callSid": call_sid,
                                            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}}))
        updated = len(updates_of(twilio_api, call_sid)) if twilio_api else 0
        speech_ends: list[float] = []
        replies: list[float] = []

        async def listen() -> None:
            async for message in ws:
                event = json.loads(message)["event"]
                if event in ("media", "kocall.reply") and len(replies) < len(speech_ends):
                    replies.append(time.perf_counter())

        listener = asyncio.create_task(listen())
        sequence, start = 2, time.perf_counter()
        sent = late = 0
        try:
            for clip, end_frame in clips:
                audio = clip + SILENCE * int(pause_s / 0.02)
                for k, i in enumerate(range(0, len(audio), FRAME)):
                    due = start + sent * 0.02
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    elif delay < -0.1:
                        late += 1
                    frame = audio[i:i + FRAME]
                    await ws.send(json.dumps({"event": "media", "sequenceNumber": str(sequence),
                                              "streamSid": stream_sid, "media": {
                                                  "track": "inbound", "payload": base64.b64encode(frame).decode()}}))
                    sequence += 1
                    sent += 1
                    if k == end_frame:
                        speech_ends.append(time.perf_counter())
            await asyncio.sleep(2.0)
            await ws.send(json.dumps({"event": "stop", "sequenceNumber": str(sequence), "streamSid": stream_sid}))
        except websockets.ConnectionClosed:
            pass  # the bot closed the stream after its last words (a hand-off): the call is over
        if twilio_api is not None:
            replies += updates_of(twilio_api, call_sid)[updated:]
        listener.cancel()
    results["latency"] += [r - e for e, r in zip(speech_ends, replies)]
    results["missing"] += len(speech_ends) - len(replies)
    results["sent"] += sent
    results["late"] += late


def counted(port: int) -> dict[str, float]:
    """The server's counters now: media frames, and caller pauses decoded early (started, used, no worker)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    values = {line.split()[0]: float(line.split()[-1]) for line in text.splitlines()
              if line.startswith(("kocall_media_frames_total", "kocall_early_decodes_total"))}
    return {"frames": values.get("kocall_media_frames_total", 0.0),
            **{outcome: values.get(f'kocall_early_decodes_total{{outcome="{outcome}"}}', 0.0)
               for outcome in ("started", "used", "no_worker")}}


async def run_calls(port: int, n: int, clips: list[tuple[bytes, int]], pause_s: float, spread_s: float,
                    twilio_api: FakeHttp | None = None) -> dict:
    results = {"latency": [], "missing": 0, "sent": 0, "late": 0}
    before = counted(port)
    began = time.perf_counter()
    await asyncio.gather(*(call(port, i, clips, pause_s, spread_s, results, twilio_api) for i in range(n)))
    results["seconds"] = time.perf_counter() - began
    after = counted(port)
    results["dropped"] = results["sent"] - (after["frames"] - before["frames"])
    results["early"] = {k: int(after[k] - before[k]) for k in ("started", "used", "no_worker")}
    return results


async def chat_rate(port: int, seconds: float, concurrency: int) -> tuple[float, list[float]]:
    texts = ["카드를 잃어버렸어요", "결제일 바꿔줘", "연회비 얼마야", "상담원 연결해 주세요", "오늘 날씨 어때"]
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        async def worker(w: int) -> None:
            k = 0
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                r = await client.post("/chat", json={"session_id": f"bench-{w}-{k // 4}", "text": texts[k % len(texts)]})
                r.raise_for_status()
                latencies.append(time.perf_counter() - t)
                k += 1
        began = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return len(latencies) / (time.perf_counter() - began), latencies


def start_server(voice: dict[str, str], data_dir: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "KOCALL_SERVER__TWILIO_AUTH_TOKEN": TOKEN, "KOCALL_DATA_DIR": data_dir, **voice}
    server = subprocess.Popen([sys.executable, "-m", "kocall.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not healthy(server, port):
        raise SystemExit("the server did not become healthy")
    return server, port


def voice_of(mode: str, engine_delay_s: float, cache_dir: str) -> tuple[dict[str, str], FakeHttp | None,
                                                                       FakeHttp | None]:
    """The server's voice settings for a --tts mode, and the fakes of Twilio's and Google's APIs it uses."""
    if mode == "none":
        return {"KOCALL_SERVER__TTS": "none"}, None, None
    if mode == "twilio":
        twilio_api = FakeHttp(twilio_calls())
        return {"KOCALL_SERVER__TTS": "twilio", "KOCALL_SERVER__TWILIO_API_URL": twilio_api.url}, twilio_api, None
    speech = decode_audio(SPEECH / CLIPS[0])
    engine = FakeHttp(google_tts(ENGINE_KEY, lambda text: to_mulaw(speech), engine_delay_s))
    return {"KOCALL_SERVER__TTS": "google", "KOCALL_SERVER__TTS_KEY": ENGINE_KEY, "KOCALL_SERVER__TTS_URL": engine.url,
            "KOCALL_SERVER__TTS_CACHE": "false" if mode == "google-uncached" else "true",
            "KOCALL_CACHE_DIR": cache_dir}, None, engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 2, 4, 8, 12])
    parser.add_argument("--tts", nargs="+", choices=TTS_MODES, default=["none"], help="the voice modes to measure")
    parser.add_argument("--engine-delay", type=float, default=0.3,
                        help="seconds the fake Google engine takes to answer a request")
    parser.add_argument("--pause", type=float, default=2.5, help="seconds of silence after each utterance")
    parser.add_argument("--spread", type=float, default=20.0,
                        help="calls start at random within this many seconds: about 20 (default, one script) "
                        "makes the calls independent; 2 makes their turns end together, the worst case")
    parser.add_argument("--hesitation", type=float, default=0.0,
                        help="seconds of silence put in the middle of every utterance (a caller who stops "
                        "mid-sentence: 0.3 is a pause that decode_on_pause decodes and then throws away)")
    parser.add_argument("--chat-seconds", type=float, default=10.0)
    args = parser.parse_args()
    random.seed(7)
    clips = [(to_mulaw(decode_audio(SPEECH / name)), speech_end_frame(SPEECH / name)) for name in CLIPS]
    if args.hesitation:
        clips = [hesitant(clip, args.hesitation) for clip in clips]
    for mode in args.tts:
        with tempfile.TemporaryDirectory() as data_dir:
            voice, twilio_api, engine = voice_of(mode, args.engine_delay, str(Path(data_dir) / "cache"))
            if engine is not None:  # a prompt cache of its own; the models of the usual cache
                (Path(data_dir) / "cache").mkdir()
                (Path(data_dir) / "cache" / "models").symlink_to(Settings().cache_dir / "models")
            server, port = start_server(voice, data_dir)
            try:
                asyncio.run(run_calls(port, 1, clips[:1], args.pause, 0.0, twilio_api))  # warm-up: prompts cached
                print(f"\n--tts {mode}" + (f" (engine {args.engine_delay:.2f} s a request)" if engine else ""))
                print(f"{'calls':>5s} {'utterances':>10s} {'p50 s':>6s} {'p95 s':>6s} {'max s':>6s} "
                      f"{'unanswered':>10s} {'frames sent':>11s} {'dropped':>7s} {'sent late':>9s}  "
                      f"early decodes: started / used / no worker")
                for n in args.calls:
                    r = asyncio.run(run_calls(port, n, clips, args.pause, args.spread, twilio_api))
                    lat = r["latency"]
                    print(f"{n:5d} {len(lat):10d} {statistics.median(lat):6.2f} {percentile(lat, 0.95):6.2f} "
                          f"{max(lat):6.2f} {r['missing']:10d} {r['sent']:11d} {r['dropped']:7.0f} {r['late']:9d}  "
                          f"{r['early']['started']} / {r['early']['used']} / {r['early']['no_worker']}", flush=True)
                if engine is not None:
                    print(f"engine requests: {len(engine.requests)}")
                if mode == args.tts[0]:
                    rate, chat = asyncio.run(chat_rate(port, args.chat_seconds, concurrency=8))
                    print(f"/chat: {rate:.0f} requests/s with 8 concurrent clients; latency p50 "
                          f"{statistics.median(chat) * 1000:.1f} ms, p95 {percentile(chat, 0.95) * 1000:.1f} ms")
            finally:
                server.terminate()
                server.wait(timeout=30)
                for fake in (twilio_api, engine):
                    if fake is not None:
                        fake.shutdown()


if __name__ == "__main__":
    main()
