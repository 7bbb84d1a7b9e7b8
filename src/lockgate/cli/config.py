"""`lockgate config`: work with Zuul configuration files offline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lockgate.core.config.source import ConfigError


def register(commands: Any) -> None:
    config = commands.add_parser("config", help="check Zuul configuration files")
    actions = config.add_subparsers(metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate configuration files or repository folders",
        description=(
            "Read Zuul configuration (files, or repository folders holding zuul.yaml, "
            "zuul.d/, .zuul.yaml or .zuul.d/) and print every error as "
            "file:line:column: object: attribute: message. Exit status 1 when there "
            "is an error; warnings alone exit 0."
        ),
    )
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    check.add_argument(
        "--trusted",
        action="store_true",
        help="read as a config project (pipelines, base jobs allowed)",
    )
    check.add_argument(
        "--connection",
        action="append",
        default=[],
        metavar="NAME=DRIVER",
        help="a connection of the site and its driver (repeatable); "
        "gerrit=gerrit, timer=timer and zuul=zuul are always known",
    )
    check.set_defaults(run=_check)


def _connections(values: list[str]) -> dict[str, str]:
    from lockgate.services.config_check import DEFAULT_CONNECTIONS

    connections = dict(DEFAULT_CONNECTIONS)
    for value in values:
        name, equals, driver = value.partition("=")
        if not equals or not name or not driver:
            raise argparse.ArgumentTypeError(
                f"--connection {value!r}: write NAME=DRIVER, for example github=github"
            )
        connections[name] = driver
    return connections


def render(error: ConfigError) -> str:
    """`file:line:col: [warning: ]context: attribute: message (hint)`, the
    form compilers print, so editors and CI logs link to the position."""
    where = str(error.where)
    rest = error.render()[len(where) + 1 :]
    if error.severity != "error":
        return f"{where}: {error.severity}: {rest}"
    return f"{where}: {rest}"


def _check(args: argparse.Namespace) -> int:
    from lockgate.services.config_check import check_paths

    try:
        connections = _connections(args.connection)
    except argparse.ArgumentTypeError as bad:
        print(f"lockgate: {bad}")
        return 2
    found = check_paths(args.paths, trusted=args.trusted, connections=connections)
    for each in found:
        print(render(each))
    errors = sum(1 for each in found if each.severity == "error")
    warnings = len(found) - errors
    print(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
    return 1 if errors else 0
