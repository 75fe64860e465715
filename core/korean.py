"""The Kiwi morphological analyser, shared by every stage that reads Korean.

Loading it takes about a second and a few hundred MB, so there is one per
process: STT-free text normalisation (``nlu.normalize``), utterance-type rules
(``nlu.understand``) and the training-data tools all use this handle.
"""

from __future__ import annotations

import functools

from kiwipiepy import Kiwi


@functools.lru_cache(maxsize=1)
def kiwi() -> Kiwi:
    """One analyser per process (about a second to load)."""
    return Kiwi()
