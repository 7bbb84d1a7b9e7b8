"""`lockgate init`, `lockgate serve` and `lockgate db`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from lockgate.adapters.db.engine import make_engine
from lockgate.adapters.db.migrate import schema_status, upgrade
from lockgate.adapters.site import Site
from lockgate.services.bootstrap import init_site, open_site
from lockgate.services.demo_project import DEMO_PROJECT

log = logging.getLogger("lockgate")


def register(commands: Any) -> None:
    init = commands.add_parser(
        "init",
        help="create a site folder",
        description="Create a lockgate site: settings, "
        "database, repositories folder and an admin account whose password is printed once.",
    )
    init.add_argument("site", type=Path, help="the site folder to create")
    init.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT to serve on")
    init.add_argument("--url", help="public URL of the server (default: from --listen)")
    init.add_argument(
        "--database",
        default="sqlite:///db/lockgate.db",
        help="database URL (default: SQLite in the site folder)",
    )
    init.add_argument(
        "--demo",
        action="store_true",
        help="also create the demo project, with a job to try review and gating with "
        "(`lockgate serve` does this when it creates the site)",
    )
    init.set_defaults(run=_init)

    serve = commands.add_parser(
        "serve",
        help="run the server",
        description="Serve a site's git repositories, "
        "review API and web pages. Creates the site first when the folder has none.",
    )
    serve.add_argument(
        "--site", type=Path, default=Path("site"), help="site folder (default: ./site)"
    )
    serve.add_argument("--listen", help="HOST:PORT to serve on (default: the site's setting)")
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="database schema", description="Database schema tools.")
    db_commands = db.add_subparsers(metavar="ACTION")
    up = db_commands.add_parser("upgrade", help="migrate the database to this version's schema")
    up.add_argument("--site", type=Path, default=Path("site"))
    up.set_defaults(run=_db_upgrade)
    status = db_commands.add_parser("status", help="show the schema version")
    status.add_argument("--site", type=Path, default=Path("site"))
    status.set_defaults(run=_db_status)


def _print_welcome(url: str, password: str, site: Site) -> None:
    print(f"Created site {site.root}")
    print("  admin user:     admin")
    print(f"  admin password: {password}   (also in {site.credentials_file})")
    if site.ci_credentials_file.exists():
        ci = dict(line.split("=", 1) for line in site.ci_credentials_file.read_text().splitlines())
        print(f"  CI account:     {ci.get('username')}   (password in {site.ci_credentials_file})")
        print("  config project: project-config   (pipelines in zuul.d/; see docs/gating.md)")
    demo = f"{url}{DEMO_PROJECT}"
    if (site.git_dir / f"{DEMO_PROJECT}.git").exists():
        print(f"  demo project:   git clone {demo}   (then git review -s; see its README.md)")


def _init(args: argparse.Namespace) -> int:
    result = init_site(
        args.site, listen=args.listen, url=args.url, database_url=args.database, demo=args.demo
    )
    _print_welcome(result.services.public_url, result.admin_password, result.services.site)
    print(f"Serve it with: lockgate serve --site {result.services.site.root}")
    result.services.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from lockgate.web.app import create_app

    site = Site(args.site)
    if not site.exists():
        listen = args.listen or "127.0.0.1:8080"
        # A site made by `serve` is someone trying lockgate: give them the demo.
        created = init_site(args.site, listen=listen, demo=True)
        _print_welcome(created.services.public_url, created.admin_password, site)
        created.services.close()
    services = open_site(args.site)
    listen = args.listen or services.settings.server.listen
    host, _, port = listen.rpartition(":")
    if args.listen and args.listen != services.settings.server.listen:
        log.warning("serving on %s; the site's public URL stays %s", listen, services.public_url)
    credentials = site.credentials_file
    print(f"lockgate is serving {site.root} at {services.public_url}", flush=True)
    if credentials.exists():
        for line in credentials.read_text().splitlines():
            key, _, value = line.partition("=")
            print(f"  admin {key}: {value}", flush=True)
        print(f"  (from {credentials}; delete that file once you have kept the password)")
    config = uvicorn.Config(
        create_app(services),
        host=host.strip("[]"),
        port=int(port),
        log_level="info",
        access_log=False,
        lifespan="on",
        # Event streams never end by themselves: cut them off at shutdown.
        timeout_graceful_shutdown=10,
        timeout_keep_alive=30,
    )
    uvicorn.Server(config).run()
    services.close()
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    site = Site(args.site)
    engine = make_engine(site.database_url(site.load()))
    before = schema_status(engine)
    upgrade(engine)
    after = schema_status(engine)
    print(f"schema {before.current or 'empty'} -> {after.current}")
    engine.dispose()
    return 0


def _db_status(args: argparse.Namespace) -> int:
    site = Site(args.site)
    engine = make_engine(site.database_url(site.load()))
    status = schema_status(engine)
    engine.dispose()
    state = "up to date" if status.up_to_date else "needs: lockgate db upgrade"
    print(f"schema {status.current or 'empty'} (this lockgate: {status.head}): {state}")
    return 0 if status.up_to_date else 1


if __name__ == "__main__":
    sys.exit(1)
