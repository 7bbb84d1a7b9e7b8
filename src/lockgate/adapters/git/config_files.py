"""Read a repository's Zuul configuration files: at a commit of a hosted
repository (two git processes), or from a folder on disk."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from lockgate.adapters.git.repos import GitError, RepoStore
from lockgate.core.config.files import candidate_paths, config_files


def read_config_at(
    repos: RepoStore, project: str, commit: str, extra_config_paths: Sequence[str] = ()
) -> list[tuple[str, bytes]]:
    """(path, bytes) of each configuration file of `project` at `commit`,
    in load order: one `ls-tree` over the candidate paths, one
    `cat-file --batch` for their contents."""
    listed = repos.git_bytes(
        project,
        "ls-tree",
        "-r",
        "-z",
        "--name-only",
        "--full-tree",
        commit,
        "--",
        *candidate_paths(extra_config_paths),
    )
    paths = [os.fsdecode(name) for name in listed.split(b"\0") if name]
    wanted = [path for path in config_files(paths, extra_config_paths) if "\n" not in path]
    if not wanted:
        return []
    out = repos.git_bytes(
        project,
        "cat-file",
        "--batch",
        input=("".join(f"{commit}:{path}\n" for path in wanted)).encode(),
    )
    files: list[tuple[str, bytes]] = []
    pos = 0
    for path in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3:
            raise GitError(f"{commit}:{path} could not be read")
        size = int(header[2])
        if header[1] == b"blob":
            files.append((path, out[pos : pos + size]))
        pos += size + 1
    return files


def read_config_in(folder: Path, extra_config_paths: Sequence[str] = ()) -> list[tuple[str, bytes]]:
    """(path, bytes) of each configuration file of a repository checked out
    in `folder`, in load order."""
    paths: list[str] = []
    for candidate in candidate_paths(extra_config_paths):
        target = folder / candidate
        if target.is_file():
            paths.append(candidate)
        elif target.is_dir():
            for dirpath, dirnames, filenames in os.walk(target):
                dirnames.sort()
                base = Path(dirpath).relative_to(folder).as_posix()
                paths.extend(f"{base}/{name}" for name in filenames)
    return [
        (path, (folder / path).read_bytes()) for path in config_files(paths, extra_config_paths)
    ]
