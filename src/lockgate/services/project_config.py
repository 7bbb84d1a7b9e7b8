"""Each project's access sections and label definitions along its parent chain,
parsed once and kept in process until a write changes them.

Permission checks run on hot paths (a change query renders `permitted_labels`
for up to 500 changes; every push checks its refs), so the chain of a project
is read from the database once. Every write of access, labels or a parent goes
through `AccessService`, which calls `invalidate` after its transaction commits.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import access_store, label_store
from lockgate.adapters.db.engine import read_transaction
from lockgate.core.review.acl import ProjectAccess
from lockgate.core.review.label_definitions import LabelDefinition, effective_definitions
from lockgate.core.review.model import ALL_PROJECTS

# A parent chain deeper than this is a loop in the data; the walk stops there.
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class ProjectChain:
    """What a project inherits: its and its ancestors' access, nearest first, and
    the labels that result."""

    access: tuple[ProjectAccess, ...]
    labels: tuple[LabelDefinition, ...]
    inherited_labels: tuple[tuple[LabelDefinition, ...], ...]  # root first, the project last

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.project for a in self.access)


def chain_names(conn: Connection, project: str) -> tuple[list[str], dict[str, str | None]]:
    """The project and its ancestors, nearest first, ending at All-Projects (every
    project inherits from it, whatever its parent says), with each one's parent."""
    names: list[str] = []
    parents: dict[str, str | None] = {}
    current: str | None = project
    while current is not None and current not in names and len(names) < MAX_DEPTH:
        found = access_store.parents(conn, [current])
        if current not in found:
            break
        names.append(current)
        parents[current] = found[current]
        current = found[current]
    if ALL_PROJECTS not in names and project != ALL_PROJECTS:
        names.append(ALL_PROJECTS)
        parents.setdefault(ALL_PROJECTS, None)
    return names, parents


class ProjectConfig:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._chains: dict[str, ProjectChain] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """Grows with every invalidation; answers derived from a chain may key on it."""
        return self._generation

    def chain(self, project: str) -> ProjectChain:
        with self._lock:
            cached = self._chains.get(project)
            generation = self._generation
        if cached is not None:
            return cached
        with read_transaction(self._engine) as conn:
            names, parents = chain_names(conn, project)
            sections = access_store.load_access(conn, names)
            labels = label_store.load_labels(conn, names)
            known = project in parents
        access = tuple(
            ProjectAccess(name, parents.get(name), sections.get(name, ())) for name in names
        )
        levels = tuple(labels.get(name, ()) for name in reversed(names))
        loaded = ProjectChain(access, effective_definitions(levels), levels)
        with self._lock:
            # A write that happened while this was read leaves it unsaved: the next
            # question reads again. Unknown projects are not kept either: one may be
            # created with another parent.
            if known and generation == self._generation:
                self._chains[project] = loaded
        return loaded

    def invalidate(self) -> None:
        with self._lock:
            self._chains.clear()
            self._generation += 1
