"""Per-call conversation state and where it is kept between turns.

A :class:`Session` is plain data that round-trips through JSON, so the two stores
behave the same: :class:`MemoryStore` for one server process (the embedded
default) and :class:`RedisStore` when several processes answer the same calls.
Both forget a session ``ttl_s`` seconds after its last turn, so abandoned calls
and chats do not pile up.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass
class Session:
    """What the bot remembers of one call or chat.

    ``model`` is the dialog model that answered the last turn and ``state`` where
    it is inside that model (``form`` / ``asking:card_type``); ``form`` is set
    while a form is in progress. Slot values are the raw entity values; ``shown``
    holds what may be said, displayed or logged (masked phone and card numbers).
    """

    id: str
    model: str = "start"
    state: str = "idle"
    intent: str | None = None
    form: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)
    pending: dict[str, Any] | None = None  # an offered intent or FAQ choices awaiting an answer
    paused: dict[str, Any] | None = None  # a form set aside while a side question is answered (forms.pause)
    later: dict[str, Any] | None = None  # a second request said with the first, taken up after it (dialog.later)
    handoff: dict[str, Any] | None = None  # the summary for the human agent, once handed off
    fallbacks: int = 0
    invalid: int = 0
    turns: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False

    @property
    def last_reply(self) -> str | None:
        """What the bot said last in this session, if anything (once a caller's turn is recorded, the reply to
        the turn before it)."""
        return next((line["text"] for line in reversed(self.history) if line["speaker"] == "bot"), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Session:
        return cls(**json.loads(text))


class StoreUnavailable(RuntimeError):
    """The session store cannot be reached now; the message names it and says why."""


class SessionStore(Protocol):
    def get(self, session_id: str) -> Session | None: ...
    def put(self, session: Session) -> None: ...
    def delete(self, session_id: str) -> None: ...
    def check(self) -> None:
        """Raise :class:`StoreUnavailable` if the store cannot be used now."""


class MemoryStore:
    """Sessions in this process's memory, as JSON (the same copy semantics as Redis)."""

    def __init__(self, ttl_s: float = 1800.0, clock=time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._items: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            self._expire()
            item = self._items.get(session_id)
        return Session.from_json(item[1]) if item else None

    def put(self, session: Session) -> None:
        with self._lock:
            self._items[session.id] = (self._clock() + self.ttl_s, session.to_json())

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._items.pop(session_id, None)

    def check(self) -> None:
        """Memory is always there."""

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._items)

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, (deadline, _) in self._items.items() if deadline <= now]:
            del self._items[key]


class RedisStore:
    """Sessions in Redis under ``<prefix><id>``, with Redis's own expiry.

    The connection is checked at once, so a wrong URL fails at start-up, not on
    the first call.
    """

    def __init__(self, url: str, ttl_s: float = 1800.0, prefix: str = "kocall:session:") -> None:
        import redis

        self.ttl_s = ttl_s
        self.prefix = prefix
        self.url = url
        self._errors = redis.RedisError
        # A stopped server refuses at once; a lost one answers nothing: 2 s bounds the wait of a turn on it.
        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
        try:
            self._redis.ping()
        except redis.RedisError as e:
            raise ConnectionError(f"cannot reach the session store at {url}: {e}") from e

    def get(self, session_id: str) -> Session | None:
        text = self._call(self._redis.get, self.prefix + session_id)
        return Session.from_json(text) if text else None

    def put(self, session: Session) -> None:
        self._call(self._redis.set, self.prefix + session.id, session.to_json(), ex=max(1, round(self.ttl_s)))

    def delete(self, session_id: str) -> None:
        self._call(self._redis.delete, self.prefix + session_id)

    def check(self) -> None:
        self._call(self._redis.ping)

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except self._errors as e:
            raise StoreUnavailable(f"the session store at {self.url} cannot be reached: {e}") from e


def open_store(url: str, ttl_s: float) -> SessionStore:
    """'memory' or a redis:// (rediss://, unix://) URL -> a store."""
    if url == "memory":
        return MemoryStore(ttl_s)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url, ttl_s)
    raise ValueError(f"unknown session store {url!r}: use 'memory' or a redis:// URL")
