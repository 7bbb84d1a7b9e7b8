"""The bare git repositories of the hosted projects, driven through the git CLI."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lockgate.core.review.model import CommitInfo, FileChange, FileStatus, Person

ZERO_SHA = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_PROJECT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]*(/[A-Za-z0-9_][A-Za-z0-9._+-]*)*$")
_PERSON = re.compile(r"^(.*?) ?<([^>]*)> (-?\d+) ([+-])(\d\d)(\d\d)$")

# Settings every hosted repository carries: pushes to refs/for/* go to the
# proc-receive hook (so no literal refs/for ref is ever created), clients may
# send push options, and commit-graphs stay written.
REPO_CONFIG: Mapping[str, str] = {
    "receive.procReceiveRefs": "refs/for",
    "receive.advertisePushOptions": "true",
    "http.receivepack": "true",
    "core.commitGraph": "true",
    "fetch.writeCommitGraph": "true",
    "gc.writeCommitGraph": "true",
    "uploadpack.allowFilter": "true",
    "repack.writeBitmaps": "true",
    "gc.auto": "0",
}


class GitError(RuntimeError):
    """A git command failed; the message carries git's own words."""


class InvalidProjectName(ValueError):
    pass


def check_project_name(name: str) -> str:
    if (
        not _PROJECT_NAME.match(name)
        or name.endswith(".git")
        or any(part in (".", "..") or part.endswith(".git") for part in name.split("/"))
        or len(name) > 255
    ):
        raise InvalidProjectName(
            f"invalid project name {name!r}: use letters, digits, '.', '_', '-', '+' "
            "in path segments separated by '/', not ending in .git"
        )
    return name


@dataclass(frozen=True, slots=True)
class RefUpdate:
    old: str
    new: str
    ref: str


class RepoStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    # --- repositories -------------------------------------------------------

    def path(self, project: str) -> Path:
        return self.root / f"{check_project_name(project)}.git"

    def exists(self, project: str) -> bool:
        try:
            return (self.path(project) / "HEAD").is_file()
        except InvalidProjectName:
            return False

    def create(self, project: str, *, head_branch: str = "master") -> Path:
        path = self.path(project)
        if (path / "HEAD").exists():
            raise GitError(f"repository for {project} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._run(None, "init", "--bare", "--quiet", f"--initial-branch={head_branch}", str(path))
        self.configure(project)
        return path

    def configure(self, project: str) -> None:
        for key, value in REPO_CONFIG.items():
            self.git(project, "config", key, value)

    def git(self, project: str, *args: str, input: bytes | None = None) -> str:
        return self._run(self.path(project), *args, input=input).decode("utf-8", "replace")

    def git_bytes(self, project: str, *args: str, input: bytes | None = None) -> bytes:
        """Like `git`, for output that is not text, such as blobs."""
        return self._run(self.path(project), *args, input=input)

    def _run(
        self,
        git_dir: Path | None,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
    ) -> bytes:
        _code, out = self._call(git_dir, args, input=input, env=env, allowed=(0,))
        return out

    def run(
        self,
        project: str,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        allowed: tuple[int, ...] = (0,),
    ) -> tuple[int, bytes]:
        """git in the project's repository: (exit status, stdout) for the statuses
        `allowed` (merge-tree exits 1 on a conflict), GitError for any other."""
        return self._call(self.path(project), args, input=input, env=env, allowed=allowed)

    def _call(
        self,
        git_dir: Path | None,
        args: Sequence[str],
        *,
        input: bytes | None,
        env: Mapping[str, str] | None,
        allowed: tuple[int, ...],
    ) -> tuple[int, bytes]:
        command = ["git"]
        if git_dir is not None:
            command += [f"--git-dir={git_dir}"]
        command += list(args)
        result = subprocess.run(
            command, input=input, capture_output=True, env=git_env(env), check=False
        )
        if result.returncode not in allowed:
            stderr = result.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git {' '.join(args[:3])} failed: {stderr}")
        return result.returncode, result.stdout

    # --- refs ---------------------------------------------------------------

    def head(self, project: str) -> str:
        return self.git(project, "symbolic-ref", "HEAD").strip()

    def set_head(self, project: str, ref: str) -> None:
        self.git(project, "symbolic-ref", "HEAD", ref)

    def refs(self, project: str, *patterns: str) -> dict[str, str]:
        out = self.git(project, "for-each-ref", "--format=%(objectname) %(refname)", *patterns)
        result: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition(" ")
            result[ref] = sha
        return result

    def resolve(self, project: str, rev: str) -> str | None:
        try:
            return self.git(
                project, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"
            ).strip()
        except GitError:
            return None

    def update_ref(self, project: str, ref: str, new: str, old: str | None = None) -> None:
        """Point `ref` at `new`; with `old`, only if it still holds it (ZERO_SHA: absent)."""
        args = ["update-ref", ref, new]
        if old is not None:
            args.append(old)
        self.git(project, *args)

    def delete_ref(self, project: str, ref: str) -> None:
        self.git(project, "update-ref", "-d", ref)

    def write_commit_graph(self, project: str) -> None:
        self.git(project, "commit-graph", "write", "--reachable", "--split", "--no-progress")

    # --- commits ------------------------------------------------------------

    def create_commit(
        self,
        project: str,
        *,
        tree: str,
        parents: Sequence[str],
        message: str,
        author: Person,
        committer: Person | None = None,
    ) -> str:
        """A commit object; the committer is the author unless given."""
        if tree == EMPTY_TREE:
            # git knows the empty tree without storing it, but fsck and other
            # git implementations want every tree a commit names written down.
            self.git(project, "mktree", input=b"")
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        committer = committer or author
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": f"{author.time} {_tz(author.tz_minutes)}",
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": f"{committer.time} {_tz(committer.tz_minutes)}",
        }
        return (
            self._run(self.path(project), *args, input=message.encode(), env=env).decode().strip()
        )

    def new_commits(self, project: str, tip: str, limit: int) -> list[str]:
        """Commits reachable from `tip` and from no ref, parents first; at most `limit` + 1."""
        out = self.git(
            project, "rev-list", "--topo-order", f"--max-count={limit + 1}", tip, "--not", "--all"
        )
        return list(reversed(out.split()))

    def commits_between(self, project: str, new: str, old: str | None) -> list[str]:
        """Commits reachable from `new` but not from `old`, newest first."""
        args = ["rev-list", new]
        if old and old != ZERO_SHA:
            args += ["--not", old]
        return self.git(project, *args).split()

    def rev_list(self, project: str, include: str, exclude: Sequence[str], limit: int) -> list[str]:
        """Commits reachable from `include` and from none of `exclude`, newest first;
        at most `limit`."""
        args = ["rev-list", f"--max-count={limit}", include]
        wanted = [e for e in exclude if e and e != ZERO_SHA]
        if wanted:
            args += ["--not", *wanted]
        return self.git(project, *args).split()

    def config_values(self, project: str, key: str) -> list[str]:
        """Every value of a multi-valued setting in the repository's config; [] when unset."""
        try:
            return self.git(project, "config", "--get-all", key).splitlines()
        except GitError:
            return []

    def is_ancestor(self, project: str, ancestor: str, descendant: str) -> bool:
        try:
            self.git(project, "merge-base", "--is-ancestor", ancestor, descendant)
        except GitError:
            return False
        return True

    def read_commits(self, project: str, shas: Sequence[str]) -> list[CommitInfo]:
        if not shas:
            return []
        out = self._run(
            self.path(project), "cat-file", "--batch", input=("\n".join(shas) + "\n").encode()
        )
        commits: list[CommitInfo] = []
        pos = 0
        for sha in shas:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].decode().split()
            if len(header) < 3 or header[1] != "commit":
                raise GitError(f"{sha} is not a commit")
            size = int(header[2])
            body = out[header_end + 1 : header_end + 1 + size]
            pos = header_end + 1 + size + 1
            commits.append(parse_commit(header[0], body))
        return commits

    def file_changes(self, project: str, commit: CommitInfo) -> list[FileChange]:
        """Files the commit changes against its first parent, with line counts and sizes."""
        base = commit.parents[0] if commit.parents else EMPTY_TREE
        raw = self._run(
            self.path(project),
            "diff-tree",
            "-r",
            "-M",
            "--raw",
            "--numstat",
            "-z",
            "--no-commit-id",
            "--no-abbrev",
            base,
            commit.sha,
        )
        return _parse_diff_tree(raw, lambda blobs: self.blob_sizes(project, blobs))

    def read_blob(self, project: str, commit: str, path: str) -> bytes | None:
        """The bytes of `path` in `commit`'s tree, or None when it holds no such file."""
        try:
            kind = self.git(project, "cat-file", "-t", f"{commit}:{path}").strip()
        except GitError:
            return None
        if kind != "blob":
            return None
        return self._run(self.path(project), "cat-file", "blob", f"{commit}:{path}")

    def blob_sizes(self, project: str, blobs: Iterable[str]) -> dict[str, int]:
        wanted = [b for b in dict.fromkeys(blobs) if b != ZERO_SHA]
        if not wanted:
            return {}
        out = self.git(
            project,
            "cat-file",
            "--batch-check=%(objectname) %(objectsize)",
            input=("\n".join(wanted) + "\n").encode(),
        )
        sizes: dict[str, int] = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                sizes[parts[0]] = int(parts[1])
        return sizes


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for the server's own git commands, with `extra` on top."""
    env = {**os.environ, **(extra or {})}
    # Hooks of the server must not leak into its own git calls.
    for name in (
        "GIT_DIR",
        "GIT_QUARANTINE_PATH",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    ):
        env.pop(name, None)
    return env


