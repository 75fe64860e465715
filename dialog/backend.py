"""The call center's own systems, behind one small interface: the answers only they hold.

A caller who asks how much this month's bill is wants the amount, not the menu
where it can be found. An FAQ entry in the domain file may name a ``lookup``;
when it is answered, the dialog asks the :class:`Backend` for that lookup and
speaks the fields it returns through the entry's ``lookup_answer`` template.
Where the back-end has no answer (:class:`BackendUnavailable`), the entry's
own answer, how to find it oneself, is given instead: the caller still hears
something useful.

:class:`StubBackend` answers with fixed example figures and says so, so that
the bot works out of the box; a call center plugs in its own with
``KOCALL_DIALOG__BACKEND=package.module:factory`` (a callable returning a
:class:`Backend`). Who the caller is (``caller``: the session id, which for a
phone call is Twilio's call SID) is for the back-end to verify.
"""

from __future__ import annotations

import importlib
from typing import Mapping, Protocol

STUB = "stub"


class BackendUnavailable(RuntimeError):
    """The back-end cannot answer this lookup now (unknown lookup, caller not verified, system down)."""


class BackendError(ValueError):
    """``KOCALL_DIALOG__BACKEND`` names nothing that can be loaded; the message says what is wrong."""


class Backend(Protocol):
    name: str
    example: bool  # its answers are examples, not a customer's data: the dialog says so before them

    def lookup(self, query: str, caller: str) -> Mapping[str, str]:
        """The fields of lookup ``query`` for ``caller``, ready to be spoken (amounts already formatted)."""


STUB_ANSWERS: dict[str, dict[str, str]] = {
    "bill_amount": {"amount": "452,300", "due_day": "14"},
    "limit": {"total": "5,000,000", "available": "3,120,000"},
    "transactions": {"count": "3", "latest": "12월 4일 편의점 4,500원"},
    "points": {"points": "12,840", "expiring": "1,200"},
}


class StubBackend:
    """Fixed example figures for every lookup the default card domain names; no system behind them."""

    name = STUB
    example = True

    def lookup(self, query: str, caller: str) -> Mapping[str, str]:
        try:
            return STUB_ANSWERS[query]
        except KeyError:
            raise BackendUnavailable(f"the stub back-end has no lookup {query!r}") from None


def load_backend(spec: str) -> Backend:
    """``stub``, or ``package.module:factory`` where ``factory()`` returns a :class:`Backend`."""
    if spec == STUB:
        return StubBackend()
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise BackendError(f"back-end {spec!r}: expected 'stub' or 'package.module:factory'")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as e:
        raise BackendError(f"back-end {spec!r}: cannot load it ({e})") from e
    backend = factory()
    if not callable(getattr(backend, "lookup", None)):
        raise BackendError(f"back-end {spec!r}: {factory!r} returned an object without a lookup() method")
    return backend
