"""Running one untrusted playbook: ansible-playbook in the executor's sandbox,
its nodes reached through the node broker, its log relayed in masked.

The sandbox sees, of the job folder, only what this playbook needs:

| path | inside |
| --- | --- |
| `work/` (workspace, logs) | writable |
| `untrusted/` (its home, tmp, facts, console, stats) | writable |
| `returned/` (`zuul_return`'s results) | writable |
| `content/`, `inventory/untrusted/`, `extra-vars.json`, `ansible.cfg`, `library/` | read-only |
| the playbook's own secrets file, if it has secrets | read-only |

(`library/` holds the command module with the live console's hook) and
nothing else: not `mask.json` (every secret value of the build), not the
trusted playbooks' inventory, facts, or temporary files (so that nothing an
untrusted playbook leaves there is used by a trusted one), not the log
folder. Of the nodes: the test launcher's plain folders (local connection)
are bound writable, SSH nodes bring their key and known-hosts files
(read-only) and the network, and local sandbox nodes are reached through the
broker's socket.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from lockgate.adapters.ansible import untrusted_run
from lockgate.adapters.ansible.executor_sandbox import SandboxBinds, check_available, sandbox_argv
from lockgate.adapters.ansible.log_relay import LogRelay
from lockgate.adapters.ansible.node_broker import BROKER, NodeBroker
from lockgate.adapters.providers.sandbox import JOB_PATH
from lockgate.core.nodes.model import Node
from lockgate.core.secrets import Masker

SCRATCH = "untrusted"
RETURNED = "returned"
BROKER_INSIDE = "/run/lockgate/nodes.sock"
# ansible_env's variables that are lockgate's own (the rest of LOCKGATE_* comes
# from the server's environment and stays out)
_OWN = ("LOCKGATE_PHASE", "LOCKGATE_PLAYBOOK")
_KEY_VARS = ("ansible_ssh_private_key_file", "ansible_private_key_file")
_ARG_VARS = ("ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args")
_FILE_OPTIONS = ("UserKnownHostsFile", "IdentityFile", "GlobalKnownHostsFile")


class UntrustedPlaybook:
    """A context for one run: `command` and `environment` for `run_playbook`."""

    def __init__(
        self,
        job_dir: Path,
        log_dir: Path,
        nodes: Sequence[Node],
        masker: Masker,
        *,
        secrets_file: Path | None = None,
    ) -> None:
        check_available()
        self.job_dir = job_dir
        self.log_dir = log_dir
        self.nodes = nodes
        self.masker = masker
        self.secrets_file = secrets_file
        self.scratch = job_dir / SCRATCH
        self._broker: NodeBroker | None = None
        self._socket_dir: Path | None = None
        self._relay: LogRelay | None = None

    @property
    def work(self) -> Path:
        return self.job_dir / "work"

    def __enter__(self) -> UntrustedPlaybook:
        for name in ("home", "tmp", "log"):
            shutil.rmtree(self.scratch / name, ignore_errors=True)
            (self.scratch / name).mkdir(parents=True)
        (self.scratch / "facts").mkdir(exist_ok=True)
        (self.job_dir / RETURNED).mkdir(exist_ok=True)
        # the callback masks nothing itself: the relay masks every value
        (self.scratch / "mask.json").write_text("[]")
        user = "zuul"
        (self.scratch / "passwd").write_text(
            f"{user}:x:{os.getuid()}:{os.getgid()}:{user}:{self.scratch / 'home'}:/bin/sh\n"
        )
        (self.scratch / "group").write_text(f"{user}:x:{os.getgid()}:\n")
        sandboxed = {
            str(n.connection["lockgate_node_root"]): n.connection.get("lockgate_node_token")
            for n in self.nodes
            if n.connection.get("ansible_connection") == "lockgate_sandbox"
        }
        if sandboxed:
            # a short path of its own: a socket's path has a limit of about 100 bytes
            self._socket_dir = Path(tempfile.mkdtemp(prefix="lockgate-nodes-"))
            self._broker = NodeBroker(self._socket_dir / "nodes.sock", sandboxed)
        self._relay = LogRelay(self.scratch / "log", self.log_dir, self.masker)
        self._relay.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._relay is not None:
            self._relay.stop()
        if self._broker is not None:
            self._broker.close()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    # --- what ansible-playbook sees ---------------------------------------------

    def binds(self) -> SandboxBinds:
        job = self.job_dir
        readable = [
            job / "content",
            job / "inventory" / "untrusted",
            job / "extra-vars.json",
            job / "ansible.cfg",
        ]
        if (job / "library").is_dir():
            # the command module with the live console's hook (ANSIBLE_LIBRARY)
            readable.append(job / "library")
        if self.secrets_file is not None:
            readable.append(self.secrets_file)
        writable = [self.work, self.scratch, job / RETURNED]
        network = False
        for node in self.nodes:
            connection = node.connection
            kind = connection.get("ansible_connection", "ssh")
            if kind == "local" and connection.get("lockgate_node_root"):
                writable.append(Path(str(connection["lockgate_node_root"])))
            elif kind != "lockgate_sandbox":
                network = True
                readable += connection_files(connection)
        files = [(self.scratch / "passwd", "/etc/passwd"), (self.scratch / "group", "/etc/group")]
        if self._broker is not None:
            files.append((self._broker.path, BROKER_INSIDE))
        return SandboxBinds(readable, writable, files, network=network, chdir=self.work)

    def command(self) -> list[str]:
        """bwrap, then Python running ansible-playbook with the restrictions
        (`-P`: the work folder, the current one, is not on its import path)."""
        return sandbox_argv(self.binds(), [sys.executable, "-P", "-m", untrusted_run.__name__])

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """`env` (ansible_env's) without the server's own environment, pointed
        at the sandbox's folders."""
        scratch = self.scratch
        out = {k: v for k, v in env.items() if k.startswith("ANSIBLE_") or k in _OWN}
        python_bin = str(Path(sys.executable).parent)
        source = str(Path(untrusted_run.__file__).resolve().parents[3])
        out.update(
            PATH=f"{python_bin}:{JOB_PATH}",
            HOME=str(scratch / "home"),
            USER="zuul",
            LOGNAME="zuul",
            TMPDIR=str(scratch / "tmp"),
            LANG="C.UTF-8",
            LC_ALL="C.UTF-8",
            PYTHONPATH=source,
            ANSIBLE_LOCAL_TEMP=str(scratch / "tmp"),
            ANSIBLE_CACHE_PLUGIN_CONNECTION=str(scratch / "facts"),
            # ssh's control sockets: a short path (the sandbox's own /tmp), as
            # a socket's path is limited to about 100 bytes
            ANSIBLE_SSH_CONTROL_PATH_DIR="/tmp/ssh",
            LOCKGATE_LOG_DIR=str(scratch / "log"),
            LOCKGATE_STATS=str(scratch / "stats.json"),
            LOCKGATE_MASK=str(scratch / "mask.json"),
            LOCKGATE_RESULTS=str(self.job_dir / RETURNED / "results.json"),
        )
        readable = [
            self.work,
            self.job_dir / "content",
            self.job_dir / "inventory" / "untrusted",
            self.job_dir / "extra-vars.json",
            scratch / "tmp",
        ]
        if self.secrets_file is not None:
            readable.append(self.secrets_file)
        out[untrusted_run.READ_ROOTS] = os.pathsep.join(str(p) for p in readable)
        out[untrusted_run.WRITE_ROOTS] = str(self.work)
        if self._broker is not None:
            out[BROKER] = BROKER_INSIDE
        return out


def connection_files(connection: Mapping[str, Any]) -> list[Path]:
    """The files an SSH connection reads on the executor: its key, and files
    its ssh options name (known hosts)."""
    found = [Path(str(connection[v])) for v in _KEY_VARS if connection.get(v)]
    for var in _ARG_VARS:
        for word in shlex.split(str(connection.get(var) or "")):
            option, _, value = word.partition("=")
            if option in _FILE_OPTIONS and value and value != "/dev/null":
                found.append(Path(value))
    return found
