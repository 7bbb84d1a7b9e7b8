"""The `lockgate` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from lockgate.adapters.site import SiteError

DEFAULT_SITE = Path("site")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        result: int = args.run(args)
    except SiteError as error:
        print(f"lockgate: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    from lockgate.cli import admin, autohold, config, encrypt, gate, logs, server

    parser = argparse.ArgumentParser(
        prog="lockgate",
        description="lockgate: code review, gating, test nodes and logs in one server.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(metavar="COMMAND")
    server.register(commands)
    admin.register(commands)
    gate.register(commands)
    autohold.register(commands)
    config.register(commands)
    encrypt.register(commands)
    logs.register(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
