"""The ``--domain`` option that ``kocall serve``, ``chat`` and ``train`` share, and the settings it makes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings


def add_domain_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--domain", metavar="PACK", help="the domain pack: a name under domains/ or a folder "
                        "(default: KOCALL_DOMAIN, else card_bank)")


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings from the environment, with ``--domain`` over ``KOCALL_DOMAIN`` when given."""
    from core.settings import Settings

    return Settings(domain=args.domain) if args.domain else Settings()
