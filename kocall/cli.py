"""The ``kocall`` command: each module of ``kocall.commands`` adds its subcommands through ``register``.

Heavy libraries (faster-whisper, torch) are imported inside the commands, so
``kocall --help`` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import sys

from core import __version__
from kocall.commands import chat, data, evaluate, label, monitor, nlu, say, serve, stt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kocall",
        description="Korean call-center voice bot: speech recognition, understanding and dialog "
        "for telephone and chat. Settings also come from KOCALL_* environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"kocall {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is being done")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in (stt, serve, data, nlu, chat, monitor, evaluate, label, say):
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
