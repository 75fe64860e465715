"""``kocall chat``: talk to the bot by typing, or script a conversation.

At a terminal it shows the bot's reply and, dimmed, what it understood. When
standard input is not a terminal it reads one caller utterance per line and
prints one JSON object per turn, so conversations can be scripted and diffed.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid

from kocall.commands.domain_option import add_domain_option, settings_for


def register(commands: argparse._SubParsersAction) -> None:
    chat = commands.add_parser(
        "chat", help="talk to the bot in a terminal, or script a conversation (one utterance per line)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_domain_option(chat)
    chat.add_argument("--session", default=None, help="session id (default: a new one per run)")
    chat.add_argument("--store", default=None, help="'memory' or a redis:// URL (default: KOCALL_DIALOG__SESSION_STORE)")
    chat.add_argument("--json", action="store_true", help="print JSON per turn even at a terminal")
    chat.set_defaults(run=run_chat)


def run_chat(args: argparse.Namespace) -> int:
    from dialog.domain import DomainError
    from server.turns import get_bot

    settings = settings_for(args)
    dialog = settings.dialog.model_copy(update={"session_store": args.store} if args.store else {})
    try:
        bot = get_bot(settings.nlu, dialog, settings.cache_dir, settings.pack())
    except (FileNotFoundError, DomainError, ConnectionError, ValueError) as exc:
        print(f"kocall chat: {exc}", file=sys.stderr)
        return 1
    session = args.session or uuid.uuid4().hex[:12]
    interactive = sys.stdin.isatty() and not args.json
    if interactive:
        print(f"(session {session}; Ctrl-D to quit)")
        print(f"봇> {bot.dialog.domain.responses['greeting']}")
    for line in _lines(interactive):
        if not line.strip():
            continue
        turn = bot.turn(session, line).as_json()
        if interactive:
            _show(turn)
        else:
            print(json.dumps(turn, ensure_ascii=False), flush=True)
        if turn["end"] and interactive:
            break
    return 0


def _lines(interactive: bool):
    if not interactive:
        yield from (line.rstrip("\n") for line in sys.stdin)
        return
    while True:
        try:
            yield input("나> ")
        except EOFError:
            print()
            return


def _show(turn: dict) -> None:
    dim, reset = "\033[2m", "\033[0m"
    print(f"봇> {turn['reply']}")
    slots = ", ".join(f"{k}={v}" for k, v in turn["dialog"]["slots"].items())
    print(f"{dim}    [{turn['intent']} {turn['confidence']:.2f} · {turn['utterance_type']} · "
          f"{turn['dialog']['model']}/{turn['dialog']['state']}{' · ' + slots if slots else ''}]{reset}")
    if turn["handoff"]:
        print(f"{dim}    hand-off summary: {json.dumps(turn['handoff'], ensure_ascii=False)}{reset}")
