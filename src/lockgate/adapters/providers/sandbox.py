"""Running commands inside a local node: a bubblewrap sandbox over the node's folder.

A node is a folder holding `home/`, `workspace/` and `tmp/` (the only paths a
command may write) and `.lockgate/` (the node's settings, never visible inside).
Every command is its own `bwrap` process: an empty tmpfs root, the host's
system folders bound read-only onto it, a generated /etc with only what
programs need, the node's three folders bound writable, private /proc and /dev,
and new user, pid, ipc, uts, cgroup and (unless the label allows network) net
namespaces.

Why one bwrap per command and not one long-lived sandbox that commands join:
joining another process's namespaces (`nsenter`, setns) needs privileges over
that namespace, and a command that joins does not inherit the limits or the
mounts as bwrap sets them up; a fresh bwrap per command needs nothing but user
namespaces and costs about 10 ms. The price is that a command's background
processes end with it (its pid namespace dies with its first process), so a
daemon started by one task does not survive to the next.

Killing: the outer bwrap process of every command carries the environment
variable LOCKGATE_NODE_ROOT=<node folder>, which nothing inside the sandbox can
change (the sandbox sees neither that process nor its memory). Deleting the
node kills every process with that marker; `--die-with-parent` and the pid
namespace then take down everything the command started.

Limits (per command, set with util-linux `prlimit` inside the namespaces, so
that process counts are those of the command's own user namespace): processes,
address space, CPU seconds, open files, and the size of one file. When the
server runs as root the sandbox runs as an unprivileged user (nobody by default)
because the kernel never applies a process limit to root; that user must be
able to reach the node folder (search permission on its parents).

Disk: the node folder's size (blocks of every file, hard links once) is checked
before each command, every `DISK_POLL` seconds while it runs, and after it; over
the limit, the command is killed and fails, and the node is marked full (it
fails every later command, and `alive()` says no). A command may overshoot by
what it writes in one poll interval, and never by more than one file of the
limit's size, since the file size limit equals the disk limit.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

MARKER = "LOCKGATE_NODE_ROOT"
SETTINGS = ".lockgate"
DISK_POLL = 0.5
HOME = "/home/zuul"
WORKSPACE = "/workspace"
INNER_UID = 1000
DEFAULT_SANDBOX_UID = 65534  # nobody, used when the server runs as root
JOB_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
WRITABLE = {"home": HOME, "workspace": WORKSPACE, "tmp": "/tmp"}
# below the home: Ansible's remote_tmp, and in it the live console's folder
# (adapters/ansible/console.py)
CONSOLE_FOLDER = Path(".ansible/tmp/lockgate-console")

# host folders bound read-only (symlinks, as on merged-/usr systems, are recreated
# as symlinks); the rest of the host is not there at all
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# the only parts of the host's /etc a node sees: what the dynamic linker, name
# resolution, TLS, time zones and shells need; no credentials
ETC_ENTRIES = (
    "alternatives",
    "bash.bashrc",
    "ca-certificates",
    "ca-certificates.conf",
    "debian_version",
    "environment",
    "gai.conf",
    "host.conf",
    "hosts",
    "inputrc",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "locale.alias",
    "localtime",
    "login.defs",
    "magic",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "profile",
    "protocols",
    "python3",
    "python3.11",
    "python3.12",
    "resolv.conf",
    "services",
    "shells",
    "ssl",
    "terminfo",
    "timezone",
)
PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    f"zuul:x:{INNER_UID}:{INNER_UID}:zuul:{HOME}:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
GROUP = f"root:x:0:\nzuul:x:{INNER_UID}:\nnogroup:x:65534:\n"


class SandboxUnavailable(RuntimeError):
    """bubblewrap (or prlimit) is missing or cannot make a sandbox here."""


class NodeGone(RuntimeError):
    """The node's folder or settings are not there (deleted, or a wrong path)."""


@dataclass(frozen=True, slots=True)
class NodeLimits:
    processes: int = 256
    memory_bytes: int = 4 * 1024**3  # address space of each process
    cpu_seconds: int = 3600  # CPU time of each process
    disk_bytes: int = 2 * 1024**3  # the whole node folder
    open_files: int = 4096


