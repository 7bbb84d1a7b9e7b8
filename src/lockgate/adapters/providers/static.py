"""The `static` provider: fixed SSH hosts, each with `max-parallel-jobs` slots.

A node is one slot of a host; its external id is `<host name>#<slot>`, so a
launcher restarted half way takes the same slot again. Before a slot is handed
out the host is checked: `ssh ... true` with a short connect timeout, started
in one step and read in the next, so the launcher never blocks on a host.

Host keys: the provider keeps its own known_hosts file. The first contact with
a host records its key (`StrictHostKeyChecking=accept-new`); every later
contact, and every Ansible connection, requires that same key
(`StrictHostKeyChecking=yes` with that file only), so a host whose key
changes is unreachable until an operator removes its line. A host may also be
given its key (`host_key`), which is then written to the file up front.

Deleting a node frees its slot, after running the host's `cleanup` command
(if any) over ssh; a failing cleanup is logged, and the slot is freed anyway.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockgate.core.nodes.launching import LaunchError, PoolInfo
from lockgate.core.nodes.model import Node

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StaticHost:
    name: str
    address: str
    user: str
    key: Path  # private key file
    labels: frozenset[str]
    port: int = 22
    max_parallel_jobs: int = 1
    cleanup: str | None = None  # a shell command run on the host when a node is deleted
    host_key: str | None = None  # "ssh-ed25519 AAAA...": trusted without a first contact
    python: str = "/usr/bin/python3"
    pool: str = "main"  # the provider's pool this host's slots belong to
    extra_vars: Mapping[str, Any] = field(default_factory=dict)


class StaticProvider:
    def __init__(
        self,
        name: str,
        hosts: Iterable[StaticHost],
        *,
        known_hosts: Path,
        connect_timeout: float = 5.0,
        launch_retries: int = 3,
        boot_timeout: float = 30.0,
    ) -> None:
        self._name = name
        self.hosts: dict[str, StaticHost] = {}
        for host in hosts:
            if host.name in self.hosts:
                raise ValueError(f"static provider {name!r}: host {host.name!r} is listed twice")
            if "#" in host.name:
                raise ValueError(
                    f"static provider {name!r}: host name {host.name!r} may not hold '#'"
                )
            if host.max_parallel_jobs < 1:
                raise ValueError(
                    f"static provider {name!r}: host {host.name!r} needs max-parallel-jobs >= 1"
                )
            self.hosts[host.name] = host
        if not self.hosts:
            raise ValueError(f"static provider {name!r}: list at least one host")
        self.known_hosts = Path(known_hosts).absolute()
        self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
        self.known_hosts.touch(mode=0o600, exist_ok=True)
        self._pin_given_keys()
        self.connect_timeout = connect_timeout
        by_pool: dict[str, list[StaticHost]] = {}
        for host in self.hosts.values():
            by_pool.setdefault(host.pool, []).append(host)
        # a static pool is its hosts: their labels, and as many nodes as slots
        self._pools = [
            PoolInfo(
                name=pool_name,
                labels=frozenset().union(*(h.labels for h in members)),
                max_servers=sum(h.max_parallel_jobs for h in members),
                launch_retries=launch_retries,
                boot_timeout=boot_timeout,
            )
            for pool_name, members in sorted(by_pool.items())
        ]
        self._lock = threading.Lock()
        self._slots: dict[str, str] = {}  # external id -> node id

    @property
    def name(self) -> str:
        return self._name

    def pools(self) -> Sequence[PoolInfo]:
        return list(self._pools)

    def _pin_given_keys(self) -> None:
        known = self.known_hosts.read_text()
        lines = []
        for host in self.hosts.values():
            if host.host_key:
                line = f"{_known_name(host)} {host.host_key.strip()}"
                if line not in known:
                    lines.append(line)
        if lines:
            with self.known_hosts.open("a") as handle:
                handle.write("".join(f"{line}\n" for line in lines))

    # ssh ------------------------------------------------------------------------

    def ssh_options(self, *, first_contact: bool) -> list[str]:
        return [
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            f"StrictHostKeyChecking={'accept-new' if first_contact else 'yes'}",
            "-o",
            f"ConnectTimeout={max(1, round(self.connect_timeout))}",
        ]

    def ssh_argv(self, host: StaticHost, command: str) -> list[str]:
        return [
            "ssh",
            *self.ssh_options(first_contact=True),
            "-i",
            str(host.key),
            "-p",
            str(host.port),
            "-l",
            host.user,
            host.address,
            command,
        ]

    def check(self, host: StaticHost, slot: int | None = None) -> subprocess.Popen[bytes]:
        """`ssh ... true`; for a slot being handed out, making its console folder."""
        command = "true" if slot is None else f"mkdir -p {console_folder(slot)}"
        return subprocess.Popen(
            self.ssh_argv(host, command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def connection_for(self, host: StaticHost, slot: int) -> dict[str, Any]:
        common = " ".join(shlex.quote(o) for o in self.ssh_options(first_contact=False)[2:])
        return {
            **host.extra_vars,
            "ansible_connection": "ssh",
            "ansible_host": host.address,
            "ansible_port": host.port,
            "ansible_user": host.user,
            "ansible_ssh_private_key_file": str(host.key),
            "ansible_ssh_common_args": common,
            "ansible_python_interpreter": host.python,
            "lockgate_slot": slot,
            # each slot its own scratch folder, so that jobs sharing the host
            # never read each other's live console
            "ansible_remote_tmp": remote_tmp(slot),
            "lockgate_console_dir": console_folder(slot),
        }

    # slots ----------------------------------------------------------------------

    def _claim(self, node: Node, external_id: str | None) -> tuple[StaticHost, int, str]:
        with self._lock:
            if external_id is not None:
                host, slot = self.parse(external_id)
                self._slots[external_id] = node.id
                return host, slot, external_id
            for host in self.hosts.values():
                if node.label not in host.labels or host.pool != node.pool:
                    continue
                for slot in range(host.max_parallel_jobs):
                    candidate = f"{host.name}#{slot}"
                    if candidate not in self._slots:
                        self._slots[candidate] = node.id
                        return host, slot, candidate
        if not any(node.label in h.labels and h.pool == node.pool for h in self.hosts.values()):
            raise LaunchError(
                f"static provider {self.name!r} has no host with label {node.label!r} "
                f"in pool {node.pool!r}"
            )
        raise LaunchError(
            f"static provider {self.name!r}: every slot of label {node.label!r} is taken"
        )

    def free(self, external_id: str) -> None:
        with self._lock:
            self._slots.pop(external_id, None)

    def parse(self, external_id: str) -> tuple[StaticHost, int]:
        name, _, slot = external_id.rpartition("#")
        host = self.hosts.get(name)
        if host is None or not slot.isdigit() or int(slot) >= host.max_parallel_jobs:
            raise LaunchError(f"{external_id!r} is no slot of static provider {self.name!r}")
        return host, int(slot)

    def held(self) -> dict[str, str]:
        with self._lock:
            return dict(self._slots)

    # the port ---------------------------------------------------------------------

    def create(self, node: Node, external_id: str | None = None) -> StaticLaunch:
        return StaticLaunch(self, node, external_id)

    def delete(self, node: Node, external_id: str | None = None) -> StaticDelete:
        return StaticDelete(self, external_id)

    def alive(self, node: Node) -> bool:
        external = next((k for k, v in self.held().items() if v == node.id), None)
        if external is None:
            return False
        host, _ = self.parse(external)
        process = self.check(host)
        try:
            return process.wait(timeout=self.connect_timeout + 5) == 0
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return False

    def leaked(self, known: set[str]) -> list[str]:
        return sorted(k for k in self.held() if k not in known)

    def remove_leaked(self, external_id: str) -> None:
        machine = StaticDelete(self, external_id)
        while not machine.advance():
            time.sleep(0.05)


def remote_tmp(slot: int) -> str:
    return f"~/.ansible/tmp/lockgate-slot-{slot}"


def console_folder(slot: int) -> str:
    return f"{remote_tmp(slot)}/lockgate-console"


def _known_name(host: StaticHost) -> str:
    return host.address if host.port == 22 else f"[{host.address}]:{host.port}"


class StaticLaunch:
    """Step 1: take a free slot of a host with the label and start `ssh true`;
    later steps: wait for it. Unreachable: the slot is freed and LaunchError."""

    def __init__(self, provider: StaticProvider, node: Node, external_id: str | None) -> None:
        self._provider = provider
        self._node = node
        self._external_id = external_id
        self._resume = external_id
        self._host: StaticHost | None = None
        self._slot = 0
        self._check: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self._connection: Mapping[str, Any] = {}

    @property
    def external_id(self) -> str | None:
        return self._external_id

    @property
    def connection(self) -> Mapping[str, Any]:
        return self._connection

    def advance(self) -> bool:
        provider = self._provider
        if self._check is None:
            self._host, self._slot, self._external_id = provider._claim(self._node, self._resume)
            self._check = provider.check(self._host, self._slot)
            self._started = time.monotonic()
            return False
        assert self._host is not None and self._external_id is not None
        code = self._check.poll()
        if code is None:
            if time.monotonic() - self._started < provider.connect_timeout + 5:
                return False
            self._check.kill()
            self._check.wait()
            code = -1
        if code != 0:
            stderr = (
                self._check.stderr.read().decode(errors="replace").strip()
                if self._check.stderr
                else ""
            )
            provider.free(self._external_id)
            host = self._host
            raise LaunchError(
                f"static host {host.name!r} ({host.user}@{host.address}:{host.port}) is not "
                f"reachable over ssh: {stderr or 'no answer within the connect timeout'}"
            )
        if self._check.stderr:
            self._check.stderr.close()
        self._connection = provider.connection_for(self._host, self._slot)
        return True


class StaticDelete:
    """Run the host's cleanup command (if any), then free the slot."""

    def __init__(self, provider: StaticProvider, external_id: str | None) -> None:
        self._provider = provider
        self._external_id = external_id
        self._cleanup: subprocess.Popen[bytes] | None = None
        self._started = 0.0

    def advance(self) -> bool:
        provider = self._provider
        if self._external_id is None:
            return True  # never got a slot
        try:
            host, slot = provider.parse(self._external_id)
        except LaunchError:
            return True  # a host no longer listed: nothing of ours is left to free
        if host.cleanup and self._cleanup is None:
            command = f"LOCKGATE_SLOT={slot} sh -c {shlex.quote(host.cleanup)}"
            self._cleanup = subprocess.Popen(
                provider.ssh_argv(host, command),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            self._started = time.monotonic()
            return False
        if self._cleanup is not None:
            code = self._cleanup.poll()
            if code is None and time.monotonic() - self._started < provider.connect_timeout + 60:
                return False
            if code is None:
                self._cleanup.kill()
                self._cleanup.wait()
            if code != 0:
                stderr = (
                    self._cleanup.stderr.read().decode(errors="replace")
                    if self._cleanup.stderr
                    else ""
                )
                log.warning(
                    "cleanup of %s on %s failed (%s): %s",
                    self._external_id,
                    host.name,
                    code,
                    stderr.strip(),
                )
            if self._cleanup.stderr:
                self._cleanup.stderr.close()
        provider.free(self._external_id)
        return True


HOST_KEYS = {
    "name",
    "address",
    "port",
    "user",
    "key",
    "labels",
    "max-parallel-jobs",
    "pool",
    "cleanup",
    "host-key",
    "python",
}
STATIC_OPTIONS = frozenset({"known-hosts", "connect-timeout", "hosts"})


def static_from_options(
    name: str,
    options: Mapping[str, Any],
    *,
    run_folder: Path,
    launch_retries: int = 3,
    boot_timeout: float = 30.0,
) -> StaticProvider:
    """A static provider from its documented options (docs/nodes.md; `-` or `_`
    spelling) and the site's run folder."""
    given = {key.replace("_", "-"): value for key, value in options.items()}
    unknown = sorted(set(given) - STATIC_OPTIONS)
    if unknown:
        raise ValueError(
            f"static provider {name!r}: unknown option {', '.join(unknown)} "
            f"(known: {', '.join(sorted(STATIC_OPTIONS))})"
        )
    raw_hosts = given.get("hosts")
    if not isinstance(raw_hosts, list) or not raw_hosts:
        raise ValueError(f"static provider {name!r}: list its hosts under `hosts`")
    hosts = []
    for index, raw in enumerate(raw_hosts, 1):
        where = f"static provider {name!r}, host {index}"
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: must be a table of keys")
        entry = {key.replace("_", "-"): value for key, value in raw.items()}
        bad = sorted(set(entry) - HOST_KEYS)
        if bad:
            raise ValueError(
                f"{where}: unknown key {', '.join(bad)} (known: {', '.join(sorted(HOST_KEYS))})"
            )
        missing = sorted({"name", "address", "user", "key", "labels"} - set(entry))
        if missing:
            raise ValueError(f"{where}: {', '.join(missing)} missing")
        labels = entry["labels"]
        if isinstance(labels, str) or not all(isinstance(label, str) for label in labels):
            raise ValueError(f"{where}: labels must be a list of label names")
        key = Path(entry["key"])
        hosts.append(
            StaticHost(
                name=str(entry["name"]),
                address=str(entry["address"]),
                user=str(entry["user"]),
                key=key if key.is_absolute() else run_folder / key,
                labels=frozenset(labels),
                port=int(entry.get("port", 22)),
                max_parallel_jobs=int(entry.get("max-parallel-jobs", 1)),
                pool=str(entry.get("pool", "main")),
                cleanup=entry.get("cleanup"),
                host_key=entry.get("host-key"),
                python=str(entry.get("python", "/usr/bin/python3")),
            )
        )
    known = Path(given.get("known-hosts") or run_folder / "static-known-hosts")
    return StaticProvider(
        name,
        hosts,
        known_hosts=known if known.is_absolute() else run_folder / known,
        connect_timeout=float(given.get("connect-timeout", 5.0)),
        launch_retries=launch_retries,
        boot_timeout=boot_timeout,
    )