def signature(person: Person) -> str:
    """`Name <email> seconds +hhmm`, as git writes an author or committer."""
    return f"{person.name} <{person.email}> {person.time} {_tz(person.tz_minutes)}"


def _tz(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def parse_person(text: str) -> Person:
    match = _PERSON.match(text)
    if match is None:
        return Person(text, "", 0, 0)
    name, email, when, sign, hours, minutes = match.groups()
    tz = int(hours) * 60 + int(minutes)
    return Person(name, email, int(when), -tz if sign == "-" else tz)


def parse_commit(sha: str, raw: bytes) -> CommitInfo:
    head, _, message = raw.partition(b"\n\n")
    tree = ""
    parents: list[str] = []
    author = committer = Person("", "", 0, 0)
    for line in head.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        if key == "tree":
            tree = value
        elif key == "parent":
            parents.append(value)
        elif key == "author":
            author = parse_person(value)
        elif key == "committer":
            committer = parse_person(value)
    return CommitInfo(
        sha=sha,
        parents=tuple(parents),
        author=author,
        committer=committer,
        message=message.decode("utf-8", "replace"),
        tree=tree,
    )


def _parse_diff_tree(
    raw: bytes, sizes_of: Callable[[list[str]], dict[str, int]]
) -> list[FileChange]:
    fields = raw.split(b"\0")
    entries: list[tuple[str, str, str, str, str | None]] = []  # status, old, new, path, old_path
    counts: dict[str, tuple[int, int, bool]] = {}
    i = 0
    while i < len(fields):
        field = fields[i].decode("utf-8", "surrogateescape")
        if not field:
            i += 1
            continue
        if field.startswith(":"):
            meta = field[1:].split()
            status = meta[4][0]
            if status in ("R", "C"):
                old_path = fields[i + 1].decode("utf-8", "surrogateescape")
                path = fields[i + 2].decode("utf-8", "surrogateescape")
                i += 3
            else:
                old_path = None
                path = fields[i + 1].decode("utf-8", "surrogateescape")
                i += 2
            entries.append((status, meta[2], meta[3], path, old_path))
            continue
        added, deleted, path = field.split("\t", 2)
        if not path:  # a rename: the two paths follow
            path = fields[i + 2].decode("utf-8", "surrogateescape")
            i += 3
        else:
            i += 1
        binary = added == "-"
        counts[path] = (0 if binary else int(added), 0 if binary else int(deleted), binary)
    sizes: dict[str, int] = sizes_of([e[1] for e in entries] + [e[2] for e in entries])
    changes: list[FileChange] = []
    for status, old_blob, new_blob, path, old_path in entries:
        lines_in, lines_out, binary = counts.get(path, (0, 0, False))
        new_size = sizes.get(new_blob, 0)
        old_size = sizes.get(old_blob, 0)
        changes.append(
            FileChange(
                path=path,
                status=FileStatus(status) if status in "ADRCM" else FileStatus.MODIFIED,
                old_path=old_path,
                lines_inserted=lines_in,
                lines_deleted=lines_out,
                size=new_size,
                size_delta=new_size - old_size,
                binary=binary,
            )
        )
    return sorted(changes, key=lambda c: c.path)