@dataclass(frozen=True, slots=True)
class NodeSettings:
    """What `.lockgate/node.json` holds: written by the provider, read by every
    command, so that a playbook's variables can never widen a node's rights."""

    node: str
    token: str
    network: bool
    sandboxed: bool
    uid: int | None  # host uid the sandbox runs as; None: the server's own
    limits: NodeLimits

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> NodeSettings:
        raw = json.loads(text)
        return cls(
            node=raw["node"],
            token=raw["token"],
            network=raw["network"],
            sandboxed=raw["sandboxed"],
            uid=raw["uid"],
            limits=NodeLimits(**raw["limits"]),
        )


def new_token() -> str:
    return secrets.token_hex(16)


def settings_path(root: Path) -> Path:
    return root / SETTINGS / "node.json"


def full_marker(root: Path) -> Path:
    return root / SETTINGS / "disk-full"


def load_settings(root: Path, token: str | None = None) -> NodeSettings:
    try:
        settings = NodeSettings.from_json(settings_path(root).read_text())
    except FileNotFoundError:
        raise NodeGone(f"{root} is not a node folder (no {SETTINGS}/node.json)") from None
    if token is not None and not secrets.compare_digest(token, settings.token):
        raise NodeGone(f"the token given for {root} is not this node's")
    return settings


