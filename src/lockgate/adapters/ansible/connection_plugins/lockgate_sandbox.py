"""Ansible connection plugin for lockgate's local nodes: every command, and every
file copied in or out, runs inside the node's bubblewrap sandbox.

Copies go through the sandbox too (`cat` inside it), not through host paths, so
that a symlink a job leaves in its home cannot point a copy at the host.

In an untrusted playbook's ansible-playbook, which runs in the executor's own
sandbox and cannot see the node folders, each command goes instead through
the executor's node broker (its socket named by LOCKGATE_NODE_BROKER).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from lockgate.adapters.ansible import node_broker
from lockgate.adapters.providers import sandbox

DOCUMENTATION = """
    name: lockgate_sandbox
    short_description: run tasks inside a lockgate local node (bubblewrap sandbox)
    description:
        - Runs commands in the node's sandbox and copies files into and out of it.
        - The node's rights (network, limits, user) come from the node folder's own
          settings, written by the provider; the variables only say which node.
    author: lockgate
    options:
        node_root:
            description: The node's folder on the host.
            required: true
            vars:
                - name: lockgate_node_root
        node_token:
            description: The node's token (proves the inventory was made for this node).
            required: true
            vars:
                - name: lockgate_node_token
        command_timeout:
            description: Seconds after which one command is killed (0 for no limit).
            type: float
            default: 0
            vars:
                - name: lockgate_command_timeout
    extends_documentation_fragment:
        - connection_pipelining
"""

display = Display()


class Connection(ConnectionBase):  # type: ignore[misc]  # ansible ships no types
    transport = "lockgate_sandbox"
    has_pipelining = True
    # the sandbox is a fresh POSIX system: no become, the job user owns its home
    become_methods: frozenset[str] = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._root: Path | None = None
        self._token: str | None = None

    def _connect(self) -> Connection:
        if not getattr(self, "_connected", False):
            root = Path(str(self.get_option("node_root")))
            token = str(self.get_option("node_token"))
            try:
                if not os.environ.get(node_broker.BROKER):  # the broker checks each command
                    sandbox.load_settings(root, token)
            except sandbox.NodeGone as problem:
                raise AnsibleConnectionFailure(f"lockgate node is gone: {problem}") from None
            self._root, self._token = root, token
            display.vvv(
                f"ESTABLISH LOCKGATE SANDBOX FOR {root}", host=self._play_context.remote_addr
            )
            self._connected = True
        return self

    def _run(self, argv: list[str], stdin: bytes | None = None) -> sandbox.Result:
        self._connect()
        assert self._root is not None
        timeout = float(self.get_option("command_timeout") or 0) or None
        broker = os.environ.get(node_broker.BROKER)
        try:
            if broker:
                result = node_broker.run_through(
                    broker, self._root, argv, stdin=stdin, timeout=timeout
                )
            else:
                result = sandbox.run_in_node(
                    self._root, argv, stdin=stdin, token=self._token, timeout=timeout
                )
        except sandbox.NodeGone as problem:
            raise AnsibleConnectionFailure(f"lockgate node is gone: {problem}") from None
        if result.lost:
            # as when an ssh connection drops: the host is unreachable, and the
            # build is retried on a fresh node
            raise AnsibleConnectionFailure(
                f"lockgate node is lost: its sandbox was killed (signal {-result.returncode}) "
                "from outside while it ran a command"
            )
        return result

    def exec_command(
        self, cmd: str, in_data: bytes | None = None, sudoable: bool = True
    ) -> tuple[int, bytes, bytes]:
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        display.vvv(f"EXEC {cmd}", host=self._play_context.remote_addr)
        result = self._run(["/bin/sh", "-c", cmd], in_data)
        return result.returncode, result.stdout, result.stderr

    def put_file(self, in_path: str, out_path: str) -> None:
        super().put_file(in_path, out_path)
        display.vvv(f"PUT {in_path} TO {out_path}", host=self._play_context.remote_addr)
        try:
            data = Path(in_path).read_bytes()
        except FileNotFoundError:
            raise AnsibleFileNotFound(f"file or module does not exist: {in_path}") from None
        result = self._run(["/bin/sh", "-c", f"cat > {shlex.quote(out_path)}"], data)
        if result.returncode != 0:
            raise AnsibleError(
                f"failed to put {in_path} at {out_path} in the node: "
                f"{result.stderr.decode(errors='replace').strip()}"
            )

    def fetch_file(self, in_path: str, out_path: str) -> None:
        super().fetch_file(in_path, out_path)
        display.vvv(f"FETCH {in_path} TO {out_path}", host=self._play_context.remote_addr)
        result = self._run(["/bin/cat", "--", in_path])
        if result.returncode != 0:
            raise AnsibleError(
                f"failed to fetch {in_path} from the node: "
                f"{result.stderr.decode(errors='replace').strip()}"
            )
        Path(out_path).write_bytes(result.stdout)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        self._connected = False
