"""`lockgate logs …`: the site's build log store."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from lockgate.adapters.logstore.filesystem import FilesystemLogStore
from lockgate.adapters.site import Site


def register(commands: Any) -> None:
    logs = commands.add_parser("logs", help="look after the build log store")
    acts = logs.add_subparsers(metavar="ACTION")
    prune = acts.add_parser(
        "prune", help="remove build logs older than [logs] keep_days (or --days)"
    )
    prune.add_argument("--site", type=Path, default=Path("site"))
    prune.add_argument(
        "--days", type=int, help="keep this many days instead of the site's keep_days"
    )
    prune.add_argument("--dry-run", action="store_true", help="list what would go, remove nothing")
    prune.set_defaults(run=_prune)


def _prune(args: argparse.Namespace) -> int:
    site = Site(args.site)
    settings = site.load()
    days = settings.logs.keep_days if args.days is None else args.days
    if days < 0:
        print("lockgate logs prune: --days must be 0 (keep everything) or more")
        return 2
    if days == 0:
        print("keeping every build's logs: keep_days is 0")
        return 0
    store = FilesystemLogStore(site.logs_dir(settings), settings.log_url)
    removed = store.prune(now=time.time(), keep_days=days, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for path in removed:
        print(f"{verb} {path}")
    print(f"{verb} {len(removed)} build log folder(s) older than {days} day(s)")
    return 0
