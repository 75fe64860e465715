"""Labelled utterances in, a Hugging Face ``DatasetDict`` with honest splits out.

Accepted inputs, told apart by extension and header:

* CSV with ``text`` and ``label`` columns (also ``question``/``Q`` for the text,
  ``intent`` for the label, as FAQ exports name them; an FAQ of question/answer
  pairs without labels uses each answer as the label of its questions);
* JSONL with the same keys, one object per line;
* TSV/TXT ``LABEL<TAB>TEXT`` lines (the 3i4K format, chat logs).

Splits are stratified by label and made *before* augmentation; only ``train``
is augmented, and every row records where it came from (``source_id``) and how
it was made (``transform``), so results can be broken down by transform.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from datasets import Dataset, DatasetDict

from core.domain_pack import DomainPack
from data_tools.augment.perturb import TRANSFORMS
from data_tools.augment.recombine import recombine
from data_tools.evaluation.metrics import normalize

TEXT_KEYS = ("text", "question", "Q", "utterance")
LABEL_KEYS = ("label", "intent", "answer", "A")
COLUMNS = ("id", "text", "label", "source_id", "transform")


class DatasetError(ValueError):
    """Input that cannot become a data set; the message says what to fix."""


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    label: str


def load_examples(path: Path) -> list[Example]:
    path = Path(path)
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text (byte {exc.start}); convert it, e.g. iconv -f cp949 -t utf-8") from exc
    if not raw.strip():
        raise DatasetError(f"{path}: the file is empty")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        records = _jsonl(raw, path)
    elif suffix == ".csv":
        records = list(csv.DictReader(io.StringIO(raw)))
    else:
        records = _label_tab_text(raw, path)
    examples = [_example(rec, i, path) for i, rec in enumerate(records, 1)]
    examples = [e for e in examples if e.text]
    if not examples:
        raise DatasetError(f"{path}: no rows with text")
    return examples


def _jsonl(raw: str, path: Path) -> list[dict]:
    records = []
    for n, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
    return records


def _label_tab_text(raw: str, path: Path) -> list[dict]:
    records = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        label, sep, text = line.partition("\t")
        if not sep:
            raise DatasetError(f"{path}:{n}: expected LABEL<TAB>TEXT; for CSV or JSONL use a .csv/.jsonl name")
        records.append({"label": label.strip(), "text": text.strip()})
    return records


def _example(record: dict, row: int, path: Path) -> Example:
    text_key = next((k for k in TEXT_KEYS if k in record), None)
    label_key = next((k for k in LABEL_KEYS if k in record), None)
    if text_key is None or label_key is None:
        raise DatasetError(f"{path}: row {row} has columns {sorted(record)}; "
                           f"need a text column ({'/'.join(TEXT_KEYS)}) and a label column ({'/'.join(LABEL_KEYS)})")
    return Example(id=f"{path.stem}:{row}", text=" ".join(str(record[text_key] or "").split()),
                   label=str(record[label_key]).strip())


def split(examples: list[Example], validation: float = 0.1, test: float = 0.1, seed: int = 13) -> DatasetDict:
    """Stratified train/validation/test that keeps identical texts together.

    Texts equal after normalisation (spacing, punctuation) form one group, and a
    group goes wholly to one split, so a test sentence is never also a training
    sentence. Groups are stratified by their most frequent label.
    """
    if not 0 <= validation < 1 or not 0 <= test < 1 or validation + test >= 1:
        raise DatasetError("validation and test fractions must be in [0, 1) and leave room for train")
    groups: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        groups[normalize(e.text) or e.text].append(e)
    by_label: dict[str, list[list[Example]]] = defaultdict(list)
    for group in groups.values():
        by_label[Counter(e.label for e in group).most_common(1)[0][0]].append(group)
    rng = random.Random(seed)
    parts: dict[str, list[Example]] = {"train": [], "validation": [], "test": []}
    for label in sorted(by_label):
        label_groups = by_label[label]
        rng.shuffle(label_groups)
        n_test = round(len(label_groups) * test)
        n_val = round(len(label_groups) * validation)
        for name, chosen in (("test", label_groups[:n_test]), ("validation", label_groups[n_test:n_test + n_val]),
                             ("train", label_groups[n_test + n_val:])):
            parts[name] += [e for group in chosen for e in group]
    return DatasetDict({name: _to_dataset([_row(e) for e in rows]) for name, rows in parts.items()})


def augment(data: DatasetDict, transforms: Iterable[str], seed: int = 13,
            progress: Callable[[Iterable], Iterable] = lambda rows: rows, draws: int = 1) -> DatasetDict:
    """Add each transform's variants of every train row (where it applies); other splits untouched.

    A transform's first variant of row ``r`` is ``r#name``, further ones ``r#name2``, ``r#name3`` ...
    ``draws`` passes are made over the rows, each with its own random draws (seed ``seed + 1000 * d``); a later
    pass adds only the variants (text and label) no row has yet, as ``r#name@2`` for the second.
    """
    names = list(transforms)
    unknown = [n for n in names if n not in TRANSFORMS]
    if unknown:
        raise DatasetError(f"unknown transform(s) {unknown}; choose from {sorted(TRANSFORMS)}")
    rows = data["train"].to_list()
    originals = [r for r in rows if r["transform"] == "original"]
    added: list[dict] = []
    known = {(r["text"], r["label"]) for r in rows}  # what a later draw must not add again
    for draw in range(draws):
        rng = random.Random(seed + 1000 * draw)
        for row in progress(originals):
            for name in names:
                out = TRANSFORMS[name](row["text"], rng)
                variants = [v for v in ([out] if isinstance(out, str) else out or []) if v and v != row["text"]]
                for k, variant in enumerate(dict.fromkeys(variants), 1):
                    if draw and (variant, row["label"]) in known:
                        continue
                    known.add((variant, row["label"]))
                    at = f"@{draw + 1}" if draw else ""
                    example = Example(f"{row['id']}#{name}{k if k > 1 else ''}{at}", variant, row["label"])
                    added.append(_row(example, row["id"], name))
    return _with_train(data, rows + added)


def add_recombined(data: DatasetDict, labels: Iterable[str], seed: int = 13,
                   progress: Callable[[Iterable], Iterable] = lambda rows: rows) -> DatasetDict:
    """Add a recombined row (``data_tools/recombine.py``) for each train row of ``labels`` (the labels a
    sentence's predicate decides) without a question word, ``r#recombine`` for the row ``r`` whose predicate
    and label it keeps."""
    rows = data["train"].to_list()
    made = recombine([r["text"] for r in rows], [r["label"] for r in rows], seed, labels, progress)
    added = [_row(Example(f"{rows[i]['id']}#recombine", text, rows[i]["label"]), rows[i]["source_id"], "recombine")
             for i, text in made]
    return _with_train(data, rows + added)


def _with_train(data: DatasetDict, rows: list[dict]) -> DatasetDict:
    """``data`` with its train split replaced by ``rows``; the other splits are untouched."""
    out = DatasetDict(dict(data))
    out["train"] = _to_dataset(rows)
    return out


def _row(example: Example, source_id: str | None = None, transform: str = "original") -> dict:
    return {"id": example.id, "text": example.text, "label": example.label,
            "source_id": source_id or example.id, "transform": transform}


def rows_of(data: Dataset) -> list[Example]:
    """A split's rows as examples (transform and source dropped)."""
    return [Example(i, t, label) for i, t, label in zip(data["id"], data["text"], data["label"])]


def examples_dataset(examples: Iterable[Example], transform: str = "original") -> Dataset:
    """``examples`` as one split's rows, each its own source, made by ``transform``."""
    return _to_dataset([_row(e, e.id.split("#")[0], transform) for e in examples])


def _to_dataset(rows: list[dict]) -> Dataset:
    return Dataset.from_dict({column: [r[column] for r in rows] for column in COLUMNS})


def labeled_dataset(rows: list[dict]) -> DatasetDict:
    """Rows from labeled recordings (``data_tools.labeling.export.training_rows``) as a single ``all`` split,
    as ``kocall data check`` and ``augment`` treat unsplit data."""
    columns = (*COLUMNS, "audio", "start", "end", "labeler", "item_id")
    return DatasetDict({"all": Dataset.from_dict({c: [r[c] for r in rows] for c in columns})})


def load_any(path: Path) -> DatasetDict:
    """A saved DatasetDict folder; a domain pack folder (its examples as a ``training`` split, each dev and
    test set as a split of its own, so that a row in two of them shows as leakage); or a labelled file
    as a single ``all`` split."""
    path = Path(path)
    pack = DomainPack(path)
    if path.is_dir() and pack.intents.is_file():
        training = [e for file in pack.training_files if file.is_file() for e in load_examples(file)]
        held_out = (*pack.dev_files, *pack.test_files)
        splits = {"training": training, **{file.stem: load_examples(file) for file in held_out if file.is_file()}}
        return DatasetDict({name: _to_dataset([_row(e) for e in rows]) for name, rows in splits.items()})
    if path.is_dir():
        try:
            return DatasetDict.load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as exc:
            raise DatasetError(f"{path}: not a saved data set folder ({exc})") from exc
    return DatasetDict({"all": _to_dataset([_row(e) for e in load_examples(path)])})
