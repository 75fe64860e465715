"""``kocall eval``: the whole pipeline on a timestamped manifest, scored, with a report."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "eval", help="score STT, timestamps, intents and latency on a labelled audio manifest",
        description="Run decode -> STT -> NLU on every file of MANIFEST (JSONL: audio path relative to the "
        "manifest, sample_rate, and either segments with start/end/text/intent or a whole-file text with "
        "word timestamps) and report CER/WER (per cut segment and on the whole file, by sample rate and "
        "metadata column), timestamp boundary error, missed/inserted speech, intent accuracy from audio "
        "and from the reference text, and per-stage latency. Bad lines are reported by number and skipped; "
        "the exit status is 1 only if nothing could be evaluated.")
    p.add_argument("manifest", type=Path, metavar="MANIFEST")
    p.add_argument("--out", type=Path, metavar="RESULTS.json", help="write all figures and per-item results here")
    p.add_argument("--report", type=Path, metavar="REPORT.html", help="write a self-contained HTML report here")
    p.add_argument("--compare", type=Path, metavar="OLD.json", help="show what got better or worse since OLD.json")
    p.add_argument("--workers", type=int, default=1,
                   help="files evaluated in parallel processes, each loading the models once (default 1); "
                   "latencies then include the processes competing for CPU")
    p.set_defaults(run=run)


def _fail(message: str, status: int = 2) -> int:
    print(f"kocall eval: {message}", file=sys.stderr)
    return status


def _evaluate(rows: list[dict], settings, with_nlu: bool, workers: int) -> list[dict]:
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    from tqdm import tqdm

    from data_tools.evaluation.scoring import evaluate_row

    bar = tqdm(total=len(rows), desc="eval", unit="file", file=sys.stderr, disable=None)
    with bar:
        if workers == 1:
            out = []
            for row in rows:
                out.append(evaluate_row(row, settings, with_nlu))
                bar.update()
            return out
        # spawn, not fork: forking a process that already runs torch and CTranslate2 threads can deadlock.
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(evaluate_row, row, settings, with_nlu) for row in rows]
            for _ in as_completed(futures):
                bar.update()
            return [f.result() for f in futures]


def run(args: argparse.Namespace) -> int:
    from core.domain_pack import DomainPackError
    from core.settings import Settings
    from data_tools.evaluation.manifest import read_rows
    from data_tools.evaluation.report import render_html, terminal
    from data_tools.evaluation.scoring import compare, summarize
    from nlu.understand import INTENT, get_understander, model_path
    from stt.model import ModelNotFound
    from stt.transcribe import get_transcriber

    if args.workers < 1:
        return _fail("--workers must be at least 1")
    try:
        rows = read_rows(args.manifest)
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"cannot read {args.manifest}: {exc}")
    old = None
    if args.compare:
        try:
            old = json.loads(args.compare.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            return _fail(f"cannot read {args.compare}: {exc}")
        if not isinstance(old, dict) or not {"summary", "items"} <= old.keys():
            return _fail(f"{args.compare} is not a kocall eval results file (no summary and items)")

    settings = Settings()
    try:
        pack = settings.pack()
        get_transcriber(settings.stt, settings.cache_dir, pack.lexicon)  # joins the bundled model once, up front
    except (ModelNotFound, DomainPackError, ValueError) as exc:
        return _fail(str(exc))
    nlu_note, labels = None, []
    try:
        labels = get_understander(settings.nlu, settings.cache_dir, pack).intent.labels
    except FileNotFoundError as exc:
        folder = model_path(settings.nlu, settings.cache_dir, pack, INTENT)
        nlu_note = (f"intents not scored: no intent model at {folder} ({exc}); run `kocall train` to make the "
                    "default models, or set KOCALL_NLU__INTENT_MODEL")
        print(f"kocall eval: {nlu_note}", file=sys.stderr)

    outcomes = _evaluate(rows, settings, nlu_note is None, args.workers)
    items = [json.loads(o["result"]) for o in outcomes if o["result"]]
    problems = [{"line": o["line"], "error": o["error"]} for o in outcomes if o["error"]]
    for problem in problems:
        print(f"kocall eval: {args.manifest}:{problem['line']}: {problem['error']}", file=sys.stderr)
    if not items:
        return _fail(f"nothing could be evaluated ({len(problems)} of {len(rows)} lines unusable)", 1)

    summary = summarize(items, labels)
    results = {
        "manifest": str(args.manifest.resolve()),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": {"stt_model": settings.stt.model, "beam_size": settings.stt.beam_size, "vad": settings.stt.vad,
                     "compute_type": settings.stt.compute_type, "cpu_threads": settings.stt.cpu_threads,
                     "intent_labels": labels, "workers": args.workers},
        "cer": summary["stt"]["cer"], "cer_spaced": summary["stt"]["cer_spaced"], "wer": summary["stt"]["wer"],
        "nlu_note": nlu_note,
        "summary": summary,
        "problems": problems,
        "items": items,
    }
    comparison = compare(old, results) if old else None
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")
    if args.report:
        args.report.write_text(render_html(results, comparison), "utf-8")
    print(terminal(results, comparison))
    return 0
