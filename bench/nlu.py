"""NLU speed: per-utterance latency (p50/p95, one at a time), batch throughput, training time.

One n-gram model is also timed as served (``core.ngram``) and through scikit-learn's ``predict_proba``, in the
same run: the same probabilities, the cost of scikit-learn's per-call input checks.

Uses the default models made by `kocall train` (or KOCALL_NLU__* folders):

    taskset -c 0,1 .venv/bin/python bench/nlu.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.ngram import NgramScorer  # noqa: E402
from core.settings import Settings  # noqa: E402
from data_tools.training.recipes import informal_test_examples, utterance_type_data  # noqa: E402
from nlu.normalize import normalize  # noqa: E402
from nlu.understand import get_understander  # noqa: E402


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95)] * 1000


def main() -> None:
    settings = Settings()
    nlu = get_understander(settings.nlu, settings.cache_dir, settings.pack())
    utterances = [e.text for e in informal_test_examples()] + utterance_type_data()["test"]["text"][:364]
    for text in utterances[:20]:
        nlu.understand(text)  # warm-up

    ngram = nlu.intent.ngram or nlu.utterance_type.ngram
    scorer = NgramScorer.of(ngram[0], ngram[-1])
    normal = {text: normalize(text) for text in utterances}
    rows = []
    for name, fn in [
        ("understand (intent + type + entities)", nlu.understand),
        ("intent classifier only", lambda t: nlu.intent.predict([t])),
        ("utterance-type classifier only", lambda t: nlu.utterance_type.predict([t])),
        ("  its transformer without the n-gram mix", lambda t: nlu.utterance_type.probabilities([t], with_ngram=False)),
        ("entities only", nlu.entities.extract),
        ("an n-gram model, as served (normalised text)", lambda t: scorer.probabilities([normal[t]])),
        ("  the same through scikit-learn's predict_proba", lambda t: ngram.predict_proba([normal[t]])),
    ]:
        samples = []
        for text in utterances:
            start = time.perf_counter()
            fn(text)
            samples.append(time.perf_counter() - start)
        rows.append((name, *percentiles(samples)))
    print(f"one utterance at a time, {len(utterances)} utterances (ms):")
    for name, p50, p95 in rows:
        print(f"  {name:50s} p50 {p50:6.2f}  p95 {p95:6.2f}")

    batch = utterance_type_data()["test"]["text"]
    start = time.perf_counter()
    nlu.utterance_type.predict(batch)
    seconds = time.perf_counter() - start
    print(f"\nbatch throughput: {len(batch) / seconds:,.0f} utterances/s (utterance type, {len(batch)} rows)")
    for name, model in (("intent", nlu.intent), ("utterance-type", nlu.utterance_type)):
        print(f"training time of the {name} model: {model.meta.train_seconds:.0f} s on {model.meta.train_rows} rows")


if __name__ == "__main__":
    main()
