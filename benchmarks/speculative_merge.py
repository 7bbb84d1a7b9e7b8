"""Building a gate item's speculative state without a work tree, against a work
tree (the way Zuul's merger does it), in the same run.

    .venv/bin/python -m benchmarks.speculative_merge [--commits 20000] [--files 5000]
        [--changes 20] [--runs 5]

The repository is generated once with fast-import (about nova's size by
default: 20k commits, 5k files, packed, with a commit-graph) and cached in
`.bench/` at the top of the checkout (git-ignored; delete it to regenerate).
Each run works on a `--local` clone of it in a temporary folder, so the cache
never collects the run's objects.

The queue: `--changes` changes, each editing its own file on a base 20, 40, ...
commits behind the tip. Measured, with the median of `--runs`:

- lockgate: `SpeculativeMerger.apply_all` of every change onto the tip, in
  merge mode (the 20th item's state), and `apply` of the last change onto the
  state of the one before (what an item costs when the one ahead is built);
- one spawn per git command: `Merges.merge` (`git merge-tree --write-tree`) and
  `git commit-tree` per change, the engine without the long-lived process;
- a work tree: `git worktree add` at the tip, then `git merge --no-ff` per
  change; the last merge alone is the work tree's incremental cost.

Every run checks that the lockgate state and the work tree's end on the same
tree. Goal: lockgate at least 20x faster than the work tree, for the whole
state and for the incremental step.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.repo_gen import generate_repo
from lockgate.adapters.git.merges import Merges
from lockgate.adapters.git.repos import RepoStore
from lockgate.adapters.git.speculative import MergeStep, SpeculativeMerger
from lockgate.core.review.model import Person

CACHE = Path(__file__).resolve().parent.parent / ".bench"
PROJECT = "bench/nova"
WHO = Person("Bench", "bench@example.com", 1_700_000_000, 0)


def _git(
    git_dir: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> str:
    result = subprocess.run(
        ["git", f"--git-dir={git_dir}", *args] if cwd is None else ["git", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _make_changes(git_dir: Path, count: int, index: Path) -> list[MergeStep]:
    """`count` changes, each editing a file that the branch has not touched since
    the change's base, so that every one merges cleanly."""
    steps: list[MergeStep] = []
    env = {
        "GIT_INDEX_FILE": str(index),
        "GIT_AUTHOR_NAME": WHO.name,
        "GIT_AUTHOR_EMAIL": WHO.email,
        "GIT_AUTHOR_DATE": f"{WHO.time} +0000",
        "GIT_COMMITTER_NAME": WHO.name,
        "GIT_COMMITTER_EMAIL": WHO.email,
        "GIT_COMMITTER_DATE": f"{WHO.time} +0000",
    }
    used: set[str] = set()
    for n in range(count):
        base = _git(git_dir, "rev-parse", f"master~{20 * (n + 1)}")
        touched = set(_git(git_dir, "diff", "--name-only", base, "master").split())
        files = _git(git_dir, "ls-tree", "-r", "--name-only", base).split()
        path = next(f for f in files[n * 97 :] if f not in touched and f not in used)
        used.add(path)
        text = _git(git_dir, "cat-file", "blob", f"{base}:{path}")
        blob = (
            subprocess.run(
                ["git", f"--git-dir={git_dir}", "hash-object", "-w", "--stdin"],
                input=f"{text}\nedited by change {n + 1}\n".encode(),
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .strip()
        )
        _git(git_dir, "read-tree", base, env=env)
        _git(git_dir, "update-index", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = _git(git_dir, "write-tree", env=env)
        message = f"Change {n + 1}: edit {path}"
        sha = _git(git_dir, "commit-tree", tree, "-p", base, "-m", message, env=env)
        steps.append(MergeStep(key=f"{n + 1},1", commit=sha, message=message))
    return steps


def _work_tree(
    git_dir: Path, path: Path, tip: str, steps: list[MergeStep], run: int
) -> dict[str, float | str]:
    env = {
        "GIT_AUTHOR_NAME": "Work Tree",
        "GIT_AUTHOR_EMAIL": f"run{run}@example.com",
        "GIT_COMMITTER_NAME": "Work Tree",
        "GIT_COMMITTER_EMAIL": f"run{run}@example.com",
    }
    start = time.perf_counter()
    _git(git_dir, "worktree", "add", "-q", "--detach", str(path), tip)
    setup = time.perf_counter() - start
    last = 0.0
    for step in steps:
        one = time.perf_counter()
        _git(
            git_dir,
            "merge",
            "-q",
            "--no-ff",
            "-m",
            f"Merge {step.key}",
            step.commit,
            env=env,
            cwd=path,
        )
        last = time.perf_counter() - one
    total = time.perf_counter() - start
    tree = _git(git_dir, "rev-parse", "HEAD^{tree}", cwd=path)
    _git(git_dir, "worktree", "remove", "--force", str(path))
    return {"setup": setup, "total": total, "merges": total - setup, "last": last, "tree": tree}


def _spawns(repos: RepoStore, tip: str, steps: list[MergeStep], run: int) -> float:
    merges = Merges(repos)
    who = Person("Spawn", f"run{run}@example.com", WHO.time, 0)
    start = time.perf_counter()
    head = tip
    for step in steps:
        merged = merges.merge(PROJECT, head, step.commit)
        assert merged.clean, merged.conflicts
        head = repos.create_commit(
            PROJECT, tree=merged.tree, parents=[head, step.commit], message=step.message,
            author=who, committer=who,
        )  # fmt: skip
    return time.perf_counter() - start


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    CACHE.mkdir(exist_ok=True)
    source = CACHE / f"speculative-{args.commits}c-{args.files}f.git"
    print(
        f"repository: {args.commits} commits, {args.files} files (cached in .bench/{source.name})"
    )
    generate_repo(source, commits=args.commits, files=args.files)

    with tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp:
        work = Path(tmp)
        repos = RepoStore(work / "git")
        bare = repos.path(PROJECT)
        bare.parent.mkdir(parents=True)
        subprocess.run(
            ["git", "clone", "-q", "--bare", "--local", str(source), str(bare)], check=True
        )
        repos.configure(PROJECT)
        repos.write_commit_graph(PROJECT)
        tip = _git(bare, "rev-parse", "master")
        steps = _make_changes(bare, args.changes, work / "index")
        print(
            f"queue: {len(steps)} changes on bases 20..{20 * len(steps)} commits behind the tip\n"
        )

        ours_all: list[float] = []
        ours_last: list[float] = []
        spawned: list[float] = []
        trees: list[dict[str, float | str]] = []
        with SpeculativeMerger(repos, ("Lockgate", "run0@example.com")) as merger:
            start = time.perf_counter()
            merger.apply_all(PROJECT, tip, steps[:1], "merge")
            cold = time.perf_counter() - start
            for run in range(args.runs):
                # A new committer each run, so that no run reuses the commits of another.
                merger.committer = ("Lockgate", f"run{run}@example.com")
                start = time.perf_counter()
                results = merger.apply_all(PROJECT, tip, steps, "merge")
                ours_all.append(time.perf_counter() - start)
                heads = [r.head for r in results]
                assert len(heads) == len(steps) and all(heads), results
                before_last = heads[-2] if len(heads) > 1 else tip
                merger.committer = ("Lockgate", f"run{run}-again@example.com")
                start = time.perf_counter()
                last = merger.apply(PROJECT, before_last or tip, steps[-1], "merge")
                ours_last.append(time.perf_counter() - start)
                assert last.head is not None
                spawned.append(_spawns(repos, tip, steps, run))
                trees.append(_work_tree(bare, work / f"tree{run}", tip, steps, run))
                final_tree = _git(bare, "rev-parse", f"{heads[-1]}^{{tree}}")
                if final_tree != trees[-1]["tree"]:
                    raise SystemExit(
                        f"run {run}: lockgate's tree {final_tree} differs from the work tree's"
                    )

    n = len(steps)
    spawn_ms = _median(spawned) * 1000
    tree_ms = _median([float(t["total"]) for t in trees]) * 1000
    setup_ms = _median([float(t["setup"]) for t in trees]) * 1000
    merges_ms = _median([float(t["merges"]) for t in trees]) * 1000
    tree_last_ms = _median([float(t["last"]) for t in trees]) * 1000
    all_ms, last_ms = _median(ours_all) * 1000, _median(ours_last) * 1000
    print(f"the {n}th item's state ({n} merges), median of {args.runs} runs; trees equal in each")
    print(f"  lockgate apply_all          {all_ms:8.1f} ms  {all_ms / n:6.2f} ms a merge")
    print(f"  one spawn per git command   {spawn_ms:8.1f} ms  {spawn_ms / n:6.2f} ms a merge")
    print(f"  work tree, merges           {merges_ms:8.1f} ms  {merges_ms / n:6.2f} ms a merge")
    print(f"  work tree, setup + merges   {tree_ms:8.1f} ms  (worktree add {setup_ms:.0f} ms)")
    print(f"  (lockgate's first call, starting its git processes: {cold * 1000:.1f} ms, 1 merge)")
    print(f"the {n}th step alone, onto the {n - 1}th item's state")
    print(f"  lockgate apply              {last_ms:8.2f} ms")
    print(f"  work tree, one merge        {tree_last_ms:8.2f} ms")
    print("ratios, work tree / lockgate (goal >= 20)")
    print(f"  whole state, with setup     {tree_ms / all_ms:8.1f}x")
    print(f"  whole state, merges only    {merges_ms / all_ms:8.1f}x")
    print(f"  incremental step            {tree_last_ms / last_ms:8.1f}x")
    print(f"one spawn per git command / lockgate: {spawn_ms / all_ms:.1f}x")


if __name__ == "__main__":
    main()
