"""Merges in a bare repository without a work tree: merge-tree over the merge
base, and over a chosen base through a throwaway commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.adapters.git.merges import MergeRefused, Merges
from lockgate.adapters.git.repos import RepoStore
from lockgate.core.review.model import CommitInfo, Person

WHO = Person("Ada", "ada@example.com", 1_700_000_000, 0)


@pytest.fixture
def merges(tmp_path: Path) -> Merges:
    repos = RepoStore(tmp_path / "git")
    repos.create("demo")
    return Merges(repos)


def _commit(
    merges: Merges, parent: CommitInfo | None, files: dict[str, str], msg: str
) -> CommitInfo:
    repos = merges.repos
    entries = []
    for name, text in sorted(files.items()):
        blob = repos.git("demo", "hash-object", "-w", "--stdin", input=text.encode()).strip()
        entries.append(f"100644 blob {blob}\t{name}")
    tree = repos.git("demo", "mktree", input=("\n".join(entries) + "\n").encode()).strip()
    return merges.commit(
        "demo",
        tree=tree,
        parents=[parent.sha] if parent else [],
        message=msg + "\n",
        author=WHO,
        committer=WHO,
    )


def _files(merges: Merges, tree: str) -> dict[str, str]:
    names = merges.repos.git("demo", "ls-tree", "-r", "--name-only", tree).split()
    return {n: merges.repos.git("demo", "cat-file", "blob", f"{tree}:{n}") for n in names}


def test_a_pick_applies_only_the_commits_own_change(merges: Merges) -> None:
    base = _commit(merges, None, {"f": "1\n2\n3\n"}, "base")
    below = _commit(merges, base, {"f": "1\n2\n3\n", "below": "x\n"}, "below")
    change = _commit(merges, below, {"f": "1\n2\nthree\n", "below": "x\n"}, "change")
    tip = _commit(merges, base, {"f": "one\n2\n3\n"}, "tip")

    picked = merges.pick("demo", change, tip.sha)

    assert picked.clean
    # The change's parent is the base: "below" is not brought along.
    assert _files(merges, picked.tree) == {"f": "one\n2\nthree\n"}
    merged = merges.merge("demo", tip.sha, change.sha)
    assert _files(merges, merged.tree) == {"f": "one\n2\nthree\n", "below": "x\n"}


def test_conflicts_name_the_paths_and_keep_markers_in_the_tree(merges: Merges) -> None:
    base = _commit(merges, None, {"f": "a\n", "g": "g\n"}, "base")
    ours = _commit(merges, base, {"f": "ours\n", "g": "g\n"}, "ours")
    theirs = _commit(merges, base, {"f": "theirs\n", "g": "g\n", "h": "h\n"}, "theirs")

    result = merges.merge("demo", ours.sha, theirs.sha)

    assert result.conflicts == ("f",)
    assert "<<<<<<<" in _files(merges, result.tree)["f"]
    assert merges.pick("demo", theirs, ours.sha).conflicts == ("f",)


def test_root_and_merge_commits_are_not_picked(merges: Merges) -> None:
    root = _commit(merges, None, {"f": "a\n"}, "root")
    other = _commit(merges, root, {"f": "b\n"}, "other")
    with pytest.raises(MergeRefused, match="no parent"):
        merges.pick("demo", root, other.sha)
    both = merges.commit(
        "demo",
        tree=other.tree,
        parents=[root.sha, other.sha],
        message="merge\n",
        author=WHO,
        committer=WHO,
    )
    with pytest.raises(MergeRefused, match="merge commit"):
        merges.pick("demo", both, other.sha)
