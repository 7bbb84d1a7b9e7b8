"""Label definitions per project (`label_types`), each stored as its JSON."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, func, insert, select, update

from lockgate.adapters.db import tables as t
from lockgate.core.review.label_definitions import (
    LabelDefinition,
    definition_from_json,
    definition_json,
)


def load_labels(
    conn: Connection, projects: Iterable[str]
) -> dict[str, tuple[LabelDefinition, ...]]:
    """Each project's own label definitions, in their order."""
    names = sorted(set(projects))
    if not names:
        return {}
    rows = conn.execute(
        select(t.label_types)
        .where(t.label_types.c.project.in_(names))
        .order_by(t.label_types.c.project, t.label_types.c.position, t.label_types.c.name)
    ).all()
    found: dict[str, list[LabelDefinition]] = {n: [] for n in names}
    for row in rows:
        found[row.project].append(definition_from_json(row.project, row.name, row.definition))
    return {name: tuple(defs) for name, defs in found.items()}


def insert_label(conn: Connection, definition: LabelDefinition) -> None:
    """Add a label after the project's others."""
    table = t.label_types
    last = conn.execute(
        select(func.max(table.c.position)).where(table.c.project == definition.project)
    ).scalar()
    conn.execute(
        insert(table).values(
            project=definition.project,
            name=definition.name,
            position=0 if last is None else int(last) + 1,
            definition=definition_json(definition),
        )
    )


def update_label(conn: Connection, old_name: str, definition: LabelDefinition) -> None:
    """Rewrite a label in its place (renaming it when its name changed)."""
    table = t.label_types
    conn.execute(
        update(table)
        .where(table.c.project == definition.project, table.c.name == old_name)
        .values(name=definition.name, definition=definition_json(definition))
    )


def delete_label(conn: Connection, project: str, name: str) -> bool:
    table = t.label_types
    result = conn.execute(delete(table).where(table.c.project == project, table.c.name == name))
    return bool(result.rowcount)


def has_labels(conn: Connection, project: str) -> bool:
    table = t.label_types
    row = conn.execute(select(table.c.name).where(table.c.project == project).limit(1)).first()
    return row is not None
