"""The reads behind the gating scheduler's snapshots of changes: each one for
many changes at once, so that a snapshot and its dependencies cost a handful
of queries whatever their number."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select

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


_CHANGES = select(
    _c.number,
    _c.project,
    _c.branch,
    _c.change_key,
    _c.owner_id,
    _c.status,
    _c.topic,
    _c.work_in_progress,
    _c.current_patch_set,
).where(_c.number.in_(bindparam("numbers", expanding=True)))
_HASHTAGS = select(t.change_hashtags).where(
    t.change_hashtags.c.change_number.in_(bindparam("numbers", expanding=True))
)


def _change(row: Any) -> ChangeRow:
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
    )


def changes(conn: Connection, numbers: Sequence[int]) -> dict[int, ChangeRow]:
    if not numbers:
        return {}
    rows = conn.execute(_CHANGES, {"numbers": sorted(set(numbers))})
    return {row.number: _change(row) for row in rows}


def hashtags(conn: Connection, numbers: Sequence[int]) -> dict[int, tuple[str, ...]]:
    if not numbers:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    for row in conn.execute(_HASHTAGS, {"numbers": sorted(set(numbers))}):
        found[row.change_number].append(row.hashtag)
    return {n: tuple(sorted(tags)) for n, tags in found.items()}


def changes_with_keys(conn: Connection, keys: Sequence[str]) -> dict[str, list[int]]:
    """The numbers of the changes carrying each Change-Id, oldest first."""
    if not keys:
        return {}
    found: dict[str, list[int]] = defaultdict(list)
    query = select(_c.number, _c.change_key).where(
        _c.change_key.in_(bindparam("keys", expanding=True))
    )
    for row in conn.execute(query.order_by(_c.number), {"keys": sorted(set(keys))}):
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
    select(_c.number)
    .join(
        t.patch_sets,
        and_(_ps.change_number == _c.number, _ps.number == _c.current_patch_set),
    )
    .where(
        _c.status == "NEW",
        _c.project == bindparam("project"),
        _c.branch == bindparam("branch"),
        or_(
            # One parent: the index on parents finds them.
            _ps.parents == bindparam("sha"),
            # A merge commit: the sha among its parents.
            _ps.parents.like(bindparam("first")),
            _ps.parents.like(bindparam("other")),
        ),
    )
    .order_by(_c.number)
)


def open_children(conn: Connection, project: str, branch: str, sha: str) -> list[int]:
    """Open changes of the branch whose current patch set has `sha` as a parent."""
    rows = conn.execute(
        _CHILDREN,
        {
            "project": project,
            "branch": branch,
            "sha": sha,
            "first": f"{sha} %",
            "other": f"% {sha}%",
        },
    )
    return list(rows.scalars())


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
    select(t.events.c.seq, t.events.c.change_number)
    .where(
        t.events.c.seq > bindparam("seq"),
        t.events.c.type.in_(bindparam("types", expanding=True)),
    )
    .order_by(t.events.c.seq)
)


def changes_touched_after(conn: Connection, seq: int, types: Sequence[str]) -> tuple[int, set[int]]:
    """The changes named by events of `types` after `seq`, and the newest such
    event's seq (`seq` itself when there is none)."""
    newest, numbers = seq, set()
    for row in conn.execute(_TOUCHED, {"seq": seq, "types": sorted(types)}):
        newest = row.seq
        if row.change_number is not None:
            numbers.add(row.change_number)
    return newest, numbers
