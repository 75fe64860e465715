"""Seconds from `kocall serve` to its first /chat answer and its first answer on a phone call.

Each run starts `kocall serve` as a new user does, with an empty cache folder
(KOCALL_CACHE_DIR: the bundled Whisper model is joined into it on the way) and an
empty data folder; posts /chat until one is answered 200; then plays one
simulated Twilio call (a real recording as 20 ms mu-law frames in real time, as
bench/server.py does) and waits for the bot's reply to it. Prints each run and the
median over runs; the call figure includes the recording's own length and the
endpointer's 500 ms wait after the speech.

    .venv/bin/python bench/first_start.py --runs 3
    .venv/bin/python bench/first_start.py --runs 3 --cache ~/.cache/kocall     # a start with a warm cache
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.server import CLIPS, SPEECH, TOKEN, run_calls, speech_end_frame  # noqa: E402
from stt.audio import decode_audio, to_mulaw  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_chat(port: int, started: float, timeout_s: float) -> tuple[float, str]:
    """Seconds from ``started`` to the first 200 from /chat, and what the bot said."""
    while time.perf_counter() - started < timeout_s:
        try:
            r = httpx.post(f"http://127.0.0.1:{port}/chat", timeout=30,
                           json={"session_id": "first", "text": "카드를 잃어버렸어요"})
            if r.status_code == 200:
                return time.perf_counter() - started, r.json()["reply"]
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"no /chat answer within {timeout_s:.0f} s")


def one_start(cache: str | None, timeout_s: float) -> dict:
    clip = [(to_mulaw(decode_audio(SPEECH / CLIPS[0])), speech_end_frame(SPEECH / CLIPS[0]))]
    with tempfile.TemporaryDirectory() as data_dir, tempfile.TemporaryDirectory() as fresh_cache:
        port = free_port()
        env = {**os.environ, "KOCALL_CACHE_DIR": cache or fresh_cache, "KOCALL_DATA_DIR": data_dir,
               "KOCALL_SERVER__TWILIO_AUTH_TOKEN": TOKEN}
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "kocall.cli", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            chat_s, reply = first_chat(port, started, timeout_s)
            call_began = time.perf_counter()
            result = asyncio.run(run_calls(port, 1, clip, pause_s=1.0, spread_s=0.0))
            if not result["latency"]:
                raise SystemExit("the call got no reply")
            # Frames go out in real time, so the speech ends this long after the call began.
            speech_end_s = (clip[0][1] + 1) * 0.02
            return {"chat_s": chat_s, "call_reply_s": call_began - started + speech_end_s + result["latency"][0],
                    "reply": reply}
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", help="use this cache folder instead of a new empty one each run")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after this many seconds")
    args = parser.parse_args()
    runs = []
    print(f"{'run':>3s} {'first /chat s':>13s} {'first call reply s':>18s}  reply")
    for n in range(args.runs):
        r = one_start(args.cache, args.timeout)
        runs.append(r)
        print(f"{n + 1:3d} {r['chat_s']:13.1f} {r['call_reply_s']:18.1f}  {r['reply'][:40]}", flush=True)
    print(f"median {statistics.median(r['chat_s'] for r in runs):10.1f} "
          f"{statistics.median(r['call_reply_s'] for r in runs):18.1f}")


if __name__ == "__main__":
    main()
