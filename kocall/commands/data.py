"""``kocall data ...``: banmal conversion, augmentation, data set building and checks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_TRANSFORMS = "banmal,fragment,drop_particles,filler,contraction,spacing,stt_confusion"
BATCH = 256


def register(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="training-data tools (banmal, augment, build, check)",
                               description="Turn polite training text into text that looks like live speech, "
                               "build split data sets, and check them.")
    sub = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)

    p = sub.add_parser("banmal", help="convert polite Korean sentences to banmal",
                       description="Read polite (존댓말) sentences, one per line, from FILE or standard input and "
                       "write their banmal (반말) versions, one per line, in the same order.")
    p.add_argument("file", nargs="?", type=Path, help="input file (default: standard input)")
    p.set_defaults(run=run_banmal)

    p = sub.add_parser("build", help="labelled files -> split Hugging Face data set folder",
                       description="Load labelled utterances (CSV text,label / JSONL / LABEL<TAB>TEXT), split them "
                       "stratified into train/validation/test (identical texts stay in one split), optionally augment "
                       "train only, save a datasets.DatasetDict folder and print a check report.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    p.add_argument("--out", type=Path, required=True, help="folder to write the data set to")
    p.add_argument("--validation", type=float, default=0.1, help="fraction for validation (default 0.1)")
    p.add_argument("--test", type=float, default=0.1, help="fraction for test (default 0.1)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--augment", metavar="T1,T2", help=f"transforms for train, e.g. {DEFAULT_TRANSFORMS}")
    p.set_defaults(run=run_build)

    p = sub.add_parser("augment", help="add casual-speech variants to training rows",
                       description="Add one variant per transform to each original training row. IN is a data set "
                       "folder (only its train split is augmented) or a labelled file (every row is treated as "
                       "training data). OUT is a folder for a folder, or a .jsonl/.csv file for a file. Each new row "
                       "records its source_id and transform.")
    p.add_argument("input", type=Path, metavar="IN")
    p.add_argument("output", type=Path, metavar="OUT")
    p.add_argument("--transforms", default=DEFAULT_TRANSFORMS, help=f"comma-separated (default {DEFAULT_TRANSFORMS})")
    p.add_argument("--recombine", metavar="L1,L2",
                   help="after the transforms, add for each train row with one of these labels its final predicate "
                   "after another row's content, keeping its label: for labels that the predicate decides (3i4K's "
                   "1,2,3: statement, question, command), so that a model trained on polite chat stops reading "
                   "unfamiliar content as a statement")
    p.add_argument("--seed", type=int, default=13)
    p.set_defaults(run=run_augment)

    p = sub.add_parser("check", help="label consistency, split leakage and class balance",
                       description="Report texts that appear with different labels, texts shared by two splits "
                       "(leakage), and the class balance of a data set folder, a labelled file or a domain pack "
                       "folder (its intents.csv and out_of_scope.csv as one split, each dev and test set as its own: "
                       "a row in two of them, such as a test row that is also an example, is leakage). For a pack, "
                       "it also lists examples whose words its FAQ answers under another intent, to review: a "
                       "caller who says one is answered from its label's entries.")
    p.add_argument("dataset", type=Path, metavar="DATASET")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--examples", type=int, default=10, help="examples listed per finding")
    p.add_argument("--held-out", type=Path, nargs="+", default=[], metavar="CSV",
                   help="more labelled files, each read as a set of its own that no other may share a row with "
                   "(a project's bench sets: bench/callers/card_bank_*.csv)")
    p.set_defaults(run=run_check)


def _fail(message: str) -> int:
    print(f"kocall data: {message}", file=sys.stderr)
    return 2


def _progress(items, desc: str, total: int | None = None):
    from tqdm import tqdm

    return tqdm(items, desc=desc, total=total, file=sys.stderr, disable=None, unit="row")


def run_banmal(args: argparse.Namespace) -> int:
    from data_tools.augment.banmal import to_banmal_many

    try:
        raw = args.file.read_bytes() if args.file else sys.stdin.buffer.read()
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        return _fail(f"{args.file}: {exc.strerror}")
    except UnicodeDecodeError as exc:
        return _fail(f"{args.file or 'standard input'}: not UTF-8 text (byte {exc.start})")
    lines = text.splitlines()
    changed = 0
    with _progress(range(0, len(lines), BATCH), "banmal", total=-(-len(lines) // BATCH)) as bar:
        for start in bar:
            batch = lines[start:start + BATCH]
            for source, converted in zip(batch, to_banmal_many(batch)):
                changed += converted != source
                sys.stdout.write(converted + "\n")
    print(f"converted {len(lines)} lines, {changed} changed", file=sys.stderr)
    return 0


def _transforms(spec: str) -> list[str]:
    return [t.strip() for t in spec.split(",") if t.strip()]


def run_build(args: argparse.Namespace) -> int:
    from data_tools.augment.checks import check, render
    from data_tools.augment.dataset import DatasetError, augment, load_examples, split

    try:
        examples = [e for path in args.inputs for e in load_examples(path)]
        data = split(examples, args.validation, args.test, args.seed)
        if args.augment:
            data = augment(data, _transforms(args.augment), args.seed, lambda rows: _progress(rows, "augment"))
    except DatasetError as exc:
        return _fail(str(exc))
    data.save_to_disk(str(args.out))
    print(render(check(data)))
    print(f"\nsaved to {args.out}")
    return 0


def run_augment(args: argparse.Namespace) -> int:
    from datasets import DatasetDict

    from data_tools.augment.dataset import DatasetError, add_recombined, augment, load_any

    try:
        data = load_any(args.input)
        if "train" not in data:  # a plain file: all of it is training data
            data = DatasetDict({"train": data["all"]})
        before = len(data["train"])
        data = augment(data, _transforms(args.transforms), args.seed, lambda rows: _progress(rows, "augment"))
        if args.recombine:
            data = add_recombined(data, _transforms(args.recombine), args.seed,
                                  lambda rows: _progress(rows, "recombine"))
    except DatasetError as exc:
        return _fail(str(exc))
    train = data["train"]
    if args.input.is_dir():
        data.save_to_disk(str(args.output))
    elif args.output.suffix.lower() == ".csv":
        train.to_csv(str(args.output), index=False)
    else:
        train.to_json(str(args.output), force_ascii=False, lines=True)
    counts: dict[str, int] = {}
    for name in train["transform"]:
        counts[name] = counts.get(name, 0) + 1
    print(f"train rows: {before} -> {len(train)}; by transform: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    from data_tools.augment.checks import answered_elsewhere, check, render
    from data_tools.augment.dataset import DatasetError, examples_dataset, load_any, load_examples
    from dialog.domain import Domain, DomainError

    try:
        data = load_any(args.dataset)
        for path in args.held_out:
            if path.stem in data:
                return _fail(f"{path}: a set named {path.stem} is read already")
            data[path.stem] = examples_dataset(load_examples(path))
        report = check(data)
        domain_file = args.dataset / "domain.yaml"
        if "training" in data and domain_file.is_file():  # a domain pack: its examples against its FAQ
            faq = [(text, e.intent) for e in Domain.load(domain_file).faq for text in (e.title, *e.questions)]
            report.elsewhere = answered_elsewhere(zip(data["training"]["text"], data["training"]["label"]), faq)
    except (DatasetError, DomainError) as exc:
        return _fail(str(exc))
    print(json.dumps(report.summary(), ensure_ascii=False) if args.json else render(report, args.examples))
    return 0
