"""One file's diff between two commits, and file contents, read with git.

A diff request costs two git processes: `git diff` for the one file (its
header and changed-line hunks, by git's histogram algorithm, which Gerrit's
JGit also uses) and `git cat-file --batch` for both sides' bytes. Hunks come
with `-U0`, so the output stays small however large the file; the lines
around them come from the blobs. Python's sequence matcher was measured as
the alternative and took 13 s on a 20,000-line file of repeated lines that
git diffs in 26 ms.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lockgate.adapters.git.repos import EMPTY_TREE, GitError, RepoStore
from lockgate.core.review.diff import Edit, Whitespace
from lockgate.core.review.model import FileStatus

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_INDEX = re.compile(r"^index [0-9a-f]+\.\.[0-9a-f]+(?: (\d+))?$")

# Gerrit's whitespace modes as git's options; Gerrit compares lines for
# IGNORE_LEADING_AND_TRAILING as git's --ignore-space-change does.
_WHITESPACE_OPTIONS: dict[Whitespace, tuple[str, ...]] = {
    Whitespace.IGNORE_NONE: (),
    Whitespace.IGNORE_TRAILING: ("--ignore-space-at-eol",),
    Whitespace.IGNORE_LEADING_AND_TRAILING: ("--ignore-space-change",),
    Whitespace.IGNORE_ALL: ("--ignore-all-space",),
}


@dataclass(frozen=True, slots=True)
class FilePatch:
    """What git says of one file between two commits. `status` is None when git
    sees no difference (then there is no header either)."""

    status: FileStatus | None
    header: tuple[str, ...] = ()
    edits: tuple[Edit, ...] = ()  # in git's lines, which lack Gerrit's empty last line
    old_mode: str | None = None
    new_mode: str | None = None
    binary: bool = False


class DiffReader:
    def __init__(self, repos: RepoStore) -> None:
        self.repos = repos

    def patch(
        self,
        project: str,
        old: str | None,
        new: str,
        paths: Sequence[str],
        whitespace: Whitespace,
    ) -> FilePatch:
        """The diff of `paths[-1]` from commit `old` (None: the empty tree) to `new`;
        with the file's former name before it in `paths`, git pairs the two as a
        rename."""
        out = self.repos.git(
            project,
            "-c",
            "core.quotePath=false",
            "--literal-pathspecs",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--full-index",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "-M",
            "--histogram",
            "-U0",
            *_WHITESPACE_OPTIONS[whitespace],
            old or EMPTY_TREE,
            new,
            "--",
            *paths,
        )
        return _pick(_sections(out), paths[-1])

    def renamed_from(self, project: str, old: str | None, new: str, path: str) -> str | None:
        """The path that `path` in `new` was renamed from since `old`, if git finds one."""
        out = self.repos.git(
            project,
            "diff",
            "--name-status",
            "-z",
            "-M",
            "--diff-filter=R",
            old or EMPTY_TREE,
            new,
        )
        fields = out.split("\0")
        for i in range(0, len(fields) - 2, 3):
            if fields[i].startswith("R") and fields[i + 2] == path:
                return fields[i + 1]
        return None

    def mode(self, project: str, commit: str, path: str) -> str | None:
        """The git mode of the file `path` in `commit` (100644, 100755, 120000 for a
        symlink), or None when the commit holds no file there."""
        try:
            out = self.repos.git(project, "ls-tree", "-z", commit, "--", path)
        except GitError:
            return None
        for entry in out.split("\0"):
            meta, _, name = entry.partition("\t")
            parts = meta.split()
            if name == path and len(parts) == 3 and parts[1] == "blob":
                return parts[0]
        return None

    def blobs(self, project: str, wanted: Sequence[tuple[str | None, str]]) -> list[bytes | None]:
        """The bytes of each (commit, path), or None where the commit (None: the
        empty tree) holds no such file; one git process for all of them."""
        specs = [f"{commit}:{path}" for commit, path in wanted if commit and "\n" not in path]
        out = b""
        if specs:
            try:
                out = self.repos.git_bytes(
                    project, "cat-file", "--batch", input=("\n".join(specs) + "\n").encode()
                )
            except GitError:
                out = b""
        found: list[bytes | None] = []
        pos = 0
        for commit, path in wanted:
            if not commit or "\n" in path or pos >= len(out):
                found.append(None)
                continue
            end = out.index(b"\n", pos)
            line = out[pos:end]
            pos = end + 1
            if line.endswith((b" missing", b" ambiguous")):
                found.append(None)
                continue
            header = line.split()
            if header[1] != b"blob":  # a tree or a submodule's commit: skip its body
                pos += int(header[2]) + 1
                found.append(None)
                continue
            size = int(header[2])
            found.append(out[pos : pos + size])
            pos += size + 1
        return found


def _sections(out: str) -> list[list[str]]:
    sections: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("diff --git ") or not sections:
            sections.append([])
        sections[-1].append(line)
    return [s for s in sections if s and s[0].startswith("diff --git ")]


def _pick(sections: list[list[str]], path: str) -> FilePatch:
    """The section about `path`: git's only one, or the one naming it as the new file."""
    if not sections:
        return FilePatch(status=None)
    chosen = sections[-1]
    for section in sections:
        if section[0].endswith(f" b/{path}") and not any(
            line.startswith("deleted file mode") for line in section
        ):
            chosen = section
    return _parse(chosen)


def _parse(lines: list[str]) -> FilePatch:
    status = FileStatus.MODIFIED
    header: list[str] = []
    edits: list[Edit] = []
    old_mode = new_mode = None
    binary = False
    for line in lines:
        hunk = _HUNK.match(line)
        if hunk:
            edits.append(_edit(hunk))
            continue
        if edits:
            continue  # hunk bodies: the lines are read from the blobs
        header.append(line)
        if line.startswith("new file mode "):
            status, new_mode = FileStatus.ADDED, line.rsplit(" ", 1)[1]
        elif line.startswith("deleted file mode "):
            status, old_mode = FileStatus.DELETED, line.rsplit(" ", 1)[1]
        elif line.startswith("old mode "):
            old_mode = line.rsplit(" ", 1)[1]
        elif line.startswith("new mode "):
            new_mode = line.rsplit(" ", 1)[1]
        elif line.startswith("rename from "):
            status = FileStatus.RENAMED
        elif line.startswith("copy from "):
            status = FileStatus.COPIED
        elif line.startswith("Binary files "):
            binary = True
        else:
            index = _INDEX.match(line)
            if index and index.group(1):
                old_mode = old_mode or index.group(1)
                new_mode = new_mode or index.group(1)
    return FilePatch(status, tuple(header), tuple(edits), old_mode, new_mode, binary)


def _edit(hunk: re.Match[str]) -> Edit:
    """A `-U0` hunk as 0-based line ranges; a side of length 0 names the line
    after which the other side's lines go."""
    a_line, b_line = int(hunk.group(1)), int(hunk.group(3))
    a_count = 1 if hunk.group(2) is None else int(hunk.group(2))
    b_count = 1 if hunk.group(4) is None else int(hunk.group(4))
    a_start = a_line if a_count == 0 else a_line - 1
    b_start = b_line if b_count == 0 else b_line - 1
    return Edit(a_start, a_start + a_count, b_start, b_start + b_count)
