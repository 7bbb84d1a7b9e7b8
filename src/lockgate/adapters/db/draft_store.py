"""Draft inline comments in the database: each author's own, until published.

A draft is held as a `Comment` whose `created_at` is when it was last saved;
publishing moves it to the comments table under the same id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.rows import comment_from_row
from lockgate.core.review.comments import Comment

_d = t.draft_comments.c


def _draft(row: Any) -> Comment:
    return comment_from_row(row, created_at=row.updated_at)


def _values(draft: Comment) -> dict[str, Any]:
    span = draft.range
    return {
        "change_number": draft.change_number,
        "patch_set": draft.patch_set,
        "author_id": draft.author_id,
        "path": draft.path,
        "side": draft.side.value,
        "parent_number": draft.parent,
        "line": draft.line,
        "start_line": span.start_line if span else None,
        "start_character": span.start_character if span else None,
        "end_line": span.end_line if span else None,
        "end_character": span.end_character if span else None,
        "in_reply_to": draft.in_reply_to,
        "message": draft.message,
        "unresolved": draft.unresolved,
        "updated_at": draft.created_at,
    }


def insert_draft(conn: Connection, draft: Comment) -> None:
    conn.execute(insert(t.draft_comments).values(id=draft.id, **_values(draft)))


def update_draft(conn: Connection, draft: Comment) -> None:
    conn.execute(
        update(t.draft_comments)
        .where(_d.id == draft.id, _d.author_id == draft.author_id)
        .values(**_values(draft))
    )


def delete_draft(conn: Connection, draft_id: str, author_id: int) -> None:
    conn.execute(delete(t.draft_comments).where(_d.id == draft_id, _d.author_id == author_id))


def draft(conn: Connection, change_number: int, draft_id: str, author_id: int) -> Comment | None:
    """The author's draft `draft_id` on the change; someone else's is None, as if absent."""
    row = conn.execute(
        select(t.draft_comments).where(
            _d.id == draft_id, _d.author_id == author_id, _d.change_number == change_number
        )
    ).first()
    return None if row is None else _draft(row)


def drafts_of(
    conn: Connection, change_number: int, author_id: int, patch_set: int | None = None
) -> list[Comment]:
    """The author's drafts on the change (on one patch set when given), in Gerrit's order."""
    query = select(t.draft_comments).where(
        _d.change_number == change_number, _d.author_id == author_id
    )
    if patch_set is not None:
        query = query.where(_d.patch_set == patch_set)
    return sorted((_draft(row) for row in conn.execute(query)), key=Comment.sort_key)


def take_drafts(
    conn: Connection, change_number: int, author_id: int, patch_set: int | None = None
) -> list[Comment]:
    """`drafts_of`, removed from the drafts: what a review publishes, in its transaction."""
    found = drafts_of(conn, change_number, author_id, patch_set)
    if found:
        conn.execute(delete(t.draft_comments).where(_d.id.in_([d.id for d in found])))
    return found
