"""What the build pages share: the addresses they link to, in Zuul's and
Gerrit's URL shapes, their formatting, and the build history they read."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

from starlette.requests import Request

from lockgate.adapters.db.gate_store import BuildRow, BuildsetRow
from lockgate.services.build_views import BuildViews
from lockgate.web.auth import services_of

# Zuul's build results, for the filter's choices.
RESULTS = (
    "SUCCESS",
    "FAILURE",
    "POST_FAILURE",
    "TIMED_OUT",
    "RETRY_LIMIT",
    "NODE_FAILURE",
    "MERGE_CONFLICT",
    "CONFIG_ERROR",
    "ERROR",
    "ABORTED",
    "CANCELED",
    "SKIPPED",
)


def views(request: Request) -> BuildViews:
    """The build history as the viewer may see it (NotFound when gating is off)."""
    return BuildViews(services_of(request))


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _path(value: str) -> str:
    return urllib.parse.quote(value, safe="/")


class Links:
    """Links within one tenant's pages."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.base = f"/t/{_q(tenant)}"

    def builds(self, **filters: object) -> str:
        query = urllib.parse.urlencode({k: v for k, v in filters.items() if v not in (None, "")})
        return f"{self.base}/builds" + (f"?{query}" if query else "")

    def buildsets(self, **filters: object) -> str:
        query = urllib.parse.urlencode({k: v for k, v in filters.items() if v not in (None, "")})
        return f"{self.base}/buildsets" + (f"?{query}" if query else "")

    def build(self, uuid: str) -> str:
        return f"{self.base}/build/{_q(uuid)}"

    def buildset(self, uuid: str) -> str:
        return f"{self.base}/buildset/{_q(uuid)}"

    def console(self, uuid: str) -> str:
        return f"{self.base}/stream/{_q(uuid)}"

    def console_stream(self, uuid: str) -> str:
        return f"/api/tenant/{_q(self.tenant)}/console-stream/{_q(uuid)}"

    def log(self, uuid: str, path: str = "") -> str:
        return f"{self.base}/build/{_q(uuid)}/log/{_path(path)}"

    def raw(self, log_path: str, path: str = "") -> str:
        return f"/logs/{_path(log_path)}/{_path(path)}"

    def autoholds(self) -> str:
        return f"{self.base}/autoholds"

    def status(self) -> str:
        return f"{self.base}/status"

    @staticmethod
    def change(row: BuildRow | BuildsetRow) -> str | None:
        if row.change is None:
            return None
        tail = f"/{row.patchset}" if row.patchset is not None else ""
        return f"/c/{_path(row.project)}/+/{row.change}{tail}"


def change_label(row: BuildRow | BuildsetRow) -> str:
    """`12,3` for a change, else the ref (a branch's `refs/heads/` left off)."""
    if row.change is not None:
        return f"{row.change},{row.patchset}" if row.patchset is not None else str(row.change)
    return row.ref.removeprefix("refs/heads/")


def state(row: BuildRow) -> str:
    """The build's result, or where it is without one."""
    if row.result:
        return row.result
    return "RUNNING" if row.started else "QUEUED"


def seconds(row: BuildRow) -> float | None:
    if row.started is None or row.ended is None:
        return None
    return (row.ended - row.started) / 1e6


def clock(micros: int | None) -> str:
    if not micros:
        return ""
    moment = dt.datetime.fromtimestamp(micros / 1e6, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def size(value: int) -> str:
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{value} B"


def helpers(tenant: str) -> dict[str, Any]:
    """What every build template gets."""
    return {
        "tenant": tenant,
        "links": Links(tenant),
        "change_label": change_label,
        "state": state,
        "seconds": seconds,
        "clock": clock,
        "size": size,
    }
