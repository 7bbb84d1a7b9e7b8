"""The `local` provider: nodes are bubblewrap sandboxes over folders of the site.

Each node is `<base>/<node id>/` with its writable `home/`, `workspace/` and
`tmp/`; how commands run inside it, and the limits, are in `sandbox.py`.
Ansible reaches a node through the `lockgate_sandbox` connection plugin, whose
host vars (the node's `connection`) name the folder and the node's token; the
rights (network, limits, user) come from the folder's own settings file, never
from those vars, so a playbook cannot widen them.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockgate.adapters.providers import sandbox
from lockgate.adapters.providers.sandbox import (
    NodeGone,
    NodeLimits,
    NodeSettings,
    SandboxUnavailable,
)
from lockgate.core.nodes.launching import LaunchError, PoolInfo
from lockgate.core.nodes.model import Node

log = logging.getLogger(__name__)

PLUGIN = "lockgate_sandbox"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

__all__ = [
    "LocalLabel",
    "LocalProvider",
    "NodeLimits",
    "SandboxUnavailable",
]


@dataclass(frozen=True, slots=True)
class LocalLabel:
    name: str
    network: bool = False  # whether the node may use the host's network


class LocalProvider:
    """Local sandboxed nodes. Refuses to start without a working bubblewrap unless
    `allow_unsandboxed` (then jobs run on the host as the sandbox user, only in
    their own folders by convention, and a warning says so)."""

    def __init__(
        self,
        name: str,
        base: Path,
        labels: Iterable[LocalLabel | str],
        *,
        limits: NodeLimits | None = None,
        max_servers: int = 4,
        pool: str = "main",
        launch_retries: int = 3,
        boot_timeout: float = 30.0,
        allow_unsandboxed: bool = False,
        sandbox_uid: int | None = None,
        pools: Sequence[PoolInfo] | None = None,
    ) -> None:
        """`labels`: every label the provider makes (with whether it has network);
        `pools`: its pools, each serving some of them (by default one pool `pool`
        serving all, with `max_servers`, `launch_retries` and `boot_timeout`)."""
        self._name = name
        self.base = Path(base).absolute()
        self.labels: dict[str, LocalLabel] = {}
        for label in labels:
            item = LocalLabel(label) if isinstance(label, str) else label
            self.labels[item.name] = item
        if not self.labels:
            raise ValueError(f"local provider {name!r}: give at least one label")
        self.limits = limits or NodeLimits()
        self._pools = (
            list(pools)
            if pools
            else [
                PoolInfo(
                    name=pool,
                    labels=frozenset(self.labels),
                    max_servers=max_servers,
                    launch_retries=launch_retries,
                    boot_timeout=boot_timeout,
                )
            ]
        )
        for info in self._pools:
            unknown = sorted(info.labels - set(self.labels))
            if unknown:
                raise ValueError(
                    f"local provider {name!r}: pool {info.name!r} serves {', '.join(unknown)}, "
                    "which are not among the provider's labels"
                )
        # root is never limited in its number of processes, so as root the
        # sandbox runs as an unprivileged user
        if sandbox_uid is None and os.geteuid() == 0:
            sandbox_uid = sandbox.DEFAULT_SANDBOX_UID
        self.uid = sandbox_uid
        self.sandboxed = True
        try:
            sandbox.check_sandbox_tools()
        except SandboxUnavailable as problem:
            if not allow_unsandboxed:
                raise SandboxUnavailable(f"local provider {name!r}: {problem}") from None
            self.sandboxed = False
            log.warning(
                "local provider %r runs jobs WITHOUT a sandbox (allow_unsandboxed is set): "
                "jobs can read and write whatever uid %s can on this host, reach its network "
                "and signal its processes. Reason: %s",
                name,
                self.uid if self.uid is not None else os.geteuid(),
                problem,
            )
        self.base.mkdir(parents=True, exist_ok=True, mode=0o711)
        sandbox.check_reachable(self.base, self.uid)

    @property
    def name(self) -> str:
        return self._name

    def pools(self) -> Sequence[PoolInfo]:
        return list(self._pools)

    def root_of(self, external_id: str) -> Path:
        if not _SAFE_ID.match(external_id):
            raise LaunchError(f"{external_id!r} cannot name a local node folder")
        return self.base / external_id

    def create(self, node: Node, external_id: str | None = None) -> LocalLaunch:
        return LocalLaunch(self, node, external_id)

    def delete(self, node: Node, external_id: str | None = None) -> LocalDelete:
        return LocalDelete(self.base / (external_id or node.id))

    def alive(self, node: Node) -> bool:
        root_value = node.connection.get("lockgate_node_root")
        root = Path(root_value) if root_value else self.base / node.id
        try:
            sandbox.load_settings(root)
        except NodeGone:
            return False
        return not sandbox.full_marker(root).exists()

    def leaked(self, known: set[str]) -> list[str]:
        if not self.base.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.base.iterdir()
            if entry.name not in known and (entry / sandbox.SETTINGS).is_dir()
        )

    def remove_leaked(self, external_id: str) -> None:
        machine = LocalDelete(self.root_of(external_id))
        while not machine.advance():
            pass

    def connection_for(self, root: Path, settings: NodeSettings) -> dict[str, Any]:
        return {
            "ansible_connection": PLUGIN,
            "ansible_python_interpreter": "/usr/bin/python3",
            # modules go on the command's stdin: two sandboxed commands per task, not five
            "ansible_pipelining": True,
            "lockgate_node_root": str(root),
            "lockgate_node_token": settings.token,
            "lockgate_network": settings.network,
            "lockgate_sandboxed": settings.sandboxed,
            # where the job's home and workspace are, as its commands see them
            "lockgate_home": sandbox.HOME if settings.sandboxed else str(root / "home"),
            "lockgate_workspace": (
                sandbox.WORKSPACE if settings.sandboxed else str(root / "workspace")
            ),
            # where its command module writes the live console (made with the folder)
            "lockgate_console_dir": f"~/{sandbox.CONSOLE_FOLDER}",
        }


class LocalLaunch:
    """One step: make the folder and its settings (or finish them when resuming)."""

    def __init__(self, provider: LocalProvider, node: Node, external_id: str | None) -> None:
        self._provider = provider
        self._node = node
        self._external_id = external_id
        self._connection: Mapping[str, Any] = {}

    @property
    def external_id(self) -> str | None:
        return self._external_id

    @property
    def connection(self) -> Mapping[str, Any]:
        return self._connection

    def advance(self) -> bool:
        provider = self._provider
        label = provider.labels.get(self._node.label)
        if label is None:
            raise LaunchError(
                f"local provider {provider.name!r} has no label {self._node.label!r} "
                f"(it has: {', '.join(sorted(provider.labels))})"
            )
        self._external_id = self._external_id or self._node.id
        root = provider.root_of(self._external_id)
        try:
            settings = sandbox.load_settings(root)
        except NodeGone:
            settings = NodeSettings(
                node=self._node.id,
                token=sandbox.new_token(),
                network=label.network,
                sandboxed=provider.sandboxed,
                uid=provider.uid,
                limits=provider.limits,
            )
        try:
            sandbox.make_node_folder(root, settings)
        except OSError as problem:
            raise LaunchError(f"cannot make the node folder {root}: {problem}") from problem
        self._connection = provider.connection_for(root, settings)
        return True


class LocalDelete:
    """Kill every process of the node, then (once none is left) remove its folder."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def advance(self) -> bool:
        if sandbox.kill_node(self._root):
            return False  # killed now; the next step checks that they are gone
        sandbox.remove_folder(self._root)
        return not self._root.exists()


