"""Projects in the database (their git repositories live in the repo store)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, bindparam, func, insert, select

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.driver_sql import DriverStatement
from lockgate.adapters.db.rows import project_from_row
from lockgate.core.review.model import Project, ProjectState, SubmitType


def insert_project(
    conn: Connection,
    *,
    name: str,
    parent: str | None,
    description: str | None,
    submit_type: SubmitType,
    now: int,
    state: ProjectState = ProjectState.ACTIVE,
) -> Project:
    result = conn.execute(
        insert(t.projects).values(
            name=name,
            parent=parent,
            description=description,
            state=state.value,
            submit_type=submit_type.value,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return Project(int(key[0]), name, parent, description, state, submit_type, now)


# Every request on a change reads its project: the statement is built once and
# runs on the driver.
_PROJECT_BY_NAME = DriverStatement(select(t.projects).where(t.projects.c.name == bindparam("name")))


def project_by_name(conn: Connection, name: str) -> Project | None:
    row = _PROJECT_BY_NAME.one_or_none(conn, {"name": name})
    return project_from_row(row) if row else None


_PROJECTS_NAMED = select(t.projects).where(
    t.projects.c.name.in_(bindparam("names", expanding=True))
)


def projects_named(conn: Connection, names: Collection[str]) -> list[Project]:
    """The projects of these names that exist, in no particular order."""
    if not names:
        return []
    rows = conn.execute(_PROJECTS_NAMED, {"names": sorted(names)}).all()
    return [project_from_row(r) for r in rows]


def all_projects(conn: Connection) -> list[Project]:
    rows = conn.execute(select(t.projects).order_by(t.projects.c.name)).all()
    return [project_from_row(r) for r in rows]


# Projects are only ever added, under ids that grow: the count and the largest
# id change exactly when the set of names does.
_NAMES_STAMP = select(func.count(), func.max(t.projects.c.id)).select_from(t.projects)
_NAMES = select(t.projects.c.name)


def names_stamp(conn: Connection) -> tuple[int, int | None]:
    """What changes whenever a project is added: (how many, the largest id)."""
    count, largest = conn.execute(_NAMES_STAMP).one()
    return int(count), None if largest is None else int(largest)


def project_names(conn: Connection) -> list[str]:
    return list(conn.execute(_NAMES).scalars())
