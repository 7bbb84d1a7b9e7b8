"""Who may see which builds, status items and log folders.

Gating reads follow the review server's `read` permission, as Gerrit's pages
do: a build, build set, status item or log folder is shown only to callers
who may read its project and, when it is of a private change, see that
change (its owner, reviewers and CCs, and administrators). Administrators
see everything, builds of projects since removed too. Whatever is hidden is
answered as if it did not exist (404, left out of lists), so that its
existence does not leak.

One `BuildVisibility` serves the build pages, the Zuul-shaped REST API, the
live console and `/logs/`. Each question asks with the request's `Caller`,
whose answers `Permissions` keeps for the request: a status document of
hundreds of items costs one read of its projects, one of which of its changes
are private, and one ACL evaluation per project.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import Engine

from lockgate.adapters.db import change_store, gate_store, project_store
from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.logstore.filesystem import (
    FilesystemLogStore,
    LogPathError,
    StoredDir,
    StoredFile,
    split_path,
)
from lockgate.core.gating.status_view import items as status_items
from lockgate.core.gating.status_view import visible_only
from lockgate.services.permissions import Caller, Permissions


class BuildVisibility:
    def __init__(
        self,
        engine: Engine,
        permissions: Permissions,
        store: FilesystemLogStore,
    ) -> None:
        self._engine = engine
        self._permissions = permissions
        self._store = store

    # --- projects and changes ----------------------------------------------------------

    def readable(self, caller: Caller, names: Iterable[str]) -> frozenset[str] | None:
        """Those of the project `names` that `caller` may read; None when they
        may read every project (administrators)."""
        if caller.admin:
            return None
        wanted = set(names)
        if not wanted:
            return frozenset()
        with read_transaction(self._engine) as conn:
            found = project_store.projects_named(conn, wanted)
        return frozenset(p.name for p in found if self._permissions.can_read(caller, p))

    def hidden_changes(self, caller: Caller, numbers: Collection[int]) -> set[int]:
        """Of these change numbers, the private changes `caller` may not see.
        Only the private ones are loaded: usually none of them."""
        if caller.admin or not numbers:
            return set()
        with read_transaction(self._engine) as conn:
            private = change_store.private_numbers(conn, numbers)
            changes = change_store.load_changes(conn, private) if private else []
            found = project_store.projects_named(conn, {change.project for change in changes})
        projects = {project.name: project for project in found}
        hidden = set()
        for change in changes:
            project = projects.get(change.project)
            if project is None or not self._permissions.can_see_change(caller, project, change):
                hidden.add(change.number)
        return hidden

    def sees(self, caller: Caller, project: str, change: int | None) -> bool:
        """Whether `caller` may see a build (or build set) of `project`, for `change`."""
        readable = self.readable(caller, [project])
        if readable is not None and project not in readable:
            return False
        return change is None or change not in self.hidden_changes(caller, [change])

    # --- the status document -----------------------------------------------------------

    def status(self, caller: Caller, status: dict[str, Any]) -> dict[str, Any]:
        """The status document without the items of projects `caller` may not
        read or of private changes it may not see (the items behind point past
        them). When nothing in it is hidden, the document itself: the common
        case of a tenant everyone reads costs no copy."""
        if caller.admin:
            return status
        refs = [ref for _p, _q, item in status_items(status) for ref in item.get("refs", [])]
        names = {str(ref.get("project")) for ref in refs}
        readable = self.readable(caller, names) or frozenset()
        numbers = {
            ref["change"]
            for ref in refs
            if ref.get("project") in readable and isinstance(ref.get("change"), int)
        }
        hidden = self.hidden_changes(caller, numbers)
        if not hidden and readable >= names:
            return status

        def sees(ref: Mapping[str, Any]) -> bool:
            if ref.get("project") not in readable:
                return False
            change = ref.get("change")
            return not isinstance(change, int) or change not in hidden

        return visible_only(status, sees)

    # --- log folders -------------------------------------------------------------------

    def locate_log(self, caller: Caller, path: str) -> StoredFile | StoredDir | None:
        """What `/logs/<path>` names, as `FilesystemLogStore.locate`, or None when
        it lies in the log folder of a build `caller` may not see. The folder is
        looked for both along the path asked for and along the one it leads to:
        a job may leave a symlink into another build's folder. Paths in no
        build's folder (the folders above them) are served as they are."""
        found = self._store.locate(path)
        if found is None or caller.admin:
            return found
        folders = _folders(path)
        try:
            real = found.disk.resolve().relative_to(self._store.root).as_posix()
        except (OSError, RuntimeError, ValueError):
            return None
        folders |= _folders(real)
        with read_transaction(self._engine) as conn:
            owners = gate_store.folder_owners(conn, sorted(folders))
        if not owners:
            return found
        readable = self.readable(caller, {owner.project for owner in owners}) or frozenset()
        numbers = {owner.change for owner in owners if owner.change is not None}
        hidden = self.hidden_changes(caller, numbers)
        for owner in owners:
            if owner.project not in readable or owner.change in hidden:
                return None
        return found


def _folders(path: str) -> set[str]:
    """Every folder `path` lies in, itself included: `a`, `a/b`, `a/b/c`."""
    try:
        segments = split_path(path)
    except LogPathError:
        return set()
    return {"/".join(segments[: n + 1]) for n in range(len(segments))}
