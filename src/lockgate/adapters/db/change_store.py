"""Changes, patch sets, messages, hashtags and reviewers in the database.

Functions take an open Connection so that a service can record a fact and its
event in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    bindparam,
    delete,
    func,
    insert,
    null,
    select,
    true,
    union_all,
    update,
)

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.driver_sql import DriverStatement
from lockgate.adapters.db.rows import (
    change_from_row,
    commit_values,
    file_from_row,
    file_values,
    message_from_row,
    patch_set_from_row,
)
from lockgate.core.review.model import (
    Change,
    ChangeMessage,
    ChangeStatus,
    CommitInfo,
    FileChange,
    PatchSet,
)


def insert_change(
    conn: Connection,
    *,
    project: str,
    branch: str,
    change_key: str,
    owner_id: int,
    subject: str,
    now: int,
    topic: str | None = None,
    work_in_progress: bool = False,
    private: bool = False,
) -> int:
    """A new change with no patch set yet; returns its number."""
    result = conn.execute(
        insert(t.changes).values(
            project=project,
            branch=branch,
            change_key=change_key,
            owner_id=owner_id,
            subject=subject,
            status=ChangeStatus.NEW.value,
            topic=topic,
            work_in_progress=work_in_progress,
            private=private,
            current_patch_set=0,
            insertions=0,
            deletions=0,
            created_at=now,
            updated_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def lock_change(conn: Connection, number: int) -> Any:
    """The change's row, locked for the rest of the transaction (FOR UPDATE on PostgreSQL;
    SQLite's write transactions are already exclusive)."""
    query = select(t.changes).where(t.changes.c.number == number)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).one_or_none()


def next_patch_set_number(conn: Connection, change_number: int) -> int:
    current = conn.execute(
        select(func.max(t.patch_sets.c.number)).where(t.patch_sets.c.change_number == change_number)
    ).scalar()
    return int(current or 0) + 1


