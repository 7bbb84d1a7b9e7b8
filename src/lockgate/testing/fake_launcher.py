"""A launcher for tests that hands out nodes at once, without a database.

By default its nodes are folders that are NOT sandboxed: they use Ansible's
`local` connection, so their tasks run as the test's own user on this
machine, with the node's folder (`lockgate_node_root`) as the place the
executor copies the workspace to. Given a `provider` (the local bubblewrap
one), it makes and deletes real nodes through it instead. Test use only; a
site gets its nodes from the real launcher.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from lockgate.core.nodes.model import (
    BUILDING,
    CANCELED,
    DECLINED,
    FULFILLED,
    IN_USE,
    Node,
    NodeRequest,
)
from lockgate.services.node_ports import Provider

# a label whose nodes cannot be reached (as if they died after the launch)
UNREACHABLE = "unreachable"


class FakeLauncher:
    def __init__(
        self, root: Path, labels: Sequence[str] = ("local",), provider: Provider | None = None
    ) -> None:
        self.root = root
        self.provider = provider
        self.labels = (
            frozenset(labels) | {UNREACHABLE}
            if provider is None
            else frozenset().union(*(p.labels for p in provider.pools()))
        )
        self.requests: dict[str, NodeRequest] = {}
        self.released: list[str] = []
        self._nodes: dict[str, Node] = {}
        self._lock = threading.Lock()

    def request(
        self, build: str, labels: Sequence[str], *, precedence: int, relative_priority: int
    ) -> str:
        rid = f"req-{uuid.uuid4().hex[:10]}"
        unknown = sorted(set(labels) - self.labels)
        state, reason, nodes = FULFILLED, "", []
        if unknown:
            state, reason = DECLINED, f"no provider has label {', '.join(unknown)}"
        else:
            nodes = [self._make(label, rid) for label in labels]
        with self._lock:
            self.requests[rid] = NodeRequest(
                rid,
                tuple(labels),
                build,
                precedence,
                relative_priority,
                time.time(),
                state=state,
                nodes=tuple(n.id for n in nodes),
                provider="fake",
                reason=reason,
            )
        return rid

    def _make(self, label: str, rid: str) -> Node:
        nid = f"node-{uuid.uuid4().hex[:10]}"
        if self.provider is not None:
            return self._launch(nid, label, rid, self.provider)
        folder = self.root / nid
        (folder / ".ansible" / "tmp").mkdir(parents=True)
        connection: dict[str, object] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "ansible_remote_tmp": str(folder / ".ansible" / "tmp"),
            "lockgate_node_root": str(folder),
        }
        if label == UNREACHABLE:
            # a node that went away: ssh to a loopback port nothing listens on
            connection = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1",
                          "ansible_port": 9, "lockgate_node_root": str(folder),
                          "ansible_ssh_common_args": "-o ConnectTimeout=2"}  # fmt: skip
        node = Node(
            nid,
            label,
            "fake",
            "folders",
            "ready",
            time.time(),
            time.time(),
            connection=connection,
            request=rid,
        )
        with self._lock:
            self._nodes[nid] = node
        return node

    def _launch(self, nid: str, label: str, rid: str, provider: Provider) -> Node:
        pool = provider.pools()[0].name
        node = Node(
            nid, label, provider.name, pool, BUILDING, time.time(), time.time(), request=rid
        )
        machine = provider.create(node)
        while not machine.advance():
            time.sleep(0.01)
        node = replace(node, state="ready", connection=dict(machine.connection))
        with self._lock:
            self._nodes[nid] = node
        return node

    def wait(self, request: str, timeout: float | None = None) -> NodeRequest:
        return self.requests[request]

    def accept(self, request: str) -> list[Node]:
        with self._lock:
            req = self.requests[request]
            return [self._nodes[n] for n in req.nodes] if req.state == FULFILLED else []

    def release(self, nodes: Sequence[str], *, hold: str | None = None) -> None:
        with self._lock:
            self.released.extend(nodes)
            gone = [self._nodes.pop(n) for n in nodes if n in self._nodes and hold is None]
        for node in gone:
            if self.provider is not None:
                machine = self.provider.delete(node)
                while not machine.advance():
                    time.sleep(0.01)
            else:
                shutil.rmtree(node.connection["lockgate_node_root"], ignore_errors=True)

    def cancel(self, request: str) -> None:
        with self._lock:
            req = self.requests.get(request)
            if req is not None and req.state != FULFILLED:
                self.requests[request] = NodeRequest(
                    req.id,
                    req.labels,
                    req.build,
                    req.precedence,
                    req.relative_priority,
                    req.created,
                    state=CANCELED,
                )

    def autohold_for(self, tenant: str, project: str, job: str, ref: str) -> str | None:
        return None

    def in_use(self) -> list[str]:
        with self._lock:
            return [n.id for n in self._nodes.values() if n.state in ("ready", IN_USE)]
