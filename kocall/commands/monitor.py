"""``kocall monitor``: drift and health of live traffic, read from the turn log."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "monitor", help="intent drift, out-of-scope, hand-off and STT rates, latency over time (turn log)",
        description="Cut the turn log into windows and show, for each, the intent mix's divergence from the "
        "training mix, out-of-scope / low-confidence / hand-off rates, STT no-speech and low-confidence rates "
        "and latency; windows that drifted from the first one are flagged.")
    p.add_argument("--log", type=Path, help="turn log (default: the server's, <data_dir>/turns.sqlite)")
    p.add_argument("--window", default="1h", help="window length: 30m, 1h, 1d (default 1h)")
    p.add_argument("--turns", type=int, help="windows of this many turns instead of a time span")
    p.add_argument("--since", help="only turns from this ISO time on")
    p.add_argument("--alert", type=float, default=0.1, help="divergence increase that raises an alert (0-1)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from core.settings import Settings
    from data_tools.calllog.monitor import monitor, parse_duration
    from data_tools.calllog.turnlog import TurnLog
    from nlu.classifier import read_meta
    from nlu.understand import INTENT, model_path

    settings = Settings()
    path = args.log or settings.server.turn_log or settings.data_dir / "turns.sqlite"
    if not Path(path).is_file():
        print(f"kocall monitor: no turn log at {path} (the server writes it; or give --log)", file=sys.stderr)
        return 1
    try:
        every = parse_duration(args.window)
    except ValueError as exc:
        print(f"kocall monitor: {exc}", file=sys.stderr)
        return 2
    log = TurnLog(path)
    turns = list(log.read(since=args.since))
    log.close()
    # Drift is measured against the mix of the intent model the server serves with these settings.
    folder = model_path(settings.nlu, settings.cache_dir, settings.pack(), INTENT)
    mix = read_meta(folder).label_mix if folder.is_dir() else {}
    result = monitor(turns, mix, every=every, per=args.turns, alert=args.alert)
    if args.json:
        print(json.dumps([asdict(w) for w in result], ensure_ascii=False, indent=1))
        return 0
    if not result:
        print("no turns in the log yet")
        return 0
    print(f"{'window start':24s} {'turns':>5s} {'drift':>5s} {'OOS':>5s} {'unsure':>6s} {'handoff':>7s} "
          f"{'no-speech':>9s} {'p95 ms':>7s}  top intents")
    for w in result:
        p95 = w.latency_ms.get("total", {}).get("p95")
        no_speech = "-" if w.stt_no_speech_rate is None else f"{w.stt_no_speech_rate:.0%}"
        top = ", ".join(f"{k} {v}" for k, v in list(w.intents.items())[:3])
        print(f"{w.start[:23]:24s} {w.turns:5d} {_num(w.drift):>5s} {w.out_of_scope_rate:5.0%} "
              f"{w.low_confidence_rate:6.0%} {w.handoff_rate:7.0%} {no_speech:>9s} {_num(p95, 0):>7s}  {top}")
        for alert in w.alerts:
            print(f"{'':24s} ALERT {alert}")
    phone = sum(1 for t in turns if t.channel == "phone" and t.audio)
    if phone:
        print(f"\n{phone} phone turns recorded; queue the least sure for labeling with "
              f"`kocall label import-turns --most-informative 50`")
    return 0


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
