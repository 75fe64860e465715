"""What line noise does on a call, and why a turn Whisper drops as no speech is not read again by default.

Line noise of six kinds (white noise at two levels, mains hum with hiss, breath, a decaying burst like a
knock, digital silence), 0.6, 1.5 and 3 s long, several draws each, at 16 kHz and through the telephone
path (8 kHz G.711 mu-law):

* **through the endpointer**, as a call's audio arrives (with silence around it): how many clips become a
  turn for the server to decode (and, beside them, how many short replies of real speech do);
* **fed to the decoder**, as if one had: how many Whisper reads as no speech (no text), and what the beam's
  best reading of those says, with its no-speech probability: what ``KOCALL_STT__REREAD_EMPTY_TURNS`` would
  take as the caller's words.

Then the same for the short replies of ``bench/stt.py`` (one- and two-word spans of real speech cut at their
word timestamps) that Whisper drops as no speech: the beam's reading and its no-speech probability. Where
the two ranges overlap, that probability cannot tell a dropped reply from noise.

    taskset -c 0,1 .venv/bin/python bench/stt_noise.py [--draws 6]     # about 3 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stt import SPEECH, short_replies, telephone, turn_of  # noqa: E402
from core.domain_pack import DEFAULT_PACK, find_pack  # noqa: E402
from core.settings import SttSettings  # noqa: E402
from stt.audio import MODEL_RATE, Audio  # noqa: E402
from stt.transcribe import Transcriber, get_transcriber  # noqa: E402

KINDS = ("white noise", "loud white noise", "mains hum", "breath", "knock", "digital silence")
DURATIONS_S = (0.6, 1.5, 3.0)


def noise(kind: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * MODEL_RATE)
    t = np.arange(n) / MODEL_RATE
    if kind == "white noise":
        x = 0.03 * rng.standard_normal(n)
    elif kind == "loud white noise":
        x = 0.2 * rng.standard_normal(n)
    elif kind == "mains hum":
        x = 0.05 * np.sin(2 * np.pi * 60 * t) + 0.02 * np.sin(2 * np.pi * 180 * t) + 0.01 * rng.standard_normal(n)
    elif kind == "breath":  # low-passed noise swelling and fading
        x = 0.3 * np.convolve(rng.standard_normal(n), np.ones(30) / 30, "same") * np.sin(np.pi * t / seconds) ** 2
    elif kind == "knock":
        x = np.zeros(n)
        k = min(n, 4000)
        x[:k] = rng.standard_normal(k) * np.exp(-np.arange(k) / 800)
    else:
        x = np.zeros(n)
    return np.clip(x, -1, 1).astype(np.float32)


def beam_reading(transcriber: Transcriber, clip: Audio) -> tuple[str, float] | None:
    """None where Whisper writes text; else the beam's best reading and its no-speech probability."""
    if transcriber.transcribe(clip, word_timestamps=False).text:
        return None
    first = transcriber.beam(clip, 1)[0]
    return first.text, first.no_speech_prob


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=6, help="noise draws per kind and length")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        transcriber = get_transcriber(SttSettings(), Path(tmp), find_pack(DEFAULT_PACK).lexicon)
        turns, dropped, said = 0, [], collections.Counter()
        clips = 0
        for draw in range(args.draws):
            rng = np.random.default_rng(draw)
            for kind in KINDS:
                for seconds in DURATIONS_S:
                    audio = Audio(noise(kind, seconds, rng), MODEL_RATE)
                    turns += turn_of(audio) is not None
                    for clip in (audio, telephone(audio)):
                        clips += 1
                        reading = beam_reading(transcriber, clip)
                        if reading is not None:
                            dropped.append(reading)
                            said[reading[0][:24]] += 1
            print(f"... draw {draw + 1} of {args.draws}", file=sys.stderr, flush=True)
        spans = short_replies(SPEECH / "manifest.jsonl")
        reply_turns = sum(turn_of(audio) is not None for _, audio, _ in spans)
        replies = [r for _, audio, _ in spans
                   for r in (beam_reading(transcriber, audio), beam_reading(transcriber, telephone(audio)))
                   if r is not None]

    print(f"\nline noise: {clips // 2} clips ({len(KINDS)} kinds x {len(DURATIONS_S)} lengths x {args.draws} draws)")
    print(f"  through the endpointer: {turns} of {clips // 2} became a turn")
    written = [r for r in dropped if r[0].strip(" .")]
    print(f"  fed to the decoder (16 kHz and phone path, {clips}): no text on {len(dropped)}; the beam's best "
          f"reading of those has words on {len(written)}")
    if dropped:
        probs = sorted(p for _, p in dropped)
        print(f"    its no-speech probability: {probs[0]:.2f} to {probs[-1]:.2f}, median {np.median(probs):.2f}")
        print("    most frequent: " + "; ".join(f"{text} ({n})" for text, n in said.most_common(8)))
    print(f"\nshort replies of real speech through the endpointer: {reply_turns} of {len(spans)} became a turn")
    print(f"short replies of real speech Whisper drops as no speech: {len(replies)}")
    for text, prob in sorted(replies, key=lambda r: r[1]):
        print(f"  {prob:.2f}  {text}")


if __name__ == "__main__":
    main()
