"""Running one `ansible-playbook`: its environment, its deadline, its end.

Each run starts in a session of its own; a timeout or a cancel kills the
whole process tree it made (the local connection's commands included), see
`kill_group`. What the run came to is read from the
stats the `lockgate_log` callback writes, since ansible-playbook's exit code
4 means both "a host was unreachable" and "the playbook did not parse".
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lockgate.adapters.ansible import console
from lockgate.core.builds.results import ABORTED, ERROR, FAILED, OK, TIMED_OUT, UNREACHABLE

PLUGINS = Path(__file__).parent / "plugins"
# the local provider's lockgate_sandbox connection, next to ours
SANDBOX_PLUGINS = Path(__file__).parent / "connection_plugins"
# the plugins import lockgate: the same one as this process
_SOURCE = Path(__file__).resolve().parents[3]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    status: str  # one of core.builds.results' statuses
    message: str
    seconds: float


def ansible_playbook() -> str:
    """The ansible-playbook of the running Python's environment, else the PATH's."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.exists() else "ansible-playbook"


def ansible_env(
    *,
    job_dir: Path,
    log_dir: Path,
    phase: str,
    playbook: str,
    roles_path: Sequence[Path] = (),
    extra: Mapping[str, str] | None = None,
    ssh_control: SshControl | None = None,
) -> dict[str, str]:
    tmp = job_dir / "tmp"
    tmp.mkdir(exist_ok=True)
    # the command module with the live console's hook, made once per job folder
    library = job_dir / "library"
    if not (library / "command.py").exists():
        console.write_command_module(library)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(job_dir / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="lockgate_log",
        ANSIBLE_CALLBACK_PLUGINS=str(PLUGINS / "callback"),
        ANSIBLE_ACTION_PLUGINS=str(PLUGINS / "action"),  # zuul_return
        ANSIBLE_CONNECTION_PLUGINS=f"{PLUGINS / 'connection'}:{SANDBOX_PLUGINS}",
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_LOCAL_TEMP=str(tmp),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_DEPRECATION_WARNINGS="False",
        ANSIBLE_PYTHON_INTERPRETER="auto_silent",
        # facts gathered once per host and kept for the build's later playbooks
        ANSIBLE_GATHERING="smart",
        ANSIBLE_CACHE_PLUGIN="jsonfile",
        ANSIBLE_CACHE_PLUGIN_CONNECTION=str(job_dir / "facts"),
        ANSIBLE_ROLES_PATH=":".join(str(p) for p in roles_path),
        ANSIBLE_LIBRARY=str(library),
        # modules run on this machine (trusted localhost tasks) unpack here, so
        # that one killed by a timeout leaves nothing in the system's /tmp
        TMPDIR=str(tmp),
        LOCKGATE_LOG_DIR=str(log_dir),
        LOCKGATE_PHASE=phase,
        LOCKGATE_PLAYBOOK=playbook,
        LOCKGATE_STATS=str(job_dir / "stats.json"),
    )
    if ssh_control is not None:
        env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(ssh_control.folder)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_SOURCE), env.get("PYTHONPATH")]))
    if extra:
        env.update(extra)
    return env


class SshControl:
    """Where one build's ssh connections keep their masters (ControlPersist),
    so that its playbooks reuse them: a private folder with a short path (a
    Unix socket's path is at most 108 bytes, which a job folder may pass).
    `close()` ends the masters and removes the folder; nothing outlives the
    build."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="lg-cp-"))

    def close(self) -> None:
        for socket_path in self.folder.iterdir():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    ["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "node"],
                    capture_output=True,
                    timeout=10,
                    check=False,
                )
        shutil.rmtree(self.folder, ignore_errors=True)


def run_playbook(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float | None,
    cancelled: threading.Event,
    stderr_path: Path,
    command: Sequence[str] | None = None,
) -> RunOutcome:
    """Run ansible-playbook with `args`; `command`, when given, is what runs
    instead of the plain ansible-playbook (the untrusted playbooks' sandbox)."""
    stats_path = Path(env["LOCKGATE_STATS"])
    stats_path.unlink(missing_ok=True)
    started = time.monotonic()
    with stderr_path.open("ab") as err:
        proc = subprocess.Popen(
            [*(command or [ansible_playbook()]), *args],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
            start_new_session=True,
        )
    deadline = None if timeout is None else started + timeout
    ended_by = ""
    while True:
        try:
            proc.wait(timeout=0.05)
            break
        except subprocess.TimeoutExpired:
            pass
        if cancelled.is_set():
            ended_by = ABORTED
        elif deadline is not None and time.monotonic() >= deadline:
            ended_by = TIMED_OUT
        if ended_by:
            kill_group(proc)
            break
    seconds = time.monotonic() - started
    if ended_by == ABORTED:
        return RunOutcome(ABORTED, "the build was cancelled", seconds)
    if ended_by == TIMED_OUT:
        return RunOutcome(TIMED_OUT, f"timed out after {timeout:.0f} s", seconds)
    return _outcome(proc.returncode, stats_path, stderr_path, seconds)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the run and everything it started. ansible-playbook's workers each
    call setsid, so one signal to its process group is not enough: the tree
    is found through /proc (children, and anything left in the sessions of
    the run and its workers, orphans included), stopped, then killed."""
    for _round in range(3):
        tree = process_tree(proc.pid)
        if not tree:
            break
        for pid in tree:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGSTOP)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def process_tree(root: int) -> set[int]:
    """`root`, its descendants, and every process in a session one of them leads."""
    parents: dict[int, int] = {}
    sessions: dict[int, int] = {}
    for folder in Path("/proc").iterdir():
        entry = folder.name
        if not entry.isdigit():
            continue
        try:
            stat = (folder / "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields follow the last ')'
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        sessions[int(entry)] = int(fields[3])
    if root not in parents:
        return set()
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if pid not in tree and (ppid in tree or sessions[pid] in tree):
                tree.add(pid)
                grew = True
    return tree


def _outcome(rc: int, stats_path: Path, stderr_path: Path, seconds: float) -> RunOutcome:
    try:
        stats = json.loads(stats_path.read_text())
    except (OSError, ValueError):
        stats = None
    if stats is None:
        # the playbook never ran: a missing file, bad YAML, an unknown module
        return RunOutcome(
            ERROR, _error_text(stderr_path) or f"ansible-playbook exited {rc}", seconds
        )
    unreachable = sorted(h for h, s in stats.items() if s.get("unreachable"))
    failed = sorted(h for h, s in stats.items() if s.get("failures"))
    if unreachable:
        return RunOutcome(UNREACHABLE, "unreachable: " + ", ".join(unreachable), seconds)
    if failed or rc != 0:
        hosts = ", ".join(failed)
        return RunOutcome(FAILED, f"failed on {hosts}" if hosts else f"exited {rc}", seconds)
    return RunOutcome(OK, "", seconds)


def _error_text(stderr_path: Path) -> str:
    try:
        lines = stderr_path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    # ansible's own error lines, without the warnings above them
    picked = [ln for ln in lines if ln.startswith("ERROR!") or ln.startswith("[ERROR]")]
    return " ".join(picked or lines[-3:])[:500]
