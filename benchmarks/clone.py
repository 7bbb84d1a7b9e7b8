"""Clone speed through lockgate's smart HTTP against raw git, in the same run.

    .venv/bin/python -m benchmarks.clone [--commits 20000] [--runs 3]

Generates a repository of about 20k commits, serves it from a live lockgate
on a loopback port, then alternates `git clone http://.../proj` with
`git clone --no-local <bare repo>` and prints the medians and their ratio
(raw time / lockgate time: 1.0 is as fast as raw git; the goal is >= 0.9).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.repo_gen import generate_repo
from lockgate.testing.server import live_server


def _clone(source: str, target: Path, *extra: str) -> float:
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(["git", "clone", "-q", *extra, source, str(target)], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp:
        work = Path(tmp)
        print(f"generating a repository of {args.commits} commits, {args.files} files")
        source = generate_repo(work / "source.git", commits=args.commits, files=args.files)
        with live_server(work / "site") as server:
            server.services.projects.create("bench/repo")
            bare = server.services.repos.path("bench/repo")
            subprocess.run(
                ["git", "--git-dir", str(source), "push", "-q", str(bare), "master"], check=True
            )
            subprocess.run(
                ["git", "--git-dir", str(bare), "repack", "-a", "-d", "-q",
                 "--write-bitmap-index"], check=True,
            )
            server.services.repos.write_commit_graph("bench/repo")
            url = f"{server.url}bench/repo"
            raw: list[float] = []
            served: list[float] = []
            _clone(url, work / "warm")  # warm the page cache for both sides
            for run in range(args.runs):
                raw.append(_clone(str(bare), work / "raw", "--no-local"))
                served.append(_clone(url, work / "served"))
                print(f"  run {run + 1}: raw git {raw[-1]:.2f} s, lockgate {served[-1]:.2f} s")
            raw_median = statistics.median(raw)
            served_median = statistics.median(served)
            print(f"clone of {args.commits} commits (median of {args.runs}):")
            print(f"  git clone --no-local   {raw_median:.2f} s")
            print(f"  lockgate smart HTTP    {served_median:.2f} s")
            print(f"  speed ratio lockgate/raw git: {raw_median / served_median:.2f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
