"""The build history as the web interface shows it: builds and build sets that
the viewer may see, a build's nodes, inventory, artifacts and log files, and
the text of a log file for the viewer.

The pages, like the REST API under `/api/`, show a build only to those who
may read its project (and, for a private change, see the change), as every
other page of the review server does: `BuildVisibility` decides.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import re
import urllib.parse
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from lockgate.adapters.db.gate_store import BuildRow, BuildsetRow, HistoryFilter
from lockgate.adapters.logstore.filesystem import (
    CONSOLE,
    FilesystemLogStore,
    ListedEntry,
    StoredDir,
    StoredFile,
)
from lockgate.services.errors import NotFound
from lockgate.services.permissions import Caller

if TYPE_CHECKING:
    from lockgate.services.bootstrap import Services
    from lockgate.services.gate_api import GateApi

INVENTORY = "zuul-info/inventory.yaml"
INVENTORY_MAX = 1024 * 1024
# The viewer reads at most this much of a file; the rest is left to the raw link.
TEXT_LIMIT = 32 * 1024 * 1024
# Host variables whose values are credentials: shown masked.
_SECRET_KEY = re.compile(r"token|password|passwd|secret|private_key|passphrase|credential", re.I)
MASK = "(hidden)"


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """A node the build ran on, as its inventory names it."""

    name: str
    label: str
    provider: str
    node_id: str
    address: str


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    url: str
    metadata: Mapping[str, Any]

    @property
    def linkable(self) -> bool:
        """Whether the URL may be a link: a job wrote it, so `javascript:` and
        the like are shown as text."""
        scheme = urllib.parse.urlsplit(self.url).scheme.lower()
        return scheme in ("http", "https") or (not scheme and not self.url.startswith("//"))


@dataclass(frozen=True, slots=True)
class BuildDetail:
    build: BuildRow
    buildset: BuildsetRow | None
    nodes: list[NodeInfo]
    inventory: str | None  # the inventory as YAML, credentials masked
    files: list[ListedEntry]  # the top of the build's log folder
    has_console: bool  # job-output.txt is in the log folder
    artifacts: list[Artifact]


@dataclass(frozen=True, slots=True)
class FilterChoices:
    """What the filter forms offer: the tenant's projects, pipelines and jobs."""

    projects: list[str]
    pipelines: list[str]
    jobs: list[str]


class LogText:
    """A stored text file line by line, up to TEXT_LIMIT bytes; `truncated` is
    known once the lines have been read."""

    def __init__(self, found: StoredFile, limit: int = TEXT_LIMIT) -> None:
        self.found = found
        self.limit = limit
        self.truncated = False

    def lines(self) -> Iterator[str]:
        opener: Any = gzip.open if self.found.gzipped else open
        budget = self.limit
        try:
            with opener(self.found.disk, "rb") as stream:
                for raw in stream:
                    if len(raw) > budget:
                        self.truncated = True
                        return
                    budget -= len(raw)
                    yield raw.decode("utf-8", errors="replace").rstrip("\r\n")
        except (OSError, EOFError, zlib.error):
            yield "(the stored file is damaged and cannot be read further)"


def _artifacts(row: BuildRow) -> list[Artifact]:
    """The build's artifacts when the history records them (`artifacts` of the
    row: objects or mappings with name, url and metadata)."""
    found: Any = getattr(row, "artifacts", None) or ()
    out = []
    for item in found:
        get = item.get if isinstance(item, Mapping) else lambda k, i=item: getattr(i, k, None)
        name, url = get("name"), get("url")
        if not name or not url:
            continue
        metadata = get("metadata") or {}
        out.append(Artifact(str(name), str(url), dict(metadata)))
    return out


