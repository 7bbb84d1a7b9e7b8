"""Merges, rebases and cherry-picks in a bare repository, without a work tree.

`git merge-tree --write-tree` merges two commits over their merge base and
writes the result as a tree (conflicted files with conflict markers in it),
then `git commit-tree` makes the commit. git 2.39's merge-tree has no
`--merge-base`, so a 3-way merge over a chosen base (what a cherry-pick and a
rebase need: the change's parent is the base, the new tip is "ours") is made
by a throwaway commit: `scratch` has the new tip's tree and the change's
parent as its only parent, which makes that parent the merge base of
`scratch` and the change. The throwaway commit has a fixed identity and
date, so the same merge reuses the same object, and no ref ever names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lockgate.adapters.git.repos import RepoStore
from lockgate.core.review.model import CommitInfo, Person

# The throwaway commit's author and committer; every writer of scratch commits
# uses it, so that the same merge makes the same object whoever makes it.
SCRATCH = Person("lockgate", "lockgate@localhost", 946_684_800, 0)
_SCRATCH_ENV = {
    "GIT_AUTHOR_NAME": SCRATCH.name,
    "GIT_AUTHOR_EMAIL": SCRATCH.email,
    "GIT_AUTHOR_DATE": f"{SCRATCH.time} +0000",
    "GIT_COMMITTER_NAME": SCRATCH.name,
    "GIT_COMMITTER_EMAIL": SCRATCH.email,
    "GIT_COMMITTER_DATE": f"{SCRATCH.time} +0000",
}


class MergeRefused(ValueError):
    """A merge git cannot attempt (a root commit onto a branch, a merge commit)."""


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The merged tree, and the paths that conflicted (their files hold conflict
    markers in `tree`); `clean` when there are none."""

    tree: str
    conflicts: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.conflicts


class Merges:
    def __init__(self, repos: RepoStore) -> None:
        self.repos = repos

    def merge(self, project: str, ours: str, theirs: str) -> MergeResult:
        """The 3-way merge of two commits over their merge base."""
        code, out = self.repos.run(
            project,
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            "-z",
            ours,
            theirs,
            allowed=(0, 1),
        )
        fields = out.decode("utf-8", "surrogateescape").split("\0")
        tree = fields[0].strip()
        conflicts = tuple(dict.fromkeys(f for f in fields[1:] if f)) if code == 1 else ()
        return MergeResult(tree, conflicts)

    def pick(self, project: str, commit: CommitInfo, onto: str) -> MergeResult:
        """The tree of `commit`'s own change (against its parent) applied onto `onto`."""
        if not commit.parents:
            raise MergeRefused(
                f"commit {commit.sha[:7]} has no parent: an initial commit cannot be "
                "rebased or cherry-picked onto a branch; merge it instead"
            )
        if len(commit.parents) > 1:
            raise MergeRefused(
                f"commit {commit.sha[:7]} is a merge commit: rebase or cherry-pick it "
                "locally and upload the result"
            )
        base = commit.parents[0]
        if base == onto:
            return MergeResult(commit.tree)
        _code, out = self.repos.run(
            project, "commit-tree", f"{onto}^{{tree}}", "-p", base, input=b"", env=_SCRATCH_ENV
        )
        return self.merge(project, out.decode().strip(), commit.sha)

    def tree_of(self, project: str, rev: str) -> str:
        return self.repos.git(project, "rev-parse", f"{rev}^{{tree}}").strip()

    def commit(
        self,
        project: str,
        *,
        tree: str,
        parents: Sequence[str],
        message: str,
        author: Person,
        committer: Person,
    ) -> CommitInfo:
        sha = self.repos.create_commit(
            project,
            tree=tree,
            parents=parents,
            message=message,
            author=author,
            committer=committer,
        )
        [made] = self.repos.read_commits(project, [sha])
        return made
