"""``kocall transcribe``: audio files in, text or JSON out."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

PROGRESS_OVER_S = 30.0  # show a progress bar for files longer than this


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "transcribe",
        help="transcribe Korean audio files",
        description="Transcribe Korean speech with Whisper (bundled base model, offline). Reads WAV/FLAC/OGG/"
        "MP3 at any rate, or headerless audio described by --rate/--mulaw. Prints the text of each "
        "file, or with --json one JSON object per file with segments and word timestamps.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file (segments, words, confidences)")
    p.add_argument("--rate", type=int, metavar="HZ", help="the input is headerless PCM16 at this rate")
    p.add_argument("--mulaw", action="store_true", help="the input is headerless G.711 mu-law (8000 Hz unless --rate)")
    p.add_argument("--model", help="CTranslate2 Whisper folder or cached faster-whisper name (default: bundled base)")
    p.add_argument("--lexicon", type=Path, help="domain terms, one per line (default: the domain pack's lexicon.txt)")
    p.add_argument("--no-lexicon", action="store_true", help="no lexicon correction")
    p.add_argument("--beam-size", type=int, help="beam size (default 5; 1: greedy, a little faster)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from core.settings import Settings
    from stt.audio import AudioError, decode_audio
    from stt.model import ModelNotFound
    from stt.transcribe import Transcript, get_transcriber

    overrides = {k: v for k, v in {"model": args.model, "beam_size": args.beam_size}.items() if v is not None}
    if args.no_lexicon:
        overrides["biasing"] = False
    settings = Settings()
    stt_settings = settings.stt.model_copy(update=overrides)
    try:
        transcriber = get_transcriber(stt_settings, settings.cache_dir, args.lexicon or settings.pack().lexicon)
    except (ModelNotFound, ValueError) as exc:
        print(f"kocall transcribe: {exc}", file=sys.stderr)
        return 2

    failed = 0
    for path in args.files:
        try:
            audio = decode_audio(path, raw_rate=args.rate, mulaw=args.mulaw, max_seconds=stt_settings.max_audio_s)
        except (AudioError, OSError) as exc:
            print(f"kocall transcribe: {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        segments = []
        with tqdm(total=round(audio.duration_s, 1), unit="s", desc=path.name, file=sys.stderr,
                  disable=audio.duration_s < PROGRESS_OVER_S or None) as bar:
            for segment in transcriber.segments(audio):
                segments.append(segment)
                bar.update(round(segment.end - bar.n, 1))
        transcript = Transcript.of(audio, segments)
        if args.json:
            print(json.dumps({"file": str(path), **asdict(transcript)}, ensure_ascii=False), flush=True)
        else:
            print(transcript.text if len(args.files) == 1 else f"{path}: {transcript.text}", flush=True)
    return 1 if failed else 0
