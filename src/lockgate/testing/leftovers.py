"""What a test session may have left of its nodes: sandbox processes still
running, node folders still on disk. The session's conftest looks once, when
every test (on every xdist worker) is done, below the folders the session
owns, so that other runs on the same machine are never counted.

A process is a node's when it carries the marker every sandboxed command's
outer process has (`LOCKGATE_NODE_ROOT=<node folder>`), or when it is a
`bwrap` whose command line names one of those folders. A folder is a node's
when it holds the node settings (`.lockgate/node.json`).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lockgate.adapters.providers.sandbox import MARKER, SETTINGS, settings_path


@dataclass(frozen=True, slots=True)
class Leftover:
    kind: str  # "process" or "node folder"
    what: str  # the pid and command, or the folder

    def __str__(self) -> str:
        return f"{self.kind} {self.what}"


def _below(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def node_processes(roots: Iterable[Path]) -> dict[int, str]:
    """Pid -> command of the live processes of nodes below `roots`."""
    wanted = [str(Path(root).resolve()) for root in roots]
    marker = MARKER.encode() + b"="
    found: dict[int, str] = {}
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                environ = handle.read().split(b"\0")
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                argv = [arg.decode(errors="replace") for arg in handle.read().split(b"\0") if arg]
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        if stat[stat.rindex(b")") + 2 :][:1] in (b"Z", b"X"):
            continue  # dead, waiting to be reaped: nothing runs
        roots_named = [
            v[len(marker) :].decode(errors="replace") for v in environ if v.startswith(marker)
        ]
        if argv and Path(argv[0]).name == "bwrap":
            roots_named += argv[1:]
        if any(_below(path, wanted) for path in roots_named):
            found[int(entry.name)] = " ".join(argv)[:200]
    return found


def node_folders(roots: Iterable[Path]) -> list[Path]:
    """Node folders below `roots` (not descending into a node, nor into git's objects)."""
    found: list[Path] = []
    for root in roots:
        for folder, dirs, _files in os.walk(root):
            if SETTINGS in dirs and settings_path(Path(folder)).is_file():
                found.append(Path(folder))
                dirs.clear()
                continue
            dirs[:] = [d for d in dirs if d != "objects"]
    return sorted(found)


def leftovers(roots: Sequence[Path]) -> list[Leftover]:
    found = [Leftover("process", f"{pid}: {cmd}") for pid, cmd in node_processes(roots).items()]
    found += [Leftover("node folder", str(folder)) for folder in node_folders(roots)]
    return found


def kill(pids: Iterable[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
