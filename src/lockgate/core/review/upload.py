"""What a push to `refs/for/<branch>` does: the pure decision, before any write.

Each new commit, oldest first, becomes a new change or a new patch set of the
open change on the same project and branch that carries its Change-Id. The
whole push is refused, with Gerrit's wording, when any commit cannot be taken;
nothing is written in that case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lockgate.core.review.footers import ChangeIdProblem, change_id_of
from lockgate.core.review.model import ChangeStatus, CommitInfo

MAX_BATCH_COMMITS = 1000


@dataclass(frozen=True, slots=True)
class ExistingChange:
    number: int
    status: ChangeStatus
    current_commit: CommitInfo


@dataclass(frozen=True, slots=True)
class NewChange:
    commit: CommitInfo
    change_id: str


@dataclass(frozen=True, slots=True)
class NewPatchSet:
    change_number: int
    commit: CommitInfo
    change_id: str
    prior: CommitInfo


Step = NewChange | NewPatchSet


@dataclass(frozen=True, slots=True)
class Rejection:
    """`reason` is what git prints after the ref; `details` go to `remote:` lines."""

    reason: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UploadPlan:
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = ()


def abbrev(sha: str) -> str:
    return sha[:7]


def plan_upload(
    *,
    new_commits: Sequence[CommitInfo],
    changes_by_key: Mapping[str, ExistingChange],
    merges_allowed: bool,
    change_url: str,
    hook_hint: str,
) -> UploadPlan | Rejection:
    """Decide the changes and patch sets for `new_commits` (oldest first).

    `changes_by_key` holds the changes of the target project and branch by
    Change-Id, open or closed; `change_url` has a `{number}` placeholder.
    """
    if not new_commits:
        return Rejection("no new changes")
    if len(new_commits) > MAX_BATCH_COMMITS:
        return Rejection(
            "too many commits",
            (f"a push may carry at most {MAX_BATCH_COMMITS} new commits; push them in parts",),
        )
    steps: list[Step] = []
    warnings: list[str] = []
    seen_keys: dict[str, str] = {}
    for commit in new_commits:
        if len(commit.parents) > 1 and not merges_allowed:
            return Rejection(
                "you are not allowed to upload merges",
                (f"commit {abbrev(commit.sha)}: merge commits need the pushMerge permission",),
            )
        found = change_id_of(commit.message)
        if found.problem is not None or found.change_id is None:
            problem = found.problem or ChangeIdProblem.MISSING
            details = [f"commit {abbrev(commit.sha)}: {problem.value}"]
            if problem is ChangeIdProblem.MISSING:
                details += [
                    "",
                    "Hint: to automatically insert a Change-Id, install the hook:",
                    f"  {hook_hint}",
                    "and then amend the commit:",
                    "  git commit --amend --no-edit",
                    "Finally, push your changes again.",
                ]
            return Rejection(problem.value, tuple(details))
        key = found.change_id
        if key in seen_keys:
            return Rejection(
                "same Change-Id in multiple changes",
                (
                    f"commits {abbrev(seen_keys[key])} and {abbrev(commit.sha)} both carry "
                    f"Change-Id {key}; squash them or give each its own Change-Id",
                ),
            )
        seen_keys[key] = commit.sha
        existing = changes_by_key.get(key)
        if existing is None:
            steps.append(NewChange(commit=commit, change_id=key))
            continue
        url = change_url.format(number=existing.number)
        if existing.status is not ChangeStatus.NEW:
            return Rejection(
                f"change {url} closed",
                (
                    f"commit {abbrev(commit.sha)}: change {existing.number} is "
                    f"{existing.status.value.lower()}; a closed change takes no new patch sets. "
                    "Remove the Change-Id line to upload it as a new change.",
                ),
            )
        if existing.current_commit.sha == commit.sha:
            continue
        if _same_content(existing.current_commit, commit):
            warnings.append(
                f"no changes between prior commit {abbrev(existing.current_commit.sha)} "
                f"and new commit {abbrev(commit.sha)}"
            )
        steps.append(
            NewPatchSet(
                change_number=existing.number,
                commit=commit,
                change_id=key,
                prior=existing.current_commit,
            )
        )
    if not steps:
        return Rejection("no new changes")
    return UploadPlan(steps=tuple(steps), warnings=tuple(warnings))


def _same_content(prior: CommitInfo, new: CommitInfo) -> bool:
    return (
        prior.tree == new.tree
        and prior.parents == new.parents
        and prior.message == new.message
        and (prior.author.name, prior.author.email) == (new.author.name, new.author.email)
    )


def patch_set_kind(prior: CommitInfo, new: CommitInfo) -> str:
    """Gerrit's RevisionInfo.kind, as far as it can be told without a merge: a
    REWORK that `may_be_trivial_rebase` still needs a merge to tell apart.

    NO_CODE_CHANGE is Gerrit's "same tree and same parent tree"; the parents'
    trees are not at hand here, so only the same parents count."""
    if prior.tree == new.tree and prior.parents == new.parents:
        return "NO_CHANGE" if prior.message == new.message else "NO_CODE_CHANGE"
    return "REWORK"


def may_be_trivial_rebase(prior: CommitInfo, new: CommitInfo) -> bool:
    """Whether `new` could be `prior` rebased onto another parent without conflict,
    which Gerrit calls a TRIVIAL_REBASE: same message, one parent each, parents
    differ. Only a merge of `prior` onto `new`'s parent can tell for sure."""
    return (
        prior.message == new.message
        and len(prior.parents) == 1
        and len(new.parents) == 1
        and prior.parents != new.parents
    )
