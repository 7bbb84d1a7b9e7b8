"""Projects' access sections (`access_rules`) and their place in the parent chain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, delete, insert, select, update

from lockgate.adapters.db import tables as t
from lockgate.core.review.acl import AccessSection, Action, PermissionRules, Rule


def load_access(conn: Connection, projects: Iterable[str]) -> dict[str, tuple[AccessSection, ...]]:
    """The access sections of each project, in the order they were written."""
    names = sorted(set(projects))
    if not names:
        return {}
    rows = conn.execute(
        select(t.access_rules)
        .where(t.access_rules.c.project.in_(names))
        .order_by(t.access_rules.c.id)
    ).all()
    found: dict[str, dict[str, dict[str, tuple[list[Rule], bool]]]] = {n: {} for n in names}
    for row in rows:
        section = found[row.project].setdefault(row.ref_pattern, {})
        rules, exclusive = section.get(row.permission, ([], False))
        if row.group_uuid is not None:
            rules.append(
                Rule(
                    row.group_uuid,
                    Action(row.action),
                    row.min_value,
                    row.max_value,
                    bool(row.force),
                )
            )
        section[row.permission] = (rules, exclusive or bool(row.exclusive))
    return {
        name: tuple(
            AccessSection(
                ref,
                {perm: PermissionRules(tuple(r), ex) for perm, (r, ex) in permissions.items()},
            )
            for ref, permissions in sections.items()
        )
        for name, sections in found.items()
    }


def replace_access(conn: Connection, project: str, sections: Sequence[AccessSection]) -> None:
    """Make `sections` the project's whole access, in one transaction's worth of rows."""
    conn.execute(delete(t.access_rules).where(t.access_rules.c.project == project))
    rows = []
    for section in sections:
        for permission, rules in section.permissions.items():
            base = {
                "project": project,
                "ref_pattern": section.ref_pattern,
                "permission": permission,
                "exclusive": rules.exclusive,
            }
            if not rules.rules:
                # An exclusive permission granted to nobody is kept as a row with no group.
                rows.append({**base, "group_uuid": None, "action": Action.ALLOW.value})
            for rule in rules.rules:
                rows.append(
                    {
                        **base,
                        "group_uuid": rule.group,
                        "action": rule.action.value,
                        "min_value": rule.min,
                        "max_value": rule.max,
                        "force": rule.force,
                    }
                )
    if rows:
        conn.execute(
            insert(t.access_rules),
            [{"min_value": None, "max_value": None, "force": False, **row} for row in rows],
        )


def has_access(conn: Connection, project: str) -> bool:
    row = conn.execute(
        select(t.access_rules.c.id).where(t.access_rules.c.project == project).limit(1)
    ).first()
    return row is not None


def parents(conn: Connection, projects: Iterable[str]) -> dict[str, str | None]:
    """The parent of each named project that exists."""
    names = sorted(set(projects))
    if not names:
        return {}
    rows = conn.execute(
        select(t.projects.c.name, t.projects.c.parent).where(t.projects.c.name.in_(names))
    ).all()
    return {row.name: row.parent for row in rows}


def set_parent(conn: Connection, project: str, parent: str) -> None:
    conn.execute(update(t.projects).where(t.projects.c.name == project).values(parent=parent))
