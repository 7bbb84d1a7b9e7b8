"""The bubblewrap sandbox an untrusted playbook's ansible-playbook runs in, on
the executor, as Zuul runs it.

It sees the host's system folders and the Python that runs lockgate
(read-only), and of the site only what the executor binds for the one
playbook: typically the job's work folder, its playbook content and
inventory, and the playbook's own secrets. Everything else of the site (its
database, keys, git repositories, other builds' folders, the logs) is simply
not there. It has its own user (the same uid, no capabilities), pid, ipc,
uts and cgroup namespaces, a private /proc, /dev and /tmp, and no network
unless a node is reached over one (SSH).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lockgate.adapters.providers.sandbox import ETC_ENTRIES, SYSTEM_PATHS


class ExecutorSandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot make a sandbox on this executor."""


@dataclass
class SandboxBinds:
    """What the sandbox sees of the host besides its system: each path at the
    same place inside, read-only or writable; `files` are (host file, place
    inside) pairs bound read-only, such as the generated /etc/passwd."""

    readable: list[Path] = field(default_factory=list)
    writable: list[Path] = field(default_factory=list)
    files: list[tuple[Path, str]] = field(default_factory=list)
    network: bool = False
    chdir: Path | None = None


@functools.cache
def check_available() -> None:
    """Raise ExecutorSandboxUnavailable, saying how to fix it, unless bubblewrap
    can make the sandbox here (checked once per process)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise ExecutorSandboxUnavailable(
            "bwrap not found on PATH: untrusted playbooks run ansible-playbook under "
            "bubblewrap on the executor; install it with `apt-get install bubblewrap` "
            "(or your system's package of that name)"
        )
    binds = SandboxBinds()
    probe = subprocess.run(
        sandbox_argv(binds, [sys.executable, "-c", "pass"]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        raise ExecutorSandboxUnavailable(
            "bubblewrap is installed but cannot make the executor's sandbox here "
            f"({probe.stderr.strip() or 'exit ' + str(probe.returncode)}): enable "
            "unprivileged user namespaces (sysctl user.max_user_namespaces > 0; in a "
            "container, allow them)"
        )


def python_paths() -> list[Path]:
    """What running this Python with lockgate and Ansible needs: the
    interpreter's and the environment's bin and lib folders (not the whole
    prefix, which may hold other things) and lockgate's own package."""
    import lockgate

    found: list[Path] = []
    prefixes = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    for prefix in sorted(prefixes):
        for name in ("bin", "lib", "lib64", "pyvenv.cfg"):
            path = Path(prefix) / name
            if path.exists() and not _is_system(path):
                found.append(path)
    package = Path(lockgate.__file__).resolve().parent
    if not any(package.is_relative_to(p) for p in found):
        found.append(package)
    return found


def _is_system(path: Path) -> bool:
    real = Path(os.path.realpath(path))
    return any(
        real.is_relative_to(system)
        for system in SYSTEM_PATHS
        if Path(system).is_dir() and not Path(system).is_symlink()
    )


def sandbox_argv(binds: SandboxBinds, argv: Sequence[str]) -> list[str]:
    """The bwrap command line running `argv` in the sandbox."""
    args = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--uid",
        str(os.getuid()),
        "--gid",
        str(os.getgid()),
        "--hostname",
        "executor",
        "--cap-drop",
        "ALL",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
    ]
    if binds.network:
        args.append("--share-net")
    for path in SYSTEM_PATHS:
        host = Path(path)
        if host.is_symlink():
            args += ["--symlink", str(host.readlink()), path]
        elif host.is_dir():
            args += ["--ro-bind", path, path]
    args += ["--dir", "/etc"]
    placed = {inside for _host, inside in binds.files}
    for name in ETC_ENTRIES:
        entry = f"/etc/{name}"
        if Path(entry).exists() and entry not in placed:
            args += ["--ro-bind", entry, entry]
    for host, inside in binds.files:
        args += ["--ro-bind", str(host), inside]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for folder in _existing(python_paths()):
        args += ["--ro-bind", str(folder), str(folder)]
    # the site's paths last, so that a writable folder inside a read-only one wins
    for folder in _existing(binds.readable):
        args += ["--ro-bind", str(folder), str(folder)]
    for folder in _existing(binds.writable):
        args += ["--bind", str(folder), str(folder)]
    args += ["--remount-ro", "/"]
    if binds.chdir is not None:
        args += ["--chdir", str(binds.chdir)]
    return [*args, "--", *argv]


def _existing(paths: Iterable[Path]) -> list[Path]:
    seen: set[Path] = set()
    out: list[Path] = []
    for path in paths:
        if path not in seen and path.exists():
            seen.add(path)
            out.append(path)
    return out
