"""The turn log: every live turn (phone or chat) as one SQLite row.

The server appends to it; the labeling tool imports phone turns from it and
monitoring reads its trends. SQLite in WAL mode lets those readers work while
the server writes, and every append is committed before the reply is sent, so a
crash loses no turn that was answered. Text is stored as the caller may be shown
in logs: phone and card numbers masked.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator

from data_tools.sqlite import open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    channel TEXT NOT NULL,
    session_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    audio TEXT,
    sample_rate INTEGER,
    transcript TEXT NOT NULL,
    stt_confidence REAL,
    no_speech_prob REAL,
    intent TEXT NOT NULL,
    confidence REAL NOT NULL,
    utterance_type TEXT,
    reply TEXT NOT NULL,
    dialog_model TEXT,
    dialog_state TEXT,
    handoff TEXT,
    ended INTEGER NOT NULL DEFAULT 0,
    latency_ms TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS turns_at ON turns (at);
CREATE INDEX IF NOT EXISTS turns_session ON turns (session_id);
"""


@dataclass(frozen=True)
class TurnRecord:
    channel: str  # "phone" or "chat"
    session_id: str
    turn: int
    transcript: str  # masked
    intent: str
    confidence: float
    reply: str
    utterance_type: str | None = None
    audio: str | None = None  # path of the caller's utterance (phone turns)
    sample_rate: int | None = None
    stt_confidence: float | None = None  # mean word probability
    no_speech_prob: float | None = None
    dialog_model: str | None = None
    dialog_state: str | None = None
    handoff: str | None = None  # the hand-off reason
    ended: bool = False
    latency_ms: dict[str, float] = field(default_factory=dict)  # per stage, and "total"
    at: str = ""  # ISO 8601 UTC; set on append when empty
    id: int | None = None


class TurnLog:
    """One SQLite file; safe to share between the server's threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = open_db(self.path, SCHEMA)
        self._lock = threading.Lock()

    def append(self, record: TurnRecord) -> int:
        row = asdict(record)
        row.pop("id")
        row["at"] = row["at"] or dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
        row["latency_ms"] = json.dumps(row["latency_ms"])
        row["ended"] = int(row["ended"])
        names = ", ".join(row)
        with self._lock:
            cursor = self._db.execute(f"INSERT INTO turns ({names}) VALUES ({', '.join('?' * len(row))})",
                                      tuple(row.values()))
        return int(cursor.lastrowid)

    def read(self, since: str | None = None, channel: str | None = None, limit: int | None = None
             ) -> Iterator[TurnRecord]:
        """Turns in the order they happened, optionally from ISO time ``since`` on."""
        where, args = [], []
        if since:
            where.append("at >= ?")
            args.append(since)
        if channel:
            where.append("channel = ?")
            args.append(channel)
        sql = "SELECT * FROM turns" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            cursor = self._db.execute(sql, args)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        for values in rows:
            yield _record(dict(zip(names, values)))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM turns").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _record(row: dict[str, Any]) -> TurnRecord:
    row["latency_ms"] = json.loads(row["latency_ms"] or "{}")
    row["ended"] = bool(row["ended"])
    known = {f.name for f in fields(TurnRecord)}
    return TurnRecord(**{k: v for k, v in row.items() if k in known})
