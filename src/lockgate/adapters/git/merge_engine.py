"""Long-lived git processes for one repository: merges, commit reads and commit writes
without a spawn each.

A speculative state is a chain: each merge needs the commit the previous one
made. Spawning `git merge-tree` and `git commit-tree` per step costs a process
start and a repository open each (about 5 ms a merge on a 20k-commit
repository); one `git merge-tree --stdin` kept running answers a merge in well
under a millisecond because it keeps the parsed commits and the object store
open. Commits are written by this process itself as loose objects (the format
is git's, a zlib-compressed `commit <size>\\0<body>` named by its hash), which
the running git processes see at once.

git 2.39's `merge-tree --stdin` holds its output in a stdio buffer until its
input closes, which would deadlock a chain; `stdbuf -o0` makes it write each
result as it is made.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from lockgate.adapters.git.merges import MergeResult
from lockgate.adapters.git.repos import GitError, git_env, parse_commit, signature
from lockgate.core.review.model import CommitInfo, Person

_OBJECT_NAME = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# A small repository's whole history fits; a large one keeps its hot tips.
_COMMIT_CACHE_SIZE = 4096


class _Process:
    """One git process that answers a request written to its stdin on its stdout."""

    def __init__(self, name: str, command: Sequence[str]) -> None:
        self.name = name
        self.command = list(command)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=git_env(),
            )
        return self._proc

    def send(self, line: bytes) -> IO[bytes]:
        proc = self.start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(line)
            proc.stdin.flush()
        except BrokenPipeError:
            self.failed()
        return proc.stdout

    def failed(self) -> None:
        """Raise git's own words for a process that stopped answering."""
        proc = self._proc
        self._proc = None
        message = ""
        if proc is not None:
            proc.kill()
            _out, err = proc.communicate()
            message = err.decode("utf-8", "replace").strip()
        raise GitError(f"git {self.name} stopped: {message or 'no message'}")

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


class MergeEngine:
    """Merges, commit reads and commit writes in one bare repository.

    Thread-safe: each process serves one request at a time under a lock.
    """

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        base = ["git", f"--git-dir={git_dir}"]
        stdbuf = shutil.which("stdbuf")
        if stdbuf is None:
            raise GitError(
                "stdbuf (GNU coreutils) is not installed: the merger needs it to read "
                "git merge-tree --stdin results one at a time; install coreutils"
            )
        merge_tree = ["merge-tree", "--stdin", "--write-tree", "--no-messages", "--name-only"]
        self._merge_tree = _Process("merge-tree", [stdbuf, "-o0", *base, *merge_tree, "-z"])
        self._cat_file = _Process("cat-file", [*base, "cat-file", "--batch"])
        self._merge_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._pending = b""
        self._commits: dict[str, CommitInfo] = {}
        self._hash = _object_hash(git_dir)

    # --- merges -------------------------------------------------------------

    def merge(self, ours: str, theirs: str) -> MergeResult:
        """The 3-way merge of two commits over their merge base (git's ort)."""
        with self._merge_lock:
            out = self._merge_tree.send(f"{ours} {theirs}\n".encode())
            fields = self._read_record(out)
        # --stdin reports 1 for a clean merge, 0 for one with conflicts.
        status, tree, paths = fields[0], fields[1].decode(), fields[2:]
        if status not in (b"0", b"1") or not _OBJECT_NAME.fullmatch(tree):
            raise GitError(f"git merge-tree answered {fields!r} for {ours} {theirs}")
        if status == b"1":
            return MergeResult(tree)
        names = (p.decode("utf-8", "surrogateescape") for p in paths)
        return MergeResult(tree, tuple(dict.fromkeys(names)))

    def _read_record(self, out: IO[bytes]) -> list[bytes]:
        # A record is <status>\0<tree>\0, a \0-ended path per conflict, then \0.
        # A read may end mid-record or (never, one request at a time) run past it.
        while True:
            fields = self._pending.split(b"\0")[:-1]  # the last piece is unfinished
            for end in range(2, len(fields)):
                if fields[end] == b"":
                    used = sum(len(f) + 1 for f in fields[: end + 1])
                    self._pending = self._pending[used:]
                    return fields[:end]
            chunk = out.read1(65536)  # type: ignore[attr-defined]
            if not chunk:
                self._pending = b""
                self._merge_tree.failed()
            self._pending += chunk

    # --- commits ------------------------------------------------------------

    def commit(self, sha: str) -> CommitInfo:
        """The commit `sha` (a full object name); GitError when it is missing."""
        known = self._commits.get(sha)
        if known is not None:
            return known
        with self._read_lock:
            out = self._cat_file.send(f"{sha}\n".encode())
            header = out.readline().decode().split()
            if not header:
                self._cat_file.failed()
            if len(header) < 3:
                raise GitError(f"commit {sha} is not in the repository {self.git_dir.name}")
            body = out.read(int(header[2]) + 1)[:-1]
        if header[1] != "commit":
            raise GitError(f"{sha} is a {header[1]}, not a commit")
        return self._remember(parse_commit(header[0], body))

    def _remember(self, commit: CommitInfo) -> CommitInfo:
        if len(self._commits) >= _COMMIT_CACHE_SIZE:
            self._commits.pop(next(iter(self._commits)))
        self._commits[commit.sha] = commit
        return commit

    def write_commit(
        self,
        *,
        tree: str,
        parents: Sequence[str],
        message: str,
        author: Person,
        committer: Person,
    ) -> str:
        """Write a commit object as `git commit-tree` would, byte for byte."""
        lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
        lines.append(f"author {signature(author)}")
        lines.append(f"committer {signature(committer)}")
        body = ("\n".join(lines) + "\n\n" + message).encode()
        sha = self.write_object("commit", body)
        self._remember(parse_commit(sha, body))
        return sha

    def write_object(self, kind: str, body: bytes) -> str:
        data = f"{kind} {len(body)}\0".encode() + body
        sha = hashlib.new(self._hash, data).hexdigest()
        path = self.git_dir / "objects" / sha[:2] / sha[2:]
        if path.exists():
            return sha
        path.parent.mkdir(exist_ok=True)
        temp = path.parent / f"tmp_obj_{os.getpid()}_{threading.get_ident()}"
        temp.write_bytes(zlib.compress(data))
        temp.chmod(0o444)
        # Another writer may have made the same object meanwhile: it is equal.
        temp.replace(path)
        return sha

    def close(self) -> None:
        with self._merge_lock:
            self._merge_tree.close()
            self._pending = b""
        with self._read_lock:
            self._cat_file.close()


def _object_hash(git_dir: Path) -> str:
    result = subprocess.run(
        ["git", f"--git-dir={git_dir}", "rev-parse", "--show-object-format"],
        capture_output=True,
        env=git_env(),
        check=False,
    )
    if result.returncode != 0:
        raise GitError(
            f"{git_dir} is not a git repository: "
            + result.stderr.decode("utf-8", "replace").strip()
        )
    return result.stdout.decode().strip() or "sha1"
