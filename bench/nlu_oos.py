"""Out-of-scope precision and recall of the intent model on text it never trained on.

Out-of-scope: every question of ``chatbot_data`` (casual chat, kept out of
training for this). In scope: the intent model's polite test split and the
independently written informal test. Recall is the share of chat questions
answered ``out_of_scope``; precision the share of ``out_of_scope`` answers that
were chat; the in-scope rows wrongly turned away are printed beside them.

    .venv/bin/python bench/nlu_oos.py [--model FOLDER]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import Settings  # noqa: E402
from data_tools.training.recipes import chat_questions, informal_test_examples, intent_data  # noqa: E402
from nlu.classifier import OUT_OF_SCOPE, TextClassifier  # noqa: E402
from nlu.understand import INTENT, model_path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="intent model folder (default: the one `kocall train` made)")
    args = parser.parse_args()
    settings = Settings()
    model = TextClassifier.load(args.model or model_path(settings.nlu, settings.cache_dir, settings.pack(), INTENT))
    chat = chat_questions()
    held_out = intent_data()["test"]  # the split `kocall train` holds out; the pack's own out-of-scope rows are in it
    in_scope = {"polite test": [t for t, label in zip(held_out["text"], held_out["label"]) if label != OUT_OF_SCOPE],
                "informal test": [e.text for e in informal_test_examples() if e.label != OUT_OF_SCOPE]}

    def rejected(texts: list[str]) -> int:
        return sum(p.label == OUT_OF_SCOPE for p in model.predict(texts))

    chat_rejected = rejected(chat)
    wrongly = {name: rejected(texts) for name, texts in in_scope.items()}
    answered_oos = chat_rejected + sum(wrongly.values())
    print(f"model: {args.model or 'default intent model'} (threshold {model.meta.threshold})")
    print(f"out-of-scope recall    {chat_rejected / len(chat):.3f}  ({chat_rejected:,} of {len(chat):,} chat questions)")
    print(f"out-of-scope precision {chat_rejected / max(answered_oos, 1):.3f}  ({chat_rejected:,} of {answered_oos:,} "
          "out-of-scope answers)")
    for name, texts in in_scope.items():
        print(f"{name:22s} wrongly out of scope: {wrongly[name] / len(texts):.3f} ({wrongly[name]} of {len(texts)})")


if __name__ == "__main__":
    main()
