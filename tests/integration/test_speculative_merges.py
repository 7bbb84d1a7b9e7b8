"""The speculative merger on real bare repositories: each merge mode, conflicts,
chains of changes, repeatable results and the refs an item's state is frozen as."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgate.adapters.git.merge_engine import MergeEngine
from lockgate.adapters.git.repos import GitError, RepoStore
from lockgate.adapters.git.speculative import (
    MERGE_MODES,
    MergeStep,
    SpeculativeMerger,
    StepResult,
)
from lockgate.core.review.model import CommitInfo, Person

ADA = Person("Ada", "ada@example.com", 1_700_000_000, 60)
ZUUL = ("Gate Keeper", "gate@example.com")
MERGING = ("merge", "merge-resolve", "merge-recursive", "merge-ort")
COPYING = ("cherry-pick", "squash-merge", "rebase")


class Repo:
    """A bare repository whose commits are written file by file."""

    def __init__(self, repos: RepoStore, project: str = "demo") -> None:
        self.repos = repos
        self.project = project
        self.clock = ADA.time

    def commit(self, parent: str | None, files: dict[str, str], msg: str) -> str:
        entries = []
        for name, text in sorted(files.items()):
            blob = self.repos.git(self.project, "hash-object", "-w", "--stdin", input=text.encode())
            entries.append(f"100644 blob {blob.strip()}\t{name}")
        tree = self.repos.git(self.project, "mktree", input=("\n".join(entries) + "\n").encode())
        self.clock += 60
        when = Person(ADA.name, ADA.email, self.clock, ADA.tz_minutes)
        return self.repos.create_commit(
            self.project, tree=tree.strip(), parents=[parent] if parent else [], message=msg + "\n",
            author=when, committer=when,
        )  # fmt: skip

    def edit(self, parent: str, msg: str, **changes: str) -> str:
        return self.commit(parent, {**self.files(parent), **changes}, msg)

    def files(self, rev: str) -> dict[str, str]:
        names = self.repos.git(self.project, "ls-tree", "-r", "--name-only", rev).split()
        return {n: self.repos.git(self.project, "cat-file", "blob", f"{rev}:{n}") for n in names}

    def info(self, sha: str) -> CommitInfo:
        [commit] = self.repos.read_commits(self.project, [sha])
        return commit


@pytest.fixture
def repos(tmp_path: Path) -> RepoStore:
    store = RepoStore(tmp_path / "git")
    store.create("demo")
    return store


@pytest.fixture
def repo(repos: RepoStore) -> Repo:
    return Repo(repos)


@pytest.fixture
def merger(repos: RepoStore) -> Iterator[SpeculativeMerger]:
    with SpeculativeMerger(repos, ZUUL) as merger:
        yield merger


def step(sha: str, number: int = 1) -> MergeStep:
    return MergeStep(key=f"{number},1", commit=sha, message=f"Change {number}")


def _diverged(repo: Repo) -> tuple[str, str, str]:
    """A base, a branch tip that edited `a`, and a change on the base that edits `b`."""
    base = repo.commit(None, {"a": "a\n", "b": "b\n"}, "base")
    tip = repo.edit(base, "tip", a="a2\n")
    change = repo.edit(base, "change", b="b2\n")
    return base, tip, change


@pytest.mark.parametrize("mode", MERGE_MODES)
def test_a_change_on_an_older_base_lands_on_the_tip_in_every_mode(
    repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    _base, tip, change = _diverged(repo)

    [result] = merger.apply_all("demo", tip, [step(change)], mode)

    assert result.head is not None and result.conflicts == ()
    assert repo.files(result.head) == {"a": "a2\n", "b": "b2\n"}
    made = repo.info(result.head)
    assert made.committer.name == "Gate Keeper"
    # Dated by its inputs: the later of the tip's and the change's dates.
    assert made.committer.time == max(
        repo.info(tip).committer.time, repo.info(change).committer.time
    )
    if mode in MERGING:
        assert made.parents == (tip, change)
        assert made.message == "Merge change 1,1: Change 1\n"
    else:
        assert made.parents == (tip,)
    if mode in ("cherry-pick", "rebase"):
        assert made.author == repo.info(change).author
        assert made.message == "change\n"
    if mode == "squash-merge":
        assert made.message == f"Squash-merge change 1,1: Change 1\n\nSquashed-Commit: {change}\n"


@pytest.mark.parametrize("mode", MERGE_MODES)
def test_a_conflict_names_its_paths_and_gives_no_head(
    repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    base = repo.commit(None, {"a": "a\n", "f": "one\n"}, "base")
    tip = repo.edit(base, "tip", f="tip's line\n")
    change = repo.edit(base, "change", f="change's line\n", g="new\n")

    assert merger.apply("demo", tip, step(change), mode) == StepResult(None, ("f",))


@pytest.mark.parametrize("mode", MERGE_MODES)
def test_the_list_stops_at_the_first_conflict(
    repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    base = repo.commit(None, {"f": "one\n"}, "base")
    first = repo.edit(base, "first", g="g\n")
    clashing = repo.edit(base, "clashing", f="two\n")
    tip = repo.edit(base, "tip", f="three\n")
    never = repo.edit(base, "never", h="h\n")

    results = merger.apply_all(
        "demo", tip, [step(first, 1), step(clashing, 2), step(never, 3)], mode
    )

    assert [r.head is not None for r in results] == [True, False]
    assert results[1].conflicts == ("f",)


@pytest.mark.parametrize("mode", MERGE_MODES)
def test_a_chain_merges_cleanly_behind_its_parent_and_on_it_once_it_landed(
    repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    base = repo.commit(None, {"f": "one\n", "t": "t\n"}, "base")
    tip = repo.edit(base, "tip", t="t2\n")
    parent = repo.edit(base, "parent", f="two\n")
    # The child's diff edits the line its parent wrote: alone it would not apply.
    child = repo.edit(parent, "child", f="three\n")

    results = merger.apply_all("demo", tip, [step(parent, 1), step(child, 2)], mode)
    landed = repo.edit(parent, "tip after the parent merged", t="t2\n")
    on_landed = merger.apply("demo", landed, step(child, 2), mode)
    # The scheduler may also build the child's state from the parent's, later.
    one_by_one = merger.apply("demo", results[0].head or "", step(child, 2), mode)

    assert [r.conflicts for r in results] == [(), ()]
    assert results[1].head is not None and on_landed.head is not None
    assert repo.files(results[1].head) == {"f": "three\n", "t": "t2\n"}
    assert repo.files(on_landed.head) == {"f": "three\n", "t": "t2\n"}
    assert one_by_one == results[1]


@pytest.mark.parametrize("mode", [*MERGING, "squash-merge", "rebase"])
def test_a_child_whose_parent_is_not_ahead_brings_the_parent_along(
    repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    base = repo.commit(None, {"f": "one\n", "t": "t\n"}, "base")
    tip = repo.edit(base, "tip", t="t2\n")
    parent = repo.edit(base, "parent", f="two\n", p="p\n")
    child = repo.edit(parent, "child", f="three\n")

    result = merger.apply("demo", tip, step(child, 2), mode)

    assert result.head is not None
    assert repo.files(result.head) == {"f": "three\n", "p": "p\n", "t": "t2\n"}
    if mode == "rebase":  # both commits replayed, in order
        replayed = repo.info(result.head)
        assert replayed.message == "child\n"
        assert repo.info(replayed.parents[0]).message == "parent\n"
        assert repo.info(replayed.parents[0]).parents == (tip,)


def test_a_cherry_pick_takes_only_the_changes_own_diff(
    repo: Repo, merger: SpeculativeMerger
) -> None:
    base = repo.commit(None, {"f": "one\n", "t": "t\n"}, "base")
    tip = repo.edit(base, "tip", t="t2\n")
    parent = repo.edit(base, "parent", p="p\n")
    child = repo.edit(parent, "child", c="c\n")

    result = merger.apply("demo", tip, step(child, 2), "cherry-pick")

    assert result.head is not None
    assert repo.files(result.head) == {"c": "c\n", "f": "one\n", "t": "t2\n"}


@pytest.mark.parametrize("mode", [*MERGING, "rebase"])
def test_a_change_on_the_tip_itself_is_fast_forwarded_to(
    repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    tip = repo.commit(None, {"a": "a\n"}, "tip")
    change = repo.edit(tip, "change", a="a2\n")
    child = repo.edit(change, "child", a="a3\n")

    results = merger.apply_all("demo", tip, [step(change, 1), step(child, 2)], mode)

    assert [r.head for r in results] == [change, child]


@pytest.mark.parametrize("mode", ["cherry-pick", "squash-merge"])
def test_copying_modes_make_a_new_commit_even_on_the_tip(
    repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    tip = repo.commit(None, {"a": "a\n"}, "tip")
    change = repo.edit(tip, "change", a="a2\n")

    result = merger.apply("demo", tip, step(change), mode)

    assert result.head not in (None, change)
    assert result.head is not None
    made = repo.info(result.head)
    assert made.parents == (tip,) and made.tree == repo.info(change).tree


@pytest.mark.parametrize("mode", MERGE_MODES)
def test_a_commit_already_in_onto_leaves_it_unchanged(
    repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    base = repo.commit(None, {"a": "a\n"}, "base")
    change = repo.edit(base, "change", a="a2\n")
    tip = repo.edit(change, "tip", b="b\n")

    assert merger.apply("demo", tip, step(change), mode) == StepResult(tip)
    # Also when the tip is the change itself.
    assert merger.apply("demo", change, step(change), mode) == StepResult(change)


@pytest.mark.parametrize("mode", MERGE_MODES)
def test_a_commit_in_onto_whose_edit_was_reverted_since_is_not_applied_again(
    repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    base = repo.commit(None, {"a": "a\n"}, "base")
    change = repo.edit(base, "change", a="a2\n")
    tip = repo.edit(change, "revert the change", a="a\n")

    assert merger.apply("demo", tip, step(change), mode) == StepResult(tip)


@pytest.mark.parametrize("mode", MERGING)
def test_a_change_whose_edit_the_tip_already_has_still_gets_its_merge_commit(
    repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    base = repo.commit(None, {"a": "a\n"}, "base")
    change = repo.edit(base, "change", a="a2\n")
    tip = repo.edit(base, "the same edit, made apart", a="a2\n")

    result = merger.apply("demo", tip, step(change), mode)

    assert result.head is not None
    assert repo.info(result.head).parents == (tip, change)


@pytest.mark.parametrize("mode", MERGE_MODES)
def test_the_same_inputs_make_the_same_commit_even_after_a_restart(
    repos: RepoStore, repo: Repo, merger: SpeculativeMerger, mode: str
) -> None:
    _base, tip, change = _diverged(repo)
    other = repo.edit(_base, "other", c="c\n")
    steps = [step(change, 1), step(other, 2)]

    first = merger.apply_all("demo", tip, steps, mode)
    again = merger.apply_all("demo", tip, steps, mode)
    with SpeculativeMerger(repos, ZUUL) as restarted:
        after_restart = restarted.apply_all("demo", tip, steps, mode)
        # The second step alone, onto the first step's head, gives the same commit too.
        incremental = restarted.apply("demo", first[0].head or "", steps[1], mode)

    assert first == again == after_restart
    assert incremental == first[1]
    assert repos.git("demo", "fsck", "--no-dangling").strip() == ""


def test_a_cherry_pick_already_applied_adds_nothing(repo: Repo, merger: SpeculativeMerger) -> None:
    base = repo.commit(None, {"a": "a\n", "b": "b\n"}, "base")
    change = repo.edit(base, "change", a="a2\n")
    tip = repo.edit(base, "tip with the same edit", a="a2\n", b="b2\n")

    assert merger.apply("demo", tip, step(change), "cherry-pick") == StepResult(tip)


def test_an_unknown_mode_is_refused_with_the_modes_that_exist(
    repo: Repo, merger: SpeculativeMerger
) -> None:
    _base, tip, change = _diverged(repo)

    with pytest.raises(ValueError, match="unknown merge mode 'octopus' for project demo") as e:
        merger.apply("demo", tip, step(change), "octopus")
    assert "merge, merge-resolve, merge-recursive, merge-ort, cherry-pick" in str(e.value)


def test_a_missing_commit_is_named(repo: Repo, merger: SpeculativeMerger) -> None:
    _base, tip, _change = _diverged(repo)

    with pytest.raises(ValueError, match=r"change 7,2: '0{40}' is not a commit of project demo"):
        merger.apply("demo", tip, MergeStep("7,2", "0" * 40, "gone"), "merge")


def test_an_items_state_is_published_replaced_and_dropped(
    repos: RepoStore, repo: Repo, merger: SpeculativeMerger
) -> None:
    base, tip, change = _diverged(repo)

    merger.publish("demo", "item-1", {"master": tip, "stable/2024.1": change})
    merger.publish("demo", "item-2", {"master": base})
    assert merger.published("demo", "item-1") == {"master": tip, "stable/2024.1": change}
    assert repos.resolve("demo", "refs/lockgate/items/item-1/stable/2024.1") == change

    merger.publish("demo", "item-1", {"master": change})
    assert merger.published("demo", "item-1") == {"master": change}

    merger.drop("demo", "item-1")
    assert merger.published("demo", "item-1") == {}
    assert merger.published("demo", "item-2") == {"master": base}
    merger.drop("demo", "item-1")  # dropping twice is harmless


def test_a_publish_that_fails_changes_no_ref(
    repos: RepoStore, repo: Repo, merger: SpeculativeMerger
) -> None:
    _base, tip, change = _diverged(repo)
    merger.publish("demo", "item-1", {"master": tip})

    with pytest.raises(GitError):
        merger.publish("demo", "item-1", {"master": change, "stable": "1" * 40})

    assert merger.published("demo", "item-1") == {"master": tip}


@pytest.mark.parametrize("item", ["a/b", "", "..", "x y", "x.lock", "a~1"])
def test_an_item_name_that_is_not_one_ref_component_is_refused(
    merger: SpeculativeMerger, item: str
) -> None:
    with pytest.raises(ValueError, match="invalid item name"):
        merger.publish("demo", item, {})


def test_a_git_process_that_failed_is_started_again(repos: RepoStore, repo: Repo) -> None:
    _base, tip, change = _diverged(repo)
    engine = MergeEngine(repos.path("demo"))
    try:
        with pytest.raises(GitError, match="merge-tree stopped"):
            engine.merge(tip, "1" * 40)
        assert engine.merge(tip, change).clean
    finally:
        engine.close()


def test_a_merger_over_its_limit_of_repositories_starts_their_processes_again(
    repos: RepoStore, repo: Repo, merger: SpeculativeMerger
) -> None:
    repos.create("other")
    other = Repo(repos, "other")
    merger.max_repositories = 1
    _base, tip, change = _diverged(repo)
    _other_base, other_tip, other_change = _diverged(other)

    first = merger.apply("demo", tip, step(change), "merge")
    in_other = merger.apply("other", other_tip, step(other_change), "merge")
    again = merger.apply("demo", tip, step(change), "merge")

    assert first == again and first.head is not None and in_other.head is not None
    assert repo.files(first.head) == other.files(in_other.head) == {"a": "a2\n", "b": "b2\n"}
