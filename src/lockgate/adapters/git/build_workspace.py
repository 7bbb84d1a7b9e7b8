"""A build's copies of its projects, made from the site's bare repositories.

Each workspace project is a local clone (objects hard-linked, so cheap) whose
branches are set to the item's frozen heads where the item froze them, and
whose `origin/<branch>` is the state before the item: the merge base of the
frozen head and the branch as the bare repository holds it now. While the
item is in the queue that is the tip the speculative merge started from;
after changes ahead of it landed it is the last commit the two share, which
still leaves `git diff origin/<branch>..<branch>` showing what is under test.

Playbooks and roles come from `export`: the tree of one commit, without a
repository, since job content needs no history.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lockgate.adapters.git.repos import GitError, RepoStore, git_env


@dataclass(frozen=True, slots=True)
class ClonedProject:
    branch: str  # the branch checked out
    commit: str  # its commit
    base: str  # what origin/<branch> points at


def _git(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, input=input, capture_output=True, env=git_env(), check=False
    )
    if result.returncode != 0:
        raise GitError(
            f"git {' '.join(args[:2])} failed: {result.stderr.decode(errors='replace').strip()}"
        )
    return result.stdout.decode(errors="replace")


def branches(repos: RepoStore, project: str) -> dict[str, str]:
    return {
        ref.removeprefix("refs/heads/"): sha
        for ref, sha in repos.refs(project, "refs/heads/").items()
    }


def default_branch(repos: RepoStore, project: str) -> str:
    return repos.head(project).removeprefix("refs/heads/")


def clone(
    repos: RepoStore,
    project: str,
    dest: Path,
    *,
    checkout: str,
    frozen: Mapping[str, str],
) -> ClonedProject:
    """Clone `project` into `dest` with `checkout` checked out; `frozen` maps
    branches of the item's state to their frozen heads."""
    tips = branches(repos, project)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _git("clone", "--quiet", "--no-checkout", "--local", str(repos.path(project)), str(dest))
    commands = []
    bases: dict[str, str] = {}
    for branch, sha in sorted(frozen.items()):
        tip = tips.get(branch)
        base = _merge_base(repos, project, sha, tip) if tip else sha
        bases[branch] = base
        commands.append(f"update refs/heads/{branch} {sha}")
        commands.append(f"update refs/remotes/origin/{branch} {base}")
    if commands:
        _git("update-ref", "--stdin", cwd=dest, input=("\n".join(commands) + "\n").encode())
    commit = frozen.get(checkout) or tips.get(checkout)
    if commit is None:
        raise GitError(f"project {project} has no branch {checkout}")
    if checkout not in frozen:
        _git("update-ref", f"refs/heads/{checkout}", commit, cwd=dest)
    _git("checkout", "--quiet", checkout, cwd=dest)
    _git("config", f"branch.{checkout}.remote", "origin", cwd=dest)
    _git("config", f"branch.{checkout}.merge", f"refs/heads/{checkout}", cwd=dest)
    return ClonedProject(checkout, commit, bases.get(checkout, tips.get(checkout, commit)))


def _merge_base(repos: RepoStore, project: str, head: str, tip: str) -> str:
    if head == tip:
        return tip
    code, out = repos.run(project, "merge-base", head, tip, allowed=(0, 1))
    return out.decode().strip() if code == 0 and out.strip() else tip


def export(repos: RepoStore, project: str, commit: str, dest: Path) -> None:
    """The tree of `commit` as plain files under `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = repos.git_bytes(project, "archive", "--format=tar", commit)
    result = subprocess.run(
        ["tar", "-x", "-C", str(dest)], input=archive, capture_output=True, check=False
    )
    if result.returncode != 0:
        raise GitError(
            f"unpacking {project} at {commit[:12]}: {result.stderr.decode(errors='replace')}"
        )
