"""``kocall say``: speak one line in the phone voice, through the prompt cache, to check a voice by ear."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ENGINES = ("google", "azure", "espeak-ng")


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "say",
        help="speak one line in the phone voice (a WAV file)",
        description="Speak TEXT with a TTS engine as a caller would hear it (8 kHz mu-law) and write it as a "
        "WAV file. Goes through the prompt cache (<cache_dir>/tts), as the server does: a line already spoken "
        "in that voice costs no engine call. The engine, key, voice and region come from the settings "
        "(KOCALL_SERVER__TTS, __TTS_KEY, __TTS_VOICE, __TTS_REGION) unless given here. Twilio's own voices "
        "('auto', 'twilio') speak only on a live call and cannot be written to a file.",
    )
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--out", type=Path, required=True, metavar="REPLY.wav", help="where to write the audio")
    p.add_argument("--engine", choices=ENGINES, help="the engine (default: the server's setting)")
    p.add_argument("--voice", help="the engine's voice (e.g. ko-KR-Neural2-A, ko-KR-SunHiNeural)")
    p.add_argument("--no-cache", action="store_true", help="always ask the engine")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import soundfile

    from core.settings import Settings
    from server.tts import CachedTts, open_tts
    from server.tts_cloud import TtsEngineError
    from stt.audio import decode_audio, to_mulaw, to_pcm16

    settings = Settings()
    overrides = {"tts": args.engine, "tts_voice": args.voice, "tts_cache": False if args.no_cache else None}
    server = settings.server.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if server.tts not in ENGINES:
        print(f"kocall say: no TTS engine to speak with (the server's is {server.tts!r}: Twilio's voice or "
              f"text); give --engine {'/'.join(ENGINES)}", file=sys.stderr)
        return 2
    if not args.text.strip():
        print("kocall say: the text is empty", file=sys.stderr)
        return 2
    try:
        engine = open_tts(server, settings.cache_dir)
        started = time.perf_counter()
        audio = engine.synthesize(args.text)
    except (TtsEngineError, ValueError, FileNotFoundError) as exc:
        print(f"kocall say: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    phone = decode_audio(to_mulaw(audio), mulaw=True)  # what a caller hears: 8 kHz G.711
    try:
        soundfile.write(args.out, to_pcm16(phone.samples), phone.sample_rate, subtype="PCM_16")
    except (OSError, soundfile.LibsndfileError) as exc:
        print(f"kocall say: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    source = ("from the cache" if isinstance(engine, CachedTts) and engine.hits else f"by {engine.name}")
    print(f"{args.out}: {phone.duration_s:.2f} s at {phone.sample_rate} Hz, spoken {source} in {seconds:.2f} s",
          file=sys.stderr)
    return 0
