"""Faults on loopback against a real server, while chats and a phone call run: what the users saw.

Starts a real redis-server and `kocall serve` on it (the session store), then runs three phases of
--phase seconds each: normal, the fault, the part back. Faults (--fault): ``redis``, the redis-server
stopped and started again; ``tts``, the TTS engine (a local fake of Google's API, with Twilio's API faked
too) stops answering in time and then answers again; ``disk``, the server's files may not grow (RLIMIT_FSIZE
set on it with prlimit: a full disk as the server sees it) and then may again; ``kill``, one of two servers
on the session store is killed (kill -9) during a call's turn, and chats go to the other. Throughout, chat
clients send a turn every 0.25 s, /healthz is polled every 0.2 s, and at the start of the outage a
simulated Twilio call streams real Korean speech (20 ms mu-law frames). Prints per phase: chat turns
answered, the statuses of the others, and /healthz; the seconds /healthz took to tell the fault and the
recovery; what the caller heard and after how long; and whether any answered chat turn is missing from
the turn log.

    .venv/bin/python bench/chaos.py [--fault tts]       # this checkout
    .venv/bin/python bench/chaos.py --repo /tmp/before   # another checkout (e.g. git worktree add /tmp/before HEAD~1)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import os
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import websockets  # noqa: E402

from bench.fakehttp import FakeHttp, google_tts, twilio_calls  # noqa: E402
from bench.loopback import free_port, healthy  # noqa: E402
from server.twilio import sign  # noqa: E402
from stt.audio import decode_audio, to_mulaw  # noqa: E402

SPEECH = ROOT.parent / "shared" / "data" / "speech_ko" / "leopard_test_ko.wav"
TOKEN = "chaos-token"
ACCOUNT = "AC" + "0" * 32
ENGINE_KEY = "chaos-engine-key"
FRAME = 160


def start_redis(port: int, folder: str) -> subprocess.Popen:
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", folder], stdout=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return redis
        time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def start_server(repo: Path, port: int, redis_port: int, data_dir: str, voice: dict[str, str]) -> subprocess.Popen:
    env = {**os.environ, "KOCALL_SERVER__TWILIO_AUTH_TOKEN": TOKEN, "KOCALL_SERVER__TTS": "none",
           "KOCALL_DATA_DIR": data_dir, "KOCALL_DIALOG__SESSION_STORE": f"redis://127.0.0.1:{redis_port}/0",
           **voice}
    server = subprocess.Popen([str(repo / ".venv" / "bin" / "python"), "-m", "kocall.cli", "serve", "--port",
                               str(port)], cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not healthy(server, port):
        raise SystemExit("the server did not become healthy")
    return server


class Record:
    def __init__(self) -> None:
        self.phase = "normal"
        self.chat: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.health: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.health_log: list[tuple[float, str]] = []
        self.answered: list[tuple[str, str]] = []  # (session, phase) of each answered chat turn
        self.heard: dict[tuple[str, int], tuple[float, str]] = {}  # (call, utterance) -> seconds from its end of
        # speech to what came back, and what


async def chats(ports: list[int], record: Record, stop: asyncio.Event) -> None:
    """A turn every 0.25 s, the servers taking turns; a refused connection is tried on the next server, as a
    load balancer would (counted as the error the client saw first)."""
    texts = ["결제일 바꿔줘", "십오일로 해 줘", "네", "연회비 얼마야"]
    async with httpx.AsyncClient(timeout=10) as client:
        k = 0
        while not stop.is_set():
            session = f"chaos-{k // 4}"
            for attempt in range(len(ports)):
                port = ports[(k + attempt) % len(ports)]
                try:
                    r = await client.post(f"http://127.0.0.1:{port}/chat",
                                          json={"session_id": session, "text": texts[k % 4]})
                except httpx.HTTPError as exc:
                    record.chat[record.phase][type(exc).__name__] += 1
                    continue
                record.chat[record.phase][r.status_code] += 1
                if r.status_code == 200:
                    record.answered.append((session, record.phase))
                break
            k += 1
            await asyncio.sleep(0.25)


async def health(port: int, record: Record, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        while not stop.is_set():
            try:
                answer = await client.get("/healthz")
                status = f"{answer.status_code} {answer.json().get('status', '')}".strip()
            except (httpx.HTTPError, ValueError):
                status = "no answer"
            record.health[record.phase][status] += 1
            record.health_log.append((time.perf_counter(), status))
            await asyncio.sleep(0.2)


async def phone_call(port: int, record: Record, name: str, utterances: int = 2,
                     twilio_api: FakeHttp | None = None) -> None:
    """``utterances`` utterances, each followed by 3 s of silence; what came back (a text event, reply audio,
    or the call update that says it in Twilio's voice) and when."""
    url = f"ws://127.0.0.1:{port}/twilio/media"
    said = to_mulaw(decode_audio(SPEECH))
    speech, spoken_frames = said + b"\xff" * 24000, len(said) // FRAME
    async with websockets.connect(url, additional_headers={"X-Twilio-Signature": sign(TOKEN, url, {})}) as ws:
        await ws.send(json.dumps({"event": "start", "streamSid": "MZchaos", "start": {
            "accountSid": ACCOUNT, "streamSid": "MZchaos", "callSid": f"CA-chaos-{name}",
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}}))
        ends: list[float] = []

        async def listen() -> None:
            try:
                async for message in ws:
                    msg = json.loads(message)
                    if msg["event"] == "kocall.reply" and ends:
                        record.heard.setdefault((name, len(ends)), (time.perf_counter() - ends[-1], msg["text"]))
                    elif msg["event"] == "media" and ends:
                        record.heard.setdefault((name, len(ends)), (time.perf_counter() - ends[-1], "reply audio"))
            except websockets.ConnectionClosed:
                pass

        listener = asyncio.create_task(listen())
        try:
            for _ in range(utterances):
                for k, i in enumerate(range(0, len(speech), FRAME)):
                    await ws.send(json.dumps({"event": "media", "streamSid": "MZchaos", "media": {
                        "payload": base64.b64encode(speech[i:i + FRAME]).decode()}}))
                    if k == spoken_frames:
                        ends.append(time.perf_counter())
                    if twilio_api is not None and twilio_api.requests and ends and (name, len(ends)) not in record.heard:
                        said = twilio_api.requests[-1]
                        if said.at > ends[-1]:
                            record.heard[name, len(ends)] = (said.at - ends[-1], "a call update: Twilio's voice says it")
                    await asyncio.sleep(0.02)
        except websockets.ConnectionClosed:
            pass
        await asyncio.sleep(1.0)
        listener.cancel()


async def killed_call(port: int, other: int, record: Record, server: subprocess.Popen) -> None:
    """A call on the server that is killed (kill -9) 0.3 s after its first utterance ends, its turn in flight.
    Playing Twilio: the stream drops, Twilio asks /twilio/next (here, the other server), which streams the
    call again; the caller says a second utterance there."""
    said = to_mulaw(decode_audio(SPEECH))
    speech, spoken_frames = said + b"\xff" * 24000, len(said) // FRAME
    call_sid, ends = "CA-chaos-killed", []

    async def utterance(ws, n: int, kill: bool) -> None:
        async def listen() -> None:
            try:
                async for message in ws:
                    msg = json.loads(message)
                    if msg["event"] == "kocall.reply" and len(ends) == n:
                        record.heard.setdefault(("killed", n), (time.perf_counter() - ends[-1], msg["text"]))
            except websockets.ConnectionClosed:
                pass

        listener = asyncio.create_task(listen())
        try:
            for k, i in enumerate(range(0, len(speech), FRAME)):
                await ws.send(json.dumps({"event": "media", "streamSid": f"MZk{n}", "media": {
                    "payload": base64.b64encode(speech[i:i + FRAME]).decode()}}))
                if k == spoken_frames:
                    ends.append(time.perf_counter())
                    if kill:
                        await asyncio.sleep(0.3)
                        server.kill()
                await asyncio.sleep(0.02)
        except websockets.ConnectionClosed:
            pass
        await asyncio.sleep(1.0)
        listener.cancel()

    for n, target in ((1, port), (2, other)):
        url = f"ws://127.0.0.1:{target}/twilio/media"
        if n == 2:  # Twilio, the stream gone, asks what follows
            next_url = f"http://127.0.0.1:{other}/twilio/next"
            twiml = httpx.post(next_url, data={"CallSid": call_sid},
                               headers={"X-Twilio-Signature": sign(TOKEN, next_url, {"CallSid": call_sid})}).text
            if "<Stream" not in twiml:
                record.heard["killed", 2] = (float("nan"), f"/twilio/next did not stream the call again: {twiml}")
                return
            if "<Say" in twiml:  # Twilio says it before it streams the call again
                said = twiml.split("<Say", 1)[1].split(">", 1)[1].split("</Say>", 1)[0]
                record.heard.setdefault(("killed", 1), (time.perf_counter() - ends[0], f"Twilio says: {said}"))
        async with websockets.connect(url, additional_headers={"X-Twilio-Signature": sign(TOKEN, url, {})}) as ws:
            await ws.send(json.dumps({"event": "start", "streamSid": f"MZk{n}", "start": {
                "streamSid": f"MZk{n}", "callSid": call_sid, "mediaFormat": {"encoding": "audio/x-mulaw",
                                                                             "sampleRate": 8000}}}))
            await utterance(ws, n, kill=n == 1)


def first_change(log: list[tuple[float, str]], since: float, wanted) -> float | None:
    return next((t - since for t, status in log if t >= since and wanted(status)), None)


FAULTS = {"redis": ("redis stopped", "redis back"), "tts": ("tts stalls", "tts back"),
          "disk": ("disk full", "disk back"), "kill": ("one killed", "one left")}


async def main_async(args: argparse.Namespace) -> None:
    record, stop = Record(), asyncio.Event()
    stall = {"s": 0.0}  # seconds the fake engine waits before it answers
    speech = to_mulaw(decode_audio(SPEECH))
    google = google_tts(ENGINE_KEY, lambda text: speech)

    def stalling(request):
        time.sleep(stall["s"])
        return google(request)

    slow_engine, twilio_api = FakeHttp(stalling), FakeHttp(twilio_calls())
    voice = {} if args.fault != "tts" else {
        "KOCALL_SERVER__TTS": "google", "KOCALL_SERVER__TTS_KEY": ENGINE_KEY, "KOCALL_SERVER__TTS_URL": slow_engine.url,
        "KOCALL_SERVER__TTS_CACHE": "false", "KOCALL_SERVER__TWILIO_API_URL": twilio_api.url}
    fault_phase, back_phase = FAULTS[args.fault]
    with tempfile.TemporaryDirectory() as folder:
        redis_port, port = free_port(), free_port()
        redis = start_redis(redis_port, folder)
        server = start_server(args.repo, port, redis_port, str(Path(folder) / "data"), voice)
        others = [free_port()] if args.fault == "kill" else []  # a second server on the same session store
        second = [start_server(args.repo, other, redis_port, str(Path(folder) / "data2"), voice) for other in others]
        try:
            tasks = [asyncio.create_task(chats([port, *others], record, stop)),  # kill: the survivor's health
                     asyncio.create_task(health(others[0] if others else port, record, stop))]
            await asyncio.sleep(args.phase)
            record.phase, fault = fault_phase, time.perf_counter()
            if args.fault == "redis":
                redis.terminate()
                redis.wait(timeout=10)
            elif args.fault == "disk":  # no file of the server's may grow: its disk is full, as it sees it
                limit = resource.prlimit(server.pid, resource.RLIMIT_FSIZE)
                resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (1, limit[1]))
            else:
                stall["s"] = 30.0
            # Redis: one call of two turns. TTS: one turn a call, as Twilio opens a new stream after each call
            # update; a second call once the engine is back shows /healthz recover when the engine answers.
            calls = [asyncio.create_task(
                killed_call(port, others[0], record, server) if args.fault == "kill"  # killed as its turn runs
                else phone_call(port, record, "in the fault", 2 if args.fault == "redis" else 1, twilio_api))]
            await asyncio.sleep(args.phase)
            record.phase, back = back_phase, time.perf_counter()
            if args.fault == "redis":
                redis = start_redis(redis_port, folder)
            elif args.fault == "disk":
                resource.prlimit(server.pid, resource.RLIMIT_FSIZE, limit)
            elif args.fault == "kill":
                pass  # the other server goes on alone
            else:
                stall["s"] = 0.0
                calls.append(asyncio.create_task(phone_call(port, record, "after it", 1, twilio_api)))
            await asyncio.sleep(args.phase)
            stop.set()
            await asyncio.gather(*tasks, *calls)
        finally:
            for process in (server, *second):
                process.terminate()
                process.wait(timeout=30)
            redis.terminate()
            for fake in (slow_engine, twilio_api):
                fake.shutdown()
        logged = collections.Counter()
        for data in ("data", "data2")[:1 + len(second)]:
            with sqlite3.connect(Path(folder) / data / "turns.sqlite") as db:
                logged.update(row[0] for row in db.execute("SELECT session_id FROM turns WHERE channel = 'chat'"))

    print(f"server: {args.repo}; fault: {args.fault}; {args.phase:.0f} s a phase\n")
    print(f"{'phase':14s} {'chat answered':>13s}  {'chat others':28s} /healthz")
    for phase in ("normal", fault_phase, back_phase):
        chat = record.chat[phase]
        others = ", ".join(f"{k}: {v}" for k, v in sorted(chat.items(), key=str) if k != 200) or "-"
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(record.health[phase].items()))
        print(f"{phase:14s} {chat[200]:13d}  {others:28s} {statuses}")
    told = first_change(record.health_log, fault, lambda s: s != "200 ok")
    healed = first_change(record.health_log, back, lambda s: s == "200 ok")
    print(f"\n/healthz told the fault after {'never' if told is None else f'{told:.1f} s'}, "
          f"the recovery after {'never' if healed is None else f'{healed:.1f} s'}")
    print("phone calls (seconds from the end of each utterance to what the caller got):")
    calls = {"redis": [("in the fault", 1), ("in the fault", 2)], "tts": [("in the fault", 1), ("after it", 1)],
             "disk": [("in the fault", 1)], "kill": [("killed", 1), ("killed", 2)]}[args.fault]
    for call, n in calls:
        seconds, text = record.heard.get((call, n), (None, "nothing: silence"))
        print(f"  call {call}, utterance {n}: {'' if seconds is None else f'{seconds:5.2f} s'}  {text}")
    answered = collections.Counter(session for session, _ in record.answered)
    lost = sum(max(0, n - logged.get(session, 0)) for session, n in answered.items())
    in_fault = sum(phase == fault_phase for _, phase in record.answered)
    print(f"answered chat turns missing from the turn log: {lost} of {sum(answered.values())} "
          f"({in_fault} answered in the fault phase)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose server to run")
    parser.add_argument("--phase", type=float, default=10.0, help="seconds of each phase")
    parser.add_argument("--fault", choices=sorted(FAULTS), default="redis",
                        help="redis: the session store stopped and started; tts: the TTS engine stalls (a local fake "
                        "of Google's API that stops answering in time), with Twilio's API faked too; disk: the "
                        "server's disk full; kill: kill -9 of one of two servers")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
