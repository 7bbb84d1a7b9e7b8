"""The pure decision of a push to refs/for/<branch>: which changes and patch sets."""

from __future__ import annotations

import itertools

from lockgate.core.review.model import ChangeStatus, CommitInfo, Person
from lockgate.core.review.upload import (
    MAX_BATCH_COMMITS,
    ExistingChange,
    NewChange,
    NewPatchSet,
    Rejection,
    UploadPlan,
    may_be_trivial_rebase,
    patch_set_kind,
    plan_upload,
)

URL = "https://review.example/c/demo/+/{number}"
HINT = "curl -Lo .git/hooks/commit-msg https://review.example/tools/hooks/commit-msg"
ME = Person("A", "a@example.com", 1_700_000_000, 0)
_shas = (f"{n:040x}" for n in itertools.count(1))


def key(n: int) -> str:
    return "I" + f"{n:040x}"


def make(
    subject: str,
    change_key: str | None,
    *,
    parents: tuple[str, ...] = ("0" * 39 + "f",),
    tree: str = "t" * 40,
    extra: str = "",
) -> CommitInfo:
    message = subject + "\n"
    footer = (f"Change-Id: {change_key}\n" if change_key else "") + extra
    if footer:
        message += "\n" + footer
    return CommitInfo(next(_shas), parents, ME, ME, message, tree)


def plan(
    commits: list[CommitInfo],
    existing: dict[str, ExistingChange] | None = None,
    merges_allowed: bool = False,
) -> UploadPlan | Rejection:
    return plan_upload(
        new_commits=commits,
        changes_by_key=existing or {},
        merges_allowed=merges_allowed,
        change_url=URL,
        hook_hint=HINT,
    )


def test_each_new_commit_becomes_a_change_oldest_first() -> None:
    first = make("one", key(1))
    second = make("two", key(2), parents=(first.sha,))
    result = plan([first, second])
    assert isinstance(result, UploadPlan)
    assert result.steps == (NewChange(first, key(1)), NewChange(second, key(2)))


def test_a_known_change_id_of_an_open_change_makes_a_patch_set() -> None:
    prior = make("one", key(1))
    amended = make("one, better", key(1), tree="u" * 40)
    existing = {key(1): ExistingChange(7, ChangeStatus.NEW, prior)}
    result = plan([amended], existing)
    assert isinstance(result, UploadPlan)
    assert result.steps == (NewPatchSet(7, amended, key(1), prior),)
    assert result.warnings == ()


def test_the_same_commit_again_is_no_new_change() -> None:
    prior = make("one", key(1))
    existing = {key(1): ExistingChange(7, ChangeStatus.NEW, prior)}
    assert plan([prior], existing) == Rejection("no new changes")
    assert plan([]) == Rejection("no new changes")


def test_an_identical_patch_set_is_taken_with_a_warning() -> None:
    prior = make("one", key(1))
    again = CommitInfo(next(_shas), prior.parents, ME, ME, prior.message, prior.tree)
    result = plan([again], {key(1): ExistingChange(7, ChangeStatus.NEW, prior)})
    assert isinstance(result, UploadPlan)
    assert result.warnings == (
        f"no changes between prior commit {prior.sha[:7]} and new commit {again.sha[:7]}",
    )


def test_a_missing_change_id_is_refused_with_the_hook_hint() -> None:
    commit = make("no id", None)
    result = plan([commit])
    assert isinstance(result, Rejection)
    assert result.reason == "missing Change-Id in commit message footer"
    assert result.details[0] == (
        f"commit {commit.sha[:7]}: missing Change-Id in commit message footer"
    )
    assert f"  {HINT}" in result.details


def test_multiple_and_malformed_change_ids_are_refused() -> None:
    two = make("two ids", key(1), extra=f"Change-Id: {key(2)}\n")
    result = plan([two])
    assert isinstance(result, Rejection)
    assert result.reason == "multiple Change-Id lines in commit message footer"
    result = plan([make("bad id", "Ixyz")])
    assert isinstance(result, Rejection)
    assert result.reason == "invalid Change-Id line format in commit message footer"


def test_a_closed_change_takes_no_patch_set() -> None:
    prior = make("one", key(1))
    for status in (ChangeStatus.MERGED, ChangeStatus.ABANDONED):
        result = plan([make("again", key(1))], {key(1): ExistingChange(7, status, prior)})
        assert isinstance(result, Rejection)
        assert result.reason == "change https://review.example/c/demo/+/7 closed"


def test_merges_need_the_permission() -> None:
    merge = make("merge", key(1), parents=("a" * 40, "b" * 40))
    result = plan([merge])
    assert isinstance(result, Rejection)
    assert result.reason == "you are not allowed to upload merges"
    assert isinstance(plan([merge], merges_allowed=True), UploadPlan)


def test_one_change_id_on_two_commits_is_refused() -> None:
    first = make("one", key(1))
    second = make("two", key(1), parents=(first.sha,))
    result = plan([first, second])
    assert isinstance(result, Rejection)
    assert result.reason == "same Change-Id in multiple changes"


def test_nothing_is_planned_when_any_commit_is_refused() -> None:
    good = make("good", key(1))
    bad = make("bad", None, parents=(good.sha,))
    assert isinstance(plan([good, bad]), Rejection)


def test_too_many_commits_are_refused() -> None:
    commits = [make(f"c{n}", key(n)) for n in range(MAX_BATCH_COMMITS + 1)]
    result = plan(commits)
    assert isinstance(result, Rejection)
    assert result.reason == "too many commits"


def test_patch_set_kinds() -> None:
    prior = make("one", key(1))
    same_tree = CommitInfo(next(_shas), prior.parents, ME, ME, "reworded\n", prior.tree)
    assert patch_set_kind(prior, same_tree) == "NO_CODE_CHANGE"
    rework = CommitInfo(next(_shas), prior.parents, ME, ME, prior.message, "u" * 40)
    assert patch_set_kind(prior, rework) == "REWORK"
    # The same tree on another parent: whether that is a trivial rebase takes a merge.
    moved = CommitInfo(next(_shas), ("9" * 40,), ME, ME, prior.message, prior.tree)
    assert patch_set_kind(prior, moved) == "REWORK"
    assert may_be_trivial_rebase(prior, moved)
    assert not may_be_trivial_rebase(prior, same_tree)
    reworded = CommitInfo(next(_shas), ("9" * 40,), ME, ME, "reworded\n", prior.tree)
    assert not may_be_trivial_rebase(prior, reworded)
