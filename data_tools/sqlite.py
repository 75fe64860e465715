"""Opening the project's SQLite stores (turn log, labels) the one way they all need.

WAL lets readers (labeling, monitoring) work while the server writes;
``synchronous=FULL`` makes a committed row survive a power cut, not only a
crash; the busy timeout lets the CLI and the server write to one file at once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_db(path: Path, schema: str) -> sqlite3.Connection:
    """A connection shared between threads (callers hold their own lock), with ``schema`` applied."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=10000")
    db.executescript(schema)
    return db
