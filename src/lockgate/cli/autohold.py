"""`lockgate autohold add|list|delete`: keep the nodes of failed builds, as
zuul-client's autohold commands do, over the running server's REST API."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import httpx

from lockgate.cli.gate import _client, _common


def register(commands: Any) -> None:
    autohold = commands.add_parser("autohold", help="keep the nodes of failed builds")
    acts = autohold.add_subparsers(metavar="ACTION")

    add = acts.add_parser("add", help="hold the nodes of a job's next failed builds")
    _common(add)
    add.add_argument("--project", required=True)
    add.add_argument("--job", required=True)
    add.add_argument("--change", help="only builds of this change (a number)")
    add.add_argument("--ref", help="only builds whose ref matches this regular expression")
    add.add_argument("--reason", default="", help="why, shown in the list")
    add.add_argument("--count", type=int, default=1, help="how many failed builds (default 1)")
    add.add_argument(
        "--node-hold-expiration",
        type=int,
        default=0,
        help="seconds to keep each held node (default 0: until the autohold is deleted)",
    )
    add.set_defaults(run=_add)

    listing = acts.add_parser("list", help="the autoholds of a tenant")
    _common(listing)
    listing.set_defaults(run=_list)

    delete = acts.add_parser("delete", help="delete an autohold and let its held nodes go")
    _common(delete)
    delete.add_argument("id")
    delete.set_defaults(run=_delete)


def _send(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    client, prefix = _client(args)
    with client:
        try:
            response = client.request(method, f"{prefix}/{path}", json=body)
        except httpx.HTTPError as error:
            print(f"lockgate: cannot reach the server: {error}", file=sys.stderr)
            return None
    if response.status_code not in (200, 204):
        print(f"lockgate: {response.status_code}: {response.text.strip()}", file=sys.stderr)
        return None
    return response.json() if response.status_code == 200 else True


def _add(args: argparse.Namespace) -> int:
    body = {
        "job": args.job,
        "change": args.change,
        "ref": args.ref,
        "reason": args.reason,
        "count": args.count,
        "node_hold_expiration": args.node_hold_expiration,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return 0 if _send(args, "POST", f"project/{args.project}/autohold", body) else 1


def _list(args: argparse.Namespace) -> int:
    holds = _send(args, "GET", "autohold")
    if holds is None:
        return 1
    if not holds:
        print("no autoholds")
    for hold in holds:
        expiry = hold["node_expiration"] or "until deleted"
        held = sum(len(entry["nodes"]) for entry in hold["nodes"])
        print(
            f"{hold['id']}  {hold['project']} {hold['job']} ref {hold['ref_filter']}  "
            f"{hold['current_count']}/{hold['max_count']} builds, {held} nodes held "
            f"(expiration {expiry})  {hold['reason']}"
        )
    return 0


def _delete(args: argparse.Namespace) -> int:
    return 0 if _send(args, "DELETE", f"autohold/{args.id}") else 1
