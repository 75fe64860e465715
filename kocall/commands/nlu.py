"""``kocall train`` and ``kocall nlu predict|eval``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kocall.commands.domain_option import add_domain_option, settings_for


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "train", help="train the default intent and utterance-type models",
        description="Train the models the server uses: the domain pack's intent classifier (polite examples, "
        "banmal-augmented, with out-of-scope; a character n-gram model, under a minute) and the utterance-type "
        "classifier (3i4K; a compact transformer trained from scratch with an n-gram model, about 10 minutes "
        "on 2 cores). --base-model names a checkpoint to fine-tune for both instead; the character n-gram "
        "baseline is trained on the same rows and reported beside each.")
    p.add_argument("--only", choices=["intent", "utterance-type"], help="train one model")
    p.add_argument("--base-model", metavar="PATH_OR_NAME", help="fine-tune this Hugging Face checkpoint instead")
    p.add_argument("--epochs", type=int, help="override the number of epochs of a transformer")
    p.add_argument("--data-dir", type=Path, help="the shared data folder (default ../shared/data)")
    add_domain_option(p)
    p.add_argument("--out", type=Path, help="save each model in OUT/<model> (default: the cache, "
                   "<cache>/models/nlu/<pack>/intent and <cache>/models/nlu/utterance-type, which the server "
                   "then prefers to the shipped models)")
    p.set_defaults(run=run_train)

    nlu = commands.add_parser("nlu", help="predict or evaluate with the NLU models",
                              description="Use the intent and utterance-type classifiers.")
    sub = nlu.add_subparsers(dest="nlu_command", metavar="COMMAND", required=True)
    p = sub.add_parser("predict", help="understand one utterance (JSON)",
                       description="Print JSON with label, confidence, top_k, utterance_type and entities.")
    p.add_argument("text")
    p.add_argument("--model", help="intent model folder (default: the trained intent model)")
    p.set_defaults(run=run_predict)
    p = sub.add_parser("eval", help="accuracy and macro-F1 of a model on a labelled file",
                       description="MODEL is a model folder, or 'intent' / 'utterance-type' for the default "
                       "models. FILE is LABEL<TAB>TEXT lines (3i4K format) or CSV with text,label columns. "
                       "Prints one JSON object: accuracy, macro_f1, n and per-label figures.")
    p.add_argument("--model", required=True)
    p.add_argument("--data", type=Path, required=True, metavar="FILE")
    p.set_defaults(run=run_eval)


def _fail(message: str) -> int:
    print(f"kocall: {message}", file=sys.stderr)
    return 2


def run_train(args: argparse.Namespace) -> int:
    from core.domain_pack import DomainPackError
    from data_tools.augment.dataset import DatasetError
    from data_tools.training import recipes
    from nlu.understand import INTENT, UTTERANCE_TYPE, trained_dir

    settings = settings_for(args)
    try:
        pack = settings.pack()
    except DomainPackError as exc:
        return _fail(str(exc))
    data_dir = args.data_dir or recipes.SHARED_DATA
    if not (data_dir / recipes.I4K).is_file():
        return _fail(f"{data_dir / recipes.I4K} not found: give --data-dir, the folder with 3i4k/")
    names = [args.only] if args.only else [INTENT, UTTERANCE_TYPE]
    folders = {name: args.out / name if args.out else trained_dir(settings.cache_dir, pack, name) for name in names}
    try:
        for name, model in recipes.train_default_models(folders, pack, data_dir, base_model=args.base_model,
                                                        epochs=args.epochs):
            print(json.dumps({"model": name, "train_seconds": model.meta.train_seconds,
                              "temperature": model.meta.temperature, "mix_temperature": model.meta.mix_temperature,
                              "threshold": model.meta.threshold, "folder": str(folders[name]),
                              "metrics": model.meta.metrics}, ensure_ascii=False))
    except DatasetError as exc:  # a pack file that cannot be read: which one, and where
        return _fail(str(exc))
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from core.domain_pack import DomainPackError
    from core.settings import Settings
    from nlu.understand import EmptyText, get_understander

    settings = Settings()
    nlu = settings.nlu if not args.model else settings.nlu.model_copy(update={"intent_model": Path(args.model)})
    try:
        understanding = get_understander(nlu, settings.cache_dir, settings.pack()).understand(args.text)
    except (FileNotFoundError, DomainPackError) as exc:
        return _fail(str(exc))
    except EmptyText as exc:
        return _fail(str(exc))
    result = understanding.shown()  # never print a card or phone number
    result["label"] = result.pop("intent")
    print(json.dumps(result, ensure_ascii=False))
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from core.domain_pack import DomainPackError
    from core.settings import Settings
    from data_tools.augment.dataset import DatasetError, load_examples
    from data_tools.evaluation.accuracy import scores
    from nlu.classifier import TextClassifier
    from nlu.understand import INTENT, UTTERANCE_TYPE, model_path

    settings = Settings()
    try:
        folder = (model_path(settings.nlu, settings.cache_dir, settings.pack(), args.model)
                  if args.model in (INTENT, UTTERANCE_TYPE) else Path(args.model))
        model = TextClassifier.load(folder)
        examples = load_examples(args.data)
    except (FileNotFoundError, DatasetError, DomainPackError) as exc:
        return _fail(str(exc))
    predicted = [p.label for p in model.predict([e.text for e in examples])]
    print(json.dumps(scores([e.label for e in examples], predicted), ensure_ascii=False))
    return 0