def make_node_folder(root: Path, settings: NodeSettings) -> None:
    """Create (or complete, when resuming) the node's folder."""
    root.mkdir(mode=0o711, exist_ok=True)
    (root / SETTINGS).mkdir(mode=0o700, exist_ok=True)
    for name in WRITABLE:
        folder = root / name
        folder.mkdir(mode=0o755, exist_ok=True)
        if settings.uid is not None:
            os.chown(folder, settings.uid, settings.uid)
    # the live console's folder: the command module writes its lines there
    folder = root / "home"
    for name in CONSOLE_FOLDER.parts:
        folder = folder / name
        folder.mkdir(mode=0o700, exist_ok=True)
        if settings.uid is not None:
            os.chown(folder, settings.uid, settings.uid)
    target = settings_path(root)
    partial = target.with_suffix(".partial")
    partial.write_text(settings.to_json())
    partial.replace(target)


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def check_sandbox_tools() -> None:
    """Refuse to go on without bubblewrap and prlimit, saying how to install them,
    and make one tiny sandbox to see that this kernel allows it."""
    missing = [tool for tool in ("bwrap", "prlimit") if shutil.which(tool) is None]
    if missing:
        raise SandboxUnavailable(
            f"{' and '.join(missing)} not found on PATH: local nodes run under bubblewrap; "
            "install it with `apt-get install bubblewrap util-linux` (or your system's "
            "packages of the same names), or set the provider option allow_unsandboxed = "
            "true to run jobs on this host without isolation"
        )
    probe = subprocess.run(
        [
            "bwrap",
            "--unshare-all",
            "--ro-bind",
            "/usr",
            "/usr",
            "--symlink",
            "usr/bin",
            "/bin",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "/usr/bin/true",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        raise SandboxUnavailable(
            "bubblewrap is installed but cannot create a sandbox here "
            f"({probe.stderr.strip() or 'exit ' + str(probe.returncode)}): enable unprivileged "
            "user namespaces (sysctl user.max_user_namespaces > 0; in a container, allow them), "
            "or set allow_unsandboxed = true"
        )


def check_reachable(base: Path, uid: int | None) -> None:
    """The sandbox user must be able to walk to the node folders (bwrap opens them
    as that user)."""
    if uid is None:
        return
    for folder in [base, *base.parents]:
        mode = folder.stat()
        if mode.st_uid == uid:
            continue
        if not mode.st_mode & stat.S_IXOTH:
            raise SandboxUnavailable(
                f"local nodes run as uid {uid}, which cannot enter {folder} (mode "
                f"{stat.filemode(mode.st_mode)}): put the node folder ({base}) where other "
                f"users may pass, or `chmod o+x {folder}`"
            )


def folder_size(root: Path) -> int:
    """Bytes used by every file under `root` (hard links once, symlinks not followed)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    stack = [str(root)]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            key = (info.st_dev, info.st_ino)
            if key in seen:
                continue
            seen.add(key)
            total += info.st_blocks * 512
            if stat.S_ISDIR(info.st_mode):
                stack.append(entry.path)
    return total


def _system_binds() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_PATHS:
        host = Path(path)
        if host.is_symlink():
            args += ["--symlink", str(host.readlink()), path]
        elif host.is_dir():
            args += ["--ro-bind", path, path]
    args += ["--dir", "/etc"]
    for name in ETC_ENTRIES:
        entry = f"/etc/{name}"
        if Path(entry).exists():
            args += ["--ro-bind", entry, entry]
    return args


def _limit_args(limits: NodeLimits) -> list[str]:
    return [
        "prlimit",
        f"--nproc={limits.processes}",
        f"--as={limits.memory_bytes}",
        f"--cpu={limits.cpu_seconds}",
        f"--nofile={limits.open_files}",
        f"--fsize={limits.disk_bytes}",
        "--core=0",
        "--",
    ]


def _environment() -> list[str]:
    values = {
        "PATH": JOB_PATH,
        "HOME": HOME,
        "USER": "zuul",
        "LOGNAME": "zuul",
        "SHELL": "/bin/sh",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp",
    }
    args = ["--clearenv"]
    for key, value in values.items():
        args += ["--setenv", key, value]
    return args


def sandbox_argv(
    root: Path, settings: NodeSettings, argv: Sequence[str]
) -> tuple[list[str], list[int]]:
    """The bwrap command line running `argv` in the node, and the fds it must inherit
    (pipes holding the generated passwd and group files)."""
    fds: list[int] = []
    etc_args: list[str] = []
    for text, dest in ((PASSWD, "/etc/passwd"), (GROUP, "/etc/group")):
        read, write = os.pipe()
        os.write(write, text.encode())
        os.close(write)
        fds.append(read)
        etc_args += ["--ro-bind-data", str(read), dest]
    args = [
        "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--uid",
        str(INNER_UID),
        "--gid",
        str(INNER_UID),
        "--hostname",
        "node",
    ]
    if settings.network:
        args.append("--share-net")
    # no user namespaces inside: less of the kernel within reach of a job
    args += ["--disable-userns", "--die-with-parent", "--new-session"]
    args += ["--tmpfs", "/", *_system_binds(), *etc_args]
    args += ["--proc", "/proc", "--dev", "/dev", "--dir", "/home"]
    for name, dest in WRITABLE.items():
        args += ["--bind", str(root / name), dest]
    args += ["--remount-ro", "/", "--chdir", HOME, *_environment()]
    args += [*_limit_args(settings.limits), *argv]
    return args, fds


def _unsandboxed_argv(settings: NodeSettings, argv: Sequence[str]) -> list[str]:
    limits = _limit_args(settings.limits)
    limits[0] = shutil.which("prlimit", path=JOB_PATH) or "prlimit"
    return [*limits, *argv]


@dataclass(frozen=True, slots=True)
class Result:
    returncode: int
    stdout: bytes
    stderr: bytes
    # the sandbox itself was killed from outside it (nothing inside can kill
    # the outer bwrap, which reports its command's signal as an exit status):
    # the node was deleted, or the host killed it; the node is lost
    lost: bool = False


def disk_full_message(root: Path, limits: NodeLimits, used: int) -> bytes:
    return (
        f"lockgate: the node's disk limit is exceeded ({used / 1024**2:.1f} MiB used of "
        f"{limits.disk_bytes / 1024**2:.1f} MiB); the command was stopped and the node "
        "is no longer usable\n"
    ).encode()


def run_in_node(
    root: Path,
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    token: str | None = None,
    timeout: float | None = None,
) -> Result:
    """Run `argv` in the node at `root` (in its sandbox unless the node was made
    unsandboxed), watching the disk limit and, if given, a time limit."""
    settings = load_settings(root, token)
    limits = settings.limits
    used = folder_size(root)
    if full_marker(root).exists() or used > limits.disk_bytes:
        full_marker(root).touch()
        return _stopped(1, b"", disk_full_message(root, limits, used))
    process = _start(root, settings, argv, stderr=subprocess.PIPE)
    try:
        result = _watch(process, root, limits, stdin, timeout)
        if settings.sandboxed and result.returncode < 0:
            return Result(result.returncode, result.stdout, result.stderr, lost=True)
        return result
    finally:
        if process.poll() is None:  # interrupted (a task timeout's signal): leave nothing
            _kill_group(process)
            process.wait()


def popen_in_node(
    root: Path, argv: Sequence[str], *, token: str | None = None
) -> subprocess.Popen[bytes]:
    """Start `argv` in the node and return at once, its stdin and stdout pipes
    open and its stderr discarded: for a command whose output is read as it
    comes (the live console's watcher). Nothing watches its disk use or time;
    deleting the node kills it like any other of its commands."""
    settings = load_settings(root, token)
    return _start(root, settings, argv, stderr=subprocess.DEVNULL)


def _start(
    root: Path, settings: NodeSettings, argv: Sequence[str], *, stderr: int
) -> subprocess.Popen[bytes]:
    env = {MARKER: str(root), "PATH": os.environ.get("PATH", JOB_PATH)}
    fds: list[int] = []
    cwd: str | None = None
    if settings.sandboxed:
        command, fds = sandbox_argv(root, settings, argv)
    else:
        command = _unsandboxed_argv(settings, argv)
        cwd = str(root / "home")
        # the job gets the system's PATH, not the server's
        env.update(PATH=JOB_PATH, HOME=str(root / "home"), TMPDIR=str(root / "tmp"))
    uid = settings.uid
    try:
        return subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=cwd,
            pass_fds=fds,
            start_new_session=True,
            user=uid,
            group=uid,
            extra_groups=[] if uid is not None else None,
        )
    finally:
        for fd in fds:
            os.close(fd)


def _watch(
    process: subprocess.Popen[bytes],
    root: Path,
    limits: NodeLimits,
    stdin: bytes | None,
    timeout: float | None,
) -> Result:
    started = time.monotonic()
    data: bytes | None = stdin or b""
    problem = b""
    disk_full = False
    while True:
        try:
            out, err = process.communicate(input=data, timeout=DISK_POLL)
            break
        except subprocess.TimeoutExpired:
            data = None  # communicate keeps writing what is left of the input
            if (used := folder_size(root)) > limits.disk_bytes:
                disk_full = True
                problem = disk_full_message(root, limits, used)
            elif timeout is not None and time.monotonic() - started > timeout:
                problem = f"lockgate: the command ran past {timeout:g} s and was killed\n".encode()
            if problem:
                _kill_group(process)
                out, err = process.communicate()
                break
    if not problem and (used := folder_size(root)) > limits.disk_bytes:
        disk_full = True
        problem = disk_full_message(root, limits, used)
    if disk_full:
        full_marker(root).touch()
    if problem:
        # killed by the limits, not lost: an exit status of its own
        return _stopped(1, err, problem)
    return Result(process.returncode, out, err)


def _stopped(returncode: int, err: bytes, problem: bytes) -> Result:
    """A command the node's limits stopped. Its output is replaced by a module
    result saying so: Ansible trusts a module's JSON over the exit status, and a
    module that finished just before the disk check must still fail."""
    message = problem.decode().strip()
    return Result(returncode, json.dumps({"failed": True, "msg": message}).encode(), err + problem)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def node_processes(root: Path) -> Iterator[int]:
    """Pids of the processes started for the node at `root` (the outer bwrap of each
    command; unsandboxed, every process that kept the marker)."""
    needle = f"{MARKER}={root}".encode()
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            yield int(entry.name)


def kill_node(root: Path) -> int:
    """SIGKILL every process of the node (and its process group); how many were alive."""
    count = 0
    for pid in node_processes(root):
        count += 1
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)
    return count


def remove_folder(root: Path) -> None:
    """Remove the node folder, even where a job took its own permissions away."""

    def retry(function: object, name: str, _error: object) -> None:
        path = Path(name)
        with contextlib.suppress(FileNotFoundError):
            path.parent.chmod(0o700)
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o700)
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()

    if not root.exists():
        return
    if sys.version_info >= (3, 12):
        shutil.rmtree(root, onexc=retry)
    else:
        shutil.rmtree(root, onerror=retry)
