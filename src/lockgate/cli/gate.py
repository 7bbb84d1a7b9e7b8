"""`lockgate gate …`: a running server's gate, as zuul-client drives Zuul's.

The scheduler runs inside `lockgate serve`, so these commands talk to it over
its REST API (`/api/…`). With `--site` they find the server's URL in the
site's settings and sign in as the site's admin (site/admin.credentials);
`--url`, `--user` and `--password` say otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from lockgate.adapters.site import Site, SiteError


def register(commands: Any) -> None:
    gate = commands.add_parser("gate", help="enqueue, dequeue, promote and watch the gate")
    acts = gate.add_subparsers(metavar="ACTION")

    enqueue = acts.add_parser("enqueue", help="put a change (or a ref) into a pipeline")
    _common(enqueue)
    enqueue.add_argument("--pipeline", required=True)
    enqueue.add_argument("--project", required=True)
    enqueue.add_argument("--change", help="the change as N,P")
    enqueue.add_argument("--ref", help="a ref instead of a change, e.g. refs/heads/master")
    enqueue.add_argument("--oldrev")
    enqueue.add_argument("--newrev")
    enqueue.set_defaults(run=_enqueue)

    dequeue = acts.add_parser("dequeue", help="remove a change (or a ref) from a pipeline")
    _common(dequeue)
    dequeue.add_argument("--pipeline", required=True)
    dequeue.add_argument("--project", required=True)
    dequeue.add_argument("--change", help="the change as N,P")
    dequeue.add_argument("--ref")
    dequeue.set_defaults(run=_dequeue)

    promote = acts.add_parser("promote", help="move changes to the head of their queue")
    _common(promote)
    promote.add_argument("--pipeline", required=True)
    promote.add_argument("--changes", nargs="+", required=True, help="N,P … in the order wanted")
    promote.set_defaults(run=_promote)

    status = acts.add_parser("status", help="print the queues of a tenant")
    _common(status)
    status.add_argument("--json", action="store_true", help="print the status document as is")
    status.set_defaults(run=_status)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", type=Path, default=Path("site"))
    parser.add_argument("--tenant", default="main")
    parser.add_argument("--url", help="the server's URL (default: the site's server.url)")
    parser.add_argument("--user", help="an administrator (default: the site's admin)")
    parser.add_argument("--password", help="that account's HTTP password")


def _client(args: argparse.Namespace) -> tuple[httpx.Client, str]:
    url, user, password = args.url, args.user, args.password
    if url is None or user is None or password is None:
        site = Site(args.site)
        if not site.exists():
            raise SiteError(
                f"{site.root} is not a lockgate site: pass --site, or --url, --user and --password"
            )
        settings = site.load()
        url = url or settings.server.url
        if user is None or password is None:
            values = dict(
                line.split("=", 1)
                for line in site.credentials_file.read_text().splitlines()
                if "=" in line
            )
            user = user or values.get("username")
            password = password or values.get("password")
    base = url.rstrip("/") + "/"
    auth = (user, password) if user and password else None
    return httpx.Client(base_url=base, auth=auth, timeout=30), f"api/tenant/{args.tenant}"


def _post(args: argparse.Namespace, path: str, body: dict[str, Any]) -> int:
    client, prefix = _client(args)
    with client:
        try:
            response = client.post(f"{prefix}/{path}", json=body)
        except httpx.HTTPError as error:
            print(f"lockgate: cannot reach the server: {error}", file=sys.stderr)
            return 1
    if response.status_code != 200:
        print(f"lockgate: {response.status_code}: {response.text.strip()}", file=sys.stderr)
        return 1
    return 0


def _enqueue(args: argparse.Namespace) -> int:
    body = {
        "pipeline": args.pipeline,
        "change": args.change,
        "ref": args.ref,
        "oldrev": args.oldrev,
        "newrev": args.newrev,
    }
    return _post(args, f"project/{args.project}/enqueue", {k: v for k, v in body.items() if v})


def _dequeue(args: argparse.Namespace) -> int:
    body = {"pipeline": args.pipeline, "change": args.change, "ref": args.ref}
    return _post(args, f"project/{args.project}/dequeue", {k: v for k, v in body.items() if v})


def _promote(args: argparse.Namespace) -> int:
    return _post(args, "promote", {"pipeline": args.pipeline, "changes": args.changes})


def _status(args: argparse.Namespace) -> int:
    client, prefix = _client(args)
    with client:
        try:
            response = client.get(f"{prefix}/status")
        except httpx.HTTPError as error:
            print(f"lockgate: cannot reach the server: {error}", file=sys.stderr)
            return 1
    if response.status_code != 200:
        print(f"lockgate: {response.status_code}: {response.text.strip()}", file=sys.stderr)
        return 1
    status = response.json()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    for pipeline in status.get("pipelines", []):
        items = [
            item
            for queue in pipeline.get("change_queues", [])
            for head in queue.get("heads", [])
            for item in head
        ]
        print(f"{pipeline['name']} ({pipeline.get('manager', '')}): {len(items)} items")
        for item in items:
            refs = ", ".join(str(r.get("id") or r.get("ref")) for r in item.get("refs", []))
            jobs = item.get("jobs", [])
            done = sum(1 for j in jobs if j.get("result"))
            state = "failing" if item.get("failing_reasons") else "ok"
            print(f"  {refs} [{state}] jobs {done}/{len(jobs)}")
    return 0
