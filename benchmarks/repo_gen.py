"""Generate git repositories of a chosen size quickly with git fast-import."""

from __future__ import annotations

import subprocess
from pathlib import Path


def generate_repo(path: Path, *, commits: int, files: int, progress: bool = True) -> Path:
    """A bare repository with `commits` commits on master, each editing one of `files` files.

    Content is deterministic, so two runs produce the same history.
    """
    if (path / "HEAD").exists():
        return path
    subprocess.run(
        ["git", "init", "--bare", "-q", "--initial-branch=master", str(path)], check=True
    )
    proc = subprocess.Popen(
        ["git", "--git-dir", str(path), "fast-import", "--quiet", "--done"],
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    out = proc.stdin
    contents = [f"file {i}\n" for i in range(files)]
    when = 1_600_000_000
    for n in range(commits):
        if progress and n % 5000 == 0:
            print(f"  generating commit {n}/{commits}", flush=True)
        index = (n * 7919) % files
        contents[index] += f"line {n} of history, edited in commit {n}\n"
        data = contents[index].encode()
        message = f"Commit {n}\n\nEdits file {index}.\n".encode()
        out.write(b"commit refs/heads/master\n")
        out.write(f"mark :{n + 1}\n".encode())
        out.write(f"committer Bench <bench@example.com> {when + n} +0000\n".encode())
        out.write(f"data {len(message)}\n".encode() + message)
        if n > 0:
            out.write(f"from :{n}\n".encode())
        if n == 0:
            for i in range(files):
                blob = contents[i].encode()
                out.write(f"M 100644 inline dir{i % 50}/file{i}.txt\n".encode())
                out.write(f"data {len(blob)}\n".encode() + blob + b"\n")
        else:
            out.write(f"M 100644 inline dir{index % 50}/file{index}.txt\n".encode())
            out.write(f"data {len(data)}\n".encode() + data + b"\n")
        out.write(b"\n")
    out.write(b"done\n")
    out.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    # What a served repository has: packed, with bitmaps and a commit-graph.
    subprocess.run(
        ["git", "--git-dir", str(path), "repack", "-a", "-d", "-q", "--write-bitmap-index"],
        check=True,
    )
    subprocess.run(
        ["git", "--git-dir", str(path), "commit-graph", "write", "--reachable", "--no-progress"],
        check=True,
    )
    return path
