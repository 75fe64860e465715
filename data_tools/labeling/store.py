"""The labeling tool's store: labelers, items to label, their labels and who changed what.

One SQLite file in WAL mode, so exports and the progress view read while
labelers save. Every save is one ``BEGIN IMMEDIATE`` transaction committed with
``synchronous=FULL`` before it returns: a labeler who saw "saved" keeps the edit
through a crash or a power cut.

Several labelers may open the same item. Each item carries a ``version``; a save
names the version it was edited from, and a save from an older version raises
:class:`StaleVersion` carrying the item as it now is, so the edit is shown back
to the labeler instead of silently overwriting a colleague's. Every accepted save
appends the full label to ``history`` with who made it and a short list of what
changed; the first history entry of each item is the machine's pre-transcription.

Times are seconds from the start of the item's audio file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator

from core.settings import Settings
from data_tools.sqlite import open_db

FLAGS = ("noise", "overlap", "unusable")
STATUSES = ("todo", "labeled", "skipped")
MACHINE = "stt"  # the labeler name of the pre-transcription in the history

SCHEMA = """
CREATE TABLE IF NOT EXISTS labelers (
    name TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    audio TEXT NOT NULL,
    sample_rate INTEGER NOT NULL,
    duration_s REAL NOT NULL,
    source TEXT NOT NULL,
    source_ref TEXT NOT NULL UNIQUE,
    recorded_at TEXT NOT NULL,
    stt_confidence REAL NOT NULL,
    nlu_confidence REAL NOT NULL,
    disagreement REAL NOT NULL,
    priority REAL NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    segments TEXT NOT NULL,
    flags TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_queue ON items (status, priority DESC);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items (id),
    version INTEGER NOT NULL,
    labeler TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    segments TEXT NOT NULL,
    flags TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_item ON history (item_id, version);
"""


class LabelError(ValueError):
    """A label or import that cannot be stored; the message says what to fix."""


class UnknownItem(LookupError):
    pass


class StaleVersion(Exception):
    """A save from an older version of the item; ``current`` is the item as it now is."""

    def __init__(self, current: Item, version: int) -> None:
        super().__init__(f"item {current.id} is at version {current.version}, not {version}: "
                         f"{current.updated_by} saved it at {current.updated_at}")
        self.current = current


@dataclass(frozen=True)
class Segment:
    """A stretch of the item's audio with what was said and meant, and the machine's guesses for it."""

    start: float
    end: float
    text: str
    intent: str | None = None
    suggested_intent: str | None = None
    suggested_confidence: float | None = None
    stt_confidence: float | None = None


@dataclass(frozen=True)
class NewItem:
    """An imported recording, pre-transcribed: what :meth:`LabelStore.add` stores."""

    audio: str  # absolute path on the server
    sample_rate: int  # Hz, as the file has it
    duration_s: float
    source: str  # "file", "turn" or "labelstudio"
    source_ref: str  # unique: the same recording is not imported twice
    recorded_at: str  # ISO 8601
    segments: tuple[Segment, ...]
    stt_confidence: float  # 0-1, mean word probability
    nlu_confidence: float  # 0-1, the least confident segment's intent
    disagreement: float  # 0-1, see data_tools.labeling.imports.predict
    metadata: dict = field(default_factory=dict, hash=False)
    status: str = "todo"
    flags: tuple[str, ...] = ()
    labeler: str = MACHINE  # who the first version is from (an imported annotation keeps its labeler)

    @property
    def priority(self) -> float:
        """Active learning: the least certain first. 0 (sure) to 3 (nothing sure)."""
        return (1 - self.stt_confidence) + (1 - self.nlu_confidence) + self.disagreement


@dataclass(frozen=True)
class Item:
    id: int
    audio: str
    sample_rate: int
    duration_s: float
    source: str
    source_ref: str
    recorded_at: str
    stt_confidence: float
    nlu_confidence: float
    disagreement: float
    priority: float
    status: str
    version: int
    segments: tuple[Segment, ...]
    flags: tuple[str, ...]
    updated_by: str
    updated_at: str
    metadata: dict = field(hash=False)

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Change:
    """One accepted version of an item: who, when, and what changed from the version before."""

    item_id: int
    version: int
    labeler: str
    at: str
    status: str
    segments: tuple[Segment, ...]
    flags: tuple[str, ...]
    changes: tuple[str, ...]


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def check_label(segments: Iterable[Segment], flags: Iterable[str], status: str, duration_s: float
                ) -> tuple[tuple[Segment, ...], tuple[str, ...]]:
    """Segments sorted by start, inside the audio, not overlapping; known flags and status. Raises LabelError."""
    segments = tuple(sorted(segments, key=lambda s: s.start))
    for i, s in enumerate(segments):
        if not 0 <= s.start < s.end:
            raise LabelError(f"segment {i + 1}: end {s.end} s must come after start {s.start} s (both >= 0)")
        if s.end > duration_s + 0.01:
            raise LabelError(f"segment {i + 1}: end {s.end} s is past the end of the audio ({duration_s} s)")
    for i, (a, b) in enumerate(zip(segments, segments[1:]), start=1):
        if b.start < a.end - 1e-6:
            raise LabelError(f"segments {i} and {i + 1} overlap ({a.start}-{a.end} s and {b.start}-{b.end} s)")
    unknown = sorted(set(flags) - set(FLAGS))
    if unknown:
        raise LabelError(f"unknown flag(s) {', '.join(unknown)}; known: {', '.join(FLAGS)}")
    if status not in STATUSES:
        raise LabelError(f"unknown status {status!r}; known: {', '.join(STATUSES)}")
    return segments, tuple(f for f in FLAGS if f in set(flags))


def describe_changes(old: Item, segments: tuple[Segment, ...], flags: tuple[str, ...], status: str) -> tuple[str, ...]:
    """What a save changed, in words a reviewer can scan ("segment 2: text '...' -> '...'")."""
    changes = []
    if len(segments) != len(old.segments):
        changes.append(f"segments: {len(old.segments)} -> {len(segments)} (split, merged, added or removed)")
    for i, (a, b) in enumerate(zip(old.segments, segments), start=1):
        if (a.start, a.end) != (b.start, b.end):
            changes.append(f"segment {i}: times {a.start:.2f}-{a.end:.2f} -> {b.start:.2f}-{b.end:.2f}")
        if a.text != b.text:
            changes.append(f"segment {i}: text {a.text!r} -> {b.text!r}")
        if a.intent != b.intent:
            changes.append(f"segment {i}: intent {a.intent} -> {b.intent}")
    if flags != old.flags:
        changes.append(f"flags: {', '.join(old.flags) or 'none'} -> {', '.join(flags) or 'none'}")
    if status != old.status:
        changes.append(f"status: {old.status} -> {status}")
    return tuple(changes)


class LabelStore:
    """One SQLite file; safe to share between a server's threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = open_db(self.path, SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Labelers

    def add_labeler(self, name: str) -> str:
        """Create a labeler, or give an existing one a new token (the old one stops working); returns the token."""
        if not re.fullmatch(r"[\w.-]{1,64}", name):
            raise LabelError(f"labeler name {name!r}: use 1-64 letters, digits, '-', '_' or '.'")
        if name == MACHINE:
            raise LabelError(f"{MACHINE!r} is the name the pre-transcription goes by; choose another")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._db.execute("INSERT INTO labelers (name, token_sha256, created_at) VALUES (?, ?, ?) "
                             "ON CONFLICT (name) DO UPDATE SET token_sha256 = excluded.token_sha256",
                             (name, _digest(token), now()))
        return token

    def labeler(self, token: str) -> str | None:
        """The name of the labeler holding ``token``; None for an unknown token."""
        with self._lock:
            row = self._db.execute("SELECT name FROM labelers WHERE token_sha256 = ?", (_digest(token),)).fetchone()
        return row[0] if row else None

    # Items

    def add(self, items: Iterable[NewItem]) -> tuple[list[int], list[str]]:
        """Store items in one transaction; returns the new ids and the source_refs already in the store."""
        added, known = [], []
        with self._lock, self._transaction():
            for item in items:
                segments, flags = check_label(item.segments, item.flags, item.status, item.duration_s)
                at = now()
                cursor = self._db.execute(
                    "INSERT INTO items (audio, sample_rate, duration_s, source, source_ref, recorded_at, "
                    "stt_confidence, nlu_confidence, disagreement, priority, status, version, segments, flags, "
                    "updated_by, updated_at, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (source_ref) DO NOTHING",
                    (item.audio, item.sample_rate, item.duration_s, item.source, item.source_ref, item.recorded_at,
                     item.stt_confidence, item.nlu_confidence, item.disagreement, round(item.priority, 4),
                     item.status, _dump_segments(segments), json.dumps(flags), item.labeler, at,
                     json.dumps(item.metadata, ensure_ascii=False)))
                if not cursor.rowcount:
                    known.append(item.source_ref)
                    continue
                added.append(int(cursor.lastrowid))
                self._db.execute(
                    "INSERT INTO history (item_id, version, labeler, at, status, segments, flags, changes) "
                    "VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
                    (cursor.lastrowid, item.labeler, at, item.status, _dump_segments(segments), json.dumps(flags),
                     json.dumps([f"imported from {item.source}"])))
        return added, known

    def known(self, source_ref: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM items WHERE source_ref = ?", (source_ref,)).fetchone() is not None

    def get(self, item_id: int) -> Item:
        with self._lock:
            return self._get(item_id)

    def queue(self, status: str | None = None, intent: str | None = None, since: str | None = None,
              until: str | None = None, limit: int = 200) -> list[Item]:
        """Items to label, least certain first (see :attr:`NewItem.priority`).

        ``intent`` matches a segment's label or, where none is set yet, its
        suggestion; ``since``/``until`` are dates (YYYY-MM-DD, inclusive) of the recording.
        """
        where, args = [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if intent:
            where.append("EXISTS (SELECT 1 FROM json_each(items.segments) WHERE "
                         "coalesce(json_extract(value, '$.intent'), json_extract(value, '$.suggested_intent')) = ?)")
            args.append(intent)
        if since:
            where.append("substr(recorded_at, 1, 10) >= ?")
            args.append(since)
        if until:
            where.append("substr(recorded_at, 1, 10) <= ?")
            args.append(until)
        sql = ("SELECT * FROM items" + (f" WHERE {' AND '.join(where)}" if where else "")
               + " ORDER BY priority DESC, id LIMIT ?")
        with self._lock:
            return [_item(row) for row in self._rows(sql, (*args, int(limit)))]

    def items(self, status: str | None = None) -> list[Item]:
        """Every item (with ``status``), in import order, for exports."""
        sql = "SELECT * FROM items" + (" WHERE status = ?" if status else "") + " ORDER BY id"
        with self._lock:
            return [_item(row) for row in self._rows(sql, (status,) if status else ())]

    def save(self, item_id: int, version: int, labeler: str, segments: Iterable[Segment], flags: Iterable[str],
             status: str) -> Item:
        """Accept a labeler's edit of ``version``; raises StaleVersion if someone saved since, LabelError if invalid."""
        with self._lock, self._transaction():
            old = self._get(item_id)
            if old.version != version:
                raise StaleVersion(old, version)
            segments, flags = check_label(segments, flags, status, old.duration_s)
            changes = describe_changes(old, segments, flags, status)
            at = now()
            self._db.execute("UPDATE items SET segments = ?, flags = ?, status = ?, version = ?, updated_by = ?, "
                             "updated_at = ? WHERE id = ?",
                             (_dump_segments(segments), json.dumps(flags), status, version + 1, labeler, at, item_id))
            self._db.execute(
                "INSERT INTO history (item_id, version, labeler, at, status, segments, flags, changes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (item_id, version + 1, labeler, at, status, _dump_segments(segments), json.dumps(flags),
                 json.dumps(changes, ensure_ascii=False)))
            return replace(old, segments=segments, flags=flags, status=status, version=version + 1,
                           updated_by=labeler, updated_at=at)

    def history(self, item_id: int | None = None) -> list[Change]:
        """Every accepted version, oldest first (of one item, or of all)."""
        sql = "SELECT * FROM history" + (" WHERE item_id = ?" if item_id is not None else "") + " ORDER BY id"
        with self._lock:
            rows = self._rows(sql, (item_id,) if item_id is not None else ())
        return [Change(r["item_id"], r["version"], r["labeler"], r["at"], r["status"], _load_segments(r["segments"]),
                       tuple(json.loads(r["flags"])), tuple(json.loads(r["changes"]))) for r in rows]

    # Internals

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: a failed save or import leaves no trace."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _get(self, item_id: int) -> Item:
        rows = self._rows("SELECT * FROM items WHERE id = ?", (item_id,))
        if not rows:
            raise UnknownItem(f"no item {item_id}")
        return _item(rows[0])

    def _rows(self, sql: str, args: tuple) -> list[dict[str, Any]]:
        cursor = self._db.execute(sql, args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values)) for values in cursor.fetchall()]


def open_store(settings: Settings) -> LabelStore:
    """The store the settings name (default ``<data_dir>/labels.sqlite``)."""
    return LabelStore(settings.label.db or settings.data_dir / "labels.sqlite")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _dump_segments(segments: Iterable[Segment]) -> str:
    return json.dumps([asdict(s) for s in segments], ensure_ascii=False)


def _load_segments(raw: str) -> tuple[Segment, ...]:
    return tuple(Segment(**s) for s in json.loads(raw))


def _item(row: dict[str, Any]) -> Item:
    row["segments"] = _load_segments(row["segments"])
    row["flags"] = tuple(json.loads(row["flags"]))
    row["metadata"] = json.loads(row["metadata"])
    return Item(**row)
