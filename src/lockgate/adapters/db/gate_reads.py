"""The reads behind the gating scheduler's snapshots of changes: each one for
many changes at once, so that a snapshot and its dependencies cost a handful
of queries whatever their number."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from lockgate.adapters.db import tables as t

_c = t.changes.c
_ps = t.patch_sets.c
_f = t.patch_set_footers.c
_files = t.patch_set_files.c

DEPENDS_ON = "Depends-On"  # the key footer_store keeps Depends-On footers under


@dataclass(frozen=True, slots=True)
class ChangeRow:
    number: int
    project: str
    branch: str
    change_key: str
    owner_id: int
    status: str
    topic: str | None
    work_in_progress: bool
    current_patch_set: int
    owner: str = ""  # username
    hashtags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VoteRow:
    """A non-zero vote on a change's current patch set, with its voter."""

    change_number: int
    account_id: int
    label: str
    value: int
    granted_at: int
    username: str
    email: str


@dataclass(frozen=True, slots=True)
class PatchSetRow:
    """What of a patch set never changes: its commit and the files it changes."""

    id: int
    change_number: int
    number: int
    commit_sha: str
    parents: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class CommitOwner:
    """A patch set whose commit is a given sha, with its change's state."""

    sha: str
    change_number: int
    patch_set: int
    project: str
    branch: str
    status: str
    current_patch_set: int


_a = t.accounts.c
_CHANGES = (
    select(
        _c.number,
        _c.project,
        _c.branch,
        _c.change_key,
        _c.owner_id,
        _c.status,
        _c.topic,
        _c.work_in_progress,
        _c.current_patch_set,
        _a.username.label("owner"),
        t.change_hashtags.c.hashtag,
    )
    .outerjoin(t.accounts, _a.id == _c.owner_id)
    # A row per hashtag: one query instead of two.
    .outerjoin(t.change_hashtags, t.change_hashtags.c.change_number == _c.number)
    .where(_c.number.in_(bindparam("numbers", expanding=True)))
)
_v = t.approvals.c
_VOTES = (
    select(
        _v.change_number, _v.account_id, _v.label, _v.value, _v.granted_at, _a.username, _a.email
    )
    .join(t.changes, and_(_c.number == _v.change_number, _c.current_patch_set == _v.patch_set))
    .join(t.accounts, _a.id == _v.account_id)
    .where(_v.change_number.in_(bindparam("numbers", expanding=True)), _v.value != 0)
    .order_by(_v.change_number, _v.granted_at, _v.account_id, _v.label)
)


def _change(row: Any, hashtags: tuple[str, ...]) -> ChangeRow:
    return ChangeRow(
        number=row.number,
        project=row.project,
        branch=row.branch,
        change_key=row.change_key,
        owner_id=row.owner_id,
        status=row.status,
        topic=row.topic,
        work_in_progress=bool(row.work_in_progress),
        current_patch_set=row.current_patch_set,
        owner=row.owner or "",
        hashtags=hashtags,
    )


def current_votes(conn: Connection, numbers: Sequence[int]) -> dict[int, list[VoteRow]]:
    """The non-zero votes on each change's current patch set, oldest first."""
    if not numbers:
        return {}
    found: dict[int, list[VoteRow]] = defaultdict(list)
    for r in conn.execute(_VOTES, {"numbers": sorted(set(numbers))}):
        found[r.change_number].append(
            VoteRow(
                r.change_number,
                r.account_id,
                r.label,
                r.value,
                r.granted_at,
                r.username,
                r.email or "",
            )
        )
    return dict(found)


def changes(conn: Connection, numbers: Sequence[int]) -> dict[int, ChangeRow]:
    if not numbers:
        return {}
    first: dict[int, Any] = {}
    tags: dict[int, list[str]] = defaultdict(list)
    for row in conn.execute(_CHANGES, {"numbers": sorted(set(numbers))}):
        first.setdefault(row.number, row)
        if row.hashtag is not None:
            tags[row.number].append(row.hashtag)
    return {n: _change(row, tuple(sorted(tags[n]))) for n, row in first.items()}


_WITH_KEYS = (
    select(_c.number, _c.change_key)
    .where(_c.change_key.in_(bindparam("keys", expanding=True)))
    .order_by(_c.number)
)


def changes_with_keys(conn: Connection, keys: Sequence[str]) -> dict[str, list[int]]:
    """The numbers of the changes carrying each Change-Id, oldest first."""
    if not keys:
        return {}
    found: dict[str, list[int]] = defaultdict(list)
    for row in conn.execute(_WITH_KEYS, {"keys": sorted(set(keys))}):
        found[row.change_key].append(row.number)
    return dict(found)


_PATCH_SETS = select(
    _ps.id, _ps.change_number, _ps.number, _ps.commit_sha, _ps.parents, _ps.message
).where(_ps.change_number.in_(bindparam("numbers", expanding=True)))


def patch_sets(
    conn: Connection, wanted: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], PatchSetRow]:
    """The patch sets (change, patch set) asked for; missing ones left out."""
    if not wanted:
        return {}
    keys = set(wanted)
    found: dict[tuple[int, int], PatchSetRow] = {}
    for row in conn.execute(_PATCH_SETS, {"numbers": sorted({n for n, _ in keys})}):
        key = (row.change_number, row.number)
        if key in keys:
            found[key] = PatchSetRow(
                row.id,
                row.change_number,
                row.number,
                row.commit_sha,
                tuple(row.parents.split()),
                row.message,
            )
    return found


