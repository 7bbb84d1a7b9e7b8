"""Relation chains: changes whose patch sets are ancestors or descendants of another's.

Gerrit groups the patch sets uploaded together and sorts a group by parent
links. lockgate keeps no groups; it follows the parent links of the patch_sets
table directly, with rules that give the same chains in practice:

- ancestors: walk the parents of the patch set through patch sets of open or
  merged changes of the same project. A merged ancestor belongs to the chain
  only if the child was uploaded while it was still open (it was stacked on a
  change under review, not on a branch that already held it), which also stops
  the walk at the branch history.
- descendants: patch sets of open changes with a parent among the commits of
  any patch set of the change (Gerrit shows children of older patch sets too,
  as indirect relations), repeated for each descendant change; of each
  descendant change the newest such patch set is shown. Of a merged change,
  only the descendants uploaded while it was still open are shown, by the
  same rule as for ancestors.

Newest first: descendants (the tip of the stack first), the patch set itself,
then its ancestors. A patch set without relations gets an empty list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.db.relation_store import (
    LinkedPatchSet,
    patch_sets_of_changes,
    patch_sets_with_commits,
    patch_sets_with_parents,
)
from lockgate.core.review.model import Change, ChangeDetail, ChangeStatus, PatchSet

if TYPE_CHECKING:
    from lockgate.services.review import RelatedChange, ReviewService

_OPEN = (ChangeStatus.NEW,)
_OPEN_OR_MERGED = (ChangeStatus.NEW, ChangeStatus.MERGED)
# A chain longer than this is cut: no review stack is that tall, and a bound
# keeps a pathological history from turning one request into a long walk.
_MAX_CHAIN = 1000


def related_changes(
    review: ReviewService, detail: ChangeDetail, patch_set: PatchSet
) -> list[RelatedChange]:
    from lockgate.services.review import RelatedChange

    change = detail.change
    with read_transaction(review.engine) as conn:
        ancestors = _ancestors(conn, change, patch_set)
        descendants = _descendants(conn, change)
    if not ancestors and not descendants:
        return []

    def entry(ps: LinkedPatchSet) -> RelatedChange:
        return RelatedChange(
            project=ps.project,
            change_key=ps.change_key,
            change_number=ps.change_number,
            patch_set=ps.number,
            current_patch_set=ps.current_patch_set,
            status=ps.status.value,
            commit=ps.commit,
        )

    itself = RelatedChange(
        project=change.project,
        change_key=change.change_key,
        change_number=change.number,
        patch_set=patch_set.number,
        current_patch_set=change.current_patch_set,
        status=change.status.value,
        commit=patch_set.commit,
    )
    return [*(entry(d) for d in reversed(descendants)), itself, *(entry(a) for a in ancestors)]


def _pick(candidates: list[LinkedPatchSet], branch: str) -> LinkedPatchSet | None:
    """Of patch sets sharing one commit, the one on the same branch, then the oldest change."""
    if not candidates:
        return None
    return min(candidates, key=lambda ps: (ps.branch != branch, ps.change_number, ps.number))


def _ancestors(conn: Connection, change: Change, start: PatchSet) -> list[LinkedPatchSet]:
    seen = {change.number}
    found: list[LinkedPatchSet] = []
    # (parents to look up, when the child was uploaded)
    pending: list[tuple[tuple[str, ...], int]] = [(start.commit.parents, start.created_at)]
    while pending and len(found) < _MAX_CHAIN:
        parents, child_created = pending.pop(0)
        candidates = patch_sets_with_commits(conn, change.project, parents, _OPEN_OR_MERGED)
        for parent in parents:
            ps = _pick(
                [
                    c
                    for c in candidates
                    if c.commit.sha == parent
                    and c.change_number not in seen
                    and (
                        c.status is ChangeStatus.NEW
                        or c.submitted_at is None
                        or child_created < c.submitted_at
                    )
                ],
                change.branch,
            )
            if ps is None:
                continue
            seen.add(ps.change_number)
            found.append(ps)
            pending.append((ps.commit.parents, ps.created_at))
    return found


def _descendants(conn: Connection, change: Change) -> list[LinkedPatchSet]:
    """Descendant patch sets, nearest first (one per change)."""
    seen = {change.number}
    found: list[LinkedPatchSet] = []
    # Changes whose patch sets' children are looked for, with the status rule
    # of the change they descend from.
    level: list[tuple[int, ChangeStatus, int | None]] = [
        (change.number, change.status, change.submitted_at)
    ]
    while level and len(found) < _MAX_CHAIN:
        commits: dict[str, tuple[ChangeStatus, int | None]] = {}
        for ps in patch_sets_of_changes(conn, [number for number, _, _ in level]):
            commits[ps.commit.sha] = next((s, at) for n, s, at in level if n == ps.change_number)
        merged_parent = any(status is ChangeStatus.MERGED for status, _ in commits.values())
        children = patch_sets_with_parents(
            conn, change.project, list(commits), _OPEN_OR_MERGED if merged_parent else _OPEN
        )
        newest: dict[int, LinkedPatchSet] = {}
        for child in children:
            if child.change_number in seen:
                continue
            if not _stacked_on(child, commits):
                continue
            best = newest.get(child.change_number)
            if best is None or child.number > best.number:
                newest[child.change_number] = child
        level = []
        for number in sorted(newest):
            child = newest[number]
            seen.add(number)
            found.append(child)
            level.append((number, child.status, child.submitted_at))
    return found


def _stacked_on(child: LinkedPatchSet, commits: dict[str, tuple[ChangeStatus, int | None]]) -> bool:
    """Whether `child` belongs to the chain of the patch sets whose commits are
    `commits` (sha → status of their change, when it was submitted)."""
    for sha in child.commit.parents:
        if sha not in commits:
            continue
        status, submitted_at = commits[sha]
        if status is ChangeStatus.NEW and child.status is ChangeStatus.NEW:
            return True
        uploaded_before_merge = submitted_at is not None and child.created_at < submitted_at
        if status is ChangeStatus.MERGED and uploaded_before_merge:
            return True
    return False
