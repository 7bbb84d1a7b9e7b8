"""The live console: each output line of a running command reaches the build's
`job-output.txt` while the command runs, not when its task ends.

As in Zuul, the node writes and the executor follows, in three parts:

- **The command module** is Ansible's own, with one hook: every line its
  command prints is also appended, as it comes, to a file of its own in the
  node's console folder, `<remote_tmp>/lockgate-console/` (`remote_tmp` is
  Ansible's per-user scratch folder; the providers give each node, or each
  slot of a static host, its own). The hook only writes when that folder
  exists, which the providers make when they make a node, so commands the
  executor runs on itself (trusted playbooks on `localhost`) leave no files.
  The module is made for each build from the installed ansible-core's
  `command.py` (`write_command_module`), so it follows whatever version is
  installed; `shell` runs it too, in every spelling.
- **The watcher** is a small Python program run *on the node* for each
  command task, by the node's own means: inside the sandbox for a local node,
  over ssh for a static one, so that a job's files are read with the job's
  rights only. It prints every line of the console files as they grow,
  prefixed `L `; when told the task is over (a byte on its stdin) it prints
  what is left, removes the files and says `E <files seen>`.
- **The follower** (`Follower`), in the `lockgate_log` callback, starts the
  watcher when a command task starts on a host and writes its lines to
  job-output.txt; when the task's result arrives it ends the watcher and
  reads the rest. When no console file was seen (a module without the hook,
  a `become` task, which writes elsewhere), the callback prints the task's
  stdout from its result, as before.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# the tasks whose module is the command module (`shell` runs it too)
COMMAND_ACTIONS = frozenset(
    f"{prefix}{name}"
    for prefix in ("", "ansible.builtin.", "ansible.legacy.")
    for name in ("command", "shell")
)
POLL = 0.2  # seconds between the watcher's looks at the console files
READ_LIMIT = 1 << 20  # bytes of one file the watcher reads in one look

# Inserted into Ansible's command module before its `if __name__ == ...`.
MODULE_HOOK = '''
# --- lockgate: the live console ----------------------------------------------
# Each line the command prints is also appended, as it comes, to a file of its
# own in <remote_tmp>/lockgate-console/ when that folder exists (the node's
# provider makes it); the executor's watcher follows the file.
import os as _lg_os
import time as _lg_time

from ansible.module_utils.basic import AnsibleModule as _LgModule


class _LgTee:
    """A pipe of the command whose every whole line is also written to the console."""

    def __init__(self, pipe, sink):
        self._pipe = pipe
        self._sink = sink
        self._partial = b""

    def fileno(self):
        return self._pipe.fileno()

    def read(self, size=-1):
        chunk = self._pipe.read(size)
        if chunk is None:
            return chunk
        text = self._partial + chunk
        if not chunk:  # the end: a last line without a newline counts too
            text, self._partial = (text + b"\\n" if text else b""), b""
        else:
            cut = text.rfind(b"\\n") + 1
            text, self._partial = text[:cut], text[cut:]
        if text:
            try:
                self._sink.write(text)
            except OSError:
                pass
        return chunk

    def close(self):
        self._pipe.close()

    def __getattr__(self, name):
        return getattr(self._pipe, name)


def _lg_console(module):
    folder = _lg_os.path.join(
        _lg_os.path.expanduser(module._remote_tmp or "~/.ansible/tmp"), "lockgate-console"
    )
    try:
        if not _lg_os.path.isdir(folder) or _lg_os.path.islink(folder):
            return None
        name = _lg_os.path.join(folder, "%d-%d.log" % (_lg_time.time_ns(), _lg_os.getpid()))
        flags = _lg_os.O_WRONLY | _lg_os.O_CREAT | _lg_os.O_EXCL | _lg_os.O_APPEND
        return _lg_os.fdopen(_lg_os.open(name, flags | _lg_os.O_NOFOLLOW, 0o600), "ab", 0)
    except (OSError, TypeError):
        return None


_lg_run_command = _LgModule.run_command


def _lg_teeing_run_command(self, *args, **kwargs):
    sink = _lg_console(self)
    if sink is None:
        return _lg_run_command(self, *args, **kwargs)
    given = kwargs.get("before_communicate_callback")

    def tee(cmd):
        cmd.stdout = _LgTee(cmd.stdout, sink)
        cmd.stderr = _LgTee(cmd.stderr, sink)
        if given is not None:
            given(cmd)

    kwargs["before_communicate_callback"] = tee
    try:
        return _lg_run_command(self, *args, **kwargs)
    finally:
        sink.close()


_LgModule.run_command = _lg_teeing_run_command
# --- end of lockgate's hook ---------------------------------------------------

'''

# Runs on the node with its python: `python3 -c WATCHER <console folder>`.
WATCHER = f"""
import os, select, stat, sys
folder = os.path.expanduser(sys.argv[1])
offsets, partial = {{}}, {{}}
out = sys.stdout.buffer
def look(final):
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith('.log'))
    except OSError:
        return 0
    got = 0
    for name in names:
        path = os.path.join(folder, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            os.lseek(fd, offsets.get(name, 0), 0)
            data = os.read(fd, {READ_LIMIT})
        finally:
            os.close(fd)
        offsets[name] = offsets.get(name, 0) + len(data)
        got += len(data)
        text = partial.get(name, b'') + data
        lines = text.split(b'\\n')
        partial[name] = lines.pop()
        if final and len(data) < {READ_LIMIT} and partial[name]:
            lines.append(partial[name])
            partial[name] = b''
        for line in lines:
            out.write(b'L ' + line.replace(b'\\r', b'') + b'\\n')
    out.flush()
    return got
while True:
    if select.select([0], [], [], {POLL})[0]:
        break  # a byte or the end of stdin: the task is over
    look(False)
while look(True):
    pass
for name in offsets:
    try:
        os.unlink(os.path.join(folder, name))
    except OSError:
        pass
out.write(b'E %d\\n' % len(offsets))
out.flush()
"""


def write_command_module(folder: Path) -> Path | None:
    """Ansible's installed command module with the console hook, as
    `folder/command.py` (point ANSIBLE_LIBRARY at `folder`); None when the
    installed module does not have the shape the hook expects."""
    import ansible.modules.command as builtin

    source = Path(builtin.__file__).read_text()
    marker = "\nif __name__ == '__main__':"
    at = source.rfind(marker)
    if at < 0 or "run_command" not in source:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "command.py"
    target.write_text(source[:at] + "\n" + MODULE_HOOK + source[at:])
    return target


def watcher_argv(host_vars: Mapping[str, Any]) -> list[str] | None:
    """The command that runs the watcher on the node these host vars reach
    (through ssh, for a static node), or None when the node has no console
    folder. A local node's watcher runs in its sandbox: see `start_watcher`."""
    folder = host_vars.get("lockgate_console_dir")
    if not folder:
        return None
    python = str(host_vars.get("ansible_python_interpreter") or "/usr/bin/python3")
    remote = [python, "-c", WATCHER, str(folder)]
    if host_vars.get("ansible_connection") != "ssh":
        return remote
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none"]
    argv += shlex.split(str(host_vars.get("ansible_ssh_common_args") or ""))
    if host_vars.get("ansible_ssh_private_key_file"):
        argv += ["-i", str(host_vars["ansible_ssh_private_key_file"])]
    if host_vars.get("ansible_port"):
        argv += ["-p", str(host_vars["ansible_port"])]
    if host_vars.get("ansible_user"):
        argv += ["-l", str(host_vars["ansible_user"])]
    argv += [str(host_vars.get("ansible_host") or "localhost")]
    return [*argv, " ".join(shlex.quote(part) for part in remote)]


def start_watcher(host_vars: Mapping[str, Any]) -> Any:
    """The watcher of the node these host vars reach, started; None when the
    node has no console folder or cannot run it."""
    argv = watcher_argv(host_vars)
    if argv is None:
        return None
    connection = host_vars.get("ansible_connection")
    if connection == "lockgate_sandbox":
        from lockgate.adapters.ansible import node_broker
        from lockgate.adapters.providers import sandbox

        broker = os.environ.get(node_broker.BROKER)
        try:
            if broker:
                # an untrusted playbook, in the executor's sandbox: its nodes are
                # reached through the executor's broker
                return node_broker.stream_through(
                    broker, Path(str(host_vars["lockgate_node_root"])), argv
                )
            return sandbox.popen_in_node(
                Path(str(host_vars["lockgate_node_root"])),
                argv,
                token=str(host_vars.get("lockgate_node_token") or ""),
            )
        except (sandbox.NodeGone, OSError, KeyError):
            return None
    if connection != "ssh":
        return None
    try:
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return None


class Follower:
    """One command task on one host: the watcher's lines go to `on_line` as
    they come; `finish()` ends it and says whether a console file was seen."""

    def __init__(self, process: Any, on_line: Callable[[str], None]) -> None:
        self._process = process
        self._on_line = on_line
        self._seen = 0
        self._thread = threading.Thread(target=self._read, name="console", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for raw in self._process.stdout:
            line = raw.rstrip(b"\n")
            if line.startswith(b"L "):
                self._on_line(line[2:].decode("utf-8", errors="replace"))
            elif line.startswith(b"E "):
                self._seen = int(line[2:] or 0)

    def finish(self, timeout: float = 10.0) -> bool:
        """The task is over: the watcher reads what is left and ends."""
        stdin = self._process.stdin
        if stdin is not None:
            try:
                # a byte, not only EOF: Ansible's forked workers hold copies of the pipe
                stdin.write(b"\n")
                stdin.close()
            except OSError:
                pass
        self._thread.join(timeout)
        if self._thread.is_alive() or self._process.poll() is None:
            try:
                self._process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._thread.join(1)
        return self._seen > 0
