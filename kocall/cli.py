"""The ``kocall`` command. Each stage adds its own subcommands through ``register``.

Heavy libraries (faster-whisper, torch) are imported inside the commands, so
``kocall --help`` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import sys

from data_tools import cli as data_cli
from data_tools import eval_cli, label_cli, monitor_cli
from dialog import cli as dialog_cli
from kocall import __version__
from nlu import cli as nlu_cli
from server import cli as server_cli
from stt import cli as stt_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kocall",
        description="Korean call-center voice bot: speech recognition, understanding and dialog "
        "for telephone and chat. Settings also come from KOCALL_* environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"kocall {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is being done")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    stt_cli.register(commands)
    server_cli.register(commands)
    data_cli.register(commands)
    nlu_cli.register(commands)
    dialog_cli.register(commands)
    monitor_cli.register(commands)
    eval_cli.register(commands)
    label_cli.register(commands)
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