# where the executor points ANSIBLE_CONNECTION_PLUGINS for local nodes
CONNECTION_PLUGINS = Path(__file__).resolve().parents[1] / "ansible" / "connection_plugins"


_LIMIT_OPTIONS = {
    "max-processes": ("processes", 1),
    "max-memory": ("memory_bytes", 1024**2),
    "max-cpu-seconds": ("cpu_seconds", 1),
    "max-disk": ("disk_bytes", 1024**2),
    "max-open-files": ("open_files", 1),
}
LOCAL_OPTIONS = frozenset({*_LIMIT_OPTIONS, "node-folder", "sandbox-uid", "allow-unsandboxed"})


def local_from_options(
    name: str,
    options: Mapping[str, Any],
    *,
    run_folder: Path,
    labels: Mapping[str, bool],
    pools: Sequence[PoolInfo],
) -> LocalProvider:
    """A local provider from its documented options (docs/nodes.md; `-` or `_`
    spelling), the site's run folder, its labels (name -> network) and pools."""
    given = {key.replace("_", "-"): value for key, value in options.items()}
    unknown = sorted(set(given) - LOCAL_OPTIONS)
    if unknown:
        raise ValueError(
            f"local provider {name!r}: unknown option {', '.join(unknown)} "
            f"(known: {', '.join(sorted(LOCAL_OPTIONS))})"
        )
    limits: dict[str, int] = {}
    for key, (field_name, unit) in _LIMIT_OPTIONS.items():
        if key in given:
            value = given[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"local provider {name!r}: {key} must be a whole number >= 1")
            limits[field_name] = value * unit
    folder = Path(given.get("node-folder") or run_folder / "nodes")
    if not folder.is_absolute():
        folder = run_folder / folder
    uid = given.get("sandbox-uid")
    if uid is not None and (not isinstance(uid, int) or isinstance(uid, bool) or uid < 0):
        raise ValueError(f"local provider {name!r}: sandbox-uid must be a uid (a number >= 0)")
    allow = given.get("allow-unsandboxed", False)
    if not isinstance(allow, bool):
        raise ValueError(f"local provider {name!r}: allow-unsandboxed must be true or false")
    return LocalProvider(
        name,
        folder,
        [LocalLabel(label, network) for label, network in labels.items()],
        limits=NodeLimits(**limits),
        pools=pools,
        allow_unsandboxed=allow,
        sandbox_uid=uid,
    )
