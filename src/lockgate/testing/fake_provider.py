"""A provider for tests of the launcher: the other side of the Provider port.

Its "machines" are records, in memory or (given a folder) one JSON file each,
so that a launcher killed half way leaves something a new process can see.
Launches take `steps` advances; tests make them fail, hang or vanish on
demand, and leak resources no node names.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lockgate.core.nodes.model import Node
from lockgate.services.node_ports import LaunchError, PoolInfo


class _Records:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.memory: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.peak = 0  # the most machines held at once
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def get(self, key: str) -> dict[str, Any] | None:
        with self.lock:
            if self.folder is None:
                found = self.memory.get(key)
                return None if found is None else dict(found)
            path = self.folder / f"{key}.json"
            return json.loads(path.read_text()) if path.exists() else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self.lock:
            if self.folder is None:
                self.memory[key] = dict(value)
                self.peak = max(self.peak, len(self.memory))
            else:
                (self.folder / f"{key}.json").write_text(json.dumps(value))

    def drop(self, key: str) -> None:
        with self.lock:
            if self.folder is None:
                self.memory.pop(key, None)
            else:
                (self.folder / f"{key}.json").unlink(missing_ok=True)

    def names(self) -> list[str]:
        with self.lock:
            if self.folder is None:
                return sorted(self.memory)
            return sorted(p.stem for p in self.folder.glob("*.json"))


class FakeLaunch:
    def __init__(self, provider: FakeProvider, node: Node, external_id: str | None) -> None:
        self.provider = provider
        self.node = node
        self._external_id = external_id
        self._connection: dict[str, Any] = {}

    @property
    def external_id(self) -> str | None:
        return self._external_id

    @property
    def connection(self) -> Mapping[str, Any]:
        return self._connection

    def advance(self) -> bool:
        provider = self.provider
        provider.advances += 1
        if self._external_id is None:
            self._external_id = f"{provider.name}-{self.node.id[:8]}-{provider.next_serial()}"
            provider.records.put(
                self._external_id, {"node": self.node.id, "label": self.node.label, "step": 0}
            )
            provider.launches += 1
            return False
        record = provider.records.get(self._external_id)
        if record is None:
            raise LaunchError(f"{self._external_id} vanished while it booted")
        if provider.take_failure(self.node.label):
            raise LaunchError(f"{self._external_id} failed to boot (as the test asked)")
        if provider.hang:
            return False
        record["step"] += 1
        provider.records.put(self._external_id, record)
        if record["step"] < provider.steps:
            return False
        self._connection = {"ansible_connection": "local", "fake_id": self._external_id}
        return True


class FakeDelete:
    def __init__(self, provider: FakeProvider, external_id: str | None) -> None:
        self.provider = provider
        self.external_id = external_id
        self.steps = 0

    def advance(self) -> bool:
        if self.external_id is None or self.provider.records.get(self.external_id) is None:
            return True
        self.steps += 1
        if self.steps < self.provider.delete_steps:
            return False
        self.provider.records.drop(self.external_id)
        self.provider.deletes += 1
        return True


class FakeProvider:
    def __init__(
        self,
        name: str = "fake",
        pools: Sequence[PoolInfo] | None = None,
        *,
        steps: int = 2,
        delete_steps: int = 2,
        folder: Path | None = None,
    ) -> None:
        self._name = name
        self._pools = list(pools or [PoolInfo("main", frozenset({"small"}), 4, 3, 30.0)])
        self.steps = steps
        self.delete_steps = delete_steps
        self.records = _Records(folder)
        self.serial = 0
        self._serial_lock = threading.Lock()
        self.launches = self.deletes = self.advances = 0
        self.failures: dict[str | None, int] = {}  # label (None: any) -> launches to fail
        self.hang = False
        self.gone: set[str] = set()  # node ids whose machine is reported dead

    @property
    def name(self) -> str:
        return self._name

    def pools(self) -> Sequence[PoolInfo]:
        return self._pools

    def fail(self, times: int, label: str | None = None) -> None:
        """Make the next `times` launches (of `label`, or any) fail after they started."""
        self.failures[label] = self.failures.get(label, 0) + times

    def take_failure(self, label: str) -> bool:
        for key in (label, None):
            if self.failures.get(key, 0) > 0:
                self.failures[key] -= 1
                return True
        return False

    def next_serial(self) -> int:
        with self._serial_lock:
            self.serial += 1
            return self.serial

    def leak(self) -> str:
        """Something this provider holds that no node row will ever name."""
        key = f"{self._name}-leak-{self.next_serial()}"
        self.records.put(key, {"node": None, "label": None, "step": 0})
        return key

    def held(self) -> list[str]:
        return self.records.names()

    def create(self, node: Node, external_id: str | None = None) -> FakeLaunch:
        return FakeLaunch(self, node, external_id)

    def delete(self, node: Node, external_id: str | None = None) -> FakeDelete:
        return FakeDelete(self, external_id)

    def alive(self, node: Node) -> bool:
        return node.id not in self.gone

    def leaked(self, known: set[str]) -> list[str]:
        return [key for key in self.records.names() if key not in known]

    def remove_leaked(self, external_id: str) -> None:
        self.records.drop(external_id)
