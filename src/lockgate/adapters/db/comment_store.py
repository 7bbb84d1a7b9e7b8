"""Published inline comments in the database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.rows import comment_from_row
from lockgate.core.review.comments import Comment

_c = t.comments.c


def _comment(row: Any) -> Comment:
    return comment_from_row(
        row, created_at=row.created_at, change_message_id=row.change_message_id, tag=row.tag
    )


def insert_comments(conn: Connection, comments: Iterable[Comment]) -> None:
    rows = [
        {
            "id": c.id,
            "change_number": c.change_number,
            "patch_set": c.patch_set,
            "path": c.path,
            "side": c.side.value,
            "parent_number": c.parent,
            "line": c.line,
            "start_line": c.range.start_line if c.range else None,
            "start_character": c.range.start_character if c.range else None,
            "end_line": c.range.end_line if c.range else None,
            "end_character": c.range.end_character if c.range else None,
            "in_reply_to": c.in_reply_to,
            "message": c.message,
            "author_id": c.author_id,
            "created_at": c.created_at,
            "unresolved": c.unresolved,
            "change_message_id": c.change_message_id,
            "tag": c.tag,
        }
        for c in comments
    ]
    if rows:
        conn.execute(insert(t.comments), rows)


def comments_of(
    conn: Connection, change_number: int, patch_set: int | None = None
) -> list[Comment]:
    """The change's comments (on one patch set when given), in Gerrit's order."""
    query = select(t.comments).where(_c.change_number == change_number)
    if patch_set is not None:
        query = query.where(_c.patch_set == patch_set)
    found = [_comment(row) for row in conn.execute(query)]
    return sorted(found, key=Comment.sort_key)


def existing_ids(conn: Connection, change_number: int, ids: Sequence[str]) -> set[str]:
    """Which of `ids` are comments of the change."""
    if not ids:
        return set()
    rows = conn.execute(
        select(_c.id).where(_c.change_number == change_number, _c.id.in_(list(ids)))
    ).scalars()
    return set(rows)


def unresolved_of(conn: Connection, ids: Sequence[str]) -> dict[str, bool]:
    if not ids:
        return {}
    rows = conn.execute(select(_c.id, _c.unresolved).where(_c.id.in_(list(ids)))).all()
    return {row.id: bool(row.unresolved) for row in rows}


def thread_points(
    conn: Connection, numbers: Sequence[int]
) -> dict[int, list[tuple[str, str | None, int, bool]]]:
    """(id, in_reply_to, created_at, unresolved) of every comment of the changes:
    what counting comments and unresolved threads needs, in one query."""
    if not numbers:
        return {}
    found: dict[int, list[tuple[str, str | None, int, bool]]] = defaultdict(list)
    for row in conn.execute(
        select(_c.change_number, _c.id, _c.in_reply_to, _c.created_at, _c.unresolved).where(
            _c.change_number.in_(list(numbers))
        )
    ):
        found[row.change_number].append(
            (row.id, row.in_reply_to, row.created_at, bool(row.unresolved))
        )
    return dict(found)