def _masked(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            str(key): (MASK if _SECRET_KEY.search(str(key)) else _masked(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def nodes_of(inventory: Mapping[str, Any]) -> list[NodeInfo]:
    hosts = (inventory.get("all") or {}).get("hosts") or {}
    out = []
    for name, found in hosts.items():
        host: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        raw = host.get("nodepool")
        pool: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        out.append(
            NodeInfo(
                name=str(name),
                label=str(pool.get("label") or ""),
                provider=str(pool.get("provider") or ""),
                node_id=str(pool.get("id") or ""),
                address=str(pool.get("interface_ip") or host.get("ansible_host") or ""),
            )
        )
    return out


class BuildViews:
    def __init__(self, services: Services) -> None:
        gate = services.gate_api
        if gate is None:
            raise NotFound("gating is disabled on this site ([gating] enabled = false)")
        assert services.log_store is not None, "build_services sets the log store"
        assert services.build_visibility is not None, "build_services sets it"
        self.gate: GateApi = gate
        self.visibility = services.build_visibility
        self.store: FilesystemLogStore = services.log_store

    # --- who sees what ------------------------------------------------------------

    def readable_projects(self, caller: Caller, tenant: str) -> tuple[str, ...] | None:
        """The tenant's projects `caller` may read; None when they may read all
        (administrators: builds of projects since removed from the tenant too)."""
        names = [name for name, _trusted in self.gate.projects(tenant)]
        readable = self.visibility.readable(caller, names)
        return None if readable is None else tuple(name for name in names if name in readable)

    def _hidden_changes(self, caller: Caller, numbers: Sequence[int]) -> set[int]:
        return self.visibility.hidden_changes(caller, numbers)

    def _visible(self, caller: Caller, tenant: str, project: str, change: int | None) -> bool:
        readable = self.readable_projects(caller, tenant)
        if readable is not None and project not in readable:
            return False
        return change is None or change not in self._hidden_changes(caller, [change])

    # --- lists ----------------------------------------------------------------------

    def _scoped(self, caller: Caller, where: HistoryFilter) -> HistoryFilter | None:
        readable = self.readable_projects(caller, where.tenant)
        if readable is None:
            return where
        if where.project is not None and where.project not in readable:
            return None
        return dataclasses.replace(where, projects=readable)

    def builds(self, caller: Caller, where: HistoryFilter) -> list[BuildRow]:
        """Builds newest first, as the filter says, of what `caller` may see."""
        self.gate.require_tenant(where.tenant)
        scoped = self._scoped(caller, where)
        if scoped is None or scoped.projects == ():
            return []
        rows = self.gate.builds(scoped)
        hidden = self._hidden_changes(caller, [r.change for r in rows if r.change is not None])
        return [row for row in rows if row.change not in hidden]

    def buildsets(self, caller: Caller, where: HistoryFilter) -> list[BuildsetRow]:
        self.gate.require_tenant(where.tenant)
        scoped = self._scoped(caller, where)
        if scoped is None or scoped.projects == ():
            return []
        rows = self.gate.buildsets(scoped)
        hidden = self._hidden_changes(caller, [r.change for r in rows if r.change is not None])
        return [row for row in rows if row.change not in hidden]

    def choices(self, caller: Caller, tenant: str) -> FilterChoices:
        layout = self.gate.layout(tenant)
        readable = self.readable_projects(caller, tenant)
        return FilterChoices(
            projects=sorted(
                name
                for name, _ in self.gate.projects(tenant)
                if readable is None or name in readable
            ),
            pipelines=list(layout.pipeline_names()),
            jobs=sorted(layout.jobs),
        )

    # --- one build or build set --------------------------------------------------

    def build_row(self, caller: Caller, tenant: str, uuid: str) -> BuildRow:
        row = self.gate.build(tenant, uuid)
        if not self._visible(caller, tenant, row.project, row.change):
            raise NotFound(f"no build {uuid} in tenant {tenant}")
        return row

    def build(self, caller: Caller, tenant: str, uuid: str) -> BuildDetail:
        row = self.build_row(caller, tenant, uuid)
        buildset = None
        with contextlib.suppress(NotFound):  # a build recorded without its set
            buildset, _ = self.gate.buildset(tenant, row.buildset)
        files: list[ListedEntry] = []
        nodes: list[NodeInfo] = []
        inventory = None
        if row.log_path:
            folder = self.store.locate(row.log_path)
            if isinstance(folder, StoredDir):
                files = folder.entries(self.store.root)
            parsed = self._inventory(row.log_path)
            if parsed is not None:
                nodes = nodes_of(parsed)
                inventory = yaml.safe_dump(_masked(parsed), sort_keys=False, width=100)
        return BuildDetail(
            build=row,
            buildset=buildset,
            nodes=nodes,
            inventory=inventory,
            files=files,
            has_console=any(entry.name == CONSOLE for entry in files),
            artifacts=_artifacts(row),
        )

    def _inventory(self, log_path: str) -> Mapping[str, Any] | None:
        found = self.store.locate(f"{log_path}/{INVENTORY}")
        if not isinstance(found, StoredFile):
            return None
        text = LogText(found, INVENTORY_MAX)
        source = "\n".join(text.lines())
        try:
            # The executor writes it as JSON, Zuul's as YAML: YAML reads both.
            parsed = yaml.safe_load(source)
        except yaml.YAMLError:
            try:
                parsed = json.loads(source)
            except ValueError:
                return None
        return parsed if isinstance(parsed, Mapping) else None

    def buildset(
        self, caller: Caller, tenant: str, uuid: str
    ) -> tuple[BuildsetRow, list[BuildRow]]:
        row, builds = self.gate.buildset(tenant, uuid)
        if not self._visible(caller, tenant, row.project, row.change):
            raise NotFound(f"no buildset {uuid} in tenant {tenant}")
        return row, builds

    # --- log files ----------------------------------------------------------------

    def log_entry(
        self, caller: Caller, tenant: str, uuid: str, path: str
    ) -> tuple[BuildRow, StoredFile | StoredDir]:
        """A file or folder of the build's logs, by its path in the build's folder."""
        row = self.build_row(caller, tenant, uuid)
        if not row.log_path:
            raise NotFound(f"build {uuid} has no logs on this server (yet)")
        found = self.store.locate(f"{row.log_path}/{path}" if path else row.log_path)
        if found is None:
            raise NotFound(f"build {uuid} has no log file {path!r}")
        return row, found

    def entries(self, folder: StoredDir) -> list[ListedEntry]:
        return folder.entries(self.store.root)
