"""The tracked footers of each patch set's commit message (Closes-Bug, Depends-On, ...),
kept verbatim for the bug tracker and cross-repository dependencies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, insert, select

from lockgate.adapters.db import tables as t
from lockgate.core.review.footers import Footer

_f = t.patch_set_footers.c


def insert_footers(
    conn: Connection, change_number: int, patch_set: int, found: Sequence[Footer]
) -> None:
    if not found:
        return
    conn.execute(
        insert(t.patch_set_footers),
        [
            {
                "change_number": change_number,
                "patch_set": patch_set,
                "position": position,
                "key": footer.key,
                "value": footer.value,
            }
            for position, footer in enumerate(found)
        ],
    )


def footers_of(conn: Connection, change_number: int, patch_set: int) -> list[Footer]:
    rows = conn.execute(
        select(_f.key, _f.value)
        .where(_f.change_number == change_number, _f.patch_set == patch_set)
        .order_by(_f.position)
    )
    return [Footer(row.key, row.value) for row in rows]


def footers_by_patch_set(
    conn: Connection, change_numbers: Sequence[int]
) -> dict[tuple[int, int], list[Footer]]:
    """Every stored footer of the changes, by (change, patch set), in message order."""
    if not change_numbers:
        return {}
    found: dict[tuple[int, int], list[Footer]] = defaultdict(list)
    for row in conn.execute(
        select(t.patch_set_footers)
        .where(_f.change_number.in_(list(change_numbers)))
        .order_by(_f.change_number, _f.patch_set, _f.position)
    ):
        found[(row.change_number, row.patch_set)].append(Footer(row.key, row.value))
    return dict(found)