_FILES = select(_files.patch_set_id, _files.path, _files.old_path, _files.status).where(
    _files.patch_set_id.in_(bindparam("ids", expanding=True))
)


def files(conn: Connection, patch_set_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The paths each patch set changes against its first parent, as the upload
    recorded them (git diff-tree), sorted; a rename names both paths, since
    both matter to a job's file matchers."""
    if not patch_set_ids:
        return {}
    found: dict[int, set[str]] = defaultdict(set)
    for row in conn.execute(_FILES, {"ids": sorted(set(patch_set_ids))}):
        found[row.patch_set_id].add(row.path)
        if row.old_path and row.status == "R":
            found[row.patch_set_id].add(row.old_path)
    return {i: tuple(sorted(paths)) for i, paths in found.items()}


_DEPENDS_ON = (
    select(_f.change_number, _f.patch_set, _f.value)
    .where(_f.change_number.in_(bindparam("numbers", expanding=True)), _f.key == DEPENDS_ON)
    .order_by(_f.change_number, _f.patch_set, _f.position)
)


def depends_on(
    conn: Connection, wanted: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, ...]]:
    """The Depends-On values of each patch set asked for, in message order."""
    if not wanted:
        return {}
    keys = set(wanted)
    found: dict[tuple[int, int], list[str]] = defaultdict(list)
    for row in conn.execute(_DEPENDS_ON, {"numbers": sorted({n for n, _ in keys})}):
        key = (row.change_number, row.patch_set)
        if key in keys:
            found[key].append(row.value)
    return {k: tuple(v) for k, v in found.items()}


_COMMIT_OWNERS = (
    select(
        _ps.commit_sha,
        _ps.change_number,
        _ps.number,
        _c.project,
        _c.branch,
        _c.status,
        _c.current_patch_set,
    )
    .join(t.changes, _c.number == _ps.change_number)
    .where(_ps.commit_sha.in_(bindparam("shas", expanding=True)))
    .order_by(_ps.change_number, _ps.number)
)


def commit_owners(conn: Connection, shas: Sequence[str]) -> list[CommitOwner]:
    """The patch sets whose commit is one of `shas`, of any project."""
    if not shas:
        return []
    return [
        CommitOwner(
            r.commit_sha,
            r.change_number,
            r.number,
            r.project,
            r.branch,
            r.status,
            r.current_patch_set,
        )
        for r in conn.execute(_COMMIT_OWNERS, {"shas": sorted(set(shas))})
    ]


_CHILDREN = (
    select(_c.number, _c.project, _c.branch, _ps.parents)
    .join(
        t.patch_sets,
        and_(_ps.change_number == _c.number, _ps.number == _c.current_patch_set),
    )
    .where(
        # The index on parents finds them. A merge commit's children (parents
        # "a b") are not found: that would take a scan of the branch's changes.
        _ps.parents.in_(bindparam("shas", expanding=True)),
        _c.status == "NEW",
    )
    .order_by(_c.number)
)


def open_children(
    conn: Connection, commits: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], list[int]]:
    """Open changes whose current patch set's one parent is each (project,
    branch, sha), on that project's branch."""
    if not commits:
        return {}
    wanted = set(commits)
    found: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for row in conn.execute(_CHILDREN, {"shas": sorted({sha for _, _, sha in wanted})}):
        key = (row.project, row.branch, row.parents)
        if key in wanted:
            found[key].append(row.number)
    return dict(found)


_OPEN_DEPENDS_ON = (
    select(_f.change_number, _f.value)
    .join(
        t.changes,
        and_(_c.number == _f.change_number, _c.current_patch_set == _f.patch_set),
    )
    .where(_f.key == DEPENDS_ON, _c.status == "NEW")
    .order_by(_f.change_number, _f.position)
)


def open_depends_on(
    conn: Connection, numbers: Sequence[int] | None = None
) -> dict[int, tuple[str, ...]]:
    """The Depends-On values of the current patch set of every open change (of
    `numbers` only, when given); changes without any are left out."""
    query = _OPEN_DEPENDS_ON
    args: dict[str, object] = {}
    if numbers is not None:
        if not numbers:
            return {}
        query = query.where(_f.change_number.in_(bindparam("numbers", expanding=True)))
        args["numbers"] = sorted(set(numbers))
    found: dict[int, list[str]] = defaultdict(list)
    for row in conn.execute(query, args):
        found[row.change_number].append(row.value)
    return {n: tuple(v) for n, v in found.items()}


_TOUCHED = (
    select(t.events.c.change_number)
    .where(
        t.events.c.seq > bindparam("after"),
        t.events.c.seq <= bindparam("upto"),
        t.events.c.type.in_(bindparam("types", expanding=True)),
    )
    .distinct()
)


def changes_touched(conn: Connection, after: int, upto: int, types: Sequence[str]) -> set[int]:
    """The changes named by events of `types` with a seq in (`after`, `upto`]."""
    rows = conn.execute(_TOUCHED, {"after": after, "upto": upto, "types": sorted(types)})
    return {number for (number,) in rows if number is not None}