def insert_patch_set(
    conn: Connection,
    *,
    change_number: int,
    number: int,
    commit: CommitInfo,
    uploader_id: int,
    now: int,
    files: Sequence[FileChange],
    kind: str = "REWORK",
    description: str | None = None,
) -> int:
    """Record patch set `number` and make it the change's current one."""
    result = conn.execute(
        insert(t.patch_sets).values(
            change_number=change_number,
            number=number,
            uploader_id=uploader_id,
            created_at=now,
            kind=kind,
            description=description,
            **commit_values(commit),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    patch_set_id = int(key[0])
    if files:
        conn.execute(insert(t.patch_set_files), [file_values(patch_set_id, f) for f in files])
    insertions = sum(f.lines_inserted for f in files)
    deletions = sum(f.lines_deleted for f in files)
    conn.execute(
        update(t.changes)
        .where(t.changes.c.number == change_number)
        .values(
            current_patch_set=number,
            subject=commit.subject,
            insertions=insertions,
            deletions=deletions,
            updated_at=now,
        )
    )
    return patch_set_id


# Statements on the review hot path are built once (building a statement costs
# more than running it on SQLite) and run on the driver (see driver_sql).
_INSERT_MESSAGE = DriverStatement(insert(t.change_messages))


def insert_message(conn: Connection, message: ChangeMessage) -> None:
    _INSERT_MESSAGE.run(
        conn,
        {
            "id": message.id,
            "change_number": message.change_number,
            "author_id": message.author_id,
            "created_at": message.created_at,
            "message": message.message,
            "tag": message.tag,
            "patch_set": message.patch_set,
        },
    )


def add_hashtags(conn: Connection, change_number: int, hashtags: Iterable[str]) -> None:
    existing = set(
        conn.execute(
            select(t.change_hashtags.c.hashtag).where(
                t.change_hashtags.c.change_number == change_number
            )
        ).scalars()
    )
    new = [h for h in dict.fromkeys(hashtags) if h not in existing]
    if new:
        conn.execute(
            insert(t.change_hashtags),
            [{"change_number": change_number, "hashtag": h} for h in new],
        )


def remove_hashtags(conn: Connection, change_number: int, hashtags: Iterable[str]) -> None:
    conn.execute(
        delete(t.change_hashtags).where(
            t.change_hashtags.c.change_number == change_number,
            t.change_hashtags.c.hashtag.in_(list(hashtags)),
        )
    )


def remove_reviewer(conn: Connection, change_number: int, account_id: int) -> bool:
    """Drop a reviewer or CC; returns False when the account was neither."""
    result = conn.execute(
        delete(t.change_reviewers).where(
            t.change_reviewers.c.change_number == change_number,
            t.change_reviewers.c.account_id == account_id,
        )
    )
    return bool(result.rowcount)


_reviewer_key = (
    # Not the column names: an UPDATE reserves those for its SET clause.
    t.change_reviewers.c.change_number == bindparam("key_change"),
    t.change_reviewers.c.account_id == bindparam("key_account"),
)
_REVIEWER_STATE = DriverStatement(select(t.change_reviewers.c.state).where(*_reviewer_key))
_UPDATE_REVIEWER = DriverStatement(
    update(t.change_reviewers).where(*_reviewer_key).values(state=bindparam("new_state"))
)
_INSERT_REVIEWER = DriverStatement(insert(t.change_reviewers))


def set_reviewer(conn: Connection, change_number: int, account_id: int, state: str) -> bool:
    """Add a reviewer or CC; returns False when the account already had that state."""
    key = {"key_change": change_number, "key_account": account_id}
    row = _REVIEWER_STATE.one_or_none(conn, key)
    if row is not None:
        if row.state == state:
            return False
        _UPDATE_REVIEWER.run(conn, {**key, "new_state": state})
        return True
    _INSERT_REVIEWER.run(
        conn, {"change_number": change_number, "account_id": account_id, "state": state}
    )
    return True


_TOUCH_CHANGE = DriverStatement(
    update(t.changes)
    .where(t.changes.c.number == bindparam("key_change"))
    .values(updated_at=bindparam("new_updated_at"))
)


def touch_change(conn: Connection, change_number: int, now: int) -> None:
    """Set the change's `updated_at` (what every change message does)."""
    _TOUCH_CHANGE.run(conn, {"key_change": change_number, "new_updated_at": now})


def update_change(conn: Connection, change_number: int, **values: Any) -> None:
    conn.execute(update(t.changes).where(t.changes.c.number == change_number).values(**values))


def mark_merged(
    conn: Connection, change_number: int, *, submitter_id: int | None, now: int
) -> None:
    update_change(
        conn,
        change_number,
        status=ChangeStatus.MERGED.value,
        submitted_at=now,
        submitter_id=submitter_id,
        updated_at=now,
    )


# --- reads -------------------------------------------------------------------


def _matching(column: Any, *, one: bool) -> Any:
    """`column` is one of the numbers bound at execution: `= :number` for one
    (a write's own change; an expanding IN costs more to render), `IN` for more."""
    return (
        column == bindparam("number") if one else column.in_(bindparam("numbers", expanding=True))
    )


def _numbers_args(numbers: Sequence[int]) -> dict[str, Any]:
    return {"number": numbers[0]} if len(numbers) == 1 else {"numbers": list(numbers)}


def _change_reads(*, one: bool) -> tuple[Any, Any, Any]:
    """The changes (unlocked and locked), and their hashtags and reviewers in one
    statement: a hashtag row has no account, a reviewer row no hashtag."""
    changes = select(t.changes).where(_matching(t.changes.c.number, one=one))
    h, r = t.change_hashtags.c, t.change_reviewers.c
    no_text, no_number = null().cast(String), null().cast(Integer)
    tags_and_people = union_all(
        select(
            h.change_number, h.hashtag, no_number.label("account_id"), no_text.label("state")
        ).where(_matching(h.change_number, one=one)),
        select(r.change_number, no_text, r.account_id, r.state).where(
            _matching(r.change_number, one=one)
        ),
    )
    return changes, changes.with_for_update(), tags_and_people


def _rows(conn: Connection, statement: Any, args: dict[str, Any]) -> Sequence[Any]:
    if isinstance(statement, DriverStatement):
        return statement.rows(conn, args)
    return conn.execute(statement, args).all()


# Keyed by whether they read one change or more; one (a write's own change, a
# change's page) is read on the driver.
_CHANGE_READS = {
    True: tuple(DriverStatement(s) for s in _change_reads(one=True)),
    False: _change_reads(one=False),
}


def load_changes(
    conn: Connection, numbers: Sequence[int], *, for_update: bool = False
) -> list[Change]:
    """The changes with these numbers, in the order given (missing ones left out);
    `for_update` locks their rows to the end of the transaction (see `lock_change`)."""
    if not numbers:
        return []
    args = _numbers_args(numbers)
    changes, locked, tags_and_people = _CHANGE_READS[len(numbers) == 1]
    query = locked if for_update and conn.dialect.name != "sqlite" else changes
    rows = _rows(conn, query, args)
    hashtags: dict[int, list[str]] = defaultdict(list)
    reviewers: dict[int, list[int]] = defaultdict(list)
    ccs: dict[int, list[int]] = defaultdict(list)
    for r in _rows(conn, tags_and_people, args):
        if r.account_id is None:
            hashtags[r.change_number].append(r.hashtag)
        else:
            (reviewers if r.state == "REVIEWER" else ccs)[r.change_number].append(r.account_id)
    by_number = {
        row.number: change_from_row(
            row,
            tuple(sorted(hashtags[row.number])),
            tuple(reviewers[row.number]),
            tuple(ccs[row.number]),
        )
        for row in rows
    }
    return [by_number[n] for n in numbers if n in by_number]


_PRIVATE_NUMBERS = select(t.changes.c.number).where(
    t.changes.c.number.in_(bindparam("numbers", expanding=True)), t.changes.c.private == true()
)


def private_numbers(conn: Connection, numbers: Iterable[int]) -> list[int]:
    """Those of `numbers` that are private changes (by primary key, one
    statement compiled once: cheap for the hundreds of a status document)."""
    wanted = sorted(set(numbers))
    if not wanted:
        return []
    return sorted(conn.execute(_PRIVATE_NUMBERS, {"numbers": wanted}).scalars())


def get_change(conn: Connection, number: int, *, for_update: bool = False) -> Change | None:
    found = load_changes(conn, [number], for_update=for_update)
    return found[0] if found else None


def find_changes_by_key(
    conn: Connection, change_key: str, *, project: str | None = None, branch: str | None = None
) -> list[Change]:
    query = select(t.changes.c.number).where(t.changes.c.change_key == change_key)
    if project is not None:
        query = query.where(t.changes.c.project == project)
    if branch is not None:
        query = query.where(t.changes.c.branch == branch)
    numbers = list(conn.execute(query.order_by(t.changes.c.number)).scalars())
    return load_changes(conn, numbers)


_ps = t.patch_sets.c


def _patch_set_reads(*, one: bool) -> tuple[Any, Any]:
    """All patch sets of the changes, and their current ones, oldest first."""
    sets = select(t.patch_sets).where(_matching(_ps.change_number, one=one))
    current = sets.join(
        t.changes,
        (t.changes.c.number == _ps.change_number) & (t.changes.c.current_patch_set == _ps.number),
    )
    order = (_ps.change_number, _ps.number)
    return sets.order_by(*order), current.order_by(*order)


# Keyed by whether they read one change or more (on the driver, as above).
_PATCH_SET_READS = {
    True: tuple(DriverStatement(s) for s in _patch_set_reads(one=True)),
    False: _patch_set_reads(one=False),
}
_LOAD_FILES = (
    select(t.patch_set_files)
    .where(t.patch_set_files.c.patch_set_id.in_(bindparam("ids", expanding=True)))
    .order_by(t.patch_set_files.c.path)
)


def load_patch_sets(
    conn: Connection,
    numbers: Sequence[int],
    *,
    with_files: bool = False,
    current_only: bool = False,
) -> dict[int, list[PatchSet]]:
    """Patch sets of the changes, oldest first; files only when asked for."""
    if not numbers:
        return {}
    every, current = _PATCH_SET_READS[len(numbers) == 1]
    rows = _rows(conn, current if current_only else every, _numbers_args(numbers))
    files: dict[int, list[FileChange]] = defaultdict(list)
    if with_files and rows:
        for f in conn.execute(_LOAD_FILES, {"ids": [row.id for row in rows]}):
            files[f.patch_set_id].append(file_from_row(f))
    result: dict[int, list[PatchSet]] = defaultdict(list)
    for row in rows:
        result[row.change_number].append(patch_set_from_row(row, tuple(files[row.id])))
    return dict(result)


_PATCH_SET_FILES = (
    select(t.patch_set_files)
    .join(t.patch_sets, t.patch_sets.c.id == t.patch_set_files.c.patch_set_id)
    .where(
        (t.patch_sets.c.change_number == bindparam("number"))
        & (t.patch_sets.c.number == bindparam("patch_set"))
    )
    .order_by(t.patch_set_files.c.path)
)


def patch_set_files(conn: Connection, number: int, patch_set: int) -> tuple[FileChange, ...]:
    """The files of one patch set: for a page that shows one of many."""
    rows = conn.execute(_PATCH_SET_FILES, {"number": number, "patch_set": patch_set})
    return tuple(file_from_row(row) for row in rows)


def load_messages(conn: Connection, numbers: Sequence[int]) -> dict[int, list[ChangeMessage]]:
    if not numbers:
        return {}
    result: dict[int, list[ChangeMessage]] = defaultdict(list)
    for row in conn.execute(
        select(t.change_messages)
        .where(t.change_messages.c.change_number.in_(numbers))
        .order_by(t.change_messages.c.created_at, t.change_messages.c.id)
    ):
        result[row.change_number].append(message_from_row(row))
    return dict(result)


def changes_with_commits(
    conn: Connection, project: str, shas: Sequence[str]
) -> list[tuple[int, int, str]]:
    """(change, patch set, sha) of patch sets of `project` whose commit is one of `shas`."""
    if not shas:
        return []
    rows = conn.execute(
        select(t.patch_sets.c.change_number, t.patch_sets.c.number, t.patch_sets.c.commit_sha)
        .join(t.changes, t.changes.c.number == t.patch_sets.c.change_number)
        .where(t.changes.c.project == project, t.patch_sets.c.commit_sha.in_(shas))
    ).all()
    return [(r.change_number, r.number, r.commit_sha) for r in rows]


def patch_sets_by_commit(conn: Connection, shas: Sequence[str]) -> list[PatchSet]:
    if not shas:
        return []
    rows = conn.execute(select(t.patch_sets).where(t.patch_sets.c.commit_sha.in_(shas))).all()
    return [patch_set_from_row(row) for row in rows]
