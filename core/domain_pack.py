"""A domain pack: one folder with everything that makes the bot a card/bank bot (or any other).

A pack holds ``domain.yaml`` (intents, responses, forms, FAQ: ``dialog``),
``intents.csv`` (polite ``text,label`` examples the intent model is trained
on), ``gazetteer.tsv`` (``CATEGORY<TAB>term`` entities: ``nlu``),
``lexicon.txt`` (domain terms STT corrects towards) and, optionally,
``out_of_scope.csv`` (requests callers make that the pack does not serve, which
the intent model learns to turn away), ``other_business.csv`` (another business's
requests said in the domain's words, which a second model learns to tell from the
examples), ``informal_test.csv`` (held-out informal
requests to judge the intent model), ``caller_test.csv`` (held-out long lines as
callers say them), ``dev_informal.csv`` and ``dev_caller.csv`` (requests of the same
two kinds, written apart from both, on which recipe choices are made) and
``models/intent/`` (its trained intent model). One setting, ``KOCALL_DOMAIN``,
picks it: the name of a pack under ``domains/`` or a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BUNDLED_PACKS = Path(__file__).resolve().parents[1] / "domains"
DEFAULT_PACK = "card_bank"
REQUIRED = ("domain.yaml", "intents.csv", "gazetteer.tsv", "lexicon.txt")


class DomainPackError(ValueError):
    """The configured domain pack does not exist or lacks a file every pack needs."""


@dataclass(frozen=True)
class DomainPack:
    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def domain(self) -> Path:
        return self.folder / "domain.yaml"

    @property
    def intents(self) -> Path:
        return self.folder / "intents.csv"

    @property
    def out_of_scope(self) -> Path:
        """Requests the pack does not serve, ``text,label`` with label ``out_of_scope`` (optional)."""
        return self.folder / "out_of_scope.csv"

    @property
    def other_business(self) -> Path:
        """Requests about another business that the caller names, said in the domain's words (통신사 포인트,
        카톡 비밀번호), ``text,label`` with label ``out_of_scope`` (optional)."""
        return self.folder / "other_business.csv"

    @property
    def informal_test(self) -> Path:
        return self.folder / "informal_test.csv"

    @property
    def caller_test(self) -> Path:
        """Held-out long lines as callers state their reason on the phone (optional)."""
        return self.folder / "caller_test.csv"

    @property
    def dev_files(self) -> tuple[Path, ...]:
        """Short and long requests, written apart from the examples and the test sets, for the recipe's choices:
        never trained on, and never the rows a figure is reported on."""
        return self.folder / "dev_informal.csv", self.folder / "dev_caller.csv"

    @property
    def training_files(self) -> tuple[Path, ...]:
        """What the intent model learns from: the examples and the pack's own out-of-scope requests, those about
        another business included."""
        return self.intents, self.out_of_scope, self.other_business

    @property
    def test_files(self) -> tuple[Path, ...]:
        """The test sets written apart from the examples, which the intent model must never have seen."""
        return self.informal_test, self.caller_test

    @property
    def gazetteer(self) -> Path:
        return self.folder / "gazetteer.tsv"

    @property
    def lexicon(self) -> Path:
        return self.folder / "lexicon.txt"

    @property
    def intent_model(self) -> Path:
        """Where the pack ships its trained intent model (the folder may be absent: it is then trained)."""
        return self.folder / "models" / "intent"


def bundled_packs() -> list[str]:
    return sorted(p.name for p in BUNDLED_PACKS.iterdir() if (p / "domain.yaml").is_file())


def find_pack(name_or_folder: str | Path) -> DomainPack:
    """The pack named ``name_or_folder`` under ``domains/``, or the folder it names; checked for its files."""
    candidate = Path(name_or_folder).expanduser()
    folder = candidate if candidate.is_dir() else BUNDLED_PACKS / str(name_or_folder)
    if not folder.is_dir():
        raise DomainPackError(f"no domain pack {str(name_or_folder)!r}: give a folder, or one of the bundled "
                              f"packs ({', '.join(bundled_packs())})")
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise DomainPackError(f"domain pack {folder} lacks {', '.join(missing)} (a pack needs {', '.join(REQUIRED)}; "
                              f"copy {BUNDLED_PACKS / DEFAULT_PACK} to start one)")
    return DomainPack(folder.resolve())
