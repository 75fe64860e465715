"""``kocall label ...``: labelers, imports and exports of the transcription labeling tool.

The web UI itself is served by ``kocall serve`` at ``/label``; these commands
are for the person who runs it: create labelers (each gets a token), fill the
queue from files, the turn log or Label Studio, and export what was labeled.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    label = commands.add_parser("label", help="transcription labeling tool: labelers, import, export, progress",
                                description="Manage the labeling tool served at /label by `kocall serve`: create "
                                "labelers, import audio to label (pre-transcribed, with intent suggestions), export "
                                "the labels. The store is KOCALL_LABEL__DB (default <data_dir>/labels.sqlite).")
    sub = label.add_subparsers(dest="label_command", metavar="COMMAND", required=True)

    p = sub.add_parser("add-labeler", help="create a labeler (or renew their token) and print the token",
                       description="Create labeler NAME and print their token; for a known NAME, print a new token "
                       "(the old one stops working). The labeler opens /label?token=TOKEN once; the browser then "
                       "keeps a cookie.")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(run=run_add_labeler)

    p = sub.add_parser("import", help="import audio files or folders",
                       description="Pre-transcribe audio files (any format `kocall transcribe` reads, 8 or 16 kHz) "
                       "and folders of them (walked for audio by extension) and add them to the queue. A file that "
                       "is not usable audio is reported and skipped; a recording already in the store is skipped.")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.set_defaults(run=run_import)

    p = sub.add_parser("import-turns", help="import the phone turns of the turn log",
                       description="Add the recorded caller utterances of live phone calls (the server's turn log) "
                       "that are not in the store yet.")
    p.add_argument("--since", metavar="ISO", help="only turns from this time on, e.g. 2026-11-01")
    p.add_argument("--most-informative", type=int, metavar="N",
                   help="only the N turns monitoring finds most worth labeling (least sure STT and NLU first)")
    p.set_defaults(run=run_import_turns)

    p = sub.add_parser("import-labelstudio", help="import a Label Studio JSON export",
                       description="Import Label Studio tasks (JSON export); annotated tasks come in labeled. The "
                       "whole file is checked first: one bad task and nothing is imported.")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--root", type=Path, help="folder /data/local-files/?d= paths are relative to (default: FILE's)")
    p.set_defaults(run=run_import_labelstudio)

    p = sub.add_parser("export", help="export labels: eval manifest, training data set, Label Studio JSON",
                       description="manifest: JSONL with segments (start/end/text/intent) per labeled recording, "
                       "for `kocall eval`. dataset: a Hugging Face data set folder of text,label rows per segment. "
                       "labelstudio: every item as Label Studio tasks (predictions and annotations).")
    p.add_argument("format", choices=("manifest", "dataset", "labelstudio"))
    p.add_argument("out", type=Path, metavar="OUT")
    p.add_argument("--relative", action="store_true", help="manifest audio paths relative to OUT's folder")
    p.set_defaults(run=run_export)

    p = sub.add_parser("progress", help="counts per status, intent and labeler, and labeler agreement (JSON)")
    p.set_defaults(run=run_progress)


def _fail(message: str, status: int = 2) -> int:
    print(f"kocall label: {message}", file=sys.stderr)
    return status


def _store():
    from core.settings import Settings
    from data_tools.labeling.store import open_store

    settings = Settings()
    return settings, open_store(settings)


def _models(settings):
    """The transcriber and understander, loaded once for the whole import."""
    from nlu.understand import get_understander
    from stt.transcribe import get_transcriber

    pack = settings.pack()
    return (get_transcriber(settings.stt, settings.cache_dir, pack.lexicon),
            get_understander(settings.nlu, settings.cache_dir, pack))


def run_add_labeler(args: argparse.Namespace) -> int:
    from data_tools.labeling.store import LabelError

    settings, store = _store()
    try:
        token = store.add_labeler(args.name)
    except LabelError as exc:
        return _fail(str(exc))
    print(token)
    print(f"kocall label: {args.name} opens http://{settings.server.host}:{settings.server.port}/label?token={token}",
          file=sys.stderr)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from data_tools.labeling.imports import audio_files, content_ref, from_file
    from data_tools.labeling.store import LabelError

    settings, store = _store()
    files = audio_files(args.paths)
    if not files:
        return _fail("no audio files found in " + ", ".join(map(str, args.paths)))
    transcriber, understander = _models(settings)
    added = failed = known = 0
    for path in files:
        try:
            if store.known(content_ref(path.read_bytes())):
                known += 1
                continue
            ids, _ = store.add([from_file(path, transcriber, understander, settings.stt.max_audio_s)])
        except (OSError, ValueError) as exc:  # AudioError and LabelError are ValueErrors
            failed += 1
            kind = "" if isinstance(exc, (OSError, LabelError)) else "not usable audio: "
            print(f"kocall label: {path}: {kind}{exc}", file=sys.stderr)
            continue
        added += len(ids)
    print(json.dumps({"imported": added, "already_in_store": known, "failed": failed}))
    return 1 if failed else 0


def run_import_turns(args: argparse.Namespace) -> int:
    from data_tools.calllog.monitor import to_label
    from data_tools.calllog.turnlog import TurnLog
    from data_tools.labeling.imports import from_turns

    settings, store = _store()
    path = settings.server.turn_log or settings.data_dir / "turns.sqlite"
    if not path.is_file():
        return _fail(f"no turn log at {path} (the server writes it; KOCALL_SERVER__TURN_LOG names another)")
    transcriber, understander = _models(settings)
    added, failed = 0, 0
    turns = TurnLog(path).read(since=args.since, channel="phone")
    if args.most_informative:
        turns = to_label(turns, args.most_informative)
    for item in from_turns(turns, store.known, transcriber, understander, settings.stt.max_audio_s):
        if isinstance(item, str):
            failed += 1
            print(f"kocall label: {item}", file=sys.stderr)
            continue
        added += len(store.add([item])[0])
    print(json.dumps({"imported": added, "failed": failed}))
    return 1 if failed else 0


def run_import_labelstudio(args: argparse.Namespace) -> int:
    from data_tools.labeling.imports import from_task
    from data_tools.labeling.label_studio import parse_tasks
    from data_tools.labeling.store import LabelError

    settings, store = _store()
    try:
        tasks = parse_tasks(args.file.read_bytes(), args.file.resolve().parent, args.root)
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc}")
    except LabelError as exc:
        return _fail(f"{args.file}: {exc}; nothing was imported")
    transcriber, understander = _models(settings)
    items = []
    for task in tasks:
        try:
            items.append(from_task(task, transcriber, understander, settings.stt.max_audio_s))
        except (OSError, ValueError) as exc:
            return _fail(f"{args.file}: task {task.number} ({task.audio}): {exc}; nothing was imported")
    try:
        added, known = store.add(items)
    except LabelError as exc:
        return _fail(f"{args.file}: {exc}; nothing was imported")
    print(json.dumps({"imported": len(added), "already_in_store": len(known)}))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from data_tools.augment.dataset import labeled_dataset
    from data_tools.labeling.export import training_rows, write_manifest
    from data_tools.labeling.label_studio import to_tasks

    _, store = _store()
    items = store.items()
    try:
        if args.format == "manifest":
            count = write_manifest(items, args.out, relative=args.relative)
        elif args.format == "dataset":
            data = labeled_dataset(training_rows(items))
            data.save_to_disk(str(args.out))
            count = len(data["all"])
        else:
            tasks = to_tasks(items, store.history())
            args.out.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), "utf-8")
            count = len(tasks)
    except OSError as exc:
        return _fail(f"cannot write {args.out}: {exc}")
    print(json.dumps({"format": args.format, "out": str(args.out), "rows": count}))
    return 0


def run_progress(args: argparse.Namespace) -> int:
    from data_tools.labeling.progress import progress

    _, store = _store()
    print(json.dumps(progress(store.items(), store.history()), ensure_ascii=False, indent=2))
    return 0
